"""Comparing variants: several models on one sequence: traces, states and per-step task loss."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_viz.core import Recurrent, Trace, is_lstm
from lstm_viz.training.tasks import Task, get_task

from ._checks import check_sequence

Head = Any  # a TrainedModel (anything with .readout), a (weight, bias) pair or a callable


def _readout(head: Head) -> Callable[[np.ndarray], np.ndarray]:
    if hasattr(head, "readout"):
        return head.readout
    if callable(head):
        return head
    if isinstance(head, (tuple, list)) and len(head) == 2:
        w, b = (np.asarray(a, dtype=np.float64) for a in head)
        return lambda h: np.asarray(h, dtype=np.float64) @ w.T + b
    raise TypeError("a head is a TrainedModel, a (weight, bias) pair or a callable h -> outputs")


def step_losses(pred: np.ndarray, targets: Any, task: Task | str) -> np.ndarray:
    """Per-step loss (T,) of head outputs ``pred`` (T, O) of one sequence.

    mse tasks: mean over outputs of (pred − y)²; ce tasks: cross-entropy of the logits against the
    class index. ``targets`` as the task gives them for one sequence (``Task.example`` puts them
    in ``meta["target"]``): per-step tasks (T, O) / (T,), last-step tasks (O,) or a class index.
    For last-step tasks only the last step counts: the other entries are NaN.
    """
    task = get_task(task) if isinstance(task, str) else task
    pred = np.asarray(pred, dtype=np.float64)
    if pred.ndim != 2:
        raise ValueError(f"pred must be (T, outputs), got shape {pred.shape}")
    T, O = pred.shape
    y = np.asarray(targets)
    steps = slice(None) if task.per_step else slice(T - 1, T)
    p = pred[steps]
    n = p.shape[0]
    if task.loss == "ce":
        y = y.reshape(-1).astype(np.int64)
        if y.size != n:
            raise ValueError(f"{task.name}: expected {n} class target(s), got {y.size}")
        if np.any((y < 0) | (y >= O)):
            raise ValueError(f"{task.name}: class targets must be in 0..{O - 1}")
        top = p.max(axis=1, keepdims=True)
        lse = np.log(np.exp(p - top).sum(axis=1)) + top[:, 0]
        loss = lse - p[np.arange(n), y]
    else:
        y = y.astype(np.float64)
        if y.size != n * O:
            raise ValueError(f"{task.name}: expected targets with {n * O} values "
                             f"({n} step(s) x {O} outputs), got shape {y.shape}")
        loss = ((p - y.reshape(n, O)) ** 2).mean(axis=1)
    out = np.full(T, np.nan)
    out[steps] = loss
    return out


@dataclass
class VariantRun:
    """One model on the shared sequence.

    trace: the full trace; state (T, units): the cell state c for the LSTM family, h for gru / rnn
    (``state_name`` says which); hidden (T, R): h; prediction (T, O): head outputs when a head was
    given; loss (T,): per-step task loss (NaN at steps that do not count) and mean_loss its mean
    over the steps that count, when task, targets and head were given.
    """

    trace: Trace
    state: np.ndarray
    state_name: str
    hidden: np.ndarray
    prediction: np.ndarray | None = None
    loss: np.ndarray | None = None
    mean_loss: float | None = None

    @property
    def cell(self) -> np.ndarray:
        """The cell state (T, units) (h for gru / rnn)."""
        return self.state


def compare_variants(models: Mapping[str, Recurrent], x: np.ndarray, targets: Any = None,
                     task: Task | str | None = None, heads: Mapping[str, Head] | None = None, *,
                     layer: int = 0, direction: int = 0,
                     traces: Mapping[str, Trace] | None = None) -> dict[str, VariantRun]:
    """Run several models on one sequence x (T, I): name -> :class:`VariantRun`.

    ``heads`` (name -> TrainedModel, (weight, bias) or callable) adds predictions; with ``task``
    (a Task or its name) and ``targets`` (as the task gives them for one sequence) also the
    per-step loss (:func:`step_losses`). ``layer`` / ``direction`` pick the state shown.
    ``traces`` (name -> a trace of exactly this x through that model) skips their forward pass.
    """
    if targets is not None and task is None:
        raise ValueError("give the task with the targets: it fixes the loss")
    out = {}
    for name, model in models.items():
        x_ = check_sequence(model, x)
        trace = traces[name] if traces is not None and name in traces else model.trace(x_)
        lstm = is_lstm(model.variant)
        state_name = "c" if lstm else "h"
        run = VariantRun(
            trace=trace, state=trace.get(state_name, layer, direction)[:, 0],
            state_name=state_name, hidden=trace.get("h", layer, direction)[:, 0],
        )
        head = None if heads is None else heads.get(name)
        if head is not None:
            run.prediction = np.asarray(_readout(head)(trace.output))
            if targets is not None and task is not None:
                run.loss = step_losses(run.prediction, targets, task)
                counted = run.loss[~np.isnan(run.loss)]
                run.mean_loss = float(counted.mean()) if counted.size else None
        out[name] = run
    return out


def cell_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a − b of two state arrays (T, units) of the same sequence (float64).

    ValueError when the unit counts (or the step counts) differ: the states of models of
    different sizes cannot be compared unit by unit.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"cell states must be (T, units), got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the units differ ({a.shape[1]} vs {b.shape[1]}): only models with "
                         "the same number of units can be compared unit by unit")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"the step counts differ ({a.shape[0]} vs {b.shape[0]}): compare runs "
                         "of the same sequence")
    return a - b


def coupling_gap(run: VariantRun) -> float:
    """max |f + i − 1| over the steps and units of a run (0 up to rounding for a coupled cell)."""
    f, i = (run.trace.get(k)[:, 0].astype(np.float64) for k in ("f", "i"))
    return float(np.abs(f + i - 1).max())


def gate_sum_range(run: VariantRun) -> tuple[float, float]:
    """(min, max) of f + i over the steps and units of a run (coupled gates give 1 everywhere)."""
    s = run.trace.get("f")[:, 0].astype(np.float64) + run.trace.get("i")[:, 0]
    return float(s.min()), float(s.max())


def peephole_reach(peephole: np.ndarray, run: VariantRun) -> tuple[float, float, float]:
    """Largest |p·c| the peepholes add to z_i, z_f (from c_{t-1}) and z_o (from c_t) on a run.

    peephole (3, H): the rows p_i, p_f, p_o of layer 0 (``weight_peephole_l0``); run: that
    model's :class:`VariantRun` of layer 0, direction 0 (its state is c; c_{-1} is the trace's
    initial cell state, zeros when it has none).
    """
    p = np.asarray(peephole, dtype=np.float64)
    c = run.state.astype(np.float64)
    c0 = run.trace.c0[0, 0] if run.trace.c0 is not None else np.zeros(c.shape[1])
    c_prev = np.vstack([c0[None], c[:-1]])
    return (float(np.abs(p[0] * c_prev).max()), float(np.abs(p[1] * c_prev).max()),
            float(np.abs(p[2] * c).max()))
