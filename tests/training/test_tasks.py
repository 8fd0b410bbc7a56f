"""The built-in tasks: shapes, dtypes, seeded reproducibility, and targets checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz.errors import InputError
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.tasks import (
    REMEMBER_SYMBOLS,
    TASKS,
    BracketsTask,
    Task,
    bracket_depths,
    get_task,
    load_text,
    one_hot,
    r2_score,
)

NAMES = ["brackets", "remember", "adding", "sine", "text"]


def test_registry_has_the_five_tasks() -> None:
    assert list(TASKS) == NAMES
    for name, task in TASKS.items():
        assert task.name == name
        assert get_task(name) is task
        assert task.loss in ("mse", "ce")
        assert task.title and task.description.endswith(".")
        assert len(task.feature_names) == task.input_size
        lo, hi = task.train_length
        assert 1 <= lo <= hi


def test_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="brackets"):
        get_task("nope")


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_dtypes(name: str) -> None:
    task = TASKS[name]
    x, y = task.generate(5, 12, np.random.default_rng(0))
    assert x.shape == (5, 12, task.input_size) and x.dtype == np.float32
    if task.loss == "ce":
        assert y.dtype == np.int64
        assert y.shape == ((5, 12) if task.per_step else (5,))
        assert y.min() >= 0 and y.max() < task.output_size
    else:
        assert y.dtype == np.float32
        assert y.shape == ((5, 12, task.output_size) if task.per_step else (5, task.output_size))
    assert np.isfinite(x).all()


@pytest.mark.parametrize("name", NAMES)
def test_seeded_reproducibility(name: str) -> None:
    task = TASKS[name]
    x1, y1 = task.generate(8, 30, np.random.default_rng(42))
    x2, y2 = task.generate(8, 30, np.random.default_rng(42))
    x3, _ = task.generate(8, 30, np.random.default_rng(43))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


@pytest.mark.parametrize("name", NAMES)
def test_example_is_a_labelled_sequence(name: str) -> None:
    task = TASKS[name]
    seq = task.example()
    assert isinstance(seq, Sequence)
    assert seq.length == task.example_length
    assert seq.n_features == task.input_size
    assert seq.labels is not None and len(seq.labels) == seq.length
    assert seq.feature_names == task.feature_names
    assert seq.meta["task"] == name
    again = task.example()
    np.testing.assert_array_equal(seq.values, again.values)
    other = task.example(seed=1, length=25)
    assert other.length == 25
    assert not np.array_equal(other.values[:5], seq.values[:5]) or name == "text"


def test_one_hot() -> None:
    out = one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(out[1, 0], [0, 1, 0])


# -- brackets -------------------------------------------------------------------------------------


def test_bracket_depths_by_hand() -> None:
    np.testing.assert_array_equal(bracket_depths("(()"), [1, 2, 1])
    np.testing.assert_array_equal(bracket_depths("()(())"), [1, 0, 1, 2, 1, 0])
    np.testing.assert_array_equal(bracket_depths(""), [])


def test_brackets_encoding_and_targets_by_hand() -> None:
    task = TASKS["brackets"]
    assert isinstance(task, BracketsTask)
    np.testing.assert_array_equal(task.encode("(()"), [[1, 0], [1, 0], [0, 1]])
    with pytest.raises(ValueError):
        task.encode("(a)")
    seq = task.example(length=10)
    text = "".join(seq.labels or ())
    assert seq.text == text and set(text) <= {"(", ")"}
    np.testing.assert_array_equal(seq.meta["target"][:, 0], bracket_depths(text))
    np.testing.assert_array_equal(seq.values, task.encode(text))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), length=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_brackets_are_balanced_and_shallow(n: int, length: int, seed: int) -> None:
    task = TASKS["brackets"]
    assert isinstance(task, BracketsTask)
    x, y = task.generate(n, length, np.random.default_rng(seed))
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    for k in range(n):
        s = "".join("(" if row[0] == 1 else ")" for row in x[k])
        depth = bracket_depths(s)
        np.testing.assert_array_equal(y[k, :, 0], depth)
        assert depth.min() >= 0 and depth.max() <= task.max_depth
        assert depth[-1] == length % 2  # even lengths end balanced, odd at depth 1


def test_brackets_reach_deep_nesting() -> None:
    _, y = TASKS["brackets"].generate(300, 60, np.random.default_rng(0))
    deepest = y.max(axis=(1, 2))
    assert deepest.max() == 6
    assert len(np.unique(deepest)) == 6  # every cap 1..6 shows up


def test_brackets_metric_rounds_the_depth() -> None:
    task = TASKS["brackets"]
    y = np.array([[[1.0], [2.0], [1.0], [0.0]]], dtype=np.float32)
    pred = np.array([[[1.2], [1.6], [0.4], [0.1]]], dtype=np.float32)
    assert task.metric(pred, y) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        task.metric(pred[:, :3], y)


# -- remember -------------------------------------------------------------------------------------


def test_remember_layout() -> None:
    task = TASKS["remember"]
    x, y = task.generate(50, 20, np.random.default_rng(3))
    k = len(REMEMBER_SYMBOLS)
    idx = x.argmax(axis=-1)
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(idx[:, 0], y)  # the first symbol is the target
    assert (idx[:, 1:-1] >= k).all() and (idx[:, 1:-1] < task.input_size - 1).all()  # noise
    assert (idx[:, -1] == task.input_size - 1).all()  # the cue
    assert set(np.unique(y)) == set(range(k))
    seq = task.example(length=6)
    assert seq.labels is not None
    assert seq.labels[0] == REMEMBER_SYMBOLS[int(seq.meta["target"])]
    assert seq.labels[-1] == "?"


def test_remember_metric_uses_the_last_step() -> None:
    task = TASKS["remember"]
    y = np.array([0, 3])
    last = np.array([[5.0, 0, 0, 0], [0, 1.0, 0, 0]])
    every = np.stack([np.zeros_like(last), last], axis=1)  # (N, T=2, 4)
    assert task.metric(last, y) == pytest.approx(0.5)
    assert task.metric(every, y) == pytest.approx(0.5)


# -- adding ---------------------------------------------------------------------------------------


def test_adding_targets_by_hand() -> None:
    task = TASKS["adding"]
    x, y = task.generate(200, 10, np.random.default_rng(5))
    marker = x[..., 1]
    assert ((marker == 0) | (marker == 1)).all()
    np.testing.assert_array_equal(marker.sum(axis=1), 2.0)
    np.testing.assert_array_equal(marker[:, :5].sum(axis=1), 1.0)  # one in each half
    assert (x[..., 0] >= 0).all() and (x[..., 0] <= 1).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marker).sum(axis=1), rtol=1e-6)
    seq = task.example(length=8)
    assert seq.labels is not None
    assert sum(lab.startswith("+") for lab in seq.labels) == 2


def test_adding_metric_is_mean_abs_error() -> None:
    task = TASKS["adding"]
    y = np.array([[1.0], [0.5]], dtype=np.float32)
    assert task.metric(np.array([[1.5], [0.5]]), y) == pytest.approx(0.25)
    assert not task.higher_is_better and task.better(0.1, 0.2)
    # predicting the mean (1.0) scores about 1/3
    _, yy = task.generate(4000, 20, np.random.default_rng(0))
    assert task.metric(np.ones_like(yy), yy) == pytest.approx(1 / 3, abs=0.02)


# -- sine -----------------------------------------------------------------------------------------


def test_sine_targets_are_the_next_clean_value() -> None:
    task = TASKS["sine"]
    x, y = task.generate(64, 40, np.random.default_rng(9))
    residual = x[:, 1:, 0] - y[:, :-1, 0]  # the input at t+1 is the target at t plus noise
    assert abs(residual.std() - 0.05) < 0.005
    assert abs(residual.mean()) < 0.005
    assert np.abs(y).max() <= 1.0 + 1e-6
    # the clean targets are a sine: second differences are proportional to the values
    d2 = y[:, 2:, 0] - 2 * y[:, 1:-1, 0] + y[:, :-2, 0]
    ratio = d2 / np.where(np.abs(y[:, 1:-1, 0]) > 0.2, y[:, 1:-1, 0], np.nan)
    spread = np.nanstd(ratio, axis=1)
    assert (spread < 1e-3).all()


def test_r2_by_hand() -> None:
    y = np.array([1.0, 2.0, 3.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(np.full(3, 2.0), y) == pytest.approx(0.0)
    assert r2_score(np.array([1.0, 2.0, 4.0]), y) == pytest.approx(0.5)


# -- text -----------------------------------------------------------------------------------------


def test_text_is_shipped_public_domain_prose() -> None:
    text = load_text()
    assert 3000 < len(text.encode()) < 20000
    assert "Alice" in text and text.count('"') >= 20 and text.count("\n") >= 50
    task = TASKS["text"]
    assert task.vocab == tuple(sorted(set(text)))
    assert task.input_size == task.output_size == len(task.vocab)


def test_text_windows_are_real_passages() -> None:
    task = TASKS["text"]
    assert task.vocab is not None
    x, y = task.generate(20, 30, np.random.default_rng(1))
    text = load_text()
    idx = x.argmax(axis=-1)
    np.testing.assert_array_equal(idx[:, 1:], y[:, :-1])  # y is x shifted by one
    for k in range(20):
        window = "".join(task.vocab[i] for i in idx[k]) + task.vocab[y[k, -1]]
        assert window in text
    np.testing.assert_array_equal(task.encode("Alice"), [task.vocab.index(c) for c in "Alice"])
    with pytest.raises(ValueError, match="vocabulary"):
        task.encode("Alice\u00e9")


def test_text_example_has_dialogue_and_characters_as_labels() -> None:
    seq = TASKS["text"].example()
    assert seq.text is not None and seq.text in load_text()
    assert '"' in seq.text
    assert "".join(seq.labels or ()) == seq.text
    assert seq.vocab == TASKS["text"].vocab


def test_text_accuracy_metric() -> None:
    task = TASKS["text"]
    y = np.array([[0, 1, 2]])
    logits = np.zeros((1, 3, task.output_size))
    logits[0, 0, 0] = logits[0, 1, 1] = logits[0, 2, 5] = 1.0
    assert task.metric(logits, y) == pytest.approx(2 / 3)


# -- curriculum -----------------------------------------------------------------------------------


def test_train_range_curriculum() -> None:
    task = TASKS["remember"]
    assert task.curriculum is not None
    start, fraction = task.curriculum
    lo, hi = task.train_length
    assert task.train_range(0, 100) == (start, start)
    assert task.train_range(int(fraction * 100), 100) == (lo, hi)
    assert task.train_range(99, 100) == (lo, hi)
    mid = task.train_range(int(fraction * 50), 100)
    assert start < mid[1] < hi
    plain: Task = TASKS["sine"]
    assert plain.train_range(0, 100) == plain.train_length


@pytest.mark.parametrize("name", NAMES)
def test_bad_sizes_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        TASKS[name].generate(0, 10, np.random.default_rng(0))
    with pytest.raises(ValueError):
        TASKS[name].generate(2, 0, np.random.default_rng(0))
