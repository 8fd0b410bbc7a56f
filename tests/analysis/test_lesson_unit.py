"""``analysis.lesson_unit``: the unit that tells each task's lesson, measured, and the rule that
scales the heatmaps' rows of c each to its own range."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.analysis.lesson_unit import (
    STRONG,
    per_unit_default,
    pick_unit,
    shipped_telling_unit,
    telling_unit,
)
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import SHIPPED_VARIANTS, load_shipped


def test_brackets_opens_on_the_counting_unit() -> None:
    told = shipped_telling_unit("brackets", "vanilla")
    assert (told.unit, told.quantity, told.correlated) == (4, "c", True)
    assert told.score >= 0.9                      # measured 0.98: a margin of 0.08
    assert told.sentence == "Unit 4's c counts open brackets (r = 0.98)."
    # measured on the depth itself: the unit's c over the example follows it
    model, seq = load_shipped("brackets", "vanilla"), TASKS["brackets"].example(seed=0)
    c = model.recurrent().trace(seq.values).get("c")[:, 0, 4]
    depth = np.asarray(seq.meta["target"]).reshape(-1)
    assert np.corrcoef(c, depth)[0, 1] >= 0.9


def test_every_task_names_a_lesson_and_every_shipped_model_a_unit() -> None:
    for name, task in TASKS.items():
        assert task.lesson is not None and task.lesson.quantity == "c", name
        for variant in SHIPPED_VARIANTS:
            told = shipped_telling_unit(name, variant)
            hidden = load_shipped(name, variant).config["hidden_size"]
            assert 0 <= told.unit < hidden
            assert told.quantity == ("c" if variant not in ("gru", "rnn") else "h")
            assert told.sentence.startswith(f"Unit {told.unit}'s {told.quantity} ")
            if told.correlated and abs(told.score) < STRONG:    # weak: says so, claims nothing
                assert "but weakly" in told.sentence
                assert task.lesson.tracks not in told.sentence


def test_pick_unit_finds_the_unit_that_tracks_the_latent() -> None:
    rng = np.random.default_rng(0)
    latent = np.cumsum(rng.choice([-1.0, 1.0], size=50))
    values = rng.normal(size=(50, 6))
    values[:, 3] = -2.0 * latent + 0.1 * rng.normal(size=50)     # anti-correlated counts too
    values[:, 5] = 7.0                                             # constant: r is 0, not nan
    unit, r, correlated = pick_unit(values, latent)
    assert (unit, correlated) == (3, True) and r < -0.95


def test_pick_unit_without_a_latent_takes_the_largest_value_at_the_last_step() -> None:
    values = np.zeros((10, 4))
    values[-1] = [0.5, -3.0, 2.0, 0.0]
    assert pick_unit(values, None) == (1, -3.0, False)
    assert pick_unit(values, np.ones(10)) == (1, -3.0, False)       # a constant latent: no r
    with pytest.raises(ValueError):
        pick_unit(values, np.ones(9))


def test_telling_unit_falls_back_to_h_without_a_cell_state() -> None:
    seq = TASKS["brackets"].example(seed=0)
    depth = np.asarray(seq.meta["target"], dtype=float).reshape(-1)
    h = np.stack([np.zeros(depth.size), np.tanh(depth / 3)], axis=1)
    told = telling_unit("brackets", {"h": h}, seq)
    assert (told.unit, told.quantity) == (1, "h") and told.score > 0.95


def test_per_unit_scale_is_on_for_c_when_one_unit_dominates() -> None:
    c = np.ones((20, 8))
    c[:, 3] = 3.0                                   # exactly 3x the median unit's range
    assert per_unit_default("c", c)
    c[:, 3] = 2.9
    assert not per_unit_default("c", c)
    assert not per_unit_default("h", c * 0 + np.arange(8) ** 3)   # only c
    assert not per_unit_default("c", np.ones((20, 1)))            # one unit: nothing to compare
    shipped = load_shipped("brackets", "vanilla")
    seq = TASKS["brackets"].example(seed=0)
    brackets_c = shipped.recurrent().trace(seq.values).get("c")[:, 0]
    assert per_unit_default("c", brackets_c)        # unit 3 drifts to 10, the median ~1.5
