"""The drawing surface of the cell diagram: a 20 x 11 canvas of plotly shapes and annotations,
its layout (rows, columns), and the parts every cell shares (the frame, the inputs, the state line).

Drawing only: every number arrives ready (:func:`lstm_viz.teaching.step.derived_numbers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from . import style

WIDTH, HEIGHT = 20.0, 11.0  # canvas in data units (1 unit = 50 px at the default size)
CELL_Y = 9.0  # the cell-state line
BUS_Y = 2.2  # the [h_{t-1}, x_t] line
GATE_Y = 4.5  # centre of the gate boxes
MID_Y = 7.0  # the row of ×(i·g), 1−i and tanh(c)
X_IN = 3.2  # where x_t joins the bus
GATE_X = {"f": 5.0, "i": 7.3, "g": 9.6, "o": 11.9}
PLUS_X = GATE_X["g"]
OUT_X = 14.8  # tanh(c_t) and × o
R_NODE = 0.38
GREY_FILL = "#eceef1"
CELL_FILL = "#f6f8fa"
LINE = "#3d4450"  # connections that carry [h, x]
SUB = {"t-1": "t−1", "t+1": "t+1", "t": "t"}
PREVIOUS = "t-1"  # where the previous state comes from: "t+1" for the backward direction


def sub(symbol: str, index: str) -> str:
    """'c', 't-1' -> 'c<sub>t−1</sub>'."""
    return f"{symbol}<sub>{SUB.get(index, index)}</sub>"


def format_x(value: object) -> str:
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


@dataclass
class Canvas:
    """Collects shapes and annotations in data coordinates, then builds the figure in one go."""

    projector: bool
    width_px: int = 1000
    previous: str = PREVIOUS  # "t+1" backwards: every "_{t−1}" label then reads "_{t+1}"
    shapes: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)

    @property
    def k(self) -> float:
        """Scale of fonts and line widths: the figure width over the 1000 px reference."""
        return self.width_px / 1000

    def px(self, size: float) -> float:
        """A font size in px (1.5x on a projector)."""
        return size * self.k * (1.5 if self.projector else 1.0)

    def lw(self, width: float) -> float:
        """A line width in px (30% thicker on a projector)."""
        return width * self.k * (1.3 if self.projector else 1.0)

    def path(
        self,
        points: Sequence[tuple[float, float]],
        colour: str = LINE,
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
        self.disc(cx, cy, r, fill, {"color": border or colour, "width": self.lw(1.8)}, name)
        self.text(cx, cy, symbol, size=size, colour=colour, name=f"{name}_symbol")

    def dot(self, cx: float, cy: float, colour: str = LINE) -> None:
        """A junction dot where a line splits."""
        self.disc(cx, cy, 0.09, colour, {"width": 0})

    def disc(self, cx: float, cy: float, r: float, fill: str, line: dict,
             name: str | None = None) -> None:
        """A filled circle of radius r centred on (cx, cy)."""
        shape = {"type": "circle", "xref": "x", "yref": "y", "x0": cx - r, "x1": cx + r,
                 "y0": cy - r, "y1": cy + r, "fillcolor": fill, "line": line, "layer": "below"}
        if name is not None:
            shape["name"] = name
        self.shapes.append(shape)

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
        if self.previous != PREVIOUS:     # the backward direction reads its state from t + 1
            text = text.replace(f"<sub>{SUB[PREVIOUS]}</sub>",
                                f"<sub>{SUB.get(self.previous, self.previous)}</sub>")
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
            self.box(cx, cy, w, h, GREY_FILL, style.MUTED, dash="dot", name=f"box_{key}")
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
        # Our own shapes and annotations, checked once by the tests (test_diagram_is_valid_plotly):
        # validating ~700 of them again at every step costs ~50 ms, most of a step's budget.
        return go.Figure(layout=self.layout(title), _validate=False)

    def layout(self, title: str) -> dict:
        """The figure's layout as a plain dict (what :meth:`figure` wraps; SVG frames read it)."""
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
                "font": {"size": self.px(18), "color": style.INK},
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
        return layout

def input_labels(canvas: Canvas, h_prev: float | None, x: object, h_col: str) -> None:
    """The two inputs every cell reads: h_{t-1} on the bus, x_t at the bottom."""
    canvas.text(0.3, BUS_Y + 0.15, f"{sub('h', 't-1')} = {style.fmt(h_prev)}", 15, h_col,
                "left", "bottom", name="label_h_prev")
    canvas.text(X_IN + 0.2, 0.35, f"{sub('x', 't')} = {format_x(x)}", 15, style.COLORS["x"],
                "left", "middle", name="label_x")


def cell_frame(canvas: Canvas) -> None:
    """The cell: a light rounded frame behind everything one step computes."""
    canvas.box(10.0, 5.65, 15.0, 9.1, CELL_FILL, "#c9ced6", radius=0.5, width=1.2, name="cell")


def state_line(
    canvas: Canvas,
    state: str,
    gate: str,
    x_mul: float,
    x_add: float,
    colour: str,
    *,
    prev: float | None,
    kept: float | None,
    new: float | None,
) -> None:
    """The state line across the top: state_{t-1} -> × gate -> + -> state_t, with its labels.

    The LSTM's cell state ("c", kept by the forget gate "f") and the GRU's state ("h", kept by
    the update gate "z") share this drawing. prev, kept and new are state_{t-1},
    gate·state_{t-1} (shown between × and +) and state_t. What enters the + from below
    (i·g, (1−z)·n) is drawn by the caller.
    """
    thick = 4.0
    kept_name = f"{gate}{state}"  # "fc", "zh": what the gate keeps of the old state
    canvas.path([(0.3, CELL_Y), (x_mul - R_NODE, CELL_Y)], colour, thick, name=f"{state}_in")
    canvas.path([(x_mul + R_NODE, CELL_Y), (x_add - R_NODE, CELL_Y)], colour, thick, name=kept_name)
    canvas.path([(x_add + R_NODE, CELL_Y), (19.7, CELL_Y)], colour, thick, name=f"{state}_out")
    canvas.circle(x_mul, CELL_Y, R_NODE, "×", name=f"mul_{gate}")
    canvas.circle(x_add, CELL_Y, R_NODE, "+", name="add")
    canvas.text(
        0.3,
        CELL_Y + 0.2,
        f"{sub(state, 't-1')} = {style.fmt(prev)}",
        15,
        colour,
        "left",
        "bottom",
        name=f"label_{state}_prev",
    )
    canvas.text(
        (x_mul + x_add) / 2,
        CELL_Y + 0.2,
        f"{gate}·{sub(state, 't-1')} = {style.fmt(kept)}",
        13,
        colour,
        "center",
        "bottom",
        name=f"label_{kept_name}",
    )
    state_label(canvas, CELL_Y, state, new, colour)


def write_into_state(canvas: Canvas, x: float, plus_x: float, top: float, gate: str,
                     colour: str, label: str, mul_name: str, name: str) -> None:
    """What a gate box writes: up from its top into a ×, then into the state line's + (i·g,
    (1−z)·n), labelled half way."""
    canvas.path([(x, top), (x, MID_Y - R_NODE)], style.color(gate), 2.2, name=f"{gate}_out")
    canvas.circle(x, MID_Y, R_NODE, "×", name=mul_name)
    canvas.path([(x, MID_Y + R_NODE), (plus_x, CELL_Y - R_NODE)], colour, 2.2, name=name)
    canvas.text(x + 0.2, (MID_Y + CELL_Y) / 2, label, 13, colour, "left", "middle",
                name=f"label_{name}")


def state_label(canvas: Canvas, y: float, state: str, value: float | None, colour: str) -> None:
    """The new state at the right end of its line: "c_t = 0.42" in bold."""
    canvas.text(19.7, y + 0.2, f"<b>{sub(state, 't')} = {style.fmt(value)}</b>", 15, colour,
                "right", "bottom", name=f"label_{state}")
