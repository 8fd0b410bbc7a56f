"""Failures become one sentence and lose nothing; user text in links and files shows literally.

AppTest (issue #11, items 2 and 5): a query value with markdown in it, a CSV whose header is a
link, a MemoryError inside a page's analysis and inside the sidebar's tracing.
"""

from __future__ import annotations

import re
import sys

import pytest
from conftest import app_test, no_exception
from streamlit.testing.v1 import AppTest

import lstm_viz.training.zoo
import lstm_viz.ui.sidebar  # noqa: F401  (lstm_viz.ui.sidebar is also the name of a function)
import lstm_viz.workbench
from lstm_viz.ui.failures import MEMORY, message, shown_as_message

SIDEBAR = sys.modules["lstm_viz.ui.sidebar"]
TEXT_KINDS = ("title", "subheader", "markdown", "caption", "info", "error", "warning", "success")


def open_app(**params: str) -> AppTest:
    return app_test(query=params).run()


def shown(at: AppTest) -> list[str]:
    """The markdown source of every element that renders markdown, main area and sidebar."""
    return [e.value for kind in TEXT_KINDS for e in getattr(at, kind)]


def live_markdown(text: str) -> list[str]:
    """Pieces of ``text`` that markdown would turn into a link or an image: an unescaped
    bracket, or a bare https:// URL (GFM links those)."""
    brackets = re.findall(r"(?<!\\)[\[\]]", text)
    return brackets + re.findall(r"https?://\S+", text)


def assert_literal(at: AppTest, needle: str) -> list[str]:
    """Some element shows ``needle``'s text, and no element with it has live link syntax."""
    found = [t for t in shown(at) if needle in t]
    assert found, f"nothing shows {needle!r}: {shown(at)}"
    for text in found:
        assert not live_markdown(text), f"live markdown in {text!r}"
    return found


# --------------------------------------------------------------------------- the helper itself


def test_message_sentences():
    assert message(MemoryError(), "x") == MEMORY
    assert message(ValueError("secret internals"), "comparing the variants") == (
        "Something went wrong while comparing the variants; the rest of the app still works. "
        "Try another input, or reload the page.")


def test_shown_as_message_lets_streamlit_control_flow_through():
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    with pytest.raises(StopException), shown_as_message("x"):
        raise StopException()


# --------------------------------------------------------------------------- links


def test_query_value_with_bold_and_a_link_shows_literally():
    at = open_app(task="**x** [a](https://e.com)")
    no_exception(at)
    [notice] = assert_literal(at, "e.com")
    assert "\\*\\*x\\*\\* \\[a\\](https\u2060://e.com)" in notice
    assert at.session_state["task"] == "brackets"          # fell back to the default


def test_query_value_with_an_image_shows_literally():
    at = open_app(task="![](https://e.com/p.png)")
    no_exception(at)
    [notice] = assert_literal(at, "p.png")
    assert "!\\[\\](" in notice


def test_huge_query_value_is_clipped():
    at = open_app(task="x" * 100_000)
    no_exception(at)
    [notice] = [t for t in shown(at) if "xxxx" in t]
    assert len(notice) < 300


def test_csv_header_that_is_a_link_shows_literally():
    at = open_app(step="0")
    at.radio(key="w_seq_source").set_value("upload").run()
    data = "[x](https://evil.example),second\n" + "".join(
        f"{t},{-t}\n" for t in range(6))
    at.file_uploader(key="w_upload").set_value(("[a](https://evil.example).csv",
                                                data.encode(), "text/csv")).run()
    no_exception(at)
    assert at.session_state["seq_source"] == "upload", [e.value for e in at.error]
    assert_literal(at, "evil.example")                 # file name caption, input line
    assert [t for t in shown(at) if "Input x_t" in t and "\\[x\\]" in t]


# --------------------------------------------------------------------------- memory


def test_memory_error_in_the_compare_analysis_is_one_sentence_and_the_next_run_works(
        monkeypatch):
    real = lstm_viz.training.zoo.load_shipped

    def no_memory(task: str, variant: str):
        if variant == "peephole":
            raise MemoryError("Unable to allocate 3.2 GiB for an array")
        return real(task, variant)

    at = open_app(step="0")
    monkeypatch.setattr(lstm_viz.training.zoo, "load_shipped", no_memory)
    at.switch_page("pages/1_Compare_variants.py").run()
    no_exception(at)
    assert MEMORY in [e.value for e in at.error]
    assert not at.get("plotly_chart")                  # the section stopped there
    monkeypatch.setattr(lstm_viz.training.zoo, "load_shipped", real)
    at.run()
    no_exception(at)
    assert not at.error
    assert at.get("plotly_chart")


def test_memory_error_building_your_model_keeps_the_file(monkeypatch):
    import io

    import torch
    from torch import nn

    at = app_test("pages/4_Your_model.py").run()
    buf = io.BytesIO()
    torch.save(nn.LSTM(2, 4).state_dict(), buf)
    import lstm_viz.ui.your_model_view as view  # where the page builds the model

    monkeypatch.setattr(view, "model_from_file",
                        lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    at.file_uploader(key="w_ym_upload").set_value(("lstm.pt", buf.getvalue(),
                                                   "application/octet-stream")).run()
    no_exception(at)
    assert MEMORY in [e.value for e in at.error]
    assert at.session_state["ym_file"]["name"] == "lstm.pt"
    monkeypatch.undo()
    at.run()
    no_exception(at)
    assert not at.error
    assert at.table                                    # the configuration and tensors


def test_memory_error_tracing_an_upload_falls_back_and_the_next_upload_works(monkeypatch):
    real = SIDEBAR.run

    def no_memory(model, seq):
        if seq.length == 37:                           # the upload below only
            raise MemoryError()
        return real(model, seq)

    monkeypatch.setattr(SIDEBAR, "run", no_memory)
    at = open_app(step="0")
    at.radio(key="w_seq_source").set_value("upload").run()
    # Content no other test uploads: its trace is not in the process-wide cache.
    big = "p,q\n" + "".join(f"{t / 7:.5f},{(t * 13) % 11 / 3:.5f}\n" for t in range(37))
    at.file_uploader(key="w_upload").set_value(("big.csv", big.encode(), "text/csv")).run()
    no_exception(at)
    assert [e for e in at.sidebar.error if e.value.startswith(MEMORY)]
    assert at.session_state["uploaded_sequence"] is None    # never kept: it cannot be traced
    at.run()                                               # the next run does not fail on it
    no_exception(at)
    assert not at.sidebar.error
    other = "a,b\n" + "".join(f"{t / 3:.4f},{t / 5:.4f}\n" for t in range(9))
    at.file_uploader(key="w_upload").set_value(("nine.csv", other.encode(), "text/csv")).run()
    no_exception(at)
    assert at.session_state["uploaded_sequence"].length == 9
    assert not at.error


def test_memory_error_drawing_the_stepper_heatmaps_keeps_the_live_view(monkeypatch):
    import lstm_viz.plots.heatmaps

    def no_memory(*args, **kwargs):
        raise MemoryError()

    real = lstm_viz.plots.heatmaps.quantity_heatmaps
    monkeypatch.setattr(lstm_viz.plots.heatmaps, "quantity_heatmaps", no_memory)
    at = open_app(step="2")
    no_exception(at)
    assert MEMORY in [e.value for e in at.error]
    assert any(m.value.startswith("#### Step 2 of") for m in at.markdown)   # drawn before
    monkeypatch.setattr(lstm_viz.plots.heatmaps, "quantity_heatmaps", real)
    at.run()
    no_exception(at)
    assert not at.error
    assert at.session_state["_heatmaps"]


def test_failure_in_the_units_analysis_is_one_sentence_without_internals(monkeypatch):
    import lstm_viz.analysis

    def broken(*args, **kwargs):
        raise KeyError("internal detail 42")

    monkeypatch.setattr(lstm_viz.analysis, "saturation", broken)
    at = open_app(step="0")
    at.switch_page("pages/3_Units.py").run()
    no_exception(at)
    [error] = [e.value for e in at.error]
    assert error.startswith("Something went wrong while measuring the gate saturation")
    assert "internal detail" not in error
    monkeypatch.undo()
    at.run()
    no_exception(at)
    assert not at.error and at.get("plotly_chart")
