"""The smaller analyses the pages call: runs of a mask, a suggested range for the unit search,
the gates a variant computes (read from the variant table), and what a variant's wiring does on a
run (coupling, free f + i, peephole reach)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz.analysis import (
    compare_variants,
    coupling_gap,
    gate_names,
    gate_sum_range,
    peephole_reach,
    runs,
    suggest_range,
    threshold_range,
)
from lstm_viz.core import TABLE, Recurrent


def _brute_runs(mask):
    out, start = [], None
    for t, on in enumerate(list(mask) + [False]):
        if on and start is None:
            start = t
        elif not on and start is not None:
            out.append((start, t - 1))
            start = None
    return out


@given(st.lists(st.booleans(), max_size=40))
def test_runs_are_the_runs_of_true(mask):
    assert runs(np.array(mask, dtype=bool)) == _brute_runs(mask)


def _reference_suggest(values, threshold, at, max_share=0.25, fallback_span=4):
    """The Units page's own suggest_range before it moved here (with its on_runs), verbatim."""
    def on_runs(mask):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
        return np.stack([edges[::2], edges[1::2] - 1], axis=1)

    length, last = values.shape[0], values.shape[0] - 1
    longest = max(1, int(length * max_share))
    best, best_key = None, None
    for u in range(values.shape[1]):
        rs = on_runs(values[:, u] >= threshold)
        rs = rs[rs[:, 1] - rs[:, 0] < longest]
        if not rs.size:
            continue
        distance = np.maximum(0, np.maximum(rs[:, 0] - at, at - rs[:, 1]))
        for s, e in rs[distance == distance.min()].tolist():
            key = (int(distance.min()), -float(values[s:e + 1, u].mean()))
            if best_key is None or key < best_key:
                best, best_key = (s, e), key
    if best is None:
        span = min(longest, fallback_span)
        return max(0, min(at, last - span)), min(last, max(at, 0) + span)
    return best


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 50), units=st.integers(1, 6),
       threshold=st.floats(-1, 1), data=st.data())
def test_suggest_range_agrees_with_the_pages_former_code(seed, T, units, threshold, data):
    values = np.random.default_rng(seed).uniform(-1, 1, (T, units))
    at = data.draw(st.integers(0, T - 1))
    got = suggest_range(values, threshold, at, min_swing=0)   # the former code's definition
    assert got == _reference_suggest(values, threshold, at)
    assert 0 <= got[0] <= got[1] <= T - 1


def test_suggest_range_picks_the_strongest_run_at_the_step_and_skips_long_ones():
    values = np.zeros((40, 3))
    values[10:14, 0] = 0.6
    values[11:13, 1] = 0.9           # holds step 12 too, stronger
    values[0:30, 2] = 1.0            # on for 30 of 40 steps: longer than a quarter, skipped
    assert suggest_range(values, 0.5, 12) == (11, 12)
    assert suggest_range(values, 0.5, 20) == (10, 13)     # the nearest short run: unit 0's
    assert suggest_range(np.zeros((40, 2)), 0.5, 38) == (35, 39)   # nothing: a short window
    assert suggest_range(np.zeros((3, 2)), 0.5, 0) == (0, 1)       # a quarter of 3: 1 more


@pytest.mark.parametrize("name", list(TABLE))
def test_gate_names_follow_the_variant_table(name):
    row = TABLE[name]
    got = dict(gate_names(name))
    if row.family == "rnn":
        assert got == {}
    elif row.family == "gru":
        assert got == {"r": False, "z": False, "n": False}
        assert dict(gate_names(name, sigmoid_only=True)) == {"r": False, "z": False}
    else:
        assert [g for g in got if not got[g]] == [g for g in "ifgo" if g in row.blocks]
        assert [g for g in got if got[g]] == (["f"] if row.coupled else [])
        assert "g" not in dict(gate_names(name, sigmoid_only=True))


def _run(variant, seed=0):
    model = Recurrent(2, 4, variant=variant, dtype=np.float64, seed=seed)
    if TABLE[variant].peephole:                 # fresh peepholes are 0: make them matter
        state = model.state_dict()
        state["weight_peephole_l0"] = np.random.default_rng(1).normal(size=(3, 4))
        model.load_state_dict(state)
    x = np.random.default_rng(seed).normal(size=(12, 2))
    return model, compare_variants({variant: model}, x)[variant]


def test_coupling_gap_and_gate_sum_range():
    coupled = next(n for n, v in TABLE.items() if v.coupled)
    _, run = _run(coupled)
    assert coupling_gap(run) < 1e-12
    lo, hi = gate_sum_range(run)
    assert abs(lo - 1) < 1e-12 and abs(hi - 1) < 1e-12
    _, free = _run(next(n for n, v in TABLE.items() if v.torch_class == "LSTM"))
    f, i = free.trace.get("f")[:, 0], free.trace.get("i")[:, 0]
    assert gate_sum_range(free) == (float((f + i).min()), float((f + i).max()))
    assert coupling_gap(free) == pytest.approx(float(np.abs(f + i - 1).max()))


def test_peephole_reach_is_the_largest_peephole_term():
    name = next(n for n, v in TABLE.items() if v.peephole)
    model, run = _run(name)
    p = model.state_dict()["weight_peephole_l0"]
    c = run.state
    c_prev = np.vstack([np.zeros((1, c.shape[1])), c[:-1]])     # no c0: the cell starts at 0
    want = tuple(max(abs(p[k, u] * cc[t, u]) for t in range(c.shape[0])
                     for u in range(c.shape[1])) for k, cc in ((0, c_prev), (1, c_prev), (2, c)))
    assert peephole_reach(p, run) == pytest.approx(want)


def test_threshold_range_rounds_out_and_starts_at_the_quantile():
    values = np.array([[-0.123, 0.5], [0.987, np.nan], [0.2, 0.3]])
    low, high, default = threshold_range(values, 0.9)
    assert (low, high) == (-0.13, 0.99)
    assert default == np.floor(np.nanquantile(values, 0.9) * 100) / 100
    assert threshold_range(np.full((3, 2), 0.5)) == (0.5, 0.51, 0.5)
