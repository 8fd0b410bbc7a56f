"""The cell diagram of many steps as one SVG template and, per step, the strings that change.

The browser steps through a window of the sequence with no server round trip
(:mod:`lstm_viz.ui.stepper`): it receives, once, the diagram as the fixed parts of its SVG
markup and, for every step, the few elements that differ (the numbers, the gate fills, the
title's step). Each step's SVG is drawn by the same code as the server's diagram
(:func:`~lstm_viz.plots.diagram.cell_layout`, the layout of ``cell_diagram``, ->
:func:`~lstm_viz.plots.svg.figure_svg`), so no
diagram logic exists in JavaScript: the browser only joins strings.

Frames: ``{"parts": [p0, ..., pk], "table": [s0, s1, ...], "slots": [[i, ...] per step]}``;
step t's SVG is ``p0 + table[slots[t][0]] + p1 + ... + table[slots[t][k-1]] + pk``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lstm_viz.teaching.step import UnitStep

from .diagram import cell_layout
from .svg import figure_svg

_TOKEN = re.compile(r"(<[^>]*>)")        # an SVG string as tags and the text between them


def svg_frames(svgs: Sequence[str]) -> dict:
    """SVG strings of one drawing at several steps as a template and each step's differences.

    When the steps do not share one structure (a number missing at one step drops an element),
    each step's whole SVG is its one varying piece: still correct, only larger.
    """
    if not svgs:
        return {"parts": ["", ""], "table": [], "slots": []}
    split = [_TOKEN.split(s) for s in svgs]
    n = len(split[0])
    if any(len(tokens) != n for tokens in split):
        split = [[s] for s in svgs]
        n = 1
    first = split[0]
    varying = [k for k in range(n) if any(tokens[k] != first[k] for tokens in split[1:])]
    parts, prev = [], 0
    for k in varying:
        parts.append("".join(first[prev:k]))
        prev = k + 1
    parts.append("".join(first[prev:]))
    table: list[str] = []
    index: dict[str, int] = {}
    slots = []
    for tokens in split:
        row = []
        for k in varying:
            row.append(index.setdefault(tokens[k], len(index)))
            if row[-1] == len(table):
                table.append(tokens[k])
        slots.append(row)
    return {"parts": parts, "table": table, "slots": slots}


def frame_svg(frames: dict, k: int) -> str:
    """The SVG of the ``k``-th step of ``frames`` (what the browser does, for the tests)."""
    table, slots, parts = frames["table"], frames["slots"][k], frames["parts"]
    out = [parts[0]]
    for j, i in enumerate(slots):
        out += [table[i], parts[j + 1]]
    return "".join(out)


def diagram_frames(numbers: Sequence[UnitStep], variant: str, *, unit: int,
                   projector: bool = False, width: int | None = None) -> dict:
    """The cell diagram of ``unit`` at each step of ``numbers`` (one UnitStep a step) as frames
    (see the module's docstring): exactly the SVG the server's live view draws at that step."""
    svgs = [figure_svg({"layout": cell_layout(u, variant, unit=unit, step=u.step,
                                              projector=projector, width=width)},
                       label=f"cell diagram of unit {unit} at step {u.step}") for u in numbers]
    return svg_frames(svgs)
