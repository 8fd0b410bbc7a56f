"""The "Learn" page and the teacher presets in a real browser: deep links, no exception, no
console error, and each preset link opening the step and variant it promises."""

from __future__ import annotations

import re

import pytest

from lstm_viz.teaching.presets import PRESETS, preset_url
from lstm_viz.workbench import has_shipped

from .conftest import assert_no_exception, wait_for_app, wait_step_text

MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'


def settled(page) -> None:
    """The script finished and every lazily loaded widget has replaced its skeleton."""
    wait_for_app(page, timeout_ms=90_000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0")


def test_learn_deep_link(page, server):
    page.goto(server + "/Learn?task=remember&variant=peephole&step=15&unit=11")
    settled(page)
    assert_no_exception(page)
    assert page.locator("h1", has_text="Learn: how an LSTM works").count() == 1
    assert page.get_by_role("heading", name="Step 15 of 29").count() == 1
    main = page.locator(MAIN)
    assert main.locator(".katex").count() >= 12          # every rule and its numbers, typeset
    assert main.get_by_text("changed vs vanilla").count() == 3
    assert page.get_by_text(re.compile(r"matches reference LSTM \(peephole\): max \|Δh\|")) \
        .count() == 1
    # the page's own step buttons move the step (and the URL)
    page.get_by_role("button", name="▶").first.click()
    page.get_by_role("heading", name="Step 16 of 29").wait_for()
    settled(page)
    assert "step=16" in page.url
    # flipping batch_first changes the shapes table
    table = main.locator('[data-testid="stTable"]').first
    assert "(30, 9)" in table.inner_text()
    main.get_by_text("batch size").wait_for()
    spin = main.locator('input[type="number"]')
    spin.fill("4")
    spin.press("Enter")
    settled(page)
    assert "(30, 4, 9)" in main.locator('[data-testid="stTable"]').first.inner_text()
    main.locator('[data-testid="stCheckbox"]').filter(has_text="batch_first").locator("label") \
        .first.click()
    settled(page)
    assert "(4, 30, 9)" in main.locator('[data-testid="stTable"]').first.inner_text()
    assert_no_exception(page)
    assert main.locator('[data-testid="stPlotlyChart"]').count() == 2
    assert page.console_errors == []


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_preset_link_opens_its_view(page, server, preset):
    assert has_shipped(preset.task, preset.variant), \
        f"no shipped model {preset.task}/{preset.variant}"
    page.goto(server + "/" + preset_url(preset))
    settled(page)
    assert_no_exception(page)
    wait_step_text(page, rf"^Step {preset.step} of \d+$")
    variants = page.locator(SIDEBAR).get_by_role("radiogroup", name="Variant")
    assert variants.get_by_role("radio", name=preset.variant, exact=True).is_checked()
    weights = page.locator(SIDEBAR).get_by_role("radiogroup", name="Weights")
    assert weights.get_by_role("radio", name=re.compile("^trained")).is_checked()
    unit = page.locator(SIDEBAR).get_by_label(re.compile(r"^Unit in focus"))
    assert unit.input_value() == str(preset.unit)
    assert f"step={preset.step}" in page.url and f"variant={preset.variant}" in page.url
    assert page.console_errors == []


def test_landing_page_lists_the_presets(page, server):
    page.goto(server + "/")
    settled(page)
    main = page.locator(MAIN)
    main.get_by_text("Presets for teaching").wait_for()
    for preset in PRESETS:
        link = main.get_by_role("link", name=preset.name)
        assert link.count() == 1
        assert link.get_attribute("href").endswith(preset_url(preset))
    # "Show here" switches this tab to a preset
    preset = next(p for p in PRESETS if has_shipped(p.task, p.variant))
    main.get_by_role("button", name="Show here").nth(PRESETS.index(preset)).click()
    settled(page)
    assert_no_exception(page)
    wait_step_text(page, rf"^Step {preset.step} of \d+$")
    assert page.locator(SIDEBAR).get_by_role("radiogroup", name="Variant") \
        .get_by_role("radio", name=preset.variant, exact=True).is_checked()
    assert page.console_errors == []
