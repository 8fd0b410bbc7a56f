"""Units x time heatmaps of the traced quantities, sharing one time axis, with a step cursor."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import plotly.graph_objects as go

from . import style
from .downsample import downsample_time, max_cols_for, window_size

MAX_READABLE_CHARS = 120  # characters shown as tick labels up to this many steps in view
_CHAR_DISPLAY = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
CURSOR_NAMES = ("cursor_halo", "cursor", "cursor_top_halo", "cursor_top")  # vertical lines
CURSOR_BOX = "cursor_box"  # frames the current character of a text input


def _time_major(name: str, values: np.ndarray) -> np.ndarray:
    """(T,), (T, units) or (T, 1, units) -> (T, units)."""
    array = np.asarray(values)
    if array.ndim == 3:
        if array.shape[1] != 1:
            raise ValueError(f"{name}: expected batch size 1 in (T, B, units), got {array.shape}")
        array = array[:, 0, :]
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name}: expected an array (T, units), got shape {array.shape}")
    return array


def _unit_ticks(units: int, focus_unit: int | None, projector: bool) -> tuple[list, list]:
    """Few y ticks labelled "unit k" (all of them for small layers), the focus unit in bold."""
    if units <= (6 if projector else 8):
        values = list(range(units))
    else:
        step = int(np.ceil(units / 4))
        nice = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 200, 256, 500, 512, 1000]
        step = next((n for n in nice if n >= step), step)
        values = list(range(0, units, step))
    if focus_unit is not None and 0 <= focus_unit < units and focus_unit not in values:
        spacing = values[1] - values[0] if len(values) > 1 else units
        keep = [v for v in values if abs(v - focus_unit) * 2 >= spacing]
        values = sorted(keep + [focus_unit])
    text = [f"<b>unit {v}</b>" if v == focus_unit else f"unit {v}" for v in values]
    return values, text


def _colorbar(domain: Sequence[float], settings: dict, projector: bool) -> dict:
    """A short colour bar beside its own row, with three ticks."""
    lo, hi = settings["zmin"], settings["zmax"]
    ticks = [lo, (lo + hi) / 2, hi]
    s = style.sizes(projector)
    return {
        "y": (domain[0] + domain[1]) / 2,
        "yanchor": "middle",
        "len": max(0.05, (domain[1] - domain[0]) * 0.95),
        "lenmode": "fraction",
        "x": 1.01,
        "xanchor": "left",
        "thickness": 16 if projector else 12,
        "tickvals": ticks,
        "ticktext": [style.fmt(t, 1) if abs(t) < 10 else style.fmt(t, 0) for t in ticks],
        "tickfont": {"size": s["small"]},
        "outlinewidth": 0,
    }


def _char(label: str) -> str:
    return _CHAR_DISPLAY.get(label, style.user_text(label, 8))


def quantity_heatmaps(
    quantities: dict[str, np.ndarray],
    *,
    step: int | None = None,
    input_values: np.ndarray | None = None,
    input_labels: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    focus_unit: int | None = None,
    window: tuple[int, int] | None = None,
    max_cells: int = 500_000,
    projector: bool = False,
    title: str | None = None,
    per_unit: Collection[str] = (),
) -> go.Figure:
    """Heatmaps (units x time) of each quantity, stacked on one shared step axis.

    quantities: name -> (T, units) (or (T, 1, units)), e.g. {"f": ..., "i": ..., "c": ...}.
    input_values: (T,) or (T, features), drawn in a first row (lines for 1-3 features, a heatmap
    for more). input_labels: T strings (characters of a text), shown as tick labels of the input
    row when at most 120 steps are in view. window=(t0, t1): only steps t0..t1-1, at full
    resolution; otherwise the time axis is max-abs downsampled when the cells exceed
    ``max_cells`` (the title says so). The cursor is a vertical line at ``step`` (shapes named
    "cursor" and "cursor_halo"; move it with :func:`move_cursor`).
    per_unit: quantities whose rows are each divided by the row's own max |value| (a row of
    a unit whose range dwarfs the others' then no longer washes them out); their colour bar
    says "c / max|c| per unit" and the hover still shows the true value. Gates stay 0..1.
    """
    if not quantities:
        raise ValueError("quantities is empty: nothing to draw")
    arrays = {name: _time_major(name, v) for name, v in quantities.items()}
    lengths = {a.shape[0] for a in arrays.values()}
    inputs = None if input_values is None else _time_major("input_values", input_values)
    if inputs is not None:
        lengths.add(inputs.shape[0])
    if input_labels is not None:
        lengths.add(len(input_labels))
    if len(lengths) != 1:
        raise ValueError(f"all arrays need the same number of steps, got lengths {sorted(lengths)}")
    n_steps = lengths.pop()

    if window is not None:
        t0, t1 = max(0, int(window[0])), min(n_steps, int(window[1]))
        if t1 <= t0:
            raise ValueError(f"window {window} is empty for a sequence of {n_steps} steps")
        width = 1
    else:
        t0, t1 = 0, n_steps
        input_heatmap = inputs is not None and inputs.shape[1] > 3
        total_units = sum(a.shape[1] for a in arrays.values())
        total_units += inputs.shape[1] if input_heatmap else 0
        width = window_size(n_steps, max_cols_for(total_units, 1, max_cells))
    n_view = t1 - t0
    max_cols = -(-n_view // width)
    x0 = t0 + (width - 1) / 2  # centre of the first column, in steps

    s = style.sizes(projector)
    text_ticks = input_labels is not None and width == 1 and n_view <= MAX_READABLE_CHARS
    has_input_row = inputs is not None or input_labels is not None
    row_px = 150 if projector else 118
    if inputs is None:
        input_px = 4  # a baseline carrying the characters as tick labels
    else:
        input_px = 110 if projector else 80
    title_px = 34 if projector else 26
    ticks_px = (34 if projector else 26) if text_ticks else 0
    names = list(arrays)
    heights = ([input_px] if has_input_row else []) + [row_px] * len(names)
    n_rows = len(heights)
    top_px, bottom_px = (96, 80) if projector else (72, 56)
    if width > 1:  # room for the "downsampled" line under the title
        top_px += 34 if projector else 26
    plot_px = sum(heights) + title_px * n_rows + ticks_px
    total_px = plot_px + top_px + bottom_px

    # Layout built as plain dicts and validated once (much faster than per-row updates).
    # Exact pixel layout: a title band above every row, room for characters under the input row.
    axis_base = style.axis_style(projector)
    xaxes: dict[int, dict] = {}
    yaxes: dict[int, dict] = {}
    y = 0.0
    for row, height in enumerate(heights, start=1):
        y += title_px
        yaxes[row] = {
            **axis_base,
            "anchor": _axis_id("x", row),
            "domain": [1 - (y + height) / plot_px, 1 - y / plot_px],
        }
        xaxes[row] = {
            **axis_base,
            "anchor": _axis_id("y", row),
            "domain": [0.0, 1.0],
            "range": [t0 - 0.5, t1 - 0.5],
            "autorange": False,
            "showline": False,
            "ticks": "",
            "showticklabels": row == n_rows,
        }
        if row != n_rows:
            xaxes[row]["matches"] = _axis_id("x", n_rows)
        y += height + (ticks_px if row == 1 and has_input_row else 0)
    xaxes[n_rows].update(
        title={"text": "step", "font": {"size": s["font"]}}, ticks="outside", tickformat=",d"
    )
    traces: list = []
    shapes: list[dict] = []
    titles: list[tuple[int, str, str]] = []  # (row, text, colour)

    def add(trace: go.Scatter | go.Heatmap, row: int) -> None:
        trace.update(xaxis=_axis_id("x", row), yaxis=_axis_id("y", row))
        traces.append(trace)

    # -- input row ------------------------------------------------------------------------
    if has_input_row:
        n_features = 0 if inputs is None else inputs.shape[1]
        fnames = [style.user_text(n) for n in feature_names] if feature_names is not None else []
        if len(fnames) != n_features:
            fnames = ["x"] if n_features == 1 else [f"x[{k}]" for k in range(n_features)]
        if inputs is not None and n_features <= 3:
            pooled, _ = downsample_time(inputs[t0:t1].T, max_cols)
            shades = [style.COLORS["x"], "#0072B2", "#D55E00"]
            for k in range(n_features):
                add(
                    go.Scatter(
                        x0=x0,
                        dx=width,
                        y=np.ascontiguousarray(pooled[k], dtype=np.float32),
                        mode="lines",
                        name=fnames[k],
                        line={"color": shades[k], "width": s["line"]},
                        showlegend=n_features > 1,
                        hovertemplate=f"step %{{x}}, {fnames[k]} = %{{y:.2f}}<extra></extra>",
                    ),
                    1,
                )
            yaxes[1]["nticks"] = 3
        elif inputs is not None:
            pooled, _ = downsample_time(inputs[t0:t1].T, max_cols)
            finite = inputs[np.isfinite(inputs)]
            if finite.size == 0 or finite.min() >= 0:
                top = float(finite.max()) if finite.size else 1.0
                settings = {
                    "zmin": 0.0,
                    "zmax": top or 1.0,
                    "colorscale": [[0, "#ffffff"], [1, style.COLORS["x"]]],
                }
            else:
                settings = style.color_range("x", inputs)
            add(
                go.Heatmap(
                    z=np.ascontiguousarray(pooled, dtype=np.float32),
                    x0=x0,
                    dx=width,
                    y0=0,
                    dy=1,
                    showscale=False,
                    hovertemplate="%{y}, step %{x}, x = %{z:.2f}<extra></extra>",
                    **settings,
                ),
                1,
            )
            if n_features <= 12 and feature_names is not None:
                vals, text = list(range(n_features)), fnames
            else:
                vals, _ = _unit_ticks(n_features, None, projector)
                text = [f"feature {v}" for v in vals]
            yaxes[1].update(
                tickmode="array",
                tickvals=vals,
                ticktext=text,
                range=[n_features - 0.5, -0.5],
                autorange=False,
                showline=False,
                ticks="",
            )
        else:
            yaxes[1].update(visible=False, range=[-1, 1], autorange=False)
        if text_ticks:
            chars = [_char(str(c)) for c in input_labels[t0:t1]]  # type: ignore[index]
            xaxes[1].update(
                showticklabels=True,
                tickmode="array",
                tickvals=list(range(t0, t1)),
                ticktext=chars,
                ticks="",
                tickfont={
                    "size": s["font"] if n_view <= 60 else s["small"],
                    "family": "DejaVu Sans Mono, Menlo, Consolas, monospace",
                    "color": style.INK,
                },
                tickangle=0,
            )
            if inputs is None:  # an invisible trace: hover text for each character
                add(
                    go.Scatter(
                        x=np.arange(t0, t1),
                        y=np.zeros(n_view, dtype=np.float32),
                        text=chars,
                        mode="markers",
                        marker={"opacity": 0},
                        showlegend=False,
                        hovertemplate="step %{x}: %{text}<extra></extra>",
                    ),
                    1,
                )
        what = "input x"
        if inputs is not None and n_features > 1:
            what += f" ({n_features} features)"
        if input_labels is not None and not text_ticks:
            what += " (text: zoom in to 120 steps or fewer to read the characters)"
        titles.append((1, what, style.COLORS["x"]))

    # -- one heatmap row per quantity ------------------------------------------------------
    first = 2 if has_input_row else 1
    if width == 1:
        where, note = "step %{x}", ""
    else:
        where, note = f"steps %{{x:.0f}}±{width // 2}", " (max-abs)"
    for k, name in enumerate(names):
        row = first + k
        data = arrays[name][t0:t1].T  # (units, T_view)
        pooled, _ = downsample_time(data, max_cols)
        units = data.shape[0]
        settings = style.color_range(name, data)
        colorbar = _colorbar(yaxes[row]["domain"], settings, projector)
        shown, extra, value = pooled, {}, "%{z:.2f}"
        if name in per_unit and not style.is_gate(name):
            peak = np.nanmax(np.abs(np.where(np.isfinite(data), data, 0)), axis=1, keepdims=True)
            shown = pooled / np.where(peak > 0, peak, 1)
            settings = {"zmin": -1.0, "zmax": 1.0, "zmid": 0.0, "colorscale": style.DIVERGING}
            colorbar = _colorbar(yaxes[row]["domain"], settings, projector)
            colorbar["title"] = {"text": f"{name} / max|{name}|<br>per unit", "side": "top",
                                 "font": {"size": s["small"]}}
            extra = {"customdata": np.ascontiguousarray(pooled, dtype=np.float32)}
            value = "%{customdata:.2f}"     # the hover shows the true value
        add(
            go.Heatmap(
                z=np.ascontiguousarray(shown, dtype=np.float32),
                x0=x0,
                dx=width,
                y0=0,
                dy=1,
                name=name,
                colorbar=colorbar,
                hovertemplate=f"unit %{{y}}, {where}, {name} = {value}{note}<extra></extra>",
                **extra,
                **settings,
            ),
            row,
        )
        tickvals, ticktext = _unit_ticks(units, focus_unit, projector)
        yaxes[row].update(
            tickmode="array",
            tickvals=tickvals,
            ticktext=ticktext,
            range=[units - 0.5, -0.5],  # unit 0 at the top
            autorange=False,
            nticks=None,
            showline=False,
            ticks="",
        )
        titles.append((row, style.label(name), style.color(name)))
        if focus_unit is not None and 0 <= focus_unit < units:
            shapes.append(
                {
                    "type": "rect",
                    "xref": _axis_id("x", row),
                    "yref": _axis_id("y", row),
                    "x0": t0 - 0.5,
                    "x1": t1 - 0.5,
                    "y0": focus_unit - 0.5,
                    "y1": focus_unit + 0.5,
                    "line": {"color": style.INK, "width": s["thin"]},
                    "fillcolor": "rgba(0,0,0,0)",
                    "name": "focus",
                    "layer": "above",
                }
            )

    # -- titles, cursor, layout ------------------------------------------------------------
    annotations = [
        {
            "text": f"<b>{text}</b>",
            "xref": "paper",
            "yref": "paper",
            "x": 0,
            "y": yaxes[row]["domain"][1],
            "xanchor": "left",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": s["font"], "color": colour},
            "name": f"title_{row}",
        }
        for row, text, colour in titles
    ]
    if text_ticks:
        # the line must not hide the current character: it stops below the characters (and
        # continues above them through an input heatmap); a box frames the character instead
        band_bottom = yaxes[2]["domain"][1] + title_px / plot_px
        band_top = yaxes[1]["domain"][0]
        shapes.extend(cursor_shapes(step, projector, default_x=t0, y1=band_bottom))
        if inputs is not None:
            for shape in cursor_shapes(step, projector, default_x=t0, y0=band_top):
                shapes.append({**shape, "name": shape["name"].replace("cursor", "cursor_top")})
        x = t0 if step is None else int(step)
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": x - 0.5,
                "x1": x + 0.5,
                "y0": band_bottom,
                "y1": band_top,
                "line": {"color": style.INK, "width": s["thin"]},
                "fillcolor": "rgba(0,0,0,0)",
                "name": CURSOR_BOX,
                "layer": "above",
                "visible": step is not None,
            }
        )
    else:
        shapes.extend(cursor_shapes(step, projector, default_x=t0))

    heading = title if title is not None else "Gates and states over time"
    if window is not None:
        heading += f"  ·  steps {t0:,}–{t1 - 1:,}"
    if width > 1:
        heading += (
            f"<br><span style='font-size:{s['small']}px;color:{style.MUTED}'>"
            f"downsampled {n_view:,} → {max_cols:,} columns, max-abs "
            f"(each column shows the most extreme of {width} steps)</span>"
        )
    layout = style.base_layout(projector)
    layout.update(
        {_axis_name("x", row): axis for row, axis in xaxes.items()},
        **{_axis_name("y", row): axis for row, axis in yaxes.items()},
    )
    layout["title"] = {**layout["title"], "text": heading, "y": 1 - 22 / total_px, "yanchor": "top"}
    layout.update(
        height=total_px,
        margin={**layout["margin"], "t": top_px, "b": bottom_px, "r": 90 if projector else 70},
        hovermode="closest",
        legend={
            **layout["legend"],
            "orientation": "h",
            "x": 1,
            "xanchor": "right",
            "y": 1,
            "yanchor": "bottom",
            "yref": "paper",
        },
        dragmode="zoom",
        shapes=shapes,
        annotations=annotations,
        meta={"steps": n_steps, "view": [t0, t1], "columns": max_cols, "window": width},
    )
    return go.Figure(data=traces, layout=layout)


def _axis_id(kind: str, row: int) -> str:
    """Trace/shape reference of a row's axis: ("x", 1) -> "x", ("y", 3) -> "y3"."""
    return kind if row == 1 else f"{kind}{row}"


def _axis_name(kind: str, row: int) -> str:
    """Layout key of a row's axis: ("x", 1) -> "xaxis", ("y", 3) -> "yaxis3"."""
    return f"{kind}axis" if row == 1 else f"{kind}axis{row}"


def cursor_shapes(
    step: int | None,
    projector: bool = False,
    default_x: float = 0,
    y0: float = 0.0,
    y1: float = 1.0,
) -> list[dict]:
    """The cursor: a white halo and a dark line at ``step`` (xref "x", yref "paper", y0..y1).

    Hidden when ``step`` is None (:func:`move_cursor` shows it).
    """
    s = style.sizes(projector)
    x = default_x if step is None else int(step)
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": x,
            "x1": x,
            "y0": y0,
            "y1": y1,
            "line": {"color": colour, "width": line_width},
            "name": shape_name,
            "layer": "above",
            "visible": step is not None,
        }
        for shape_name, colour, line_width in (
            ("cursor_halo", "rgba(255,255,255,0.85)", s["line"] + 3),
            ("cursor", style.INK, s["line"]),
        )
    ]


def move_cursor(fig: go.Figure, step: int) -> go.Figure:
    """Move the cursor of a :func:`quantity_heatmaps` figure to ``step`` (shapes only)."""
    step = int(step)
    fig.update_shapes(
        selector=lambda shape: shape.name in CURSOR_NAMES, x0=step, x1=step, visible=True
    )
    fig.update_shapes(
        selector=lambda shape: shape.name == CURSOR_BOX, x0=step - 0.5, x1=step + 0.5, visible=True
    )
    return fig
