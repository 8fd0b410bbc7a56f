"""Attribution: which inputs drove an output (SPEC §6).

``attribute(model, x, step, weight, method)`` scores ``weight · output[step]`` (the model's output:
the last layer, both directions concatenated; for a linear head's logit k, ``weight`` is the
head's row k) and spreads it over the inputs ``x`` (T, input_size):

- ``"gradient"``: ∂score/∂x, by BPTT (``Recurrent.backward``).
- ``"grad_x_input"``: x ⊙ ∂score/∂x.
- ``"integrated_gradients"`` (Sundararajan et al. 2017): (x − x') ⊙ the mean of ∂score/∂x over
  the midpoints α_k = (k + ½)/n_steps of the straight path from the baseline x' to x. The path's
  points run as one batch (one batch row each), so it costs one batched trace and one BPTT.
- ``"occlusion"`` (Zeiler & Fergus 2014): element (t, j) is score(x) − score(x with x[t, j]
  replaced by x'[t, j]); every occluded copy is a batch row, in chunks of bounded memory.

NumPy only, on the core's traces; float64 agrees with torch autograd within 1e-8 (tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_viz.core import Recurrent

METHODS: dict[str, str] = {
    "gradient": "how much the score moves per unit of each input, here (local, signed)",
    "grad_x_input": "the gradient times the input: a first-order share of the score per input",
    "integrated_gradients": "the gradient averaged along the path from the baseline to the "
                            "input, times their difference: the shares add up to "
                            "score(x) − score(baseline)",
    "occlusion": "how much the score drops when one input is set to the baseline's value",
}
# Occlusion batches: at most this many float values in one batched trace (about 400 MB in
# float32), so a long sequence runs in chunks instead of one huge batch.
MAX_BATCH_VALUES = 100_000_000


def _batched(model: Recurrent, xs: np.ndarray) -> np.ndarray:
    """(B, T, I) sequences in the layout the model's ``trace`` takes for a batch."""
    return xs if model.batch_first else xs.transpose(1, 0, 2)


def _from_batched(model: Recurrent, a: np.ndarray) -> np.ndarray:
    """A batched result (time-major or batch-first, as the model says) -> (B, T, features)."""
    return a if model.batch_first else a.transpose(1, 0, 2)


def _grad_batch(model: Recurrent, xs: np.ndarray, step: int, weight: np.ndarray) -> np.ndarray:
    """∂(weight · output[step])/∂x for each sequence of a batch: (B, T, I) -> (B, T, I)."""
    trace = model.trace(_batched(model, xs))
    out = _from_batched(model, trace.output)                 # (B, T, O)
    d_out = np.zeros_like(out)
    d_out[:, step] = weight
    grads = model.backward(trace, _batched(model, d_out))
    return _from_batched(model, grads.input)


def _scores(model: Recurrent, xs: np.ndarray, step: int, weight: np.ndarray) -> np.ndarray:
    """weight · output[step] of each sequence of a batch (B, T, I) -> (B,)."""
    trace = model.trace(_batched(model, xs))
    return _from_batched(model, trace.output)[:, step] @ weight


def attribute(model: Recurrent, x: Any, step: int, weight: Any, method: str = "grad_x_input",
              baseline: Any = None, n_steps: int = 64) -> np.ndarray:
    """Attribution of ``weight · output[step]`` to each input of ``x`` (T, input_size) -> (T,
    input_size), by ``method`` (see :data:`METHODS`); ``baseline`` x' defaults to zeros."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    x = np.asarray(x, dtype=model.dtype)
    if x.ndim != 2 or x.shape[1] != model.input_size or x.shape[0] == 0:
        raise ValueError(f"x must be one sequence (T, {model.input_size}), got shape {x.shape}")
    T = x.shape[0]
    if not 0 <= int(step) < T:
        raise ValueError(f"step {step} is outside the sequence (0 to {T - 1})")
    step = int(step)
    c = model.config
    weight = np.asarray(weight, dtype=model.dtype)
    if weight.shape != (c.num_directions * c.real_hidden_size,):
        raise ValueError(f"weight must have the output's size "
                         f"({c.num_directions * c.real_hidden_size},), got {weight.shape}")
    x0 = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=model.dtype)
    if x0.shape != x.shape:
        raise ValueError(f"baseline must have x's shape {x.shape}, got {x0.shape}")

    if method in ("gradient", "grad_x_input"):
        g = _grad_batch(model, x[None], step, weight)[0]
        return g if method == "gradient" else x * g
    if method == "integrated_gradients":
        if int(n_steps) < 1:
            raise ValueError(f"n_steps must be at least 1, got {n_steps}")
        alphas = (np.arange(int(n_steps), dtype=model.dtype) + 0.5) / int(n_steps)
        path = x0[None] + alphas[:, None, None] * (x - x0)[None]      # (n, T, I)
        g = _grad_batch(model, path, step, weight).mean(axis=0)
        return (x - x0) * g
    # occlusion: one batch row per (t, j) with x[t, j] set to the baseline's value
    full = _scores(model, x[None], step, weight)[0]
    cells = [(t, j) for t in range(T) for j in range(x.shape[1])]
    per_row = T * (x.shape[1] + 8 * c.hidden_size * c.num_layers * c.num_directions)
    chunk = max(1, MAX_BATCH_VALUES // max(1, per_row))
    out = np.zeros_like(x)
    for start in range(0, len(cells), chunk):
        part = cells[start:start + chunk]
        xs = np.repeat(x[None], len(part), axis=0)
        ts, js = np.array([p[0] for p in part]), np.array([p[1] for p in part])
        xs[np.arange(len(part)), ts, js] = x0[ts, js]
        out[ts, js] = full - _scores(model, xs, step, weight)
    return out
