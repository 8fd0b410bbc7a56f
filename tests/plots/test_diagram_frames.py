"""The cell diagram as SVG frames: each step's SVG, put back together, is exactly the server's."""

from __future__ import annotations

import re

from lstm_viz.plots.diagram import cell_diagram
from lstm_viz.plots.diagram_frames import diagram_frames, frame_svg, svg_frames
from lstm_viz.plots.svg import figure_svg
from lstm_viz.teaching.step import UnitStep, unit_step
from lstm_viz.workbench import ModelChoice, build_model, example_sequence, run


def _numbers(task: str, variant: str, unit: int, steps: range) -> tuple[str, list[UnitStep]]:
    seq = example_sequence(task)
    model = build_model(ModelChoice("fresh", task, variant, hidden_size=4), seq.n_features)
    trace = run(model, seq)
    return model.variant, [unit_step(model.recurrent, trace, t, unit, x=float(seq.values[t, 0]))
                           for t in steps]


def test_frames_rebuild_each_steps_svg_exactly():
    for variant in ("vanilla", "gru", "rnn", "peephole"):
        name, numbers = _numbers("sine", variant, 2, range(0, 12))
        frames = diagram_frames(numbers, name, unit=2, width=800)
        for k, u in enumerate(numbers):
            want = figure_svg(cell_diagram(u, name, unit=2, step=u.step, width=800),
                              label=f"cell diagram of unit 2 at step {u.step}")
            assert frame_svg(frames, k) == want, (variant, k)
        # only a few pieces vary: the template carries the drawing
        assert 1 < len(frames["parts"]) < 120
        fixed = sum(map(len, frames["parts"]))
        assert fixed > 0.5 * len(frame_svg(frames, 0))


def test_the_step_and_numbers_vary_and_repeats_are_shared():
    name, numbers = _numbers("sine", "vanilla", 0, range(3, 8))
    frames = diagram_frames(numbers, name, unit=0)
    assert [re.search(r"at step (\d+)", frame_svg(frames, k)).group(1)
            for k in range(5)] == ["3", "4", "5", "6", "7"]
    assert len(frames["table"]) < 5 * len(frames["slots"][0])   # shared strings once


def test_frames_of_different_structure_fall_back_to_whole_svgs():
    frames = svg_frames(["<svg><a/></svg>", "<svg><a/><b/></svg>"])
    assert frame_svg(frames, 0) == "<svg><a/></svg>"
    assert frame_svg(frames, 1) == "<svg><a/><b/></svg>"
    assert svg_frames([])["slots"] == []
