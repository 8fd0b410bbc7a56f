"""The stepper's helpers: the input context line, the windows of steps it sends."""

from __future__ import annotations

import html
import json
import re

from conftest import no_exception, open_page

from lstm_viz.ui.stepper import MARGIN, context_html, needs_window, window_around


def test_context_marks_the_step_by_style_never_by_brackets_or_markdown():
    chars = tuple("(()) *x* <b>")
    out = context_html(chars, 2, radius=20)
    assert "**" not in out and "\\[" not in out and "<b>" not in out
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert text == "(())␣*x*␣<b>"                       # the input, nothing inserted
    marked = re.findall(r'<span style="[^"]*background[^"]*">([^<]*)</span>', out)
    assert [html.unescape(m) for m in marked] == [")"]   # the current character, styled
    assert out.count("opacity:0.45") == 2                # the spaces: a dim ␣
    assert context_html(tuple("abcdefghijklmnopqrstuvwxyz"), 13, radius=3).count("…") == 2


def test_windows_hold_the_step_and_follow_play_ahead():
    assert window_around(5, 40) == (0, 40)
    lo, hi = window_around(1000, 5000)
    assert (lo, hi) == (850, 1150) and not needs_window(1000, (lo, hi), 5000)
    ahead = window_around(1000, 5000, ahead=True)
    assert ahead[0] == 1000 - MARGIN and not needs_window(1000, ahead, 5000)
    assert needs_window(ahead[1] - MARGIN, ahead, 5000)   # near the edge: the next window
    assert not needs_window(ahead[1] - 2 * MARGIN, ahead, 5000)
    assert needs_window(ahead[1] - 2 * MARGIN, ahead, 5000, ahead=True)   # playing: earlier
    assert not needs_window(1000, ahead, 5000, ahead=True)
    assert not needs_window(4999, window_around(4999, 4999), 4999)
    assert needs_window(3, None, 10)


def _stepper_args(at) -> dict:
    [el] = [e for e in at.get("component_instance")
            if e.proto.component_name.endswith("lstm_viz_stepper")]
    return json.loads(el.proto.json_args)


def test_the_window_payload_is_sent_once_then_its_key_alone():
    """A rerun with the same window (a settled step, a pause) sends the key, not ~300 kB."""
    at = open_page(query={"step": "3"})
    assert _stepper_args(at)["data"] == ""              # not mounted: no payload at all
    at.session_state["_stepper_ready"] = True           # the component said it is mounted
    at.run()
    no_exception(at)
    first = _stepper_args(at)
    assert first["data_key"] and json.loads(first["data"])["lo"] == 0
    at.run()
    no_exception(at)
    again = _stepper_args(at)
    assert again["data_key"] == first["data_key"] and again["data"] == ""
    assert len(at.session_state["_stepper_sent"]) > 0
    del at.session_state["_stepper_sent"]               # what {"need": key} does (on_stepper)
    at.run()
    no_exception(at)
    assert _stepper_args(at)["data"] == first["data"]


def test_sessions_on_the_same_view_share_one_payload_and_a_sequence_shown_otherwise_does_not():
    """A class on one link: the ~300 kB window is built once for the server. Its key holds what
    the view shows of the sequence beyond its values (labels, feature names)."""
    from lstm_viz.ui.trace_cache import RESULTS

    def mounted(step: str):
        at = open_page(query={"step": step})
        at.session_state["_stepper_ready"] = True
        at.run()
        no_exception(at)
        return at

    first = mounted("3").session_state["_stepper_data"]
    second = mounted("3").session_state["_stepper_data"]
    assert second[3] == first[3] and second[2] is first[2]        # one string, built once
    assert ("stepper", first[3]) in RESULTS._items

    def uploaded(header: str):
        at = open_page()
        at.radio(key="w_seq_source").set_value("upload").run()
        rows = header + "\n" + "\n".join(f"{t / 10:.1f},{-t / 10:.1f}" for t in range(30))
        at.file_uploader(key="w_upload").set_value(("s.csv", rows.encode(), "text/csv")).run()
        at.session_state["_stepper_ready"] = True
        at.run()
        no_exception(at)
        return at.session_state["_stepper_data"]

    a, b = uploaded("a,b"), uploaded("speed,angle")       # the same values, other names
    assert a[3] != b[3] and "speed" in b[2] and "speed" not in a[2]
