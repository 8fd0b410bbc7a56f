"""Track a signal: typed pattern signals, the task's latent, and the linear probe per layer with
its control (issue #14)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.analysis.experiments import correlations, signals
from lstm_viz.analysis.probes import (
    LATENTS,
    MIN_STEPS,
    pattern_signal,
    probe,
    probe_layers,
    task_latents,
)
from lstm_viz.errors import InputError
from lstm_viz.training.tasks import TASKS


def test_a_pattern_counts_a_pair_is_a_depth_a_quote_is_inside_or_not():
    labels = tuple("(a(b)c))(")
    np.testing.assert_array_equal(pattern_signal(labels, "("), [1, 1, 2, 2, 2, 2, 2, 2, 3])
    np.testing.assert_array_equal(pattern_signal(labels, " ( ) "),
                                  [1, 1, 2, 2, 1, 1, 0, -1, 0])
    text = tuple('say "hi" and "yo" ok')
    inside = pattern_signal(text, '"')
    assert inside[text.index('"')] == 1 and inside[0] == 0 and inside[-1] == 0
    np.testing.assert_array_equal(inside[4:9], [1, 1, 1, 0, 0])     # '"hi" ': the close is out
    np.testing.assert_array_equal(pattern_signal(text, "$ $".replace("$", '"')), inside)
    np.testing.assert_array_equal(pattern_signal(tuple("xabab"), "ab"), [0, 0, 1, 1, 2])
    # tokens: a pattern is found in the labels joined, at the step where it ends
    np.testing.assert_array_equal(pattern_signal(("the", "cat", "the", "end"), "the"),
                                  [1, 1, 2, 2])
    np.testing.assert_array_equal(pattern_signal(("ab", "ca", "b"), "cab"), [0, 0, 1])


@pytest.mark.parametrize("labels, pattern, says", [
    (tuple("(())"), "", "empty"),
    (tuple("(())"), "( ) (", "3 parts"),
    (tuple("abc"), "(", "does not occur"),
    (tuple("abc"), "( )", "Neither"),
    (tuple("abc"), '"', "does not occur"),
    (None, "(", "no characters or tokens"),
    (tuple("abc"), "x" * 41, "at most"),
])
def test_a_bad_pattern_is_one_sentence(labels, pattern, says):
    with pytest.raises(InputError, match=says) as info:
        pattern_signal(labels, pattern)
    assert str(info.value).count(". ") == 0 and "\n" not in str(info.value)


def test_the_tasks_latents():
    assert set(LATENTS) <= set(TASKS)
    adding = TASKS["adding"].example(3)
    latent = task_latents(adding.values, adding.meta)
    marked = adding.values[:, 1] > 0.5
    assert latent["markers seen"][-1] == 2
    np.testing.assert_allclose(latent["marked running sum"][-1], adding.meta["target"][0],
                               rtol=1e-6)
    assert latent["marked running sum"][~marked].size and \
        np.all(np.diff(latent["marked running sum"])[~marked[1:]] == 0)
    sine = TASKS["sine"].example(1)
    found = signals(sine.values, sine.feature_names, sine.labels, sine.meta)
    np.testing.assert_allclose(found["next clean value"], sine.meta["target"][:, 0])
    assert list(found) == ["next clean value", "input x"]
    assert task_latents(sine.values, {}) == {}
    assert task_latents(TASKS["remember"].example(0).values, {"task": "remember"}) == {}


def _planted(T: int = 600, H: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(T, H))
    w = rng.normal(size=H)
    return states, states @ w + 0.05 * rng.normal(size=T) + 3.0, w


def test_the_probe_recovers_a_planted_linear_signal_and_its_control_does_not():
    states, signal, w = _planted()
    found = probe(states, signal)
    assert found.r2 > 0.95
    assert abs(found.r2_control) < 0.15
    np.testing.assert_allclose(found.weights, w, atol=0.05)
    # an unrelated signal: neither the probe nor the control reads it
    other = np.cumsum(np.random.default_rng(9).normal(size=len(signal)))
    assert probe(states, other).r2 < 0.3
    # the same seed, the same control; the probe itself does not depend on the seed
    assert probe(states, signal, seed=3).r2 == found.r2
    assert probe(states, signal, seed=0).r2_control == found.r2_control


def test_the_split_is_contiguous_the_fit_never_sees_the_held_out_steps():
    states, signal, _ = _planted(T=100)
    changed = signal.copy()
    changed[70:] += 50 * np.sin(np.arange(30))          # only the held-out steps differ
    assert probe(states, changed).r2 < 0.5 < probe(states, signal).r2
    np.testing.assert_allclose(probe(states, changed).weights, probe(states, signal).weights)


@pytest.mark.parametrize("make, says", [
    (lambda s, y: (s, np.full_like(y, 2.0)), "constant over the sequence"),
    (lambda s, y: (s, np.r_[y[:70], np.zeros(30)]), "constant over the last 30"),
    (lambda s, y: (s, np.where(np.arange(len(y)) == 7, np.nan, y)), "step 7"),
    (lambda s, y: (s[:MIN_STEPS - 1], y[:MIN_STEPS - 1]), f"at least {MIN_STEPS} steps"),
    (lambda s, y: (s, y[:-1]), "do not fit"),
    (lambda s, y: (np.where(s > 2, np.inf, s), y), "non-finite"),
])
def test_a_probe_that_cannot_be_fit_says_why_in_one_sentence(make, says):
    states, signal, _ = _planted(T=100)
    s, y = make(states, signal)
    with pytest.raises(InputError, match=says):
        probe(s, y)


def test_probe_layers_names_the_directions():
    states, signal, _ = _planted(T=80)
    one = probe_layers({(0, 0): states, (1, 0): states[:, :4]}, signal)
    assert [p.name for p in one] == ["layer 0", "layer 1"] and one[0].probe.r2 > one[1].probe.r2
    both = probe_layers({(0, 1): states, (0, 0): states}, signal)
    assert [p.name for p in both] == ["layer 0 forward", "layer 0 backward"]


def _brackets(length: int | None = None):
    from lstm_viz.workbench import ModelChoice, build_model, example_sequence
    seq = example_sequence("brackets")
    if length is not None:
        seq = TASKS["brackets"].example(0, length)
    model = build_model(ModelChoice("trained", "brackets", "vanilla"), seq.values.shape[1])
    return seq, model.recurrent


@pytest.mark.parametrize("length, floor", [(None, 0.9), (1000, 0.97)])
def test_the_shipped_brackets_layer_holds_the_depth_linearly(length, floor):
    """Measured (vanilla, 8 units): R² 0.939 on the 40-step example, 0.992 on 1000 steps; the
    control -0.77 and -0.12. Pattern "( )" is the task's depth."""
    seq, rec = _brackets(length)
    depth = pattern_signal(seq.labels, "( )")
    np.testing.assert_array_equal(depth, signals(seq.values, seq.feature_names, seq.labels,
                                                 seq.meta)["bracket depth"])
    c = rec.trace(seq.values).get("c")[:, 0]
    found = probe(c, depth)
    assert found.r2 >= floor
    assert found.r2_control <= 0.3
    r = correlations(c, depth)
    assert np.abs(r).max() > 0.95


def test_constant_columns_are_not_offered_as_signals():
    x = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 0.0, 4.0]])
    assert list(signals(x, ("a", "b", "c"))) == ["input a", "input c"]


def test_escapes_stand_for_a_newline_and_a_space():
    labels = tuple("a b\nc d\n")
    np.testing.assert_array_equal(pattern_signal(labels, r"\n"), [0, 0, 0, 1, 1, 1, 1, 2])
    np.testing.assert_array_equal(pattern_signal(labels, r"\s"), [0, 1, 1, 1, 1, 2, 2, 2])
    with pytest.raises(InputError, match=r"'\\n' does not occur"):
        pattern_signal(tuple("abc"), r"\n")
