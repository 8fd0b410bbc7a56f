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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60.0
DEFAULT_TIMEOUT_MS = 30_000

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Conftest hooks see every collected item: mark only the ones in this folder.
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_path() -> Path:
    app = Path(os.environ.get("LSTM_VIZ_APP", "app.py"))
    return app if app.is_absolute() else REPO / app


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no output>"
    return "\n".join(text.splitlines()[-lines:]) or "<empty>"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # proc.pid leads its own process group
        proc.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    app = _app_path()
    if not app.is_file():
        pytest.fail(f"Streamlit app not found: {app} (set LSTM_VIZ_APP to override)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        str(REPO / ".venv" / "bin" / "python")
        if (REPO / ".venv" / "bin" / "python").exists()
        else sys.executable,
        "-m", "streamlit", "run", str(app),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
    ]  # fmt: skip
    logdir = Path(tempfile.mkdtemp(prefix="lstm-viz-server-"))
    out_path, err_path = logdir / "stdout.log", logdir / "stderr.log"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,  # so that .streamlit/config.toml applies
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"Streamlit exited with code {proc.returncode} during startup.\n"
                    f"--- stderr tail ---\n{_tail(err_path)}\n"
                    f"--- stdout tail ---\n{_tail(out_path)}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Streamlit did not answer {base}/_stcore/health within "
                    f"{STARTUP_TIMEOUT_S:.0f} s.\n"
                    f"--- stderr tail ---\n{_tail(err_path)}\n"
                    f"--- stdout tail ---\n{_tail(out_path)}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield base
    finally:
        _stop(proc)
        shutil.rmtree(logdir, ignore_errors=True)


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
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


# --------------------------------------------------------------------------- page

# Opening a sub-page URL directly (e.g. /Gates) makes Streamlit's frontend probe
# /Gates/_stcore/health and /Gates/_stcore/host-config first; both 404 and are harmless.
# Exempt exactly those two paths below a sub-page path that the page actually opened.
_PROBES = ("_stcore/health", "_stcore/host-config")
_FAILED_404 = "Failed to load resource: the server responded with a status of 404"


def _is_subpage_probe(url: str, base: str, opened_paths: set[str]) -> bool:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != base or parts.query:
        return False
    return any(
        parts.path == f"{opened.rstrip('/')}/{probe}"
        for opened in opened_paths
        if opened.strip("/")  # a sub-page, not the root
        for probe in _PROBES
    )


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
        if msg.text.startswith(_FAILED_404) and _is_subpage_probe(url, server, opened_paths):
            pg.ignored_errors.append(entry)
        else:
            pg.console_errors.append(entry)

    def on_pageerror(exc) -> None:
        pg.console_errors.append(f"pageerror: {exc}")

    def on_response(resp) -> None:
        if resp.status < 400:
            return
        entry = f"HTTP {resp.status}: {resp.request.method} {resp.url}"
        if resp.status == 404 and _is_subpage_probe(resp.url, server, opened_paths):
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


# --------------------------------------------------------------------------- helpers

_APP_DONE = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
    ':is([data-test-script-state="notRunning"], [data-test-script-state="compilationError"])'
)
_RUNNING = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
_MAIN_RENDERED = '[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]'


def wait_for_app(page, timeout_ms: int = DEFAULT_TIMEOUT_MS, settle_ms: int = 300) -> None:
    """Wait until Streamlit finished running the script and the main block has rendered.

    The app must look finished (connected, script not running, no "Running" status widget,
    main block present) for ``settle_ms`` in a row, so a rerun that a click starts a few
    milliseconds later is not mistaken for the end of it.
    """
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    js = f"""() => !!document.querySelector({_APP_DONE!r})
                   && !document.querySelector({_RUNNING!r})
                   && !!document.querySelector({_MAIN_RENDERED!r})"""
    deadline = time.monotonic() + timeout_ms / 1000
    done_since: float | None = None
    while True:
        now = time.monotonic()
        if page.evaluate(js):
            done_since = done_since if done_since is not None else now
            if now - done_since >= settle_ms / 1000:
                return
        else:
            done_since = None
        if now > deadline:
            state = page.evaluate(
                """() => { const a = document.querySelector('[data-testid="stApp"]');
                           return a ? [a.dataset.testScriptState, a.dataset.testConnectionState]
                                    : null; }"""
            )
            raise TimeoutError(
                f"Streamlit app not finished after {timeout_ms} ms "
                f"(stApp script/connection state: {state})"
            )
        page.wait_for_timeout(50)


def assert_no_exception(page) -> None:
    """Fail if Streamlit rendered an exception box (``st.exception`` or an uncaught error)."""
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        texts = "\n---\n".join(t.strip() for t in boxes.all_inner_texts())
        raise AssertionError(f"Streamlit shows {boxes.count()} exception(s):\n{texts}")
