"""The "every number explained" panel and the torch badge: their numbers add up to the trace.

The helpers are tested on explanations built here; the panel itself runs in AppTest over a tiny
script that loads a fresh seeded model (no shipped model needed) and draws ``explain_panel``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lstm_viz.core import VARIANTS, Recurrent
from lstm_viz.teaching.explain import explain, explainable
from lstm_viz.torchref.check import TorchMatch
from lstm_viz.ui.explain_panel import (
    check_sentence,
    explanation_rows,
    markdown_table,
    symbolic_latex,
    term_meaning,
)
from lstm_viz.ui.torch_badge import badge_text

STEP, UNIT = 4, 2


def number(text: str) -> float:
    """A number as the panel prints it (real minus sign, maybe scientific)."""
    return float(text.replace("−", "-"))


def model_and_trace(variant: str, proj_size: int = 0, seed: int = 3):
    rec = Recurrent(3, 5, variant=variant, seed=seed, proj_size=proj_size)
    x = np.random.default_rng(seed).normal(size=(9, 3)).astype(np.float32)
    return rec, rec.trace(x)


# --------------------------------------------------------------------------- the helpers


@pytest.mark.parametrize("variant", VARIANTS)
def test_rows_add_up_for_every_quantity(variant):
    rec, trace = model_and_trace(variant)
    for name in explainable(variant):
        for step in (0, STEP):                       # the first step uses the initial state
            ex = explain(rec, trace, name, step, UNIT)
            rows = explanation_rows(ex)
            parts = [number(r["value"]) for r in rows[: len(ex.terms)]]
            combined = math.fsum(parts) if ex.combine == "sum" else math.prod(parts)
            total = number(rows[len(ex.terms)]["value"])
            # the table's parts (4 decimals) make its total, within rounding
            assert abs(combined - total) <= 1e-4 * (len(parts) + 1) * max(1, abs(total)), rows
            result = number(rows[-1]["value"])
            assert abs(result - ex.traced) <= 1e-4 * max(1.0, abs(ex.traced))
            if ex.pre_activation is not None and ex.nonlinearity in ("σ", "tanh"):
                assert rows[-2]["part"].startswith("$z_{")
                assert abs(total - ex.pre_activation) <= 1e-4 * max(1, abs(total))
            ok, sentence = check_sentence(ex)
            assert ok, sentence
            # both numbers, the recomputed one and the traced one, are in the sentence
            assert f"{ex.traced:.6f}".replace("-", "−") in sentence
            assert "the trace holds" in sentence


def test_cell_state_is_split_into_kept_and_written_parts():
    rec, trace = model_and_trace("vanilla")
    ex = explain(rec, trace, "c", STEP, UNIT)
    rows = explanation_rows(ex)
    assert [r["part"] for r in rows[:2]] == [r"$f_t \odot c_{t-1}$", r"$i_t \odot g_t$"]
    assert rows[0]["what it is"] == "what is kept of the old memory"
    assert rows[1]["what it is"] == "what is written from the candidate"
    f, i, g = (float(trace.get(k)[STEP, 0, UNIT]) for k in "fig")
    c_prev = float(trace.get("c")[STEP - 1, 0, UNIT])
    assert number(rows[0]["value"]) == pytest.approx(f * c_prev, abs=1e-4)
    assert number(rows[1]["value"]) == pytest.approx(i * g, abs=1e-4)
    assert number(rows[2]["value"]) == pytest.approx(float(trace.get("c")[STEP, 0, UNIT]),
                                                     abs=1e-4)
    assert symbolic_latex(ex) == r"c_t = f_t \odot c_{t-1} + i_t \odot g_t"


def test_gate_formula_in_symbols_and_peephole_term():
    rec, trace = model_and_trace("peephole")
    rec.load_state_dict({**rec.state_dict(), "weight_peephole_l0": np.full((3, 5), 0.5,
                                                                            np.float32)})
    trace = rec.trace(trace.inputs[0][:, 0])
    ex = explain(rec, trace, "f", STEP, UNIT)
    assert symbolic_latex(ex).startswith(r"f_t = \sigma\left(W_{if}\,x_t")
    assert r"p_f \odot c_{t-1}" in symbolic_latex(ex)
    labels = [r["part"] for r in explanation_rows(ex)]
    assert r"$p_f \odot c_{t-1}$" in labels
    assert term_meaning("p_f·c_{t-1}") == "peephole weight × cell state"
    assert check_sentence(ex)[0]


def test_constant_gate_of_cifg():
    rec, trace = model_and_trace("cifg")
    ex = explain(rec, trace, "f", STEP, UNIT)
    assert symbolic_latex(ex) == "f_t = 1 - i_t"
    rows = explanation_rows(ex)
    i = float(trace.get("i")[STEP, 0, UNIT])
    assert number(rows[-1]["value"]) == pytest.approx(1 - i, abs=1e-4)


def test_a_wrong_trace_is_reported_not_hidden():
    rec, trace = model_and_trace("vanilla")
    trace.get("f")[STEP, 0, UNIT] += 0.5            # corrupt the traced value
    ok, sentence = check_sentence(explain(rec, trace, "f", STEP, UNIT))
    assert not ok
    assert "differ" in sentence


def test_badge_text_is_honest():
    ok = TorchMatch(True, "torch.nn.LSTM", 3e-8, 1000,
                    "matches torch.nn.LSTM: max |Δh| = 3e-08 over 1,000 steps", ok=True)
    assert badge_text(ok) == ("ok", "✓ matches torch.nn.LSTM: max |Δh| = 3e-08 over 1,000 steps")
    missing = TorchMatch(False, "torch.nn.LSTM", float("nan"), 10,
                         "torch is not installed here: no check against it")
    kind, text = badge_text(missing)
    assert kind == "missing" and "not installed" in text
    bad = TorchMatch(True, "torch.nn.LSTM", 0.3, 10,
                     "differs from torch.nn.LSTM: max |Δh| = 3e-01 over 10 steps "
                     "(tolerance 1e-05)", ok=False)
    kind, text = badge_text(bad)
    assert kind == "warning" and "differs from" in text


# --------------------------------------------------------------------------- the panel in AppTest


def panel_script(variant: str = "vanilla", step: int = 4, unit: int = 2) -> None:
    import numpy as np
    import streamlit as st

    from lstm_viz.core import Recurrent
    from lstm_viz.files.sequence import Sequence
    from lstm_viz.ui.explain_panel import explain_panel
    from lstm_viz.ui.torch_badge import torch_badge
    from lstm_viz.workbench import Loaded, Model

    rec = Recurrent(3, 5, variant=variant, seed=3)
    x = np.random.default_rng(3).normal(size=(9, 3)).astype(np.float32)
    seq = Sequence(values=x, name="test")
    loaded = Loaded(seq, Model(rec, "test", f"test:{variant}"), rec.trace(x))
    ss = st.session_state
    for k, v in (("step", step), ("unit", unit), ("layer", 0), ("direction", 0)):
        ss.setdefault(k, v)
    torch_badge(loaded)
    explain_panel(loaded)


def run_panel(variant: str) -> AppTest:
    at = AppTest.from_function(panel_script, kwargs={"variant": variant}, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("variant", ["vanilla", "peephole", "cifg", "gru", "rnn"])
def test_panel_numbers_add_up_and_match_the_trace(variant):
    import torch  # noqa: F401  (imported: the badge fills in at once, not in the background)
    at = run_panel(variant)
    rec = Recurrent(3, 5, variant=variant, seed=3)
    x = np.random.default_rng(3).normal(size=(9, 3)).astype(np.float32)
    trace = rec.trace(x)
    options = at.segmented_control(key="w_explain_q").options
    assert [o.split(" · ")[0] for o in options] == list(explainable(variant))
    for name in explainable(variant):
        at.segmented_control(key="w_explain_q").set_value(name)
        at.run()
        assert at.session_state["explain_q"] == name
        assert not at.exception
        assert not at.table                   # a markdown table: no Arrow in the browser
        [table] = [m.value for m in at.markdown if m.value.startswith("| part |")]
        values = [number(row.strip("| ").rsplit(" | ", 1)[1])
                  for row in table.splitlines()[2:]]
        ex = explain(rec, trace, name, STEP, UNIT)
        n = len(ex.terms)
        combined = math.fsum(values[:n]) if ex.combine == "sum" else math.prod(values[:n])
        assert abs(combined - values[n]) <= 1e-4 * (n + 1) * max(1, abs(values[n]))
        traced = float(trace.get(name)[STEP, 0, UNIT])
        assert values[-1] == pytest.approx(traced, abs=1e-4)
        # the check line shows the traced value and says the parts make it
        check = [c.value for c in at.caption if c.value.startswith("✓")]
        assert check, [c.value for c in at.caption]
        assert f"{traced:.6f}".replace("-", "−") in check[-1]
        assert not at.warning
        # both formulas: in symbols and with numbers
        bodies = [el.proto.body for el in at.get("latex")]
        assert any(b.strip("$\n ").startswith(f"{name}_t =") for b in bodies), bodies
    # the torch badge: a match on the same weights
    badge = [c.value for c in at.caption if "torch" in c.value or "reference" in c.value]
    assert badge and badge[0].startswith("✓ matches"), badge
    m = re.search(r"max \|Δh\| = ([0-9.e+-]+)", badge[0])
    assert m and float(m.group(1)) < 1e-5


def test_panel_follows_the_step_and_defaults_to_the_cell():
    at = run_panel("vanilla")
    assert at.segmented_control(key="w_explain_q").value == "c"
    assert "step 4" in at.markdown[0].value and "unit 2" in at.markdown[0].value
    at.session_state["step"] = 0                       # the first step: the initial state
    at.run()
    assert "step 0" in at.markdown[0].value
    assert any("initial state" in c.value for c in at.caption)


def test_markdown_table_escapes_pipes_and_right_aligns_the_last_column():
    md = markdown_table([{"part": "$a$", "how": "x|y", "value": "1.0"},
                         {"part": "$b$", "how": "two\nlines", "value": "−2.5"}])
    assert md.splitlines() == ["| part | how | value |", "|---|---|---:|",
                               "| $a$ | x\\|y | 1.0 |", "| $b$ | two lines | −2.5 |"]
    assert markdown_table([]) == ""
