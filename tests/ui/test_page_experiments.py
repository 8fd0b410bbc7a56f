"""AppTest of the Experiments page: each section runs, shows the right numbers, and a bad link
or setting is one sentence, never an exception."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from conftest import click, model_reading_typed_text, no_exception, open_page

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
    assert "**1.** **c of unit 4 held at its mean over every step** (editing below)" in text
    assert "**2.** i of units 0, 1 held at 0 over steps 5–9" in text     # one row per hold
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


def _button(at, key: str):
    [b] = [b for b in at.button if b.key == key]
    return b


def test_every_hold_is_editable_added_and_removed():
    """Issue #14: each hold of the link is a row; Edit shows it in the widgets, which write it
    back in place; Add a hold appends one, Remove drops one."""
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:all;i:0,1:zero:5-9"})
    _button(at, "exp_hold_edit_1").click()
    at.run()
    no_exception(at)
    assert at.selectbox(key="exp_q").value == "i"
    assert at.multiselect(key="exp_units").value == [0, 1]
    assert at.slider(key="exp_steps").value == (5, 9)
    assert at.radio(key="exp_value").value == "zero"
    at.multiselect(key="exp_units").set_value([0, 1, 2]).run()
    at.slider(key="exp_steps").set_value((6, 12)).run()
    no_exception(at)
    assert at.session_state["ablate"] == "c:4:mean:all;i:0-2:zero:6-12"
    _button(at, "exp_hold_add").click()
    at.run()
    no_exception(at)
    holds = at.session_state["ablate"].split(";")
    assert len(holds) == 3 and holds[:2] == ["c:4:mean:all", "i:0-2:zero:6-12"]
    assert at.session_state["exp_hold"] == 2                          # the new one is edited
    at.radio(key="exp_value").set_value("number").run()
    at.number_input(key="exp_number").set_value(0.25).run()
    no_exception(at)
    assert at.session_state["ablate"].split(";")[2].split(":")[2] == "0.25"
    _button(at, "exp_hold_remove_0").click()
    at.run()
    no_exception(at)
    assert at.session_state["ablate"].split(";")[0] == "i:0-2:zero:6-12"
    assert at.session_state["exp_hold"] == 1                          # still the number hold
    assert at.radio(key="exp_value").value == "number"
    rows = [m.value for m in at.markdown if m.value.startswith("**")]
    assert sum(r.startswith(("**1.**", "**2.**", "**3.**")) for r in rows) == 2
    assert at.query_params["ablate"] in (at.session_state["ablate"],
                                         [at.session_state["ablate"]])


@pytest.mark.parametrize(("ablate", "words", "kept"), [
    ("c:4:mean:all;c:99:zero:all", "Unit 99 of c does not exist", "c:4:mean:all"),
    ("q:1:mean:all;h:2:zero:3-5", "cannot hold 'q'", "h:2:zero:3-5"),
])
def test_a_bad_hold_is_left_out_with_one_sentence(ablate, words, kept):
    at = open_page(PAGE, query={"task": "brackets", "ablate": ablate})
    [info] = [i.value for i in at.info if "does not fit" in i.value]
    assert words in info and "hold " in info and "Left out" in info
    assert info.count("\n") == 0
    assert at.session_state["ablate"] == kept
    assert not at.error, [e.value for e in at.error]


def test_a_box_on_the_heatmap_sets_the_steps_and_units():
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:all"})
    box = {"xref": "x", "yref": "y", "x": [3.2, 9.7], "y": [1.6, 4.4]}
    at.session_state["exp_surgery"] = {"selection": {"points": [], "point_indices": [],
                                                     "box": [box], "lasso": []}}
    at.run()
    no_exception(at)
    assert at.session_state["ablate"] == "c:2-4:mean:3-10"
    assert at.slider(key="exp_steps").value == (3, 10)
    assert at.multiselect(key="exp_units").value == [2, 3, 4]
    at.run()                                           # the same box again: nothing more
    assert at.session_state["ablate"] == "c:2-4:mean:3-10"
    at.checkbox(key="exp_brush_units").uncheck().run()
    box = {"xref": "x", "yref": "y", "x": [20.0, 25.0], "y": [6.0, 7.0]}
    at.session_state["exp_surgery"] = {"selection": {"points": [], "point_indices": [],
                                                     "box": [box], "lasso": []}}
    at.run()
    no_exception(at)
    assert at.session_state["ablate"] == "c:2-4:mean:20-25"        # the steps only


def test_the_cell_diagram_before_and_after_marks_the_held_value():
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:zero:10-20;o:4:0.5:15"})
    svgs = [m.value for m in at.markdown if m.value.startswith("<svg")]
    assert len(svgs) == 2
    before, after = svgs
    assert "after the holds" in after and "held at" not in before
    assert at.slider(key="exp_diag_step").value == 10 and at.selectbox(
        key="exp_diag_unit").value == 4
    assert "held at 0.00" in after and "held at 0.50" not in after
    assert re.search(r"c<tspan[^>]*>t</tspan> = 0\.00", after.replace("\n", ""))
    at.slider(key="exp_diag_step").set_value(15).run()
    no_exception(at)
    after = [m.value for m in at.markdown if m.value.startswith("<svg")][1]
    assert "held at 0.00" in after and "held at 0.50" in after    # both holds of unit 4
    at.slider(key="exp_diag_step").set_value(30).run()
    after = [m.value for m in at.markdown if m.value.startswith("<svg")][1]
    assert "held at" not in after
    assert any("Nothing of unit 4 is held at step 30" in c.value for c in at.caption)


class _Tagger(torch.nn.Module):
    """Embedding -> LSTM -> Linear, as a user uploads it (token ids in)."""

    def __init__(self, words: int, tags: int) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(words, 5)
        self.lstm = torch.nn.LSTM(5, 6, batch_first=True)
        self.fc = torch.nn.Linear(6, tags)


def test_counterfactual_edit_of_a_token_id_through_an_uploaded_embedding():
    """Issue #14: the edit of a model reading token ids swaps one id and feeds the edited ids
    through the same embedding; the |Δh| heatmap is torch's."""
    words = ["<unk>", "the", "cat", "sat"]
    torch.manual_seed(7)
    net = _Tagger(len(words), 2)
    buf = io.BytesIO()
    torch.save({"itos": words, "state_dict": net.state_dict()}, buf)
    at = model_reading_typed_text("tagger.pt", buf.getvalue(), "the cat sat the cat")
    at.switch_page(PAGE)
    at.run()
    no_exception(at)
    at.number_input(key="exp_edit_step").set_value(2).run()
    box = at.selectbox(key="exp_edit_id")
    assert box.options == ["'<unk>' (id 0)", "'the' (id 1)", "'cat' (id 2)"]   # not 'sat'
    box.set_value(1).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert "step 2: 'sat' (id 3) → 'the' (id 1)" in texts(at)
    with torch.no_grad():
        h = net.lstm(net.embedding(torch.tensor([[1, 2, 3, 1, 2]])))[0][0].numpy()
        h2 = net.lstm(net.embedding(torch.tensor([[1, 2, 1, 1, 2]])))[0][0].numpy()
    [dh] = [t for t in chart(at, "exp_edit")["data"] if "<extra>h</extra>" in t["hovertemplate"]]
    np.testing.assert_allclose(array(dh["z"]), np.abs(h2 - h).T, atol=1e-5)
    assert np.abs(h2 - h)[:2].max() == 0                 # nothing before the edit changes
    assert any("max |Δh| = " in c.value for c in at.caption)


@pytest.mark.parametrize(("typed", "words"), [
    ("c:99:mean:all", "Unit 99 of c does not exist"),
    ("c:1:0:9-3", "The step range 9-3 is empty"),
    ("w:1", "cannot hold 'w'"),
    ("c", "An ablation reads quantity:units:value:steps"),
])
def test_a_hold_typed_as_text_is_checked_in_one_sentence(typed, words):
    at = open_page(PAGE, query={"task": "brackets", "ablate": "c:4:mean:all;i:0,1:zero:5-9"})
    _button(at, "exp_hold_edit_1").click()
    at.run()
    assert at.text_input(key="exp_hold_text").value == "i:0,1:zero:5-9"
    at.text_input(key="exp_hold_text").set_value(typed).run()
    no_exception(at)
    [error] = [e.value.replace("\u2060", "") for e in at.error]   # ":x" escaped (no emoji)
    assert "Hold 2 as typed does not fit" in error and words in error
    assert at.session_state["ablate"] == "c:4:mean:all;i:0,1:zero:5-9"   # the link stays
    at.text_input(key="exp_hold_text").set_value("h:1-3:0.5:4-8").run()
    no_exception(at)
    assert not at.error
    assert at.session_state["ablate"] == "c:4:mean:all;h:1-3:0.5:4-8"
    assert at.multiselect(key="exp_units").value == [1, 2, 3]
    assert at.slider(key="exp_steps").value == (4, 8)


def test_track_a_typed_pattern_with_a_probe_per_layer():
    """Issue #14: a typed pattern is the signal tracked; the probe table is the core probe's;
    a bad pattern is one sentence and the rest of the page stays."""
    from lstm_viz.analysis.experiments import correlations
    from lstm_viz.analysis.probes import pattern_signal, probe
    from lstm_viz.ui.signal_view import PATTERN
    at = open_page(PAGE, query={"task": "brackets"})
    seq, model = shipped("brackets")
    c = model.recurrent.trace(seq.values).get("c")[:, 0]
    [table] = [d.value for d in at.dataframe if "probe R²" in d.value.columns]
    depth = probe(c, pattern_signal(seq.labels, "( )"))
    assert table["layer"].tolist() == ["layer 0"]
    np.testing.assert_allclose(table["probe R²"], [depth.r2], rtol=1e-5)
    np.testing.assert_allclose(table["control R²"], [depth.r2_control], rtol=1e-5)
    assert table["probe R²"][0] > 0.9 and table["control R²"][0] < 0.3
    assert "far above its control" in texts(at)
    bars = chart(at, "exp_probe")["data"]
    assert [b["name"] for b in bars] == ["probe", "control (shifted signal)"]
    at.text_input(key="exp_sig_pattern").input("(").run()
    no_exception(at)
    assert at.selectbox(key="exp_sig").value == PATTERN
    opens = pattern_signal(seq.labels, "(")
    [table] = [d.value for d in at.dataframe if "probe R²" in d.value.columns]
    np.testing.assert_allclose(table["probe R²"], [probe(c, opens).r2], rtol=1e-5)
    best = int(np.argmax(np.abs(correlations(c, opens))))
    assert f"**Unit {best}**'s c follows pattern ( best" in texts(at)
    at.text_input(key="exp_sig_pattern").input("<b>x").run()
    no_exception(at)
    [error] = [e.value for e in at.error]
    assert "'<b>x' does not occur in this sequence" in error.replace("\\", "")
    assert not [d for d in at.dataframe if "probe R²" in d.value.columns]
    assert "Rank units" in "\n".join(h.value for h in at.header)      # the page went on
    at = open_page(PAGE, query={"task": "remember"})     # input D: 1 at step 0 only
    no_exception(at)
    assert at.selectbox(key="exp_sig").value == "input D" and not at.error
    assert any("No linear probe for this signal: The signal is constant over the last 9 steps"
               in c.value for c in at.caption)


def test_contextual_decomposition_strip_and_its_refusal(brackets):
    """Issue #14: CD is one more attribution strip on the brackets model, equal to the analysis'
    strip of the head's row, with its exactness line; a GRU gets the one sentence instead."""
    from lstm_viz.analysis import decomposition_strip
    seq, model = shipped("brackets")
    spec = chart(brackets, "exp_attr")
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles[-1] == "contextual decomposition"
    shown = array(spec["data"][len(titles) - 1]["z"]).ravel()
    weight = model.trained.head_weight[0].astype(np.float64)
    expected = decomposition_strip(model.recurrent, seq.values, seq.length - 1, weight)
    np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-6)
    opens = np.array([c == "(" for c in seq.labels])
    assert shown[opens].min() > 0                      # every "(" raises the depth
    text = texts(brackets)
    assert "the parts add up to the score exactly" in text
    found = re.search(r"Σ parts \+ rest = score, for each step: its part \+ the rest of the "
                      r"sequence = (-?[\d.]+) \(off by at most ([\d.e+-]+)", text)
    assert found and float(found.group(2)) < 1e-4
    score = model.recurrent.trace(seq.values).output[-1] @ weight
    assert float(found.group(1)) == pytest.approx(score, abs=1e-4)
    gru = open_page(PAGE, query={"task": "brackets", "variant": "gru"})
    assert ("Contextual decomposition is defined for the LSTM family; this model is a GRU: "
            "use integrated gradients." in texts(gru))
    assert "contextual decomposition" not in [
        a["text"] for a in chart(gru, "exp_attr")["layout"]["annotations"]]
    assert "Σ parts + rest" not in texts(gru)


def test_a_too_long_decomposition_is_left_out_in_one_sentence(monkeypatch):
    from lstm_viz.analysis import decomposition
    monkeypatch.setattr(decomposition, "MAX_STRIP_WORK", 1000)
    at = open_page(PAGE, query={"task": "brackets", "attr": "gradient:7"})
    assert not at.error
    assert ("- **contextual decomposition**: left out: The per-step decomposition of 8 steps is "
            "too much work here; use a sequence (or target step) of at most 1 step." in texts(at)
            .replace("\\", ""))
    titles = [a["text"] for a in chart(at, "exp_attr")["layout"]["annotations"]]
    assert "contextual decomposition" not in titles and "gradient" in titles
