"""``lstm_viz.teaching.equations``: the LaTeX of every variant, the numbers substituted, the
meanings, and shapes that agree with what the core actually returns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lstm_viz.core import LSTM_VARIANTS, VARIANTS, Recurrent, is_lstm
from lstm_viz.teaching.equations import (
    GATE_MEANING,
    PARAMETER_MEANING,
    Equation,
    equations,
    equations_with_numbers,
    shapes,
)
from lstm_viz.teaching.explain import explain_all, step_numbers


def balanced(latex: str) -> bool:
    """Braces and parentheses close in order (a cheap KaTeX sanity check)."""
    stack = []
    pairs = {"}": "{", ")": "("}
    for ch in latex:
        if ch in "{(":
            stack.append(ch)
        elif ch in "})":
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack


def by_key(variant: str, proj: bool = False) -> dict[str, Equation]:
    return {e.key: e for e in equations(variant, proj)}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proj", [False, True])
def test_every_variant_renders(variant: str, proj: bool) -> None:
    if proj and not is_lstm(variant):
        with pytest.raises(ValueError, match="proj_size"):
            equations(variant, proj)
        return
    eqs = equations(variant, proj)
    keys = [e.key for e in eqs]
    expected = {"gru": ["r", "z", "n", "h"], "rnn": ["h"]}.get(
        variant, ["f", "i", "g", "c", "o", "h"])
    assert keys == expected
    for e in eqs:
        assert e.latex.startswith(f"{e.key}_t = ")
        assert balanced(e.latex), e.latex
        assert e.title
        assert bool(e.note) == e.changed          # a changed equation says what changed
        assert "\n" not in e.latex
    if variant == "vanilla" and not proj:
        assert not any(e.changed for e in eqs)
    if variant not in ("vanilla", "gru", "rnn") or proj:
        assert any(e.changed for e in eqs)


def test_vanilla_is_torch_nn_lstm() -> None:
    eq = by_key("vanilla")
    assert eq["f"].latex == r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})"
    assert eq["g"].latex.startswith(r"g_t = \tanh(W_{ig} x_t")
    assert eq["c"].latex == r"c_t = f_t \odot c_{t-1} + i_t \odot g_t"
    assert eq["h"].latex == r"h_t = o_t \odot \tanh(c_t)"
    assert r"W_{hr}" in by_key("vanilla", proj=True)["h"].latex
    assert "b_{" not in "".join(e.latex for e in equations("vanilla", bias=False))


def test_cifg_ties_forget_to_input() -> None:
    eq = by_key("cifg")
    assert "1 - i_t" in eq["f"].latex
    assert eq["f"].changed and "tied to the input gate" in eq["f"].note
    assert "1 - i_t" in eq["c"].latex
    assert not eq["i"].changed


def test_constant_gates_and_other_changes() -> None:
    assert by_key("nig")["i"].latex == "i_t = 1"
    assert "i_t" not in by_key("nig")["c"].latex
    assert by_key("nfg")["f"].latex == "f_t = 1"
    assert by_key("nfg")["c"].latex == r"c_t = c_{t-1} + i_t \odot g_t"
    assert by_key("nog")["o"].latex == "o_t = 1"
    assert by_key("nog")["h"].latex == r"h_t = \tanh(c_t)"
    niaf_g = by_key("niaf")["g"]
    assert niaf_g.changed and r"\tanh" not in niaf_g.latex
    noaf_h = by_key("noaf")["h"]
    assert noaf_h.changed and r"\tanh" not in noaf_h.latex and "c_t" in noaf_h.latex


def test_peephole_terms() -> None:
    eq = by_key("peephole")
    assert r"p_i \odot c_{t-1}" in eq["i"].latex
    assert r"p_f \odot c_{t-1}" in eq["f"].latex
    assert r"p_o \odot c_t)" in eq["o"].latex and "c_{t-1}" not in eq["o"].latex
    assert not eq["g"].changed and "p_" not in eq["g"].latex
    assert {k for k, e in eq.items() if e.changed} == {"i", "f", "o"}


def test_gru_equations() -> None:
    eq = by_key("gru")
    assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in eq["n"].latex
    assert eq["h"].latex == r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"


def test_meanings() -> None:
    for k in ("f", "i", "g", "o", "r", "z", "n"):
        assert len(GATE_MEANING[k]) > 30
    assert "0" in GATE_MEANING["f"] and "1" in GATE_MEANING["f"]
    assert "candidate" in GATE_MEANING["i"]
    assert "tanh(c_t)" in GATE_MEANING["o"]
    assert set(PARAMETER_MEANING) == {"input_size", "hidden_size", "num_layers", "bias",
                                      "batch_first", "dropout", "bidirectional", "proj_size"}
    assert all("\n" not in v and v.endswith(".") for v in PARAMETER_MEANING.values())


# --------------------------------------------------------------------------- with numbers


@pytest.mark.parametrize("variant", VARIANTS)
def test_equations_with_numbers(variant: str) -> None:
    model = Recurrent(3, 4, variant=variant, seed=2, dtype=np.float64)
    trace = model.trace(np.random.default_rng(2).normal(size=(5, 2, 3)))
    values, pre = step_numbers(model, trace, step=3, unit=1, batch=1)
    ex = explain_all(model, trace, step=3, unit=1, batch=1)
    lines = equations_with_numbers(variant, values, pre)
    eqs = equations(variant)
    assert len(lines) == len(eqs)
    for eq, line in zip(eqs, lines, strict=True):
        assert line.startswith(f"{eq.key}_t = ")
        assert balanced(line), line
        v = values[eq.key]
        if v != 1.0:                                   # every computed value appears
            assert line.endswith(f"= {v:.2f}"), line
        if eq.key in pre and not (variant == "niaf" and eq.key == "g"):
            assert f"({pre[eq.key]:.2f}) = " in line, line
        assert ex[eq.key].traced == v


def test_numbers_example() -> None:
    values = {"f": 0.91, "i": 0.62, "g": -0.3, "o": 0.8, "c": 0.269, "h": 0.21, "c_prev": 0.5}
    pre = {"z_f": 2.31, "i": 0.49, "g": -0.31, "o": 1.39}
    lines = dict(zip("figcoh", equations_with_numbers("vanilla", values, pre), strict=True))
    assert lines["f"] == r"f_t = \sigma(2.31) = 0.91"
    assert lines["c"] == r"c_t = 0.91 \cdot 0.50 + 0.62 \cdot (-0.30) = 0.27"
    assert lines["h"] == r"h_t = 0.80 \cdot \tanh(0.27) = 0.21"
    cifg = equations_with_numbers("cifg", {"i": 0.62, "f": 0.38}, {})
    assert cifg[0] == r"f_t = 1 - i_t = 1 - 0.62 = 0.38"
    nig = dict(zip("figcoh", equations_with_numbers("nig", {**values, "i": 1.0, "c": 0.155},
                                                    pre), strict=True))
    assert nig["i"] == "i_t = 1"
    assert nig["c"] == r"c_t = 0.91 \cdot 0.50 + (-0.30) = 0.15"
    nfg = dict(zip("figcoh", equations_with_numbers("nfg", {**values, "f": 1.0}, pre),
                   strict=True))
    assert nfg["c"] == r"c_t = 0.50 + 0.62 \cdot (-0.30) = 0.27"
    nog = dict(zip("figcoh", equations_with_numbers("nog", {**values, "o": 1.0}, pre),
                   strict=True))
    assert nog["h"] == r"h_t = \tanh(0.27) = 0.21"
    # a missing number leaves the equation symbolic
    assert equations_with_numbers("vanilla", {}, {})[0] == equations("vanilla")[0].latex


# --------------------------------------------------------------------------- shapes


SHAPE_CASES = [
    dict(variant=v, num_layers=L, bidirectional=bi, proj_size=p, batch_first=bf, batch=b)
    for v, L, bi, p, bf, b in itertools.product(
        ("vanilla", "cifg", "gru", "rnn"), (1, 3), (False, True), (0, 2), (False, True),
        (None, 1, 4))
    if not (p and v not in LSTM_VARIANTS)
]


def core_shapes(model: Recurrent, T: int, batch: int | None, with_hx: bool) -> dict[str, tuple]:
    """The shapes the core actually returns for an input of that size."""
    rng = np.random.default_rng(0)
    if batch is None:
        x = rng.normal(size=(T, model.input_size))
    elif model.batch_first:
        x = rng.normal(size=(batch, T, model.input_size))
    else:
        x = rng.normal(size=(T, batch, model.input_size))
    trace = model.trace(x)
    out = {"x": x.shape, "output": trace.output.shape}
    if with_hx:                                         # the core accepts hx of those shapes
        out["h_0"] = trace.h_n[0].shape if is_lstm(model.variant) else trace.h_n.shape
        if is_lstm(model.variant):
            out["c_0"] = trace.h_n[1].shape
    if is_lstm(model.variant):
        out["h_n"], out["c_n"] = trace.h_n[0].shape, trace.h_n[1].shape
    else:
        out["h_n"] = trace.h_n.shape
    return out


@pytest.mark.parametrize("case", SHAPE_CASES,
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_shapes_match_the_core(case: dict) -> None:
    batch = case.pop("batch")
    model = Recurrent(3, 5, seed=0, **case)
    T = 6
    got = shapes(model, T, batch, model.batch_first, with_hx=True)
    assert got == core_shapes(model, T, batch, with_hx=True)
    assert set(shapes(model, T, batch, model.batch_first)) == (
        {"x", "output", "h_n", "c_n"} if is_lstm(model.variant) else {"x", "output", "h_n"})
    # hx of the reported shapes is accepted by the core
    rng = np.random.default_rng(1)
    h0 = rng.normal(size=got["h_0"])
    hx = (h0, rng.normal(size=got["c_0"])) if is_lstm(model.variant) else h0
    x = rng.normal(size=got["x"])
    out, _ = model(x, hx)
    assert out.shape == got["output"]
    # flipping bidirectional gives the shapes of the flipped model
    flipped = Recurrent(3, 5, seed=0, **{**case, "bidirectional": not case["bidirectional"]})
    assert shapes(model, T, batch, model.batch_first, bidirectional=not model.bidirectional) \
        == core_shapes(flipped, T, batch, with_hx=False)


def test_shapes_example() -> None:
    model = Recurrent(10, 20, num_layers=2, proj_size=5)
    assert shapes(model, 7, 3, batch_first=True, bidirectional=True) == {
        "x": (3, 7, 10), "output": (3, 7, 10), "h_n": (4, 3, 5), "c_n": (4, 3, 20)}
    assert shapes(model, 7, None, batch_first=False)["output"] == (7, 5)
