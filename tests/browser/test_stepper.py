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


def step_heading(page) -> tuple[int, int]:
    """(step, last) from the live view's "Step N of M" heading."""
    loc = page.locator("h4").filter(has_text=HEADING)
    expect(loc).to_have_count(1, timeout=TIMEOUT_MS)
    m = HEADING.search(loc.inner_text())
    assert m, loc.inner_text()
    return int(m.group(1)), int(m.group(2))


def expect_step(page, step: int, last: int) -> None:
    expect(page.locator("h4").filter(has_text=HEADING)).to_have_text(
        f"Step {step} of {last}", timeout=TIMEOUT_MS)


def wait_for_step(page, at_least: int, timeout_s: float = 10.0) -> int:
    """Wait until the heading's step reaches ``at_least`` (playing); return the step seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        step = step_heading(page)[0]
        if step >= at_least or time.monotonic() > deadline:
            return step
        page.wait_for_timeout(100)


def main_button(page, text: str, *, without: str | None = None):
    """A button of the main area whose text contains ``text`` (and not ``without``)."""
    loc = page.locator('[data-testid="stMain"]').get_by_role("button").filter(has_text=text)
    if without:
        loc = loc.filter(has_not_text=without)
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


def test_start_page_step_buttons_keyboard_and_play(page, server):
    open_page(page, server + "/?step=0")
    last = _last("brackets")
    expect(page.locator("h1")).to_contain_text("Step through")
    assert step_heading(page) == (0, last)
    expect(page).to_have_url(re.compile(r"[?&]step=0(&|$)"))
    expect(sidebar(page)).to_contain_text(f"{last + 1} steps")

    main_button(page, "▶", without="Play").click()
    wait_for_app(page)
    expect_step(page, 1, last)
    expect(page).to_have_url(re.compile(r"[?&]step=1(&|$)"))

    page.locator("h1").click()                       # focus out of the button
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    expect_step(page, 2, last)
    expect(page).to_have_url(re.compile(r"[?&]step=2(&|$)"))

    page.keyboard.press("ArrowLeft")
    wait_for_app(page)
    expect_step(page, 1, last)
    page.keyboard.press("End")
    wait_for_app(page)
    expect_step(page, last, last)
    expect(page).to_have_url(re.compile(rf"[?&]step={last}(&|$)"))
    page.keyboard.press("Home")
    wait_for_app(page)
    expect_step(page, 0, last)
    assert_no_exception(page)

    # Play: the step advances by itself (10 steps a second when the machine is not overloaded).
    main_button(page, "Play").click()
    expect(main_button(page, "Pause")).to_be_visible()
    time.sleep(1.5)
    now = wait_for_step(page, 3)
    assert 3 <= now < last, f"played from 0 to {now}"
    expect(page).to_have_url(re.compile(r"[?&]step=([1-9]\d*)(&|$)"))
    main_button(page, "Pause").click()
    wait_for_app(page)
    assert_no_exception(page)


def slider_value(page) -> int:
    """The value the step slider shows (its thumb label)."""
    step_slider = page.locator('[data-testid="stMain"] [data-testid="stSlider"]').filter(
        has_not_text="steps/s")                       # not the play speed beside the buttons
    thumb = step_slider.locator('[data-testid="stSliderThumbValue"]')
    expect(thumb).to_have_count(1)
    return int(thumb.inner_text().strip())


def test_controls_stay_in_step_through_play_and_pause(page, server):
    open_page(page, server + "/?step=0")
    start, last = step_heading(page)
    assert slider_value(page) == start
    main_button(page, "Play").click()
    expect(main_button(page, "Pause")).to_be_visible()
    time.sleep(1.5)
    before = wait_for_step(page, start + 3)
    assert before >= start + 3, f"did not play: {start} -> {before}"
    shown = slider_value(page)
    assert abs(shown - step_heading(page)[0]) <= 2, (
        f"while playing, the slider shows {shown} and the heading step {before}")
    main_button(page, "Pause").click()
    expect(main_button(page, "Play")).to_be_visible(timeout=5_000)
    wait_for_app(page)
    time.sleep(0.8)                                  # let any queued tick or rerun land
    wait_for_app(page)
    stopped = step_heading(page)[0]
    assert before <= stopped < last, f"Pause at step {before} shows step {stopped}"
    assert slider_value(page) == stopped
    time.sleep(0.6)
    assert step_heading(page)[0] == stopped, "the step still moves after Pause"
    expect(page).to_have_url(re.compile(rf"[?&]step={stopped}(&|$)"))
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
    main_button(page, "▶", without="Play").click()
    wait_for_app(page)
    expect_step(page, 1, N_2F - 1)

    page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(BAD))
    error = sidebar(page).locator('[data-testid="stAlertContentError"]')
    expect(error).to_contain_text(BAD.name, timeout=TIMEOUT_MS)
    expect(error).to_contain_text("oops")
    expect(error).to_contain_text("not a number")
    wait_for_app(page)
    expect(sidebar(page)).to_contain_text(caption)          # the previous file stays loaded
    expect_step(page, 1, N_2F - 1)
    assert_no_exception(page)


CURSOR_JS = """() => {
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
    return {cursors: out, x: [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)],
            plotlyCursors: (gd.layout.shapes || []).filter(s => /^cursor/.test(s.name)).length};
}"""


def heatmap_frame(page):
    frame_el = page.locator('iframe[title*="lstm_viz_heatmaps"]')
    frame_el.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if "lstm_viz_heatmaps" in f.url), None)
        if frame is not None and frame.evaluate(CURSOR_JS):
            return frame
        page.wait_for_timeout(200)
    raise AssertionError("the heatmaps were not drawn in 30 s")


def cursor_at(page, frame, step: int) -> dict:
    """Wait until every cursor element is centred on ``step``; return what the frame holds."""
    deadline = time.monotonic() + 10
    while True:
        seen = frame.evaluate(CURSOR_JS)
        want = seen["x"][step]
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
    main_button(page, "Next").click()
    wait_for_app(page)
    cursor_at(page, frame, 3)
    page.keyboard.press("End")                           # a move of many steps at once
    main_button(page, "«").click()
    wait_for_app(page)
    cursor_at(page, frame, 0)
