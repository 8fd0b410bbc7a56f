"""The parameter limit every model reader shares (model_config.check_param_count), lowered so a
small file crosses it (shared by the model-file tests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from lstm_viz.errors import InputError
from lstm_viz.files import model_config


def refused_over_the_limit(monkeypatch: pytest.MonkeyPatch, read: Callable[[str, bytes], Any],
                           filename: str, data: bytes, named: str) -> None:
    """``read`` refuses ``data`` (a layer of 3 inputs and 4 units: 4 * 4 * (3 + 4 + 2) = 144
    parameters) once the shared limit is 100, in the one sentence naming it (``named``: a regex
    for what comes before " has"), and admits it once the limit is 144."""
    monkeypatch.setattr(model_config, "MAX_PARAMS", 100)
    with pytest.raises(InputError) as e:
        read(filename, data)
    assert re.fullmatch(
        rf"{named} has 144 parameters, more than the 100 allowed \(each step must stay quick to "
        r"compute\): upload a smaller model\.", str(e.value),
    ), str(e.value)
    monkeypatch.setattr(model_config, "MAX_PARAMS", 144)
    assert read(filename, data)
