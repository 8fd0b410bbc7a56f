"""Track a signal (issue #14, "ask why"): signals defined over a sequence, and a linear probe of a
layer's states for one of them, with a control.

* :func:`pattern_signal`: a signal the user types as a pattern over the sequence's labels
  (characters or tokens): ``(`` counts the ``(`` seen so far; ``( )`` is the running depth,
  opens minus closes; a quote alone (``"``, ``'``, `````) or a pattern given twice (``" "``,
  ``$ $``) is 1 inside a quoted span and 0 outside; ``\\n``, ``\\t``, ``\\s`` stand for a
  newline, a tab, a space.
* :func:`task_latents`: what the shipped task knows it is computing, where that is a sequence
  (adding: the running sum of the marked values; sine: the next clean value). The brackets depth
  comes from the labels in :func:`lstm_viz.analysis.experiments.signals`.
* :func:`probe`: ridge regression from every unit of a layer to the signal, fit on the first
  steps and scored (R²) on the last ones, beside the same probe on a circularly shifted signal.

NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_viz.errors import InputError

MAX_PATTERN = 40          # characters of a pattern at most
MIN_STEPS = 10            # steps a probe needs at least (3 or more held out at split 0.7)
CONTROL_SHIFTS = 5        # circular shifts the control averages over
SPLIT = 0.7               # the share of the steps a probe is fit on (the rest scores it)
RIDGE = 1e-2              # the probe's ridge penalty
QUOTES = ('"', "'", "`")  # a quote alone means "inside quotes", not a count


def _occurrences(labels: Sequence[str], pattern: str) -> np.ndarray:
    """How many times ``pattern`` ends at each step of the labels joined into one text
    (non-overlapping, left to right, as ``str.count``): (T,) float."""
    labels = [str(s) for s in labels]
    ends = np.cumsum([len(s) for s in labels]) - 1          # the text position each step ends at
    text = "".join(labels)
    hits = np.zeros(len(labels))
    at = text.find(pattern)
    while at >= 0:
        hits[min(int(np.searchsorted(ends, at + len(pattern) - 1)), len(labels) - 1)] += 1
        at = text.find(pattern, at + len(pattern))
    return hits


def pattern_signal(labels: Sequence[str] | None, pattern: str) -> np.ndarray:
    """The signal a typed pattern defines over ``labels`` (one string per step) -> (T,) float64.

    ``X``: the running count of X; ``X Y``: the running depth, count of X minus count of Y;
    ``X X`` or a quote alone: inside-a-span parity (1 between an opening and its closing X).
    ``InputError`` (one sentence) for an empty or malformed pattern, a sequence without labels,
    or a pattern that never occurs.
    """
    if not labels:
        raise InputError("This sequence has no characters or tokens to count a pattern in; "
                         "pick a text or task sequence, or track an input column instead.")
    parts = [_unescaped(p) for p in str(pattern).split()]
    if not parts:
        raise InputError("The pattern is empty: type a character such as ( or a pair such "
                         "as ( ) for a depth.")
    if len(parts) > 2:
        raise InputError(f"The pattern {pattern.strip()[:MAX_PATTERN]!r} has {len(parts)} parts; "
                         "type one part for a count, or an opening and a closing part "
                         "separated by a space for a depth.")
    if any(len(p) > MAX_PATTERN for p in parts):
        raise InputError(f"A pattern is at most {MAX_PATTERN} characters long.")
    opens = _occurrences(labels, parts[0])
    if len(parts) == 1 and parts[0] not in QUOTES:
        if not opens.any():
            raise InputError(f"{parts[0]!r} does not occur in this sequence; "
                             f"try one of {_common(labels)}.")
        return np.cumsum(opens)
    if len(parts) == 1 or parts[0] == parts[1]:               # a span: inside or not
        if not opens.any():
            raise InputError(f"{parts[0]!r} does not occur in this sequence, so nothing is "
                             "ever inside it.")
        return np.cumsum(opens) % 2
    closes = _occurrences(labels, parts[1])
    if not opens.any() and not closes.any():
        raise InputError(f"Neither {parts[0]!r} nor {parts[1]!r} occurs in this sequence; "
                         f"try one of {_common(labels)}.")
    return np.cumsum(opens) - np.cumsum(closes)


def _unescaped(part: str) -> str:
    """A typed part with ``\\n``, ``\\t``, ``\\s`` read as a newline, a tab, a space (a text box
    cannot hold the first two, and a space separates the parts)."""
    return part.replace("\\n", "\n").replace("\\t", "\t").replace("\\s", " ")


def _common(labels: Sequence[str], most: int = 5) -> str:
    """The most frequent labels, for a hint: "'a', 'b', …"."""
    names, counts = np.unique([str(s) for s in labels], return_counts=True)
    top = names[np.argsort(-counts, kind="stable")][:most]
    return ", ".join(repr(str(s)) for s in top)


# -- the task's known latent ---------------------------------------------------------------------


def _marked_sum(values: np.ndarray, meta: Mapping) -> dict[str, np.ndarray]:
    v = np.asarray(values, dtype=np.float64)
    marked = (v[:, 1] > 0.5).astype(np.float64)
    return {"marked running sum": np.cumsum(v[:, 0] * marked), "markers seen": np.cumsum(marked)}


def _next_value(values: np.ndarray, meta: Mapping) -> dict[str, np.ndarray]:
    target = np.asarray(meta.get("target", ()), dtype=np.float64)
    if target.ndim == 2 and target.shape[1] == 1 and len(target) == len(values):
        return {"next clean value": target[:, 0]}
    return {}


# task name (as in lstm_viz.training.tasks.TASKS) -> its latent signals, where it has some
# (brackets: the depth, read from the labels by experiments.signals)
LATENTS: dict[str, Callable[[np.ndarray, Mapping], dict[str, np.ndarray]]] = {
    "adding": _marked_sum,
    "sine": _next_value,
}


def task_latents(values: np.ndarray, meta: Mapping | None) -> dict[str, np.ndarray]:
    """The known latent signals of the task a sequence came from (``meta["task"]``), name ->
    (T,); empty for a task without one or a sequence from a file."""
    make = LATENTS.get(str((meta or {}).get("task", "")))
    if make is None:
        return {}
    values = np.asarray(values)
    if values.ndim != 2 or (make is _marked_sum and values.shape[1] < 2):
        return {}
    return make(values, meta or {})


# -- the probe -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A linear probe of one layer: held-out R² for the signal, and for the control (the same
    probe on the signal circularly shifted); ``weights`` (H,) reads the signal from the units
    (the fit on the first steps; its intercept is not kept)."""

    r2: float
    r2_control: float
    weights: np.ndarray


def _check_probe(states: np.ndarray, signal: np.ndarray, split: float) -> None:
    if states.ndim != 2 or signal.ndim != 1 or len(states) != len(signal):
        raise InputError(f"The states {states.shape} and the signal {signal.shape} do not fit: "
                         "give one signal value per step.")
    T = len(signal)
    if T < MIN_STEPS:
        raise InputError(f"A probe needs at least {MIN_STEPS} steps (this sequence has {T}); "
                         "pick a longer sequence.")
    if not 0.1 <= split <= 0.9:
        raise InputError(f"The split {split:g} must be between 0.1 and 0.9 (the share of steps "
                         "the probe is fit on).")
    bad = np.flatnonzero(~np.isfinite(signal))
    if bad.size:
        raise InputError(f"The signal is missing (NaN or infinite) at step {int(bad[0])}; "
                         "fill or drop those steps first.")
    if not np.isfinite(states).all():
        raise InputError("The states hold non-finite values, so no probe can be fit; try "
                         "another sequence or model.")
    if np.ptp(signal) == 0:
        raise InputError("The signal is constant over the sequence, so there is nothing to "
                         "track; pick another signal or a longer sequence.")
    n = int(round(T * split))
    if np.ptp(signal[n:]) == 0:
        raise InputError(f"The signal is constant over the last {T - n} steps the probe is "
                         "scored on; pick a longer sequence or another signal.")


def _fit(X: np.ndarray, Y: np.ndarray, n: int, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge fit of every column of ``Y`` (T, K) on ``X[:n]`` (centred on the fit steps) ->
    (held-out R² (K,), weights (H, K))."""
    mx, my = X[:n].mean(axis=0), Y[:n].mean(axis=0)
    A = X[:n] - mx
    gram = A.T @ A + ridge * np.eye(X.shape[1])
    W = np.linalg.solve(gram, A.T @ (Y[:n] - my))
    pred = (X[n:] - mx) @ W + my
    held = Y[n:]
    total = ((held - held.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1.0 - ((held - pred) ** 2).sum(axis=0) / total
    return np.where(total > 0, r2, np.nan), W


def probe(states: np.ndarray, signal: np.ndarray, ridge: float = RIDGE, split: float = SPLIT,
          seed: int = 0) -> Probe:
    """Ridge regression (closed form) from ``states`` (T, H), every unit of one layer, to
    ``signal`` (T,): fit on the first ``split`` of the steps, R² on the rest. The split is
    contiguous, not random: neighbouring steps are nearly the same, so a random split would
    score the probe on steps it has all but seen.

    The control is the same probe on the signal circularly shifted (``np.roll``) by a seeded
    offset between a quarter and three quarters of the length, its R² averaged over
    :data:`CONTROL_SHIFTS` offsets. A shift, rather than shuffled labels, keeps the signal's
    values and autocorrelation (how smooth it is) and breaks only its alignment with the
    sequence: a shuffled signal is white noise that no smooth state can follow on held-out steps,
    so its control would read near or below 0 whatever the layer holds, and say nothing about a
    slowly varying state that fits any slowly varying signal. A probe far above its control
    reads the signal from the layer; a control near the probe means the fit comes from the
    signal's shape, not from the layer knowing it.

    ``InputError`` (one sentence) for a too short sequence, a constant signal, NaN.
    """
    X = np.asarray(states, dtype=np.float64)
    y = np.asarray(signal, dtype=np.float64)
    _check_probe(X, y, split)
    if not (np.isfinite(ridge) and ridge >= 0):
        raise InputError(f"The ridge {ridge!r} must be a number of 0 or more.")
    T = len(y)
    n = int(round(T * split))
    rng = np.random.default_rng(seed)
    shifts = rng.integers(max(1, T // 4), max(2, 3 * T // 4 + 1), size=CONTROL_SHIFTS)
    Y = np.stack([y] + [np.roll(y, int(k)) for k in shifts], axis=1)
    r2, W = _fit(X, Y, n, ridge)
    controls = r2[1:][np.isfinite(r2[1:])]
    return Probe(float(r2[0]), float(controls.mean()) if controls.size else float("nan"),
                 W[:, 0])


@dataclass(frozen=True)
class LayerProbe:
    """One row of the per-layer table: where (layer, direction) and its probe."""

    layer: int
    direction: int
    probe: Probe

    @property
    def name(self) -> str:
        return f"layer {self.layer}" + ("" if self.direction < 0 else
                                        f" {'forward' if self.direction == 0 else 'backward'}")


def probe_layers(states: Mapping[tuple[int, int], np.ndarray], signal: np.ndarray,
                 ridge: float = RIDGE, split: float = SPLIT, seed: int = 0) -> list[LayerProbe]:
    """A probe per (layer, direction) of ``states`` ((T, H) each), in layer order; direction
    is reported as -1 when the model has one direction only (so it is not named)."""
    bidirectional = any(d for _, d in states)
    return [LayerProbe(layer, direction if bidirectional else -1,
                       probe(states[(layer, direction)], signal, ridge, split, seed))
            for layer, direction in sorted(states)]
