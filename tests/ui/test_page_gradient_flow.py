"""The "Gradient flow" page in AppTest: every task, fresh and trained sidebar models, and the
vanishing gradient read from the page's own chart data."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.training.tasks import TASKS
from lstm_viz.workbench import has_shipped

PAGE = "pages/2_Gradient_flow.py"
STEPS_BACK = 40


def new_page(task: str = "remember") -> AppTest:
    return open_page(PAGE, query={"task": task}, timeout=90)


def widget(at: AppTest, key: str):
    for kind in ("slider", "radio", "toggle", "selectbox", "number_input"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(key)


def change(at: AppTest, key: str, value) -> AppTest:
    widget(at, key).set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def array(value) -> np.ndarray:
    """A plotly JSON array: a list, or plotly 7's {"dtype", "bdata"} (base64 of the bytes)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=np.float64)


def chart(at: AppTest, title_part: str) -> dict:
    """The plotly figure (as JSON) whose title contains ``title_part``."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if title_part in spec["layout"].get("title", {}).get("text", ""):
            return spec
    raise AssertionError(f"no chart titled like {title_part!r}")


def curves(spec: dict) -> dict[str, np.ndarray]:
    return {trace["name"]: array(trace["y"]).astype(np.float64) for trace in spec["data"]}


def captions(at: AppTest) -> str:
    return "\n".join(str(c.value) for c in at.caption)


needs_remember = pytest.mark.skipif(
    not all(has_shipped("remember", v) for v in ("vanilla", "gru", "rnn")),
    reason="the shipped remember models are not built (python -m lstm_viz.training.train --all)")


@pytest.mark.parametrize("kind", ["trained", "fresh"])
@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_and_model_kind_runs(task: str, kind: str):
    at = new_page(task)
    if kind != "trained":
        change(at, "w_model_kind", kind)
    assert at.title[0].value == "Gradient flow through time"
    assert not at.error, [e.value for e in at.error]
    figures = at.get("plotly_chart")
    assert len(figures) >= 2                       # the comparison (if shipped) and the heatmap
    # every figure has its export buttons
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("PNG") == len(figures) and labels.count("HTML") == len(figures)
    text = captions(at)
    assert "loss at step 99" in text or "loss at its last step" in text


@needs_remember
def test_lstm_keeps_its_gradient_the_rnn_loses_it():
    at = new_page("remember")
    spec = chart(at, "How far back")
    lines = curves(spec)
    lstm_c = lines["LSTM ‖∂L/∂c<sub>t</sub>‖"]
    rnn_h = next(v for k, v in lines.items() if k.startswith("RNN ‖∂L/∂h"))
    assert next(k for k in lines if k.startswith("GRU")).endswith("(no cell state c)")
    target = lstm_c.size - 1                        # default: the loss at the last step
    assert lstm_c.size == 100
    assert lstm_c[target] == pytest.approx(1.0) and rnn_h[target] == pytest.approx(1.0)
    where = target - STEPS_BACK
    lstm, rnn = lstm_c[where], np.nan_to_num(rnn_h[where], nan=0.0)   # NaN: exactly 0 (log axis)
    assert np.isfinite(lstm) and lstm > 0
    assert lstm > 1e6 * rnn, (lstm, rnn)
    # the caption states the page's own numbers
    text = captions(at)
    assert f"{STEPS_BACK} steps before the loss (step {where})" in text
    assert "the LSTM keeps" in text and "the RNN" in text
    chart(at, "|∂L/∂c|")                               # the loaded LSTM's per-unit heatmap
    chart(at, "forget gates' product")


@needs_remember
def test_length_and_target_step_drive_the_chart():
    at = new_page("remember")
    change(at, "w_gf_length", 60)
    assert widget(at, "w_gf_target").value == 59          # the loss follows the last step
    change(at, "w_gf_target", 30)
    lines = curves(chart(at, "How far back"))
    lstm_c = lines["LSTM ‖∂L/∂c<sub>t</sub>‖"]
    assert lstm_c.size == 60
    assert lstm_c[30] == pytest.approx(1.0)
    assert np.all(np.isnan(lstm_c[31:]))              # no gradient from a loss at 30 after it
    assert "loss at step 30" in captions(at)
    change(at, "w_gf_relative", False)                 # absolute norms
    spec = chart(at, "How far back")
    assert spec["layout"]["yaxis"]["title"]["text"] == "gradient norm"


def test_a_model_without_a_cell_says_so():
    at = new_page("remember")
    change(at, "w_variant", "gru")
    info = "\n".join(str(i.value) for i in at.info)
    assert "has no cell state c" in info
    assert any("|∂L/∂h|" in s.value for s in at.subheader)
    chart(at, "|∂L/∂h|")                               # the per-unit heatmap of h instead
    with pytest.raises(AssertionError):
        chart(at, "forget gates' product")


def test_fresh_deep_bidirectional_model_uses_the_sidebars_layer_and_direction():
    at = new_page("adding")
    change(at, "w_model_kind", "fresh")
    change(at, "w_layers", 2)
    change(at, "w_bidirectional", True)
    change(at, "w_layer", 1)
    change(at, "w_direction", 1)
    assert not at.error
    assert "layer 1, backward direction" in captions(at)
    chart(at, "forget gates' product")
    change(at, "w_gf_target", 50)            # the backward direction carries it to later steps
    assert "From step 99 to the loss (49 steps)" in captions(at)


def test_an_uploaded_sequence_that_does_not_fit_the_task_is_used_for_the_heatmap():
    at = new_page("sine")
    change(at, "w_model_kind", "fresh")
    change(at, "w_seq_source", "upload")
    rows = np.random.default_rng(0).standard_normal((2500, 3))
    csv = "a,b,c\n" + "\n".join(",".join(f"{v:.4f}" for v in row) for row in rows)
    at.file_uploader(key="w_upload").set_value(("three.csv", csv.encode(), "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = captions(at)
    assert "the sidebar's own sequence (2,000 steps, its first ones" in text
    assert "loss at its last step 1999" in text
    spec = chart(at, "|∂L/∂c|")
    assert spec["layout"]["xaxis"]["range"][1] == pytest.approx(1999.5)
