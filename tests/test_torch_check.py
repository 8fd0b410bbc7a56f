"""``lstm_viz.torch_check``: the visible match with torch for every variant, and what it says
when torch is missing or the numbers differ."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lstm_viz.core import VARIANTS, Recurrent, is_lstm
from lstm_viz.torch_check import NOT_INSTALLED, TorchMatch, module_name, torch_match

pytest.importorskip("torch")


def run(variant: str, dtype=np.float32, T: int = 40, batch: int | None = 3, **kw) -> TorchMatch:
    model = Recurrent(3, 6, variant=variant, dtype=dtype, seed=7, **kw)
    rng = np.random.default_rng(7)
    if variant == "peephole":                          # peepholes start at 0: make them count
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
    name = {"vanilla": "torch.nn.LSTM", "gru": "torch.nn.GRU", "rnn": "torch.nn.RNN"}.get(
        variant, f"reference LSTM ({variant})")
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
    import lstm_viz.torch_check as tc

    def broken(model):
        raise RuntimeError("boom")

    monkeypatch.setattr(tc, "build_torch_module", broken)
    r = torch_match(Recurrent(3, 4, seed=0), np.zeros((5, 3), dtype=np.float32))
    assert r.available and not r.ok and "boom" in r.message


def test_bad_input_is_the_callers_error() -> None:
    with pytest.raises(ValueError, match="features"):
        torch_match(Recurrent(3, 4, seed=0), np.zeros((5, 2)))
