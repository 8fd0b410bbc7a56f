"""AppTest tests of the "Step through" page (app.py) and the shared sidebar: every widget path.

The expected numbers never come from the app: sequences are read from the fixture files (or built
by the task) here, and the traces are recomputed with ``lstm_viz.core.Recurrent`` in the test.
Fresh models are used wherever numbers are compared, so the tests do not depend on which trained
models ship in ``lstm_viz/models``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import app_test, no_exception
from streamlit.testing.v1 import AppTest

from lstm_viz.core import VARIANTS, Recurrent
from lstm_viz.files.loaders import MAX_UPLOAD_BYTES
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import load_shipped

DATA = Path(__file__).resolve().parents[1] / "data" / "app"
GOOD_2F = DATA / "walk_2f.csv"          # 23 steps x 2 features
GOOD_3F = DATA / "sensors_3f.csv"       # 17 steps x 3 features
FRESH = "fresh"                         # the "Weights" radio option for seeded random weights
HIDDEN = 16                             # the sidebar's default number of hidden units
SEED = 0                                # the sidebar's default seed


# --------------------------------------------------------------------------- helpers


def open_app(**params: str) -> AppTest:
    """Run the app once, with these query parameters in the URL (none: ``step=0``, a link to the
    still first step; a visit with no link at all starts playing, see test_first_visit_plays)."""
    return app_test(query=params or {"step": "0"}).run()


def button(at: AppTest, shortcut: str):
    """The step button bound to a keyboard shortcut ("home", "left", "space", ...)."""
    found = [b for b in at.button if b.proto.shortcut.lower() == shortcut]
    assert len(found) == 1, f"expected one button with shortcut {shortcut!r}, got {found}"
    return found[0]


def heading(at: AppTest) -> tuple[int, int]:
    """(step, last) from the live view's "Step N of M" heading."""
    for md in at.markdown:
        m = re.search(r"Step (\d+) of (\d+)", md.value)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise AssertionError("no 'Step N of M' heading: " + repr([m.value for m in at.markdown]))


def loaded_caption(at: AppTest) -> tuple[str, int, int]:
    """(name, steps, features) of the sequence the sidebar says is loaded."""
    for cap in at.sidebar.caption:
        m = re.search(r"\*\*(.+?)\*\*: ([\d,]+) steps × (\d+) feature", cap.value)
        if m:
            return m.group(1), int(m.group(2).replace(",", "")), int(m.group(3))
    raise AssertionError("no sequence caption in the sidebar: "
                         + repr([c.value for c in at.sidebar.caption]))


def chart(at: AppTest, key: str) -> dict:
    """The plotly figure (data, layout) drawn under ``key``: an ``st.plotly_chart`` or the
    heatmap component, which gets the figure JSON as its ``spec`` argument."""
    for el in at.get("plotly_chart"):
        if getattr(el, "key", None) == key:
            return json.loads(el.proto.spec)
    for el in at.get("component_instance"):
        if getattr(el, "key", None) == key:
            spec = json.loads(el.proto.json_args)["spec"]
            return json.loads(spec) if isinstance(spec, str) else spec
    raise AssertionError(f"no figure with key {key!r}")


def heatmaps(at: AppTest) -> dict[str, np.ndarray]:
    """name -> (units, T) array of every heatmap in the "heatmaps" figure."""
    out = {}
    for trace in chart(at, "heatmaps")["data"]:
        if trace.get("type") != "heatmap":
            continue
        z = trace.get("customdata", trace["z"])   # a row scaled per unit keeps its true values
        if isinstance(z, dict):           # plotly's typed-array encoding
            arr = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
            shape = [int(s) for s in str(z.get("shape", len(arr))).split(",")]
            arr = arr.reshape(shape)
        else:
            arr = np.asarray(z, dtype=float)
        out[trace["name"]] = arr.astype(float)
    assert out, "the heatmaps figure holds no heatmap"
    return out


def diagram_svg(at: AppTest) -> str:
    """The cell diagram's SVG markup (the live view draws it as markdown: ``st.html`` would
    strip the SVG)."""
    found = [m.value for m in at.markdown if 'aria-label="cell diagram' in m.value]
    assert len(found) == 1, f"{len(found)} cell diagrams on the page"
    return found[0]


def diagram_numbers(at: AppTest) -> dict[str, float]:
    """The bold numbers of the cell diagram ("f = 0.90", "c<sub>t</sub> = 0.50"): gate and
    state values at the step."""
    out = {}
    for label in re.findall(r"<text[^>]*>(.*?)</text>", diagram_svg(at)):
        if 'font-weight="bold"' not in label:
            continue
        label = re.sub(r'<tspan[^>]*baseline-shift="-0.3em"[^>]*>t</tspan>', "", label)
        text = re.sub(r"<[^>]+>", "", label).replace("−", "-").strip()
        m = re.fullmatch(r"(\w) = (-?[\d.]+)", text)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def torch_call_shown(at: AppTest) -> str:
    """The sidebar's torch constructor call (inline code in a caption)."""
    calls = [c.value for c in at.sidebar.caption if c.value.startswith("`nn.")]
    assert len(calls) == 1, [c.value for c in at.sidebar.caption]
    return calls[0]


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def csv_values(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2).astype(np.float32)


def expected_trace(values: np.ndarray, variant: str = "vanilla", **kw):
    """The trace of a fresh sidebar model, recomputed here from the core."""
    rec = Recurrent(values.shape[1], kw.pop("hidden", HIDDEN), variant=variant, seed=SEED, **kw)
    return rec.trace(values.astype(np.float32))


def check_heatmaps(at: AppTest, tr, layer: int = 0, direction: int = 0) -> None:
    """Every heatmap equals the recomputed trace (units x time)."""
    for name, shown in heatmaps(at).items():
        want = tr.get(name, layer, direction)[:, 0, :].T
        assert shown.shape == want.shape, name
        np.testing.assert_allclose(shown, want, atol=1e-5, err_msg=f"{tr.variant} {name!r}")


def use_fresh(at: AppTest) -> AppTest:
    at.radio(key="w_model_kind").set_value(FRESH).run()
    no_exception(at)
    assert "fresh" in at.session_state["model_kind"]
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    if at.session_state["seq_source"] != "upload":
        at.radio(key="w_seq_source").set_value("upload").run()
    at.file_uploader(key="w_upload").set_value((name, data, "text/csv")).run()
    return at


# --------------------------------------------------------------------------- first run, stepping


def test_first_run_has_title_and_no_exception():
    at = open_app()
    no_exception(at)
    assert at.title and "LSTM" in at.title[0].value
    step, last = heading(at)
    assert step == 0 and at.session_state["step"] == 0
    task = at.session_state["task"]
    assert last == TASKS[task].example(seed=0).length - 1
    # No st.code on the landing page: the syntax highlighter it loads costs the browser ~0.3 s
    # before the first figure (python -m lstm_viz.bench.first_paint). The torch call is inline.
    assert not at.code
    assert torch_call_shown(at).startswith("`nn.LSTM(")
    assert loaded_caption(at)[1] == last + 1
    assert at.query_params["step"] == "0" and at.query_params["task"] == task


def test_step_buttons_move_the_step_and_the_url():
    at = open_app()
    last = heading(at)[1]

    def check(step: int) -> None:
        no_exception(at)
        assert at.session_state["step"] == step
        assert at.query_params["step"] == str(step)
        assert heading(at) == (step, last)
        assert at.slider(key="w_step").value == step

    button(at, "right").click().run()
    check(1)
    button(at, "right").click().run()
    button(at, "right").click().run()
    check(3)
    button(at, "left").click().run()
    check(2)
    button(at, "end").click().run()
    check(last)
    button(at, "right").click().run()          # already at the end: stays
    check(last)
    button(at, "home").click().run()
    check(0)
    button(at, "left").click().run()           # already at the start: stays
    check(0)


def test_slider_sets_the_step():
    at = open_app()
    last = heading(at)[1]
    at.slider(key="w_step").set_value(12).run()
    no_exception(at)
    assert at.session_state["step"] == 12
    assert at.query_params["step"] == "12"
    assert heading(at) == (12, last)
    button(at, "right").click().run()          # the buttons continue from the slider's step
    assert at.session_state["step"] == 13 and at.slider(key="w_step").value == 13


def test_unit_and_projector_widgets_update_state_and_url():
    at = open_app()
    at.number_input(key="w_unit").set_value(5).run()
    no_exception(at)
    assert at.session_state["unit"] == 5 and at.query_params["unit"] == "5"
    assert any(m.value.startswith("Unit 5 ") for m in at.markdown)
    at.toggle(key="w_projector").set_value(True).run()
    no_exception(at)
    assert at.session_state["projector"] is True and at.query_params["projector"] == "1"


def test_diagram_numbers_match_the_core_trace():
    at = use_fresh(open_app())
    at.number_input(key="w_unit").set_value(3).run()
    at.slider(key="w_step").set_value(5).run()
    no_exception(at)
    tr = expected_trace(TASKS["brackets"].example(seed=0).values)
    shown = diagram_numbers(at)
    for name in ("f", "i", "g", "o", "c", "h"):
        assert name in shown, f"the diagram shows no {name} value: {shown}"
        assert shown[name] == pytest.approx(float(tr.get(name)[5, 0, 3]), abs=0.006), name
    line = next(m.value for m in at.markdown if m.value.startswith("Unit 3 right now"))
    for name in ("f", "i", "g", "o", "c", "h"):
        m = re.search(rf"\b{name} = (-?[\d.]+)", line)
        assert m, f"{name} missing from {line!r}"
        assert float(m.group(1)) == pytest.approx(float(tr.get(name)[5, 0, 3]), abs=6e-4)


def test_new_example_draws_another_sequence():
    at = open_app()
    before = heatmaps(at)["h"]
    button(at, "right").click().run()
    next(b for b in at.button if b.label == "New example").click().run()
    no_exception(at)
    assert at.session_state["example_seed"] == 1
    assert at.session_state["step"] == 0 and at.query_params["step"] == "0"
    after = heatmaps(at)["h"]
    assert after.shape != before.shape or not np.allclose(after, before)


# --------------------------------------------------------------------------- play


def test_play_and_pause():
    at = open_app()
    play = button(at, "space")
    assert "Play" in play.label
    play.click().run()
    no_exception(at)
    assert at.session_state["playing"] is True
    assert "Pause" in button(at, "space").label
    button(at, "space").click().run()
    no_exception(at)
    assert at.session_state["playing"] is False
    assert "Play" in button(at, "space").label


def test_a_step_button_stops_playing():
    at = open_app()
    button(at, "space").click().run()
    assert at.session_state["playing"] is True
    step = at.session_state["step"]
    button(at, "right").click().run()
    assert at.session_state["playing"] is False
    assert at.session_state["step"] == step + 1


def test_play_at_the_end_starts_over():
    at = open_app()
    button(at, "end").click().run()
    assert at.session_state["step"] == heading(at)[1]
    button(at, "space").click().run()
    no_exception(at)
    assert at.session_state["playing"] is True
    # The restart goes to step 0; the live view may already have drawn the first frame.
    assert at.session_state["step"] <= 1


def _play_script() -> None:
    import streamlit as st

    from lstm_viz.ui.steps import tick

    ss = st.session_state
    ss["results"] = [(tick(ss["last"]), int(ss["step"]), bool(ss["playing"])) for _ in range(5)]


def test_tick_advances_and_stops_at_the_last_step():
    at = AppTest.from_function(_play_script, default_timeout=30)
    at.session_state["step"] = 2
    at.session_state["last"] = 5
    at.session_state["playing"] = True
    at.run()
    no_exception(at)
    assert at.session_state["results"] == [
        (True, 3, True), (True, 4, True), (False, 5, False), (False, 5, False), (False, 5, False)]
    assert at.query_params["step"] == "5"


def _request_script() -> None:
    import streamlit as st

    from lstm_viz.ui.player import KEY
    from lstm_viz.ui.state import mark_full_run, needs_full_run
    from lstm_viz.ui.steps import on_player_request

    ss = st.session_state
    seen = []
    for request, playing in ss["requests"]:
        ss[KEY], ss["playing"] = request, playing
        mark_full_run()
        on_player_request(ss["last"])
        seen.append((int(ss["step"]), bool(ss["playing"]), needs_full_run()))
    ss["seen"] = seen


def test_a_player_request_moves_one_step_only_when_it_matches():
    """The browser asks for the step after ``from``; stale, repeated and paused requests do
    nothing, and the last step stops play, which asks for a full redraw."""
    at = AppTest.from_function(_request_script, default_timeout=30)
    at.session_state["step"] = 3
    at.session_state["last"] = 5
    at.session_state["requests"] = [
        ({"from": 3, "n": 1}, True),      # -> 4
        ({"from": 3, "n": 2}, True),      # a repeat of an answered request: stays at 4
        ({"from": 4, "n": 3}, False),     # paused meanwhile: stays
        (None, True),                     # no request yet
        ({"from": 4, "n": 4}, True),      # -> 5, the last: play stops, page redraws
        ({"from": 5, "n": 5}, True),      # playing at the last step: stops there
    ]
    at.run()
    no_exception(at)
    assert at.session_state["seen"] == [
        (4, True, False), (4, True, False), (4, False, False), (4, True, False),
        (5, False, True), (5, False, True)]
    assert at.query_params["step"] == "5"


def _fragment_script() -> None:
    import streamlit as st

    from lstm_viz.ui.state import commit, mark_full_run, needs_full_run

    ss = st.session_state
    ss.setdefault("seq_source", "example")
    ss.setdefault("playing", True)
    mark_full_run()
    before = needs_full_run()
    ss["w_seq_source"] = "upload"
    commit("seq_source")               # a sidebar callback, run before a fragment's rerun
    ss["flags"] = (before, needs_full_run(), ss["playing"])


def test_a_change_outside_the_live_view_asks_for_a_full_redraw():
    """Load test finding: a sidebar change that reached the server with a play request ran its
    callback in the fragment's rerun, and the sidebar kept showing the old view (no uploader).
    The fragment now sees the state differ from what the last full run drew."""
    at = AppTest.from_function(_fragment_script, default_timeout=30).run()
    no_exception(at)
    assert at.session_state["flags"] == (False, True, False)


# --------------------------------------------------------------------------- variants, tasks, model


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b)


def test_every_variant_runs_and_changes_the_values():
    """Each variant of the radio (default weights) runs, and shows values of its own.

    Two variants may show the same values only when both are fresh seeded models that compute
    the same thing (a fresh peephole LSTM starts with zero peepholes, like vanilla): that is
    checked against the core, not assumed.
    """
    at = open_app()
    assert list(at.radio(key="w_variant").options) == list(VARIANTS)
    values = TASKS["brackets"].example(seed=0).values
    seen: dict[str, tuple[np.ndarray, bool]] = {}
    for variant in VARIANTS:
        at.radio(key="w_variant").set_value(variant).run()
        no_exception(at)
        assert at.session_state["variant"] == variant
        assert at.query_params["variant"] == variant
        h = heatmaps(at)["h"]
        fresh = any(c.value.startswith(f"fresh {variant},") for c in at.sidebar.caption)
        for other, (h_other, other_fresh) in seen.items():
            same_model = fresh and other_fresh and _same(
                expected_trace(values, variant).get("h"), expected_trace(values, other).get("h"))
            assert _same(h, h_other) == same_model, (
                f"{variant} vs {other}: shown h {'equal' if _same(h, h_other) else 'differ'}")
        seen[variant] = (h, fresh)


def test_fresh_variant_heatmaps_match_the_core_trace():
    at = use_fresh(open_app())
    values = TASKS["brackets"].example(seed=0).values
    for variant in VARIANTS:
        at.radio(key="w_variant").set_value(variant).run()
        no_exception(at)
        assert any(c.value.startswith(f"fresh {variant},") for c in at.sidebar.caption)
        check_heatmaps(at, expected_trace(values, variant))


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_runs(task):
    at = open_app()
    at.selectbox(key="w_task").set_value(task).run()
    no_exception(at)
    example = TASKS[task].example(seed=0)
    assert at.session_state["task"] == task and at.query_params["task"] == task
    assert heading(at) == (0, example.length - 1)
    assert loaded_caption(at)[1:] == (example.length, example.n_features)
    button(at, "end").click().run()
    no_exception(at)
    assert heading(at) == (example.length - 1, example.length - 1)


def test_switching_to_a_shorter_task_keeps_the_step_in_range():
    at = open_app()
    at.slider(key="w_step").set_value(heading(at)[1]).run()
    shorter = min(TASKS, key=lambda t: TASKS[t].example(seed=0).length)
    at.selectbox(key="w_task").set_value(shorter).run()
    no_exception(at)
    step, last = heading(at)
    assert last == TASKS[shorter].example(seed=0).length - 1
    assert 0 <= at.session_state["step"] == step <= last
    assert at.query_params["step"] == str(step)


def test_fresh_two_layer_bidirectional_shows_layer_and_direction():
    at = use_fresh(open_app())
    assert not [s for s in at.selectbox if s.key == "w_layer"]
    assert not [r for r in at.radio if r.key == "w_direction"]
    at.slider(key="w_layers").set_value(2).run()
    at.toggle(key="w_bidirectional").set_value(True).run()
    no_exception(at)
    assert list(at.selectbox(key="w_layer").options) == ["0", "1"]
    assert len(at.radio(key="w_direction").options) == 2
    at.selectbox(key="w_layer").set_value(1).run()
    at.radio(key="w_direction").set_value(1).run()
    no_exception(at)
    assert at.session_state["layer"] == 1 and at.session_state["direction"] == 1
    assert at.query_params["layer"] == "1" and at.query_params["direction"] == "1"
    values = TASKS["brackets"].example(seed=0).values
    tr = expected_trace(values, num_layers=2, bidirectional=True)
    check_heatmaps(at, tr, layer=1, direction=1)
    # ... and it really is the backward direction of the top layer, not the default view.
    assert not np.allclose(heatmaps(at)["h"], tr.get("h", 0, 0)[:, 0, :].T)


# --------------------------------------------------------------------------- links


def test_deep_link_selects_task_variant_step_unit():
    at = open_app(task="remember", variant="cifg", step="7", unit="3")
    no_exception(at)
    last = TASKS["remember"].example(seed=0).length - 1
    assert at.selectbox(key="w_task").value == "remember"
    assert at.radio(key="w_variant").value == "cifg"
    assert at.slider(key="w_step").value == 7
    assert at.number_input(key="w_unit").value == 3
    assert heading(at) == (7, last)
    assert not [t for t in infos(at) if "not valid" in t or "past the end" in t]
    assert dict(at.query_params) == {"task": "remember", "variant": "cifg", "step": "7",
                                     "unit": "3"}


def test_deep_link_projector():
    at = open_app(projector="1", step="4")
    no_exception(at)
    assert at.toggle(key="w_projector").value is True
    assert heading(at)[0] == 4


@pytest.mark.parametrize(("params", "name", "raw"), [
    ({"variant": "bogus"}, "variant", "bogus"),
    ({"task": "nope"}, "task", "nope"),
    ({"step": "99999"}, "step", "99999"),
    ({"step": "-3"}, "step", "-3"),
    ({"step": "abc"}, "step", "abc"),
    ({"unit": "500"}, "unit", "500"),
    ({"projector": "maybe"}, "projector", "maybe"),
    ({"layer": "3"}, "layer", "3"),
    ({"direction": "1"}, "direction", "1"),
], ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else None)
def test_invalid_link_falls_back_with_a_notice(params, name, raw):
    at = open_app(**params)
    no_exception(at)
    notices = [t for t in infos(at) if name in t and raw in t]
    assert notices, f"no notice naming {name}={raw}: {infos(at)}"
    ss = at.session_state
    assert ss["variant"] in VARIANTS and ss["task"] in TASKS
    step, last = heading(at)
    assert 0 <= ss["step"] == step <= last
    assert at.query_params.get(name) != raw, "the URL still holds the invalid value"


def test_all_invalid_at_once():
    at = open_app(task="nope", variant="bogus", step="99999")
    no_exception(at)
    assert at.session_state["task"] == "brackets" and at.session_state["variant"] == "vanilla"
    text = " ".join(infos(at))
    for raw in ("nope", "bogus", "99999"):
        assert raw in text, f"no notice mentions {raw!r}: {infos(at)}"
    assert at.query_params["task"] == "brackets" and at.query_params["variant"] == "vanilla"


# --------------------------------------------------------------------------- uploads


def test_upload_source_without_a_file_shows_the_example():
    at = open_app()
    at.radio(key="w_seq_source").set_value("upload").run()
    no_exception(at)
    assert at.file_uploader(key="w_upload") is not None
    assert any("No file loaded yet" in c.value for c in at.sidebar.caption)
    assert loaded_caption(at)[1] == TASKS["brackets"].example(seed=0).length


def test_upload_two_feature_csv_with_the_brackets_model():
    at = open_app()
    assert at.session_state["task"] == "brackets"
    button(at, "right").click().run()
    upload(at, GOOD_2F.name, GOOD_2F.read_bytes())
    no_exception(at)
    values = csv_values(GOOD_2F)
    assert not errors(at), errors(at)
    assert loaded_caption(at) == (GOOD_2F.name, len(values), 2)
    assert heading(at) == (0, len(values) - 1)          # a new sequence starts at step 0
    assert at.query_params["step"] == "0"
    assert any(re.match(r"trained on brackets", c.value) for c in at.sidebar.caption), (
        [c.value for c in at.sidebar.caption])
    # The heatmaps are the shipped model's trace of the file, recomputed here.
    check_heatmaps(at, load_shipped("brackets", "vanilla").recurrent().trace(values))
    button(at, "end").click().run()
    no_exception(at)
    assert heading(at) == (len(values) - 1, len(values) - 1)


def test_upload_three_feature_csv_with_a_fresh_model():
    at = use_fresh(open_app())
    upload(at, GOOD_3F.name, GOOD_3F.read_bytes())
    no_exception(at)
    values = csv_values(GOOD_3F)
    assert not errors(at), errors(at)
    assert loaded_caption(at) == (GOOD_3F.name, len(values), 3)
    assert "input_size=3" in torch_call_shown(at)
    check_heatmaps(at, expected_trace(values))
    # Back to the default weights: either they take 3 inputs and show the file, or a clear
    # error says so and the task example is shown; never a model fed the wrong width.
    at.radio(key="w_model_kind").set_value("trained").run()
    no_exception(at)
    m = re.search(r"input_size=(\d+)", torch_call_shown(at))
    assert m, torch_call_shown(at)
    example = TASKS["brackets"].example(seed=0)
    if int(m.group(1)) == 3:
        assert heading(at)[1] == len(values) - 1 and not errors(at)
    else:
        warnings = [w.value for w in at.warning]      # said on the page, with the fix
        assert any("3 features" in w and "pick 2 columns" in w for w in warnings), warnings
        assert heading(at)[1] == example.length - 1
        assert int(m.group(1)) == example.n_features


def _over_large() -> bytes:
    row = b"0.5\n"
    return b"x\n" + row * (MAX_UPLOAD_BYTES // len(row) + 1000)


# (id, file name, content, what the error must say: every regex must match)
BAD_UPLOADS = [
    ("empty", "empty.csv", b"", [r"(?i)empty"]),
    ("non-numeric", "letters.csv", b"level,sign\n0.1,1\n0.2,abc\n",
     [r"abc", r"(?i)not a number", r"(?i)row 3"]),
    ("nan", "gap.csv", b"level,sign\n0.1,1\n0.2,NaN\n0.3,1\n",
     [r"(?i)missing|nan|not a (finite )?number", r"(?i)row 3"]),
    ("ragged", "ragged.csv", b"level,sign\n0.1,1\n0.2\n0.3,1\n",
     [r"(?i)row 3", r"(?i)column"]),
    ("wrong-feature-count", GOOD_3F.name, GOOD_3F.read_bytes(),
     [r"(?i)3 (features|columns|inputs)", r"(?i)\b2\b.*(inputs|columns|features)"]),
    ("binary-junk", "junk.csv", bytes(range(256)) * 16, [r"(?i)binary|not (valid )?(utf-8 )?text"]),
    ("over-large", "huge.csv", _over_large(), [r"(?i)MB|too (large|big)", r"(?i)limit|at most"]),
]
_FIX = r"(?i)\b(upload|fill|delete|add|save|choose|remove|every|need|must|use|crop)"


@pytest.fixture
def loaded_2f() -> AppTest:
    """The app with walk_2f.csv loaded through the uploader and stepped to step 2."""
    at = upload(open_app(), GOOD_2F.name, GOOD_2F.read_bytes())
    button(at, "right").click().run()
    button(at, "right").click().run()
    no_exception(at)
    assert at.session_state["step"] == 2
    assert loaded_caption(at) == (GOOD_2F.name, len(csv_values(GOOD_2F)), 2)
    return at


@pytest.mark.parametrize(("name", "data", "patterns"), [b[1:] for b in BAD_UPLOADS],
                         ids=[b[0] for b in BAD_UPLOADS])
def test_bad_upload_shows_error_and_keeps_the_previous_sequence(loaded_2f, name, data, patterns):
    at = loaded_2f
    upload(at, name, data)
    no_exception(at)
    shown = errors(at)
    assert len(shown) == 1, f"expected one error, got {shown}"
    msg = shown[0]
    assert name in msg, f"the error does not name the file: {msg!r}"
    for pattern in patterns:
        assert re.search(pattern, msg), f"{pattern!r} not in the error: {msg!r}"
    assert re.search(_FIX, msg.split(":", 1)[1]), f"the error says no fix: {msg!r}"
    # The previous sequence is still loaded, at the same step.
    n = len(csv_values(GOOD_2F))
    assert at.session_state["seq_source"] == "upload"
    assert loaded_caption(at) == (GOOD_2F.name, n, 2)
    assert heading(at) == (2, n - 1)
    assert at.query_params["step"] == "2"
    button(at, "right").click().run()                # and still works
    no_exception(at)
    assert heading(at) == (3, n - 1)


def test_good_upload_after_a_bad_one_clears_the_error(loaded_2f):
    at = upload(loaded_2f, "bad_cell.csv", (DATA / "bad_cell.csv").read_bytes())
    assert errors(at) and "oops" in errors(at)[0]
    at = use_fresh(at)
    upload(at, GOOD_3F.name, GOOD_3F.read_bytes())
    no_exception(at)
    assert not errors(at), errors(at)
    assert loaded_caption(at) == (GOOD_3F.name, len(csv_values(GOOD_3F)), 3)



def test_first_visit_plays_and_a_link_does_not():
    """DESIGN: a first-time visitor sees a trained model on a meaningful task, already moving."""
    at = app_test().run()
    no_exception(at)
    assert at.session_state["playing"] is True
    assert at.session_state["model_kind"] == "trained"
    assert any(b.label.endswith("Pause") for b in at.button)
    assert not any("⏸" in b.label for b in at.button)     # a box in Debian's Chromium
    assert open_app(task="brackets").session_state["playing"] is False


def player_args(at: AppTest) -> dict:
    import json

    found = [json.loads(e.proto.json_args) for e in at.get("component_instance")
             if e.proto.component_name.endswith("lstm_viz_player")]
    assert len(found) == 1, f"{len(found)} players on the page"
    return found[0]


def test_play_speed_sets_the_players_pace_and_keeps_playing():
    at = app_test().run()                                        # a first visit: playing
    assert player_args(at)["playing"] is True
    assert player_args(at)["interval_ms"] == 100                  # 10 steps a second
    at.select_slider(key="w_speed").set_value(2).run()
    no_exception(at)
    assert at.session_state["playing"] is True
    assert player_args(at)["interval_ms"] == 500
    button(at, "space").click().run()                            # pause
    assert player_args(at)["playing"] is False
    assert at.session_state["speed"] == 2                        # kept for the next play


def test_a_second_session_on_the_same_view_reuses_the_heatmaps():
    """A class opening the same link: the heatmaps' figure is built once for the server."""
    first = open_app(step="3")
    key, spec = first.session_state["_heatmaps"]
    second = open_app(step="3")
    no_exception(second)
    again_key, again = second.session_state["_heatmaps"]
    assert again_key == key and again is spec          # the same object: not built again
    other = open_app(step="4")                        # another step: its own cursor
    assert other.session_state["_heatmaps"][1] is not spec


def test_the_zoom_window_draws_its_last_step():
    """The zoom window [lo, hi] is drawn whole: at the last step, that step is its last column."""
    t = np.arange(2_100)
    values = np.stack([np.sin(t / 7), np.cos(t / 5)], axis=1).astype(np.float32)
    rows = "a,b\n" + "\n".join(f"{a:.4f},{b:.4f}" for a, b in values)
    at = use_fresh(upload(open_app(), "long.csv", rows.encode()))
    at.toggle(key="zoom").set_value(True).run()
    at.slider(key="w_step").set_value(len(t) - 1).run()
    no_exception(at)
    captions = [c.value for c in at.caption]
    assert f"Window {len(t) - 501}–{len(t) - 1} around the current step." in captions
    shown = heatmaps(at)["c"]
    want = expected_trace(np.loadtxt(rows.splitlines(), delimiter=",", skiprows=1))
    assert shown.shape[1] == 501
    np.testing.assert_allclose(shown[:, -1], want.get("c", 0, 0)[-1, 0, :], atol=1e-5)
