"""The "Gradient flow" page in a real browser: a deep link renders the charts without errors."""

from __future__ import annotations

import os

from .conftest import assert_no_exception, wait_for_app

MAIN = '[data-testid="stMain"]'


def test_gradient_flow_deep_link(page, server):
    page.goto(server + "/Gradient_flow?task=remember")
    wait_for_app(page, timeout_ms=60_000)
    assert_no_exception(page)
    assert page.locator("h1", has_text="Gradient flow through time").count() == 1
    charts = page.locator(f"{MAIN} .js-plotly-plot")
    charts.first.wait_for()
    assert charts.count() >= 2                  # the comparison and the per-unit heatmap
    # the comparison chart drew its lines (one svg path per curve)
    assert page.locator(f"{MAIN} .js-plotly-plot .scatterlayer .trace").count() >= 2
    assert page.get_by_text("steps before the loss").count() >= 1
    shots = os.environ.get("LSTM_VIZ_SCREENSHOTS")
    if shots:                                   # Streamlit scrolls inside its main block
        page.set_viewport_size({"width": 1400, "height": 2800})
        page.wait_for_timeout(1500)
        page.screenshot(path=os.path.join(shots, "gradient_flow.png"))
    assert page.console_errors == []
