"""Interventions (unit surgery, SPEC §5): overwrite a gate, c, h (or m) of chosen units at chosen
steps; everything downstream uses the overwritten value, and BPTT treats it as a constant.

    iv = Intervention("c", units=4, value=0.0, steps=slice(20, 40))
    trace = model.trace(x, interventions=[iv])

``resolve`` turns a list of them into, per (layer, direction), one ``Override`` per quantity: a
mask of the (step, unit) cells that are set and their values, both indexed by position in the
sequence. The forward loops apply an override right after computing that quantity; the backward
loops multiply the gradient that would flow back through an overwritten cell by 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .params import Config
from .variants import variant as variant_row


@dataclass(frozen=True)
class Intervention:
    """Set quantity ``name`` of ``units`` to ``value`` at ``steps`` (None: every step) of one
    layer and direction. ``value``: a float, or an array broadcastable to
    (len(steps), B, len(units)); a NaN in it leaves that cell as computed, so that each batch
    row can set other units (one ablation per row: see ``lstm_viz.analysis.surgery``)."""

    name: str
    units: int | Sequence[int]
    value: Any = 0.0
    steps: None | slice | Sequence[int] = None
    layer: int = 0
    direction: int = 0


@dataclass
class Override:
    """One quantity of one layer and direction: ``mask`` (T, B, U) says which cells are set,
    ``values`` (T, B, U) what to (only where ``mask``)."""

    mask: np.ndarray
    values: np.ndarray

    def at(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(mask, values) of step t, or None when nothing is set there."""
        return (self.mask[t], self.values[t]) if self.any[t] else None

    def __post_init__(self) -> None:
        self.any = self.mask.any(axis=(1, 2))       # (T,) a step with something set

    @property
    def keep(self) -> np.ndarray:
        """1 where the gradient flows on, 0 where the value was set (T, B, U)."""
        return (~self.mask).astype(self.values.dtype)


def settable(cfg: Config) -> dict[str, int]:
    """Quantity -> its number of units, for what an intervention may set in this model."""
    row = variant_row(cfg.variant)
    H, R = cfg.hidden_size, cfg.real_hidden_size
    if row.family == "rnn":
        return {"h": H}
    if row.family == "gru":
        return {"r": H, "z": H, "n": H, "h": H}
    gates = [k for k in ("i", "f", "g", "o") if k in row.blocks]
    out = {k: H for k in gates}
    out["c"] = H
    if cfg.proj_size:
        out["m"] = H
    out["h"] = R
    return out


def _steps(steps: Any, T: int) -> np.ndarray:
    if steps is None:
        return np.arange(T)
    if isinstance(steps, slice):
        idx = np.arange(T)[steps]
        if idx.size == 0:
            raise ValueError(f"steps {steps} select no step of the {T}-step sequence")
        return idx
    idx = np.asarray(steps)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ValueError(f"steps must be None, a slice or a non-empty sequence of ints, got "
                         f"{steps!r}")
    if idx.min() < 0 or idx.max() >= T:
        raise ValueError(f"step {int(idx.min() if idx.min() < 0 else idx.max())} is outside the "
                         f"sequence (0 to {T - 1})")
    return idx.astype(np.int64)


def resolve(interventions: Sequence[Intervention] | None, cfg: Config, T: int, B: int,
            dtype: np.dtype) -> dict[tuple[int, int], dict[str, Override]]:
    """Check every intervention (``ValueError`` naming what is wrong) and merge them into one
    ``Override`` per quantity, layer and direction; later ones win where they overlap."""
    if not interventions:
        return {}
    names = settable(cfg)
    row = variant_row(cfg.variant)
    out: dict[tuple[int, int], dict[str, Override]] = {}
    for iv in interventions:
        if not isinstance(iv, Intervention):
            raise ValueError(f"expected Intervention objects, got {type(iv).__name__}")
        if iv.name not in names:
            why = ""
            if iv.name in row.derived:
                why = (f": the {cfg.variant} variant fixes it ({iv.name} = "
                       f"{row.derived[iv.name]})")
            raise ValueError(f"cannot set {iv.name!r} in a {cfg.variant} model{why}; settable: "
                             f"{', '.join(names)}")
        if not 0 <= int(iv.layer) < cfg.num_layers:
            raise ValueError(f"layer {iv.layer} does not exist (0 to {cfg.num_layers - 1})")
        if not 0 <= int(iv.direction) < cfg.num_directions:
            raise ValueError(f"direction {iv.direction} does not exist (0 to "
                             f"{cfg.num_directions - 1})")
        U = names[iv.name]
        units = np.atleast_1d(np.asarray(iv.units))
        if units.ndim != 1 or units.size == 0 or units.dtype.kind not in "iu":
            raise ValueError(f"units must be an int or a non-empty sequence of ints, got "
                             f"{iv.units!r}")
        if units.min() < 0 or units.max() >= U:
            bad = int(units.min() if units.min() < 0 else units.max())
            raise ValueError(f"unit {bad} of {iv.name!r} does not exist (0 to {U - 1})")
        steps = _steps(iv.steps, T)
        try:
            value = np.broadcast_to(np.asarray(iv.value, dtype=dtype),
                                    (len(steps), B, len(units)))
        except ValueError:
            raise ValueError(f"value of shape {np.shape(iv.value)} does not broadcast to "
                             f"(steps, batch, units) = {(len(steps), B, len(units))}") from None
        key = (int(iv.layer), int(iv.direction))
        ov = out.setdefault(key, {}).get(iv.name)
        if ov is None:
            ov = out[key][iv.name] = Override(np.zeros((T, B, U), dtype=bool),
                                              np.zeros((T, B, U), dtype=dtype))
        cells = np.ix_(steps, np.arange(B), units)
        given = ~np.isnan(value)                      # NaN: this cell is left as computed
        ov.mask[cells] |= given
        ov.values[cells] = np.where(given, value, ov.values[cells])
        ov.any = ov.mask.any(axis=(1, 2))
    return out
