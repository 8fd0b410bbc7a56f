"""The app's one number formatter and its one LaTeX helper.

``fmt(value, digits, kind=...)`` writes a number for people in the three places numbers appear:

- ``"text"`` (default): plain text of the explanations, ``-4.0e-03`` below ``digits`` decimals;
- ``"label"``: figure labels, with a real minus sign, ``"–"`` when missing or not finite, one
  more decimal (then ``1e−4``) for small values and scientific notation from 10⁴ on;
- ``"table"``: the explain panel's tables, like ``"text"`` with a real minus and no ``−0.00``.

``fmt_latex`` is the same number for KaTeX (``1.2 \\times 10^{-5}``); ``latex_symbol``,
``detail_latex`` and ``NONLINEARITY_LATEX`` turn the explanations' plain symbols into KaTeX.
No UI, no NumPy arrays: plain floats.
"""

from __future__ import annotations

import math
import re

SIGMA = "σ"
TANH = "tanh"
IDENTITY = "identity"

NONLINEARITY_LATEX = {SIGMA: r"\sigma", TANH: r"\tanh"}


def fmt(value: float | None, digits: int = 2, kind: str = "text") -> str:
    """``value`` with ``digits`` decimals, written for ``kind`` ("text", "label", "table")."""
    if kind == "label":
        return _label(value, digits)
    assert value is not None
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) < 0.5 * 10.0 ** -digits:
        text = f"{value:.1e}"
    else:
        text = f"{value:.{digits}f}"
        if kind == "table" and float(text) == 0:
            text = f"{0:.{digits}f}"           # no "-0.0000"
    return text.replace("-", "−") if kind == "table" else text


def _label(value: float | None, digits: int) -> str:
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "–"
    if v != 0 and abs(v) < 10 ** (-digits):  # small: one more decimal, then scientific
        text = f"{v:.{digits + 1}f}" if abs(v) >= 10 ** (-digits - 1) else f"{v:.0e}"
    elif abs(v) >= 1e4:
        text = f"{v:.{max(1, digits - 1)}e}"
    else:
        text = f"{v:.{digits}f}"
    text = text.replace("e-0", "e−").replace("e-", "e−").replace("e+0", "e").replace("e+", "e")
    if text.startswith("-"):
        text = text[1:] if float(text.replace("−", "-")) == 0 else "−" + text[1:]
    return text


def sci(value: float) -> str:
    """An error size in one significant digit: ``3e−07`` (``0`` for none)."""
    return "0" if value == 0 else f"{value:.0e}".replace("-", "−")


def num(value: float, digits: int = 2) -> str:
    """``fmt``, parenthesised when negative (a factor of a product)."""
    return f"({fmt(value, digits)})" if value < 0 else fmt(value, digits)


def fmt_latex(value: float, digits: int = 2, paren: bool = False) -> str:
    """A number for KaTeX (``1.2 \\times 10^{-5}``), parenthesised when negative and ``paren``."""
    text = sci_latex(fmt(float(value), digits))
    return f"({text})" if paren and value < 0 else text


def latex_symbol(symbol: str) -> str:
    """"z_f" -> "z_{f}" (a subscript of more than one letter needs braces)."""
    base, _, sub = symbol.partition("_")
    return f"{base}_{{{sub}}}" if sub and not sub.startswith("{") else symbol


# A number in scientific notation in plain text ("5.7e-04", "−1.2e+05"): in KaTeX "e" is a
# variable and "-" a binary minus ("5.7e − 04"), so it becomes 5.7 \times 10^{-4}.
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([+\-−]?)(\d+)\b")


def sci_latex(text: str) -> str:
    """Every number in scientific notation in ``text`` as KaTeX: "5.7e-04" ->
    ``5.7 \\times 10^{-4}`` (never "5.7e - 04")."""
    def power(m: re.Match) -> str:
        exp = int(m.group(3)) * (-1 if m.group(2) in ("-", "−") else 1)
        return rf"{m.group(1)} \times 10^{{{exp}}}"
    return _SCIENTIFIC.sub(power, text)


def detail_latex(detail: str) -> str:
    """A plain-text product ("0.91 × tanh(0.5)", "(1 − 5.7e-04) × 0.3") as KaTeX."""
    return sci_latex(detail.replace("×", r"\cdot").replace("−", "-")
                     .replace("tanh(", r"\tanh(").replace("σ(", r"\sigma("))
