"""The Compare variants page's helpers (``lstm_viz.ui.compare_view``), on the shipped models of
the brackets task: the defaults and colours read from the variant table, what each wiring does on
a run, the quantity each variant shows, the shared colour scale and margins, the tables."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lstm_viz.analysis import compare_variants, coupling_gap, gate_summary
from lstm_viz.plots import style
from lstm_viz.training.zoo import load_shipped
from lstm_viz.ui import compare_view as cv
from lstm_viz.workbench import example_sequence, model_from_trained


def test_defaults_and_colours_are_the_pages_former_ones():
    assert cv.DEFAULT_VARIANTS == ("vanilla", "peephole", "cifg")
    assert cv.VARIANT_COLORS == {"vanilla": style.model_color("LSTM"), "peephole": "#CC79A7",
                                 "cifg": "#E69F00", "gru": style.model_color("GRU"),
                                 "rnn": style.model_color("RNN")}
    assert cv.ordered(["rnn", "mine", "cifg", "vanilla"]) == ["vanilla", "cifg", "rnn", "mine"]


@pytest.fixture(scope="module")
def brackets():
    seq = example_sequence("brackets", length=40)
    models = {v: model_from_trained(load_shipped("brackets", v))
              for v in ("vanilla", "peephole", "cifg", "gru", "rnn")}
    runs = {v: compare_variants({v: m.recurrent}, seq.values)[v] for v, m in models.items()}
    return seq, models, runs


def test_wiring_notes_measure_each_variant_on_the_run(brackets):
    seq, models, runs = brackets
    lines = cv.wiring_notes(runs, models, seq.length)
    assert [line.split("**")[1] for line in lines] == ["vanilla", "peephole", "peephole",
                                                       "cifg", "gru", "rnn"]
    assert f"max |f + i − 1| = {style.fmt(coupling_gap(runs['cifg']), 2)} over 40 steps" in (
        lines[3])
    assert lines[2].startswith("**peephole**'s gates see the cell: the peephole terms p·c move")
    assert "update gate z (mean" in lines[4] and "has no gates" in lines[5]


def test_shown_limits_and_margins(brackets):
    seq, _, runs = brackets
    assert cv.shown(runs["gru"], "gru", "c")[0] == "h"
    assert cv.shown(runs["gru"], "gru", "f") is None
    name, values = cv.shown(runs["vanilla"], "vanilla", "c")
    assert name == "c" and values.shape == runs["vanilla"].state.shape
    rows = {v: cv.shown(r, v, "c") for v, r in runs.items()}
    limits = cv.shared_limits(rows)
    assert set(limits) == {"c", "h"}
    assert limits["c"] == max(style.symmetric_limit(rows[v][1], "c")
                              for v in ("vanilla", "peephole", "cifg"))
    assert cv.shared_limits({"vanilla": cv.shown(runs["vanilla"], "vanilla", "f")}) == {}
    fig = go.Figure(go.Heatmap(z=np.zeros((2, 2)), name="c"))
    cv.apply_limit(fig, "c", 2.0)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-2.0, 2.0)
    margins = cv.time_axis_margins(16, seq, projector=False)
    assert margins["r"] == 110 and margins["l"] > 24
    fig.update_layout(margin_l=margins["l"] + 50)
    cv.align(fig, margins)
    assert fig.layout.margin.l == margins["l"] + 50 and fig.layout.margin.r == 110


def test_gate_averages_recolor_and_difference_sentence(brackets):
    _, _, runs = brackets
    two = {v: runs[v] for v in ("cifg", "gru")}
    table = cv.gate_averages(two, {v: gate_summary(r.trace) for v, r in two.items()})
    assert list(table.index) == ["cifg", "gru"]
    assert table.loc["gru", style.label("f")] == "–" and table.loc["cifg", style.label("z")] == "–"
    fig = go.Figure([go.Scatter(y=[1, 2], name="cifg loss"), go.Scatter(y=[1], name="gru x",
                                                                         showlegend=False)])
    cv.recolor_losses(fig)
    assert fig.data[0].name == "cifg" and fig.data[0].line.color == "#E69F00"
    assert fig.data[1].name == "gru x" and fig.data[1].marker.color == style.model_color("GRU")
    diff = np.zeros((4, 3))
    diff[2, 1] = -0.5
    text = cv.difference_sentence("a", "b", diff)
    assert text.endswith(f"largest {style.fmt(-0.5)} at unit 1, step 2.")
