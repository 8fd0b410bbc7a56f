"""The cell diagram (after Olah, "Understanding LSTM Networks") with the live values of one unit.

Drawn with plotly shapes and annotations on a fixed 20 x 11 canvas (axes hidden, no zoom,
:mod:`.canvas`): the cell-state line across the top, the gate boxes fed by [h_{t-1}, x_t] below it,
the output path on the right. Every box and every arrow end shows its number; gate boxes are
filled with their colour at an intensity following the value. What a variant changes (peepholes,
coupled gates, removed gates and activations) comes from its row of the variant table
(:mod:`.diagram_lstm`); "gru" and "rnn" get their own diagrams, here. The numbers between the
traced ones (1 − i, tanh c, i·g ...) come from :func:`lstm_viz.teaching.step.derived_numbers`.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from lstm_viz.core import VARIANTS, Variant
from lstm_viz.core import variant as variant_row
from lstm_viz.teaching.equations import TITLES
from lstm_viz.teaching.numbers import IDENTITY
from lstm_viz.teaching.step import UnitStep, derived_numbers

from . import style
from .canvas import (
    BUS_Y,
    CELL_Y,
    GATE_Y,
    HEIGHT,
    LINE,
    MID_Y,
    R_NODE,
    WIDTH,
    X_IN,
    Canvas,
    cell_frame,
    format_x,
    input_labels,
    state_label,
    state_line,
    sub,
    write_into_state,
)
from .diagram_lstm import lstm_cell

__all__ = ["HEIGHT", "VARIANTS", "WIDTH", "cell_diagram", "cell_layout", "diagram_title"]


def diagram_title(row: Variant) -> str:
    """The diagram's title for a variant: its family and what its row changes, with the rule."""
    if row.family == "gru":
        return "GRU"
    if row.family == "rnn":
        return "RNN (tanh)"
    changes = []
    if row.peephole:
        changes.append("with peepholes")
    if row.coupled:
        changes.append("with coupled input-forget gate (f = 1 − i)")
    changes += [f"without {TITLES[k]} ({k} = 1)" for k in row.fixed]
    if row.input_activation == IDENTITY:
        changes.append("without input activation (g = z<sub>g</sub>)")
    if row.output_activation == IDENTITY:
        changes.append("without output activation (h = o·c)")
    return " ".join(("LSTM", *changes))


def gru_cell(canvas: Canvas, values: dict) -> None:
    h_prev = values["h_prev"]
    r, z, n, h = (values[k] for k in ("r", "z", "n", "h"))
    h_col, normal = style.color("h"), 2.2
    zx, rx, mx, nx, plus_x = 5.0, 8.0, 10.6, 13.2, 13.2
    top, bottom = GATE_Y + 0.775, GATE_Y - 0.775
    cell_frame(canvas)

    # the state line h_{t-1} -> × z -> + (1−z)·n -> h_t
    state_line(canvas, "h", "z", zx, plus_x, h_col, prev=h_prev, kept=values["kept"], new=h)

    # h_{t-1} also drops down into the bus, x_t joins from below
    drop_x = 3.0
    canvas.dot(drop_x, CELL_Y, h_col)
    canvas.path(
        [(drop_x, CELL_Y), (drop_x, BUS_Y), (nx, BUS_Y)], LINE, normal, arrow=False, name="bus"
    )
    canvas.path([(X_IN + 0.6, 0.25), (X_IN + 0.6, BUS_Y)], LINE, normal, arrow=False, name="x_in")
    canvas.dot(X_IN + 0.6, BUS_Y)
    canvas.dot(drop_x, BUS_Y)
    canvas.text(
        X_IN + 0.8,
        0.35,
        f"{sub('x', 't')} = {format_x(values.get('x'))}",
        15,
        style.COLORS["x"],
        "left",
        "middle",
        name="label_x",
    )
    for x, name in ((zx, "z"), (rx, "r"), (mx, "hn"), (nx, "n")):
        end = GATE_Y - R_NODE if name == "hn" else bottom
        canvas.path([(x, BUS_Y), (x, end)], LINE, normal, name=f"feed_{name}")
        if x != nx:
            canvas.dot(x, BUS_Y)
    canvas.text(
        mx + 0.15,
        BUS_Y + 0.55,
        f"W<sub>hn</sub>{sub('h', 't-1')}",
        11,
        style.MUTED,
        "left",
        "middle",
        name="note_whn",
    )
    canvas.text(
        nx + 0.15,
        BUS_Y + 0.55,
        f"W<sub>in</sub>{sub('x', 't')}",
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
        f"1−z = {style.fmt(values['one_minus_z'])}",
        12,
        z_col,
        "center",
        "bottom",
        name="label_one_minus_z",
    )
    write_into_state(canvas, nx, plus_x, top, "n", h_col,
                     f"(1−z)·n = {style.fmt(values['zn'])}", "mul_n", "zn")
    # r gates the recurrent part of the candidate
    canvas.path(
        [(rx + 0.95, GATE_Y), (mx - R_NODE, GATE_Y)], style.color("r"), normal, name="r_out"
    )
    canvas.circle(mx, GATE_Y, R_NODE, "×", name="mul_r")
    canvas.path([(mx + R_NODE, GATE_Y), (nx - 0.95, GATE_Y)], LINE, normal, name="r_hn")
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


def rnn_cell(canvas: Canvas, values: dict) -> None:
    h_prev, h = values["h_prev"], values["h"]
    h_col, normal, thick = style.color("h"), 2.2, 4.0
    bx = 10.0
    cell_frame(canvas)
    canvas.path([(0.3, BUS_Y), (bx, BUS_Y)], LINE, normal, arrow=False, name="bus")
    canvas.path([(X_IN, 0.25), (X_IN, BUS_Y)], LINE, normal, arrow=False, name="x_in")
    canvas.dot(X_IN, BUS_Y)
    canvas.path([(bx, BUS_Y), (bx, GATE_Y - 0.9)], LINE, normal, name="feed")
    fill = style.gate_fill("h", 0.0 if h is None else min(1.0, abs(h)))
    ink = style.text_on(fill)
    canvas.box(bx, GATE_Y, 3.2, 1.8, fill, style.darken(h_col, 0.2), width=2.0, name="box_tanh")
    canvas.text(
        bx,
        GATE_Y + 0.5,
        f"tanh(W<sub>ih</sub>{sub('x', 't')} + W<sub>hh</sub>{sub('h', 't-1')} + b)",
        12,
        ink,
        name="act_tanh",
    )
    canvas.text(bx, GATE_Y - 0.35, f"<b>h = {style.fmt(h)}</b>", 17, ink, name="value_h")
    canvas.path([(bx, GATE_Y + 0.9), (bx, CELL_Y), (19.7, CELL_Y)], h_col, thick, name="h_out")
    input_labels(canvas, h_prev, values.get("x"), h_col)
    state_label(canvas, CELL_Y, "h", h, h_col)
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


HELD_INK = "#d6336c"      # the outline and tag of a held quantity
TAG_W, TAG_H = 2.4, 0.7   # the outline around a state's label ("c_t = 0.42"), canvas units


def mark_held(canvas: Canvas, held: Mapping[str, float]) -> None:
    """Outline each held quantity's node (its gate box, or its state's label) and tag it "held
    at v"; a quantity the diagram does not draw is skipped."""
    notes = {n.get("name"): n for n in canvas.notes}
    for name, value in held.items():
        tag = f"<b>held at {style.fmt(float(value))}</b>"
        gate = notes.get(f"value_{name}")
        if gate is not None and f"name_{name}" in notes:     # a gate box, 1.9 x 1.55
            cx, cy = gate["x"], gate["y"] + 0.45
            x0, x1, y0, y1 = cx - 1.1, cx + 1.1, cy - 0.92, cy + 0.92
            tx, ty, anchor, valign = cx, y1 + 0.05, "center", "bottom"
        elif (label := notes.get(f"label_{name}")) is not None:
            x, y = label["x"], label["y"]
            x0 = {"right": x - TAG_W, "center": x - TAG_W / 2}.get(label["xanchor"], x - 0.15)
            x1 = x0 + TAG_W + 0.15
            y0 = {"bottom": y - 0.12, "top": y - TAG_H}.get(label["yanchor"], y - TAG_H / 2)
            y1 = y0 + TAG_H + 0.12
            tx, ty, anchor, valign = x1, y1 + 0.05, "right", "bottom"
        else:
            continue
        canvas.shapes.append({
            "type": "rect", "xref": "x", "yref": "y", "x0": x0, "x1": x1, "y0": y0, "y1": y1,
            "line": {"color": HELD_INK, "width": canvas.lw(3.0), "dash": "solid"},
            "fillcolor": "rgba(0,0,0,0)", "layer": "above", "name": f"held_{name}"})
        canvas.text(tx, ty, tag, 13, HELD_INK, anchor, valign, name=f"held_tag_{name}")


def cell_diagram(
    values: Mapping[str, object] | UnitStep,
    variant: str = "vanilla",
    *,
    unit: int | None = None,
    step: int | None = None,
    projector: bool = False,
    width: int | None = None,
    held: Mapping[str, float] | None = None,
) -> go.Figure:
    """The cell diagram of ``variant`` with the live values of one unit at one step.

    values: the unit's :class:`~lstm_viz.teaching.step.UnitStep`, or its scalars: c_prev, h_prev,
    x (a float, a short string or a short vector), i, f, g, o, c, h (and m with a projection) for
    the LSTM family; h_prev, x, r, z, n, h for "gru"; h_prev, x, h for "rnn". Missing values
    show as "–". Title: "unit 5 at step 37".
    width: figure width in px (height = 0.6 x width); fonts and lines scale with it, so show the
    figure at this size (not stretched to a container). Default 1000, projector 1300.
    """
    return go.Figure(layout=cell_layout(values, variant, unit=unit, step=step,
                                        projector=projector, width=width, held=held),
                     _validate=False)


def cell_layout(values: Mapping[str, object] | UnitStep, variant: str = "vanilla", *,
                unit: int | None = None, step: int | None = None, projector: bool = False,
                width: int | None = None, held: Mapping[str, float] | None = None) -> dict:
    """:func:`cell_diagram`'s layout as a plain dict, without building a plotly figure (the
    SVG frames of many steps read it: a ``go.Figure`` costs most of a step's drawing)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    row = variant_row(variant)
    numbers = (values.diagram() if isinstance(values, UnitStep)
               else derived_numbers(values, variant))
    if width is None:
        width = 1300 if projector else 1000
    canvas = Canvas(projector, width_px=int(width))
    canvas.previous = numbers.get("previous") or canvas.previous     # t+1 when backward
    if row.is_lstm:
        lstm_cell(canvas, numbers, row)
    elif row.family == "gru":
        gru_cell(canvas, numbers)
    else:
        rnn_cell(canvas, numbers)
    if held:
        mark_held(canvas, held)
    where = []
    if unit is not None:
        where.append(f"unit {unit}")
    if step is not None:
        where.append(f"at step {step}")
    title = f"<b>{diagram_title(row)}</b>"
    if where:
        title += "  ·  " + " ".join(where)
    layout = canvas.layout(title)
    layout["meta"] = {"variant": variant, "unit": unit, "step": step}
    return layout
