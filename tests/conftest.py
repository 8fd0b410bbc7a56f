"""Helpers shared by the AppTest page tests (tests/ui/test_page_*.py).

Helpers (in a test module of this folder: ``from conftest import click, open_page``)
    open_page(page)    the app in AppTest, switched to ``page`` (e.g. "pages/5_Train.py") and run
    click(at, label)   click the one button labelled ``label`` and run again

Both assert that the run raised no exception.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

APP = "../app.py"  # resolved against this file by AppTest.from_file


def open_page(page: str) -> AppTest:
    """The app switched to ``page``, after its first run."""
    # The entrypoint is app.py (the sidebar links to it), switched to this page.
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Click the one button labelled ``label`` and run the script again."""
    [button] = [b for b in at.button if b.label == label]
    button.click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
