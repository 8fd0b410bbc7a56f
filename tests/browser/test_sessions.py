"""Two browser sessions at once see only their own uploads, steps and models (issue #6, item 3).

Two browser contexts (two independent Streamlit sessions) on the same server. A uploads a
23-step CSV, B a 31-step one, interleaved so that their reruns overlap on the server. Each must
show only its own file: the sidebar caption, the "Step N of M" heading, the input values at the
step, and the heatmaps (the figure inside the component iframe: its feature names and width).
A steps to 5 while B stays at 0; B's own reruns never bring in A's state; A switching to a
fresh model with 5 hidden units leaves B on the trained model; a third, new session sees
neither upload. Any console error, page error or HTTP error in any context fails the test.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lstm_viz.training.zoo import load_shipped

from .conftest import DEFAULT_TIMEOUT_MS, assert_no_exception, wait_for_app, wait_step_text

TIMEOUT_MS = 30_000            # the machine may be shared: generous, but every wait is bounded
HEADING = re.compile(r"Step (\d+) of (\d+)")
STEPPER = 'iframe[title*="lstm_viz_stepper"]'     # the stepper component draws the live view
A_STEPS, B_STEPS = 23, 31


def _write_csv(path: Path, names: tuple[str, str], steps: int, offset: float) -> Path:
    """Feature 0 is ``t + offset`` (so the value at a step names the file); feature 1 is -t/10."""
    rows = [",".join(names)] + [f"{t + offset},{-t / 10 + 0.0}" for t in range(steps)]
    path.write_text("\n".join(rows) + "\n")
    return path


class Session:
    """One browser context and page, with its console / page / HTTP errors collected."""

    def __init__(self, browser, server: str, name: str) -> None:
        self.name = name
        self.server = server
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console.error: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(
            f"HTTP {r.status}: {r.request.method} {r.url}"))

    # -- actions -----------------------------------------------------------------------------
    def open(self, path: str = "/?step=0") -> Session:
        """Open the app (by default a link to step 0: a first visit to "/" starts playing)."""
        self.page.goto(self.server + path)
        wait_for_app(self.page, TIMEOUT_MS)
        assert_no_exception(self.page)
        return self

    @property
    def sidebar(self):
        return self.page.locator('[data-testid="stSidebar"]')

    def choose_upload(self) -> None:
        self.sidebar.get_by_text("my file", exact=True).click()

    def upload(self, path: Path) -> None:
        self.page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(path))

    def button(self, text: str):       # the stepper component's controls (ui/stepper.py)
        loc = self.page.frame_locator(STEPPER).get_by_role("button", name=text, exact=True)
        expect(loc).to_have_count(1, timeout=TIMEOUT_MS)
        return loc

    def click_next(self) -> None:
        self.button("Next").click()

    def click_back(self) -> None:
        self.button("Back").click()

    def settle(self) -> None:
        wait_for_app(self.page, TIMEOUT_MS)
        assert_no_exception(self.page)

    # -- what it shows -------------------------------------------------------------------------
    def expect_step(self, step: int, last: int) -> None:
        expect(self.page.frame_locator(STEPPER).locator("#where")).to_have_text(
            f"Step {step} of {last}", timeout=TIMEOUT_MS)
        expect(self.page).to_have_url(re.compile(rf"[?&]step={step}(&|$)"), timeout=TIMEOUT_MS)

    def expect_file(self, name: str, steps: int) -> None:
        expect(self.sidebar).to_contain_text(f"{name}: {steps} steps × 2 features",
                                             timeout=TIMEOUT_MS)

    def expect_input(self, text: str) -> None:
        expect(self.page.frame_locator(STEPPER).locator("#context")).to_contain_text(
            f"Input x_t = {text}", timeout=TIMEOUT_MS)

    def text(self) -> str:
        return self.page.locator("body").inner_text()

    def model_code(self) -> str:
        code = self.sidebar.locator("code").filter(has_text="hidden_size")
        expect(code).to_have_count(1, timeout=TIMEOUT_MS)
        return code.inner_text()

    def heatmaps(self, want_names: set[str], timeout_s: float = 30.0) -> dict[str, list]:
        """name -> [type, columns, rows] of the figure in the heatmap iframe, once it holds the
        traces ``want_names`` (scrolled into view first: the iframe loads lazily)."""
        frame_el = self.page.locator('iframe[title*="lstm_viz_heatmaps"]')
        frame_el.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
        expect(frame_el).to_have_count(1, timeout=TIMEOUT_MS)
        js = """() => { const gd = document.getElementById('plot');
            if (!gd || !gd._fullData) return null;
            const out = {};
            gd._fullData.forEach(t => {
                const z = t.z;
                out[t.name] = [t.type, z ? (z[0] || []).length : (t.x || []).length,
                               z ? z.length : null];
            });
            return out; }"""
        deadline_ms = timeout_s * 1000
        waited = 0
        seen = None
        while waited <= deadline_ms:                       # bounded: timeout_s
            frame = next((f for f in self.page.frames if "lstm_viz_heatmaps" in f.url), None)
            if frame is not None:
                seen = frame.evaluate(js)
                if seen and want_names <= set(seen):
                    height = frame_el.evaluate("el => el.getBoundingClientRect().height")
                    if height > 50:
                        return seen
            self.page.wait_for_timeout(200)
            waited += 200
        raise AssertionError(f"{self.name}: heatmaps with {sorted(want_names)} not drawn in "
                             f"{timeout_s:.0f} s; the frame holds {seen}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def sessions(browser, server) -> Iterator[Callable[[str], Session]]:
    made: list[Session] = []

    def new(name: str) -> Session:
        made.append(Session(browser, server, name))
        return made[-1]

    try:
        yield new
        errors = [f"[{s.name}] {e}" for s in made for e in s.errors]
        if errors:
            pytest.fail("the browser reported errors:\n  " + "\n  ".join(errors), pytrace=False)
    finally:
        for s in made:
            s.close()


def test_two_sessions_see_only_their_own_uploads_steps_and_models(sessions, tmp_path):
    file_a = _write_csv(tmp_path / "session_a.csv", ("alpha", "beta"), A_STEPS, 0.25)
    file_b = _write_csv(tmp_path / "session_b.csv", ("gamma", "delta"), B_STEPS, -100.75)
    a, b = sessions("A").open(), sessions("B").open()

    # Both switch to "my file" and upload, interleaved: the two sessions' reruns overlap.
    a.choose_upload()
    b.choose_upload()
    a.settle()
    b.settle()
    a.upload(file_a)
    b.upload(file_b)
    a.expect_file("session_a.csv", A_STEPS)
    b.expect_file("session_b.csv", B_STEPS)
    a.settle()
    b.settle()
    a.expect_step(0, A_STEPS - 1)
    b.expect_step(0, B_STEPS - 1)
    a.expect_input("alpha 0.25, beta 0")
    b.expect_input("gamma -101, delta 0")
    for own, other in ((a, "session_b.csv"), (b, "session_a.csv")):
        assert other not in own.text(), f"{own.name} shows the other session's file"
    assert "alpha" not in b.text() and "gamma" not in a.text()

    # The heatmaps: each figure holds its own features and its own number of steps.
    ha = a.heatmaps({"alpha", "beta", "h"})
    hb = b.heatmaps({"gamma", "delta", "h"})
    assert not {"gamma", "delta"} & set(ha) and not {"alpha", "beta"} & set(hb), (ha, hb)
    assert ha["h"][:2] == ["heatmap", A_STEPS], ha
    assert hb["h"][:2] == ["heatmap", B_STEPS], hb

    # A steps to 5, one click at a time; B stays at step 0.
    for i in range(1, 6):
        a.click_next()
        a.expect_step(i, A_STEPS - 1)
    a.settle()
    a.expect_input("alpha 5.25, beta -0.5")
    b.page.wait_for_timeout(500)
    b.expect_step(0, B_STEPS - 1)
    b.expect_input("gamma -101, delta 0")

    # B's own reruns: its step moves from its own 0, never from A's 5; its file stays.
    b.click_next()
    b.expect_step(1, B_STEPS - 1)
    b.expect_input("gamma -99.8, delta -0.1")
    b.click_back()
    b.expect_step(0, B_STEPS - 1)
    b.settle()
    b.expect_file("session_b.csv", B_STEPS)
    assert "session_a.csv" not in b.text() and "alpha" not in b.text()
    a.expect_step(5, A_STEPS - 1)                           # and A is where it was
    a.expect_file("session_a.csv", A_STEPS)

    # Models: A takes fresh weights with 5 hidden units; B keeps the trained model.
    trained = load_shipped("brackets", "vanilla").recurrent().hidden_size
    assert trained != 5
    assert f"hidden_size={trained}" in a.model_code()
    a.sidebar.get_by_text("fresh random weights", exact=True).click()
    a.settle()
    set_hidden_units(a, 5)
    expect(a.sidebar).to_contain_text("fresh vanilla, 5 units", timeout=TIMEOUT_MS)
    assert "nn.LSTM(input_size=2, hidden_size=5)" in a.model_code()
    b.click_next()                                          # a rerun of B after A's change
    b.expect_step(1, B_STEPS - 1)
    b.settle()
    assert f"nn.LSTM(input_size=2, hidden_size={trained})" in b.model_code()
    expect(b.sidebar).to_contain_text("trained on brackets", timeout=TIMEOUT_MS)
    assert "fresh vanilla" not in b.text()
    assert a.heatmaps({"alpha", "h"})["h"][2] == 5          # 5 unit rows
    assert b.heatmaps({"gamma", "h"})["h"][2] == trained
    a.expect_file("session_a.csv", A_STEPS)

    # A third, new session sees neither upload nor A's model.
    c = sessions("C").open("/")                              # a first visit, no link
    expect(c.page.frame_locator(STEPPER).locator("#where")).to_have_text(HEADING,
                                                                         timeout=TIMEOUT_MS)
    body = c.text()
    for leaked in ("session_a.csv", "session_b.csv", "alpha", "gamma", "fresh vanilla"):
        assert leaked not in body, f"a new session shows {leaked!r}"
    assert f"hidden_size={trained}" in c.model_code()
    for s in (a, b, c):
        assert_no_exception(s.page)


def set_hidden_units(s: Session, value: int, max_presses: int = 40) -> None:
    """Move the sidebar's "Hidden units" slider to ``value`` with the keyboard (bounded)."""
    slider = s.sidebar.locator('[data-testid="stSlider"]').filter(has_text="Hidden units")
    thumb = slider.get_by_role("slider")
    shown = slider.locator('[data-testid="stSliderThumbValue"]')
    expect(thumb).to_have_count(1, timeout=TIMEOUT_MS)

    def now() -> int:
        return int(shown.inner_text().strip())

    thumb.focus()
    thumb.press("Home")                                      # the minimum, 1
    for _ in range(max_presses):
        if now() == value:
            break
        thumb.press("ArrowRight" if now() < value else "ArrowLeft")
    assert now() == value, f"the slider shows {now()}, not {value}"
    s.page.wait_for_timeout(300)                             # let the slider commit its value
    s.settle()


FIRST_VISITS = 3               # tabs that open "/" (a first visit: it starts playing) at once
AUTOPLAY_LIMIT_S = 45.0        # 40 steps at 10 a second take 4 s; this allows 10x for a slow box


def _heading_step(s: Session) -> int | None:
    loc = s.page.frame_locator(STEPPER).locator("#where")
    if loc.count() != 1:
        return None
    m = HEADING.search(loc.inner_text())
    return int(m.group(1)) if m else None


def test_tabs_playing_at_once_each_reach_the_end(sessions):
    """Four tabs press Play at about the same time; each plays its own sequence to the last step
    and stops there, paused, with the URL at that step (play is paced by each browser: a busy
    server slows it down, it never stalls it). A fifth visit, to "/", starts playing by itself."""
    tabs = [sessions(f"tab{k}").open(f"/?task={task}&step=0")
            for k, task in enumerate(("brackets", "brackets", "remember", "adding"))]
    lasts = []
    for s in tabs:
        text = wait_step_text(s.page, r"^Step \d+ of \d+$", TIMEOUT_MS)
        lasts.append(int(HEADING.search(text).group(2)))
    for s in tabs:
        s.button("Play").click()
    landing = sessions("landing").open("/")
    tabs.append(landing)
    lasts.append(int(HEADING.search(
        wait_step_text(landing.page, r"^Step \d+ of \d+$", TIMEOUT_MS)).group(2)))
    deadline = time.monotonic() + 120                       # bounded: 40 steps at 10 a second
    done: dict[str, int] = {}
    while len(done) < len(tabs) and time.monotonic() < deadline:
        for s, last in zip(tabs, lasts, strict=True):
            if s.name not in done and _heading_step(s) == last:
                done[s.name] = last
        tabs[0].page.wait_for_timeout(250)
    seen = {s.name: _heading_step(s) for s in tabs}
    assert len(done) == len(tabs), f"not every tab reached its last step: {seen}, lasts {lasts}"
    for s, last in zip(tabs, lasts, strict=True):
        expect(s.button("Play")).to_be_visible(timeout=TIMEOUT_MS)     # stopped, paused
        s.expect_step(last, last)
        s.settle()
