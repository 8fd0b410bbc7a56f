"""The "Units" page in AppTest: gate saturation and the unit search, checked against
:mod:`lstm_viz.analysis` computed here on a trace built independently from the workbench."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import no_exception, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.analysis import context, saturation, unit_search
from lstm_viz.core import Trace
from lstm_viz.workbench import ModelChoice, build_model, example_sequence, run

PAGE = "pages/3_Units.py"
WALK_2F = Path(__file__).resolve().parents[1] / "data" / "app" / "walk_2f.csv"   # 23 steps x 2
MARK = ("⟦", "⟧")                     # how the page marks a range in its input context
PAD = 8                               # steps of context on each side
LISTED = 8                            # matches the page lists
MOSTLY = 0.8                          # the page's "over 80% of the time"
GATES = {"vanilla": ("i", "f", "o"), "peephole": ("i", "f", "o"), "cifg": ("i", "f", "o"),
         "nig": ("f", "o"), "nog": ("i", "f"), "gru": ("r", "z"), "rnn": ()}
WORDS = {"i": "input gate", "f": "forget gate", "o": "output gate", "r": "reset gate",
         "z": "update gate"}




def open_units(**params: str) -> AppTest:
    """The Units page, opened with these query parameters in the URL."""
    at = open_page(PAGE, query=params)
    assert at.title[0].value.startswith("Units")
    return at


def reference(task: str, variant: str, choice: ModelChoice | None = None):
    """The sequence and trace the page should show, built without streamlit."""
    seq = example_sequence(task, seed=0)
    model = build_model(choice or ModelChoice("trained", task, variant), seq.n_features)
    return seq, run(model, seq)


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def click(at: AppTest, label: str, index: int = 0) -> AppTest:
    [*buttons] = [b for b in at.button if b.label == label]
    buttons[index].click()
    at.run()
    no_exception(at)
    return at


def shown_table(at: AppTest) -> dict[str, np.ndarray]:
    [table] = at.dataframe                       # the page's only table
    df = table.value
    return {c: df[c].to_numpy(dtype=float) for c in df.columns}


def check_table(at: AppTest, trace: Trace, layer: int = 0, direction: int = 0) -> None:
    want = saturation(trace, layer, direction)
    table = shown_table(at)
    np.testing.assert_array_equal(table["unit"], np.arange(want.left.shape[1]))
    assert len(table) == 1 + 2 * len(want.gates)
    for k, gate in enumerate(want.gates):
        np.testing.assert_allclose(table[f"{gate} < 0.1"], want.left[k], atol=1e-12)
        np.testing.assert_allclose(table[f"{gate} > 0.9"], want.right[k], atol=1e-12)


# --------------------------------------------------------------------------- every variant


@pytest.mark.parametrize(("task", "variant"), [
    ("brackets", "vanilla"), ("brackets", "gru"), ("brackets", "rnn"), ("text", "cifg"),
    ("sine", "peephole"), ("adding", "nig"), ("remember", "nog"), ("text", "rnn"),
])
def test_no_exception_and_the_gates_of_each_variant(task, variant):
    at = open_units(task=task, variant=variant)
    _, trace = reference(task, variant)
    assert trace.variant == variant
    assert [h.value for h in at.header] == ["Gate saturation", "Unit search"]
    kinds = at.radio(key="us_kind").options
    if variant in ("gru", "rnn"):
        assert kinds == ["hidden state h"]
    else:
        assert kinds == ["hidden state h", "cell state c"]
    if variant == "rnn":
        assert any("has no gates" in i.value for i in at.info)
        assert not at.dataframe
        assert not [b for b in at.button if b.label == "Open in the stepper"]
        return
    assert tuple(saturation(trace).gates) == GATES[variant]
    check_table(at, trace)
    if variant == "cifg":                       # f = 1 − i: f closed exactly when i is open
        table = shown_table(at)
        np.testing.assert_allclose(table["f < 0.1"], table["i > 0.9"], atol=0.03)
    if variant == "gru":
        assert "update gate z keeps the memory" in texts(at)


# --------------------------------------------------------------------------- saturation


def test_saturation_numbers_and_findings_equal_the_analysis():
    at = open_units(task="brackets", variant="vanilla")
    _, trace = reference("brackets", "vanilla")
    check_table(at, trace)
    sat = saturation(trace)
    units = sat.left.shape[1]
    shown = texts(at)
    for k, gate in enumerate(sat.gates):
        for side, share in (("right", sat.right[k]), ("left", sat.left[k])):
            n = int(np.count_nonzero(share > MOSTLY))
            sentence = f"**{n} of {units}** units have the {WORDS[gate]} {side}-saturated"
            assert (sentence in shown) == (n > 0), sentence
    peak = np.maximum(sat.left, sat.right)
    g, u = np.unravel_index(int(np.argmax(peak)), peak.shape)
    assert f"The most saturated: unit {u}'s {WORDS[sat.gates[g]]}" in shown
    assert f"{peak[g, u]:.0%} of the time" in shown
    # the fallback picker starts on that unit
    assert at.selectbox(key="sat_unit").value == u


def test_saturation_follows_the_sidebar_layer_and_direction():
    at = open_units(task="brackets", variant="vanilla")
    at.radio(key="w_model_kind").set_value("fresh").run()
    at.slider(key="w_layers").set_value(2).run()
    at.toggle(key="w_bidirectional").set_value(True).run()
    at.selectbox(key="w_layer").set_value(1).run()
    at.radio(key="w_direction").set_value(1).run()
    no_exception(at)
    assert (at.session_state["layer"], at.session_state["direction"]) == (1, 1)
    choice = ModelChoice("fresh", "brackets", "vanilla", hidden_size=at.session_state["hidden"],
                         num_layers=2, bidirectional=True, seed=at.session_state["seed"])
    _, trace = reference("brackets", "vanilla", choice)
    check_table(at, trace, 1, 1)
    assert "layer 1, backward" in at.caption[0].value
    # the unit search reads the same layer and direction
    check_search(at, trace, 1, 1)


# --------------------------------------------------------------------------- unit search


def check_search(at: AppTest, trace: Trace, layer: int = 0, direction: int = 0):
    """The page's units and matches equal ``unit_search`` on the values and settings shown."""
    kind = at.radio(key="us_kind").value
    start, end = at.slider(key="us_range").value
    threshold = at.slider(key="us_threshold").value
    share = at.select_slider(key="us_match").value
    values = trace.get(kind, layer, direction)[:, 0]
    want = unit_search(values, start, end, threshold, match_fraction=share)
    shown = texts(at)
    found = [m.value for m in at.markdown if "on here and off around it" in m.value]
    if not want.units.size:
        assert not found
        assert any("No unit is on" in i.value for i in at.info)
        return want
    [line] = found
    assert [int(u) for u in re.findall(r"unit (\d+) \(", line)] == want.units.tolist()
    assert line.startswith(f"**{want.units.size} unit")
    listed = [(int(m[1]), int(m[2] or m[1])) for m in
              (re.fullmatch(r"steps? (\d+)(?:–(\d+))?", md.value) for md in at.markdown) if m]
    assert listed == [(m.start, m.end) for m in want.matches[:LISTED]]
    if want.matches:
        assert f"**{len(want.matches)} other place" in shown
    else:
        assert "never on" in shown
    steps = [b for b in at.button if b.label == "Step there"]
    assert len(steps) == min(len(want.matches), LISTED)
    return want


def labels_of(seq) -> list[str]:
    if seq.labels is not None:
        return list(seq.labels)
    return ["(" + ", ".join(f"{v:+.2f}" for v in row) + ")" for row in seq.values]


def test_unit_search_on_brackets_equals_the_analysis():
    at = open_units(task="brackets", variant="vanilla")
    seq, trace = reference("brackets", "vanilla")
    assert at.radio(key="us_kind").value == "h"
    want = check_search(at, trace)
    # the range the page offers is a meaningful one: some unit switches on and off there
    assert want.units.size >= 1 and want.matches
    values = trace.get("h")[:, 0]
    threshold = at.slider(key="us_threshold").value
    assert threshold == pytest.approx(np.floor(np.quantile(values, 0.9) * 100) / 100)
    start, end = at.slider(key="us_range").value
    assert f"`` {context(seq.labels, start, end, PAD, mark=MARK)} ``" in texts(at)
    for m in want.matches[:LISTED]:
        assert f"`` {context(seq.labels, m.start, m.end, PAD, mark=MARK)} ``" in texts(at)


def test_unit_search_other_settings_equal_the_analysis():
    at = open_units(task="brackets", variant="vanilla", step="18")
    _, trace = reference("brackets", "vanilla")
    start, end = at.slider(key="us_range").value
    assert start <= 18 <= end or min(abs(start - 18), abs(end - 18)) <= 3
    check_search(at, trace)
    at.radio(key="us_kind").set_value("c").run()
    no_exception(at)
    check_search(at, trace)
    at.slider(key="us_range").set_value((17, 20)).run()
    at.slider(key="us_threshold").set_value(0.4).run()
    at.select_slider(key="us_match").set_value(0.5).run()
    no_exception(at)
    assert at.slider(key="us_range").value == (17, 20)
    check_search(at, trace)
    at.radio(key="us_kind").set_value("h").run()
    at.slider(key="us_range").set_value((18, 20)).run()
    at.slider(key="us_threshold").set_value(0.45).run()
    want = check_search(at, trace)
    assert 4 in want.units.tolist()             # the depth >= 4 unit of the shipped model
    # nothing found: said, no exception
    at.slider(key="us_threshold").set_value(at.slider(key="us_threshold").max).run()
    no_exception(at)
    check_search(at, trace)


def test_suggest_button_finds_a_range_around_the_step():
    at = open_units(task="text", variant="vanilla", step="50")
    _, trace = reference("text", "vanilla")
    at.slider(key="us_range").set_value((0, 3)).run()
    click(at, "Suggest a range")
    start, end = at.slider(key="us_range").value
    assert (start, end) != (0, 3)
    want = check_search(at, trace)
    assert want.units.size >= 1


def test_numeric_sequence_shows_the_values():
    at = open_units(task="brackets", variant="vanilla")
    at.radio(key="w_seq_source").set_value("upload").run()
    at.file_uploader(key="w_upload").set_value(
        (WALK_2F.name, WALK_2F.read_bytes(), "text/csv")).run()
    no_exception(at)
    seq = at.session_state["uploaded_sequence"]
    assert seq.labels is None and seq.length == 23
    start, end = at.slider(key="us_range").value
    assert f"`` {context(labels_of(seq), start, end, PAD, mark=MARK)} ``" in texts(at)
    assert re.search(r"\([+-]\d\.\d\d, [+-]\d\.\d\d\)", texts(at))


# --------------------------------------------------------------------------- to the stepper


def test_step_there_sets_step_and_unit_and_opens_the_stepper():
    at = open_units(task="brackets", variant="vanilla")
    _, trace = reference("brackets", "vanilla")
    want = check_search(at, trace)
    second = want.matches[1]
    click(at, "Step there", index=1)
    # AppTest follows st.switch_page: the stepper ran, with the new state
    assert at.title[0].value == "Step through an LSTM"
    assert at.session_state["step"] == second.start
    assert at.session_state["unit"] == int(want.units[0])
    assert at.query_params["step"] == str(second.start)
    assert at.query_params["unit"] == str(int(want.units[0]))
    assert any(f"Step {second.start} of " in m.value for m in at.markdown)


def test_open_in_the_stepper_focuses_the_picked_unit():
    at = open_units(task="brackets", variant="vanilla", step="7")
    at.selectbox(key="sat_unit").set_value(5).run()
    click(at, "Open in the stepper")
    assert at.title[0].value == "Step through an LSTM"
    assert at.session_state["unit"] == 5 and at.session_state["step"] == 7
    assert at.number_input(key="w_unit").value == 5
    assert at.query_params["unit"] == "5"


def test_projector_view_and_the_lowest_threshold():
    at = open_units(task="remember", variant="vanilla", projector="1")
    _, trace = reference("remember", "vanilla")
    check_table(at, trace)
    at.slider(key="us_threshold").set_value(at.slider(key="us_threshold").min).run()
    no_exception(at)
    check_search(at, trace)


# --------------------------------------------------------------------------- issue #15


def shown_figure(at: AppTest, key: str) -> dict:
    """The plotly figure of the chart with this key, as the JSON the page sends."""
    [chart] = [c for c in at.get("plotly_chart") if key in c.proto.id]
    return json.loads(chart.proto.spec)


def test_saturation_markers_hold_every_unit_and_the_corner_counts_equal_the_notes():
    at = open_units(task="remember", variant="vanilla")
    _, trace = reference("remember", "vanilla")
    sat = saturation(trace)
    units = sat.left.shape[1]
    fig = shown_figure(at, "sat_scatter")
    assert len(fig["data"]) == len(sat.gates)                 # a panel (and a trace) per gate
    for trace_json in fig["data"]:
        held = [int(u) for c in trace_json["customdata"] for u in
                c[1].split(":")[-1].replace("<br>", ",").replace("unit", "").split(",")]
        assert sorted(held) == list(range(units))             # every unit on one marker
        counts = [int(t or 1) for t in trace_json["text"]]
        assert sum(counts) == units
    # the remember model: 15 of its 16 forget gates mostly open, and it shows on one marker
    f = sat.gates.index("f")
    n_open = int(np.count_nonzero(sat.right[f] > MOSTLY))
    assert n_open == 15
    assert f"**{n_open} of {units}** units have the forget gate right-saturated" in texts(at)
    opened = [a["text"] for a in fig["layout"]["annotations"] if a.get("name") == "open_count"]
    assert opened[f] == f"<b>{n_open} of {units}</b> mostly open"
    assert max(int(t or 1) for t in fig["data"][f]["text"]) >= n_open


def test_default_search_never_reports_a_unit_that_is_always_on():
    for task in ("brackets", "remember", "adding", "sine"):
        at = open_units(task=task, variant="vanilla")
        _, trace = reference(task, "vanilla")
        want = check_search(at, trace)
        values = trace.get(at.radio(key="us_kind").value)[:, 0].astype(np.float64)
        start, end = at.slider(key="us_range").value
        spread = values.max() - values.min()
        for u in want.units.tolist():
            outside = [values[i, u] for i in (start - 1, end + 1) if 0 <= i < len(values)]
            assert outside and values[start:end + 1, u].mean() - max(outside) >= 0.02 * spread
            assert not (values[:, u] >= at.slider(key="us_threshold").value).all()
        assert "+0.000 over" not in texts(at)
    # the remember model's h: its saturated units sit at 0.98 and cross the default threshold
    # by noise; the page says in one sentence that nothing switches there
    at = open_units(task="remember", variant="vanilla")
    assert [i.value for i in at.info if i.value.startswith("No unit is on")]
