"""The click a load test times, from the click to the page showing its result (``bench.load``).

A :class:`Click` names a control, how to press it the i-th time, and what the page shows once the
result is drawn. ``unit`` presses the sidebar's "Unit in focus" +/- buttons: a server-side
control (a rerun of the script, then the cell diagram redrawn for that unit), which stays a
server round trip when stepping moves into a browser component. ``next`` is the stepper's
"Next" button (while stepping is a rerun too). To time another control, add a row to CLICKS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lstm_viz.bench.harness import HEADING


@dataclass(frozen=True)
class Click:
    """press(page, i) -> the locator to click the i-th time (i = 1, 2, ...);
    drawn(page, i, steps) -> (a locator, the text or pattern it shows once the click is drawn:
    its text, or the attribute ``attribute`` when set)."""

    what: str
    press: Callable
    drawn: Callable
    attribute: str | None = None


def _unit_button(page, i: int):
    """+ on odd clicks, - on even ones: the focus goes 0 -> 1 -> 0 ... in any layer size."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').filter(
        has=page.get_by_label(re.compile(r"^Unit in focus")))
    return box.locator('[data-testid="stNumberInputStepUp"]' if i % 2 else
                       '[data-testid="stNumberInputStepDown"]')


def _diagram_of_unit(page, i: int, steps: int):
    return (page.locator('[data-testid="stMain"] svg[aria-label^="cell diagram of unit"]'),
            re.compile(rf"^cell diagram of unit {i % 2} at step \d+$"))


def _next_button(page, i: int):
    return page.locator('[data-testid="stMain"]').get_by_role("button").filter(has_text="Next")


def _heading(page, i: int, steps: int):
    return page.locator("h4").filter(has_text=HEADING), f"Step {i} of {steps - 1}"


CLICKS: dict[str, Click] = {
    "unit": Click("the sidebar's 'Unit in focus' +/- (a rerun; the diagram redrawn)",
                  _unit_button, _diagram_of_unit, attribute="aria-label"),
    "next": Click("the stepper's 'Next' (a rerun; the step heading)", _next_button, _heading),
}
