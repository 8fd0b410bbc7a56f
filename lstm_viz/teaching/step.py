"""One unit at one step, computed once: the object the stepper, the cell diagram, the explain panel
and the Learn page's equations all read.

``unit_step(model, trace, step, unit, ...)`` explains every quantity of the unit
(:func:`lstm_viz.teaching.explain.explain_all`) and keeps, beside the explanations, the traced
values (with the previous state ``c_prev`` / ``h_prev``), the gates' pre-activations and the input
shown at that step. ``derived_numbers`` adds what the cell diagram draws between the traced
quantities (``1 − i``, ``act(c)``, ``i·g``, ``f·c_{t-1}``, ``1 − z`` ...), by the variant table's
rules: the diagram itself does no model arithmetic. NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from lstm_viz.core import Recurrent, Trace, variant
from lstm_viz.teaching.explain import Explanation, explain_all, previous_state
from lstm_viz.teaching.numbers import IDENTITY


def number(values: Mapping, key: str) -> float | None:
    """values[key] as a float, None when absent or not a number."""
    value = values.get(key)
    if value is None or isinstance(value, str):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.size != 1:
        return None
    return float(array.reshape(()))


def _mul(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def derived_numbers(values: Mapping, name: str) -> dict:
    """``values`` (one unit at one step, as :class:`UnitStep.values`) as floats, completed with
    what the cell diagram of variant ``name`` shows between them.

    LSTM family: a coupled ``f`` is ``1 − i``; a fixed gate is 1 when not given; ``act_c`` is
    ``tanh(c)`` (``c`` without an output activation); ``kept`` is ``f·c_prev``; ``ig`` is
    ``i·g``. GRU: ``one_minus_z``, ``kept`` (``z·h_prev``) and ``zn`` (``(1 − z)·n``). Missing
    numbers stay None; ``x`` and ``m`` are passed on as given.
    """
    row = variant(name)
    keys = ("c_prev", "h_prev", "i", "f", "g", "o", "c", "h", "m", "r", "z", "n")
    out: dict = {k: number(values, k) for k in keys}
    out["x"] = values.get("x")
    out["has_m"] = "m" in values
    out["previous"] = values.get("previous") or "t-1"    # "t+1": the backward direction
    if row.family == "gru":
        z = out["z"]
        out["one_minus_z"] = None if z is None else 1 - z
        out["kept"] = _mul(z, out["h_prev"])
        out["zn"] = _mul(out["one_minus_z"], out["n"])
        return out
    if row.family == "rnn":
        return out
    if row.coupled and out["i"] is not None:
        out["f"] = 1.0 - out["i"]            # the coupling, exactly as the trace holds it
    for k in row.fixed:
        out[k] = 1.0 if out[k] is None else out[k]
    c = out["c"]
    out["act_c"] = None if c is None else (
        c if row.output_activation == IDENTITY else float(np.tanh(c)))
    out["kept"] = _mul(out["f"], out["c_prev"])
    out["ig"] = _mul(out["i"], out["g"])
    return out


@dataclass
class UnitStep:
    """Every number of one unit at one step: read by every view of that step.

    values: the traced quantities of the unit (``i f g o c h m``; GRU ``r z n h``; RNN ``h``) and
    the previous state ``c_prev`` / ``h_prev``. pre: the gates' pre-activations. explanations:
    how each quantity was made. x: the input shown at the step (a character, a number, a list).
    """

    variant: str
    step: int
    unit: int
    values: dict[str, float] = field(default_factory=dict)
    pre: dict[str, float] = field(default_factory=dict)
    explanations: dict[str, Explanation] = field(default_factory=dict)
    x: object = None

    def diagram(self) -> dict:
        """The numbers the cell diagram draws (:func:`derived_numbers`), with where the previous
        state comes from ("previous": "t+1" in the backward direction)."""
        backward = any(e.direction == 1 for e in self.explanations.values())
        return derived_numbers({**self.values, "x": self.x,
                                "previous": "t+1" if backward else "t-1"}, self.variant)

    def text(self, keys: tuple[str, ...] = ("f", "i", "g", "o", "c", "h"), digits: int = 3
             ) -> str:
        """"f = 0.912 · i = 0.100 · ...": the traced values of ``keys`` this unit has."""
        return " · ".join(f"{k} = {self.values[k]:.{digits}f}" for k in keys
                          if k in self.values)


def unit_step(model: Recurrent, trace: Trace, step: int, unit: int, layer: int = 0,
              direction: int = 0, batch: int = 0, x: object = None) -> UnitStep:
    """Explain every quantity of ``unit`` at ``step`` once, and keep its numbers."""
    ex = explain_all(model, trace, step, unit, layer, direction, batch)
    values = {k: e.traced for k, e in ex.items()}
    pre = {k: e.pre_activation for k, e in ex.items() if e.pre_activation is not None}
    values.update(previous_state(model, trace, step, unit, layer, direction, batch))
    return UnitStep(model.variant, int(step), int(unit), values, pre, ex, x)

