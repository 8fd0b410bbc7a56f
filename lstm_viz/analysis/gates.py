"""The gates a variant computes, how often they saturate and their averages.

* :func:`saturation` — per unit, how often each gate is left-saturated (< 0.1) or right-saturated
  (> 0.9), after Karpathy, Johnson & Fei-Fei 2015, "Visualizing and understanding recurrent
  networks".
* :func:`gate_summary` — mean and spread of each gate, for captions.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass

import numpy as np

from lstm_viz.core import Trace, is_lstm
from lstm_viz.core.variants import variant as variant_row


def gate_names(variant: str, *, sigmoid_only: bool = False) -> tuple[tuple[str, bool], ...]:
    """The gates a variant really computes, as ``(name, derived)`` pairs, in canonical order.

    LSTM family: i, f, g, o minus the ones the variant holds constant (nig: i = 1, nfg: f = 1,
    nog: o = 1); cifg keeps ``f`` marked ``derived`` (it is 1 − i, not a gate of its own).
    GRU: r, z, n. RNN: none. ``sigmoid_only`` leaves out the tanh candidates g and n.
    """
    row = variant_row(variant)
    if row.family == "rnn":
        return ()
    if row.family == "gru":
        names = ("r", "z") if sigmoid_only else ("r", "z", "n")
        return tuple((k, False) for k in names)
    order = ("i", "f", "o") if sigmoid_only else ("i", "f", "g", "o")
    out = []
    for k in order:
        if k in row.blocks:
            out.append((k, False))
        elif k == "f" and row.coupled:
            out.append((k, True))
    return tuple(out)


@dataclass
class Saturation:
    """Per gate and unit, the share of steps a gate spends saturated.

    gates: the gate names, one per row; derived[k]: the gate is computed from another (cifg's f).
    left (G, H): share of steps (over all steps and batch entries) with the gate < ``low``;
    right (G, H): share with the gate > ``high``. left + right ≤ 1.
    """

    gates: tuple[str, ...]
    derived: tuple[bool, ...]
    left: np.ndarray
    right: np.ndarray
    low: float
    high: float
    steps: int

    def get(self, gate: str) -> tuple[np.ndarray, np.ndarray]:
        """(left (H,), right (H,)) of one gate."""
        if gate not in self.gates:
            raise KeyError(f"no gate {gate!r}; have {', '.join(self.gates) or 'none'}")
        k = self.gates.index(gate)
        return self.left[k], self.right[k]


def saturation(trace: Trace, layer: int = 0, direction: int = 0, low: float = 0.1,
               high: float = 0.9, gates: SequenceABC[str] | None = None) -> Saturation:
    """Gate saturation per unit of one layer and direction (Karpathy et al. 2015).

    For every σ gate the variant computes (LSTM family: i, f, o without the constant ones, cifg's
    f marked derived; GRU: r, z; RNN: none), the share of steps with the gate below ``low``
    (left-saturated) and above ``high`` (right-saturated), per unit: arrays (gates, H).
    ``gates`` picks a subset (ValueError for a gate the variant does not compute).
    """
    if not low <= high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
    available = dict(gate_names(trace.variant, sigmoid_only=True))
    if gates is None:
        chosen = list(available)
    else:
        chosen = list(gates)
        unknown = [g for g in chosen if g not in available]
        if unknown:
            raise ValueError(f"a {trace.variant} model has no gate {unknown[0]!r} to measure; "
                             f"it has {', '.join(available) or 'none'}")
    units = trace.get("c" if is_lstm(trace.variant) else "h", layer, direction).shape[2]
    left = np.zeros((len(chosen), units))
    right = np.zeros((len(chosen), units))
    steps = trace.length * trace.batch
    for k, name in enumerate(chosen):
        a = trace.get(name, layer, direction)
        left[k] = np.count_nonzero(a < low, axis=(0, 1)) / steps
        right[k] = np.count_nonzero(a > high, axis=(0, 1)) / steps
    return Saturation(gates=tuple(chosen), derived=tuple(available[g] for g in chosen),
                      left=left, right=right, low=float(low), high=float(high), steps=steps)


def gate_summary(trace: Trace, layer: int = 0,
                 direction: int = 0) -> dict[str, tuple[float, float]]:
    """gate -> (mean, std) over every step, batch entry and unit of one layer and direction.

    The gates the variant computes (including the candidates g / n and cifg's derived f);
    empty for a plain RNN.
    """
    out = {}
    for name, _ in gate_names(trace.variant):
        a = trace.get(name, layer, direction).astype(np.float64)
        out[name] = (float(a.mean()), float(a.std()))
    return out
