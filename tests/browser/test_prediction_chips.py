"""The stepper's prediction line in a real browser (issue #15): on the text task a space target
shows as a visible "␣" chip, and no chip of the prediction line is empty."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import expect

from lstm_viz.workbench import example_sequence

from .conftest import assert_no_exception, wait_for_app


def test_a_space_shows_as_a_visible_chip(server, page) -> None:
    seq = example_sequence("text", seed=0)
    targets = [seq.vocab[int(k)] for k in np.asarray(seq.meta["target"])]
    step = targets.index(" ")
    page.goto(f"{server}/?task=text&step={step}")
    wait_for_app(page)
    assert_no_exception(page)
    main = page.locator('[data-testid="stMain"]')
    target = main.locator("p").filter(has_text="Target:")
    expect(target).to_have_count(1, timeout=15_000)
    expect(target.locator("code")).to_have_text("␣")
    chips = main.locator("p").filter(has_text="Model predicts:").locator("code")
    expect(chips).to_have_count(3)
    assert all(t.strip() for t in chips.all_inner_texts()), chips.all_inner_texts()
