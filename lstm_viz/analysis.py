"""The computations behind the analysis views: gradient flow, gate saturation, unit search and
variant comparison.

Pure NumPy on top of :mod:`lstm_viz.core` (no streamlit, plotly or torch); the figures live in
:mod:`lstm_viz.plots.analysis`. Shapes: ``T`` steps, ``I`` input features, ``H`` cell units
(``hidden_size``), ``R`` hidden units (``proj_size or hidden_size``), ``D`` directions, ``O`` head
outputs. Every per-step array is time-major and indexed by position in the sequence.

* :func:`gradient_flow` — how far back the gradient of a loss at one step reaches:
  ‖∂L/∂h_t‖, ‖∂L/∂c_t‖ and the forget-gate product ∏ f along the cell's path (the gain of the
  constant error carousel, Hochreiter & Schmidhuber 1997).
* :func:`saturation` — per unit, how often each gate is left-saturated (< 0.1) or right-saturated
  (> 0.9), after Karpathy, Johnson & Fei-Fei 2015, "Visualizing and understanding recurrent
  networks".
* :func:`unit_search` and :func:`context` — the units that are on over a selected range and off
  around it, and the other places where they are on together, after LSTMVis (Strobelt et al. 2018).
* :func:`compare_variants` and :func:`cell_difference` — several models on one sequence: traces,
  states and per-step task loss.
* :func:`gate_summary` — mean and spread of each gate, for captions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from lstm_viz.core import BLOCKS, Recurrent, Trace, is_lstm
from lstm_viz.training.tasks import Task, get_task

# --------------------------------------------------------------------------------------------------
# gates of a variant


def gate_names(variant: str, *, sigmoid_only: bool = False) -> tuple[tuple[str, bool], ...]:
    """The gates a variant really computes, as ``(name, derived)`` pairs, in canonical order.

    LSTM family: i, f, g, o minus the ones the variant holds constant (nig: i = 1, nfg: f = 1,
    nog: o = 1); cifg keeps ``f`` marked ``derived`` (it is 1 − i, not a gate of its own).
    GRU: r, z, n. RNN: none. ``sigmoid_only`` leaves out the tanh candidates g and n.
    """
    if variant == "rnn":
        return ()
    blocks = BLOCKS[variant]
    if variant == "gru":
        names = ("r", "z") if sigmoid_only else ("r", "z", "n")
        return tuple((k, False) for k in names)
    order = ("i", "f", "o") if sigmoid_only else ("i", "f", "g", "o")
    out = []
    for k in order:
        if k in blocks:
            out.append((k, False))
        elif k == "f" and variant == "cifg":
            out.append((k, True))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# gradient flow


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


def _check_sequence(model: Recurrent, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence (T, input features), got shape {x.shape}")
    if x.shape[1] != model.input_size:
        raise ValueError(f"x has {x.shape[1]} features, the model expects {model.input_size}")
    return x


def _step(step: int | None, T: int, what: str = "target_step") -> int:
    if step is None:
        return T - 1
    s = int(step)
    if s < 0:
        s += T
    if not 0 <= s < T:
        raise ValueError(f"{what} {step} is outside the sequence of {T} steps")
    return s


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
    x = _check_sequence(model, x)
    T = x.shape[0]
    target = _step(target_step, T)
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


# --------------------------------------------------------------------------------------------------
# saturation


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


# --------------------------------------------------------------------------------------------------
# unit search (LSTMVis)


class Match(NamedTuple):
    """A run of steps [start, end] (inclusive) where the selected units are on together.

    score in (0, 1]: the length similarity to the selection, min(n, m) / max(n, m), times the mean
    share of selected units on over the run (1 when ``match_fraction`` is 1).
    """

    start: int
    end: int
    score: float


@dataclass
class UnitSearchResult:
    """What :func:`unit_search` found.

    units (K,): the selected units, best first; margins (K,): their mean value − threshold over
    the range. on_fraction (T,): per step the share of selected units ≥ threshold (0 when none is
    selected); together (T,): the steps where at least ``match_fraction`` of them are.
    matches: the runs of ``together`` outside the selected range, best score first.
    """

    start: int
    end: int
    threshold: float
    units: np.ndarray
    margins: np.ndarray
    on_fraction: np.ndarray
    together: np.ndarray
    matches: list[Match]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) inclusive of every run of True in a 1-D bool array."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(s), int(e) - 1) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def unit_search(values: np.ndarray, start: int, end: int, threshold: float, *,
                min_on_fraction: float = 1.0, match_fraction: float = 1.0,
                min_match_length: int = 1) -> UnitSearchResult:
    """The units that are on over [start, end] and off around it, and where else they are on.

    values (T, units), e.g. h or c of one layer and direction. A unit is selected when it is
    ≥ ``threshold`` on at least ``min_on_fraction`` of the steps of [start, end] (all of them by
    default) and < ``threshold`` at the step just before and just after the range (where those
    exist); the selection is ranked by its mean margin (value − threshold) over the range.
    A step has the units "on together" when at least ``match_fraction`` of the selected units are
    ≥ threshold there; the matches are the runs of such steps (at least ``min_match_length`` long)
    that do not overlap the selected range, ranked by :class:`Match` score.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be (T, units), got shape {v.shape}")
    T = v.shape[0]
    start, end = int(start), int(end)
    if not 0 <= start <= end < T:
        raise ValueError(f"the range [{start}, {end}] must lie within 0..{T - 1} with "
                         "start <= end")
    if not 0 < min_on_fraction <= 1 or not 0 < match_fraction <= 1:
        raise ValueError("min_on_fraction and match_fraction must be in (0, 1]")
    on = v >= threshold                                    # (T, units); NaN counts as off
    length = end - start + 1
    need = int(np.ceil(min_on_fraction * length - 1e-9))
    chosen = np.count_nonzero(on[start:end + 1], axis=0) >= need
    if start > 0:
        chosen &= ~on[start - 1]
    if end < T - 1:
        chosen &= ~on[end + 1]
    units = np.flatnonzero(chosen)
    margins = (v[start:end + 1, units] - threshold).mean(axis=0) if units.size else np.zeros(0)
    order = np.argsort(-margins, kind="stable")
    units, margins = units[order], margins[order]

    if units.size:
        on_fraction = np.count_nonzero(on[:, units], axis=1) / units.size
        together = on_fraction >= match_fraction - 1e-12
    else:
        on_fraction = np.zeros(T)
        together = np.zeros(T, dtype=bool)
    matches = []
    for s, e in _runs(together):
        if e >= start and s <= end:                        # the selection itself
            continue
        n = e - s + 1
        if n < min_match_length:
            continue
        score = min(n, length) / max(n, length) * float(on_fraction[s:e + 1].mean())
        matches.append(Match(s, e, score))
    matches.sort(key=lambda m: (-m.score, m.start))
    return UnitSearchResult(start=start, end=end, threshold=float(threshold), units=units,
                            margins=margins, on_fraction=on_fraction, together=together,
                            matches=matches)


def context(labels: SequenceABC[str], start: int, end: int, pad: int = 5, *,
            mark: tuple[str, str] | None = None, newline: str = "↵") -> str:
    """The labels of steps [start − pad, end + pad] as one string, "…" where the sequence goes on.

    Single-character labels (text) are joined as they are, longer ones with spaces. ``mark``
    (e.g. ``("[", "]")``) wraps the range [start, end]; line breaks show as ``newline``.
    """
    n = len(labels)
    if not 0 <= start <= end < n:
        raise ValueError(f"the range [{start}, {end}] must lie within 0..{n - 1}")
    lo, hi = max(0, start - pad), min(n, end + pad + 1)
    shown = [str(s).replace("\n", newline) for s in labels]
    sep = "" if all(len(str(s)) <= 1 for s in labels) else " "
    before, inside, after = shown[lo:start], shown[start:end + 1], shown[end + 1:hi]
    middle = sep.join(inside)
    if mark is not None:
        middle = mark[0] + middle + mark[1]
    text = sep.join(p for p in (sep.join(before), middle, sep.join(after)) if p)
    return ("…" if lo > 0 else "") + text + ("…" if hi < n else "")


# --------------------------------------------------------------------------------------------------
# comparing variants


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
        x_ = _check_sequence(model, x)
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
