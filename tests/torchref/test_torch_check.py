"""``lstm_viz.torchref.check``: the visible match with torch for every variant, and what it says
when torch is missing or the numbers differ; ``trace_match``: the same check on a trace already
computed, over a bounded prefix of a long sequence, saying which steps it compared."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lstm_viz.core import TABLE, VARIANTS, Recurrent, is_lstm
from lstm_viz.torchref.check import (
    CHECK_STEPS,
    NOT_INSTALLED,
    TorchMatch,
    module_name,
    torch_match,
    trace_match,
)

pytest.importorskip("torch")


def run(variant: str, dtype=np.float32, T: int = 40, batch: int | None = 3, **kw) -> TorchMatch:
    model = Recurrent(3, 6, variant=variant, dtype=dtype, seed=7, **kw)
    rng = np.random.default_rng(7)
    if TABLE[variant].peephole:                        # peepholes start at 0: make them count
        model.load_state_dict({k: (rng.normal(0, 0.5, v.shape) if "peephole" in k else v)
                               for k, v in model.state_dict().items()})
    shape = (T, 3) if batch is None else ((batch, T, 3) if model.batch_first else (T, batch, 3))
    return torch_match(model, rng.normal(size=shape).astype(dtype))


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_matches_in_float32(variant: str) -> None:
    r = run(variant)
    assert r.available and r.ok
    assert r.max_abs_dh <= 1e-5
    assert r.steps == 40 and r.sequences == 3
    torch_class = TABLE[variant].torch_class
    name = f"torch.nn.{torch_class}" if torch_class else f"reference LSTM ({variant})"
    assert r.module_name == name == module_name(variant)
    assert name in r.message and "steps" in r.message
    assert r.message.startswith(f"matches {name}: max |Δh| = ")
    assert (r.max_abs_dc is not None) == is_lstm(variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_matches_in_float64(variant: str) -> None:
    r = run(variant, dtype=np.float64, num_layers=2, bidirectional=True, batch_first=True)
    assert r.ok and r.max_abs_dh <= 1e-10


@pytest.mark.parametrize("kw", [
    dict(proj_size=2), dict(num_layers=3, bidirectional=True), dict(batch_first=True),
    dict(bias=False), dict(batch=None), dict(batch=None, bidirectional=True, proj_size=4)])
def test_configurations(kw: dict) -> None:
    for variant in ("vanilla", "cifg"):
        r = run(variant, **kw)
        assert r.ok and r.max_abs_dh <= 1e-5, r.message


def test_with_initial_state() -> None:
    for variant in ("vanilla", "nfg", "gru"):
        model = Recurrent(2, 4, num_layers=2, variant=variant, seed=1)
        rng = np.random.default_rng(1)
        h0 = rng.normal(size=(2, 5, 4)).astype(np.float32)
        hx = (h0, rng.normal(size=(2, 5, 4)).astype(np.float32)) if is_lstm(variant) else h0
        x = rng.normal(size=(9, 5, 2)).astype(np.float32)
        r = torch_match(model, x, hx)
        assert r.ok, r.message
        # and the initial state is really passed on: without it the models differ from each
        # other, so comparing our hx-run with torch's zero-state run would fail
        assert np.abs(model(x, hx)[0] - model(x)[0]).max() > 1e-3


def test_long_sequence_message() -> None:
    r = run("vanilla", T=1000, batch=None, num_layers=1)
    assert r.steps == 1000 and r.ok
    assert "over 1,000 steps" in r.message and "sequences" not in r.message


def test_a_mismatch_is_reported() -> None:
    class Off(Recurrent):
        """A model whose output is off by 1e-3: the check must say it differs."""

        def __call__(self, x, hx=None):
            out, h_n = super().__call__(x, hx)
            return out + 1e-3, h_n

    model = Off(3, 4, seed=0)
    r = torch_match(model, np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32))
    assert r.available and not r.ok
    assert r.max_abs_dh == pytest.approx(1e-3, rel=1e-2)
    assert r.message.startswith("differs from torch.nn.LSTM") and "tolerance" in r.message


def test_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)    # `import torch` now raises ImportError
    model = Recurrent(3, 4, variant="gru", seed=0)
    r = torch_match(model, np.zeros((5, 3), dtype=np.float32))
    assert not r.available and not r.ok
    assert r.message == NOT_INSTALLED == "torch is not installed here: no check against it"
    assert r.module_name == "torch.nn.GRU" and r.steps == 5


def test_a_torch_failure_does_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    import lstm_viz.torchref.check as tc

    def broken(model):
        raise RuntimeError("boom")

    monkeypatch.setattr(tc, "build_torch_module", broken)
    r = torch_match(Recurrent(3, 4, seed=0), np.zeros((5, 3), dtype=np.float32))
    assert r.available and not r.ok and "boom" in r.message


def test_bad_input_is_the_callers_error() -> None:
    with pytest.raises(ValueError, match="features"):
        torch_match(Recurrent(3, 4, seed=0), np.zeros((5, 2)))


# --------------------------------------------------------------------------- trace_match


def traced(variant: str = "vanilla", T: int = 40, batch: int | None = None, hidden: int = 6,
           seed: int = 7, **kw):
    """(model, x, its trace): float32, 3 features."""
    model = Recurrent(3, hidden, variant=variant, seed=seed, **kw)
    rng = np.random.default_rng(seed)
    shape = (T, 3) if batch is None else ((batch, T, 3) if model.batch_first else (T, batch, 3))
    x = rng.normal(size=shape).astype(np.float32)
    return model, x, model.trace(x)


SHORT_CONFIGS = [dict(), dict(batch=3), dict(num_layers=2), dict(bidirectional=True),
                 dict(num_layers=2, bidirectional=True, batch=2, batch_first=True),
                 dict(proj_size=2, bidirectional=True)]


@pytest.mark.parametrize(("variant", "kw"), [
    (v, kw) for v in VARIANTS for kw in SHORT_CONFIGS if is_lstm(v) or "proj_size" not in kw],
    ids=lambda a: a if isinstance(a, str) else (",".join(a) or "plain"))
def test_short_sequences_give_the_same_verdict_as_before(variant: str, kw: dict) -> None:
    """Up to CHECK_STEPS steps every step is compared: the verdict and the numbers of the old
    check (the model run again), and the same message."""
    model, x, trace = traced(variant, **kw)
    new, old = trace_match(model, trace, x), torch_match(model, x)
    assert new.ok and old.ok, (new.message, old.message)
    assert new.message == old.message
    assert new.max_abs_dh == pytest.approx(old.max_abs_dh, rel=1e-6, abs=1e-12)
    assert (new.max_abs_dc is None) == (old.max_abs_dc is None)
    assert new.scope == "all" and new.whole and new.compared_steps == new.steps == 40
    assert "first" not in new.message


def test_a_sequence_of_exactly_check_steps_is_compared_whole() -> None:
    model, x, trace = traced(T=30, hidden=3)
    r = trace_match(model, trace, x, max_steps=30)
    assert r.whole and r.message.endswith("over 30 steps")
    r = trace_match(model, trace, x, max_steps=29)
    assert not r.whole and r.message.endswith("over the first 29 of 30 steps")


def recording(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the inputs torch is given from now on."""
    import lstm_viz.torchref.check as tc

    lengths: list[int] = []
    build = tc.build_torch_module

    def spy(*args, **kwargs):
        module = build(*args, **kwargs)

        def run(x, hx=None):
            lengths.append(int(x.shape[1] if module.batch_first else x.shape[0]))
            return type(module).__call__(module, x, hx)

        return run

    monkeypatch.setattr(tc, "build_torch_module", spy)
    return lengths


def no_retrace(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, running the NumPy model fails the test."""
    def boom(*args, **kwargs):
        raise AssertionError("the NumPy model was run again")

    monkeypatch.setattr(Recurrent, "trace", boom)
    monkeypatch.setattr(Recurrent, "__call__", boom)


@pytest.mark.parametrize("variant", ["vanilla", "gru", "cifg"])
def test_a_long_sequence_is_compared_over_a_prefix_and_says_so(
        variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CHECK_STEPS == 2_000
    model, x, trace = traced(variant, T=10_000, hidden=4, num_layers=2)
    lengths = recording(monkeypatch)
    no_retrace(monkeypatch)
    r = trace_match(model, trace, x)
    assert lengths == [2_000]                          # torch saw the prefix only, once
    assert r.ok, r.message
    assert r.steps == 10_000 and r.compared_steps == 2_000 and r.scope == "prefix"
    assert not r.whole
    name = module_name(variant)
    assert r.message.startswith(f"matches {name}: max |Δh| = ")
    assert r.message.endswith("over the first 2,000 of 10,000 steps")


def test_a_batched_prefix_names_its_sequences() -> None:
    model, x, trace = traced(T=300, batch=3, batch_first=True)
    r = trace_match(model, trace, x, max_steps=50)
    assert r.ok and r.message.endswith("over the first 50 of 300 steps × 3 sequences")


@pytest.mark.parametrize("where", ["h", "output step", "c"])
def test_a_wrong_value_inside_the_prefix_is_a_mismatch(where: str) -> None:
    model, x, trace = traced(T=10_000, hidden=4)
    assert trace_match(model, trace, x).ok
    if where == "h":                                   # h at a step inside the prefix
        trace.get("h")[1_234, 0, 2] += 1e-3
    elif where == "output step":                       # the last compared step
        trace.get("h")[1_999, 0, 0] -= 1e-3
    else:                                              # c at the last compared step
        trace.get("c")[1_999, 0, 1] += 1e-3
    r = trace_match(model, trace, x)
    assert r.available and not r.ok
    gap = r.max_abs_dc if where == "c" else r.max_abs_dh
    assert gap == pytest.approx(1e-3, rel=1e-2)
    assert r.message.startswith("differs from torch.nn.LSTM: max |Δh| = ")
    assert "over the first 2,000 of 10,000 steps (tolerance 1e-05)" in r.message


def test_a_nan_in_the_trace_is_a_mismatch() -> None:
    model, x, trace = traced(T=100, hidden=4)
    trace.get("h")[10, 0, 0] = np.nan
    r = trace_match(model, trace, x)
    assert not r.ok and "nan" in r.message


def test_steps_after_the_prefix_are_not_compared() -> None:
    """Why the message names the steps: a value after them is not seen."""
    model, x, trace = traced(T=10_000, hidden=4)
    trace.get("h")[5_000, 0, 0] += 1.0
    r = trace_match(model, trace, x)
    assert r.ok and "over the first 2,000 of 10,000 steps" in r.message
    assert not trace_match(model, trace, x, max_steps=None).ok


@pytest.mark.parametrize("variant", ["vanilla", "gru", "rnn", "peephole"])
def test_a_long_bidirectional_model_compares_both_ends_of_layer_1(
        variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backward step depends on every later step: a prefix run would be wrong for it. The
    check runs each direction of layer 1 alone, the backward one over the last steps."""
    model, x, trace = traced(variant, T=10_000, hidden=4, bidirectional=True)
    lengths = recording(monkeypatch)
    no_retrace(monkeypatch)
    r = trace_match(model, trace, x)
    assert lengths == [2_000, 2_000]
    assert r.ok, r.message
    assert r.scope == "ends" and r.compared_steps == 2_000 and not r.whole
    assert r.message.endswith("over the first 2,000 of 10,000 steps in the forward direction "
                              "and the last 2,000 in the backward direction")


def test_a_long_deep_bidirectional_model_says_only_layer_1() -> None:
    model, x, trace = traced(T=3_000, hidden=3, num_layers=2, bidirectional=True, proj_size=2)
    r = trace_match(model, trace, x)
    assert r.ok, r.message
    assert "over layer 1 of 2 only: the first 2,000 of 3,000 steps in the forward direction " \
           "and the last 2,000 in the backward direction" in r.message


@pytest.mark.parametrize(("direction", "step", "seen"), [
    (1, 9_990, True), (1, 8_000, True), (0, 1_999, True), (0, 100, True),
    (1, 100, False), (0, 9_990, False)])
def test_which_steps_of_a_long_bidirectional_model_are_seen(direction: int, step: int,
                                                             seen: bool) -> None:
    model, x, trace = traced(T=10_000, hidden=4, bidirectional=True)
    trace.get("h", 0, direction)[step, 0, 1] += 1e-3
    r = trace_match(model, trace, x)
    assert r.ok != seen, r.message
    if seen:
        assert r.max_abs_dh == pytest.approx(1e-3, rel=1e-2)


def test_a_short_bidirectional_model_is_run_whole() -> None:
    """Up to CHECK_STEPS steps a bidirectional model is run whole, and compared as
    ``torch_match`` compares it: the output (the last layer, both directions, every step) and
    every layer's final h and c (position 0 for the backward direction)."""
    for layer, direction, name, step in [(1, 1, "h", 250), (1, 0, "h", 3), (0, 1, "h", 0),
                                         (1, 1, "c", 0), (0, 0, "c", 499)]:
        model, x, trace = traced(T=500, hidden=4, bidirectional=True, num_layers=2)
        assert trace_match(model, trace, x).whole
        trace.get(name, layer, direction)[step, 0, 0] += 1e-3
        r = trace_match(model, trace, x)
        assert not r.ok and r.message.endswith("over 500 steps (tolerance 1e-05)"), r.message


def test_trace_match_with_an_initial_state() -> None:
    for variant in ("vanilla", "gru"):
        model = Recurrent(2, 4, num_layers=2, variant=variant, seed=1)
        rng = np.random.default_rng(1)
        h0 = rng.normal(size=(2, 4)).astype(np.float32)
        hx = (h0, rng.normal(size=(2, 4)).astype(np.float32)) if is_lstm(variant) else h0
        x = rng.normal(size=(300, 2)).astype(np.float32)
        trace = model.trace(x, hx)
        assert trace_match(model, trace, x, hx, max_steps=100).ok
        assert not trace_match(model, trace, x, max_steps=100).ok   # zeros are not hx


def test_a_trace_of_something_else_is_reported_not_raised() -> None:
    model, x, trace = traced(T=40)
    r = trace_match(model, trace, x[:30])
    assert r.available and not r.ok
    assert r.message.startswith("could not compare with torch.nn.LSTM") and "40" in r.message
    other, _, _ = traced(T=40, seed=8)                 # other weights, this trace
    r = trace_match(other, trace, x)
    assert not r.ok and r.message.startswith("differs from")


def test_trace_match_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    model, x, trace = traced(T=3_000, hidden=3)
    monkeypatch.setitem(sys.modules, "torch", None)
    r = trace_match(model, trace, x)
    assert not r.available and r.message == NOT_INSTALLED and r.steps == 3_000


def test_trace_match_bad_input_is_the_callers_error() -> None:
    model, x, trace = traced(T=10)
    with pytest.raises(ValueError, match="features"):
        trace_match(model, trace, x[:, :2])
