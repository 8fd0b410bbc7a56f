"""The Experiments helpers: the URL grammar, surgery, counterfactual edits and connectivity."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.analysis.experiments import (
    EXPERIMENT_PRESETS,
    Hold,
    brushed,
    connectivity,
    correlations,
    counterfactual,
    edited,
    edited_tokens,
    format_ablate,
    format_attr,
    held_values,
    interventions,
    lasting,
    parse_ablate,
    parse_attr,
    signals,
    surgery,
    with_range,
)
from lstm_viz.core import Intervention, Recurrent
from lstm_viz.errors import InputError


@pytest.fixture(scope="module")
def model() -> Recurrent:
    return Recurrent(3, 5, num_layers=1, seed=1, dtype=np.float64)


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(12, 3))


def test_parse_ablate_round_trip():
    holds = parse_ablate("c:4:mean:10-30;f:0,2:0:all;i:1:zero:7")
    assert holds == [Hold("c", (4,), "mean", (10, 30)), Hold("f", (0, 2), 0.0, None),
                     Hold("i", (1,), "zero", (7, 7))]
    assert format_ablate(holds) == "c:4:mean:10-30;f:0,2:0:all;i:1:zero:7"
    assert parse_ablate("h:3") == [Hold("h", (3,), "mean", None)]
    assert parse_ablate("f:0-3,6:0:all")[0].units == (0, 1, 2, 3, 6)
    assert format_ablate(parse_ablate("f:0,1,2,3,6,7,9,5:0")) == "f:0-3,6,7,9,5:0:all"


@pytest.mark.parametrize("text", ["", "c", "c::mean:all", "c:x:mean", "c:-1:mean",
                                  "c:1:big:all", "c:1:nan:all", "c:1:0:30-10", "c:1:0:a-b",
                                  "c:5-2", "c:0-99999",
                                  "**bold**:1", ";".join(["c:1"] * 9)])
def test_parse_ablate_bad_is_one_sentence(text):
    with pytest.raises(InputError) as err:
        parse_ablate(text)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_parse_attr():
    assert parse_attr("integrated_gradients:39") == ("integrated_gradients", 39)
    assert parse_attr("gradient") == ("gradient", None)
    assert format_attr("occlusion", None) == "occlusion:last"
    for bad in ("nope:3", "gradient:-2", "gradient:x"):
        with pytest.raises(InputError):
            parse_attr(bad)


def test_surgery_after_is_the_core_trace(model, x):
    holds = parse_ablate("c:1,3:mean:2-6;o:0:0.5:all")
    s = surgery(model, x, holds)
    plain = model.trace(x)
    mean = plain.get("c")[:, 0, [1, 3]].mean(axis=0)
    ref = model.trace(x, interventions=[Intervention("c", [1, 3], mean, slice(2, 7)),
                                        Intervention("o", [0], 0.5)])
    for name in ("i", "f", "g", "o", "c", "h"):
        np.testing.assert_array_equal(s.after[name], ref.get(name)[:, 0])
        np.testing.assert_array_equal(s.before[name], plain.get(name)[:, 0])
    np.testing.assert_allclose(s.after["c"][2:7, [1, 3]], np.broadcast_to(mean, (5, 2)))
    assert s.held["c"].sum() == 10 and s.held["c"][2:7, [1, 3]].all()
    assert s.held["o"][:, 0].all() and s.held["o"].sum() == 12
    assert np.abs(s.difference("c")[0]).max() == 0        # o acts on h_0 only; c_0 as before


@pytest.mark.parametrize("text, words", [("c:5:0:all", "Unit 5"), ("c:0:0:12", "Step 12"),
                                         ("m:0:0:all", "cannot hold")])
def test_surgery_bad_settings(model, x, text, words):
    with pytest.raises(InputError, match=words):
        interventions(model, x, parse_ablate(text), model.trace(x))


def test_lasting():
    dh = np.zeros((10, 2))
    assert lasting(dh, 3) == 0
    dh[3:6, 1] = 0.5
    assert lasting(dh, 3) == 3
    dh[9, 0] = 1
    assert lasting(dh, 3) is None


def test_counterfactual(model, x):
    x2 = edited(x, 4, value=2.0, feature=1)
    assert x2[4, 1] == 2.0 and np.array_equal(np.delete(x2, 4, 0), np.delete(x, 4, 0))
    cf = counterfactual(model, x, x2, 4)
    ref = model.trace(x2).get("h")[:, 0] - model.trace(x).get("h")[:, 0]
    np.testing.assert_allclose(cf.difference["h"], ref)
    assert np.abs(cf.difference["c"][:4]).max() == 0 and cf.largest()["c"] > 0
    onehot = edited(np.eye(3)[[0, 1, 2, 0]], 2, one_hot=0)
    assert onehot[2].tolist() == [1, 0, 0]
    with pytest.raises(InputError):
        edited(x, 40, value=1.0)


def test_connectivity_matches_finite_differences(model, x):
    w = np.random.default_rng(2).normal(size=5)
    c = connectivity(model, x, w)
    assert c.shape == (12, 12)
    assert np.abs(c[np.triu_indices(12, 1)]).max() == 0     # no output looks ahead
    eps, t, s = 1e-6, 9, 4
    grad = []
    for j in range(3):
        xp, xm = x.copy(), x.copy()
        xp[s, j] += eps
        xm[s, j] -= eps
        grad.append((model.trace(xp).output[t] @ w - model.trace(xm).output[t] @ w)
                    / (2 * eps))
    np.testing.assert_allclose(c[t, s], np.linalg.norm(grad), rtol=1e-6)


def test_presets_read():
    assert len(EXPERIMENT_PRESETS) >= 3
    for p in EXPERIMENT_PRESETS:
        parse_ablate(p.params["ablate"])
        assert p.url().startswith("/Experiments?task=")


def _shipped(task: str):
    from lstm_viz.workbench import ModelChoice, build_model, example_sequence
    seq = example_sequence(task)
    model = build_model(ModelChoice("trained", task, "vanilla"), seq.values.shape[1])
    return seq, model.recurrent, model.trained


def test_presets_do_what_they_say():
    by_name = {p.params["ablate"]: p for p in EXPERIMENT_PRESETS}
    assert {"c:4:mean:all", "i:0-7:0:all"} <= set(by_name)
    seq, rec, head = _shipped("brackets")
    depth = np.cumsum([1 if c == "(" else -1 for c in seq.labels])
    before = head.readout(rec.trace(seq.values).output)[:, 0]
    assert (np.round(before) == depth).mean() == 1.0
    lost = surgery(rec, seq.values, parse_ablate("c:4:mean:all"))
    assert (np.round(head.readout(lost.trace.output)[:, 0]) == depth).mean() < 0.85
    closed = surgery(rec, seq.values, parse_ablate("i:0-7:0:all"))
    assert np.abs(closed.after["c"]).max() == 0                    # nothing is written
    assert np.ptp(head.readout(closed.trace.output)) < 1e-6        # a flat prediction
    [fade] = [p for p in EXPERIMENT_PRESETS if p.params["task"] == "remember"]
    seq, rec, head = _shipped("remember")
    plain = head.readout(rec.trace(seq.values).output)[-1].argmax()
    faded = surgery(rec, seq.values, parse_ablate(fade.params["ablate"]))
    assert head.readout(faded.trace.output)[-1].argmax() != plain  # the answer is lost


def test_signals_and_correlations():
    x = np.array([[1.0, 0.0], [1, 0], [0, 1], [1, 0], [0, 1], [0, 1]])
    found = signals(x, ("(", ")"), tuple("(()())"[:6]))
    np.testing.assert_array_equal(found["bracket depth"], [1, 2, 1, 2, 1, 0])
    assert list(found) == ["bracket depth", "input (", "input )"]
    assert "bracket depth" not in signals(x, ("a", "b"), tuple("abab?a"))
    d = found["bracket depth"]
    v = np.stack([2 * d + 1, -d, np.ones(6)], axis=1)
    np.testing.assert_allclose(correlations(v, d), [1, -1, 0], atol=1e-12)
    assert correlations(v, np.ones(6)).tolist() == [0, 0, 0]


def test_the_brackets_depth_unit_tracks_depth():
    seq, rec, _ = _shipped("brackets")
    depth = signals(seq.values, seq.feature_names, seq.labels)["bracket depth"]
    r = correlations(rec.trace(seq.values).get("c")[:, 0], depth)
    assert abs(r[4]) > 0.9


def test_a_box_on_the_heatmap_is_a_step_range_and_units():
    box = {"xref": "x", "yref": "y", "x": [9.7, 3.2], "y": [1.6, 4.4]}   # dragged right to left
    assert brushed(box, 40, 8) == ((3, 10), (2, 3, 4))        # every cell the box touches
    assert brushed({"x": [-5, 2.4]}, 40, 8) == ((0, 2), None)  # no unit range: steps only
    assert brushed({"x": [35.2, 80], "y": [-3, 30]}, 40, 8) == ((35, 39), tuple(range(8)))
    assert brushed({"x": [41, 50]}, 40, 8) is None             # past the end: nothing
    assert brushed({"x": [3.6, 3.9]}, 40, 8) == ((4, 4), None)  # inside one cell: that step
    assert brushed({"x": [3.6, 3.9], "y": [9, 12]}, 40, 8) == ((4, 4), None)  # below the units
    assert brushed({"x": ["a", 2]}, 40, 8) is None and brushed({}, 40, 8) is None
    hold = Hold("c", (4,), "mean", None)
    assert with_range(hold, (3, 10), (2, 3), 40) == Hold("c", (2, 3), "mean", (3, 10))
    assert with_range(hold, (0, 39), None, 40) == hold         # the whole sequence: "all"


def test_held_values_at_one_cell():
    seq, rec, _ = _shipped("brackets")
    holds = parse_ablate("c:2,4:mean:5-9;f:4:0.5:all;c:4:zero:8")
    ivs = interventions(rec, seq.values, holds, rec.trace(seq.values))
    mean4 = float(rec.trace(seq.values).get("c")[:, 0, 4].mean())
    assert held_values(holds, ivs, 6, 4) == pytest.approx({"c": mean4, "f": 0.5})
    assert held_values(holds, ivs, 8, 4) == {"c": 0.0, "f": 0.5}      # the later hold wins
    assert held_values(holds, ivs, 10, 4) == {"f": 0.5}
    assert held_values(holds, ivs, 6, 3) == {}
    lost = surgery(rec, seq.values, holds)
    assert float(lost.after["c"][6, 4]) == pytest.approx(mean4, abs=1e-6)  # what the run held


def test_edited_token_ids():
    ids = np.array([3, 1, 4, 1, 5])
    new = edited_tokens(ids, 2, 0, 6)
    assert new.tolist() == [3, 1, 0, 1, 5] and ids.tolist() == [3, 1, 4, 1, 5]
    with pytest.raises(InputError, match="does not exist"):
        edited_tokens(ids, 2, 6, 6)
    with pytest.raises(InputError, match="outside the sequence"):
        edited_tokens(ids, 5, 0, 6)
