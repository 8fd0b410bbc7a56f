"""A figure of shapes and annotations (the cell diagram) as one static SVG string.

While playing, the cell diagram changes ten times a second. Redrawn by plotly.js, each step
re-measures ~40 annotations in the browser (about 150 ms of a 2-core machine's time: play crawls
at 5 steps a second). The same drawing as SVG markup is parsed and laid out natively in a few ms.

Only what :mod:`lstm_viz.plots.diagram` draws is supported: a fixed, equal-aspect data canvas
(``xaxis.range``, ``yaxis.range``, ``scaleanchor``, ``constrain="domain"``), shapes of type
``path`` (M, L, Q, C, Z commands), ``circle``, ``rect`` and ``line``, text annotations
(``<b>``, ``<i>``, ``<sub>``, ``<sup>``, ``<br>``, ``<span style="color; font-size">``) and arrow
annotations (``ax``/``ay`` in data coordinates), plus the title. The figure itself stays the
source of truth, and the export.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from typing import Any

import numpy as np
import plotly.graph_objects as go

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
_LINE_HEIGHT = 1.3          # em, between the lines of a multi-line annotation (as plotly)


class _Frame:
    """Data coordinates -> SVG pixels for an equal-aspect canvas centred in the plot area."""

    def __init__(self, layout: dict) -> None:
        self.width = float(layout.get("width") or 700)
        self.height = float(layout.get("height") or 450)
        m = {"l": 80, "r": 80, "t": 100, "b": 80, **(layout.get("margin") or {})}
        x0, x1 = layout["xaxis"]["range"]
        y0, y1 = layout["yaxis"]["range"]
        area_w = self.width - m["l"] - m["r"]
        area_h = self.height - m["t"] - m["b"]
        self.scale = min(area_w / (x1 - x0), area_h / (y1 - y0))
        self.x0, self.y1 = x0, y1
        self.left = m["l"] + (area_w - (x1 - x0) * self.scale) / 2
        self.top = m["t"] + (area_h - (y1 - y0) * self.scale) / 2

    def x(self, x: float) -> float:
        return self.left + (x - self.x0) * self.scale

    def y(self, y: float) -> float:
        return self.top + (self.y1 - y) * self.scale


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _dasharray(dash: str | None, width: float) -> str:
    """plotly.js's dash patterns (Drawing.dashStyle): multiples of max(width, 3)."""
    u = max(width, 3.0)
    pattern = {"dot": (u, u), "dash": (3 * u, 3 * u), "longdash": (5 * u, 5 * u),
               "dashdot": (3 * u, u, u, u), "longdashdot": (5 * u, 2 * u, u, 2 * u)}.get(dash or "")
    return f' stroke-dasharray="{",".join(_num(p) for p in pattern)}"' if pattern else ""


def _stroke(line: dict | None) -> str:
    line = line or {}
    width = float(line.get("width", 2) if line.get("width") is not None else 2)
    if width <= 0:
        return ' stroke="none"'
    colour = line.get("color") or "#444"
    return (f' stroke="{escape(colour)}" stroke-width="{_num(width)}"'
            f"{_dasharray(line.get('dash'), width)}")


def _path(d: str, frame: _Frame) -> str:
    """A plotly shape path in data coordinates, in pixels (pairs of numbers are x, y)."""
    out, numbers = [], []

    def flush() -> None:
        for k in range(0, len(numbers) - 1, 2):
            out.append(f"{_num(frame.x(numbers[k]))},{_num(frame.y(numbers[k + 1]))}")
        numbers.clear()

    for token in re.findall(r"[MLQCZmlqcz]|" + _NUMBER.pattern, d):
        if token.isalpha():
            flush()
            out.append(token.upper())
        else:
            numbers.append(float(token))
    flush()
    return " ".join(out)


def _shape(shape: dict, frame: _Frame) -> str:
    kind = shape.get("type", "path")
    fill = shape.get("fillcolor") or "none"
    style = f' fill="{escape(fill)}"{_stroke(shape.get("line"))}'
    if kind == "path":
        return f'<path d="{_path(shape["path"], frame)}"{style}/>'
    x0, x1 = frame.x(shape["x0"]), frame.x(shape["x1"])
    y0, y1 = frame.y(shape["y0"]), frame.y(shape["y1"])
    if kind == "circle":
        return (f'<ellipse cx="{_num((x0 + x1) / 2)}" cy="{_num((y0 + y1) / 2)}" '
                f'rx="{_num(abs(x1 - x0) / 2)}" ry="{_num(abs(y1 - y0) / 2)}"{style}/>')
    if kind == "rect":
        return (f'<rect x="{_num(min(x0, x1))}" y="{_num(min(y0, y1))}" '
                f'width="{_num(abs(x1 - x0))}" height="{_num(abs(y1 - y0))}"{style}/>')
    return (f'<line x1="{_num(x0)}" y1="{_num(y0)}" x2="{_num(x1)}" y2="{_num(y1)}"'
            f"{_stroke(shape.get('line'))}/>")


class _Runs(HTMLParser):
    """plotly's text markup -> lines of (text, attributes) runs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[list[tuple[str, dict]]] = [[]]
        self.stack: list[dict] = [{}]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.lines.append([])
            return
        top = dict(self.stack[-1])
        if tag == "b":
            top["font-weight"] = "bold"
        elif tag == "i":
            top["font-style"] = "italic"
        elif tag in ("sub", "sup"):
            top["baseline-shift"] = "-0.3em" if tag == "sub" else "0.5em"
            top["font-size"] = "70%"
        elif tag == "span":
            for item in (dict(attrs).get("style") or "").split(";"):
                name, _, value = item.partition(":")
                name, value = name.strip(), value.strip()
                if name == "color":
                    top["fill"] = value
                elif name == "font-size":
                    top["font-size"] = value
        self.stack.append(top)

    def handle_endtag(self, tag: str) -> None:
        if tag != "br" and len(self.stack) > 1:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data:
            self.lines[-1].append((data, self.stack[-1]))


@lru_cache(maxsize=4096)
def _lines(text: str) -> list[list[tuple[str, dict]]]:
    """A label's markup as lines of runs, parsed once per distinct label (most of a diagram's
    labels are the same at every step: SVG frames of many steps parse each once). Read only."""
    parser = _Runs()
    parser.feed(text)
    parser.close()
    return parser.lines


def _tspans(runs: list[tuple[str, dict]]) -> str:
    parts = []
    for text, attrs in runs:
        extra = "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items())
        parts.append(f"<tspan{extra}>{escape(text, quote=False)}</tspan>" if extra
                     else escape(text, quote=False))
    return "".join(parts)


_ANCHOR = {"left": "start", "center": "middle", "right": "end"}


def _text(x: float, y: float, text: str, font: dict, xanchor: str, yanchor: str) -> str:
    """A (multi-line) label anchored at pixel (x, y) as plotly anchors an annotation."""
    lines = _lines(text)
    size = float(font.get("size") or 12)
    n = len(lines)
    # the baseline of the first line, from the anchor: plotly centres the block of n lines
    block = (n - 1) * _LINE_HEIGHT
    first = {"top": 0.8, "bottom": -block - 0.25, "middle": 0.35 - block / 2}.get(yanchor, 0.35)
    attrs = (f' font-size="{_num(size)}" fill="{escape(font.get("color") or "#444")}"'
             f' text-anchor="{_ANCHOR.get(xanchor, "middle")}"')
    if font.get("family"):
        attrs += f' font-family="{escape(font["family"])}"'
    spans = []
    for k, runs in enumerate(lines):
        dy = first if k == 0 else _LINE_HEIGHT
        spans.append(f'<tspan x="{_num(x)}" dy="{_num(dy)}em">{_tspans(runs) or " "}</tspan>')
    return f'<text x="{_num(x)}" y="{_num(y)}"{attrs}>{"".join(spans)}</text>'


def _arrow(note: dict, frame: _Frame) -> str:
    """An arrow annotation: a line from (ax, ay) to (x, y) with plotly's head style 2."""
    x1, y1 = frame.x(note["x"]), frame.y(note["y"])
    x0, y0 = frame.x(note["ax"]), frame.y(note["ay"])
    colour = escape(note.get("arrowcolor") or "#444")
    width = float(note.get("arrowwidth") or 1)
    s = width * float(note.get("arrowsize") or 1)
    length = float(np.hypot(x1 - x0, y1 - y0)) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    # head 2 of plotly.js ("M-3.7,-2.5V2.5L1.3,0Z", scaled by width x size): tip at the point
    back, half, tip = 3.7 * s, 2.5 * s, 1.3 * s
    bx, by = x1 - ux * (back + tip), y1 - uy * (back + tip)
    head = [(x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
    ex, ey = x1 - ux * tip, y1 - uy * tip
    line = (f'<line x1="{_num(x0)}" y1="{_num(y0)}" x2="{_num(ex)}" y2="{_num(ey)}" '
            f'stroke="{colour}" stroke-width="{_num(width)}"/>')
    points = " ".join(f"{_num(px)},{_num(py)}" for px, py in head)
    return line + f'<polygon points="{points}" fill="{colour}"/>'


def figure_svg(fig: go.Figure | dict[str, Any], *, label: str = "") -> str:
    """The figure's title, shapes and annotations as an ``<svg>`` element (a string).

    The SVG scales down to its container (``max-width: 100%``) and keeps its aspect.
    ``label`` becomes its accessible name (``aria-label``).
    """
    layout = (fig.to_plotly_json() if isinstance(fig, go.Figure) else fig)["layout"]
    frame = _Frame(layout)
    font = layout.get("font") or {}
    family = font.get("family") or "sans-serif"
    paper = layout.get("paper_bgcolor") or "#ffffff"
    w, h = _num(frame.width), _num(frame.height)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
             f'height="{h}" role="img" aria-label="{escape(label)}" font-family="{escape(family)}"'
             ' style="max-width:100%;height:auto;display:block;white-space:pre">',
             f'<rect width="100%" height="100%" fill="{escape(paper)}"/>']
    shapes = layout.get("shapes") or []
    for layer in ("below", "above"):
        parts.extend(_shape(s, frame) for s in shapes
                     if s.get("visible", True) is not False and s.get("layer", "above") == layer)
    for note in layout.get("annotations") or []:
        if note.get("visible", True) is False:
            continue
        if note.get("showarrow") and "ax" in note:
            parts.append(_arrow(note, frame))
        if note.get("text"):
            parts.append(_text(frame.x(note["x"]), frame.y(note["y"]), note["text"],
                               {**font, **(note.get("font") or {})},
                               note.get("xanchor", "center"), note.get("yanchor", "middle")))
    title = layout.get("title") or {}
    if title.get("text"):
        parts.append(_text(float(title.get("x", 0.02)) * frame.width,
                           (1 - float(title.get("y", 0.97))) * frame.height, title["text"],
                           {**font, **(title.get("font") or {})}, title.get("xanchor", "left"),
                           title.get("yanchor", "top")))
    parts.append("</svg>")
    return "".join(parts)
