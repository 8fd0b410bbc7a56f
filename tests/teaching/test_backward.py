"""The backward direction (issue #15): the explanations, the Learn page's equations and the
cell diagram all read the previous state from t + 1."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lstm_viz.core import VARIANTS, Recurrent
from lstm_viz.teaching.equations import equations
from lstm_viz.teaching.explain import in_direction
from lstm_viz.teaching.step import unit_step

PREVIOUS = re.compile(r"_\{t[-+]1\}")


def test_in_direction() -> None:
    assert in_direction(r"c_t = f_t \odot c_{t-1}", 1) == r"c_t = f_t \odot c_{t+1}"
    assert in_direction(r"c_t = f_t \odot c_{t-1}", 0) == r"c_t = f_t \odot c_{t-1}"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("direction", [0, 1])
def test_explanations_and_equations_agree_on_the_previous_state(variant: str,
                                                                direction: int) -> None:
    rec = Recurrent(2, 3, bidirectional=True, variant=variant, seed=4)
    trace = rec.trace(np.random.default_rng(1).normal(size=(6, 2)).astype(np.float32))
    numbers = unit_step(rec, trace, 2, 1, direction=direction)
    explained = {m for ex in numbers.explanations.values() for t in ex.terms
                 for m in PREVIOUS.findall(t.latex)}
    shown = {m for eq in equations(variant) for m in PREVIOUS.findall(
        in_direction(eq.latex, direction))}
    want = "_{t+1}" if direction == 1 else "_{t-1}"
    assert explained == shown == {want}
    assert numbers.diagram()["previous"] == ("t+1" if direction == 1 else "t-1")
