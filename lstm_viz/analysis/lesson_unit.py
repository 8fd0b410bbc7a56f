"""The telling unit of a task: the unit whose quantity carries the task's lesson, by measurement.

Each task names its lesson (``Task.lesson``: the quantity to watch, and the latent a unit should
track, e.g. the nesting depth of brackets). :func:`pick_unit` measures it on a trace:

* with a latent: the unit whose quantity has the largest |Pearson r| with the latent over the
  sequence (a constant unit scores 0);
* without one (remember the first symbol: the latent is one symbol, constant over the sequence,
  so no correlation over time exists): the unit whose quantity is farthest from zero at the last
  step, the cue. That unit carries the most into the readout at the one step that is scored.

:func:`shipped_telling_unit` measures it for a shipped model on its task example (seed 0), once
per model (cached). Models without a cell state (GRU, plain RNN) are measured on ``h``.

Also here: :func:`per_unit_default`, the rule that turns the heatmaps' per-unit colour scale on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lstm_viz.training.tasks import get_task

STRONG = 0.7      # |r| from which the sentence says the unit does what the lesson says
DOMINANCE = 3.0   # one unit's range over the median unit's: from here, scale each row alone


@dataclass(frozen=True)
class TellingUnit:
    """The measured unit: ``score`` is r with the latent, or the last-step value (no latent)."""

    unit: int
    quantity: str
    score: float
    correlated: bool
    sentence: str


def pick_unit(values: np.ndarray, latent: np.ndarray | None) -> tuple[int, float, bool]:
    """(unit, score, correlated) for ``values`` (T, units) and a (T,) ``latent`` or None.

    Correlated: the unit of largest |r| with the latent (score = its signed r). Otherwise (no
    latent, or a constant one): the unit farthest from zero at the last step (score = its value).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
        raise ValueError(f"expected values (T, units), got shape {v.shape}")
    if latent is not None:
        z = np.asarray(latent, dtype=np.float64).reshape(-1)
        if z.shape[0] != v.shape[0]:
            raise ValueError(f"the latent has {z.shape[0]} steps, the values {v.shape[0]}")
        zc = z - z.mean()
        if v.shape[0] > 2 and np.sqrt((zc ** 2).sum()) > 0:
            vc = v - v.mean(axis=0)
            norm = np.sqrt((vc ** 2).sum(axis=0)) * np.sqrt((zc ** 2).sum())
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.where(norm > 0, (vc * zc[:, None]).sum(axis=0) / norm, 0.0)
            r = np.nan_to_num(r)
            unit = int(np.argmax(np.abs(r)))
            return unit, float(r[unit]), True
    last = v[-1]
    unit = int(np.argmax(np.abs(last)))
    return unit, float(last[unit]), False


def telling_unit(task_name: str, quantities: dict[str, np.ndarray], seq: object) -> TellingUnit:
    """The telling unit of ``task_name`` on a trace's ``quantities`` (name -> (T, units)) of
    its example ``seq`` (the latent is computed from it)."""
    lesson = get_task(task_name).lesson
    if lesson is None:
        raise ValueError(f"task {task_name!r} names no lesson")
    name = lesson.quantity if lesson.quantity in quantities else "h"
    latent = lesson.latent(seq) if lesson.latent is not None else None
    unit, score, correlated = pick_unit(quantities[name], latent)
    how = f"r = {score:.2f}" if correlated else f"{name} = {score:.2g} at the last step"
    says = lesson.tracks
    if correlated and abs(score) < STRONG:      # never claim more than was measured
        says = f"tracks the {lesson.latent_name} best of all units, but weakly"
    return TellingUnit(unit, name, score, correlated, f"Unit {unit}'s {name} {says} ({how}).")


@lru_cache(maxsize=64)
def shipped_telling_unit(task_name: str, variant: str, seed: int = 0) -> TellingUnit:
    """The telling unit of the shipped ``task_name`` model of ``variant`` (layer 0, forward),
    measured on the task example ``seed``; cached per model."""
    from lstm_viz.training.zoo import load_shipped

    model = load_shipped(task_name, variant)
    seq = get_task(task_name).example(seed=seed)
    trace = model.recurrent().trace(seq.values)
    names = trace.names(0, 0)
    quantities = {n: trace.get(n, 0, 0)[:, 0] for n in ("c", "h") if n in names}
    return telling_unit(task_name, quantities, seq)


def per_unit_default(name: str, values: np.ndarray, dominance: float = DOMINANCE) -> bool:
    """Scale each heatmap row to its own range by default? For ``c`` only, when the widest unit's
    range (max |value| over time) is at least ``dominance`` times the median unit's."""
    if name != "c":
        return False
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 2:
        return False
    ranges = np.nanmax(np.abs(v), axis=0)
    median = float(np.median(ranges))
    return bool(median > 0 and ranges.max() >= dominance * median) or bool(
        median == 0 and ranges.max() > 0)
