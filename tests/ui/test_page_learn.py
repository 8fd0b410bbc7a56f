"""The "Learn" page, driven with Streamlit's AppTest: equations of every variant, the step
buttons, the nn.LSTM shapes against what the core really returns, and the live figures.

Fresh seeded models are used wherever numbers are compared, so these tests do not depend on which
trained models ship; the figure tests skip when the shipped models are missing.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

from lstm_viz import workbench
from lstm_viz.core import VARIANTS, Recurrent, is_lstm
from lstm_viz.training.tasks import TASKS

PAGE = "pages/6_Learn.py"
HIDDEN = 16                                  # the sidebar's default size of a fresh model

# The rule each variant's page must show (written out here, not taken from the app).
RULES = {
    "vanilla": [r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})",
                r"c_t = f_t \odot c_{t-1} + i_t \odot g_t"],
    "peephole": [r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf} + p_f \odot c_{t-1})",
                 r"p_o \odot c_t)"],
    "cifg": ["f_t = 1 - i_t", r"c_t = (1 - i_t) \odot c_{t-1} + i_t \odot g_t"],
    "nig": [r"f_t = \sigma(W_{if} x_t", "i_t = 1", r"c_t = f_t \odot c_{t-1} + g_t"],
    "nfg": ["f_t = 1", r"c_t = c_{t-1} + i_t \odot g_t"],
    "nog": [r"f_t = \sigma(W_{if} x_t", "o_t = 1"],
    "niaf": [r"f_t = \sigma(W_{if} x_t", r"g_t = W_{ig} x_t"],
    "noaf": [r"f_t = \sigma(W_{if} x_t", r"h_t = o_t \odot c_t"],
    "gru": [r"z_t = \sigma(W_{iz} x_t", r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"],
    "rnn": [r"h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})"],
}
CHANGED = {"vanilla": 0, "peephole": 3, "cifg": 2, "nig": 2, "nfg": 2, "nog": 2, "niaf": 1,
           "noaf": 1, "gru": 0, "rnn": 0}


def new_page(variant: str = "vanilla", kind: str = "fresh", **state) -> AppTest:
    return open_page(PAGE, state={"variant": variant, "model_kind": kind, **state})


def latex(at: AppTest) -> list[str]:
    return [el.proto.body.strip().strip("$").strip() for el in at.get("latex")]


def shape_table(at: AppTest) -> dict[str, tuple[int, ...]]:
    for table in at.table:
        df = table.value
        if "tensor" in df.columns:
            return {t: tuple(int(n) for n in re.findall(r"\d+", s))
                    for t, s in zip(df["tensor"], df["shape"], strict=True)}
    raise AssertionError("no shapes table on the page")


def snippet(at: AppTest) -> str:
    [code] = [c.value for c in at.code if "torch.randn" in c.value]
    return code


def core_shapes(rec: Recurrent, x: np.ndarray, hx=None) -> dict[str, tuple[int, ...]]:
    """What the core really returns for x (and hx)."""
    output, h_n = rec(x, hx)
    out = {"x": x.shape, "output": output.shape}
    if hx is not None:
        out["h_0"] = (hx[0] if is_lstm(rec.variant) else hx).shape
        if is_lstm(rec.variant):
            out["c_0"] = hx[1].shape
    if is_lstm(rec.variant):
        out["h_n"], out["c_n"] = h_n[0].shape, h_n[1].shape
    else:
        out["h_n"] = h_n.shape
    return out


# --------------------------------------------------------------------------- the equations


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_shows_its_own_equations(variant):
    at = new_page(variant)
    bodies = latex(at)
    text = "\n".join(bodies)
    for rule in RULES[variant]:
        assert rule in text, (variant, rule, bodies)
    badges = [m.value for m in at.markdown if "changed vs vanilla" in m.value]
    assert len(badges) == CHANGED[variant]
    notes = [m.value for m in at.markdown if "What changes:" in m.value]
    assert len(notes) == CHANGED[variant]
    # one formula with this step's numbers beside each rule: "… = 0.91"
    numbered = [b for b in bodies if re.search(r"= -?\d+\.\d\d$", b)]
    assert len(numbered) >= len(RULES[variant]) - (variant in ("nig", "nfg", "nog"))
    # what each gate does, in plain words
    captions = " ".join(c.value for c in at.caption)
    if is_lstm(variant):
        assert "The forget gate decides" in captions
        assert "The output gate decides" in captions
    elif variant == "gru":
        assert "The update gate blends" in captions


def test_numbers_are_this_steps_and_the_buttons_move_the_step():
    at = new_page("vanilla", step=5, unit=3)
    rec = Recurrent(2, HIDDEN, variant="vanilla", seed=0)
    seq = TASKS[at.session_state["task"]].example(seed=0)
    trace = rec.trace(seq.values)

    def shown_f() -> float:
        [line] = [b for b in latex(at) if b.startswith(r"f_t = \sigma(") and "W" not in b]
        return float(line.rsplit("=", 1)[1])

    assert any("Step 5 of" in m.value for m in at.markdown)
    assert shown_f() == pytest.approx(float(trace.get("f")[5, 0, 3]), abs=0.006)
    at.button(key="learn_next").click()
    at.run()
    assert at.session_state["step"] == 6 and at.query_params["step"] == "6"
    assert any("Step 6 of" in m.value for m in at.markdown)
    assert shown_f() == pytest.approx(float(trace.get("f")[6, 0, 3]), abs=0.006)
    for _ in range(2):
        at.button(key="learn_back").click()
        at.run()
    assert at.session_state["step"] == 4 and at.query_params["step"] == "4"
    # the pre-activation split into its terms, beside the gate
    terms = [c.value for c in at.caption if c.value.startswith("$z_{f}$ =")]
    assert terms and "$W_{if}$" in terms[0] and "$b_{hf}$" in terms[0]


def test_step_buttons_stop_at_the_ends():
    at = new_page("vanilla", step=0)
    assert at.button(key="learn_back").disabled
    last = TASKS[at.session_state["task"]].example_length - 1
    at.session_state["step"] = last
    at.run()
    assert at.button(key="learn_next").disabled


# --------------------------------------------------------------------------- torch.nn.LSTM usage


@pytest.mark.parametrize("variant", ["vanilla", "gru", "cifg"])
def test_shapes_equal_what_the_core_returns(variant):
    at = new_page(variant)
    seq = TASKS[at.session_state["task"]].example(seed=0)
    T, features = seq.values.shape
    for batch_first in (False, True):
        for batch in (0, 3):
            for bidirectional in (False, True):
                at.toggle(key="learn_batch_first").set_value(batch_first)
                at.toggle(key="learn_bidirectional").set_value(bidirectional)
                at.number_input(key="learn_batch").set_value(batch)
                at.run()
                assert not at.exception
                rec = Recurrent(features, HIDDEN, variant=variant, seed=0,
                                batch_first=batch_first, bidirectional=bidirectional)
                if batch == 0:
                    x = seq.values
                else:
                    x = np.stack([seq.values] * batch, axis=0 if batch_first else 1)
                assert shape_table(at) == core_shapes(rec, x), (batch_first, batch,
                                                                 bidirectional)
                code = snippet(at)
                assert workbench.torch_call(rec) in code
                assert f"torch.randn{x.shape}" in code
                assert f"torch.Size({list(core_shapes(rec, x)['output'])})" in code
                if batch == 3 and bidirectional:              # the snippet really runs
                    ns: dict = {}
                    exec(code, ns)                            # noqa: S102
                    assert tuple(ns["output"].shape) == core_shapes(rec, x)["output"]
                    assert tuple(ns["h_n"].shape) == core_shapes(rec, x)["h_n"]


def test_shapes_with_an_initial_state():
    at = new_page("vanilla")
    seq = TASKS[at.session_state["task"]].example(seed=0)
    at.toggle(key="learn_with_hx").set_value(True)
    at.number_input(key="learn_batch").set_value(4)
    at.toggle(key="learn_batch_first").set_value(True)
    at.run()
    rec = Recurrent(seq.n_features, HIDDEN, seed=0, batch_first=True)
    x = np.stack([seq.values] * 4)
    hx = (np.zeros((1, 4, HIDDEN), np.float32), np.zeros((1, 4, HIDDEN), np.float32))
    assert shape_table(at) == core_shapes(rec, x, hx)
    code = snippet(at)
    assert "output, (h_n, c_n) = lstm(x, (h0, c0))" in code
    assert "h0 = torch.zeros(1, 4, 16)" in code
    ns: dict = {}
    exec(code, ns)                                            # noqa: S102
    assert tuple(ns["c_n"].shape) == (1, 4, HIDDEN)
    params = [t.value for t in at.table if "parameter" in t.value.columns][0]
    assert dict(zip(params["parameter"], params["value here"], strict=True))["batch_first"] \
        == "True"


def test_torch_badge_on_the_page():
    import torch  # noqa: F401  (imported: the badge fills in at once, not in the background)
    at = new_page("vanilla")
    badge = [c.value for c in at.caption if "torch.nn.LSTM: max |Δh|" in c.value]
    assert badge and badge[0].startswith("✓ matches torch.nn.LSTM")
    assert not at.warning


# --------------------------------------------------------------------------- advantages and limits


def figure(at: AppTest, key: str) -> dict:
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        if el.proto.id.endswith(key) or key in el.proto.id:
            return spec
    raise AssertionError(f"no figure {key!r}")


def decoded(values) -> np.ndarray:
    if isinstance(values, dict):
        import base64
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def test_live_figures_from_the_shipped_models():
    for task, v in (("remember", "vanilla"), ("remember", "rnn"), ("adding", "vanilla")):
        if not workbench.has_shipped(task, v):
            pytest.skip(f"no shipped model {task}/{v}")
    at = new_page("vanilla")
    assert not at.info
    grad = figure(at, "learn_gradient")
    lines = {t["name"]: decoded(t["y"]) for t in grad["data"]}
    lstm = next(y for n, y in lines.items() if n.startswith("LSTM, through"))
    rnn = next(y for n, y in lines.items() if n.startswith("RNN"))
    assert len(lstm) == 100
    assert lstm[0] > 1e-8                       # the LSTM's gradient survives 100 steps
    assert not rnn[0] > 1e-20                   # the RNN's has died (NaN: exactly 0)
    bars = figure(at, "learn_lengths")
    remember, adding = (decoded(t["y"]) for t in bars["data"])
    assert remember[0] > 0.9                    # trained length: it works
    assert adding[-1] > 2 * adding[0]           # 8x the length: the adding LSTM fails


def test_without_shipped_models_the_figures_say_so(monkeypatch):
    monkeypatch.setattr(workbench, "has_shipped", lambda task, variant: False)
    at = new_page("vanilla")
    infos = " ".join(i.value for i in at.info)
    assert "not in lstm_viz/models yet" in infos
    assert not at.get("plotly_chart")
