"""What every built-in task shares: the ``Task`` base class and small helpers (one-hot codes,
bracket depths, R², the text of the text task). The tasks themselves are in ``tasks.py``.

No torch here: the app imports this module on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from lstm_viz.files.sequence import Sequence

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
TEXT_FILE = DATA_DIR / "alice.txt"


# --------------------------------------------------------------------------------------------------
# helpers usable on their own (and hand-checked in the tests)


def one_hot(index: np.ndarray, size: int) -> np.ndarray:
    """float32 one-hot of an integer array: shape ``index.shape + (size,)``."""
    index = np.asarray(index, dtype=np.int64)
    out = np.zeros(index.shape + (size,), dtype=np.float32)
    np.put_along_axis(out, index[..., None], 1.0, axis=-1)
    return out


def bracket_depths(s: str) -> np.ndarray:
    """Nesting depth after each character of a string of ``(`` and ``)``: ``"(()"`` -> [1, 2, 1]."""
    steps = np.array([{"(": 1, ")": -1}[ch] for ch in s], dtype=np.int64)
    return np.cumsum(steps)


def r2_score(pred: np.ndarray, y: np.ndarray) -> float:
    """1 − SSE/SST over all elements (1 is perfect, 0 is predicting the mean)."""
    pred = np.asarray(pred, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    sst = float(np.sum((y - y.mean()) ** 2))
    sse = float(np.sum((pred - y) ** 2))
    return 1.0 - sse / sst if sst > 0 else float(sse == 0.0)


def _check(n: int, length: int, min_length: int = 1) -> None:
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if int(length) < min_length:
        raise ValueError(f"length must be at least {min_length}, got {length}")


@lru_cache(maxsize=1)
def load_text() -> str:
    """The shipped public-domain text (the opening of *Alice's Adventures in Wonderland*)."""
    return TEXT_FILE.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# the task type


@dataclass(frozen=True)
class Lesson:
    """What a task's lesson is about: the quantity to watch and, when the task has one, the
    latent (a number per step, from the example sequence) that a telling unit's quantity tracks.

    ``latent`` maps a task example to a (T,) array, or is None (no per-step latent: the unit is
    picked by ``analysis.lesson_unit``'s fallback rule). ``tracks`` finishes the sentence "Unit 4's
    c ..." ("counts open brackets"); ``latent_name`` names the latent ("nesting depth").
    """

    quantity: str
    tracks: str
    latent_name: str | None = None
    latent: Callable[[Sequence], np.ndarray] | None = None


@dataclass(frozen=True)
class Task:
    """One learning problem.

    ``train_length`` is the (low, high) range of sequence lengths drawn per batch in training,
    ``eval_length`` the length of the held-out sequences the stated metric is measured on and
    ``example_length`` the default length of :meth:`example`. ``default_*`` is the training config
    that ships (each trains in well under 30 s on two CPU cores), with ``curriculum`` as in
    :meth:`train_range`.
    """

    name: str
    title: str
    description: str
    input_size: int
    output_size: int
    loss: str  # "mse" | "ce"
    per_step: bool
    vocab: tuple[str, ...] | None
    feature_names: tuple[str, ...]
    metric_name: str  # "accuracy" | "mean abs error" | "R²"
    higher_is_better: bool
    train_length: tuple[int, int]
    eval_length: int
    example_length: int
    default_hidden: int = 16
    default_steps: int = 600
    default_batch: int = 32
    default_lr: float = 1e-2
    curriculum: tuple[int, float] | None = None
    eval_note: str = "fresh sequences from a random stream training never drew from"
    meta: dict = field(default_factory=dict, compare=False)
    lesson: Lesson | None = None  # what the landing page focuses (analysis.lesson_unit)

    def train_range(self, step: int, steps: int) -> tuple[int, int]:
        """The (low, high) sequence lengths for training step ``step`` (0-based) of ``steps``.

        With a ``curriculum`` ``(start, fraction)`` the upper length grows linearly from ``start``
        to ``train_length[1]`` over the first ``fraction`` of the steps (short sequences first,
        so a long memory is found step by step); otherwise it is ``train_length`` throughout.
        """
        lo, hi = self.train_length
        if self.curriculum is None:
            return lo, hi
        start, fraction = self.curriculum
        ramp = min(1.0, step / max(1.0, fraction * steps))
        top = int(round(start + (hi - start) * ramp))
        return min(lo, top), top

    # -- to implement per task -----------------------------------------------------------------
    def generate(
        self, n: int, length: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` sequences of ``length`` steps: ``(x (N,T,I) float32, y)`` (see the module doc)."""
        raise NotImplementedError

    def _labels(self, x: np.ndarray) -> tuple[str, ...]:
        """One short label per step of one sequence ``x`` (T, I)."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def example(self, seed: int = 0, length: int | None = None) -> Sequence:
        """A demonstration sequence for the app; ``meta["target"]`` holds its targets."""
        length = self.example_length if length is None else int(length)
        x, y = self.generate(1, length, np.random.default_rng(seed))
        return Sequence(
            values=x[0],
            name=self.title,
            feature_names=self.feature_names,
            labels=self._labels(x[0]),
            vocab=self.vocab,
            meta={"task": self.name, "target": y[0], "seed": seed},
        )

    def last(self, pred: np.ndarray) -> np.ndarray:
        """The predictions the metric scores: the last step for last-step tasks, else all."""
        pred = np.asarray(pred)
        if not self.per_step and pred.ndim == 3:
            return pred[:, -1]
        return pred

    def metric(self, pred: np.ndarray, y: np.ndarray) -> float:
        """The task's metric (:attr:`metric_name`) of the head outputs ``pred`` against ``y``."""
        pred = self.last(pred)
        y = np.asarray(y)
        if self.loss == "ce":
            if pred.shape[:-1] != y.shape:
                raise ValueError(f"pred {pred.shape} does not fit targets {y.shape}")
            return float(np.mean(np.argmax(pred, axis=-1) == y))
        if pred.shape != y.shape:
            raise ValueError(f"pred {pred.shape} does not fit targets {y.shape}")
        if self.metric_name == "accuracy":
            return float(np.mean(np.rint(pred) == np.rint(y)))
        if self.metric_name == "mean abs error":
            return float(np.mean(np.abs(pred - y)))
        return r2_score(pred, y)

    def better(self, a: float, b: float) -> bool:
        """True when metric value ``a`` is at least as good as ``b``."""
        return a >= b if self.higher_is_better else a <= b
