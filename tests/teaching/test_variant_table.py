"""Every row of the variant table has its equations, its diagram and its explanations.

Adding a row to ``lstm_viz.core.variants.TABLE`` without teaching the app to show it fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_viz.core import TABLE, Recurrent
from lstm_viz.plots.diagram import cell_diagram, diagram_title
from lstm_viz.teaching.equations import equations, equations_with_numbers
from lstm_viz.teaching.explain import explainable
from lstm_viz.teaching.learn import intro
from lstm_viz.teaching.step import derived_numbers, unit_step

NAMES = tuple(TABLE)


def _traced(name: str, proj: int = 0):
    model = Recurrent(3, 4, variant=name, proj_size=proj, seed=1, dtype=np.float64)
    x = np.random.default_rng(2).normal(size=(5, 1, 3))
    return model, model.trace(x)


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_has_equations_for_each_block_and_rule(name: str) -> None:
    row = TABLE[name]
    eqs = equations(name)
    assert eqs
    keys = {eq.key for eq in eqs}
    for block in row.blocks:                       # every weight block has its equation
        assert block in keys or any(f"{block}_t" in eq.latex for eq in eqs), block
    for gate, rule in row.derived.items():         # and every derived gate shows its rule
        [eq] = [eq for eq in eqs if eq.key == gate]
        assert eq.latex.replace("_t", "") == f"{gate} = {rule}"
        assert eq.changed
    if row.peephole:
        assert sum(eq.changed for eq in eqs) == 3
    if row.torch_class is not None:                # torch's own modules are their standard
        assert not any(eq.changed for eq in eqs)
    assert intro(row)


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_explains_and_draws_a_traced_step(name: str) -> None:
    model, trace = _traced(name)
    here = unit_step(model, trace, step=2, unit=1, x=0.5)
    assert set(here.explanations) == set(explainable(name))
    for q, ex in here.explanations.items():       # every number is made by its parts
        assert ex.error <= 1e-9 * max(1.0, abs(ex.traced)), q
        assert ex.lines()
    numbered = equations_with_numbers(name, here.values, here.pre)
    assert len(numbered) == len(equations(name))
    assert all("=" in line for line in numbered)
    fig = cell_diagram(here, name, unit=1, step=2)
    assert diagram_title(TABLE[name]) in fig.layout.title.text
    texts = " ".join(a.text for a in fig.layout.annotations if a.text)
    assert "–" not in texts                        # every number of the diagram is there
    for gate in TABLE[name].fixed:
        assert f"<b>{gate} = 1</b>" in texts


@pytest.mark.parametrize("name", [n for n in NAMES if TABLE[n].is_lstm])
def test_derived_numbers_follow_the_row(name: str) -> None:
    row = TABLE[name]
    values = {"c_prev": -0.3, "h_prev": 0.1, "i": 0.7, "f": 0.4, "g": -0.6, "o": 0.5, "c": 0.2}
    for gate in row.fixed:
        values.pop(gate)
    d = derived_numbers(values, name)
    assert d["f"] == pytest.approx(1 - 0.7 if row.coupled else values.get("f", 1.0))
    for gate in row.fixed:
        assert d[gate] == 1.0
    raw = row.output_activation == "identity"
    assert d["act_c"] == pytest.approx(0.2 if raw else math.tanh(0.2))
    assert d["kept"] == pytest.approx(d["f"] * -0.3)
    assert d["ig"] == pytest.approx(d["i"] * -0.6)
    assert d["has_m"] is False


def test_gru_derived_numbers() -> None:
    d = derived_numbers({"h_prev": 0.5, "z": 0.25, "n": -0.4}, "gru")
    assert d["one_minus_z"] == 0.75
    assert d["kept"] == pytest.approx(0.125)
    assert d["zn"] == pytest.approx(-0.3)
    assert derived_numbers({}, "gru")["zn"] is None


def test_unit_step_keeps_the_previous_state_and_the_line_of_values() -> None:
    model, trace = _traced("vanilla", proj=2)
    here = unit_step(model, trace, step=0, unit=3)
    assert here.values["c_prev"] == 0.0 and "h" not in here.values   # unit 3 > proj_size
    assert "h_prev" not in here.values
    assert here.text().startswith("f = ") and " · c = " in here.text()
    assert here.diagram()["has_m"] is True


def test_step_numbers_is_the_unit_steps_values() -> None:
    from lstm_viz.teaching.explain import step_numbers

    model, trace = _traced("cifg")
    values, pre = step_numbers(model, trace, 3, 2)
    here = unit_step(model, trace, 3, 2)
    assert values == here.values and pre == here.pre
