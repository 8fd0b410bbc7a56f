"""``lstm_viz.teaching.explain``: every explained number adds up to what the trace holds.

For every variant (one with a projection, one bidirectional and two layers, one without bias) and
both float dtypes, at seeded random steps and units (always including the first processed step of
each direction, where h_{t-1} is the initial state): the terms of a gate add up to the traced
pre-activation ``z_<gate>``, the nonlinearity of that sum is the traced gate, c's parts add up to
c, h's to h.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pytest

from lstm_viz.core import VARIANTS, Recurrent, is_lstm
from lstm_viz.teaching.explain import (
    IDENTITY,
    SIGMA,
    TANH,
    Explanation,
    apply,
    explain,
    explain_all,
    explainable,
    fmt,
    step_numbers,
)

TOL = {np.float32: 1e-5, np.float64: 1e-10}


@dataclass(frozen=True)
class Case:
    variant: str
    num_layers: int = 1
    bidirectional: bool = False
    proj_size: int = 0
    bias: bool = True
    batch_first: bool = False
    with_hx: bool = True
    dtype: type = np.float64

    def __str__(self) -> str:
        extra = [f"L{self.num_layers}"] + (["bi"] if self.bidirectional else []) + (
            [f"proj{self.proj_size}"] if self.proj_size else []) + (
            [] if self.bias else ["nobias"]) + [np.dtype(self.dtype).name]
        return f"{self.variant}-{'-'.join(extra)}"


CASES = [Case(v, dtype=dt) for v in VARIANTS for dt in (np.float32, np.float64)] + [
    Case("vanilla", proj_size=3, dtype=np.float32),
    Case("noaf", proj_size=2, num_layers=2, dtype=np.float64),
    Case("peephole", num_layers=2, bidirectional=True, dtype=np.float32),
    Case("cifg", num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64),
    Case("gru", num_layers=2, bidirectional=True, dtype=np.float32),
    Case("rnn", num_layers=2, bidirectional=True, dtype=np.float64),
    Case("nig", bias=False, with_hx=False, dtype=np.float64),
    Case("gru", bias=False, dtype=np.float64),
]

T, B, I, H = 7, 3, 4, 5


def build(case: Case, seed: int = 0):
    """A model with random weights (peepholes non-zero), its input, hx and trace."""
    rng = np.random.default_rng(seed)
    model = Recurrent(I, H, num_layers=case.num_layers, bias=case.bias,
                      batch_first=case.batch_first, bidirectional=case.bidirectional,
                      proj_size=case.proj_size, variant=case.variant, dtype=case.dtype, seed=seed)
    # larger weights than the default init, so gates leave the linear middle of σ / tanh
    model.load_state_dict({k: rng.normal(0, 0.8, v.shape) for k, v in model.state_dict().items()})
    x = rng.normal(0, 1.5, (B, T, I) if case.batch_first else (T, B, I))
    cfg = model.config
    hx = None
    if case.with_hx:
        n = cfg.num_layers * cfg.num_directions
        h0 = rng.normal(0, 0.5, (n, B, cfg.real_hidden_size))
        hx = (h0, rng.normal(0, 0.5, (n, B, H))) if is_lstm(case.variant) else h0
    return model, x, hx, model.trace(x, hx)


def positions(model: Recurrent, seed: int, n: int = 6):
    """(layer, direction, step, unit, batch): seeded random ones and each direction's first."""
    rng = np.random.default_rng(seed)
    cfg = model.config
    out = []
    for layer in range(cfg.num_layers):
        for d in range(cfg.num_directions):
            first = 0 if d == 0 else T - 1
            out.append((layer, d, first, int(rng.integers(H)), int(rng.integers(B))))
            out += [(layer, d, int(rng.integers(T)), int(rng.integers(H)), int(rng.integers(B)))
                    for _ in range(n)]
    return out


def close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_number_adds_up(case: Case) -> None:
    model, _, _, trace = build(case, seed=zlib.crc32(str(case).encode()) % 1000)
    tol = TOL[case.dtype]
    R = model.config.real_hidden_size
    checked = 0
    for layer, d, step, unit, b in positions(model, seed=1):
        for name in explainable(model.variant, model.proj_size > 0):
            u = unit % (R if name == "h" else H)
            e = explain(model, trace, name, step, u, layer=layer, direction=d, batch=b)
            q = trace.get(name, layer, d)
            assert e.traced == float(q[step, b, u])
            assert close(e.value, e.traced, tol), (name, e.lines())
            if e.nonlinearity is not None:
                # the terms add up to the pre-activation, and the nonlinearity of it is the gate
                total = math.fsum(t.value for t in e.terms)
                assert e.pre_activation == pytest.approx(total, abs=1e-12)
                assert close(apply(e.nonlinearity, total), e.traced, tol)
                z = trace.steps[(layer, d)].get(f"z_{name}")
                if z is not None:                      # LSTM family: the trace keeps z_<gate>
                    assert close(total, float(z[step, b, u]), tol), (name, e.lines())
                    assert e.traced_pre_activation == float(z[step, b, u])
            else:
                assert close(e.combined, e.traced, tol)
            checked += 1
    assert checked >= 7 * len(explainable(model.variant, model.proj_size > 0))


@pytest.mark.parametrize("variant", VARIANTS)
def test_nonlinearities_and_terms(variant: str) -> None:
    model, _, _, trace = build(Case(variant, proj_size=2 if variant == "vanilla" else 0))
    e = explain_all(model, trace, step=3, unit=1)
    expected = {"vanilla": {"i": SIGMA, "f": SIGMA, "g": TANH, "o": SIGMA},
                "niaf": {"g": IDENTITY}, "gru": {"r": SIGMA, "z": SIGMA, "n": TANH},
                "rnn": {"h": TANH}}.get(variant, {})
    for name, nl in expected.items():
        assert e[name].nonlinearity == nl
    for name in ("c", "h"):
        if is_lstm(variant):
            assert e[name].nonlinearity is None and e[name].pre_activation is None
    if is_lstm(variant) or variant == "rnn":
        gates = [n for n, x in e.items() if x.kind == "gate"]
        for name in gates:
            labels = [t.label for t in e[name].terms]
            w = "h" if variant == "rnn" else name
            assert labels[:4] == [f"W_i{w}·x_t", f"W_h{w}·h_{{t-1}}", f"b_i{w}", f"b_h{w}"]
            extra = labels[4:]
            if variant == "peephole" and name in "if":
                assert extra == [f"p_{name}·c_{{t-1}}"]
            elif variant == "peephole" and name == "o":
                assert extra == ["p_o·c_t"]
            else:
                assert extra == []


def test_row_of_the_weights_is_the_gate_and_unit() -> None:
    """W_ih·x_t is the row of weight_ih_l0 for that gate and unit: cifg stacks i, g, o."""
    model, _, _, trace = build(Case("cifg", with_hx=False))
    w = model.state_dict()["weight_ih_l0"]
    x = trace.inputs[0][2, 1]
    for block, gate in enumerate(("i", "g", "o")):
        e = explain(model, trace, gate, step=2, unit=3, batch=1)
        assert e.terms[0].value == pytest.approx(float(w[block * H + 3] @ x), abs=1e-12)
    # at step 0 with no hx the recurrent term is W_hh · 0
    e0 = explain(model, trace, "o", step=0, unit=0)
    assert e0.terms[1].value == 0.0 and e0.prev_step is None


def test_previous_state_follows_processing_order() -> None:
    """Direction 1 runs backwards: its h_{t-1} is h at t+1, and h0 at the last position."""
    model, _, hx, trace = build(Case("vanilla", bidirectional=True))
    w_hh = model.state_dict()["weight_hh_l0_reverse"]
    h_rev = trace.get("h", 0, 1)
    e = explain(model, trace, "f", step=2, unit=0, direction=1, batch=0)
    assert e.prev_step == 3
    assert e.terms[1].label == "W_hf·h_{t+1}"
    assert e.terms[1].value == pytest.approx(float(w_hh[H] @ h_rev[3, 0]), abs=1e-12)
    last = explain(model, trace, "f", step=T - 1, unit=0, direction=1, batch=0)
    assert last.prev_step is None
    assert last.terms[1].value == pytest.approx(float(w_hh[H] @ hx[0][1, 0]), abs=1e-12)
    c = explain(model, trace, "c", step=T - 1, unit=2, direction=1)
    f = float(trace.get("f", 0, 1)[T - 1, 0, 2])
    assert c.terms[0].value == pytest.approx(f * hx[1][1, 0, 2], abs=1e-12)
    assert any("initial state" in line for line in last.lines())


def test_constant_gates_follow_their_rule() -> None:
    for variant, gate in (("cifg", "f"), ("nig", "i"), ("nfg", "f"), ("nog", "o")):
        model, _, _, trace = build(Case(variant))
        e = explain(model, trace, gate, step=4, unit=2, batch=2)
        assert e.kind == "constant" and e.nonlinearity is None and e.rule
        if variant == "cifg":
            i = float(trace.get("i")[4, 2, 2])
            assert e.value == pytest.approx(1 - i, abs=1e-12)
            assert "1 − i_t" in e.lines()[-1] and 0 < e.value < 1
        else:
            assert e.value == 1.0 == e.traced
            assert e.lines()[-1] == f"{gate}_t = 1"


def test_cell_and_hidden_parts() -> None:
    model, _, _, trace = build(Case("vanilla"))
    c = explain(model, trace, "c", step=3, unit=4, batch=1)
    f, i, g = (float(trace.get(k)[3, 1, 4]) for k in "fig")
    c_prev = float(trace.get("c")[2, 1, 4])
    assert [t.label for t in c.terms] == ["f_t·c_{t-1}", "i_t·g_t"]
    assert c.terms[0].value == pytest.approx(f * c_prev, abs=1e-12)
    assert c.terms[1].value == pytest.approx(i * g, abs=1e-12)
    h = explain(model, trace, "h", step=3, unit=4, batch=1)
    assert h.combine == "product"
    assert [t.label for t in h.terms] == ["o_t", "tanh(c_t)"]
    assert h.terms[1].value == pytest.approx(math.tanh(float(trace.get("c")[3, 1, 4])))
    # noaf: o · c; nog: o = 1
    model, _, _, trace = build(Case("noaf"))
    assert [t.label for t in explain(model, trace, "h", 1, 0).terms] == ["o_t", "c_t"]
    model, _, _, trace = build(Case("nog"))
    assert explain(model, trace, "h", 1, 0).terms[0].value == 1.0


def test_projection_row() -> None:
    model, _, _, trace = build(Case("vanilla", proj_size=3))
    h = explain(model, trace, "h", step=5, unit=2, batch=0)
    assert h.kind == "projection" and len(h.terms) == H
    w_hr = model.state_dict()["weight_hr_l0"]
    m = trace.get("m")[5, 0]
    assert [t.value for t in h.terms] == pytest.approx(list(w_hr[2] * m), abs=1e-12)
    m_ex = explain(model, trace, "m", step=5, unit=4)
    assert m_ex.value == pytest.approx(float(m[4]), abs=1e-10)
    with pytest.raises(ValueError, match="out of range"):
        explain(model, trace, "h", step=5, unit=3)          # h has proj_size = 3 units
    assert "h" not in explain_all(model, trace, step=5, unit=4)


def test_gru_terms() -> None:
    model, _, _, trace = build(Case("gru"))
    n = explain(model, trace, "n", step=3, unit=1, batch=2)
    labels = [t.label for t in n.terms]
    assert labels == ["W_in·x_t", "b_in", "r_t·(W_hn·h_{t-1} + b_hn)"]
    r = float(trace.get("r")[3, 2, 1])
    hn = float(trace.get("hn")[3, 2, 1])                   # the core's W_hn h + b_hn
    assert n.terms[2].value == pytest.approx(r * hn, abs=1e-10)
    h = explain(model, trace, "h", step=3, unit=1, batch=2)
    z, nv = float(trace.get("z")[3, 2, 1]), float(trace.get("n")[3, 2, 1])
    assert h.terms[0].value == pytest.approx((1 - z) * nv, abs=1e-12)


def test_lines_read_like_the_maths() -> None:
    model, _, _, trace = build(Case("vanilla"))
    e = explain(model, trace, "f", step=2, unit=0)
    pre_line, gate_line = e.lines()
    assert pre_line.startswith("z_f = W_if·x_t (")
    assert pre_line.endswith(f"= {fmt(e.pre_activation)}")
    for t in e.terms:
        assert f"{t.label} ({fmt(t.value)})" in pre_line
    assert gate_line == f"f_t = σ({fmt(e.pre_activation)}) = {fmt(e.value)}"
    assert e.latex().startswith(r"f_t = \sigma(")
    assert fmt(2.3149) == "2.31" and fmt(-0.004) == "-4.0e-03" and fmt(0.0) == "0.00"
    niaf, _, _, tr = build(Case("niaf"))
    assert "(no activation)" in explain(niaf, tr, "g", 1, 1).lines()[-1]


def test_a_wrong_trace_is_flagged() -> None:
    """The check can fail: tamper with the trace and the explanation disagrees with it."""
    model, _, _, trace = build(Case("vanilla"))
    trace.get("f")[2, 0, 1] += 0.25
    e = explain(model, trace, "f", step=2, unit=1)
    assert e.error == pytest.approx(0.25, abs=1e-9)
    assert e.lines()[-1].startswith("warning: the trace holds")


def test_step_numbers() -> None:
    model, _, _, trace = build(Case("vanilla"))
    values, pre = step_numbers(model, trace, step=3, unit=2, batch=1)
    assert set(values) == {"i", "f", "g", "o", "c", "h", "c_prev", "h_prev"}
    assert set(pre) == {"i", "f", "g", "o"}
    assert values["c_prev"] == float(trace.get("c")[2, 1, 2])
    assert pre["f"] == pytest.approx(float(trace.get("z_f")[3, 1, 2]), abs=1e-10)


def test_bad_requests_raise() -> None:
    model, _, _, trace = build(Case("cifg"))
    with pytest.raises(ValueError, match="no 'r'"):
        explain(model, trace, "r", 0, 0)
    with pytest.raises(ValueError, match="step"):
        explain(model, trace, "i", T, 0)
    with pytest.raises(ValueError, match="unit"):
        explain(model, trace, "i", 0, H)
    with pytest.raises(ValueError, match="layer"):
        explain(model, trace, "i", 0, 0, layer=1)
    with pytest.raises(ValueError, match="direction"):
        explain(model, trace, "i", 0, 0, direction=1)
    with pytest.raises(ValueError, match="batch"):
        explain(model, trace, "i", 0, 0, batch=B)


def test_unbatched_trace() -> None:
    model = Recurrent(2, 3, variant="peephole", seed=3)
    x = np.random.default_rng(3).normal(size=(6, 2)).astype(np.float32)
    trace = model.trace(x)
    for name in ("i", "f", "g", "o", "c", "h"):
        e = explain(model, trace, name, step=5, unit=2)
        assert isinstance(e, Explanation)
        assert close(e.value, e.traced, 1e-5)


def test_long_projection_row_is_summarised() -> None:
    model = Recurrent(3, 12, proj_size=4, seed=0, dtype=np.float64)
    trace = model.trace(np.random.default_rng(0).normal(size=(3, 3)))
    e = explain(model, trace, "h", step=2, unit=1)
    line = e.lines()[-1]
    assert "9 more (" in line and line.endswith(f"= {fmt(e.value)}")
    shown = [t for t in e.terms if f"{t.label} (" in line]
    assert len(shown) == 3
    assert min(abs(t.value) for t in shown) >= max(abs(t.value) for t in e.terms
                                                   if t not in shown)
    assert e.latex().startswith(r"h_t = \sum_{j=0}^{11} W_{hr}[1,j]")
