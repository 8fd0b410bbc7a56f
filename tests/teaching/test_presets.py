"""Teacher presets: valid links, and units that still do what each preset promises.

The units are hard-coded in ``lstm_viz/teaching/presets.py``; these tests recompute them on the
shipped models (``lstm_viz/models``) and check the behaviour the preset's description claims.
A preset whose shipped model is missing fails.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lstm_viz.core import VARIANTS
from lstm_viz.teaching import presets as P
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import load_shipped
from lstm_viz.ui.state import URL_KEYS, _parse
from lstm_viz.workbench import SHIPPED_VARIANTS, example_sequence, has_shipped


def shipped(preset: P.Preset):
    """(model, example) of a preset; a preset whose model does not ship fails."""
    assert has_shipped(preset.task, preset.variant), \
        f"no shipped model {preset.task}/{preset.variant} in lstm_viz/models"
    return (load_shipped(preset.task, preset.variant).recurrent(),
            example_sequence(preset.task, seed=0))


def by_name(name: str) -> P.Preset:
    return P.get_preset(name)


# --------------------------------------------------------------------------- the links


def test_there_are_a_handful_of_distinct_presets():
    assert 5 <= len(P.PRESETS) <= 10
    assert len({p.name for p in P.PRESETS}) == len(P.PRESETS)
    assert len({P.preset_url(p) for p in P.PRESETS}) == len(P.PRESETS)
    for p in P.PRESETS:
        assert p.description.endswith(".") and len(p.description) < 200


@pytest.mark.parametrize("preset", P.PRESETS, ids=lambda p: p.name)
def test_params_are_valid(preset):
    assert set(preset.params) <= set(URL_KEYS)
    for name, raw in preset.params.items():
        assert isinstance(raw, str)
        _parse(name, raw)                      # what the app does with the link: no ValueError
    assert preset.task in TASKS
    assert preset.variant in VARIANTS and preset.variant in SHIPPED_VARIANTS
    seq = example_sequence(preset.task, seed=0)
    assert 0 <= preset.step < seq.length
    model, _ = shipped(preset)
    assert 0 <= preset.unit < model.hidden_size
    assert int(preset.params.get("layer", 0)) < model.num_layers
    assert int(preset.params.get("direction", 0)) < (2 if model.bidirectional else 1)


@pytest.mark.parametrize("preset", P.PRESETS, ids=lambda p: p.name)
def test_url_round_trips(preset):
    url = P.preset_url(preset)
    assert url.startswith(f"?task={preset.task}&variant={preset.variant}&step={preset.step}"
                          f"&unit={preset.unit}")
    assert dict(parse_qsl(url[1:])) == preset.params
    assert dict(parse_qsl(P.preset_url(preset, projector="1")[1:]))["projector"] == "1"


def test_preset_url_example():
    p = P.Preset("x", "y.", {"unit": "5", "task": "brackets", "step": "37", "variant": "cifg",
                             "layer": "0"})
    assert P.preset_url(p) == "?task=brackets&variant=cifg&step=37&unit=5&layer=0"


# --------------------------------------------------------------------------- what they promise


def test_the_forget_gate_holds_a_memory():
    p = by_name("The forget gate holds a memory")
    model, seq = shipped(p)
    unit, lowest = P.find_holding_unit(model, seq)
    assert unit == p.unit, f"the forget gate that stays highest is now unit {unit}"
    assert lowest > 0.9
    trace = model.trace(seq.values)
    assert trace.get("i")[0, 0, unit] > 0.5             # the input gate opens at the symbol
    spread = P.symbol_spread(model, seq, "c")[p.step]    # and the cell holds which one it was
    assert spread[unit] > 1.0
    assert unit in np.argsort(spread)[::-1][:3]


def test_a_unit_that_counts_brackets():
    p = by_name("A unit that counts brackets")
    model, seq = shipped(p)
    unit, corr = P.find_counting_unit(model, seq)
    assert unit == p.unit, f"the best counting unit is now unit {unit} (|corr| {corr:.3f})"
    assert corr > 0.95
    depth = np.asarray(seq.meta["target"]).reshape(-1)
    assert depth[p.step] == depth.max()                   # shown at the deepest point
    for seed in (1, 2, 3):                                # and on other examples too
        other = example_sequence("brackets", seed=seed)
        c = model.trace(other.values).get("c")[:, 0, p.unit]
        d = np.asarray(other.meta["target"]).reshape(-1)
        assert abs(np.corrcoef(c, d)[0, 1]) > 0.9


def test_why_plain_rnns_forget():
    p = by_name("Why plain RNNs forget")
    model, seq = shipped(p)
    unit, early = P.find_rnn_memory_unit(model, seq)
    assert unit == p.unit
    assert early > 0.1                                    # just after the symbol, h knows it
    assert p.step == seq.length - 1                       # shown at the '?' cue
    assert seq.labels[p.step] == "?"
    late = P.symbol_spread(model, seq, "h")[p.step]
    assert late.max() < 1e-3                              # at the cue, nothing is left
    lstm = by_name("The forget gate holds a memory")
    lstm_model, _ = shipped(lstm)
    assert P.symbol_spread(lstm_model, seq, "h")[p.step].max() > 0.1   # the LSTM still has it


def test_peephole_keeps_its_own_gate_open():
    p = by_name("Peephole vs vanilla")
    model, seq = shipped(p)
    unit, term = P.find_peephole_unit(model, seq, p.step)
    assert unit == p.unit
    assert term > 1.0                                     # the p_f·c term is large
    f = model.trace(seq.values).get("f")[p.step, 0, unit]
    assert f > 0.95


def test_coupled_gates_hold_the_memory():
    p = by_name("Coupled gates: f = 1 − i")
    model, seq = shipped(p)
    unit, lowest = P.find_holding_unit(model, seq)
    assert unit == p.unit
    assert lowest > 0.9
    trace = model.trace(seq.values)
    i, f = trace.get("i")[:, 0, unit], trace.get("f")[:, 0, unit]
    np.testing.assert_allclose(f, 1 - i, atol=1e-6)
    assert i[p.step] < 0.05
    assert P.symbol_spread(model, seq, "c")[p.step, unit] > 0.5


def test_adding_problem_marked_numbers():
    p = by_name("Adding problem: two marked numbers")
    model, seq = shipped(p)
    unit, gap = P.find_marker_unit(model, seq)
    assert unit == p.unit
    assert gap > 0.4
    marks = np.flatnonzero(seq.values[:, 1] > 0.5)
    assert p.step == marks[0]                             # shown at the first marked step
    i = model.trace(seq.values).get("i")[:, 0, unit]
    assert i[marks].min() > 0.5
    assert np.delete(i, marks).mean() < 0.1


# --------------------------------------------------------------------------- the landing-page list


def view_script() -> None:
    from lstm_viz.ui.presets_view import presets_view
    from lstm_viz.ui.state import init_state

    init_state()
    presets_view()


def test_view_lists_links_and_applies_a_preset_here():
    at = AppTest.from_function(view_script, default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(m.value for m in at.markdown)
    for p in P.PRESETS:
        assert f"[**{p.name}**]({P.preset_url(p)})" in text
    # the projector toggle puts projector=1 into every link
    at.toggle(key="presets_projector").set_value(True)
    at.run()
    text = "\n".join(m.value for m in at.markdown)
    for p in P.PRESETS:
        assert f"({P.preset_url(p, projector='1')})" in text
    at.toggle(key="presets_projector").set_value(False)
    at.run()
    # "Show here" switches this session to the preset
    p = by_name("A unit that counts brackets")
    k = P.PRESETS.index(p)
    at.session_state["model_kind"] = "fresh"
    at.session_state["example_seed"] = 3
    at.button(key=f"preset_{k}").click()
    at.run()
    ss = at.session_state
    assert (ss["task"], ss["variant"], ss["step"], ss["unit"]) == (
        p.task, p.variant, p.step, p.unit)
    assert ss["model_kind"] == "trained" and ss["example_seed"] == 0
    assert at.query_params["step"] == str(p.step) and at.query_params["task"] == p.task
