"""The Units page's helpers (``lstm_viz.ui.units_view``): its notes, its input context and the
heatmap of the units found, on hand-built saturations and sequences."""

from __future__ import annotations

import numpy as np

from lstm_viz.analysis import Match, Saturation, context
from lstm_viz.files.sequence import Sequence
from lstm_viz.ui import units_view as uv


def _sat(left, right, gates=("i", "f", "o"), derived=(False, False, False)):
    return Saturation(gates=gates, derived=derived, left=np.array(left, dtype=float),
                      right=np.array(right, dtype=float), low=0.1, high=0.9, steps=10)


def test_unit_list_clips_after_twelve():
    assert uv.unit_list([3, 5]) == "3, 5"
    assert uv.unit_list(range(15)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 3 more"


def test_saturation_notes_name_the_saturated_units_and_the_most_saturated():
    sat = _sat(left=[[0, 0.0], [0, 0], [0.9, 0]], right=[[0.85, 0.05], [0, 0], [0, 0]])
    notes = uv.saturation_notes(sat, "vanilla", trained=True)
    assert notes[0].startswith("- **1 of 2** units have the ") and "right-saturated (open)" in (
        notes[0]) and notes[0].endswith("unit 0.")
    assert "left-saturated (closed)" in notes[1]
    assert notes[2].startswith("- The most saturated: unit 0's ") and "left-saturated 90%" in (
        notes[2])
    assert notes[3] == ("- **1 of 2** units never have a gate saturated over 20% of the time: "
                        "unit 1.")
    assert len(notes) == 4
    assert uv.most_saturated(sat) == (2, 0, "left", 0.9)


def test_saturation_notes_without_saturation_and_for_a_gru_and_a_variant_without_gates():
    sat = _sat(left=[[0, 0]] * 2, right=[[0, 0]] * 2, gates=("r", "z"), derived=(False, False))
    notes = uv.saturation_notes(sat, "gru", trained=False)
    assert notes[0] == "- No gate is saturated over 80% of the time."
    assert notes[1].endswith("as in a model with fresh random weights.")
    assert notes[2].startswith("- In a GRU the update gate z keeps the memory")
    nfg = _sat(left=[[0.0]] * 2, right=[[1.0]] * 2, gates=("i", "o"), derived=(False, False))
    assert uv.saturation_notes(nfg, "nfg", trained=True)[-1].endswith(" at 1: not shown.")
    cifg = _sat(left=[[0.0]] * 3, right=[[1.0]] * 3, derived=(False, True, False))
    assert uv.gate_words(cifg)["f"].endswith(" (= 1 − i)")


def test_unit_choice_and_clicked_unit():
    sat = _sat(left=[[0.2], [0.7], [0]], right=[[0.5], [0.1], [0]])
    assert uv.unit_choice(sat, 0) == "unit 0: i 50% open, f 70% closed, o 0% open"
    assert uv.clicked_unit([], 4) is None
    assert uv.clicked_unit([{"customdata": [2]}], 4) == 2
    assert uv.clicked_unit([{"point_index": 3}], 4) == 3
    assert uv.clicked_unit([{"point_index": 4}], 4) is None


def test_input_context_marks_the_range_and_code_fences_backticks():
    text = "ab`c" * 10
    seq = Sequence(values=np.zeros((len(text), 1), np.float32), name="t",
                   labels=tuple(text))
    assert uv.input_context(seq, 12, 14) == context(seq.labels, 12, 14, uv.CONTEXT_PAD,
                                                    mark=uv.MARK)
    assert uv.code("a`b") == "`` a`b ``" and uv.code("a``b") == "``` a``b ```"
    numbers = Sequence(values=np.array([[0.5], [-1.0]], np.float32), name="n")
    assert uv.step_labels(numbers, 0, 2) == ["+0.50", "-1.00"]
    pairs = Sequence(values=np.array([[0.5, 1.0]], np.float32), name="p")
    assert uv.step_labels(pairs, 0, 1) == ["(+0.50, +1.00)"]


def test_found_heatmap_marks_the_selection_and_the_matches():
    T = 30
    values = np.zeros((T, 3))
    values[5:8, 1] = 1.0
    values[20:23, 1] = 1.0
    seq = Sequence(values=np.zeros((T, 1), np.float32), name="x", labels=tuple("a" * T))
    fig = uv.found_heatmap(values, np.array([1]), seq, "h", 0.5, (5, 7),
                           [Match(20, 22, 1.0)], projector=False)
    heat, dots = fig.data
    assert list(heat.y) == ["unit 1"] and heat.z.shape == (1, T)
    assert sorted(dots.x.tolist()) == [5, 6, 7, 20, 21, 22]
    frames = [(s.x0, s.x1) for s in fig.layout.shapes if s.name == "frame"]
    assert frames == [(4.5, 7.5), (19.5, 22.5)]
    assert list(fig.layout.xaxis.ticktext) == ["a"] * T
    assert "1 match" in fig.layout.annotations[0].text
