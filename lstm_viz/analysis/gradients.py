"""Gradient flow: how far back the gradient of a loss at one step reaches.

‖∂L/∂h_t‖, ‖∂L/∂c_t‖ and the forget-gate product ∏ f along the cell's path (the gain of the
constant error carousel, Hochreiter & Schmidhuber 1997).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lstm_viz.core import Recurrent, Trace, is_lstm

from ._checks import check_sequence, check_step


@dataclass
class GradientFlow:
    """How the gradient of a loss taken at ``target_step`` spreads back over the sequence.

    One layer and direction of one sequence (batch element 0):

    * ``dh_abs`` (T, R), ``dh_norm`` (T,): |∂L/∂h_t| per unit and its L2 norm over units;
    * ``dc_abs`` (T, H), ``dc_norm`` (T,): the same for the cell state (None for gru / rnn);
    * ``forget_product`` (T, H): per unit the gain of the cell's own path from step t to the
      target, ∏_{k=t+1..target} f_k for direction 0 (∏_{k=target..t-1} f_k for direction 1);
      1 at the target, NaN on the far side of it (no such path). None for gru / rnn.
      With ∂L/∂h zero before the target (e.g. no recurrent weights), ∂L/∂c_t = ∂L/∂c_target ·
      forget_product[t] exactly; otherwise the h paths add to it. (For ``peephole`` the peephole
      terms add paths too.)
    * ``forget_product_mean`` (T,): its mean over units (NaN where undefined);
    * ``d_output`` (D·R,): the gradient put on the output at ``target_step`` (zero elsewhere).
    * ``overflow_step``: None when every ∂L/∂h_t and ∂L/∂c_t shown is a finite number; else the
      step nearest the target where one is not (inf or NaN: the gradient overflowed the model's
      float precision, e.g. with very large weights). Direction 0: from that step back (earlier
      steps), direction 1: from it on. Those values are not numbers, never "exactly 0".
    """

    variant: str
    target_step: int
    layer: int
    direction: int
    d_output: np.ndarray
    dh_abs: np.ndarray
    dh_norm: np.ndarray
    dc_abs: np.ndarray | None
    dc_norm: np.ndarray | None
    forget_product: np.ndarray | None
    forget_product_mean: np.ndarray | None
    overflow_step: int | None = None

    @property
    def overflowed(self) -> bool:
        """Whether some ∂L/∂h_t or ∂L/∂c_t is not a finite number (see ``overflow_step``)."""
        return self.overflow_step is not None

    @property
    def length(self) -> int:
        return int(self.dh_norm.shape[0])

    def norm(self, quantity: str | None = None) -> np.ndarray:
        """``dc_norm`` or ``dh_norm`` (T,); ``None`` picks dc when the model has a cell state."""
        quantity = self._quantity(quantity)
        return self.dc_norm if quantity == "dc" else self.dh_norm  # type: ignore[return-value]

    def relative(self, quantity: str | None = None) -> np.ndarray:
        """The norm over t divided by its value at the target step (T,); NaN if that is 0."""
        n = self.norm(quantity).astype(np.float64)
        ref = n[self.target_step]
        if ref == 0 or not np.isfinite(ref):
            return np.full_like(n, np.nan)
        with np.errstate(over="ignore", invalid="ignore"):
            return n / ref

    def ratio(self, steps_back: int, quantity: str | None = None) -> float:
        """‖∂L/∂·‖ ``steps_back`` steps away from the target (earlier for direction 0, later for
        direction 1) relative to its value at the target; ValueError if that is off the sequence.
        """
        pos = self.target_step - steps_back if self.direction == 0 else (
            self.target_step + steps_back)
        if not 0 <= pos < self.length:
            raise ValueError(f"{steps_back} steps from the target step {self.target_step} is "
                             f"outside the sequence of {self.length} steps")
        return float(self.relative(quantity)[pos])

    def _quantity(self, quantity: str | None) -> str:
        if quantity is None:
            return "dc" if self.dc_norm is not None else "dh"
        if quantity not in ("dh", "dc"):
            raise ValueError(f"quantity must be 'dh' or 'dc', got {quantity!r}")
        if quantity == "dc" and self.dc_norm is None:
            raise ValueError(f"a {self.variant} model has no cell state: use 'dh'")
        return quantity



def forget_path_product(f: np.ndarray, target_step: int, direction: int = 0) -> np.ndarray:
    """Per unit, the product of forget gates on the cell's path from each step to the target.

    f: (T, H) forget gates of one sequence. Returns (T, H) float64: for direction 0,
    out[t] = ∏_{k=t+1..target} f_k for t ≤ target (1 at the target) and NaN after it; for
    direction 1 (which runs backwards in time) out[t] = ∏_{k=target..t-1} f_k for t ≥ target and
    NaN before it.
    """
    f = np.asarray(f, dtype=np.float64)
    T = f.shape[0]
    out = np.full(f.shape, np.nan)
    out[target_step] = 1.0
    if direction == 0:
        if target_step > 0:  # out[t] = f[t+1] * ... * f[target]
            out[:target_step] = np.cumprod(f[1:target_step + 1][::-1], axis=0)[::-1]
    elif target_step < T - 1:  # out[t] = f[target] * ... * f[t-1]
        out[target_step + 1:] = np.cumprod(f[target_step:T - 1], axis=0)
    return out


def gradient_flow(model: Recurrent, x: np.ndarray, target_step: int | None = None, layer: int = 0,
                  direction: int = 0, d_output: np.ndarray | None = None, *,
                  head_weight: np.ndarray | None = None, target_class: int | None = None,
                  trace: Trace | None = None) -> GradientFlow:
    """BPTT of a loss taken at one step, read at one layer and direction.

    x: (T, I), one sequence. The loss is L = output[target_step] · d_output (zero at every other
    step); ``target_step`` defaults to the last step (negative counts from the end).
    d_output (D·R,): the gradient on the output at the target step. If not given,
    ``head_weight`` (O, D·R) and ``target_class`` pick the readout row of that class
    (L = the head's logit / value for it, minus the bias); else a vector of ones / √(D·R)
    (unit norm). ``trace``: a trace of exactly this x through this model, to skip the forward pass.
    """
    x = check_sequence(model, x)
    T = x.shape[0]
    target = check_step(target_step, T)
    cfg = model.config
    if not 0 <= layer < cfg.num_layers or not 0 <= direction < cfg.num_directions:
        raise ValueError(f"no layer {layer}, direction {direction} in {model!r}")
    features = cfg.num_directions * cfg.real_hidden_size
    if d_output is not None:
        vec = np.asarray(d_output, dtype=np.float64)
    elif head_weight is not None:
        w = np.asarray(head_weight, dtype=np.float64)
        if w.ndim != 2:
            raise ValueError(f"head_weight must be (outputs, {features}), got shape {w.shape}")
        if target_class is None:
            if w.shape[0] != 1:
                raise ValueError(f"the head has {w.shape[0]} outputs: give target_class")
            target_class = 0
        if not 0 <= int(target_class) < w.shape[0]:
            raise ValueError(f"target_class {target_class} is not one of the head's "
                             f"{w.shape[0]} outputs")
        vec = w[int(target_class)]
    else:
        vec = np.full(features, 1.0 / np.sqrt(features))
    if vec.shape != (features,):
        raise ValueError(f"d_output must have shape ({features},) (the output features), "
                         f"got {vec.shape}")

    # Very large weights can overflow the gradient (inf, then NaN): computed quietly here and
    # reported through ``overflow_step``, never as a RuntimeWarning.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if trace is None:
            trace = model.trace(x)
        full = np.zeros(trace.output.shape, dtype=np.float64)
        full[target] = vec
        grads = model.backward(trace, full)

        dh = np.abs(grads.get("dh", layer, direction)[:, 0]).astype(np.float64)
        bad = ~np.isfinite(dh).all(axis=1)
        dc = dc_norm = prod = prod_mean = None
        if is_lstm(model.variant):
            dc = np.abs(grads.get("dc", layer, direction)[:, 0]).astype(np.float64)
            bad |= ~np.isfinite(dc).all(axis=1)
            dc_norm = np.linalg.norm(dc, axis=1)
            prod = forget_path_product(trace.get("f", layer, direction)[:, 0], target, direction)
            prod_mean = prod.mean(axis=1)
        dh_norm = np.linalg.norm(dh, axis=1)
    steps = np.flatnonzero(bad)
    overflow = None if not steps.size else int(steps.max() if direction == 0 else steps.min())
    return GradientFlow(
        variant=model.variant, target_step=target, layer=int(layer), direction=int(direction),
        d_output=vec, dh_abs=dh, dh_norm=dh_norm, dc_abs=dc, dc_norm=dc_norm,
        forget_product=prod, forget_product_mean=prod_mean, overflow_step=overflow,
    )


def compare_gradient_flow(models: Mapping[str, Recurrent], x: np.ndarray,
                          target_step: int | None = None, *,
                          heads: Mapping[str, np.ndarray] | None = None,
                          target_class: int | None = None) -> dict[str, GradientFlow]:
    """:func:`gradient_flow` of several models on one sequence x (T, I), layer 0, direction 0.

    heads: optional name -> head weight (O, D·R); with ``target_class`` the loss at each model is
    its own readout row for that class, else the unit-norm ones vector.
    """
    out = {}
    for name, model in models.items():
        w = None if heads is None else heads.get(name)
        out[name] = gradient_flow(model, x, target_step, head_weight=w,
                                  target_class=target_class if w is not None else None)
    return out
