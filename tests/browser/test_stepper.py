"""The "Step through" page in a real browser: links, step buttons, keyboard, play, uploads.

Every test also fails at teardown on any console error (the ``page`` fixture).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import expect

from lstm_viz.training.tasks import TASKS

from .conftest import assert_no_exception, wait_for_app

DATA = Path(__file__).resolve().parents[1] / "data" / "app"
GOOD_2F = DATA / "walk_2f.csv"           # a header, then one row of 2 numbers per step
N_2F = len(GOOD_2F.read_text().strip().splitlines()) - 1
BAD = DATA / "bad_cell.csv"              # row 3 holds "oops"
HEADING = re.compile(r"Step (\d+) of (\d+)")
TIMEOUT_MS = 15_000


def _last(task: str) -> int:
    return TASKS[task].example(seed=0).length - 1


STEPPER = 'iframe[title*="lstm_viz_stepper"]'
PROBE_JS = "() => window.lstmVizStepper ? Object.assign({}, window.lstmVizStepper) : null"


def stepper_frame(page):
    """The stepper component's frame, once it is shown (the server-rendered view left out)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if "lstm_viz_stepper" in f.url), None)
        if frame is not None and frame.evaluate(
                "() => document.getElementById('root').style.display === 'block'"):
            return frame
        page.wait_for_timeout(100)
    raise AssertionError("the stepper component was not shown")


def probe(page) -> dict:
    return stepper_frame(page).evaluate(PROBE_JS)


def step_heading(page) -> tuple[int, int]:
    """(step, last) from the component's "Step N of M"."""
    text = stepper_frame(page).locator("#where").inner_text()
    m = HEADING.search(text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def expect_step(page, step: int, last: int, timeout: int = TIMEOUT_MS) -> None:
    expect(page.frame_locator(STEPPER).locator("#where")).to_have_text(
        f"Step {step} of {last}", timeout=timeout)


def wait_for_step(page, at_least: int, timeout_s: float = 10.0) -> int:
    """Wait until the step reaches ``at_least`` (playing); return the step seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        step = step_heading(page)[0]
        if step >= at_least or time.monotonic() > deadline:
            return step
        page.wait_for_timeout(50)


def stepper_button(page, name: str):
    loc = page.frame_locator(STEPPER).get_by_role("button", name=name, exact=True)
    expect(loc).to_have_count(1, timeout=TIMEOUT_MS)
    return loc


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    assert_no_exception(page)


def test_links_deep_and_invalid(page, server):
    open_page(page, server + "/?task=remember&variant=cifg&step=7&unit=3")
    assert step_heading(page) == (7, _last("remember"))
    expect(page.get_by_role("radio", name="cifg", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="vanilla", exact=True)).not_to_be_checked()
    expect(sidebar(page).get_by_label(re.compile("^Unit in focus"))).to_have_value("3")
    expect(sidebar(page)).to_contain_text(f"{_last('remember') + 1} steps")
    expect(page.get_by_role("alert").filter(has_text=re.compile("not valid|past the end"))
           ).to_have_count(0)
    for part in ("task=remember", "variant=cifg", "step=7", "unit=3"):
        assert part in page.url

    # An invalid link falls back with a notice, never an exception.
    open_page(page, server + "/?variant=bogus&step=99999")
    expect(page.get_by_text(re.compile("bogus"))).to_have_count(1)
    expect(page.get_by_text(re.compile("99999"))).to_have_count(1)
    expect(page.get_by_role("radio", name="vanilla", exact=True)).to_be_checked()
    step, last = step_heading(page)
    assert 0 <= step <= last == _last("brackets")
    assert "bogus" not in page.url and "99999" not in page.url


def test_the_play_speed_goes_from_a_link_to_the_select_and_back_to_the_url(page, server):
    open_page(page, server + "/?step=4&speed=2")
    select = stepper_frame(page).locator("#speed")
    expect(select).to_have_value("2")
    expect(select.locator("option:checked")).to_have_text("2 steps/s")
    assert "speed=2" in page.url
    select.select_option(label="5 steps/s")
    expect(page).to_have_url(re.compile(r"[?&]speed=5(&|$)"), timeout=5_000)
    wait_for_app(page)
    expect(select).to_have_value("5")                    # the server's rerun leaves it
    expect(page).to_have_url(re.compile(r"[?&]step=4(&|$)"))
    assert_no_exception(page)


def count_sent(page) -> list[int]:
    """A one-item list counting the websocket frames the page sends to the server from now."""
    sent = [0]
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)))
    return sent


def test_start_page_step_buttons_keyboard_and_play(page, server):
    sent = count_sent(page)
    open_page(page, server + "/?step=0")
    last = _last("brackets")
    expect(page.locator("h1")).to_contain_text("Step through")
    assert step_heading(page) == (0, last)
    expect(page).to_have_url(re.compile(r"[?&]step=0(&|$)"))
    expect(sidebar(page)).to_contain_text(f"{last + 1} steps")
    wait_for_app(page)
    page.wait_for_timeout(500)

    # A step is drawn in the browser, with no message to the server (it hears it 250 ms later).
    before = sent[0]
    stepper_button(page, "Next").click()
    expect_step(page, 1, last, timeout=200)
    assert sent[0] == before, "Next sent a message to the server at once"
    expect(page).to_have_url(re.compile(r"[?&]step=1(&|$)"))   # ... then the URL follows

    page.locator("h1").click()                       # the keys work with the page focused
    before = sent[0]
    for k in (2, 3, 4):
        page.keyboard.press("ArrowRight")
        expect_step(page, k, last, timeout=200)
    assert sent[0] == before, "the keys sent messages to the server before the debounce"
    page.keyboard.press("ArrowLeft")
    expect_step(page, 3, last, timeout=200)
    expect(page).to_have_url(re.compile(r"[?&]step=3(&|$)"))
    page.keyboard.press("End")
    expect_step(page, last, last, timeout=200)
    expect(page).to_have_url(re.compile(rf"[?&]step={last}(&|$)"))
    page.keyboard.press("Home")
    expect_step(page, 0, last, timeout=200)
    assert probe(page)["latencies"], "no key press -> drawn latency recorded"
    wait_for_app(page)
    assert_no_exception(page)

    # Play: the step advances by itself, with no server round trip.
    stepper_button(page, "Play").click()
    expect(stepper_button(page, "Pause")).to_be_visible()
    now = wait_for_step(page, 5)
    assert 5 <= now <= last, f"played from 0 to {now}"
    stepper_button(page, "Pause").click()
    stopped = step_heading(page)[0]
    page.wait_for_timeout(400)
    assert step_heading(page)[0] == stopped, "the step still moves after Pause"
    expect(page).to_have_url(re.compile(rf"[?&]step={stopped}(&|$)"))   # heard on pause
    wait_for_app(page)
    page.wait_for_timeout(500)
    assert step_heading(page)[0] == stopped, "the server's echo moved the step"
    assert_no_exception(page)


def test_one_diagram_and_the_input_line_marks_the_step_by_style(page, server):
    open_page(page, server + "/?task=brackets&step=5")
    frame = stepper_frame(page)
    wait_for_app(page)
    # exactly one diagram: the component's, none drawn by the server beside it
    assert page.locator('svg[aria-label^="cell diagram"]').count() == 0
    assert frame.locator('svg[aria-label^="cell diagram"]').count() == 1
    expect(frame.locator('svg[aria-label^="cell diagram"]')).to_have_attribute(
        "aria-label", re.compile("at step 5$"))
    expect(page.locator("h4").filter(has_text=HEADING)).to_have_count(0)
    line = frame.locator("#context")
    text = line.inner_text()
    assert "**" not in text and "[" not in text, text
    chars = TASKS["brackets"].example(seed=0).labels
    now = line.locator(".now")
    expect(now).to_have_count(1)
    assert now.inner_text() == chars[5]
    colour = now.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
    # the pause label fits its button; no emoji (a box in Debian's Chromium)
    play = stepper_button(page, "Play")
    assert play.evaluate("e => e.scrollWidth <= e.clientWidth"), play.inner_text()
    assert re.fullmatch(r"[\x20-\x7e]*", play.inner_text().strip()), play.inner_text()


def test_play_follows_the_url_and_heatmap_cursor(page, server):
    open_page(page, server + "/?task=sine&step=0")
    last = step_heading(page)[1]
    frame = heatmap_frame(page)
    stepper_frame(page).locator("#speed").select_option("30")
    stepper_button(page, "Play").click()
    t0 = time.monotonic()
    now = wait_for_step(page, 30)
    rate = now / (time.monotonic() - t0)
    assert now >= 30, f"played to {now} only"
    stepper_button(page, "Pause").click()
    stopped = step_heading(page)[0]
    assert stopped < last or rate > 0
    cursor_at(page, frame, stopped)                     # the cursor followed the browser's step
    expect(page).to_have_url(re.compile(rf"[?&]step={stopped}(&|$)"))
    wait_for_app(page)
    assert step_heading(page)[0] == stopped
    assert_no_exception(page)


def test_upload_good_then_bad_file(page, server):
    open_page(page, server + "/?step=0")
    sidebar(page).get_by_text("my file", exact=True).click()
    wait_for_app(page)
    expect(sidebar(page)).to_contain_text("No file loaded yet")

    page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(GOOD_2F))
    caption = f"{GOOD_2F.name}: {N_2F} steps × 2 features"
    expect(sidebar(page)).to_contain_text(caption, timeout=TIMEOUT_MS)
    wait_for_app(page)
    expect_step(page, 0, N_2F - 1)
    stepper_button(page, "Next").click()
    expect_step(page, 1, N_2F - 1)
    expect(page).to_have_url(re.compile(r"[?&]step=1(&|$)"))
    wait_for_app(page)

    page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(BAD))
    error = sidebar(page).locator('[data-testid="stAlertContentError"]')
    expect(error).to_contain_text(BAD.name, timeout=TIMEOUT_MS)
    expect(error).to_contain_text("oops")
    expect(error).to_contain_text("not a number")
    wait_for_app(page)
    expect(sidebar(page)).to_contain_text(caption)          # the previous file stays loaded
    expect_step(page, 1, N_2F - 1)
    assert_no_exception(page)


CURSOR_JS = """(step) => {
    const gd = document.getElementById('plot');
    if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
    const xa = gd._fullLayout.xaxis;
    const out = {};
    document.querySelectorAll('#cursor .cursor').forEach(el => {
        const r = el.getBoundingClientRect();
        out[el.dataset.name] = {mid: (r.left + r.right) / 2, width: r.width, height: r.height,
                                shown: getComputedStyle(el).display !== 'none'};
    });
    const at = s => xa._offset + xa.l2p(s);
    return {cursors: out, x: at(step),
            plotlyCursors: (gd.layout.shapes || []).filter(s => /^cursor/.test(s.name)).length};
}"""


def heatmap_frame(page):
    frame_el = page.locator('iframe[title*="lstm_viz_heatmaps"]')
    frame_el.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if "lstm_viz_heatmaps" in f.url), None)
        if frame is not None and frame.evaluate(CURSOR_JS, 0):
            return frame
        page.wait_for_timeout(200)
    raise AssertionError("the heatmaps were not drawn in 30 s")


def cursor_at(page, frame, step: int) -> dict:
    """Wait until every cursor element is centred on ``step``; return what the frame holds."""
    deadline = time.monotonic() + 10
    while True:
        seen = frame.evaluate(CURSOR_JS, step)
        want = seen["x"]
        if seen["cursors"] and all(c["shown"] and abs(c["mid"] - want) <= 1.5
                                   for c in seen["cursors"].values()):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"cursor not at step {step} (x {want:.1f}): {seen['cursors']}")
        page.wait_for_timeout(100)


def test_heatmap_cursor_follows_the_step_line_and_character_box(page, server):
    """The cursor over the heatmaps (its line, its halo, and on text input the line above the
    characters and the box around the current one) moves with the step, drawn over the plot."""
    open_page(page, server + "/?task=brackets&step=2")
    frame = heatmap_frame(page)
    seen = cursor_at(page, frame, 2)
    assert {"cursor", "cursor_halo", "cursor_box"} <= set(seen["cursors"]), seen["cursors"]
    assert seen["plotlyCursors"] == 0                   # plotly itself draws none of them
    assert seen["cursors"]["cursor_box"]["width"] > seen["cursors"]["cursor"]["width"]
    assert seen["cursors"]["cursor"]["height"] > 100
    stepper_button(page, "Next").click()                # moved by the browser, no server
    cursor_at(page, frame, 3)
    page.keyboard.press("End")                           # a move of many steps at once
    stepper_button(page, "First").click()
    cursor_at(page, frame, 0)
    wait_for_app(page)
    cursor_at(page, frame, 0)                            # the URL's step, when it lands, agrees


# --------------------------------------------------------------------------- a long sequence

LONG = 2_400            # steps: over app.py's LONG_SEQUENCE (2,000), so the zoom toggle shows
SETTLED_KB = 30         # websocket bytes the page may receive per settled step


def load_long(page, server, tmp_path) -> int:
    """Open the page and load a CSV of LONG steps × 2 features; return the last step."""
    csv = tmp_path / "long_walk.csv"
    t = range(LONG)
    csv.write_text("a,b\n" + "".join(f"{(i % 37) / 37:.4f},{(i % 11) / 11:.4f}\n" for i in t))
    open_page(page, server + "/?step=0")
    sidebar(page).get_by_text("my file", exact=True).click()
    wait_for_app(page)
    page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(csv))
    expect(sidebar(page)).to_contain_text(f"{LONG:,} steps × 2 features", timeout=60_000)
    expect_step(page, 0, LONG - 1, timeout=60_000)
    wait_for_app(page)
    return LONG - 1


def received_bytes(page) -> list[int]:
    """A one-item list summing the websocket payloads the page receives (register before
    opening the page: only websockets opened from now are counted)."""
    got = [0]
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda p: got.__setitem__(0, got[0] + len(p))))
    return got


def test_a_settled_step_sends_only_a_few_kb_and_a_remount_asks_for_the_payload(
        page, server, tmp_path):
    """The window of per-step strings (~300 kB) goes to the component once per window: a step
    that settles, a pause, reruns the live view and sends the window's key alone."""
    got = received_bytes(page)
    last = load_long(page, server, tmp_path)
    page.wait_for_timeout(500)
    page.locator("h1").click()
    clicks = 3
    got[0] = 0
    for k in range(1, clicks + 1):
        page.keyboard.press("ArrowRight")
        expect_step(page, k, last)
        expect(page).to_have_url(re.compile(rf"[?&]step={k}(&|$)"))   # the server heard it
        wait_for_app(page)
    per_step = got[0] / 1024 / clicks
    assert 0 < per_step < SETTLED_KB, f"{per_step:.1f} kB a settled step"

    stepper_button(page, "Play").click()                 # play, then pause: heard on pause
    wait_for_step(page, clicks + 3)
    got[0] = 0
    stepper_button(page, "Pause").click()
    stopped = step_heading(page)[0]
    expect(page).to_have_url(re.compile(rf"[?&]step={stopped}(&|$)"))
    wait_for_app(page)
    assert got[0] / 1024 < SETTLED_KB, f"{got[0] / 1024:.1f} kB for a pause"

    # The component's frame mounted again (same session): it lacks the payload and asks for it.
    stepper_frame(page).evaluate("() => location.reload()")
    page.wait_for_timeout(300)
    expect_step(page, stopped, last)
    expect(page.frame_locator(STEPPER).locator("#diagram svg")).to_have_count(1)
    assert 1 <= probe(page)["asked"] <= 2               # asked, and not again and again
    stepper_button(page, "Next").click()
    expect_step(page, stopped + 1, last)
    assert_no_exception(page)


def test_the_zoom_window_follows_the_step_taken_in_the_stepper(page, server, tmp_path):
    last = load_long(page, server, tmp_path)
    page.get_by_text("Zoom into a window at full resolution").click()
    wait_for_app(page)
    expect(page.get_by_text("Window 0–500 around the current step.")).to_be_visible()
    page.locator("h1").click()
    page.keyboard.press("ArrowRight")                  # inside the window: it stays
    expect(page).to_have_url(re.compile(r"[?&]step=1(&|$)"))
    wait_for_app(page)
    expect(page.get_by_text("Window 0–500 around the current step.")).to_be_visible()
    page.keyboard.press("End")                          # far outside: the window follows
    expect_step(page, last, last)
    expect(page.get_by_text(f"Window {last - 500}–{last} around the current step.")
           ).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(page)
    page.keyboard.press("Home")
    expect(page.get_by_text("Window 0–500 around the current step.")
           ).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(page)

    # Play past the stepper's window (it asks for the next at step ~200: a whole-page rerun
    # then): play goes on through it, and the zoom window follows on pause.
    stepper_frame(page).locator("#speed").select_option("60")
    stepper_button(page, "Play").click()
    now = wait_for_step(page, 320, timeout_s=20)
    assert now >= 320, f"played to {now} only"
    assert probe(page)["playing"], "play stopped at the stepper's window edge"
    stepper_button(page, "Pause").click()
    stopped = step_heading(page)[0]
    expect(page).to_have_url(re.compile(rf"[?&]step={stopped}(&|$)"))
    wait_for_app(page)
    assert step_heading(page)[0] == stopped, "the whole-page rerun moved the step"
    m = re.search(r"Window (\d+)–(\d+) around", page.get_by_text(
        re.compile(r"^Window \d+–\d+ around")).inner_text())
    assert m and int(m.group(1)) <= stopped <= int(m.group(2)) and int(m.group(2)) > 500, m
    assert_no_exception(page)
