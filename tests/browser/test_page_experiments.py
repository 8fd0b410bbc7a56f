"""The Experiments page in a real browser: a deep link holding the brackets depth unit opens
with every section drawn, the URL keeps the experiment, and no console error (the ``page``
fixture fails at teardown on any)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import assert_no_exception, wait_for_app

TIMEOUT_MS = 60_000
MAIN = '[data-testid="stMain"]'


def test_deep_link_holds_the_depth_unit(server, page):
    page.goto(f"{server}/Experiments?task=brackets&ablate=c:4:mean:all")
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    assert_no_exception(page)
    main = page.locator(MAIN)
    expect(main.locator("h1", has_text="Experiments")).to_have_count(1)
    expect(main.get_by_text("c of unit 4 held at its mean over every step")).to_be_visible(
        timeout=TIMEOUT_MS)
    for header in ("Surgery", "Rank units", "Attribution", "Counterfactual", "Connectivity"):
        expect(main.locator("h2", has_text=header)).to_have_count(1)
    charts = main.locator('[data-testid="stPlotlyChart"]')
    charts.nth(5).locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    expect(main.locator('[data-testid="stException"]')).to_have_count(0)
    expect(main.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert "ablate=c%3A4%3Amean%3Aall" in page.url or "ablate=c:4:mean:all" in page.url


def test_bad_link_is_a_notice(server, page):
    page.goto(f"{server}/Experiments?task=brackets&ablate=c:99:zero:all&attr=nope:3")
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    assert_no_exception(page)
    main = page.locator(MAIN)
    expect(main.get_by_text("does not exist", exact=False).first).to_be_visible(
        timeout=TIMEOUT_MS)
    expect(main.get_by_text("is not valid here", exact=False).first).to_be_visible()
    expect(main.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


def test_click_a_bar_holds_that_unit(server, page):
    page.goto(f"{server}/Experiments?task=brackets&ablate=c:4:mean:all")
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    main = page.locator(MAIN)
    bars = main.locator('[data-testid="stPlotlyChart"]').nth(2)
    bar = bars.locator(".barlayer .trace").first.locator(".point").nth(1)
    bar.wait_for(timeout=TIMEOUT_MS)
    bar.scroll_into_view_if_needed()
    bar.click(force=True)
    expect(main.get_by_text("c of unit 1 held at its mean over every step")).to_be_visible(
        timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    assert_no_exception(page)
    expect(page).to_have_url(re.compile(r"ablate=c(%3A|:)1(%3A|:)mean"), timeout=TIMEOUT_MS)


def test_several_holds_a_box_and_the_held_mark(server, page):
    """Issue #14: add a hold to a link's two, drag a box on the "before" heatmap to set its
    steps and units, and the after diagram tags the held value; no console error."""
    page.goto(f"{server}/Experiments?task=brackets&ablate=c:4:mean:all;i:0,1:zero:5-9")
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    main = page.locator(MAIN)
    expect(main.get_by_text("i of units 0, 1 held at 0 over steps 5–9")).to_be_visible(
        timeout=TIMEOUT_MS)
    main.get_by_role("button", name="Add a hold").click()
    # the new hold is on the unit in focus: brackets opens on its counting unit, 4
    expect(page).to_have_url(re.compile(r"ablate=c(%3A|:)4(%3A|:)mean(%3A|:)all(%3B|;)i.*"
                                        r"(%3B|;)c(%3A|:)4(%3A|:)mean(%3A|:)all"),
                             timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    heat = main.locator('[data-testid="stPlotlyChart"]').first
    drag = heat.locator(".nsewdrag").first
    drag.wait_for(timeout=TIMEOUT_MS)
    drag.scroll_into_view_if_needed()
    b = drag.bounding_box()
    page.mouse.move(b["x"] + 0.2 * b["width"], b["y"] + 0.15 * b["height"])
    page.mouse.down()
    page.mouse.move(b["x"] + 0.3 * b["width"], b["y"] + 0.4 * b["height"], steps=8)
    page.mouse.move(b["x"] + 0.4 * b["width"], b["y"] + 0.6 * b["height"], steps=8)
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"(%3B|;)c(%3A|:)[0-9,-]+(%3A|:)mean(%3A|:)\d+-\d+$"),
                             timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    after = main.locator('svg[aria-label$="after the holds"]')
    expect(after).to_have_count(1, timeout=TIMEOUT_MS)
    expect(after.locator("text", has_text="held at").first).to_be_visible()  # c, maybe i too
    expect(main.locator('svg[aria-label$="before the holds"] text',
                        has_text="held at")).to_have_count(0)


def test_type_a_pattern_to_track(server, page):
    """Issue #14: typing a pattern tracks it, with the probe per layer beside its control."""
    page.goto(f"{server}/Experiments?task=brackets")
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    main = page.locator(MAIN)
    box = main.get_by_role("textbox", name="Pattern")
    box.scroll_into_view_if_needed()
    box.fill("(")
    box.press("Enter")
    expect(main.get_by_text("follows pattern ( best", exact=False)).to_be_visible(
        timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    expect(main.get_by_text("A linear probe per layer", exact=False)).to_be_visible()
    expect(main.locator('[data-testid="stPlotlyChart"]').last.locator(".barlayer .trace")
           ).to_have_count(2, timeout=TIMEOUT_MS)
    assert_no_exception(page)
    expect(main.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
