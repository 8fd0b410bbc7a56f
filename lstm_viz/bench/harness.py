"""The browser harness shared by the benchmarks and ``tests/browser``: a live server, Chromium.

- ``Server``: ``streamlit run app.py`` on a free 127.0.0.1 port in its own process group (nothing
  else is contacted), waited for until ``/_stcore/health`` answers; ``stop()`` ends the group.
- ``launch_chromium``: Debian's ``/usr/bin/chromium`` through playwright (``playwright install``
  cannot download browsers here), headless, with the flags below.
- ``wait_for_app`` / ``wait_for_app_async``: until the script run finished and the main block
  rendered, for a short settle time in a row (a rerun that a click starts a few ms later is not
  mistaken for the end of it).
- ``assert_no_exception``: no ``stException`` box on the page.
- ``is_subpage_probe``: the two 404s of Streamlit's own when a sub-page URL is opened directly.
- ``rss_mb`` / ``cpu_s``: a process's memory and CPU from ``/proc``.
- ``wait_heatmaps_drawn_async`` / ``zoom_window_shown_async``: the heatmaps' figure drawn (over
  given steps); the landing page's zoom window, as captioned and as drawn.
- ``probe_page_async``: the page's responsiveness; ``set_sidebar_slider_async``: a sidebar
  slider moved with the keyboard.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
STARTUP_TIMEOUT_S = 90.0
HEADING = re.compile(r"Step (\d+) of (\d+)")   # the stepper's heading
DEFAULT_TIMEOUT_MS = 30_000

_APP_DONE = ('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
             ':is([data-test-script-state="notRunning"],'
             ' [data-test-script-state="compilationError"])')
_RUNNING = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
_MAIN = '[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]'
DONE_JS = (f"() => !!document.querySelector({_APP_DONE!r}) && "
           f"!document.querySelector({_RUNNING!r}) && !!document.querySelector({_MAIN!r})")
STATE_JS = ("() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
            " return a ? [a.dataset.testScriptState, a.dataset.testConnectionState] : null; }")


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS of /proc/<pid>/status); nan if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Server:
    """``streamlit run`` on 127.0.0.1 in its own process group; ``stop()`` ends that group.

    Raises ``RuntimeError`` (with the log's tail) when it exits or does not answer within
    ``startup_s``. ``memory_cap`` (bytes) limits the server's address space (RLIMIT_AS), as a
    host with that much memory would. Usable as a context manager.
    """

    def __init__(self, app: Path = APP, extra: list[str] | None = None,
                 startup_s: float = STARTUP_TIMEOUT_S, memory_cap: int | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logdir = Path(tempfile.mkdtemp(prefix="lstm-viz-server-"))
        self.out_log, self.err_log = self.logdir / "out.log", self.logdir / "err.log"
        root = app.resolve().parent        # the checkout the app is in (``--against``)
        python = REPO / ".venv" / "bin" / "python"
        cmd = [str(python if python.exists() else sys.executable), "-m", "streamlit", "run",
               str(app), "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--server.headless", "true", *(extra or [])]
        def cap() -> None:  # in the child: a server with at most this much address space
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

        with open(self.out_log, "wb") as out, open(self.err_log, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=root,  # so that .streamlit/config.toml applies
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True,
                                         preexec_fn=cap if memory_cap else None,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + startup_s
        while True:                                   # bounded by startup_s
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode} during "
                                   f"startup:\n{tail}")
            try:
                with urllib.request.urlopen(self.base + "/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"streamlit did not answer {self.base}/_stcore/health within "
                                   f"{startup_s:.0f} s:\n{tail}")
            time.sleep(0.25)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def rss(self) -> float:
        return rss_mb(self.proc.pid)

    def log_tail(self, n: int = 40) -> str:
        """The last ``n`` lines of the server's stderr and stdout."""
        parts = []
        for path in (self.err_log, self.out_log):
            try:
                parts.append(path.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join("\n".join(parts).splitlines()[-n:]) or "<no output>"

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # proc.pid leads its own group
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.logdir, ignore_errors=True)


# --------------------------------------------------------------------------- the browser


def launch_chromium(chromium):
    """``playwright.chromium`` (sync or async API) launched on Debian's Chromium, headless."""
    return chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_for_app(page, timeout_ms: int = DEFAULT_TIMEOUT_MS, settle_ms: int = 300) -> None:
    """Until the script run finished and the main block rendered, ``settle_ms`` in a row
    (playwright's sync API)."""
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    since: float | None = None
    while True:                                       # bounded by timeout_ms
        now = time.monotonic()
        if page.evaluate(DONE_JS):
            since = now if since is None else since
            if now - since >= settle_ms / 1000:
                return
        else:
            since = None
        if now > deadline:
            raise TimeoutError(f"Streamlit app not finished after {timeout_ms} ms "
                               f"(stApp script/connection state: {page.evaluate(STATE_JS)})")
        page.wait_for_timeout(50)


async def wait_for_app_async(page, timeout_s: float, settle_s: float = 0.2) -> None:
    """``wait_for_app`` for playwright's async API (the load benchmarks)."""
    deadline = time.monotonic() + timeout_s
    since = None
    while True:                                       # bounded by timeout_s
        now = time.monotonic()
        if await page.evaluate(DONE_JS):
            since = now if since is None else since
            if now - since >= settle_s:
                return
        else:
            since = None
        if now > deadline:
            raise TimeoutError(f"app not finished after {timeout_s:.0f} s")
        await asyncio.sleep(0.05)


def assert_no_exception(page) -> None:
    """Fail if Streamlit rendered an exception box (``st.exception`` or an uncaught error)."""
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        texts = "\n---\n".join(t.strip() for t in boxes.all_inner_texts())
        raise AssertionError(f"Streamlit shows {boxes.count()} exception(s):\n{texts}")


# Opening a sub-page URL directly (e.g. /Units) makes Streamlit's frontend probe
# /Units/_stcore/health and /Units/_stcore/host-config first; both 404 and are harmless.
_PROBES = ("_stcore/health", "_stcore/host-config")
FAILED_404 = "Failed to load resource: the server responded with a status of 404"


def is_subpage_probe(url: str, base: str, opened_paths: set[str]) -> bool:
    """True for exactly those two 404s below a sub-page path that the page opened."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != base or parts.query:
        return False
    return any(
        parts.path == f"{opened.rstrip('/')}/{probe}"
        for opened in opened_paths
        if opened.strip("/")  # a sub-page, not the root
        for probe in _PROBES
    )


# --------------------------------------------------------------------------- the stepper component

# The landing page's live view (step controls, "Step N of M", input line, cell diagram) is drawn
# in a custom component iframe once it has mounted (lstm_viz/ui/stepper.py); the server-rendered
# view (h4 "Step N of M", "Next ▶") remains only until then.
STEPPER = 'iframe[title*="lstm_viz_stepper"]'
STEPPER_SHOWN_JS = "() => document.getElementById('root').style.display === 'block'"
STEPPER_PROBE_JS = ("() => window.lstmVizStepper ? Object.assign({}, window.lstmVizStepper)"
                    " : null")
_STEP_TEXT_JS = ("() => { const s = Array.from(document.querySelectorAll('h4'))"
                 ".map(e => e.innerText).filter(t => /^Step \\d+ of \\d+/.test(t)); "
                 "return s.length ? s[0] : null; }")


async def stepper_frame_async(page, timeout_s: float):
    """The stepper component's frame once it is shown, or None after ``timeout_s`` (not mounted:
    the server-rendered view is the one drawn)."""
    deadline = time.monotonic() + timeout_s
    while True:                                       # bounded by timeout_s
        frame = next((f for f in page.frames if "lstm_viz_stepper" in f.url), None)
        try:
            if frame is not None and await frame.evaluate(STEPPER_SHOWN_JS):
                return frame
        except Exception:                             # the frame is being replaced
            pass
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.05)


async def wait_step_text_async(page, want: str, timeout_s: float) -> str:
    """Until "Step N of M" reads ``want``, in the component when it is shown, else in the
    server-rendered h4; returns which one showed it ("component" or "server")."""
    deadline = time.monotonic() + timeout_s
    seen = None
    while True:                                       # bounded by timeout_s
        frame = next((f for f in page.frames if "lstm_viz_stepper" in f.url), None)
        try:
            if frame is not None and await frame.evaluate(STEPPER_SHOWN_JS):
                seen = await frame.evaluate("() => document.getElementById('where').textContent")
                if seen == want:
                    return "component"
            else:
                seen = await page.evaluate(_STEP_TEXT_JS)
                if seen == want:
                    return "server"
        except Exception:                             # a frame is being replaced
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the step heading did not read {want!r} within {timeout_s:.0f} s"
                               f" (saw {seen!r})")
        await asyncio.sleep(0.05)


async def sample_rss(server: Server, peak: list[float], stop: asyncio.Event) -> None:
    """Keep ``peak[0]`` at the server's largest RSS (MB) until ``stop`` is set."""
    while not stop.is_set():                          # ends when the run ends
        peak[0] = max(peak[0], server.rss)
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.25)
        except TimeoutError:
            pass


async def one_probe(browser, base: str, timeout_s: float) -> None:
    """Open the app in a fresh context and close it (a warm-up, or to let the server reap)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = await context.new_page()
        await page.goto(base + "/", timeout=timeout_s * 1000)
        await wait_for_app_async(page, timeout_s)
    finally:
        await context.close()


# --------------------------------------------------------------------------- the heatmaps, the page

HEATMAPS = 'iframe[title*="lstm_viz_heatmaps"]'
HEATMAP_FIGURE_JS = """() => { const gd = document.getElementById('plot');
    if (!gd || !gd._fullData || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
    const h = gd._fullData.filter(t => t.type === 'heatmap');
    return {traces: gd._fullData.length, heatmaps: h.length,
            cols: h.length ? (h[0].z[0] || []).length : 0,
            x_range: gd._fullLayout.xaxis.range}; }"""


async def wait_heatmaps_drawn_async(page, frame_el, timeout_s: float, steps: int,
                                    x0: float = 0) -> dict:
    """Until the heatmap iframe (``frame_el``) has a height and plotly drew in it the figure of
    ``steps`` steps from step ``x0`` (its step axis spans [x0 - 0.5, x0 + steps - 0.5]); the
    figure's summary. ``TimeoutError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    seen = None
    while time.monotonic() < deadline:                # bounded
        frame = next((f for f in page.frames if "lstm_viz_heatmaps" in f.url), None)
        if frame is not None:
            try:
                seen = await frame.evaluate(HEATMAP_FIGURE_JS)
            except Exception:                         # the frame is being replaced
                seen = None
            height = await frame_el.evaluate("el => el.getBoundingClientRect().height")
            span = seen and seen["x_range"] and seen["x_range"][1] - seen["x_range"][0]
            if seen and height > 50 and span and abs(span - steps) < 1 and (
                    abs(seen["x_range"][0] + 0.5 - x0) < 1):
                seen["iframe_px"] = height
                return seen
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the heatmaps were not drawn within {timeout_s:.0f} s (saw {seen})")


async def probe_page_async(page, times: list[float], stop: asyncio.Event) -> None:
    """``page.evaluate("1+1")`` every 100 ms until ``stop``; its round trip in ms goes to
    ``times`` (a 10 s cap marks a frozen tab)."""
    while not stop.is_set():                          # ends with the part it watches
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(page.evaluate("1+1"), timeout=10)
            times.append((time.perf_counter() - t0) * 1e3)
        except TimeoutError:
            times.append(10_000.0)
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.1)
        except TimeoutError:
            pass


async def set_sidebar_slider_async(page, sidebar, label: str, value: int,
                                   timeout_s: float) -> None:
    """Move the sidebar slider labelled ``label`` to ``value`` with the keyboard (a bounded
    number of key presses), then wait for the app."""
    slider = sidebar.locator('[data-testid="stSlider"]').filter(has_text=label)
    thumb = slider.get_by_role("slider")
    shown = slider.locator('[data-testid="stSliderThumbValue"]')

    async def now() -> int:
        return int((await shown.inner_text()).strip())

    await thumb.focus()
    pages = True                                      # PageUp / PageDown: bigger steps, if any
    for _ in range(300):
        cur = await now()
        if cur == value:
            break
        if pages and abs(value - cur) >= 10:
            await thumb.press("PageUp" if cur < value else "PageDown")
            after = await now()
            if after == cur or (after - value) * (cur - value) < 0:   # none, or overshot
                pages = False
            continue
        await thumb.press("ArrowRight" if cur < value else "ArrowLeft")
    if await now() != value:
        raise RuntimeError(f"the {label} slider shows {await now()}, not {value}")
    await page.wait_for_timeout(400)
    await wait_for_app_async(page, timeout_s)


# the caption under the zoom toggle of the landing page (app.py)
ZOOM_CAPTION_JS = ("() => { const e = Array.from(document.querySelectorAll('p')).find("
                   "p => /^Window \\d+–\\d+ around/.test(p.innerText)); "
                   "return e ? e.innerText : null; }")


async def zoom_window_shown_async(page, timeout_s: float, steps: int,
                                  away_from: tuple[int, int] | None = None) -> dict:
    """The landing page's zoom window of the heatmaps (a sequence of ``steps`` steps), once it
    is not ``away_from`` (bounded): ``window``, its caption's (lo, hi) ("Window lo–hi around
    the current step."), and ``drawn``, the first and last steps the heatmaps draw once their
    figure starts at lo (None, with ``error``, if it does not)."""
    deadline = time.monotonic() + timeout_s
    window = seen = None
    while time.monotonic() < deadline:                # bounded
        text = await page.evaluate(ZOOM_CAPTION_JS)
        m = re.search(r"Window (\d+)–(\d+) around", text or "")
        window = (int(m[1]), int(m[2])) if m else None
        if window is not None and window != away_from:
            break
        await asyncio.sleep(0.1)
    else:
        return {"window": window, "drawn": None,
                "error": f"the caption read {window} for {timeout_s:.0f} s"}
    while time.monotonic() < deadline:                # bounded
        frame = next((f for f in page.frames if "lstm_viz_heatmaps" in f.url), None)
        try:
            seen = frame and await frame.evaluate(HEATMAP_FIGURE_JS)
        except Exception:                             # the frame is being replaced
            seen = None
        x = seen and seen["x_range"]
        if x and abs(x[0] + 0.5 - window[0]) < 1 and x[1] - x[0] < steps - 1:
            return {"window": window, "drawn": (round(x[0] + 0.5), round(x[1] - 0.5))}
        await asyncio.sleep(0.2)
    return {"window": window, "drawn": None,
            "error": f"no figure from step {window[0]} drawn within {timeout_s:.0f} s "
                     f"(saw {seen})"}
