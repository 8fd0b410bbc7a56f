"""AppTest of the Experiments page: each section runs, shows the right numbers, and a bad link
or setting is one sentence, never an exception."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from conftest import click, no_exception, open_page

from lstm_viz.analysis import attribute
from lstm_viz.analysis.experiments import counterfactual, edited
from lstm_viz.analysis.surgery import ablate_each_unit
from lstm_viz.core import Intervention
from lstm_viz.plots import style
from lstm_viz.workbench import ModelChoice, build_model, example_sequence

PAGE = "pages/7_Experiments.py"


def shipped(task: str, variant: str = "vanilla"):
    seq = example_sequence(task)
    model = build_model(ModelChoice("trained", task, variant, 16, 1, False, 0),
                        seq.values.shape[1])
    return seq, model


def chart(at, key: str) -> dict:
    [found] = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)
               or key in c.proto.id]
    return json.loads(found.proto.spec)


def array(z) -> np.ndarray:
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).astype(float)
        if "shape" not in z:
            return flat
        return flat.reshape(tuple(int(s) for s in str(z["shape"]).split(",")))
    return np.asarray(z, dtype=float)


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.fixture(scope="module")
def brackets():
    return open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:all"})


def test_surgery_after_is_the_core_trace(brackets):
    seq, model = shipped("brackets")
    rec = model.recurrent
    plain = rec.trace(seq.values)
    mean = plain.get("c")[:, 0, [4]].mean(axis=0)
    ref = rec.trace(seq.values, interventions=[Intervention("c", [4], mean)])
    data = chart(brackets, "exp_surgery")["data"]
    np.testing.assert_allclose(array(data[0]["z"]), plain.get("c")[:, 0].T, rtol=1e-6)
    np.testing.assert_allclose(array(data[1]["z"]), ref.get("c")[:, 0].T, rtol=1e-6)
    held = data[3]
    assert set(array(held["y"]).astype(int).tolist()) == {4} and len(array(held["x"])) == 40
    assert f"c unit 4 at {float(mean[0]):.3f}" in "\n".join(c.value for c in brackets.caption)
    after = model.trained.readout(ref.output)
    before = model.trained.readout(plain.output)
    assert f"{np.abs(after - before).max():.3g}" in texts(brackets)
    assert brackets.query_params["ablate"] == ["c:4:mean:all"] or \
        brackets.query_params["ablate"] == "c:4:mean:all"


def test_rank_units_and_open_in_surgery(brackets):
    seq, model = shipped("brackets")
    abl = ablate_each_unit(model.recurrent, seq.values, "c", "mean")
    table = brackets.dataframe[0].value
    assert table["unit"].tolist() == abl.ranking[:5].tolist()
    np.testing.assert_allclose(table["damage (mean)"], abl.damage[abl.ranking[:5]], rtol=1e-6)
    brackets.selectbox(key="exp_rank_unit").set_value(int(abl.ranking[2]))
    at = click(brackets, "Open in Surgery")
    assert at.session_state["ablate"] == f"c:{int(abl.ranking[2])}:mean:all"
    assert f"c of unit {int(abl.ranking[2])} held at its mean" in texts(at)


def test_attribution_from_the_link():
    at = open_page(PAGE, query={"task": "brackets", "attr": "integrated_gradients:20"})
    seq, model = shipped("brackets")
    text = texts(at)
    assert "at step 20" in text
    pred = model.trained.readout(model.recurrent.trace(seq.values).output)
    w = model.trained.head_weight[int(np.argmax(pred[20]))].astype(np.float64)
    ig = attribute(model.recurrent, seq.values, 20, w, "integrated_gradients")
    assert f"Σ attributions = {ig.sum():.4f}" in text
    strip = chart(at, "exp_attr")["data"][0]
    np.testing.assert_allclose(array(strip["z"])[0], ig.sum(axis=1), rtol=1e-4, atol=1e-7)
    assert strip["text"][0][0] == seq.labels[0]          # characters over the strip


def test_counterfactual_numbers(brackets):
    seq, model = shipped("brackets")
    x2 = edited(seq.values, 0, one_hot=1)
    cf = counterfactual(model.recurrent, seq.values, x2, 0)
    assert f"max |Δc| = {cf.largest()['c']:.3g}" in "\n".join(c.value for c in brackets.caption)
    assert "step 0: '(' → ')'" in texts(brackets)


@pytest.mark.parametrize("query, words", [
    ({"task": "brackets", "ablate": "c:99:mean:all"}, "does not exist"),
    ({"task": "brackets", "ablate": "c:1:0:30-10"}, "The step range 30-10 is empty"),
    ({"task": "brackets", "ablate": "**x**:1"}, "is not valid here"),
    ({"task": "brackets", "attr": "nope:3"}, "is not valid here"),
    ({"task": "brackets", "attr": "gradient:400"}, "past the end"),
])
def test_bad_links_fall_back_with_a_notice(query, words):
    at = open_page(PAGE, query=query)
    assert any(words in i.value for i in at.info), [i.value for i in at.info]
    assert not at.error
    assert "held at its mean over every step" in texts(at)


def test_no_unit_is_one_sentence():
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:all"})
    at.multiselect(key="exp_units").set_value([])
    at.run()
    no_exception(at)
    assert [e.value for e in at.error] == ["Pick at least one unit to hold."]
    assert at.session_state["ablate"] == "c:4:mean:all"      # the link keeps the last good one


@pytest.mark.parametrize("task, variant", [("sine", "gru"), ("adding", "rnn"),
                                           ("remember", "cifg")])
def test_other_tasks_and_variants(task, variant):
    at = open_page(PAGE, query={"task": task, "variant": variant})
    assert not at.error, [e.value for e in at.error]
    assert re.search(r"held at its mean over every step", texts(at))
    assert "**Completeness**" in texts(at)


def test_value_edit_and_number_hold():
    at = open_page(PAGE, query={"task": "sine", "ablate": "h:1,2:0.25:10-20"})
    seq, model = shipped("sine")
    assert "h of units 1, 2 held at 0.25 over steps 10–20" in texts(at)
    at.number_input(key="exp_edit_step").set_value(5).run()
    no_exception(at)
    x2 = edited(seq.values, 5, value=round(float(seq.values[5, 0]) + 1.0, 3), feature=0)
    cf = counterfactual(model.recurrent, seq.values, x2, 5)
    assert f"max |Δh| = {cf.largest()['h']:.3g}" in "\n".join(c.value for c in at.caption)


def test_track_a_signal_finds_the_depth_unit():
    at = open_page(PAGE, query={"task": "brackets"})
    seq, model = shipped("brackets")
    assert at.selectbox(key="exp_sig").value == "bracket depth"
    assert "**Unit 4**'s c follows bracket depth best" in texts(at)
    r = array(chart(at, "exp_signal")["data"][0]["y"])
    assert int(np.argmax(np.abs(r))) == 4 and abs(r[4]) > 0.9
    at = click(at, "Hold it in Surgery")
    assert at.session_state["ablate"] == "c:4:mean:all"


def test_long_runs_are_left_out_not_failed(monkeypatch):
    import lstm_viz.ui.experiments_view as view
    monkeypatch.setattr(view, "MAX_BATCH_BYTES", 1)
    at = open_page(PAGE, query={"task": "brackets"})
    assert not at.error
    assert "- **integrated gradients**: left out" in texts(at)
    assert "**Completeness**" not in texts(at)
    assert any("Connectivity runs the sequence once per output step" in i.value
               for i in at.info)


def test_text_leaves_occlusion_out_and_labels_characters():
    at = open_page(PAGE, query={"task": "text", "attr": "occlusion:last"})
    assert not at.error
    assert "- **occlusion**: left out" in texts(at)
    assert at.selectbox(key="exp_attr_method").value == "occlusion"


def test_several_holds_from_one_link():
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:all;i:0,1:zero:5-9"})
    seq, model = shipped("brackets")
    text = texts(at)
    assert "c of unit 4 held at its mean over every step; i of units 0, 1 held at 0 over " \
           "steps 5–9" in text
    rec = model.recurrent
    mean = rec.trace(seq.values).get("c")[:, 0, [4]].mean(axis=0)
    ref = rec.trace(seq.values, interventions=[Intervention("c", [4], mean),
                                               Intervention("i", [0, 1], 0.0, slice(5, 10))])
    data = chart(at, "exp_surgery")["data"]
    np.testing.assert_allclose(array(data[1]["z"]), ref.get("c")[:, 0].T, rtol=1e-6)
    at.multiselect(key="exp_units").set_value([4, 5]).run()      # edits the first hold only
    no_exception(at)
    assert at.session_state["ablate"] == "c:4,5:mean:all;i:0,1:zero:5-9"
    at.selectbox(key="exp_q").set_value("h").run()
    no_exception(at)
    assert at.session_state["ablate"] == "h:4,5:mean:all;i:0,1:zero:5-9"
    assert at.radio(key="exp_show").value == "h"


def test_a_shorter_sequence_keeps_working():
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:30-39",
                                "attr": "gradient:38"})
    at.number_input(key="exp_edit_step").set_value(35).run()
    no_exception(at)
    at.session_state["task"] = "adding"                  # 30 steps: every step above is past it
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("Step 30 is past the end" in i.value for i in at.info)
    assert any("attr=" in i.value for i in at.info)
    assert at.number_input(key="exp_edit_step").value < 30


def test_connectivity_chart(brackets):
    from lstm_viz.analysis.experiments import connectivity
    seq, model = shipped("brackets")
    pred = model.trained.readout(model.recurrent.trace(seq.values).output)
    w = model.trained.head_weight[int(np.argmax(pred[-1]))].astype(np.float64)
    z = array(chart(brackets, "exp_conn")["data"][0]["z"]).reshape(40, 40)
    ref = np.log10(np.maximum(connectivity(model.recurrent, seq.values, w), 1e-12))
    low = np.tril_indices(40)
    np.testing.assert_allclose(z[low], ref[low], rtol=1e-6)
    assert np.isnan(z[np.triu_indices(40, 1)]).all()


def test_fresh_two_layer_bidirectional_upper_layer():
    state = {"model_kind": "fresh", "layers": 2, "bidirectional": True, "hidden": 6,
             "layer": 1, "direction": 1, "task": "sine"}    # (a task= link means: trained)
    at = open_page(PAGE, query={"ablate": "c:2:zero:5-15"}, state=state)
    assert not at.error, [e.value for e in at.error]
    rec = build_model(ModelChoice("fresh", "sine", "vanilla", 6, 2, True, 0), 1).recurrent
    seq = example_sequence("sine")
    ref = rec.trace(seq.values, interventions=[Intervention("c", [2], 0.0, slice(5, 16), 1, 1)])
    data = chart(at, "exp_surgery")["data"]
    np.testing.assert_allclose(array(data[1]["z"]), ref.get("c", 1, 1)[:, 0].T, rtol=1e-6)
    assert "the mean of the model's output" in texts(at)     # no head: the output's mean


def test_projector_view():
    at = open_page(PAGE, query={"task": "brackets", "projector": "1",
                                "attr": "grad_x_input:10"})
    assert not at.error
    layout = chart(at, "exp_surgery")["layout"]
    assert layout["font"]["size"] == style.sizes(True)["font"]


def test_attribution_widgets_write_the_link():
    at = open_page(PAGE, query={"task": "brackets"})
    at.selectbox(key="exp_attr_method").set_value("occlusion").run()
    no_exception(at)
    assert at.session_state["attr"] == "occlusion:last"
    at.number_input(key="exp_attr_step").set_value(12).run()
    no_exception(at)
    assert at.session_state["attr"] == "occlusion:12"
    assert "at step 12" in texts(at)
    assert chart(at, "exp_attr")["layout"]["annotations"][0]["text"] == "occlusion"


def test_show_a_preset_here():
    at = open_page(PAGE, query={"task": "sine"})
    at.button(key="exp_preset_2").click().run()
    no_exception(at)
    assert at.session_state["task"] == "brackets"
    assert at.session_state["ablate"] == "i:0-7:0:all"
    assert "i of units 0, 1, 2, 3, 4, 5, 6, 7 held at 0 over every step" in texts(at)
    assert at.radio(key="exp_show").value == "i"                   # what is held is shown
    after = array(chart(at, "exp_surgery")["data"][1]["z"])
    assert after.shape == (8, 40) and np.abs(after).max() == 0     # input gates held shut


def test_a_step_range_past_the_end_is_fitted():
    at = open_page(PAGE, query={"task": "remember", "ablate": "f:0-15:0:5-999"})
    assert not at.error and not at.info
    assert "over steps 5–29" in texts(at)
    assert at.slider(key="exp_steps").value == (5, 29)


def test_prediction_change_of_a_classifier():
    from lstm_viz.ui.experiments_view import prediction_change
    before = np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    after = np.array([[1.0, 0.0], [2.0, 0.0], [0.5, 3.0]])
    text, drawn = prediction_change(before, after)
    assert drawn == [1] and "changes at 1 of 3 steps" in text and "output 1 → output 1" in text
    text, drawn = prediction_change(before[:, :1], after[:, :1])
    assert drawn == [0] and "0.000 → 0.500" in text
    at = open_page(PAGE, query={"task": "remember", "ablate": "f:0-15:0:5-29"})
    assert "the predicted output changes at" in texts(at)
    assert len(chart(at, "exp_prediction")["data"]) == 2
