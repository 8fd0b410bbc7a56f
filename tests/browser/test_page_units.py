"""The "Units" page in a real browser: a deep link, the saturation scatter, and the two ways to
the stepper (a click on a point, the "Open in the stepper" button).

Every test also fails at teardown on any console error (the ``page`` fixture).
"""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import expect

from lstm_viz.analysis import saturation
from lstm_viz.plots.saturation import merged_points
from lstm_viz.workbench import ModelChoice, build_model, example_sequence, run

from .conftest import assert_no_exception, wait_for_app

TIMEOUT_MS = 30_000
MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'


def reference(task: str = "brackets", variant: str = "vanilla"):
    seq = example_sequence(task, seed=0)
    return saturation(run(build_model(ModelChoice("trained", task, variant), seq.n_features),
                          seq))


def open_units(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, timeout_ms=60_000)
    assert_no_exception(page)
    expect(page.locator("h1", has_text="Units")).to_have_count(1)


def scatter(page):
    """The saturation scatter, once plotly has drawn its points."""
    chart = page.locator(f'{MAIN} [data-testid="stPlotlyChart"]').first
    chart.locator(".scatterlayer .trace .points path").first.wait_for(timeout=TIMEOUT_MS)
    return chart


def expect_stepper(page, unit: int, step: int | None = None) -> None:
    page.wait_for_url(re.compile(rf"/\?.*unit={unit}\b"), timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=60_000)
    assert_no_exception(page)
    expect(page.locator("h1", has_text="Step through an LSTM")).to_have_count(1)
    expect(page.locator(SIDEBAR).get_by_label(re.compile("^Unit in focus"))).to_have_value(
        str(unit), timeout=TIMEOUT_MS)
    if step is not None:
        # the stepper component draws "Step N of M" (ui/stepper.py)
        expect(page.frame_locator('iframe[title*="lstm_viz_stepper"]').locator("#where")
               ).to_contain_text(f"Step {step} of", timeout=TIMEOUT_MS)


def test_deep_link_renders_the_scatter_and_the_search(page, server):
    open_units(page, server + "/Units?task=brackets&variant=vanilla&step=18")
    sat = reference()
    chart = scatter(page)
    # a panel per gate, a marker per spot where its units are (units on one spot merged)
    markers = sum(len(merged_points(sat.left[k], sat.right[k])) for k in range(len(sat.gates)))
    expect(chart.locator(".scatterlayer .trace .points path")).to_have_count(markers)
    for gate in sat.gates:
        expect(chart.locator(".annotation-text").filter(
            has_text=re.compile(rf"gate {gate}$"))).to_have_count(1)
    expect(page.locator(MAIN).get_by_role("heading", name="Unit search")).to_have_count(1)
    # the unit-search heatmap is drawn too, and every figure has its exports
    expect(page.locator(f'{MAIN} [data-testid="stPlotlyChart"]')).to_have_count(2)
    page.locator(f'{MAIN} [data-testid="stPlotlyChart"]').nth(1).locator(
        ".heatmaplayer").first.wait_for(timeout=TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_role("button", name="HTML")).to_have_count(2)
    expect(page.locator(MAIN).get_by_role("button", name="PNG")).to_have_count(2)
    assert "step=18" in page.url
    assert page.console_errors == []


def test_open_in_the_stepper_button(page, server):
    open_units(page, server + "/Units?task=brackets&variant=vanilla&step=5")
    scatter(page)
    sat = reference()
    peak = np.maximum(sat.left, sat.right)
    unit = int(np.unravel_index(int(np.argmax(peak)), peak.shape)[1])   # the picker's default
    picker = page.locator(MAIN).get_by_role("combobox", name="Unit")
    expect(picker).to_have_value(re.compile(rf"^unit {unit}:"))
    # pick another unit through the widget, then open it
    other = (unit + 2) % sat.left.shape[1]
    # below the full-width figure: scrolled to first (a scroll closes an open dropdown)
    picker.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    picker.click()
    page.get_by_role("option", name=re.compile(rf"^unit {other}:")).click()
    wait_for_app(page)
    expect(picker).to_have_value(re.compile(rf"^unit {other}:"))
    page.locator(MAIN).get_by_role("button", name="Open in the stepper").click()
    expect_stepper(page, other, step=5)


def test_click_on_a_point_opens_the_stepper(page, server):
    open_units(page, server + "/Units?task=brackets&variant=vanilla")
    sat = reference()
    # a marker of a single unit (markers do not cover each other): the last gate's first one
    gate = len(sat.gates) - 1
    groups = merged_points(sat.left[gate], sat.right[gate])
    index = next(k for k, g in enumerate(groups) if g[2].size == 1)
    unit = int(groups[index][2][0])
    point = scatter(page).locator(".scatterlayer .trace").nth(gate).locator(
        ".points path").nth(index)
    box = point.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    expect_stepper(page, unit)
    # back on the Units page the old click is not replayed: it stays there
    page.locator(SIDEBAR).get_by_role("link", name="Units").click()
    page.wait_for_url(re.compile(r"/Units\?"), timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=60_000)
    scatter(page)
    wait_for_app(page, timeout_ms=60_000, settle_ms=1_000)
    assert "/Units?" in page.url
    expect(page.locator("h1", has_text="Units")).to_have_count(1)


def test_merged_marker_shows_its_count_and_lists_its_units_on_hover(page, server):
    """Issue #15: the remember model's 15 of 16 forget gates mostly open are one marker, "15"."""
    open_units(page, server + "/Units?task=remember&variant=vanilla")
    sat = reference("remember", "vanilla")
    f = sat.gates.index("f")
    groups = merged_points(sat.left[f], sat.right[f])
    index = max(range(len(groups)), key=lambda k: groups[k][2].size)
    members = groups[index][2]
    assert members.size == 15
    trace = scatter(page).locator(".scatterlayer .trace").nth(f)
    expect(trace.locator(".textpoint")).to_contain_text(["15"])
    box = trace.locator(".points path").nth(index).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    hover = page.locator(".hoverlayer .hovertext")
    expect(hover).to_contain_text("15 units: " + ", ".join(map(str, members[:3])),
                                  timeout=TIMEOUT_MS)
    expect(hover).to_contain_text("forget gate")
    assert page.console_errors == []
