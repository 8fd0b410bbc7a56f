"""The "Compare variants" page in a real browser: a deep link, the figures drawn, no errors."""

from __future__ import annotations

import os

from lstm_viz.training.zoo import list_shipped

from .conftest import assert_no_exception, wait_for_app

MAIN = '[data-testid="stMain"]'
SHOTS = os.environ.get("LSTM_VIZ_SCREENSHOTS")  # a folder: save full-page screenshots there


def shipped(task: str) -> list[str]:
    return [v for t, v in list_shipped() if t == task]


def wait_for_charts(page, n: int) -> None:
    """Until ``n`` plotly figures have drawn (each one's first SVG holds its plot)."""
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{MAIN} .js-plotly-plot')]
                   .filter(p => p.querySelector('.main-svg .cartesianlayer')).length >= {n}""")


def test_compare_deep_link_renders_every_figure(page, server):
    page.goto(server + "/Compare_variants?task=brackets")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("h1", has_text="Compare variants").count() == 1
    variants = [v for v in ("vanilla", "peephole", "cifg") if v in shipped("brackets")]
    assert len(variants) >= 2, "the shipped brackets models are missing"
    # one heatmap per variant, the loss curve and the difference heatmap
    wait_for_charts(page, len(variants) + 2)
    charts = page.locator(f"{MAIN} .js-plotly-plot")
    assert charts.count() == len(variants) + 2
    for k in range(charts.count()):
        assert charts.nth(k).locator(".heatmaplayer, .scatterlayer").count() >= 1
    text = page.locator(MAIN).inner_text()
    assert "max |f + i − 1|" in text
    assert "task=brackets" in page.url
    if SHOTS:
        page.set_viewport_size({"width": 1400, "height": 4400})
        page.wait_for_timeout(1000)
        page.screenshot(path=os.path.join(SHOTS, "compare.png"))
    assert page.console_errors == []


def test_compare_with_gru_says_what_is_missing(page, server):
    if not {"gru", "cifg"} <= set(shipped("brackets")):
        return
    page.goto(server + "/Compare_variants?task=brackets")
    wait_for_app(page)
    box = page.locator(f'{MAIN} [data-testid="stMultiSelect"]')
    # three are chosen, the most there may be: make room, then add the GRU
    box.get_by_role("button", name="Remove cifg: coupled input-forget gate (CIFG)").click()
    wait_for_app(page)
    box.locator("input").click()
    page.get_by_role("option", name="gru: GRU (torch.nn.GRU)").click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text("gru has no forget gate f: not shown.").count() == 1
    page.get_by_text("cell state c", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text("its row shows h").count() == 1
    wait_for_charts(page, 3 + 2)
    if SHOTS:
        page.set_viewport_size({"width": 1400, "height": 4000})
        page.wait_for_timeout(1000)
        page.screenshot(path=os.path.join(SHOTS, "compare_gru.png"))
    assert page.console_errors == []
