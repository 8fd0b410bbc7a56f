"""SPEC §6: attribution against torch autograd on the same weights, every variant and layout.

The reference computes each method from its definition with torch: the gradient by autograd,
integrated gradients as the mean of autograd gradients at the path's midpoints, occlusion by
running the torch module once per occluded input.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz.analysis import ATTRIBUTION_METHODS, attribute
from lstm_viz.core import TABLE, Recurrent
from lstm_viz.torchref.reference import make_torch_model

LAYOUTS = {"1 layer": (1, False, 0), "2 layers, bidirectional": (2, True, 0),
           "proj_size 2": (1, False, 2)}
CASES = [(v, name) for v, row in TABLE.items() for name, (_, _, proj) in LAYOUTS.items()
         if row.is_lstm or not proj]                    # proj_size is the LSTM family's


def torch_score(module, x, step, weight):
    return module(x)[0][step] @ weight


def torch_attribution(module, x, step, weight, method, baseline, n_steps):
    x, w, x0 = (torch.tensor(a, dtype=torch.float64) for a in (x, weight, baseline))

    def grad_at(point):
        point = point.clone().requires_grad_(True)
        torch_score(module, point, step, w).backward()
        return point.grad

    if method == "gradient":
        return grad_at(x).numpy()
    if method == "grad_x_input":
        return (x * grad_at(x)).numpy()
    if method == "integrated_gradients":
        grads = [grad_at(x0 + (k + 0.5) / n_steps * (x - x0)) for k in range(n_steps)]
        return ((x - x0) * torch.stack(grads).mean(0)).numpy()
    with torch.no_grad():
        full = torch_score(module, x, step, w)
        out = torch.zeros_like(x)
        for t in range(x.shape[0]):
            for j in range(x.shape[1]):
                xo = x.clone()
                xo[t, j] = x0[t, j]
                out[t, j] = full - torch_score(module, xo, step, w)
    return out.numpy()


def setup(variant: str, layout: str, dtype=torch.float64):
    layers, bidirectional, proj = LAYOUTS[layout]
    module = make_torch_model(variant, 3, 4, num_layers=layers, bidirectional=bidirectional,
                              proj_size=proj, dtype=dtype, seed=1).eval()
    model = Recurrent.from_torch(module)
    rng = np.random.default_rng(0)
    x, base = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) * 0.1
    weight = rng.normal(size=(model.config.num_directions * model.config.real_hidden_size,))
    return module, model, x, base, weight


@pytest.mark.parametrize("method", list(ATTRIBUTION_METHODS))
@pytest.mark.parametrize("variant,layout", CASES)
def test_float64_matches_torch_within_1e_8(method, variant, layout):
    module, model, x, base, weight = setup(variant, layout)
    got = attribute(model, x, 4, weight, method, baseline=base, n_steps=8)
    want = torch_attribution(module, x, 4, weight, method, base, 8)
    np.testing.assert_allclose(got, want, atol=1e-8, rtol=0)


@pytest.mark.parametrize("method", list(ATTRIBUTION_METHODS))
def test_float32_matches_torch_within_1e_4_relative(method):
    module64, model64, x, base, weight = setup("peephole", "2 layers, bidirectional")
    model32 = Recurrent.from_state_dict(model64.state_dict(), 3, 4, num_layers=2,
                                        bidirectional=True, variant="peephole", dtype=np.float32)
    got = attribute(model32, x, 4, weight, method, baseline=base, n_steps=8)
    want = torch_attribution(module64, x, 4, weight, method, base, 8)
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_integrated_gradients_are_complete():
    """Σ attributions = score(x) − score(baseline), up to the midpoint rule's error."""
    _, model, x, base, weight = setup("vanilla", "1 layer")
    a = attribute(model, x, 6, weight, "integrated_gradients", baseline=base, n_steps=256)
    score = lambda z: float(model.trace(z).output[6] @ weight)  # noqa: E731
    assert abs(a.sum() - (score(x) - score(base))) < 1e-4


def test_an_input_after_the_step_gets_nothing_in_a_forward_model():
    _, model, x, _, weight = setup("gru", "1 layer")
    for method in ATTRIBUTION_METHODS:
        assert np.all(attribute(model, x, 3, weight, method)[4:] == 0), method


@pytest.mark.parametrize("kwargs,words", [
    ({"method": "saliency"}, "unknown method"),
    ({"step": 7}, "outside the sequence"),
    ({"weight": np.ones(3)}, "weight must have the output's size"),
    ({"baseline": np.zeros((6, 3))}, "baseline must have x's shape"),
    ({"method": "integrated_gradients", "n_steps": 0}, "n_steps must be at least 1"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, words):
    _, model, x, _, weight = setup("vanilla", "1 layer")
    args = {"step": 2, "weight": weight, **kwargs}
    with pytest.raises(ValueError, match=words):
        attribute(model, x, **args)


def test_integrated_gradients_find_the_adding_tasks_marked_steps():
    """Issue #14: on the shipped adding model, integrated gradients (zero baseline, 64 steps)
    put the two marked positions on top by Σ|attribution| over features in ≥ 90% of 100
    examples (measured: 100 of 100)."""
    from lstm_viz.training.zoo import load_shipped
    from lstm_viz.workbench import example_sequence

    tm = load_shipped("adding", "vanilla")
    model, weight = tm.recurrent(), tm.head_weight[0]
    hits = 0
    for seed in range(100):
        x = example_sequence("adding", seed=seed).values
        a = attribute(model, x, len(x) - 1, weight, "integrated_gradients", n_steps=64)
        top = set(np.argsort(-np.abs(a).sum(axis=1))[:2].tolist())
        hits += top == set(np.flatnonzero(x[:, 1] > 0.5).tolist())
    assert hits >= 90
