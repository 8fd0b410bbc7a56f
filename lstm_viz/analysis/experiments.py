"""Experiments (issue #14, "ask why, not only what"): the pure NumPy half of the Experiments page.

* The URL grammar (DESIGN.md, "Experiments (why)"):
  ``ablate=c:4:mean:10-30`` — quantity : units (comma list, ``0-7`` a range) : value
  (``mean`` | ``zero`` | a number) : steps (``a-b`` inclusive, one step ``a``, or ``all``);
  several joined by ``;``.
  ``attr=integrated_gradients:39`` — method : target step (``last`` or omitted: the last step).
  :func:`parse_ablate` / :func:`format_ablate`, :func:`parse_attr` / :func:`format_attr`; a bad
  text raises ``InputError`` with one sentence.
* :func:`surgery`: the trace before and after holding units (``Intervention``), the difference
  and the cells that were held.
* :func:`counterfactual`: the difference in every quantity after editing one input step, and
  how long it lasts.
* :data:`EXPERIMENT_PRESETS`: teaching links that carry an experiment.

No streamlit or plotly here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from lstm_viz.core import Intervention, Recurrent, Trace
from lstm_viz.core.interventions import settable
from lstm_viz.errors import InputError

from .attribution import METHODS
from .probes import task_latents

MAX_SPECS = 8            # holds in one ablate= parameter
MAX_UNITS = 4096         # units listed in one hold
SETTLED = 1e-3           # |Δh| below this: an edit's effect has faded


def unit_text(units: tuple[int, ...]) -> str:
    """Units for the URL: runs of three or more as ``a-b`` ("0-7,9")."""
    parts: list[str] = []
    run: list[int] = []
    for u in [*units, None]:
        if run and (u is None or u != run[-1] + 1):
            parts.append(f"{run[0]}-{run[-1]}" if len(run) >= 3 else ",".join(map(str, run)))
            run = []
        if u is not None:
            run.append(u)
    return ",".join(parts)


@dataclass(frozen=True)
class Hold:
    """One ``ablate=`` item: hold ``units`` of ``quantity`` at ``value`` over ``steps``
    (inclusive (first, last) positions, or None for every step)."""

    quantity: str
    units: tuple[int, ...]
    value: str | float = "mean"          # "mean" | "zero" | a number
    steps: tuple[int, int] | None = None

    def text(self) -> str:
        value = self.value if isinstance(self.value, str) else f"{self.value:g}"
        steps = "all" if self.steps is None else (
            f"{self.steps[0]}" if self.steps[0] == self.steps[1]
            else f"{self.steps[0]}-{self.steps[1]}")
        return f"{self.quantity}:{unit_text(self.units)}:{value}:{steps}"

    def describe(self) -> str:
        units = ", ".join(map(str, self.units))
        value = {"mean": "its mean", "zero": "0"}.get(self.value, None) if isinstance(
            self.value, str) else f"{self.value:g}"
        steps = "every step" if self.steps is None else (
            f"step {self.steps[0]}" if self.steps[0] == self.steps[1]
            else f"steps {self.steps[0]}–{self.steps[1]}")
        return f"{self.quantity} of unit{'s' if len(self.units) > 1 else ''} {units} held at " \
               f"{value} over {steps}"


def _int(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InputError(f"The {what} {text.strip()[:20]!r} is not a whole number.") from None
    if value < 0:
        raise InputError(f"The {what} {value} is negative; positions and units start at 0.")
    return value


def parse_hold(text: str) -> Hold:
    """One ``quantity:units:value:steps`` item (value and steps may be left off: mean, all)."""
    parts = text.strip().split(":")
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise InputError(f"An ablation reads quantity:units:value:steps (like c:4:mean:10-30), "
                         f"not {text.strip()[:40]!r}.")
    quantity = parts[0].strip()
    if not quantity.isalpha() or len(quantity) > 2:
        raise InputError(f"{quantity[:20]!r} is not a quantity (one of i, f, g, o, c, h, …).")
    unit_texts = [u for u in parts[1].split(",") if u.strip()]
    if not unit_texts:
        raise InputError("An ablation needs at least one unit (like c:4:mean:all).")
    if len(unit_texts) > MAX_UNITS:
        raise InputError(f"An ablation holds at most {MAX_UNITS} units.")
    listed: list[int] = []
    for u in unit_texts:               # "4", or a range "0-7"
        first, dash, last = u.partition("-")
        a = _int(first, "unit")
        b = _int(last, "last unit") if dash else a
        if b < a or b - a >= MAX_UNITS:
            raise InputError(f"The unit range {a}-{b} is empty or too long.")
        listed.extend(range(a, b + 1))
        if len(listed) > MAX_UNITS:
            raise InputError(f"An ablation holds at most {MAX_UNITS} units.")
    units = tuple(dict.fromkeys(listed))
    raw_value = parts[2].strip().lower() if len(parts) > 2 else "mean"
    if raw_value in ("mean", "zero"):
        value: str | float = raw_value
    else:
        try:
            value = float(raw_value)
        except ValueError:
            raise InputError(f"The value {raw_value[:20]!r} is not mean, zero or a number.") \
                from None
        if not np.isfinite(value):
            raise InputError("The value must be a finite number.")
    raw_steps = parts[3].strip().lower() if len(parts) > 3 else "all"
    if raw_steps in ("all", ""):
        steps = None
    else:
        first, _, last = raw_steps.partition("-")
        a = _int(first, "first step")
        b = _int(last, "last step") if last else a
        if b < a:
            raise InputError(f"The step range {a}-{b} is empty (the last step is before the "
                             "first).")
        steps = (a, b)
    return Hold(quantity, units, value, steps)


def parse_ablate(text: str) -> list[Hold]:
    """``ablate=`` -> its holds; ``InputError`` (one sentence) when it does not read."""
    items = [t for t in text.split(";") if t.strip()]
    if not items:
        raise InputError("The ablation is empty: write quantity:units:value:steps.")
    if len(items) > MAX_SPECS:
        raise InputError(f"At most {MAX_SPECS} ablations at once.")
    return [parse_hold(t) for t in items]


def format_ablate(holds: list[Hold]) -> str:
    return ";".join(h.text() for h in holds)


def parse_attr(text: str) -> tuple[str, int | None]:
    """``attr=method:step`` -> (method, step or None for the last step)."""
    method, _, step = text.strip().partition(":")
    method = method.strip()
    if method not in METHODS:
        raise InputError(f"{method[:30]!r} is not an attribution method; choose one of "
                         f"{', '.join(METHODS)}.")
    step = step.strip().lower()
    return method, None if step in ("", "last") else _int(step, "target step")


def format_attr(method: str, step: int | None) -> str:
    return f"{method}:{'last' if step is None else step}"


def fitted(hold: Hold, length: int) -> Hold:
    """``hold`` with its step range ending at the sequence's last step at most."""
    if hold.steps is None or hold.steps[1] < length:
        return hold
    return Hold(hold.quantity, hold.units, hold.value, (hold.steps[0], length - 1))


def check_hold(hold: Hold, model: Recurrent, length: int) -> None:
    """``InputError`` when ``hold`` does not fit this model and sequence."""
    names = settable(model.config)
    if hold.quantity not in names:
        raise InputError(f"A {model.variant} model cannot hold {hold.quantity!r}; choose one of "
                         f"{', '.join(names)}.")
    n = names[hold.quantity]
    bad = [u for u in hold.units if u >= n]
    if bad:
        raise InputError(f"Unit {bad[0]} of {hold.quantity} does not exist: this model has "
                         f"units 0 to {n - 1}.")
    if hold.steps is not None and hold.steps[0] >= length:
        raise InputError(f"Step {hold.steps[0]} is past the end of the sequence (0 to "
                         f"{length - 1}).")


def interventions(model: Recurrent, x: np.ndarray, holds: list[Hold], plain: Trace,
                  layer: int = 0, direction: int = 0) -> list[Intervention]:
    """The ``Intervention`` of each hold on sequence ``x`` (T, I); "mean" is each unit's mean
    over the sequence in the trace ``plain`` (no holds)."""
    T = len(x)
    out = []
    for hold in holds:
        check_hold(hold, model, T)
        units = list(hold.units)
        if hold.value == "mean":
            value = plain.get(hold.quantity, layer, direction)[:, 0, units].mean(axis=0)
        elif hold.value == "zero":
            value = 0.0
        else:
            value = float(hold.value)
        steps = None if hold.steps is None else slice(hold.steps[0], min(hold.steps[1], T - 1)
                                                      + 1)
        out.append(Intervention(hold.quantity, units, value, steps, layer, direction))
    return out


@dataclass
class Surgery:
    """Before and after holding units: per quantity (T, U) arrays of batch element 0."""

    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    held: dict[str, np.ndarray]         # quantity -> (T, U) bool, the cells that were held
    trace: Trace                        # the trace with the holds
    interventions: list[Intervention]

    def difference(self, name: str) -> np.ndarray:
        return self.after[name] - self.before[name]


def surgery(model: Recurrent, x: np.ndarray, holds: list[Hold], plain: Trace | None = None,
            layer: int = 0, direction: int = 0) -> Surgery:
    """Run ``x`` (T, I) with the holds; ``plain`` is its trace without them (computed if None)."""
    x = np.asarray(x, dtype=model.dtype)
    plain = plain if plain is not None else model.trace(x)
    ivs = interventions(model, x, holds, plain, layer, direction)
    after = model.trace(x, interventions=ivs)
    names = [n for n in plain.names(layer, direction) if not n.startswith("z")]
    before = {n: plain.get(n, layer, direction)[:, 0] for n in names}
    changed = {n: after.get(n, layer, direction)[:, 0] for n in names}
    held: dict[str, np.ndarray] = {}
    T = len(x)
    for hold, iv in zip(holds, ivs, strict=True):
        mask = held.setdefault(hold.quantity, np.zeros(before[hold.quantity].shape, bool))
        rows = np.arange(T) if iv.steps is None else np.arange(T)[iv.steps]
        mask[np.ix_(rows, list(hold.units))] = True
    return Surgery(before, changed, held, after, ivs)


def _cells(values: object, size: int) -> tuple[int, int] | None:
    """A dragged range [lo, hi] of a heatmap axis -> the first and last cell it touches (cell k
    spans k − 0.5 to k + 0.5), clipped to 0 .. size − 1; None when it misses every cell."""
    try:
        ends = [float(v) for v in values]                 # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if len(ends) < 2 or not np.all(np.isfinite(ends)):
        return None
    a = max(int(np.floor(min(ends) + 0.5)), 0)
    b = min(int(np.ceil(max(ends) - 0.5)), size - 1)
    return (a, b) if a <= b else None


def brushed(box: Mapping[str, object], length: int,
            n_units: int) -> tuple[tuple[int, int], tuple[int, ...] | None] | None:
    """A box dragged on a units × time heatmap (plotly's selection box: ``x`` and ``y`` ranges)
    -> (first, last step) and the units it covers (None when the box has no unit range);
    None when it covers no step."""
    steps = _cells(box.get("x"), length)
    if steps is None:
        return None
    units = _cells(box.get("y"), n_units) if box.get("y") is not None else None
    return steps, None if units is None else tuple(range(units[0], units[1] + 1))


def with_range(hold: Hold, steps: tuple[int, int], units: tuple[int, ...] | None,
               length: int) -> Hold:
    """``hold`` over ``steps`` (the whole sequence: None) and, when given, these units."""
    every = steps == (0, length - 1)
    return Hold(hold.quantity, units or hold.units, hold.value, None if every else steps)


def held_values(holds: list[Hold], ivs: list[Intervention], step: int,
                unit: int) -> dict[str, float]:
    """What is held at ``unit`` and ``step`` (quantity -> the value it is held at); the later
    hold wins where two overlap, as in the run."""
    out: dict[str, float] = {}
    for hold, iv in zip(holds, ivs, strict=True):
        if unit not in hold.units:
            continue
        rows = iv.steps
        if isinstance(rows, slice) and not (rows.start or 0) <= step < (rows.stop or step + 1):
            continue
        value = np.atleast_1d(np.asarray(iv.value, dtype=np.float64)).ravel()
        out[hold.quantity] = float(value[hold.units.index(unit)] if value.size > 1 else value[0])
    return out


@dataclass
class Counterfactual:
    """The edit of one step: per quantity the difference after − before (T, U), and how many
    steps after the edit |Δh| stays at or above :data:`SETTLED` (None: still at the end)."""

    step: int
    difference: dict[str, np.ndarray]
    lasts: int | None

    def largest(self) -> dict[str, float]:
        return {n: float(np.abs(d).max()) for n, d in self.difference.items()}


def lasting(dh: np.ndarray, step: int, tol: float = SETTLED) -> int | None:
    """Steps from ``step`` until max over units of |Δh| falls below ``tol`` and stays there
    (0: no effect at all; None: still above ``tol`` at the last step)."""
    size = np.abs(np.asarray(dh, dtype=np.float64)).reshape(len(dh), -1).max(axis=1)
    above = np.nonzero(size[step:] >= tol)[0]
    if not above.size:
        return 0
    if above[-1] + step == len(size) - 1:
        return None
    return int(above[-1]) + 1


def edited(x: np.ndarray, step: int, value: float | None = None, feature: int = 0,
           one_hot: int | None = None) -> np.ndarray:
    """A copy of ``x`` (T, I) with step ``step`` changed: its one-hot row set to feature
    ``one_hot``, or feature ``feature`` set to ``value``."""
    x = np.array(x, copy=True)
    if not 0 <= step < len(x):
        raise InputError(f"Step {step} is outside the sequence (0 to {len(x) - 1}).")
    if one_hot is not None:
        if not 0 <= one_hot < x.shape[1]:
            raise InputError(f"Token {one_hot} does not exist (0 to {x.shape[1] - 1}).")
        x[step] = 0
        x[step, one_hot] = 1
    else:
        if not 0 <= feature < x.shape[1]:
            raise InputError(f"Feature {feature} does not exist (0 to {x.shape[1] - 1}).")
        if value is None or not np.isfinite(value):
            raise InputError("The new value must be a finite number.")
        x[step, feature] = value
    return x


def edited_tokens(ids: np.ndarray, step: int, token: int, n_tokens: int) -> np.ndarray:
    """A copy of the token ids (T,) with step ``step`` set to ``token`` (0 .. n_tokens − 1): the
    sequence a model with an embedding reads after the edit."""
    ids = np.array(ids, copy=True)
    if not 0 <= step < len(ids):
        raise InputError(f"Step {step} is outside the sequence (0 to {len(ids) - 1}).")
    if not 0 <= int(token) < n_tokens:
        raise InputError(f"Token id {token} does not exist: the embedding has ids 0 to "
                         f"{n_tokens - 1}.")
    ids[step] = int(token)
    return ids


def counterfactual(model: Recurrent, x: np.ndarray, x_edit: np.ndarray, step: int,
                   layer: int = 0, direction: int = 0) -> Counterfactual:
    """The difference in every traced quantity (not pre-activations) between ``x_edit`` and
    ``x``, and how long the hidden state's difference lasts after ``step``."""
    a = model.trace(np.asarray(x, dtype=model.dtype))
    b = model.trace(np.asarray(x_edit, dtype=model.dtype))
    names = [n for n in a.names(layer, direction) if not n.startswith("z")]
    diff = {n: (b.get(n, layer, direction)[:, 0].astype(np.float64)
                - a.get(n, layer, direction)[:, 0]) for n in names}
    return Counterfactual(step, diff, lasting(diff["h"], step))


def connectivity(model: Recurrent, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """‖∂(weight · output_t)/∂x_s‖ (the norm over features): (T targets, T sources); one batched
    BPTT with one batch row per target step (memory grows with T²: keep T modest)."""
    x = np.asarray(x, dtype=model.dtype)
    T = len(x)
    xs = np.repeat(x[None], T, axis=0)                     # (T rows, T, I)
    lay = (lambda a: a) if model.batch_first else (lambda a: a.transpose(1, 0, 2))
    trace = model.trace(lay(xs))
    out = lay(trace.output)                                # (B, T, O)
    d = np.zeros_like(out)
    d[np.arange(T), np.arange(T)] = np.asarray(weight, dtype=model.dtype)
    g = lay(model.backward(trace, lay(d)).input)           # (B, T, I)
    return np.linalg.norm(g.astype(np.float64), axis=2)


MAX_SIGNAL_FEATURES = 8    # input features offered as signals at most


def signals(values: np.ndarray, feature_names: tuple[str, ...] = (),
            labels: tuple[str, ...] | None = None,
            meta: Mapping | None = None) -> dict[str, np.ndarray]:
    """Signals a unit might track: the nesting depth of a bracket string, the task's known
    latent (``meta["task"]``, see :func:`lstm_viz.analysis.probes.task_latents`), and the input
    features or file columns (the first :data:`MAX_SIGNAL_FEATURES`, those that vary); name ->
    (T,). A pattern the user types is :func:`lstm_viz.analysis.probes.pattern_signal`."""
    out: dict[str, np.ndarray] = {}
    if labels and set(labels) <= {"(", ")"}:
        out["bracket depth"] = np.cumsum([1.0 if c == "(" else -1.0 for c in labels])
    out.update(task_latents(values, meta))
    values = np.asarray(values, dtype=np.float64)
    for j in range(min(values.shape[1], MAX_SIGNAL_FEATURES)):
        name = feature_names[j] if j < len(feature_names) else f"x{j}"
        if np.ptp(values[:, j]) > 0:                 # a constant column has nothing to track
            out[f"input {name}"] = values[:, j]
    return out


def correlations(values: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Pearson correlation of each unit's values (T, U) with ``signal`` (T,) -> (U,); a
    constant unit or signal correlates 0."""
    v = np.asarray(values, dtype=np.float64)
    s = np.asarray(signal, dtype=np.float64)
    v = v - v.mean(axis=0)
    s = s - s.mean()
    norm = np.sqrt((v ** 2).sum(axis=0) * (s ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (v * s[:, None]).sum(axis=0) / norm
    return np.where(norm > 1e-12, r, 0.0)


@dataclass(frozen=True)
class ExperimentPreset:
    name: str
    description: str
    params: dict[str, str]

    def url(self, page: str = "/Experiments") -> str:
        return f"{page}?{urlencode(self.params)}"


EXPERIMENT_PRESETS: tuple[ExperimentPreset, ...] = (
    ExperimentPreset(
        "Forget gate held at 0: the memory fades",
        "Remember the first symbol with every forget gate closed from step 5 on: the cells "
        "forget at each step and the answer at the end is lost.",
        {"task": "remember", "variant": "vanilla", "ablate": "f:0-15:0:5-999"}),
    ExperimentPreset(
        "The depth unit held at its mean: depth lost",
        "Brackets: unit 4's cell counts the open brackets; held at its mean, the model can no "
        "longer tell how deep it is.",
        {"task": "brackets", "variant": "vanilla", "ablate": "c:4:mean:all"}),
    ExperimentPreset(
        "Input gate closed: nothing is written",
        "Brackets with every input gate held at 0: no candidate enters the cells, so they stay "
        "at 0 and the prediction goes flat.",
        {"task": "brackets", "variant": "vanilla", "ablate": "i:0-7:0:all"}),
)
