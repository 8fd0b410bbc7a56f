"""Caches keyed by content AND meaning (issue #11, 3), one byte bound for traces and analysis
results (issue #11, 4), and Gradient flow's overflow (issue #11, 9)."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest
import torch
from conftest import app_test
from streamlit.testing.v1 import AppTest
from torch import nn

from lstm_viz.analysis import compare_variants, gradient_flow
from lstm_viz.core import Recurrent
from lstm_viz.files import loaders
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.zoo import list_shipped, load_shipped
from lstm_viz.ui.sidebar import cached_trace
from lstm_viz.ui.trace_cache import RESULTS, ResultCache, buffers, nbytes
from lstm_viz.workbench import (
    Model,
    ModelChoice,
    build_model,
    example_sequence,
    model_from_state,
    model_from_trained,
    model_key,
    sequence_key,
    targets_key,
    trace_key,
)


def gru_state(input_size: int = 2, hidden: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    module = nn.GRU(input_size, hidden)
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def user_model(state: dict[str, np.ndarray], variant: str) -> Model:
    config = loaders.infer_config(state, variant)
    return model_from_state(state, config, f"yours ({variant})")


# -- keys ----------------------------------------------------------------------------------------


def test_same_tensors_as_gru_and_cifg_have_different_keys():
    state = gru_state()
    gru, cifg = user_model(state, "gru"), user_model(state, "cifg")
    assert gru.recurrent.state_dict().keys() == cifg.recurrent.state_dict().keys()
    assert gru.key != cifg.key
    assert gru.key.startswith("user:gru:") and cifg.key.startswith("user:cifg:")
    seq = Sequence(np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2), name="s")
    assert trace_key(gru, seq) != trace_key(cifg, seq)
    # the same file read the same way, twice: the same key (content, not identity)
    assert user_model(gru_state(), "gru").key == gru.key


def test_vanilla_niaf_noaf_on_the_same_tensors_have_different_keys():
    state = Recurrent(2, 5, seed=1).state_dict()
    keys = {v: user_model(state, v).key for v in ("vanilla", "niaf", "noaf")}
    assert len(set(keys.values())) == 3, keys


def test_keys_carry_names_configuration_dtype_and_values():
    a = Recurrent(4, 4, num_layers=2, seed=0)                    # weight_*_l0, weight_*_l1
    b = Recurrent(4, 4, bidirectional=True, seed=0)               # weight_*_l0, weight_*_l0_reverse
    b.load_state_dict(dict(zip(b.state_dict(), a.state_dict().values(), strict=True)))
    assert [v.tobytes() for v in a.state_dict().values()] == [
        v.tobytes() for v in b.state_dict().values()]            # the same values, other names
    assert model_key(a) != model_key(b)
    c = Recurrent(4, 4, num_layers=2, seed=0, dtype=np.float64)
    assert model_key(c) != model_key(a)                           # dtype
    d = Recurrent(4, 4, num_layers=2, seed=0)
    assert model_key(d) == model_key(a)                           # same everything: same key
    d.load_state_dict({k: v + (k == "bias_hh_l1") * np.float32(1e-6)
                       for k, v in d.state_dict().items()})
    assert model_key(d) != model_key(a)                           # one value
    assert model_key(a, np.zeros(3)) != model_key(a, np.ones(3)) != model_key(a)  # extras
    e = Recurrent(3, 4, proj_size=2, seed=0)
    f = Recurrent(3, 4, proj_size=2, seed=0, bias=False)
    assert model_key(e) != model_key(f)


def test_every_kind_of_model_uses_model_key():
    fresh = build_model(ModelChoice("fresh", "brackets", "vanilla", hidden_size=4), 2)
    assert fresh.key == "fresh:" + model_key(fresh.recurrent)
    other_seed = build_model(ModelChoice("fresh", "brackets", "vanilla", hidden_size=4, seed=1), 2)
    assert other_seed.key != fresh.key
    shipped = list_shipped()
    if shipped:
        task, variant = shipped[0]
        tm = load_shipped(task, variant)
        m = model_from_trained(tm)
        assert m.key == f"trained:{task}:" + model_key(
            m.recurrent, tm.task, tm.head_weight, np.asarray(tm.head_bias), tm.vocab)
        here = model_from_trained(tm, "trained here")
        assert here.key != m.key                                  # how it came is kept apart
        # another head on the same recurrent weights: another key
        import dataclasses
        tm2 = dataclasses.replace(tm, head_weight=tm.head_weight * 2)
        assert model_from_trained(tm2).key != m.key


def test_sequence_and_target_keys():
    a = example_sequence("brackets", seed=0)
    b = example_sequence("brackets", seed=1)
    assert sequence_key(a) != sequence_key(b)
    assert targets_key(a) != targets_key(b)
    assert targets_key(Sequence(a.values, name="no targets")) == "no-target"


# -- two sessions, same weights, different variants ------------------------------------------------


def test_two_sessions_same_file_as_gru_and_cifg_see_their_own_numbers():
    RESULTS.clear()
    state = gru_state()
    seq = Sequence(np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32), name="s")
    a, b = user_model(state, "gru"), user_model(state, "cifg")
    trace_a = cached_trace(a, seq)                     # session A first
    trace_b = cached_trace(b, seq)                     # session B: the same file as cifg
    assert "f" in trace_b.names() and "f" not in trace_a.names()
    expected = b.recurrent.trace(seq.values)
    for name in ("f", "i", "g", "o", "c", "h"):
        np.testing.assert_array_equal(trace_b.get(name), expected.get(name))
    np.testing.assert_array_equal(trace_a.get("h"), a.recurrent.trace(seq.values).get("h"))
    assert np.abs(trace_a.get("h") - trace_b.get("h")).max() > 1e-3
    # vanilla / niaf / noaf: each its own h
    models = {v: user_model(Recurrent(2, 5, seed=3).state_dict(), v)
              for v in ("vanilla", "niaf", "noaf")}
    hs = {v: cached_trace(m, seq).get("h") for v, m in models.items()}
    for v, m in models.items():
        np.testing.assert_array_equal(hs[v], m.recurrent.trace(seq.values).get("h"))
    assert np.abs(hs["vanilla"] - hs["niaf"]).max() > 0
    assert np.abs(hs["vanilla"] - hs["noaf"]).max() > 0
    RESULTS.clear()


# -- the byte-bounded cache ------------------------------------------------------------------------


def _trace(T: int, seed: int = 0):
    return Recurrent(1, 4, seed=seed).trace(np.ones((T, 1), np.float32))


def test_nbytes_measures_results_and_counts_shared_buffers_once():
    tr = _trace(200)
    assert nbytes(tr) >= tr.nbytes
    a = np.zeros((1000, 10), np.float32)
    assert nbytes(a) == a.nbytes
    assert nbytes(a[:, 0]) == a.nbytes                       # a view holds its whole base
    assert nbytes({"x": a, "y": (a, a[:5])}) < 2 * a.nbytes   # one buffer, counted once
    run = compare_variants({"m": Recurrent(1, 4, seed=0)}, np.ones((200, 1), np.float32),
                           traces={"m": tr})["m"]
    assert run.trace is tr
    assert set(buffers(tr)) & set(buffers(run))                # its state is a view of the trace
    import plotly.graph_objects as go
    fig = go.Figure(go.Heatmap(z=np.zeros((100, 100))))
    assert nbytes(fig) >= 100 * 100 * 4


def test_one_budget_evicts_by_bytes_across_kinds_of_results():
    x = np.ones((300, 1), np.float32)
    model = Recurrent(1, 4, seed=0)
    trace = model.trace(x)
    flow = gradient_flow(model, x)
    arrays = {"a": np.zeros(2_000, np.float64)}                 # 16 kB, under half the flow
    sizes = {k: nbytes(v) for k, v in (("trace", trace), ("flow", flow), ("arrays", arrays))}
    cache = ResultCache(max_bytes=sizes["trace"] + sizes["flow"] + sizes["arrays"] // 2)
    cache.get("trace", lambda: trace)
    cache.get("flow", lambda: flow)
    both = sizes["trace"] + sizes["flow"]
    assert len(cache) == 2 and both - 200 <= cache.nbytes <= both   # shared small objects once
    cache.get("trace", lambda: pytest.fail("kept: not computed again"))   # trace most recent
    cache.get("arrays", lambda: arrays)                      # over the bound: flow (oldest) goes
    assert cache.keys() == ["trace", "arrays"]
    assert cache.nbytes <= cache.max_bytes
    # a run built on the cached trace adds only its own bytes: the trace's buffers count once
    run = compare_variants({"m": model}, x, traces={"m": trace})["m"]
    cache.get("run", lambda: run)
    assert "trace" in cache and "run" in cache
    assert cache.nbytes < sizes["trace"] + nbytes(run)
    # a result larger than the whole budget is returned, not kept
    big = np.zeros(cache.max_bytes // 4 + 1, np.float32)
    assert cache.get("big", lambda: big) is big and "big" not in cache


def test_trace_and_results_share_the_servers_one_budget():
    from lstm_viz.ui import trace_cache
    assert trace_cache.TRACES is trace_cache.RESULTS
    assert RESULTS.max_bytes == 3 * 1024**3


def test_two_threads_asking_for_one_key_compute_once():
    cache = ResultCache(max_bytes=10**9)
    calls: list[int] = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return np.arange(10)

    out: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("k", slow)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(out) == 4 and all(o is out[0] for o in out)


def test_a_failed_computation_is_not_kept_and_others_retry():
    cache = ResultCache(max_bytes=10**6)

    def boom():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get("k", boom)
    assert "k" not in cache and cache.get("k", lambda: 5) == 5


# -- gradient overflow ----------------------------------------------------------------------------


def huge_state(rec: Recurrent) -> dict[str, np.ndarray]:
    """Recurrent weights of 1e6 scale, input weights and biases 0: every gate sits at its
    steepest point, so each step back multiplies the gradient by ~1e6 and float32 overflows."""
    return {k: (np.zeros_like(v) if k.startswith("bias") or "_ih_" in k else v * 1e6)
            for k, v in rec.state_dict().items()}


@pytest.mark.parametrize("variant", ["vanilla", "gru", "rnn"])
def test_gradient_flow_reports_overflow_without_warnings(variant):
    seq = example_sequence("remember", length=100)
    rec = Recurrent(seq.n_features, 8, seed=0, variant=variant)
    rec.load_state_dict(huge_state(rec))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = gradient_flow(rec, seq.values)
        flow.relative()
    values = flow.dc_abs if flow.dc_abs is not None else flow.dh_abs
    bad = ~np.isfinite(values)
    assert bad.sum() > 600                                 # the issue: 736 of 800
    assert flow.overflowed and flow.overflow_step is not None
    assert bad[: flow.overflow_step + 1].any(axis=1)[-1]
    assert np.isfinite(values[flow.overflow_step + 1:]).all()
    normal = gradient_flow(Recurrent(seq.n_features, 8, seed=0, variant=variant), seq.values)
    assert normal.overflow_step is None and not normal.overflowed


def test_gradient_flow_page_says_the_gradient_overflowed():
    seq = example_sequence("remember", length=100)
    rec = Recurrent(seq.n_features, 8, seed=0)
    state = huge_state(rec)
    model = model_from_state(state, loaders.infer_config(state, "vanilla"), "yours: huge")
    at = app_test("pages/2_Gradient_flow.py", query={"task": "remember"},
                  state={"custom_model": model}, timeout=120)
    at.run()
    at.sidebar.radio(key="w_model_kind").set_value("custom")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warning = "\n".join(str(w.value) for w in at.warning)
    assert "The gradient overflowed float32 from step" in warning, warning
    assert "retrain it or scale its weights down" in warning
    caption = "\n".join(str(c.value) for c in at.caption)
    assert "grey: overflowed, not a number" in caption
    import json
    [heat] = [json.loads(e.proto.spec) for e in at.get("plotly_chart")
              if "|∂L/∂c|" in json.loads(e.proto.spec)["layout"].get("title", {}).get("text", "")]
    assert [t.get("name") for t in heat["data"]].count("overflowed") == 1


def gradient_page(model: Model) -> AppTest:
    """One session: the Gradient flow page with ``model`` as the sidebar's own model."""
    at = app_test("pages/2_Gradient_flow.py", query={"task": "brackets"},
                  state={"custom_model": model}, timeout=120)
    at.run()
    at.sidebar.radio(key="w_model_kind").set_value("custom")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_gradient_flow_of_one_file_as_gru_then_as_cifg_in_two_sessions():
    RESULTS.clear()
    state = gru_state()
    gru = gradient_page(user_model(state, "gru"))                 # session A fills the cache
    cifg = gradient_page(user_model(state, "cifg"))               # session B, the same tensors
    heads_a = [s.value for s in gru.subheader if s.value.startswith("Inside the loaded model")]
    heads_b = [s.value for s in cifg.subheader if s.value.startswith("Inside the loaded model")]
    assert heads_a == ["Inside the loaded model: |∂L/∂h| per unit"]
    assert heads_b == ["Inside the loaded model: |∂L/∂c| per unit"]   # cifg has a cell: its own
    assert any("has no cell state" in str(i.value) for i in gru.info)
    assert not any("has no cell state" in str(i.value) for i in cifg.info)
    RESULTS.clear()
