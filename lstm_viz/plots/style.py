"""One colour language for every figure: a colour per quantity, scales, fonts.

Gates (values in [0, 1]) use a sequential scale from near-white to the gate's own colour, so a
gate's heatmap, its title and its box in the cell diagram share one hue. Signed quantities (c, h,
candidates, pre-activations ``z_*``, differences) use one diverging scale centred at 0 with a
symmetric range.
"""

from __future__ import annotations

import numpy as np

from lstm_viz.teaching import numbers

FONT_FAMILY = "Source Sans Pro, Helvetica Neue, Arial, Liberation Sans, DejaVu Sans, sans-serif"
INK = "#1f2328"  # text and lines
MUTED = "#6e7781"  # secondary text, greyed elements
GRID = "#e6e8eb"
PAPER = "#ffffff"

# Okabe-Ito / Tol colours: distinguishable with the common colour-vision deficiencies.
COLORS: dict[str, str] = {
    "f": "#D55E00",  # forget gate: vermillion
    "i": "#009E73",  # input gate: bluish green
    "g": "#AA3377",  # candidate: purple-red
    "o": "#0072B2",  # output gate: blue
    "c": "#E69F00",  # cell state: orange
    "h": "#332288",  # hidden state: indigo
    "r": "#882255",  # GRU reset gate: wine
    "z": "#7A7A00",  # GRU update gate: olive
    "n": "#AA3377",  # GRU candidate: as the LSTM candidate g
    "m": "#44AA99",  # pre-projection output: teal
    "x": "#555555",  # input
}

MODEL_COLORS: dict[str, str] = {
    "LSTM": "#0072B2",
    "GRU": "#009E73",
    "RNN": "#D55E00",
}
_FALLBACK = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555"]

LABELS: dict[str, str] = {
    "f": "forget gate f",
    "i": "input gate i",
    "g": "candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "h": "hidden state h",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "m": "pre-projection output m",
    "x": "input x",
}

GATES = frozenset({"i", "f", "o", "r", "z"})
# Quantities bounded by a tanh in the standard variants: shown on at least [-1, 1].
TANH_BOUNDED = frozenset({"g", "n", "h", "m"})

DIVERGING: list[list[float | str]] = [  # blue (negative) - white (0) - red (positive), RdBu
    [0.0, "#053061"],
    [0.1, "#2166ac"],
    [0.25, "#4393c3"],
    [0.4, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.6, "#f4a582"],
    [0.75, "#d6604d"],
    [0.9, "#b2182b"],
    [1.0, "#67001f"],
]
MAGNITUDE: str = "Viridis"  # for log magnitudes (gradients)


def color(name: str) -> str:
    """Colour of a quantity ("f", "z_f" -> the colour of f, unknown names -> ink)."""
    if name.startswith("z_"):
        name = name[2:]
    return COLORS.get(name, INK)


def model_color(name: str, index: int = 0) -> str:
    """Colour of a model line ("LSTM", "GRU", "RNN"; others from a fallback cycle)."""
    for key, value in MODEL_COLORS.items():
        if name.upper().startswith(key):
            return value
    return _FALLBACK[index % len(_FALLBACK)]


def label(name: str) -> str:
    """Plain-words label: "f" -> "forget gate f", "z_f" -> "pre-activation z_f"."""
    if name in LABELS:
        return LABELS[name]
    if name.startswith("z_"):
        return f"pre-activation {name}"
    return name


def words(name: str) -> str:
    """The label without its symbol: "f" -> "forget gate"."""
    text = label(name)
    suffix = " " + name
    return text[: -len(suffix)] if text.endswith(suffix) and text != name else text


def user_text(text: object, limit: int = 24) -> str:
    """A name the user brought (a CSV header, a character of a text) for a plotly title, tick
    or hover label: clipped to ``limit`` characters, and its ``&``, ``<``, ``>`` as entities,
    since plotly renders tags such as ``<a href>``, ``<b>``, ``<br>`` in text."""
    s = str(text)
    if limit > 0 and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def is_gate(name: str) -> bool:
    """True for quantities in [0, 1] (i, f, o and the GRU's r, z)."""
    return name in GATES


def _hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _rgb_to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{int(round(min(255, max(0, c)))):02x}" for c in rgb)


def mix(color_a: str, color_b: str, t: float) -> str:
    """Linear blend of two hex colours, t=0 -> a, t=1 -> b."""
    t = float(min(1.0, max(0.0, t)))
    a, b = _hex_to_rgb(color_a), _hex_to_rgb(color_b)
    return _rgb_to_hex(tuple(x + (y - x) * t for x, y in zip(a, b, strict=True)))


def darken(value: str, amount: float = 0.35) -> str:
    """The colour blended towards black by ``amount``."""
    return mix(value, "#000000", amount)


def gate_colorscale(name: str) -> list[list[float | str]]:
    """Sequential 0-1 scale of a gate: near-white -> its colour -> a darker shade."""
    base = color(name)
    return [[0.0, "#f7f7f7"], [0.6, base], [1.0, darken(base, 0.3)]]


def gate_fill(name: str, value: float) -> str:
    """Fill of a gate box in the diagram: the gate's own scale evaluated at ``value``."""
    v = float(min(1.0, max(0.0, value))) if np.isfinite(value) else 0.0
    scale = gate_colorscale(name)
    for (p0, c0), (p1, c1) in zip(scale[:-1], scale[1:], strict=True):
        if v <= p1:
            return mix(str(c0), str(c1), (v - float(p0)) / (float(p1) - float(p0)))
    return str(scale[-1][1])


def _luminance(value: str) -> float:
    """WCAG relative luminance of a hex colour."""
    channels = []
    for c in _hex_to_rgb(value):
        c = c / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two hex colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(fill: str) -> str:
    """Dark ink or white text, whichever has the higher contrast on ``fill``."""
    return INK if contrast(INK, fill) >= contrast("#ffffff", fill) else "#ffffff"


def symmetric_limit(values: np.ndarray, name: str = "") -> float:
    """Half-width of a symmetric colour range: max |value|, at least 1 for tanh-bounded names."""
    finite = np.asarray(values)[np.isfinite(values)]
    limit = float(np.max(np.abs(finite))) if finite.size else 1.0
    if name in TANH_BOUNDED:
        limit = max(limit, 1.0)
    return limit if limit > 0 else 1.0


def color_range(name: str, values: np.ndarray) -> dict:
    """Heatmap colour settings for a quantity: zmin, zmax, (zmid,) colorscale.

    Gates -> [0, 1] on the gate's sequential scale; everything else -> diverging, symmetric
    around 0 (zmid = 0).
    """
    if is_gate(name):
        return {"zmin": 0.0, "zmax": 1.0, "colorscale": gate_colorscale(name)}
    limit = symmetric_limit(values, name)
    return {"zmin": -limit, "zmax": limit, "zmid": 0.0, "colorscale": DIVERGING}


def sizes(projector: bool = False) -> dict[str, float]:
    """Font sizes and line widths: normal screen or projector."""
    if projector:        # every font 1.5x: readable from the back row
        return {"font": 21, "title": 27, "small": 18, "tick": 18, "line": 4.0, "thin": 2.5}
    return {"font": 14, "title": 18, "small": 12, "tick": 12, "line": 2.0, "thin": 1.2}


def axis_style(projector: bool = False) -> dict:
    """Axis defaults: few ticks, light grid, no zero line clutter."""
    s = sizes(projector)
    return {
        "nticks": 5 if projector else 7,
        "showgrid": False,
        "zeroline": False,
        "ticks": "outside",
        "ticklen": 4,
        "tickwidth": 2 if projector else 1,
        "tickcolor": INK,
        "linecolor": INK if projector else MUTED,
        "linewidth": 2 if projector else 1,
        "showline": True,
        "tickfont": {"size": s["tick"], "color": INK},
        "title": {"font": {"size": s["font"], "color": INK}},
        "automargin": True,
    }


def base_layout(projector: bool = False) -> dict:
    """Layout shared by every figure (pass to ``fig.update_layout(**base_layout())``).

    Projector: larger fonts, thicker lines, black ink on white (higher contrast), fewer ticks.
    """
    s = sizes(projector)
    axis = axis_style(projector)
    return {
        "template": "none",
        "font": {"family": FONT_FAMILY, "size": s["font"], "color": INK},
        "title": {
            "font": {"size": s["title"], "color": INK},
            "x": 0.0,
            "xanchor": "left",
            "xref": "paper",
        },
        "paper_bgcolor": PAPER,
        "plot_bgcolor": PAPER,
        "margin": {"l": 70, "r": 30, "t": 60, "b": 50}
        if not projector
        else {"l": 90, "r": 40, "t": 80, "b": 70},
        "hoverlabel": {
            "font": {"family": FONT_FAMILY, "size": s["font"]},
            "bgcolor": PAPER,
            "bordercolor": INK,
        },
        "legend": {"font": {"size": s["font"]}, "bgcolor": "rgba(255,255,255,0.8)"},
        "colorway": _FALLBACK,
        "xaxis": dict(axis),
        "yaxis": dict(axis),
    }


def style_axes(fig, projector: bool = False) -> None:
    """Apply the axis defaults to every x and y axis of ``fig`` (subplots included)."""
    axis = axis_style(projector)
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a figure label (:func:`lstm_viz.teaching.numbers.fmt`, ``kind="label"``)."""
    return numbers.fmt(value, digits, kind="label")
