"""A browser's first run of the landing page is lean (lstm_viz.ui.first_run): the sidebar's
headings and captions and the live view with its cell diagram, nothing else; the next run, of any
kind, draws the whole page. AppTest has no browser, so these tests tell it there is one."""

from __future__ import annotations

import pytest
from conftest import app_test, no_exception

from lstm_viz.ui import first_run
from lstm_viz.ui.first_run import LEAN, SEEN, UNSHOWN, drawn_lean, lean_run, widgets

WHOLE = "Every unit over the whole sequence"      # the heatmaps' heading, below the live view


def subheaders(at) -> list[str]:
    return [s.value for s in at.subheader]


def diagrams(at) -> int:
    return sum('aria-label="cell diagram' in m.value for m in at.markdown)


@pytest.fixture
def browser(monkeypatch):
    """As if a browser had opened the session (its websocket request's headers are known)."""
    monkeypatch.setattr(first_run, "in_browser", lambda: True)


def test_only_a_browsers_first_run_of_a_page_that_allows_it_is_lean():
    state: dict = {}
    assert lean_run(True, state, browser=True) and drawn_lean(state)
    assert not lean_run(True, state, browser=True) and not drawn_lean(state)   # the second run
    assert not lean_run(True, {}, browser=False)                 # no browser: AppTest
    assert not lean_run(False, {}, browser=True)                 # a page that draws it all
    assert state[SEEN] is True and state[LEAN] is False


def test_a_lean_run_draws_no_widgets():
    assert widgets(True) is UNSHOWN and UNSHOWN.selectbox("Task", ["a"], key="x") is None
    import streamlit as st
    assert widgets(False) is st


def test_the_first_run_in_a_browser_draws_the_lesson_and_nothing_below(browser):
    at = app_test(query={"task": "brackets", "step": "3"}).run()
    no_exception(at)
    assert at.title and "LSTM" in at.title[0].value
    assert diagrams(at) == 1                                   # the lesson: the cell diagram
    assert any("Step 3 of" in m.value for m in at.markdown)
    assert WHOLE not in subheaders(at)                         # nothing below the live view
    assert not at.sidebar.selectbox and not at.sidebar.radio and not at.sidebar.number_input
    assert [s.value for s in at.sidebar.subheader] == ["Sequence", "Model", "View"]
    assert any(c.value.startswith("`nn.LSTM(") for c in at.sidebar.caption)
    assert at.session_state[LEAN] is True
    assert at.query_params["step"] == "3" and at.query_params["task"] == "brackets"


def test_the_next_run_draws_the_whole_page(browser):
    at = app_test(query={"task": "brackets", "step": "3", "unit": "99"}).run()
    assert at.session_state[LEAN] is True and not at.info     # the notice waits for it
    at.run()
    no_exception(at)
    assert at.session_state[LEAN] is False
    assert WHOLE in subheaders(at) and diagrams(at) == 1
    assert at.sidebar.selectbox(key="w_task").value == "brackets"
    assert at.sidebar.number_input(key="w_unit").value == 0
    assert any("unit 99 is past the end" in i.value for i in at.info)


def test_a_click_in_the_lean_page_draws_the_whole_page_at_the_new_step(browser):
    at = app_test(query={"task": "brackets", "step": "3"}).run()
    [nxt] = [b for b in at.button if b.proto.shortcut.lower() == "right"]
    nxt.click().run()
    no_exception(at)
    assert at.session_state["step"] == 4 and at.query_params["step"] == "4"
    assert WHOLE in subheaders(at) and any("Step 4 of" in m.value for m in at.markdown)
    assert at.sidebar.selectbox(key="w_task").value == "brackets"


def test_other_pages_are_never_lean(browser):
    at = app_test("pages/3_Units.py").run()
    no_exception(at)
    assert at.sidebar.selectbox(key="w_task") is not None
    assert at.session_state[LEAN] is False
