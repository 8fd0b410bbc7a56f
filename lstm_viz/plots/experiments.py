"""Figures of the Experiments page, in the app's colour language: before | after | difference on
one time axis, the damage of each unit, attribution strips and the effect of an edit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import style
from .heatmaps import _char

MAX_COLS = 1500          # time columns drawn at most (longer: every k-th step)
MAX_MARKS = 3000         # held cells marked one by one at most (more: the step range shaded)


def _stride(T: int) -> int:
    return max(1, int(np.ceil(T / MAX_COLS)))


def _layout(fig: go.Figure, title: str, height: int, projector: bool) -> go.Figure:
    fig.update_layout(**style.base_layout(projector))
    fig.update_layout(title={"text": title}, height=height)
    style.style_axes(fig, projector)
    return fig


def _x_labels(T: int, labels: Sequence[str] | None, k: int) -> dict:
    """Characters as x tick labels for short text sequences, else plain step numbers."""
    if labels is None or T > 120 or k > 1:
        return {"title": {"text": "step"}}
    return {"tickmode": "array", "tickvals": list(range(T)),
            "ticktext": [_char(str(c)) for c in labels], "tickangle": 0, "nticks": None,
            "title": {"text": "step (input)"}}


def surgery_heatmaps(name: str, before: np.ndarray, after: np.ndarray, held: np.ndarray | None,
                     labels: Sequence[str] | None = None, projector: bool = False) -> go.Figure:
    """Three rows, units × time: before, after (held cells marked), after − before."""
    T, U = before.shape
    k = _stride(T)
    steps = np.arange(0, T, k)
    b, a = before[::k].T, after[::k].T
    d = a - b
    both = style.color_range(name, np.concatenate([b.ravel(), a.ravel()]))
    diff = style.color_range("difference", d)
    titles = [f"before: {style.label(name)}", "after (held cells boxed)",
              "difference after − before"]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=titles)
    units = np.arange(U)
    for row, (z, settings) in enumerate(((b, both), (a, both), (d, diff)), start=1):
        fig.add_trace(go.Heatmap(
            z=z, x=steps, y=units, showscale=row != 2, name=titles[row - 1],
            hovertemplate="step %{x}, unit %{y}: %{z:.3f}<extra></extra>",
            colorbar={"len": 0.28, "y": 1 - (row - 0.5) / 3, "thickness": 12},
            **settings), row=row, col=1)
    if held is not None and held.any():
        t, u = np.nonzero(held[::k])
        if t.size <= MAX_MARKS:
            fig.add_trace(go.Scatter(
                x=steps[t], y=u, mode="markers", name="held",
                marker={"symbol": "square-open", "size": 9 if projector else 7,
                        "color": style.INK, "line": {"width": 1.5}},
                hovertemplate="held: step %{x}, unit %{y}<extra></extra>", showlegend=False),
                row=2, col=1)
        else:
            rows = np.nonzero(held.any(axis=1))[0]
            fig.add_vrect(x0=rows[0] - 0.5, x1=rows[-1] + 0.5, line_width=2,
                          line_color=style.INK, fillcolor="rgba(0,0,0,0)", row=2, col=1)
    for row in (1, 2, 3):
        fig.update_yaxes(title_text="unit", row=row, col=1, autorange="reversed")
    _layout(fig, f"Holding units: {style.label(name)} before | after | difference",
            620 if projector else 520, projector)
    fig.update_xaxes(**_x_labels(T, labels, k), row=3, col=1)
    return fig


def prediction_lines(before: np.ndarray, after: np.ndarray, names: Sequence[str] | None = None,
                     projector: bool = False) -> go.Figure:
    """The head's output per step before and after (one pair of lines per output)."""
    T, O = before.shape
    k = _stride(T)
    steps = np.arange(0, T, k)
    fig = go.Figure()
    for o in range(min(O, 6)):
        label = names[o] if names else f"output {o}"
        color = style._FALLBACK[o % len(style._FALLBACK)]
        fig.add_trace(go.Scatter(x=steps, y=before[::k, o], name=f"{label} before",
                                 line={"color": color, "dash": "dot"}))
        fig.add_trace(go.Scatter(x=steps, y=after[::k, o], name=f"{label} after",
                                 line={"color": color}))
    _layout(fig, "The prediction before and after", 300 if not projector else 400, projector)
    fig.update_xaxes(title_text="step")
    return fig


def damage_bars(mean_damage: np.ndarray, zero_damage: np.ndarray, name: str,
                projector: bool = False) -> go.Figure:
    """Damage of holding each unit at its mean beside holding it at 0."""
    units = [f"unit {u}" for u in range(len(mean_damage))]
    ids = np.arange(len(mean_damage))          # customdata: the unit, for a click
    fig = go.Figure([
        go.Bar(x=units, y=mean_damage, name="held at its mean", marker_color=style.color(name),
               customdata=ids),
        go.Bar(x=units, y=zero_damage, name="held at 0", marker_color=style.MUTED,
               customdata=ids),
    ])
    fig.update_layout(barmode="group")
    _layout(fig, f"Damage of holding each unit of {style.label(name)}", 380, projector)
    fig.update_yaxes(title_text="mean squared change of the output")
    return fig


def attribution_strips(strips: Mapping[str, np.ndarray], labels: Sequence[str] | None,
                       target: int, projector: bool = False) -> go.Figure:
    """One row per method: the attribution of each step (summed over features), diverging."""
    names = list(strips)
    T = len(next(iter(strips.values())))
    k = _stride(T)
    steps = np.arange(0, T, k)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[n.replace("_", " ") for n in names])
    show_text = labels is not None and T <= 120 and k == 1
    for row, n in enumerate(names, start=1):
        v = np.asarray(strips[n], dtype=np.float64)[::k]
        settings = style.color_range("attribution", v)
        fig.add_trace(go.Heatmap(
            z=v[None], x=steps, y=[""], showscale=False, **settings,
            text=[[_char(str(c)) for c in labels]] if show_text else None,
            texttemplate="%{text}" if show_text else None,
            hovertemplate="step %{x}: %{z:.4f}<extra>" + n + "</extra>"), row=row, col=1)
        fig.add_vline(x=target, line_color=style.INK, line_dash="dot", row=row, col=1)
    _layout(fig, f"Which inputs drove the output at step {target}",
            90 + 80 * len(names), projector)
    fig.update_xaxes(title_text="step", row=len(names), col=1)
    return fig


def change_heatmaps(difference: Mapping[str, np.ndarray], step: int,
                    projector: bool = False) -> go.Figure:
    """|Δ| per unit over time, one row per quantity, from the edited step on."""
    names = list(difference)
    T = len(next(iter(difference.values())))
    k = _stride(T)
    steps = np.arange(0, T, k)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=[f"|Δ {style.label(n)}|" for n in names])
    for row, n in enumerate(names, start=1):
        z = np.abs(difference[n][::k]).T
        fig.add_trace(go.Heatmap(
            z=z, x=steps, y=np.arange(z.shape[0]), showscale=False, zmin=0,
            zmax=float(z.max()) or 1.0, colorscale=style.gate_colorscale("c"),
            hovertemplate="step %{x}, unit %{y}: %{z:.4f}<extra>" + n + "</extra>"),
            row=row, col=1)
        fig.add_vline(x=step, line_color=style.INK, line_dash="dot", row=row, col=1)
        fig.update_yaxes(autorange="reversed", row=row, col=1)
    _layout(fig, f"What changes after editing step {step}", 120 + 130 * len(names), projector)
    fig.update_xaxes(title_text="step", row=len(names), col=1)
    return fig


def connectivity_heatmap(c: np.ndarray, projector: bool = False) -> go.Figure:
    """|∂ score_t / ∂ x_s| over (target t, source s): how far back each output looks."""
    z = np.log10(np.maximum(c, 1e-12))
    z[np.triu_indices(len(c), 1)] = np.nan       # an output never looks ahead: left blank
    fig = go.Figure(go.Heatmap(
        z=z, colorscale="Viridis", zmin=-6, zmax=max(-5.0, float(np.nanmax(z))),
        colorbar={"title": {"text": "log10"}},
        hovertemplate="output at %{y}, input at %{x}: 10^%{z:.2f}<extra></extra>"))
    _layout(fig, "Connectivity: ‖∂ score_t / ∂ x_s‖", 480, projector)
    fig.update_xaxes(title_text="input step s")
    fig.update_yaxes(title_text="output step t", autorange="reversed")
    return fig


def correlation_bars(r: np.ndarray, name: str, signal: str,
                     projector: bool = False) -> go.Figure:
    """The correlation of each unit's ``name`` with a signal, −1 to 1."""
    fig = go.Figure(go.Bar(x=[f"unit {u}" for u in range(len(r))], y=r,
                           marker_color=[style.DIVERGING[8 if v > 0 else 1][1] for v in r],
                           hovertemplate="%{x}: r = %{y:.3f}<extra></extra>"))
    _layout(fig, f"Which unit's {style.label(name)} follows {style.user_text(signal, 40)}?",
            340, projector)
    fig.update_yaxes(range=[-1.05, 1.05], title_text="correlation r")
    return fig


PROBE_FLOOR = -1.0       # R² drawn down to this at most (the hover keeps the real value)


def probe_bars(names: Sequence[str], r2: Sequence[float], r2_control: Sequence[float],
               name: str, signal: str, projector: bool = False) -> go.Figure:
    """Held-out R² of a linear probe per layer (and direction) beside its control."""
    r2 = np.asarray(r2, dtype=float)
    control = np.asarray(r2_control, dtype=float)
    fig = go.Figure()
    for label, v, colour in (("probe", r2, style.color(name)),
                             ("control (shifted signal)", control, style.MUTED)):
        fig.add_trace(go.Bar(
            x=list(names), y=np.maximum(np.nan_to_num(v, nan=0.0), PROBE_FLOOR), name=label,
            marker_color=colour, customdata=v,
            hovertemplate="%{x}: R² = %{customdata:.3f}<extra>" + label + "</extra>"))
    low = min(-0.1, float(np.nanmin(np.maximum(np.r_[r2, control], PROBE_FLOOR))) - 0.05)
    _layout(fig, f"How well a linear probe reads {style.user_text(signal, 40)} from each "
            f"layer's {style.label(name)}", 320, projector)
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[low, 1.05], title_text="held-out R²")
    return fig
