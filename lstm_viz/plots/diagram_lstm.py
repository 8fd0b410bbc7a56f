"""The LSTM family's cell diagram: the cell-state line, the gate boxes, the output path, and what
the variant changes (peepholes, a coupled forget gate, gates held at 1, no activation), read from
the variant table's row. Drawing only: the numbers come from
:func:`lstm_viz.teaching.step.derived_numbers`.
"""

from __future__ import annotations

from lstm_viz.core import Variant
from lstm_viz.teaching.numbers import IDENTITY

from . import style
from .canvas import (
    BUS_Y,
    CELL_Y,
    GATE_X,
    GATE_Y,
    GREY_FILL,
    LINE,
    MID_Y,
    OUT_X,
    PLUS_X,
    R_NODE,
    X_IN,
    Canvas,
    cell_frame,
    input_labels,
    state_label,
    state_line,
    sub,
    write_into_state,
)


def lstm_cell(canvas: Canvas, values: dict, row: Variant) -> None:
    """Draw the LSTM-family cell of ``row`` with ``values`` from ``derived_numbers``."""
    c_prev, h_prev = values["c_prev"], values["h_prev"]
    i, f, g, o = (values[k] for k in "ifgo")
    c, h, m = values["c"], values["h"], values["m"]
    tanh_c = values["act_c"]
    fixed, coupled = row.fixed, row.coupled
    raw_c = row.output_activation == IDENTITY
    has_proj = values["has_m"]
    c_col, h_col = style.color("c"), style.color("h")
    thick, normal = 4.0, 2.2
    fx, ix, gx, ox = (GATE_X[k] for k in "figo")
    top = GATE_Y + 0.775  # top of the gate boxes
    bottom = GATE_Y - 0.775

    cell_frame(canvas)

    # cell-state line: c_{t-1} -> ×f -> +(i·g) -> c_t
    state_line(canvas, "c", "f", fx, PLUS_X, c_col, prev=c_prev, kept=values["kept"], new=c)

    # bus [h_{t-1}, x_t] feeding every gate box from below
    fed = [k for k in "figo" if k not in fixed and not (coupled and k == "f")]
    canvas.path([(0.3, BUS_Y), (GATE_X[fed[-1]], BUS_Y)], LINE, normal, arrow=False, name="bus")
    canvas.path([(X_IN, 0.25), (X_IN, BUS_Y)], LINE, normal, arrow=False, name="x_in")
    canvas.dot(X_IN, BUS_Y)
    for k in fed:
        canvas.path([(GATE_X[k], BUS_Y), (GATE_X[k], bottom)], LINE, normal, name=f"feed_{k}")
        if GATE_X[k] != GATE_X[fed[-1]]:
            canvas.dot(GATE_X[k], BUS_Y)
    input_labels(canvas, h_prev, values.get("x"), h_col)
    canvas.text(
        X_IN + 0.9,
        BUS_Y - 0.12,
        f"[{sub('h', 't-1')}, {sub('x', 't')}]",
        11,
        style.MUTED,
        "center",
        "top",
        name="label_bus",
    )

    # forget gate (or 1 − i when coupled) into ×f
    if coupled:
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
        canvas.gate(fx, GATE_Y, "f", "forget gate", "σ", f, removed="f" in fixed)
        canvas.path(
            [(fx, top), (fx, CELL_Y - R_NODE)],
            style.MUTED if "f" in fixed else style.color("f"),
            normal,
            dash="dot" if "f" in fixed else "solid",
            name="f_out",
        )

    # input gate and candidate into ×, then up into +
    canvas.gate(ix, GATE_Y, "i", "input gate", "σ", i, removed="i" in fixed)
    g_act = row.input_activation
    canvas.gate(gx, GATE_Y, "g", "candidate", g_act, g, signed=True)
    i_col = style.MUTED if "i" in fixed else style.color("i")
    canvas.path(
        [(ix, top), (ix, MID_Y), (gx - R_NODE, MID_Y)],
        i_col,
        normal,
        dash="dot" if "i" in fixed else "solid",
        name="i_out",
    )
    write_into_state(canvas, gx, PLUS_X, top, "g", c_col, f"i·g = {style.fmt(values['ig'])}",
                     "mul_ig", "ig")

    # output path: c_t -> tanh -> ×o -> h_t
    canvas.gate(ox, GATE_Y, "o", "output gate", "σ", o, removed="o" in fixed)
    o_col = style.MUTED if "o" in fixed else style.color("o")
    canvas.path(
        [(ox + 0.95, GATE_Y), (OUT_X - R_NODE, GATE_Y)],
        o_col,
        normal,
        dash="dot" if "o" in fixed else "solid",
        name="o_out",
    )
    canvas.dot(OUT_X, CELL_Y, c_col)
    pill_w, pill_h = 1.5, 0.75
    if raw_c:
        canvas.box(
            OUT_X,
            MID_Y,
            pill_w,
            pill_h,
            GREY_FILL,
            style.MUTED,
            radius=0.37,
            dash="dot",
            name="tanh_c",
        )
        canvas.text(OUT_X, MID_Y, "no tanh", 12, style.MUTED, name="act_c")
        what = sub("c", "t")
    else:
        canvas.box(OUT_X, MID_Y, pill_w, pill_h, "#ffffff", style.INK, radius=0.37, name="tanh_c")
        canvas.text(OUT_X, MID_Y, "tanh", 14, style.INK, name="act_c")
        what = f"tanh {sub('c', 't')}"
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
        h_note = "h = o·c" if raw_c else "h = o·tanh c"
    state_label(canvas, BUS_Y, "h", h, h_col)
    canvas.text(19.7, BUS_Y - 0.2, h_note, 11, style.MUTED, "right", "top", name="note_h")

    # peepholes: c_{t-1} -> f, i ; c_t -> o (dashed)
    if row.peephole:
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
            "peepholes<br>from " + sub("c", "t-1"),
            11,
            c_col,
            "right",
            "middle",
            name="note_peep_fi",
        )
        canvas.text(
            po_x + 0.15,
            (top + CELL_Y) / 2 + 0.9,
            "peephole<br>from " + sub("c", "t"),
            11,
            c_col,
            "left",
            "middle",
            name="note_peep_o",
        )
