"""Fixtures for real-browser tests: a live Streamlit server and headless Chromium.

Every test in this folder is marked ``browser`` automatically.

Fixtures
    server   session-scoped; starts ``streamlit run`` on a free port, yields the base URL
             ("http://127.0.0.1:PORT"). The app file is ``$LSTM_VIZ_APP`` (default ``app.py``,
             relative to the repo root or absolute).
    browser  session-scoped Playwright Chromium (Debian's /usr/bin/chromium). Skipped when it
             is missing, except when $CI is set (CI=true), where that is an error.
    page     a fresh context + page per test. ``page.console_errors`` collects console errors,
             uncaught page errors and HTTP responses >= 400; teardown asserts it is empty.
             The only exemption: Streamlit's own 404s for ``<subpage>/_stcore/health`` and
             ``<subpage>/_stcore/host-config`` when a sub-page URL is opened directly (they
             are kept in ``page.ignored_errors``).

Helpers (in a test module of this folder: ``from .conftest import wait_for_app, ...``)
    wait_for_app(page)          wait until the script run finished and the app rendered
    assert_no_exception(page)   no ``stException`` element on the page
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lstm_viz.bench.harness import (  # noqa: F401  (re-exported for the test modules)
    CHROMIUM,
    DEFAULT_TIMEOUT_MS,
    FAILED_404,
    REPO,
    STARTUP_TIMEOUT_S,
    Server,
    assert_no_exception,
    is_subpage_probe,
    launch_chromium,
    wait_for_app,
)

_HERE = Path(__file__).resolve().parent


def _app_path() -> Path:
    app = Path(os.environ.get("LSTM_VIZ_APP", "app.py"))
    return app if app.is_absolute() else REPO / app


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Conftest hooks see every collected item: mark only the ones in this folder.
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    app = _app_path()
    if not app.is_file():
        pytest.fail(f"Streamlit app not found: {app} (set LSTM_VIZ_APP to override)")
    try:
        srv = Server(app)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with srv:
        yield srv.base


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing (Debian: apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw.chromium)
        try:
            yield b
        finally:
            b.close()


# --------------------------------------------------------------------------- page

@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    pg = context.new_page()
    pg.console_errors = []  # unexpected: fail the test at teardown
    pg.ignored_errors = []  # the two exempt Streamlit sub-page 404s, kept for inspection
    opened_paths: set[str] = set()  # paths of every URL the main frame showed

    def on_framenavigated(frame) -> None:
        if frame == pg.main_frame:
            opened_paths.add(urlsplit(frame.url).path)

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        entry = f"console.error: {msg.text}" + (f" [at {url}]" if url else "")
        if msg.text.startswith(FAILED_404) and is_subpage_probe(url, server, opened_paths):
            pg.ignored_errors.append(entry)
        else:
            pg.console_errors.append(entry)

    def on_pageerror(exc) -> None:
        pg.console_errors.append(f"pageerror: {exc}")

    def on_response(resp) -> None:
        if resp.status < 400:
            return
        entry = f"HTTP {resp.status}: {resp.request.method} {resp.url}"
        if resp.status == 404 and is_subpage_probe(resp.url, server, opened_paths):
            pg.ignored_errors.append(entry)
        else:
            pg.console_errors.append(entry)

    pg.on("framenavigated", on_framenavigated)
    pg.on("console", on_console)
    pg.on("pageerror", on_pageerror)
    pg.on("response", on_response)
    try:
        yield pg
        if pg.console_errors:
            pytest.fail(
                "the browser reported errors during the test:\n  " + "\n  ".join(pg.console_errors),
                pytrace=False,
            )
    finally:
        context.close()


# --------------------------------------------------------------------------- the stepper
STEPPER = 'iframe[title*="lstm_viz_stepper"]'


def stepper_shown(page):
    """The browser stepper's frame once it is shown (it then draws the step, the input line,
    the values and the diagram), else None (the server-rendered view is still up)."""
    frame = next((f for f in page.frames if "lstm_viz_stepper" in f.url), None)
    try:
        if frame is not None and frame.evaluate(
                "() => document.getElementById('root').style.display === 'block'"):
            return frame
    except Exception:               # the frame is being replaced
        return None
    return None


def wait_step_text(page, pattern: str, timeout_ms: int = 30_000) -> str:
    """Wait until the step heading ("Step N of M") matches the regex ``pattern`` in whichever
    view draws it (the browser stepper, or the server's heading before the stepper is shown);
    return the heading."""
    import re
    import time

    want = re.compile(pattern)
    deadline = time.monotonic() + timeout_ms / 1000
    seen = ""
    while time.monotonic() < deadline:
        frame = stepper_shown(page)
        try:
            if frame is not None:
                seen = frame.locator("#where").inner_text(timeout=1_000)
            else:
                heads = page.locator('[data-testid="stMain"] h4').all_inner_texts()
                seen = next((h for h in heads if h.startswith("Step ")), "")
        except Exception:
            seen = ""
        if want.search(seen):
            return seen
        page.wait_for_timeout(100)
    raise AssertionError(f"no step heading matching {pattern!r} (last seen: {seen!r})")


def step_view_text(page) -> str:
    """The text of the view that draws the step (the stepper's frame, else the main area)."""
    frame = stepper_shown(page)
    if frame is not None:
        return frame.locator("#root").inner_text()
    return page.locator('[data-testid="stMain"]').inner_text()
