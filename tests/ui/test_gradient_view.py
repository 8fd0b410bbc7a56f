"""The Gradient flow page's helpers (``lstm_viz.ui.gradient_view``): numbers in words, the loss's
class, the comparison figure and its caption, the forget-gate caption and the overflow overlay."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.analysis import GradientFlow, gradient_flow
from lstm_viz.core import TABLE, Recurrent
from lstm_viz.training.tasks import TASKS
from lstm_viz.ui import gradient_view as gv
from lstm_viz.workbench import example_sequence


def test_compared_are_the_torch_modules_in_table_order():
    assert list(gv.COMPARED) == ["LSTM", "GRU", "RNN"]
    assert all(TABLE[v].torch_class == k for k, v in gv.COMPARED.items())


def test_sci_writes_small_and_large_numbers_with_a_minus_sign():
    assert gv.sci(0) == "0" and gv.sci(float("nan")) == "–" and gv.sci(float("inf")) == "–"
    assert gv.sci(0.5) == "0.5" and gv.sci(1234) == "1.23e+03"
    assert gv.sci(1.4e-4) == "1.4e−4" and gv.sci(2.5e7) == "2.5e7"


def test_target_class_is_the_true_class_of_a_classification_task():
    remember = TASKS["remember"]
    seq = example_sequence("remember", length=20)
    assert gv.target_class(remember, seq, 19) == int(np.asarray(seq.meta["target"]).reshape(-1)[0])
    text = TASKS["text"]
    tseq = example_sequence("text", length=12)
    k = gv.target_class(text, tseq, 5)
    assert gv.class_name(text, k) == text.vocab[k]
    assert gv.target_class(TASKS["sine"], example_sequence("sine", length=10), 3) is None
    assert gv.class_name(remember, 3) == "3"


def _flows(T=30):
    x = np.random.default_rng(0).normal(size=(T, 2))
    return {k: gradient_flow(Recurrent(2, 4, variant=v, dtype=np.float64, seed=0), x)
            for k, v in gv.COMPARED.items()}


def test_comparison_figure_and_reach_caption():
    flows = _flows()
    fig = gv.comparison_figure(flows, 29, relative=True, projector=False)
    names = [t.name for t in fig.data if t.name]
    assert any(n.startswith("LSTM ‖∂L/∂c") for n in names)
    assert any(n.startswith("RNN ‖∂L/∂h") and "no cell state" in n for n in names)
    assert [t.line.dash for t in fig.data if t.name and t.name.startswith("LSTM ‖∂L/∂h")] == [
        "dot"]
    text = gv.reach_caption(flows, 29, 40, {"LSTM": ("accuracy", 0.9), "GRU": ("accuracy", None),
                                            "RNN": ("accuracy", 0.5)})
    assert text.startswith("29 steps before the loss (step 0), the LSTM keeps ")
    assert "(through its cell c)" in text and "the RNN " in text and "At step 0" not in text
    assert text.endswith("Held-out accuracy of the trained models: LSTM 90%, RNN 50%.")
    assert " At step 0, 29 steps back: " in gv.reach_caption(flows, 29, 10, {})


def test_kept_says_when_a_gradient_underflowed_or_overflowed():
    flow = _flows()["RNN"]
    zero = GradientFlow(**{**flow.__dict__, "dh_norm": np.where(np.arange(30) < 29, 0.0, 1.0)})
    assert gv.kept("RNN", zero, 0, True) == ("the RNN keeps exactly 0 of its gradient (in h: it "
                                             "underflowed, below float precision)")
    nan = GradientFlow(**{**flow.__dict__, "dh_norm": np.where(np.arange(30) < 29, np.nan, 1.0)})
    assert gv.kept("RNN", nan, 0, False) == ("the RNN no number (in h: it overflowed float32, "
                                             "not a number)")


def test_forget_caption_reads_the_far_end_of_the_product():
    prod = np.array([[0.1, 0.5], [0.2, 0.6], [1.0, 1.0]])
    text = gv.forget_caption(prod, 2, 0)
    assert text.startswith("From step 0 to the loss (2 steps) the forget gates pass on 0.3 ")
    assert "0.5 in unit 1, the most" in text
    assert gv.forget_caption(prod, 0, 0) is None
    assert gv.forget_caption(prod[::-1], 0, 1).startswith("From step 2 to the loss (2 steps)")


def test_first_steps_and_overflow_overlay_and_max_weight():
    seq = example_sequence("text", length=30)
    cut = gv.first_steps(seq, 10)
    assert cut.length == 10 and cut.labels == seq.labels[:10]
    assert gv.first_steps(seq, 30) is seq
    fig = go.Figure(go.Heatmap(z=np.zeros((2, 3)), x0=0.5, dx=2, y0=0, dy=1))
    bad = np.zeros((6, 2), dtype=bool)
    bad[4, 1] = True
    gv.overlay_overflow(fig, bad)
    grey = fig.data[1].z
    assert grey.shape == (2, 3) and np.isnan(grey[0]).all() and grey[1, 2] == 1.0
    rec = Recurrent(1, 2, seed=0)
    assert gv.max_weight(rec) == max(float(np.abs(w).max()) for w in rec.state_dict().values())
