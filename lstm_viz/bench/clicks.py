"""The click a load test times, from the click to the page showing its result (``bench.load``).

A :class:`Click` names a control, how to press it the i-th time, and what the page shows once the
result is drawn. The landing page's live view (step controls, "Step N of M", the cell diagram)
is drawn in the stepper component's iframe once it has mounted (``lstm_viz/ui/stepper.py``);
the server-rendered view only until then. So ``press`` and ``drawn`` get ``frame``: a
playwright FrameLocator of the component when it is shown, else None.

- ``unit`` presses the sidebar's "Unit in focus" +/- buttons: a server-side control (a rerun of
  the script, then the cell diagram redrawn for that unit: in the component, a new payload).
- ``next`` clicks the stepper's "Next" (the component's, drawn in the browser; the server hears
  the step 250 ms later).
- ``step`` presses the right arrow in the component (its Next button focused): a browser-only
  step, nothing is sent to the server until 250 ms after it is drawn.

To time another control, add a row to CLICKS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lstm_viz.bench.harness import HEADING


@dataclass(frozen=True)
class Click:
    """press(page, i, frame, origin) -> the locator to click (or to press ``key`` on) the
    i-th time (i = 1, 2, ...); drawn(page, i, steps, frame, origin) -> (a locator, the text or
    pattern it shows once the click is drawn: its text, or the attribute ``attribute`` when
    set). ``browser_only``: the result is drawn with nothing sent to the server (checked by
    ``bench.load``); ``settle_s``: wait this long after it is drawn before waiting for the app
    to be idle; ``origin``: an async origin(page) -> int read once before the first click and
    passed to press and drawn (the unit the page opened on)."""

    what: str
    press: Callable
    drawn: Callable
    attribute: str | None = None
    key: str | None = None
    browser_only: bool = False
    settle_s: float = 0.0
    origin: Callable | None = None


def _unit_box(page):
    return page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').filter(
        has=page.get_by_label(re.compile(r"^Unit in focus")))


async def _unit_now(page) -> int:
    """The unit in focus before the first timed click (the page may open on any unit)."""
    return int(await _unit_box(page).locator("input").input_value())


def _unit_button(page, i: int, frame=None, origin: int = 0):
    """Away from ``origin`` on odd clicks (- when it can, else +), back on even ones: the focus
    goes u -> u-1 -> u ... (or 0 -> 1 -> 0) in any layer size."""
    down = (origin > 0) == bool(i % 2)
    return _unit_box(page).locator('[data-testid="stNumberInputStepDown"]' if down else
                                   '[data-testid="stNumberInputStepUp"]')


def _diagram_of_unit(page, i: int, steps: int, frame=None, origin: int = 0):
    root = frame.locator("#diagram") if frame is not None else page.locator(
        '[data-testid="stMain"]')
    unit = origin if i % 2 == 0 else (origin - 1 if origin > 0 else origin + 1)
    return (root.locator('svg[aria-label^="cell diagram of unit"]'),
            re.compile(rf"^cell diagram of unit {unit} at step \d+$"))


def _next_button(page, i: int, frame=None, origin: int = 0):
    if frame is not None:
        return frame.get_by_role("button", name="Next", exact=True)
    return page.locator('[data-testid="stMain"]').get_by_role("button").filter(has_text="Next")


def _heading(page, i: int, steps: int, frame=None, origin: int = 0):
    if frame is not None:
        return frame.locator("#where"), f"Step {i} of {steps - 1}"
    return page.locator("h4").filter(has_text=HEADING), f"Step {i} of {steps - 1}"


def _stepper_next(page, i: int, frame=None, origin: int = 0):
    if frame is None:
        raise RuntimeError("the stepper component is not shown: no browser-side step to time")
    return frame.locator("#next")             # focused, it takes the key like the frame


CLICKS: dict[str, Click] = {
    "unit": Click("the sidebar's 'Unit in focus' +/- (a rerun; the diagram redrawn)",
                  _unit_button, _diagram_of_unit, attribute="aria-label", origin=_unit_now),
    "next": Click("the stepper's 'Next' (in the browser; the step heading)", _next_button,
                  _heading, settle_s=0.35),
    "step": Click("the right arrow in the stepper component (browser only; the step heading)",
                  _stepper_next, _heading, key="ArrowRight", browser_only=True, settle_s=0.35),
}
