"""LaTeX numbers (issue #15): a small number reads 5.7 × 10⁻⁴ in KaTeX, never "5.7e − 04"."""

from __future__ import annotations

import re

import pytest

from lstm_viz.teaching.explain import Explanation, Term
from lstm_viz.teaching.numbers import detail_latex, fmt_latex, sci_latex

# What KaTeX would typeset as "5.7e − 04": a mantissa, the letter e, a sign and digits.
RAW_SCIENTIFIC = re.compile(r"\de[+\-−]?\d")


@pytest.mark.parametrize(("value", "paren", "latex"), [
    (5.7e-4, False, r"5.7 \times 10^{-4}"),
    (-5.7e-4, True, r"(-5.7 \times 10^{-4})"),
    (-5.7e-4, False, r"-5.7 \times 10^{-4}"),
    (0.25, False, "0.25"),
    (-0.25, True, "(-0.25)"),
])
def test_fmt_latex(value: float, paren: bool, latex: str) -> None:
    assert fmt_latex(value, 2, paren=paren) == latex


@pytest.mark.parametrize(("text", "latex"), [
    ("5.7e-04", r"5.7 \times 10^{-4}"),
    ("5.7e−04", r"5.7 \times 10^{-4}"),
    ("1.2e+05 and 3e7", r"1.2 \times 10^{5} and 3 \times 10^{7}"),
    ("W2e3 tanh(0.5)", "W2e3 tanh(0.5)"),             # not a number: left alone
])
def test_sci_latex(text: str, latex: str) -> None:
    assert sci_latex(text) == latex


def test_detail_latex_writes_small_factors_as_powers_of_ten() -> None:
    assert detail_latex("(1 − 5.7e-04) × (-3.0e-05)") == \
        r"(1 - 5.7 \times 10^{-4}) \cdot (-3.0 \times 10^{-5})"
    assert detail_latex("0.91 × tanh(0.50)") == r"0.91 \cdot \tanh(0.50)"


def test_a_cell_explanation_with_tiny_parts_has_no_raw_scientific_notation() -> None:
    f, c_prev, i, g = 0.0004, 0.9, 0.002, -0.3
    terms = [Term("f_t·c_{t-1}", f * c_prev, r"f_t \odot c_{t-1}", "5.7e-04 × 0.90"),
             Term("i_t·g_t", i * g, r"i_t \odot g_t", "2.0e-03 × (-0.30)")]
    ex = Explanation("c", 3, 0, terms, None, None, f * c_prev + i * g, f * c_prev + i * g,
                     kind="cell", combine="sum")
    latex = ex.latex(2)
    assert not RAW_SCIENTIFIC.search(latex), latex
    assert r"5.7 \times 10^{-4} \cdot 0.90" in latex
    assert r"\times 10^{-4}" in latex.rsplit("=", 1)[1]       # the value, 3.6e-04 - 6.0e-04
