"""Figures of the analysis pages: gradient flow, saturation, training loss, variant differences."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from . import style
from .downsample import downsample_time, max_cols_for, window_size
from .heatmaps import cursor_shapes
from .saturation import saturation_scatter  # noqa: F401  (its former home: still importable)


def _figure(projector: bool, title: str | None, height: int) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**style.base_layout(projector))
    style.style_axes(fig, projector)
    k = 1.3 if projector else 1.0
    fig.update_layout(height=int(height * k), title={"text": title or ""})
    return fig


def _positive(values: np.ndarray) -> np.ndarray:
    """float64 copy with non-positive and non-finite values as NaN (for log axes)."""
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def _target_line(fig: go.Figure, step: int | None, projector: bool, text: str) -> None:
    """A dashed vertical line at the step where the loss is taken."""
    if step is None:
        return
    s = style.sizes(projector)
    fig.add_shape(
        type="line",
        xref="x",
        yref="paper",
        x0=step,
        x1=step,
        y0=0,
        y1=1,
        line={"color": style.MUTED, "width": s["thin"], "dash": "dash"},
        name="target",
        layer="above",
    )
    fig.add_annotation(
        x=step,
        y=1,
        xref="x",
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": s["small"], "color": style.MUTED},
        name="target_label",
    )


def _legend_top(projector: bool) -> dict:
    return {
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "bottom",
        "font": {"size": style.sizes(projector)["font"]},
    }


def _cursor(fig: go.Figure, step: int | None, projector: bool) -> None:
    """The same cursor shapes as the heatmaps, so :func:`move_cursor` moves it too."""
    for shape in cursor_shapes(step, projector):
        fig.add_shape(**shape)


def gradient_flow(
    curves: Mapping[str, np.ndarray],
    *,
    target_step: int | None = None,
    ylabel: str = "‖∂L/∂c<sub>t</sub>‖",
    projector: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Gradient magnitude over time, one line per model, log-scale y.

    curves: model name ("LSTM", "GRU", "RNN", ...) -> (T,) magnitudes per step (a (T, units)
    array is reduced to its norm over units). Zeros are left out (log scale).
    """
    fig = _figure(projector, title or "How far back does the gradient reach?", 460)
    s = style.sizes(projector)
    for index, (name, values) in enumerate(curves.items()):
        array = np.asarray(values, dtype=np.float64)
        if array.ndim == 2:
            array = np.linalg.norm(array, axis=1)
        if array.ndim != 1:
            raise ValueError(f"{name}: expected (T,) or (T, units), got shape {array.shape}")
        fig.add_trace(
            go.Scatter(
                x=np.arange(array.size),
                y=_positive(array),
                mode="lines",
                name=name,
                line={"color": style.model_color(name, index), "width": s["line"] + 0.5},
                hovertemplate=f"{name}, step %{{x}}: %{{y:.3g}}<extra></extra>",
            )
        )
    fig.update_yaxes(type="log", exponentformat="power", title={"text": ylabel}, nticks=6)
    fig.update_xaxes(title={"text": "step t"})
    _target_line(fig, target_step, projector, f"loss at step {target_step}")
    fig.update_layout(legend=_legend_top(projector), hovermode="x unified")
    return fig


def gradient_heatmap(
    values: np.ndarray,
    *,
    name: str = "c",
    target_step: int | None = None,
    step: int | None = None,
    decades: float = 10.0,
    max_cells: int = 500_000,
    projector: bool = False,
    title: str | None = None,
) -> go.Figure:
    """|∂L/∂name_t| per unit (T, units) as a units x time heatmap on a log10 colour scale.

    The colour range spans ``decades`` orders of magnitude below the largest value; zeros are
    blank. Long sequences are max-abs downsampled to ``max_cells`` cells.
    """
    array = np.abs(np.asarray(values, dtype=np.float64))
    if array.ndim != 2:
        raise ValueError(f"values must be (T, units), got shape {array.shape}")
    n_steps, units = array.shape
    width = window_size(n_steps, max_cols_for(units, 1, max_cells))
    pooled, _ = downsample_time(array.T, -(-n_steps // width))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(pooled > 0, np.log10(np.where(pooled > 0, pooled, 1.0)), np.nan)
    finite = logs[np.isfinite(logs)]
    top = float(np.ceil(finite.max())) if finite.size else 0.0
    bottom = top - decades
    ticks = list(range(int(bottom), int(top) + 1, max(1, int(decades) // 5)))
    symbol = f"|∂L/∂{name}|"
    fig = _figure(
        projector,
        title or f"{symbol} per unit and step (log scale)",
        max(300, min(700, 140 + 4 * units)),
    )
    s = style.sizes(projector)
    fig.add_trace(
        go.Heatmap(
            z=np.ascontiguousarray(logs, dtype=np.float32),
            x0=(width - 1) / 2,
            dx=width,
            y0=0,
            dy=1,
            zmin=bottom,
            zmax=top,
            colorscale=style.MAGNITUDE,
            colorbar={
                "tickvals": ticks,
                "ticktext": [f"10<sup>{style.fmt(t, 0)}</sup>" for t in ticks],
                "title": {"text": symbol, "side": "right"},
                "thickness": 14,
                "tickfont": {"size": s["small"]},
            },
            hovertemplate=f"unit %{{y}}, step %{{x}}, {symbol} ≈ 10^%{{z:.1f}}<extra></extra>",
        )
    )
    fig.update_yaxes(range=[units - 0.5, -0.5], title={"text": "unit"}, showline=False)
    fig.update_xaxes(title={"text": "step t"}, range=[-0.5, n_steps - 0.5], showline=False)
    _target_line(fig, target_step, projector, f"loss at step {target_step}")
    _cursor(fig, step, projector)
    if width > 1:
        fig.update_layout(
            title={
                "text": fig.layout.title.text
                + (
                    f"<br><span style='font-size:{s['small']}px;color:{style.MUTED}'>downsampled "
                    f"{n_steps:,} → {pooled.shape[1]:,} columns, max-abs</span>"
                )
            },
            margin={"t": 110 if projector else 85},
        )
    return fig


def forget_product(
    f_prod: np.ndarray,
    *,
    target_step: int | None = None,
    projector: bool = False,
    title: str | None = None,
    ylabel: str = "∏ f  (share of c<sub>t</sub> that survives)",
) -> go.Figure:
    """The product of forget gates along the path from step t to the target, log-scale y.

    f_prod: (T,) one path, or (T, units) a thin line per unit (at most 64) plus the median in bold.
    """
    array = np.asarray(f_prod, dtype=np.float64)
    fig = _figure(projector, title or "Forget-gate product along the path", 420)
    s = style.sizes(projector)
    colour = style.color("f")
    if array.ndim == 2:
        for unit in range(min(array.shape[1], 64)):
            fig.add_trace(
                go.Scatter(
                    x=np.arange(array.shape[0]),
                    y=_positive(array[:, unit]),
                    mode="lines",
                    line={"color": style.mix(colour, "#ffffff", 0.6), "width": 1},
                    name=f"unit {unit}",
                    showlegend=False,
                    hovertemplate=f"unit {unit}, step %{{x}}: %{{y:.3g}}<extra></extra>",
                )
            )
        with warnings.catch_warnings():  # steps where every unit is NaN stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            array = np.nanmedian(np.where(np.isfinite(array), array, np.nan), axis=1)
        line_name = "median over units"
    elif array.ndim == 1:
        line_name = "∏ f"
    else:
        raise ValueError(f"f_prod must be (T,) or (T, units), got shape {array.shape}")
    fig.add_trace(
        go.Scatter(
            x=np.arange(array.size),
            y=_positive(array),
            mode="lines",
            name=line_name,
            line={"color": colour, "width": s["line"] + 1},
            hovertemplate="step %{x}: ∏ f = %{y:.3g}<extra></extra>",
        )
    )
    fig.update_yaxes(type="log", exponentformat="power", title={"text": ylabel}, nticks=6)
    fig.update_xaxes(title={"text": "step t"})
    _target_line(fig, target_step, projector, f"target step {target_step}")
    fig.update_layout(legend=_legend_top(projector), showlegend=True)
    return fig


def loss_curve(
    losses: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    log_y: bool = False,
    xlabel: str = "training step",
    ylabel: str = "loss",
    projector: bool = False,
    title: str | None = None,
) -> go.Figure:
    """A (live) loss curve; a mapping name -> losses draws one line per run or variant."""
    runs = dict(losses) if isinstance(losses, Mapping) else {"loss": losses}
    fig = _figure(projector, title or "Training loss", 380)
    s = style.sizes(projector)
    for index, (name, values) in enumerate(runs.items()):
        array = np.asarray(values, dtype=np.float64).ravel()
        y = _positive(array) if log_y else array
        colour = style.INK if len(runs) == 1 else style.model_color(name, index)
        fig.add_trace(
            go.Scatter(
                x=np.arange(array.size),
                y=y,
                mode="lines",
                name=f"{name} ({style.fmt(array[-1], 3)})" if array.size else name,
                line={"color": colour, "width": s["line"] + 0.5},
                hovertemplate=f"{name}, {xlabel} %{{x}}: %{{y:.4g}}<extra></extra>",
            )
        )
        if array.size:
            fig.add_trace(
                go.Scatter(
                    x=[array.size - 1],
                    y=[y[-1]],
                    mode="markers+text" if len(runs) == 1 else "markers",
                    text=[style.fmt(array[-1], 3)],
                    textposition="middle right",
                    marker={"color": colour, "size": 8 if not projector else 11},
                    textfont={"color": colour, "size": s["small"]},
                    showlegend=False,
                    hoverinfo="skip",
                    cliponaxis=False,
                    name=f"{name} last",
                )
            )
    fig.update_yaxes(
        type="log" if log_y else "linear", title={"text": ylabel}, exponentformat="power"
    )
    fig.update_xaxes(title={"text": xlabel})
    fig.update_layout(
        legend=_legend_top(projector),
        showlegend=len(runs) > 1,
        margin={"r": 70 if not projector else 100},
    )
    return fig


def difference_heatmap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    names: tuple[str, str] = ("A", "B"),
    quantity: str = "c",
    step: int | None = None,
    max_cells: int = 500_000,
    projector: bool = False,
    title: str | None = None,
) -> go.Figure:
    """b − a for two runs of one quantity (T, units) on the same sequence, diverging around 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must have the same shape (T, units), got {a.shape}, {b.shape}")
    diff = b - a
    n_steps, units = diff.shape
    width = window_size(n_steps, max_cols_for(units, 1, max_cells))
    pooled, _ = downsample_time(diff.T, -(-n_steps // width))
    settings = style.color_range("difference", diff)
    symbol = f"Δ{quantity}"
    heading = title or f"{style.label(quantity)}: {names[1]} − {names[0]}"
    fig = _figure(projector, heading, max(300, min(700, 140 + 4 * units)))
    s = style.sizes(projector)
    limit = settings["zmax"]
    fig.add_trace(
        go.Heatmap(
            z=np.ascontiguousarray(pooled, dtype=np.float32),
            x0=(width - 1) / 2,
            dx=width,
            y0=0,
            dy=1,
            colorbar={
                "tickvals": [-limit, 0, limit],
                "ticktext": [style.fmt(-limit), "0", style.fmt(limit)],
                "title": {"text": symbol, "side": "right"},
                "thickness": 14,
                "tickfont": {"size": s["small"]},
            },
            hovertemplate=f"unit %{{y}}, step %{{x}}, {symbol} = %{{z:.3f}}<extra></extra>",
            **settings,
        )
    )
    fig.update_yaxes(range=[units - 0.5, -0.5], title={"text": "unit"}, showline=False)
    fig.update_xaxes(title={"text": "step t"}, range=[-0.5, n_steps - 0.5], showline=False)
    _cursor(fig, step, projector)
    finite = np.abs(diff[np.isfinite(diff)])
    note = f"max |{symbol}| = {style.fmt(float(finite.max()) if finite.size else 0.0)}"
    if width > 1:
        note += f"; downsampled {n_steps:,} → {pooled.shape[1]:,} columns, max-abs"
    fig.update_layout(
        title={
            "text": f"{heading}<br><span style='font-size:{s['small']}px;"
            f"color:{style.MUTED}'>{note}</span>"
        },
        margin={"t": 110 if projector else 85},
    )
    return fig
