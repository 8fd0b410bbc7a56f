"""Built-in tasks: seeded generators of input sequences and targets, one per thing to learn.

Each task fixes the input encoding, the targets, the loss (``"mse"`` or ``"ce"``), whether there
is a target at every step or only at the last one, and a metric to report on held-out sequences.

Shapes (``N`` sequences of ``T`` steps, ``I`` input features, ``O`` outputs):

======== ============ ================================ ======================================
task     x            y                                metric
======== ============ ================================ ======================================
brackets (N,T,2)      (N,T,1) float32 nesting depth    accuracy of the rounded depth, per step
remember (N,T,9)      (N,) int64 first symbol          accuracy at the last step
adding   (N,T,2)      (N,1) float32 sum                mean abs error at the last step
sine     (N,T,1)      (N,T,1) float32 next value       R² over every step
text     (N,T,V)      (N,T) int64 next character       accuracy over every step
======== ============ ================================ ======================================

``x`` is always float32. Model outputs (``pred``) for the metric are the head's outputs: one value
per step for mse tasks, logits over the classes for ce tasks; last-step tasks accept either all
steps ``(N,T,O)`` or the last step only ``(N,O)``.

No torch here: the app imports this module on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.task_base import (  # noqa: F401  (re-exported: the tasks' helpers)
    DATA_DIR,
    TEXT_FILE,
    Lesson,
    Task,
    _check,
    bracket_depths,
    load_text,
    one_hot,
    r2_score,
)

# --------------------------------------------------------------------------------------------------
# brackets


@dataclass(frozen=True)
class BracketsTask(Task):
    """Balanced ``(``/``)`` strings; the target is the nesting depth after each character."""

    max_depth: int = 6

    def strings(self, n: int, length: int, rng: np.random.Generator) -> list[str]:
        """``n`` random bracket strings of ``length`` characters.

        A random walk on the depth with a random cap in 1..max_depth and a random chance of ``(``
        in [0.4, 0.75] per string: ``(`` at depth 0, ``)`` at the cap or when the remaining steps
        are needed to close, else the coin. Even lengths end balanced; odd lengths at depth 1.
        """
        _check(n, length)
        cap = rng.integers(1, self.max_depth + 1, size=n)
        p_open = rng.uniform(0.4, 0.75, size=(n, 1))
        coin = rng.random((n, length)) < p_open
        depth = np.zeros(n, dtype=np.int64)
        opens = np.zeros((n, length), dtype=bool)
        for t in range(length):
            remaining = length - t
            op = coin[:, t]
            op = np.where(depth >= cap, False, op)
            op = np.where(depth >= remaining, False, op)
            op = np.where(depth == 0, True, op)
            opens[:, t] = op
            depth += np.where(op, 1, -1)
        return ["".join("(" if o else ")" for o in row) for row in opens]

    def encode(self, s: str) -> np.ndarray:
        """One-hot (T, 2) of a bracket string; column 0 is ``(``, column 1 is ``)``."""
        if set(s) - {"(", ")"}:
            raise ValueError("a bracket string holds only '(' and ')'")
        return one_hot(np.array([c == ")" for c in s], dtype=np.int64), 2)

    def generate(
        self, n: int, length: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        strings = self.strings(n, length, rng)
        x = np.stack([self.encode(s) for s in strings])
        y = np.stack([bracket_depths(s) for s in strings]).astype(np.float32)[..., None]
        return x, y

    def _labels(self, x: np.ndarray) -> tuple[str, ...]:
        return tuple("(" if row[0] > 0.5 else ")" for row in x)

    def example(self, seed: int = 0, length: int | None = None) -> Sequence:
        seq = super().example(seed, length)
        text = "".join(seq.labels or ())
        return Sequence(
            values=seq.values,
            name=seq.name,
            feature_names=seq.feature_names,
            labels=seq.labels,
            text=text,
            vocab=self.vocab,
            meta=seq.meta,
        )


# --------------------------------------------------------------------------------------------------
# remember the first symbol


REMEMBER_SYMBOLS = ("A", "B", "C", "D")
REMEMBER_NOISE = ("w", "x", "y", "z")
REMEMBER_CUE = "?"


@dataclass(frozen=True)
class RememberTask(Task):
    """Step 0 shows one of 4 symbols, then noise symbols, then a ``?`` cue at the last step.

    The target at the last step is the symbol of step 0 (class 0..3).
    """

    def generate(
        self, n: int, length: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        _check(n, length, min_length=2)
        k = len(REMEMBER_SYMBOLS)
        m = len(REMEMBER_NOISE)
        first = rng.integers(0, k, size=n)
        noise = rng.integers(0, m, size=(n, length)) + k
        idx = noise.copy()
        idx[:, 0] = first
        idx[:, -1] = k + m  # the cue
        return one_hot(idx, self.input_size), first.astype(np.int64)

    def _labels(self, x: np.ndarray) -> tuple[str, ...]:
        names = self.feature_names
        return tuple(names[int(np.argmax(row))] for row in x)


# --------------------------------------------------------------------------------------------------
# the adding problem


@dataclass(frozen=True)
class AddingTask(Task):
    """Hochreiter & Schmidhuber (1997): add the two marked values of a random sequence.

    Feature 0 is a value uniform in [0, 1], feature 1 a marker that is 1 at exactly two steps:
    one in the first half and one in the second half. The target at the last step is the sum of
    the two marked values (predicting the mean, 1.0, gives a mean abs error of 1/3).
    """

    def generate(
        self, n: int, length: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        _check(n, length, min_length=2)
        half = length // 2
        values = rng.random((n, length)).astype(np.float32)
        first = rng.integers(0, half, size=n)
        second = rng.integers(half, length, size=n)
        marker = np.zeros((n, length), dtype=np.float32)
        rows = np.arange(n)
        marker[rows, first] = 1.0
        marker[rows, second] = 1.0
        x = np.stack([values, marker], axis=-1)
        y = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
        return x, y

    def _labels(self, x: np.ndarray) -> tuple[str, ...]:
        return tuple(f"+{row[0]:.2f}" if row[1] > 0.5 else "·" for row in x)


# --------------------------------------------------------------------------------------------------
# sine


@dataclass(frozen=True)
class SineTask(Task):
    """A noisy sine wave with random period, amplitude and phase; predict the next clean value.

    x_t = A·sin(2π t / P + φ) + noise (σ = ``noise``); y_t = A·sin(2π (t+1) / P + φ).
    """

    noise: float = 0.05
    period: tuple[float, float] = (8.0, 32.0)
    amplitude: tuple[float, float] = (0.5, 1.0)

    def generate(
        self, n: int, length: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        _check(n, length)
        period = rng.uniform(*self.period, size=(n, 1))
        amp = rng.uniform(*self.amplitude, size=(n, 1))
        phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
        t = np.arange(length + 1)[None, :]
        clean = amp * np.sin(2 * np.pi * t / period + phase)
        x = clean[:, :-1] + self.noise * rng.standard_normal((n, length))
        y = clean[:, 1:]
        return x.astype(np.float32)[..., None], y.astype(np.float32)[..., None]

    def _labels(self, x: np.ndarray) -> tuple[str, ...]:
        return tuple(f"{v:+.2f}" for v in x[:, 0])


# --------------------------------------------------------------------------------------------------
# text


@dataclass(frozen=True)
class TextTask(Task):
    """Next-character prediction on the shipped text; inputs and targets index :attr:`vocab`."""

    def encode(self, s: str) -> np.ndarray:
        """Indices of the characters of ``s`` in the vocabulary."""
        assert self.vocab is not None
        lookup = {ch: k for k, ch in enumerate(self.vocab)}
        missing = sorted(set(s) - set(lookup))
        if missing:
            raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r}")
        return np.array([lookup[ch] for ch in s], dtype=np.int64)

    def generate(
        self, n: int, length: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random windows of the text: x = chars[s : s+T] one-hot, y = chars[s+1 : s+T+1]."""
        _check(n, length)
        codes = self.encode(load_text())
        if length + 1 > len(codes):
            raise ValueError(f"length must be below {len(codes)} for this text")
        starts = rng.integers(0, len(codes) - length, size=n)
        windows = codes[starts[:, None] + np.arange(length + 1)[None, :]]
        return one_hot(windows[:, :-1], self.input_size), windows[:, 1:].astype(np.int64)

    def _labels(self, x: np.ndarray) -> tuple[str, ...]:
        assert self.vocab is not None
        return tuple(self.vocab[int(k)] for k in np.argmax(x, axis=-1))

    def example(self, seed: int = 0, length: int | None = None) -> Sequence:
        """A passage starting at a line that holds dialogue (seed picks which)."""
        text = load_text()
        length = self.example_length if length is None else int(length)
        _check(1, length)
        if length + 1 > len(text):
            raise ValueError(f"length must be below {len(text)} for this text")
        line_starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
        good = [
            s
            for s in line_starts
            if s + length + 1 <= len(text) and '"' in text[s : s + 80] and text[s : s + 1].strip()
        ] or [0]
        start = good[np.random.default_rng(seed).integers(len(good))]
        passage = text[start : start + length]
        codes = self.encode(text[start : start + length + 1])
        return Sequence(
            values=one_hot(codes[:-1], self.input_size),
            name=self.title,
            feature_names=self.feature_names,
            labels=tuple(passage),
            text=passage,
            vocab=self.vocab,
            meta={"task": self.name, "target": codes[1:], "seed": seed, "start": start},
        )


def _char_name(ch: str) -> str:
    return {"\n": "\\n", " ": "space"}.get(ch, ch)


# --------------------------------------------------------------------------------------------------
# the lessons' latents: one number per step of a task example, that a telling unit tracks


def _depth(seq: Sequence) -> np.ndarray:
    """Nesting depth after each bracket."""
    return bracket_depths("".join(seq.labels or ())).astype(np.float64)


def _running_sum(seq: Sequence) -> np.ndarray:
    """The sum of the marked values so far."""
    return np.cumsum(seq.values[:, 0] * seq.values[:, 1], dtype=np.float64)


def _wave(seq: Sequence) -> np.ndarray:
    """The input wave itself."""
    return seq.values[:, 0].astype(np.float64)


def _inside_quotes(seq: Sequence) -> np.ndarray:
    """1 inside a quotation (after an odd number of '"'), else 0."""
    quotes = np.array([c == '"' for c in (seq.labels or ())], dtype=np.int64)
    return (np.cumsum(quotes) % 2).astype(np.float64)


# --------------------------------------------------------------------------------------------------
# the registry


def _build() -> dict[str, Task]:
    vocab = tuple(sorted(set(load_text())))
    remember_names = (*REMEMBER_SYMBOLS, *REMEMBER_NOISE, REMEMBER_CUE)
    tasks: list[Task] = [
        BracketsTask(
            name="brackets",
            lesson=Lesson("c", "counts open brackets", "nesting depth", _depth),
            title="brackets (nesting depth)",
            description=(
                "Look for a counting unit: its cell state steps up at '(' and down at ')' "
                "while the forget gate stays near 1."
            ),
            input_size=2,
            output_size=1,
            loss="mse",
            per_step=True,
            vocab=("(", ")"),
            feature_names=("(", ")"),
            metric_name="accuracy",
            higher_is_better=True,
            train_length=(20, 60),
            eval_length=60,
            example_length=40,
            default_hidden=8,
            default_steps=800,
            default_batch=32,
            default_lr=2e-2,
        ),
        RememberTask(
            name="remember",
            lesson=Lesson("c", "holds the first symbol to the cue"),
            title="remember the first symbol",
            description=(
                "The cell states split by the first symbol, and units with their forget gate "
                "held high carry that split through the noise to the '?' cue."
            ),
            input_size=len(remember_names),
            output_size=len(REMEMBER_SYMBOLS),
            loss="ce",
            per_step=False,
            vocab=None,
            feature_names=remember_names,
            metric_name="accuracy",
            higher_is_better=True,
            train_length=(20, 60),
            eval_length=60,
            example_length=30,
            default_hidden=16,
            default_steps=400,
            default_batch=32,
            default_lr=1e-2,
            curriculum=(5, 0.5),
        ),
        AddingTask(
            name="adding",
            lesson=Lesson("c", "holds the running sum", "running sum", _running_sum),
            title="adding problem",
            description=(
                "Look for a unit whose input gate opens only at the two marked steps while its "
                "forget gate stays near 1: its cell holds the running sum."
            ),
            input_size=2,
            output_size=1,
            loss="mse",
            per_step=False,
            vocab=None,
            feature_names=("value", "marker"),
            metric_name="mean abs error",
            higher_is_better=False,
            train_length=(30, 50),
            eval_length=50,
            example_length=30,
            default_hidden=16,
            default_steps=1000,
            default_batch=64,
            default_lr=1e-2,
            curriculum=(5, 0.5),
        ),
        SineTask(
            name="sine",
            lesson=Lesson("c", "follows the wave", "input wave", _wave),
            title="noisy sine wave",
            description=(
                "Units settle into an oscillation at the wave's period; watch c and h lead the "
                "input by one step."
            ),
            input_size=1,
            output_size=1,
            loss="mse",
            per_step=True,
            vocab=None,
            feature_names=("x",),
            metric_name="R²",
            higher_is_better=True,
            train_length=(40, 60),
            eval_length=60,
            example_length=80,
            default_hidden=16,
            default_steps=500,
            default_batch=32,
            default_lr=1e-2,
        ),
        TextTask(
            name="text",
            lesson=Lesson("c", "switches inside quotes", "quotes", _inside_quotes),
            title="text (Alice in Wonderland)",
            description=(
                "Look for units that switch inside quotes, grow along a line and reset at the "
                "line break, or fire at spaces between words."
            ),
            input_size=len(vocab),
            output_size=len(vocab),
            loss="ce",
            per_step=True,
            vocab=vocab,
            feature_names=tuple(_char_name(ch) for ch in vocab),
            metric_name="accuracy",
            higher_is_better=True,
            train_length=(50, 50),
            eval_note=(
                "fresh random windows of the same shipped text (there is no unseen text: "
                "the score says how well the model knows this passage)"
            ),
            eval_length=100,
            example_length=200,
            default_hidden=32,
            default_steps=600,
            default_batch=32,
            default_lr=2e-2,
        ),
    ]
    return {t.name: t for t in tasks}


TASKS: dict[str, Task] = _build()


def get_task(name: str) -> Task:
    """The task called ``name``; ``ValueError`` listing the known ones otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise InputError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}") from None
