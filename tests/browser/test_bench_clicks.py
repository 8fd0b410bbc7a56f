"""The load benchmark's timed clicks (``lstm_viz.bench.clicks``): which control each press hits
and what it waits for, on the stepper component or the server-rendered view (no browser)."""

from __future__ import annotations

import pytest

from lstm_viz.bench.clicks import CLICKS


class Fake:
    """Stands in for a playwright Page / FrameLocator / Locator: records the selector path."""

    def __init__(self, path: str = "") -> None:
        self.path = path

    def locator(self, sel: str, **_: object) -> Fake:
        return Fake(f"{self.path} > {sel}")

    def filter(self, **_: object) -> Fake:
        return self

    def get_by_label(self, *_: object) -> Fake:
        return self

    def get_by_role(self, role: str, name: str = "", **_: object) -> Fake:
        return Fake(f"{self.path} > {role}:{name}")


@pytest.mark.parametrize(("origin", "units"), [(0, [1, 0, 1]), (5, [4, 5, 4])])
def test_unit_row_goes_away_from_the_opened_unit_and_back(origin, units) -> None:
    click, page = CLICKS["unit"], Fake("page")
    for i, unit in enumerate(units, start=1):
        button = click.press(page, i, None, origin).path
        down = unit < (origin if i % 2 else units[0])
        assert button.endswith("StepDown\"]" if down else "StepUp\"]"), (i, button)
        target, pattern = click.drawn(page, i, 40, Fake("frame"), origin)
        assert target.path.startswith("frame > #diagram")
        assert pattern.match(f"cell diagram of unit {unit} at step 3")
        assert not pattern.match(f"cell diagram of unit {unit + 1} at step 3")


def test_step_row_presses_the_arrow_in_the_component_and_reads_its_heading() -> None:
    click = CLICKS["step"]
    assert click.key == "ArrowRight" and click.browser_only
    assert click.press(Fake("page"), 1, Fake("frame")).path == "frame > #next"
    target, want = click.drawn(Fake("page"), 2, 40, Fake("frame"))
    assert (target.path, want) == ("frame > #where", "Step 2 of 39")
    with pytest.raises(RuntimeError, match="not shown"):
        click.press(Fake("page"), 1, None)


def test_next_row_reads_the_server_view_until_the_component_is_mounted() -> None:
    click = CLICKS["next"]
    target, want = click.drawn(Fake("page"), 1, 10, None)
    assert target.path == "page > h4" and want == "Step 1 of 9"
    assert click.press(Fake("page"), 1, Fake("frame")).path == "frame > button:Next"
