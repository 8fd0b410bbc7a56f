"""The one way the AppTest tests open the app (tests/ui/).

Helpers (in a test module below tests/: ``from conftest import open_page, ...``)
    app_test(page, query=, state=, timeout=)   the app, switched to ``page`` (e.g.
                                               "pages/5_Train.py"; None: the stepper), with
                                               these query parameters and session state; not run
    open_page(page, ...)                       the same, run once, with no exception
    no_exception(at)                           assert the last run raised nothing
    click(at, label)                           click the one button labelled ``label``, run again

The entrypoint is always app.py, switched to the page: the sidebar links every page relative to
it (``AppTest.from_file`` on a page alone cannot resolve those links).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def app_test(page: str | None = None, *, query: Mapping[str, str] | None = None,
             state: Mapping[str, Any] | None = None, timeout: float = 60) -> AppTest:
    """The app switched to ``page``, with ``query`` in its URL and ``state`` set; not run yet."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    for name, value in (state or {}).items():
        at.session_state[name] = value
    if page is not None:
        at.switch_page(page)
    return at


def no_exception(at: AppTest) -> None:
    """Fail with the exceptions' messages and stack traces if the last run raised."""
    assert not at.exception, "the app raised:\n" + "\n---\n".join(
        e.value + "\n" + "\n".join(e.stack_trace) for e in at.exception)


def open_page(page: str | None = None, *, query: Mapping[str, str] | None = None,
              state: Mapping[str, Any] | None = None, timeout: float = 60) -> AppTest:
    """The app switched to ``page``, after its first run (which raised nothing)."""
    at = app_test(page, query=query, state=state, timeout=timeout)
    at.run()
    no_exception(at)
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Click the one button labelled ``label`` and run the script again."""
    [button] = [b for b in at.button if b.label == label]
    button.click()
    at.run()
    no_exception(at)
    return at


def model_reading_typed_text(filename: str, data: bytes, text: str) -> AppTest:
    """What a user does to run their own model on their own text: upload the file on Your
    model, inspect it, open the stepper and type ``text`` as the sequence. Returns the stepper's
    AppTest after that run (which raised nothing)."""
    at = open_page("pages/4_Your_model.py")
    at.file_uploader(key="w_ym_upload").set_value((filename, data, "application/octet-stream"))
    at.run()
    no_exception(at)
    click(at, "Inspect this model")
    at.switch_page("app.py")
    at.run()
    at.radio(key="w_seq_source").set_value("upload").run()
    at.text_area(key="w_typed").set_value(text).run()
    no_exception(at)
    return at
