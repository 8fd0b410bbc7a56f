"""Unit surgery: hold one unit at a value and measure what the model loses (Lakretz et al. 2019;
mean ablation beside zero ablation).

``ablate_each_unit`` ranks every unit of a quantity in one batched run: batch row b holds unit b
(and only it) at its value, through an ``Intervention`` whose value is NaN everywhere else
(``lstm_viz.core.interventions``). A unit whose cell sits far from 0 (on the brackets model, unit
3's mean c is about 8) breaks the readout when zeroed whatever it carries; holding it at its mean
keeps its average contribution and removes only what it varies with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstm_viz.core import Intervention, Recurrent
from lstm_viz.core.interventions import settable

# The batched trace of one chunk of ablations stays under this many bytes.
MAX_CHUNK_BYTES = 256 * 1024**2

Score = Callable[[np.ndarray], np.ndarray]   # output (T, B, O) -> (B,), higher = worse


@dataclass
class Ablation:
    """What holding each unit at its value did: ``damage[u]`` = score(ablated u) − score(none)."""

    quantity: str
    value: str | float
    held_at: np.ndarray          # (U,) the value each unit was held at
    score: float                 # the model's own score, nothing held
    damage: np.ndarray           # (U,)

    @property
    def ranking(self) -> np.ndarray:
        """Units, most damaging first."""
        return np.argsort(-self.damage, kind="stable")


def output_change(reference: np.ndarray) -> Score:
    """The default score: mean squared change of the output from ``reference`` (T, O)."""
    def score(output: np.ndarray) -> np.ndarray:
        return ((output - reference[:, None, :]) ** 2).mean(axis=(0, 2))
    return score


def ablate_each_unit(model: Recurrent, x: np.ndarray, quantity: str = "c",
                     value: str | float = "mean", score: Score | None = None, layer: int = 0,
                     direction: int = 0, steps: slice | None = None) -> Ablation:
    """Hold each unit of ``quantity`` (one layer and direction) at ``value`` ("mean": its mean
    over the sequence, "zero", or a number) over ``steps`` (None: all) of the sequence ``x``
    (T, input_size), one unit per batch row; ``score(output (T, B, O)) -> (B,)``, default the
    output's mean squared change."""
    x = np.asarray(x, dtype=model.dtype)
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence (T, {model.input_size}), got shape {x.shape}")
    units = settable(model.config).get(quantity)
    if units is None:
        raise ValueError(f"cannot hold {quantity!r} in a {model.variant} model; choose one of "
                         f"{', '.join(settable(model.config))}")
    plain = model.trace(x)
    if value == "mean":
        held = plain.get(quantity, layer, direction)[:, 0].mean(axis=0)
    elif value == "zero":
        held = np.zeros(units, dtype=model.dtype)
    else:
        held = np.full(units, float(value), dtype=model.dtype)
    out0 = plain.output                                          # (T, O)
    score = score or output_change(out0)
    base = float(score(out0[:, None, :])[0])
    per_row = max(1, model.trace_nbytes(len(x)))
    chunk = int(max(1, min(units, MAX_CHUNK_BYTES // per_row)))
    damage = np.empty(units, dtype=np.float64)
    for start in range(0, units, chunk):
        rows = np.arange(start, min(units, start + chunk))
        value_rows = np.full((1, len(rows), units), np.nan, dtype=model.dtype)
        value_rows[0, np.arange(len(rows)), rows] = held[rows]   # row r holds unit rows[r]
        iv = Intervention(quantity, list(range(units)), value_rows, steps, layer, direction)
        xs = np.repeat(x[:, None, :], len(rows), axis=1)         # (T, B, I), time-major
        if model.batch_first:
            xs = xs.transpose(1, 0, 2)
        out = model.trace(xs, interventions=[iv]).output
        if model.batch_first:
            out = out.transpose(1, 0, 2)
        damage[rows] = score(out) - base
    return Ablation(quantity, value, np.asarray(held), base, damage)
