"""The projector view in a real browser (issue #15): a back row can read it.

On a 1280 px screen, the stepper with ``projector=1`` against the same URL without it: computed
font sizes of the body text, the headings (h1, the step heading h4), a widget label, a text of
the cell diagram (as drawn: the SVG scales to its container) and a tick label of the heatmaps
are at least 1.5 times larger; the sidebar is collapsed (and opens again); no two x tick
labels of a heatmap overlap. The ``page`` fixture fails on any console error.
"""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import assert_no_exception, stepper_shown, wait_for_app, wait_step_text

TIMEOUT_MS = 60_000
URL = "/?task=brackets&variant=vanilla&step=5"
FACTOR = 1.5

# Each measure: the computed font size (px) of the first visible element that matches, as drawn
# (the step heading and the diagram are measured in the stepper's frame: _STEPPER_JS).
_MEASURE_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const size = (el) => el ? parseFloat(getComputedStyle(el).fontSize) : null;
  const visible = (el) => el && el.getBoundingClientRect().width > 0;
  const first = (sel) => Array.from(main.querySelectorAll(sel)).find(visible) || null;
  const body = Array.from(main.querySelectorAll('[data-testid="stMarkdownContainer"] p'))
    .find(p => visible(p) && p.innerText.trim().length > 20);
  const side = document.querySelector('[data-testid="stSidebar"]');
  const sideBox = side ? side.getBoundingClientRect() : null;
  return {body: size(body), h1: size(first('h1')),
          label: size(first('[data-testid="stWidgetLabel"] p')),
          sidebar: side ? {expanded: side.getAttribute('aria-expanded'),
                           right: sideBox.right, width: sideBox.width} : null};
}"""


# In the heatmaps' component frame: the largest tick label font, the x tick labels' boxes.
_TICKS_JS = """() => {
  const labels = Array.from(document.querySelectorAll('.xtick text, .ytick text'));
  const size = (el) => parseFloat(getComputedStyle(el).fontSize);
  if (!document.querySelector('.heatmaplayer') || !labels.length) return null;
  const xticks = Array.from(document.querySelectorAll('.xaxislayer-above .xtick text'))
    .map(t => t.getBoundingClientRect()).filter(r => r.width > 0)
    .map(r => [r.left, r.top, r.right, r.bottom]);
  return {tick: Math.max(...labels.map(size)), xticks};
}"""


# In the stepper component's frame: the step heading and the diagram's largest text, as drawn.
_STEPPER_JS = """() => {
  const size = (el) => el ? parseFloat(getComputedStyle(el).fontSize) : null;
  const svg = document.querySelector('#diagram svg');
  let diagram = null;
  if (svg) {
    const texts = Array.from(svg.querySelectorAll('text')).filter(
      t => t.textContent.trim().length > 0);
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    diagram = Math.max(...texts.map(t => size(t) * scale));
  }
  return {h4: size(document.getElementById('where')), diagram};
}"""


def heatmap_ticks(page) -> dict:
    """The ticks of the heatmaps, once the component has drawn them."""
    for _ in range(120):
        frame = next((f for f in page.frames if "lstm_viz_heatmaps" in f.url), None)
        shown = frame.evaluate(_TICKS_JS) if frame is not None else None
        if shown:
            return shown
        page.wait_for_timeout(500)
    raise AssertionError("the heatmaps were not drawn in 60 s")


def open_stepper(page, url: str) -> dict:
    page.goto(url)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    assert_no_exception(page)
    wait_step_text(page, r"^Step 5 of", TIMEOUT_MS)
    ticks = heatmap_ticks(page)
    page.wait_for_timeout(500)             # the sidebar's collapse transition
    shown = {**page.evaluate(_MEASURE_JS), **ticks}
    frame = stepper_shown(page)            # the browser stepper draws the step and diagram
    assert frame is not None, "the browser stepper was not shown"
    shown.update(frame.evaluate(_STEPPER_JS))
    return shown


def overlapping(boxes: list[list[float]]) -> list[tuple[int, int]]:
    """Pairs of boxes (left, top, right, bottom) that overlap (by more than a hair)."""
    return [(a, b) for a in range(len(boxes)) for b in range(a + 1, len(boxes))
            if min(boxes[a][2], boxes[b][2]) - max(boxes[a][0], boxes[b][0]) > 0.5
            and min(boxes[a][3], boxes[b][3]) - max(boxes[a][1], boxes[b][1]) > 0.5]


def test_projector_fonts_sidebar_and_ticks(page, server):
    page.set_viewport_size({"width": 1280, "height": 800})
    plain = open_stepper(page, server + URL)
    big = open_stepper(page, server + URL + "&projector=1")
    for name in ("body", "h1", "h4", "label", "diagram", "tick"):
        assert plain[name] and big[name], (name, plain[name], big[name])
        assert big[name] >= FACTOR * plain[name] - 0.01, (name, plain[name], big[name])
    assert big["body"] >= 24
    # without the projector the sidebar is open; with it, collapsed (off the screen)
    assert plain["sidebar"]["width"] > 200 and plain["sidebar"]["right"] > 200
    assert big["sidebar"]["width"] < 1 or big["sidebar"]["right"] <= 1
    # no two x tick labels overlap, with the projector or without
    for shown in (plain, big):
        assert len(shown["xticks"]) >= 3
        assert overlapping(shown["xticks"]) == [], shown["xticks"]
    # the sidebar still opens
    page.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"]'
                 ' button').first.click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]')"
                           ".getBoundingClientRect().right > 200", timeout=TIMEOUT_MS)
    toggle = page.locator('[data-testid="stSidebar"]').get_by_text("Projector view")
    toggle.scroll_into_view_if_needed()
    expect(toggle).to_be_in_viewport()
    assert page.console_errors == []
