"""The cell diagram's export (issue #15): SVG (the markup the page draws) and PNG buttons in the
stepper's "Export:" expander, built on click (``data=callable``), named by variant, step, unit.

AppTest runs without a Streamlit runtime, where a deferred download keeps no data: the buttons'
arguments are recorded on their way to Streamlit instead, and the data callable is called as a
click would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from conftest import open_page
from streamlit.delta_generator import DeltaGenerator


@pytest.fixture
def buttons(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The download buttons of the next runs by label: their keyword arguments."""
    seen: dict[str, dict[str, Any]] = {}
    original = DeltaGenerator.download_button

    def record(self, label, data=None, *args, **kwargs):
        seen[label] = {"data": data, **kwargs}
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    return seen


def test_the_diagram_downloads_as_the_svg_the_page_draws(buttons) -> None:
    at = open_page(state={"task": "brackets", "step": 5, "unit": 2})
    assert {"Diagram SVG", "Diagram PNG"} <= {b.proto.label for b in at.get("download_button")}
    svg = buttons["Diagram SVG"]
    assert callable(svg["data"])                              # nothing drawn until a click
    assert svg["file_name"] == "cell-diagram-vanilla-step5-unit2.svg"
    assert svg["mime"] == "image/svg+xml"
    data = svg["data"]()
    assert isinstance(data, str) and data.startswith("<svg")
    ET.fromstring(data)                                       # well-formed, standalone
    assert 'aria-label="cell diagram of unit 2 at step 5"' in data
    drawn = [m.value for m in at.markdown if m.value.startswith("<svg")]
    assert drawn == [data]                                    # what the page shows, byte for byte
    png = buttons["Diagram PNG"]
    assert callable(png["data"]) and png["file_name"] == "cell-diagram-vanilla-step5-unit2.png"


def test_the_export_follows_the_step_and_the_direction(buttons) -> None:
    at = open_page(state={"task": "brackets", "model_kind": "fresh", "bidirectional": True,
                          "direction": 1, "step": 3, "unit": 0})
    assert at.session_state["direction"] == 1
    svg = buttons["Diagram SVG"]
    assert svg["file_name"] == "cell-diagram-vanilla-step3-unit0.svg"
    data = svg["data"]()
    assert "t+1" in data and "t−1" not in data                # the backward labels
