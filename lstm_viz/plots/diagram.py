"""The cell diagram (after Olah, "Understanding LSTM Networks") with the live values of one unit.

Drawn with plotly shapes and annotations on a fixed 20 x 11 canvas (axes hidden, no zoom):
the cell-state line across the top, the gate boxes fed by [h_{t-1}, x_t] below it, the output path
on the right. Every box and every arrow end shows its number; gate boxes are filled with their
colour at an intensity following the value. Variants change the drawing (peepholes, coupled
gates, removed gates and activations); "gru" and "rnn" get their own diagrams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from . import style

WIDTH, HEIGHT = 20.0, 11.0  # canvas in data units (1 unit = 50 px at the default size)
LSTM_VARIANTS = ("vanilla", "peephole", "cifg", "nig", "nfg", "nog", "niaf", "noaf")
VARIANTS = (*LSTM_VARIANTS, "gru", "rnn")
VARIANT_TITLES = {
    "vanilla": "LSTM",
    "peephole": "LSTM with peepholes",
    "cifg": "LSTM with coupled input-forget gate (f = 1 − i)",
    "nig": "LSTM without input gate (i = 1)",
    "nfg": "LSTM without forget gate (f = 1)",
    "nog": "LSTM without output gate (o = 1)",
    "niaf": "LSTM without input activation (g = z<sub>g</sub>)",
    "noaf": "LSTM without output activation (h = o·c)",
    "gru": "GRU",
    "rnn": "RNN (tanh)",
}
_GREY_FILL = "#eceef1"
_CELL_FILL = "#f6f8fa"
_LINE = "#3d4450"  # connections that carry [h, x]
_SUB = {"t-1": "t−1", "t": "t"}


def _sub(symbol: str, index: str) -> str:
    """'c', 't-1' -> 'c<sub>t−1</sub>'."""
    return f"{symbol}<sub>{_SUB.get(index, index)}</sub>"


def _number(values: dict, key: str) -> float | None:
    """values[key] as a float, None when absent or not a number."""
    value = values.get(key)
    if value is None or isinstance(value, str):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.size != 1:
        return None
    return float(array.reshape(()))


def _format_x(value: object) -> str:
    """The input at this step: a character, a number or a short vector."""
    if value is None:
        return "–"
    if isinstance(value, str):
        shown = {" ": "␣", "\n": "↵", "\t": "⇥"}.get(value, style.user_text(value, 12))
        return f"‘{shown}’"       # escaped: "<" of a text must not open a tag in the label
    array = np.asarray(value, dtype=float).ravel()
    if array.size == 1:
        return style.fmt(float(array[0]))
    head = ", ".join(style.fmt(v) for v in array[:3])
    return f"[{head}{', …' if array.size > 3 else ''}]"


def _mul(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


@dataclass
class _Canvas:
    """Collects shapes and annotations in data coordinates, then builds the figure in one go."""

    projector: bool
    width_px: int = 1000
    shapes: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)

    @property
    def k(self) -> float:
        """Scale of fonts and line widths: the figure width over the 1000 px reference."""
        return self.width_px / 1000

    def px(self, size: float) -> float:
        """A font size in px (10% larger on a projector)."""
        return size * self.k * (1.1 if self.projector else 1.0)

    def lw(self, width: float) -> float:
        """A line width in px (30% thicker on a projector)."""
        return width * self.k * (1.3 if self.projector else 1.0)

    def path(
        self,
        points: Sequence[tuple[float, float]],
        colour: str = _LINE,
        width: float = 2.0,
        dash: str = "solid",
        arrow: bool = True,
        name: str = "",
    ) -> None:
        """A polyline, with an arrowhead at its last point."""
        if arrow and len(points) >= 2:
            (x0, y0), (x1, y1) = points[-2], points[-1]
            length = float(np.hypot(x1 - x0, y1 - y0)) or 1.0
            back = min(0.25, length)  # the arrow annotation draws the last bit with its head
            xa, ya = x1 - (x1 - x0) * back / length, y1 - (y1 - y0) * back / length
            body = [*points[:-1], (xa, ya)]
            self.notes.append(
                {
                    "x": x1,
                    "y": y1,
                    "ax": x0 if length <= back else xa,
                    "ay": y0 if length <= back else ya,
                    "xref": "x",
                    "yref": "y",
                    "axref": "x",
                    "ayref": "y",
                    "showarrow": True,
                    "arrowhead": 2,
                    "arrowsize": min(1.0, 2.4 / width),
                    "arrowwidth": self.lw(width),
                    "arrowcolor": colour,
                    "text": "",
                    "standoff": 0,
                    "name": f"{name}_head" if name else "",
                }
            )
        else:
            body = list(points)
        d = "M " + " L ".join(f"{x:.3f},{y:.3f}" for x, y in body)
        self.shapes.append(
            {
                "type": "path",
                "path": d,
                "xref": "x",
                "yref": "y",
                "line": {"color": colour, "width": self.lw(width), "dash": dash},
                "layer": "below",
                "name": name,
            }
        )

    def box(
        self,
        cx: float,
        cy: float,
        w: float,
        h: float,
        fill: str,
        border: str,
        radius: float = 0.18,
        dash: str = "solid",
        width: float = 1.5,
        name: str = "",
        layer: str = "below",
    ) -> None:
        """A rounded rectangle centred on (cx, cy)."""
        x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
        r = min(radius, w / 2, h / 2)
        d = (
            f"M {x0 + r},{y0} L {x1 - r},{y0} Q {x1},{y0} {x1},{y0 + r} "
            f"L {x1},{y1 - r} Q {x1},{y1} {x1 - r},{y1} L {x0 + r},{y1} "
            f"Q {x0},{y1} {x0},{y1 - r} L {x0},{y0 + r} Q {x0},{y0} {x0 + r},{y0} Z"
        )
        self.shapes.append(
            {
                "type": "path",
                "path": d,
                "xref": "x",
                "yref": "y",
                "fillcolor": fill,
                "line": {"color": border, "width": self.lw(width), "dash": dash},
                "layer": layer,
                "name": name,
            }
        )

    def circle(
        self,
        cx: float,
        cy: float,
        r: float,
        symbol: str,
        name: str = "",
        colour: str = style.INK,
        fill: str = "#ffffff",
        size: float = 20,
        border: str | None = None,
    ) -> None:
        """A pointwise-operation node (×, +, 1−) with its symbol."""
        self.shapes.append(
            {
                "type": "circle",
                "xref": "x",
                "yref": "y",
                "x0": cx - r,
                "x1": cx + r,
                "y0": cy - r,
                "y1": cy + r,
                "fillcolor": fill,
                "line": {"color": border or colour, "width": self.lw(1.8)},
                "layer": "below",
                "name": name,
            }
        )
        self.text(cx, cy, symbol, size=size, colour=colour, name=f"{name}_symbol")

    def dot(self, cx: float, cy: float, colour: str = _LINE) -> None:
        """A junction dot where a line splits."""
        r = 0.09
        self.shapes.append(
            {
                "type": "circle",
                "xref": "x",
                "yref": "y",
                "x0": cx - r,
                "x1": cx + r,
                "y0": cy - r,
                "y1": cy + r,
                "fillcolor": colour,
                "line": {"width": 0},
                "layer": "below",
            }
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float = 14,
        colour: str = style.INK,
        anchor: str = "center",
        valign: str = "middle",
        name: str = "",
        bg: str | None = None,
    ) -> None:
        """A text label at (x, y) (anchor: left/center/right; valign: top/middle/bottom)."""
        note = {
            "x": x,
            "y": y,
            "xref": "x",
            "yref": "y",
            "text": text,
            "showarrow": False,
            "xanchor": anchor,
            "yanchor": valign,
            "font": {"size": self.px(size), "color": colour, "family": style.FONT_FAMILY},
            "name": name,
        }
        if bg is not None:
            note["bgcolor"] = bg
            note["borderpad"] = 1
        self.notes.append(note)

    def gate(
        self,
        cx: float,
        cy: float,
        key: str,
        words: str,
        activation: str,
        value: float | None,
        removed: bool = False,
        signed: bool = False,
    ) -> None:
        """A gate box: plain name, activation, live value; fill follows the value."""
        w, h = 1.9, 1.55
        if removed:
            self.box(cx, cy, w, h, _GREY_FILL, style.MUTED, dash="dot", name=f"box_{key}")
            self.text(cx, cy + 0.38, f"no {words}", size=11, colour=style.MUTED, name=f"name_{key}")
            self.text(
                cx, cy - 0.22, f"<b>{key} = 1</b>", size=15, colour=style.MUTED, name=f"value_{key}"
            )
            return
        strength = 0.0 if value is None else (abs(value) if signed else value)
        fill = style.gate_fill(key, min(1.0, strength))
        ink = style.text_on(fill)
        self.box(
            cx, cy, w, h, fill, style.darken(style.color(key), 0.2), width=2.0, name=f"box_{key}"
        )
        self.text(cx, cy + 0.47, words, size=11, colour=ink, name=f"name_{key}")
        self.text(
            cx,
            cy + 0.03,
            activation,
            size=17 if len(activation) < 3 else 14,
            colour=ink,
            name=f"act_{key}",
        )
        self.text(
            cx,
            cy - 0.45,
            f"<b>{key} = {style.fmt(value)}</b>",
            size=15,
            colour=ink,
            name=f"value_{key}",
        )

    def figure(self, title: str) -> go.Figure:
        """The canvas as a figure: fixed range, equal aspect, axes hidden, no zoom or pan."""
        k = self.k
        axis = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
        layout = style.base_layout(self.projector)
        layout.update(
            shapes=self.shapes,
            annotations=self.notes,
            title={
                "text": title,
                "x": 0.02,
                "xanchor": "left",
                "y": 0.97,
                "yanchor": "top",
                "font": {"size": 18 * k, "color": style.INK},
            },
            xaxis={**axis, "range": [0, WIDTH], "constrain": "domain"},
            yaxis={
                **axis,
                "range": [0, HEIGHT],
                "scaleanchor": "x",
                "scaleratio": 1,
                "constrain": "domain",
            },
            width=int(self.width_px),
            height=int(round(600 * k)),
            margin={"l": 10, "r": 10, "t": int(50 * k), "b": 10},
            dragmode=False,
            hovermode=False,
            showlegend=False,
        )
        # Our own shapes and annotations, checked once by the tests (test_diagram_is_valid_plotly):
        # validating ~700 of them again at every step costs ~50 ms, most of a step's budget.
        return go.Figure(layout=layout, _validate=False)


def _input_labels(canvas: _Canvas, h_prev: float | None, x: object, h_col: str) -> None:
    """The two inputs every cell reads: h_{t-1} on the bus, x_t at the bottom."""
    canvas.text(0.3, BUS_Y + 0.15, f"{_sub('h', 't-1')} = {style.fmt(h_prev)}", 15, h_col,
                "left", "bottom", name="label_h_prev")
    canvas.text(X_IN + 0.2, 0.35, f"{_sub('x', 't')} = {_format_x(x)}", 15, style.COLORS["x"],
                "left", "middle", name="label_x")


def _cell_frame(canvas: _Canvas) -> None:
    """The cell: a light rounded frame behind everything one step computes."""
    canvas.box(10.0, 5.65, 15.0, 9.1, _CELL_FILL, "#c9ced6", radius=0.5, width=1.2, name="cell")


def _state_line(
    canvas: _Canvas,
    state: str,
    gate: str,
    x_mul: float,
    x_add: float,
    colour: str,
    *,
    prev: float | None,
    gate_value: float | None,
    new: float | None,
) -> None:
    """The state line across the top: state_{t-1} -> × gate -> + -> state_t, with its labels.

    The LSTM's cell state ("c", kept by the forget gate "f") and the GRU's state ("h", kept by
    the update gate "z") share this drawing. prev, gate_value and new are state_{t-1}, the gate
    and state_t; the segment between × and + shows gate·state_{t-1}. What enters the + from below
    (i·g, (1−z)·n) is drawn by the caller.
    """
    thick = 4.0
    kept = f"{gate}{state}"  # "fc", "zh": what the gate keeps of the old state
    canvas.path([(0.3, CELL_Y), (x_mul - R_NODE, CELL_Y)], colour, thick, name=f"{state}_in")
    canvas.path([(x_mul + R_NODE, CELL_Y), (x_add - R_NODE, CELL_Y)], colour, thick, name=kept)
    canvas.path([(x_add + R_NODE, CELL_Y), (19.7, CELL_Y)], colour, thick, name=f"{state}_out")
    canvas.circle(x_mul, CELL_Y, R_NODE, "×", name=f"mul_{gate}")
    canvas.circle(x_add, CELL_Y, R_NODE, "+", name="add")
    canvas.text(
        0.3,
        CELL_Y + 0.2,
        f"{_sub(state, 't-1')} = {style.fmt(prev)}",
        15,
        colour,
        "left",
        "bottom",
        name=f"label_{state}_prev",
    )
    canvas.text(
        (x_mul + x_add) / 2,
        CELL_Y + 0.2,
        f"{gate}·{_sub(state, 't-1')} = {style.fmt(_mul(gate_value, prev))}",
        13,
        colour,
        "center",
        "bottom",
        name=f"label_{kept}",
    )
    canvas.text(
        19.7,
        CELL_Y + 0.2,
        f"<b>{_sub(state, 't')} = {style.fmt(new)}</b>",
        15,
        colour,
        "right",
        "bottom",
        name=f"label_{state}",
    )


# ---------------------------------------------------------------------------------------------
# LSTM family
# ---------------------------------------------------------------------------------------------

CELL_Y = 9.0  # the cell-state line
BUS_Y = 2.2  # the [h_{t-1}, x_t] line
GATE_Y = 4.5  # centre of the gate boxes
MID_Y = 7.0  # the row of ×(i·g), 1−i and tanh(c)
X_IN = 3.2  # where x_t joins the bus
GATE_X = {"f": 5.0, "i": 7.3, "g": 9.6, "o": 11.9}
PLUS_X = GATE_X["g"]
OUT_X = 14.8  # tanh(c_t) and × o
R_NODE = 0.38


def _lstm(canvas: _Canvas, values: dict, variant: str) -> None:
    c_prev, h_prev = _number(values, "c_prev"), _number(values, "h_prev")
    i, f, g, o = (_number(values, k) for k in "ifgo")
    c, h, m = _number(values, "c"), _number(values, "h"), _number(values, "m")
    removed = {"nig": "i", "nfg": "f", "nog": "o"}.get(variant)
    if variant == "cifg" and i is not None:
        f = 1.0 - i  # the coupling, exactly as the trace holds it
    if removed == "i":
        i = 1.0 if i is None else i
    if removed == "f":
        f = 1.0 if f is None else f
    if removed == "o":
        o = 1.0 if o is None else o
    tanh_c = None if c is None else (c if variant == "noaf" else float(np.tanh(c)))
    has_proj = "m" in values
    c_col, h_col = style.color("c"), style.color("h")
    thick, normal = 4.0, 2.2
    fx, ix, gx, ox = (GATE_X[k] for k in "figo")
    top = GATE_Y + 0.775  # top of the gate boxes
    bottom = GATE_Y - 0.775

    _cell_frame(canvas)

    # cell-state line: c_{t-1} -> ×f -> +(i·g) -> c_t
    _state_line(canvas, "c", "f", fx, PLUS_X, c_col, prev=c_prev, gate_value=f, new=c)

    # bus [h_{t-1}, x_t] feeding every gate box from below
    fed = [k for k in "figo" if k != removed and not (variant == "cifg" and k == "f")]
    canvas.path([(0.3, BUS_Y), (GATE_X[fed[-1]], BUS_Y)], _LINE, normal, arrow=False, name="bus")
    canvas.path([(X_IN, 0.25), (X_IN, BUS_Y)], _LINE, normal, arrow=False, name="x_in")
    canvas.dot(X_IN, BUS_Y)
    for k in fed:
        canvas.path([(GATE_X[k], BUS_Y), (GATE_X[k], bottom)], _LINE, normal, name=f"feed_{k}")
        if GATE_X[k] != GATE_X[fed[-1]]:
            canvas.dot(GATE_X[k], BUS_Y)
    _input_labels(canvas, h_prev, values.get("x"), h_col)
    canvas.text(
        X_IN + 0.9,
        BUS_Y - 0.12,
        f"[{_sub('h', 't-1')}, {_sub('x', 't')}]",
        11,
        style.MUTED,
        "center",
        "top",
        name="label_bus",
    )

    # forget gate (or 1 − i for cifg) into ×f
    if variant == "cifg":
        fill = style.gate_fill("f", 0.0 if f is None else f)
        canvas.circle(
            fx,
            MID_Y,
            R_NODE + 0.1,
            "1−",
            name="one_minus",
            size=15,
            colour=style.text_on(fill),
            fill=fill,
            border=style.darken(style.color("f"), 0.2),
        )
        canvas.path(
            [(ix, MID_Y), (fx + R_NODE + 0.1, MID_Y)],
            style.color("i"),
            normal,
            name="i_to_one_minus",
        )
        canvas.dot(ix, MID_Y, style.color("i"))
        canvas.path(
            [(fx, MID_Y + R_NODE + 0.1), (fx, CELL_Y - R_NODE)],
            style.color("f"),
            normal,
            name="f_out",
        )
        canvas.text(
            fx - 0.2,
            (MID_Y + CELL_Y) / 2 - 0.1,
            f"<b>f = 1 − i = {style.fmt(f)}</b>",
            13,
            style.color("f"),
            "right",
            "middle",
            name="label_f",
        )
        canvas.text(
            fx - 0.7,
            MID_Y - 0.65,
            "coupled:<br>no forget box",
            11,
            style.MUTED,
            "center",
            "top",
            name="note_cifg",
        )
    else:
        canvas.gate(fx, GATE_Y, "f", "forget gate", "σ", f, removed=removed == "f")
        canvas.path(
            [(fx, top), (fx, CELL_Y - R_NODE)],
            style.MUTED if removed == "f" else style.color("f"),
            normal,
            dash="dot" if removed == "f" else "solid",
            name="f_out",
        )

    # input gate and candidate into ×, then up into +
    canvas.gate(ix, GATE_Y, "i", "input gate", "σ", i, removed=removed == "i")
    g_act = "identity" if variant == "niaf" else "tanh"
    canvas.gate(gx, GATE_Y, "g", "candidate", g_act, g, signed=True)
    i_col = style.MUTED if removed == "i" else style.color("i")
    canvas.path(
        [(ix, top), (ix, MID_Y), (gx - R_NODE, MID_Y)],
        i_col,
        normal,
        dash="dot" if removed == "i" else "solid",
        name="i_out",
    )
    canvas.path([(gx, top), (gx, MID_Y - R_NODE)], style.color("g"), normal, name="g_out")
    canvas.circle(gx, MID_Y, R_NODE, "×", name="mul_ig")
    canvas.path([(gx, MID_Y + R_NODE), (PLUS_X, CELL_Y - R_NODE)], c_col, normal, name="ig")
    canvas.text(
        gx + 0.2,
        (MID_Y + CELL_Y) / 2,
        f"i·g = {style.fmt(_mul(i, g))}",
        13,
        c_col,
        "left",
        "middle",
        name="label_ig",
    )

    # output path: c_t -> tanh -> ×o -> h_t
    canvas.gate(ox, GATE_Y, "o", "output gate", "σ", o, removed=removed == "o")
    o_col = style.MUTED if removed == "o" else style.color("o")
    canvas.path(
        [(ox + 0.95, GATE_Y), (OUT_X - R_NODE, GATE_Y)],
        o_col,
        normal,
        dash="dot" if removed == "o" else "solid",
        name="o_out",
    )
    canvas.dot(OUT_X, CELL_Y, c_col)
    pill_w, pill_h = 1.5, 0.75
    if variant == "noaf":
        canvas.box(
            OUT_X,
            MID_Y,
            pill_w,
            pill_h,
            _GREY_FILL,
            style.MUTED,
            radius=0.37,
            dash="dot",
            name="tanh_c",
        )
        canvas.text(OUT_X, MID_Y, "no tanh", 12, style.MUTED, name="act_c")
        what = _sub("c", "t")
    else:
        canvas.box(OUT_X, MID_Y, pill_w, pill_h, "#ffffff", style.INK, radius=0.37, name="tanh_c")
        canvas.text(OUT_X, MID_Y, "tanh", 14, style.INK, name="act_c")
        what = f"tanh {_sub('c', 't')}"
    canvas.path([(OUT_X, CELL_Y), (OUT_X, MID_Y + pill_h / 2)], c_col, normal, name="c_down")
    canvas.path(
        [(OUT_X, MID_Y - pill_h / 2), (OUT_X, GATE_Y + R_NODE)], c_col, normal, name="tanh_down"
    )
    canvas.text(
        OUT_X + 0.2,
        (MID_Y + GATE_Y) / 2 + 0.1,
        f"{what} = {style.fmt(tanh_c)}",
        13,
        c_col,
        "left",
        "middle",
        name="label_tanh_c",
    )
    canvas.circle(OUT_X, GATE_Y, R_NODE, "×", name="mul_o")
    out_col = style.color("m") if has_proj else h_col
    if has_proj:
        proj_x = 16.6
        canvas.path(
            [(OUT_X, GATE_Y - R_NODE), (OUT_X, BUS_Y), (proj_x - 0.6, BUS_Y)],
            out_col,
            thick,
            name="m_out",
        )
        canvas.box(proj_x, BUS_Y, 1.2, 0.8, "#ffffff", style.INK, name="proj")
        canvas.text(proj_x, BUS_Y, "W<sub>hr</sub>", 14, style.INK, name="act_proj")
        canvas.text(
            OUT_X + 0.2,
            BUS_Y + 0.9,
            f"m = {style.fmt(m)}",
            13,
            out_col,
            "left",
            "middle",
            name="label_m",
        )
        canvas.path([(proj_x + 0.6, BUS_Y), (19.7, BUS_Y)], h_col, thick, name="h_out")
        canvas.text(
            proj_x, BUS_Y - 0.5, "projection", 11, style.MUTED, "center", "top", name="note_proj"
        )
        h_note = "h = W<sub>hr</sub>·m"
    else:
        canvas.path(
            [(OUT_X, GATE_Y - R_NODE), (OUT_X, BUS_Y), (19.7, BUS_Y)], h_col, thick, name="h_out"
        )
        h_note = "h = o·c" if variant == "noaf" else "h = o·tanh c"
    canvas.text(
        19.7,
        BUS_Y + 0.2,
        f"<b>{_sub('h', 't')} = {style.fmt(h)}</b>",
        15,
        h_col,
        "right",
        "bottom",
        name="label_h",
    )
    canvas.text(19.7, BUS_Y - 0.2, h_note, 11, style.MUTED, "right", "top", name="note_h")

    # peepholes: c_{t-1} -> f, i ; c_t -> o (dashed)
    if variant == "peephole":
        peep = dict(colour=c_col, width=1.6, dash="dash")
        px_in = 3.9  # tap on c_{t-1}, before ×f
        y_run = 6.1
        canvas.dot(px_in, CELL_Y, c_col)
        canvas.path(
            [(px_in, CELL_Y), (px_in, y_run), (fx - 0.55, y_run), (fx - 0.55, top)],
            name="peep_f",
            **peep,
        )
        canvas.path([(px_in, y_run), (ix - 0.55, y_run), (ix - 0.55, top)], name="peep_i", **peep)
        po_x = ox + 0.55
        canvas.dot(po_x, CELL_Y, c_col)
        canvas.path([(po_x, CELL_Y), (po_x, top)], name="peep_o", **peep)
        canvas.text(
            px_in - 0.15,
            (y_run + CELL_Y) / 2 - 0.3,
            "peepholes<br>from " + _sub("c", "t-1"),
            11,
            c_col,
            "right",
            "middle",
            name="note_peep_fi",
        )
        canvas.text(
            po_x + 0.15,
            (top + CELL_Y) / 2 + 0.9,
            "peephole<br>from " + _sub("c", "t"),
            11,
            c_col,
            "left",
            "middle",
            name="note_peep_o",
        )


# ---------------------------------------------------------------------------------------------
# GRU and RNN
# ---------------------------------------------------------------------------------------------


def _gru(canvas: _Canvas, values: dict) -> None:
    h_prev = _number(values, "h_prev")
    r, z, n, h = (_number(values, k) for k in ("r", "z", "n", "h"))
    h_col, normal = style.color("h"), 2.2
    zx, rx, mx, nx, plus_x = 5.0, 8.0, 10.6, 13.2, 13.2
    top, bottom = GATE_Y + 0.775, GATE_Y - 0.775
    _cell_frame(canvas)

    # the state line h_{t-1} -> × z -> + (1−z)·n -> h_t
    _state_line(canvas, "h", "z", zx, plus_x, h_col, prev=h_prev, gate_value=z, new=h)

    # h_{t-1} also drops down into the bus, x_t joins from below
    drop_x = 3.0
    canvas.dot(drop_x, CELL_Y, h_col)
    canvas.path(
        [(drop_x, CELL_Y), (drop_x, BUS_Y), (nx, BUS_Y)], _LINE, normal, arrow=False, name="bus"
    )
    canvas.path([(X_IN + 0.6, 0.25), (X_IN + 0.6, BUS_Y)], _LINE, normal, arrow=False, name="x_in")
    canvas.dot(X_IN + 0.6, BUS_Y)
    canvas.dot(drop_x, BUS_Y)
    canvas.text(
        X_IN + 0.8,
        0.35,
        f"{_sub('x', 't')} = {_format_x(values.get('x'))}",
        15,
        style.COLORS["x"],
        "left",
        "middle",
        name="label_x",
    )
    for x, name in ((zx, "z"), (rx, "r"), (mx, "hn"), (nx, "n")):
        end = GATE_Y - R_NODE if name == "hn" else bottom
        canvas.path([(x, BUS_Y), (x, end)], _LINE, normal, name=f"feed_{name}")
        if x != nx:
            canvas.dot(x, BUS_Y)
    canvas.text(
        mx + 0.15,
        BUS_Y + 0.55,
        f"W<sub>hn</sub>{_sub('h', 't-1')}",
        11,
        style.MUTED,
        "left",
        "middle",
        name="note_whn",
    )
    canvas.text(
        nx + 0.15,
        BUS_Y + 0.55,
        f"W<sub>in</sub>{_sub('x', 't')}",
        11,
        style.MUTED,
        "left",
        "middle",
        name="note_win",
    )

    # gates
    canvas.gate(zx, GATE_Y, "z", "update gate", "σ", z)
    canvas.gate(rx, GATE_Y, "r", "reset gate", "σ", r)
    canvas.gate(nx, GATE_Y, "n", "candidate", "tanh", n, signed=True)
    z_col = style.color("z")
    canvas.path([(zx, top), (zx, CELL_Y - R_NODE)], z_col, normal, name="z_out")
    one_x = 10.6
    canvas.dot(zx, MID_Y, z_col)
    canvas.path([(zx, MID_Y), (one_x - R_NODE - 0.1, MID_Y)], z_col, normal, name="z_to_one")
    canvas.circle(one_x, MID_Y, R_NODE + 0.1, "1−", name="one_minus", size=15, colour=z_col)
    canvas.path(
        [(one_x + R_NODE + 0.1, MID_Y), (nx - R_NODE, MID_Y)], z_col, normal, name="one_minus_z"
    )
    canvas.text(
        (one_x + nx) / 2,
        MID_Y + 0.15,
        f"1−z = {style.fmt(None if z is None else 1 - z)}",
        12,
        z_col,
        "center",
        "bottom",
        name="label_one_minus_z",
    )
    canvas.path([(nx, top), (nx, MID_Y - R_NODE)], style.color("n"), normal, name="n_out")
    canvas.circle(nx, MID_Y, R_NODE, "×", name="mul_n")
    canvas.path([(nx, MID_Y + R_NODE), (plus_x, CELL_Y - R_NODE)], h_col, normal, name="zn")
    canvas.text(
        nx + 0.2,
        (MID_Y + CELL_Y) / 2,
        f"(1−z)·n = {style.fmt(_mul(None if z is None else 1 - z, n))}",
        13,
        h_col,
        "left",
        "middle",
        name="label_zn",
    )
    # r gates the recurrent part of the candidate
    canvas.path(
        [(rx + 0.95, GATE_Y), (mx - R_NODE, GATE_Y)], style.color("r"), normal, name="r_out"
    )
    canvas.circle(mx, GATE_Y, R_NODE, "×", name="mul_r")
    canvas.path([(mx + R_NODE, GATE_Y), (nx - 0.95, GATE_Y)], _LINE, normal, name="r_hn")
    canvas.text(
        19.7,
        CELL_Y - 0.2,
        "h = (1−z)·n + z·h<sub>t−1</sub>",
        11,
        style.MUTED,
        "right",
        "top",
        name="note_h",
    )


def _rnn(canvas: _Canvas, values: dict) -> None:
    h_prev, h = _number(values, "h_prev"), _number(values, "h")
    h_col, normal, thick = style.color("h"), 2.2, 4.0
    bx = 10.0
    _cell_frame(canvas)
    canvas.path([(0.3, BUS_Y), (bx, BUS_Y)], _LINE, normal, arrow=False, name="bus")
    canvas.path([(X_IN, 0.25), (X_IN, BUS_Y)], _LINE, normal, arrow=False, name="x_in")
    canvas.dot(X_IN, BUS_Y)
    canvas.path([(bx, BUS_Y), (bx, GATE_Y - 0.9)], _LINE, normal, name="feed")
    fill = style.gate_fill("h", 0.0 if h is None else min(1.0, abs(h)))
    ink = style.text_on(fill)
    canvas.box(bx, GATE_Y, 3.2, 1.8, fill, style.darken(h_col, 0.2), width=2.0, name="box_tanh")
    canvas.text(
        bx,
        GATE_Y + 0.5,
        f"tanh(W<sub>ih</sub>{_sub('x', 't')} + W<sub>hh</sub>{_sub('h', 't-1')} + b)",
        12,
        ink,
        name="act_tanh",
    )
    canvas.text(bx, GATE_Y - 0.35, f"<b>h = {style.fmt(h)}</b>", 17, ink, name="value_h")
    canvas.path([(bx, GATE_Y + 0.9), (bx, CELL_Y), (19.7, CELL_Y)], h_col, thick, name="h_out")
    _input_labels(canvas, h_prev, values.get("x"), h_col)
    canvas.text(
        19.7,
        CELL_Y + 0.2,
        f"<b>{_sub('h', 't')} = {style.fmt(h)}</b>",
        15,
        h_col,
        "right",
        "bottom",
        name="label_h",
    )
    canvas.text(
        11.0,
        1.6,
        "no gates, no cell state: the whole memory is h",
        12,
        style.MUTED,
        "center",
        "middle",
        name="note_rnn",
    )


def cell_diagram(
    values: dict[str, float | str],
    variant: str = "vanilla",
    *,
    unit: int | None = None,
    step: int | None = None,
    projector: bool = False,
    width: int | None = None,
) -> go.Figure:
    """The cell diagram of ``variant`` with the live values of one unit at one step.

    values: scalars for the unit: c_prev, h_prev, x (a float, a short string or a short
    vector), i, f, g, o, c, h (and m with a projection) for the LSTM family; h_prev, x, r, z, n, h
    for "gru"; h_prev, x, h for "rnn". Missing values show as "–". Title: "unit 5 at step 37".
    width: figure width in px (height = 0.6 x width); fonts and lines scale with it, so show the
    figure at this size (not stretched to a container). Default 1000, projector 1300.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    if width is None:
        width = 1300 if projector else 1000
    canvas = _Canvas(projector, width_px=int(width))
    if variant == "gru":
        _gru(canvas, values)
    elif variant == "rnn":
        _rnn(canvas, values)
    else:
        _lstm(canvas, values, variant)
    where = []
    if unit is not None:
        where.append(f"unit {unit}")
    if step is not None:
        where.append(f"at step {step}")
    title = f"<b>{VARIANT_TITLES[variant]}</b>"
    if where:
        title += "  ·  " + " ".join(where)
    fig = canvas.figure(title)
    fig.update_layout(meta={"variant": variant, "unit": unit, "step": step})
    return fig
