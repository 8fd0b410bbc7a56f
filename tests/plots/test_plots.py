"""Tests of lstm_viz.plots: colour language, downsampling, heatmaps, diagram, analysis, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from lstm_viz.core import LSTM_VARIANTS, VARIANTS
from lstm_viz.plots import (
    base_layout,
    cell_diagram,
    difference_heatmap,
    downsample_time,
    figure_to_html,
    figure_to_png,
    forget_product,
    gradient_flow,
    gradient_heatmap,
    loss_curve,
    max_cols_for,
    move_cursor,
    quantity_heatmaps,
    saturation_scatter,
    style,
)

RNG = np.random.default_rng(0)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _trace(n_steps: int = 50, units: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """A fake LSTM trace: (T, units) per quantity, with plausible ranges."""
    rng = np.random.default_rng(seed)
    q = {k: _sigmoid(rng.normal(0, 2, (n_steps, units))) for k in "fio"}
    q["g"] = np.tanh(rng.normal(0, 1.5, (n_steps, units)))
    q["c"] = np.cumsum(rng.normal(0, 0.5, (n_steps, units)), axis=0)
    q["h"] = q["o"] * np.tanh(q["c"])
    return q


def _heatmaps(fig: go.Figure) -> list[go.Heatmap]:
    return [t for t in fig.data if t.type == "heatmap"]


def _by_name(fig: go.Figure, name: str) -> go.Heatmap:
    return next(t for t in fig.data if t.type == "heatmap" and t.name == name)


def _shapes(fig: go.Figure, name: str) -> list:
    return [s for s in fig.layout.shapes if s.name == name]


def _texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.text]


# --------------------------------------------------------------------------------------------
# style
# --------------------------------------------------------------------------------------------


def test_every_quantity_has_its_own_colour() -> None:
    lstm = [style.color(k) for k in "figoch"]
    assert len(set(lstm)) == 6
    for key in ("r", "z", "n", "m"):
        assert style.color(key).startswith("#")
    assert style.color("z_f") == style.color("f")


def test_labels_are_plain_words() -> None:
    assert style.label("f") == "forget gate f"
    assert style.label("i") == "input gate i"
    assert style.label("g") == "candidate g"
    assert style.label("o") == "output gate o"
    assert style.label("c") == "cell state c"
    assert style.label("h") == "hidden state h"
    assert style.words("f") == "forget gate"


def test_colour_range_gate_is_unit_interval_and_states_are_symmetric() -> None:
    q = _trace()
    for gate in ("f", "i", "o", "r", "z"):
        settings = style.color_range(gate, q["f"])
        assert (settings["zmin"], settings["zmax"]) == (0.0, 1.0)
        assert "zmid" not in settings
    c_settings = style.color_range("c", q["c"] + 0.7)  # skewed data: range still symmetric
    assert c_settings["zmid"] == 0.0
    assert c_settings["zmin"] == -c_settings["zmax"]
    assert c_settings["zmax"] == pytest.approx(np.abs(q["c"] + 0.7).max())
    z_settings = style.color_range("z_f", np.array([[-3.0, 1.0]]))
    assert (z_settings["zmin"], z_settings["zmax"], z_settings["zmid"]) == (-3.0, 3.0, 0.0)
    # tanh-bounded quantities never zoom in below [-1, 1]
    assert style.color_range("g", np.array([[0.1, -0.2]]))["zmax"] == 1.0


def test_gate_fill_gets_darker_with_the_value() -> None:
    fills = [style.gate_fill("f", v) for v in (0.0, 0.3, 0.6, 1.0)]
    lum = [style._luminance(c) for c in fills]
    assert lum == sorted(lum, reverse=True)
    assert lum[0] > 0.9  # near white when closed
    assert style.gate_fill("f", 0.6).lower() == style.color("f").lower()


def test_text_on_picks_the_readable_ink() -> None:
    assert style.text_on("#ffffff") == style.INK
    assert style.text_on("#000000") == "#ffffff"
    for fill in (style.gate_fill(k, v) for k in "fio" for v in np.linspace(0, 1, 11)):
        assert style.contrast(style.text_on(fill), fill) >= 3.5  # bold labels


def test_base_layout_projector_is_larger_and_bolder() -> None:
    normal, big = base_layout(), base_layout(projector=True)
    assert big["font"]["size"] > normal["font"]["size"] >= 12
    assert big["title"]["font"]["size"] > normal["title"]["font"]["size"]
    assert big["xaxis"]["nticks"] <= normal["xaxis"]["nticks"] <= 8
    assert big["xaxis"]["linewidth"] > normal["xaxis"]["linewidth"]
    go.Figure(layout=big)  # valid plotly layout


def test_fmt_uses_a_real_minus_and_dashes_for_missing() -> None:
    assert style.fmt(-0.5) == "−0.50"
    assert style.fmt(-0.0001) == "−1e−4"
    assert style.fmt(-0.0) == "0.00"
    assert style.fmt(0.007) == "0.007"
    assert style.fmt(None) == "–"
    assert style.fmt(float("nan")) == "–"


# --------------------------------------------------------------------------------------------
# downsample
# --------------------------------------------------------------------------------------------


def test_downsample_is_identity_when_it_fits() -> None:
    values = RNG.normal(size=(4, 30))
    pooled, starts = downsample_time(values, 30)
    assert pooled is values
    np.testing.assert_array_equal(starts, np.arange(30))


def test_downsample_keeps_the_max_abs_value_of_each_window_with_its_sign() -> None:
    values = RNG.normal(size=(5, 103)).astype(np.float32)
    pooled, starts = downsample_time(values, 10)
    width = 11  # ceil(103 / 10)
    assert pooled.shape == (5, 10)
    assert pooled.dtype == np.float32
    np.testing.assert_array_equal(starts, np.arange(10) * width)
    for col, start in enumerate(starts):
        window = values[:, start : start + width]  # the last window is partial
        expected = window[np.arange(5), np.argmax(np.abs(window), axis=1)]
        np.testing.assert_array_equal(pooled[:, col], expected)


def test_downsample_keeps_a_single_negative_spike() -> None:
    values = np.zeros((3, 10_000))
    values[1, 7_777] = -5.0
    values[2, 3] = 0.4
    pooled, starts = downsample_time(values, 100)
    assert pooled.shape == (3, 100)
    assert pooled.min() == -5.0
    col = int(np.nonzero(pooled[1])[0][0])
    assert starts[col] <= 7_777 < starts[col] + 100
    assert pooled[2, 0] == 0.4


def test_downsample_ignores_nan_unless_the_window_is_all_nan() -> None:
    values = np.array([[np.nan, 0.2, -0.1, np.nan, np.nan, np.nan]])
    pooled, _ = downsample_time(values, 2)
    assert pooled[0, 0] == 0.2
    assert np.isnan(pooled[0, 1])


def test_downsample_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        downsample_time(np.zeros(5), 2)
    with pytest.raises(ValueError):
        downsample_time(np.zeros((2, 5)), 0)


def test_max_cols_for_respects_the_cell_budget() -> None:
    assert max_cols_for(64, 6) == 500_000 // 384
    assert max_cols_for(256, 6, max_cells=1_000) == 1
    assert 256 * 6 * max_cols_for(256, 6) <= 500_000


# --------------------------------------------------------------------------------------------
# heatmaps
# --------------------------------------------------------------------------------------------


def test_heatmaps_one_row_per_quantity_sharing_the_step_axis() -> None:
    q = _trace()
    fig = quantity_heatmaps(q, step=10)
    maps = _heatmaps(fig)
    assert [t.name for t in maps] == list(q)
    assert all(t.z.shape == (8, 50) for t in maps)  # units x time
    x_axes = [key for key in fig.layout if key.startswith("xaxis")]
    assert len(x_axes) == len(q)
    # rows share one x axis: all other axes match the bottom one (make_subplots shared_xaxes)
    matches = {fig.layout[key].matches for key in x_axes}
    assert len(matches - {None}) == 1
    # unit 0 at the top, units labelled in words
    assert fig.layout.yaxis.range == (7.5, -0.5)
    assert fig.layout.yaxis.ticktext[0] == "unit 0"
    titles = _texts(fig)
    assert "<b>forget gate f</b>" in titles and "<b>cell state c</b>" in titles


def test_heatmap_titles_use_the_quantity_colour() -> None:
    fig = quantity_heatmaps(_trace())
    for annotation in fig.layout.annotations:
        for key in "figoch":
            if annotation.text == f"<b>{style.label(key)}</b>":
                assert annotation.font.color == style.color(key)


def test_heatmap_colour_ranges() -> None:
    q = _trace()
    fig = quantity_heatmaps(q)
    for gate in "fio":
        trace = _by_name(fig, gate)
        assert (trace.zmin, trace.zmax) == (0.0, 1.0)
    for signed in "gch":
        trace = _by_name(fig, signed)
        assert trace.zmid == 0.0
        assert trace.zmin == -trace.zmax
    assert _by_name(fig, "c").zmax == pytest.approx(np.abs(q["c"]).max())


def test_heatmap_hover_reads_unit_step_and_value() -> None:
    fig = quantity_heatmaps(_trace())
    assert _by_name(fig, "f").hovertemplate.startswith("unit %{y}, step %{x}, f = %{z:.2f}")


def test_cursor_is_a_vertical_line_at_the_step_spanning_all_rows() -> None:
    fig = quantity_heatmaps(_trace(), step=37)
    (cursor,) = _shapes(fig, "cursor")
    assert cursor.type == "line"
    assert cursor.x0 == cursor.x1 == 37
    assert (cursor.xref, cursor.yref) == ("x", "paper")
    assert (cursor.y0, cursor.y1) == (0, 1)
    assert cursor.visible is True


def test_move_cursor_only_changes_the_cursor() -> None:
    fig = quantity_heatmaps(_trace(), step=3, focus_unit=2)
    before = fig.to_plotly_json()
    same = move_cursor(fig, 41)
    assert same is fig
    assert all(s.x0 == s.x1 == 41 for s in fig.layout.shapes if s.name.startswith("cursor"))
    after = fig.to_plotly_json()
    assert json.dumps(after["data"], default=str) == json.dumps(before["data"], default=str)
    assert [s for s in after["layout"]["shapes"] if not s["name"].startswith("cursor")] == [
        s for s in before["layout"]["shapes"] if not s["name"].startswith("cursor")
    ]


def test_no_step_means_a_hidden_cursor_that_move_cursor_shows() -> None:
    fig = quantity_heatmaps(_trace())
    assert _shapes(fig, "cursor")[0].visible is False
    move_cursor(fig, 5)
    assert _shapes(fig, "cursor")[0].visible is True


def test_focus_unit_outlines_its_row_in_every_heatmap() -> None:
    q = _trace()
    fig = quantity_heatmaps(q, focus_unit=5)
    focus = _shapes(fig, "focus")
    assert len(focus) == len(q)
    assert all((s.y0, s.y1) == (4.5, 5.5) for s in focus)
    assert {s.yref for s in focus} == {"y"} | {f"y{k}" for k in range(2, len(q) + 1)}
    assert "<b>unit 5</b>" in fig.layout.yaxis.ticktext


def test_input_row_lines_for_few_features_heatmap_for_many() -> None:
    q = _trace()
    x = np.sin(np.arange(50) / 5)
    fig = quantity_heatmaps(q, input_values=x)
    assert fig.data[0].type == "scatter" and fig.data[0].mode == "lines"
    assert len(_heatmaps(fig)) == len(q)
    assert "<b>input x</b>" in _texts(fig)
    many = quantity_heatmaps(q, input_values=RNG.normal(size=(50, 7)))
    assert many.data[0].type == "heatmap" and many.data[0].z.shape == (7, 50)
    two = quantity_heatmaps(q, input_values=RNG.normal(size=(50, 2)), feature_names=["a", "b"])
    assert [t.name for t in two.data[:2]] == ["a", "b"]


def test_text_input_shows_characters_as_tick_labels_when_short() -> None:
    text = "(a(b)c)" * 5
    q = _trace(n_steps=len(text))
    fig = quantity_heatmaps(q, input_labels=list(text))
    assert fig.layout.xaxis.showticklabels is True
    assert list(fig.layout.xaxis.ticktext) == list(text)
    assert list(fig.layout.xaxis.tickvals) == list(range(len(text)))
    long_text = "ab " * 100  # 300 steps: too many to read
    fig_long = quantity_heatmaps(_trace(n_steps=300), input_labels=list(long_text))
    assert fig_long.layout.xaxis.ticktext is None
    # a window makes them readable again, with spaces made visible
    fig_window = quantity_heatmaps(
        _trace(n_steps=300), input_labels=list(long_text), window=(0, 30)
    )
    assert list(fig_window.layout.xaxis.ticktext)[:3] == ["a", "b", "␣"]


def test_text_cursor_frames_the_current_character_instead_of_hiding_it() -> None:
    text = "([])" * 10
    fig = quantity_heatmaps(_trace(n_steps=len(text)), input_labels=list(text), step=7)
    (line,) = _shapes(fig, "cursor")
    (box,) = _shapes(fig, "cursor_box")
    assert line.x0 == line.x1 == 7 and line.y0 == 0
    assert line.y1 <= box.y0 < box.y1  # the line stops below the characters
    assert (box.x0, box.x1) == (6.5, 7.5)
    move_cursor(fig, 12)
    assert (box.x0, box.x1) == (11.5, 12.5) and line.x0 == 12
    with_values = quantity_heatmaps(
        _trace(n_steps=len(text)),
        input_labels=list(text),
        input_values=np.eye(4)[[0, 1, 2, 3] * 10],
    )
    (top,) = _shapes(with_values, "cursor_top")  # continues through the input heatmap
    assert top.y1 == 1 and top.visible is False


def test_window_shows_the_range_at_full_resolution() -> None:
    q = _trace(n_steps=10_000, units=64)
    fig = quantity_heatmaps(q, window=(1_000, 1_200), step=1_050)
    trace = _by_name(fig, "f")
    assert trace.z.shape == (64, 200)
    assert (trace.x0, trace.dx) == (1_000, 1)
    np.testing.assert_array_equal(trace.z, q["f"][1_000:1_200].T.astype(np.float32))
    assert tuple(fig.layout.xaxis.range) == (999.5, 1_199.5)
    assert "downsampled" not in fig.layout.title.text


def test_long_traces_are_downsampled_and_say_so() -> None:
    q = _trace(n_steps=10_000, units=64)
    q["f"][9_999, 3] = 0.0  # a closed forget gate at the very last step
    q["c"][4_321, 7] = -999.0  # a spike
    fig = quantity_heatmaps(q, step=5_000)
    trace = _by_name(fig, "c")
    assert trace.z.shape == (64, 1_250)  # 500_000 // (64 * 6) = 1302 -> windows of 8
    assert trace.dx == 8 and trace.x0 == 3.5
    assert "downsampled 10,000 → 1,250 columns, max-abs" in fig.layout.title.text
    assert trace.z.min() == -999.0
    assert trace.z[7, 4_321 // 8] == -999.0
    assert _by_name(fig, "c").zmin == -999.0
    # max-abs keeps the sign of the extreme; a gate's most extreme value is the farther from 0
    expected_f = downsample_time(q["f"].T, 1_250)[0]
    np.testing.assert_array_equal(_by_name(fig, "f").z, expected_f.astype(np.float32))
    assert "max-abs" in trace.hovertemplate


def test_heatmaps_send_float32_and_stay_small() -> None:
    rng = np.random.default_rng(1)
    q = {k: rng.random((10_000, 256), dtype=np.float32) for k in "fiogch"}
    fig = quantity_heatmaps(q, step=123, input_values=rng.normal(size=10_000))
    assert all(t.z.dtype == np.float32 for t in _heatmaps(fig))
    text = fig.to_json()
    assert '"dtype":"f4"' in text and '"f8"' not in text
    assert len(text) < 5_000_000
    cells = sum(t.z.size for t in _heatmaps(fig))
    assert cells <= 500_000


def test_heatmaps_accept_time_batch_units_and_reject_mismatched_lengths() -> None:
    q = _trace()
    fig = quantity_heatmaps({"c": q["c"][:, None, :]})
    assert _by_name(fig, "c").z.shape == (8, 50)
    with pytest.raises(ValueError, match="same number of steps"):
        quantity_heatmaps({"f": q["f"], "c": q["c"][:40]})
    with pytest.raises(ValueError):
        quantity_heatmaps({})
    with pytest.raises(ValueError):
        quantity_heatmaps(q, window=(60, 70))


def test_gru_quantities_get_their_colours() -> None:
    rng = np.random.default_rng(2)
    q = {"r": rng.random((20, 4)), "z": rng.random((20, 4)), "n": rng.uniform(-1, 1, (20, 4))}
    fig = quantity_heatmaps(q)
    assert (_by_name(fig, "z").zmin, _by_name(fig, "z").zmax) == (0.0, 1.0)
    assert _by_name(fig, "n").zmid == 0.0
    assert "<b>update gate z</b>" in _texts(fig)


def test_projector_heatmaps_are_bigger() -> None:
    q = _trace()
    normal, big = quantity_heatmaps(q), quantity_heatmaps(q, projector=True)
    assert big.layout.font.size > normal.layout.font.size
    assert big.layout.height > normal.layout.height
    assert _shapes(big, "cursor")[0].line.width > _shapes(normal, "cursor")[0].line.width


# --------------------------------------------------------------------------------------------
# diagram
# --------------------------------------------------------------------------------------------

VALUES = {
    "c_prev": 0.53,
    "h_prev": -0.21,
    "x": "(",
    "i": 0.72,
    "f": 0.91,
    "g": -0.64,
    "o": 0.35,
    "c": 0.3,
    "h": 0.1,
}
GRU_VALUES = {"h_prev": -0.2, "x": 0.5, "r": 0.3, "z": 0.8, "n": -0.5, "h": -0.26}


def _named(fig: go.Figure, name: str):
    items = [s for s in fig.layout.shapes if s.name == name]
    items += [a for a in fig.layout.annotations if a.name == name]
    return items


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_draws_a_fixed_canvas_with_title(variant: str) -> None:
    values = GRU_VALUES if variant == "gru" else VALUES
    fig = cell_diagram(values, variant, unit=5, step=37)
    assert "unit 5 at step 37" in fig.layout.title.text
    assert fig.layout.dragmode is False
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange
    assert tuple(fig.layout.xaxis.range) == (0, 20)
    assert len(fig.layout.shapes) > 5
    json.loads(fig.to_json())


def test_vanilla_diagram_shows_every_live_number() -> None:
    fig = cell_diagram(VALUES, "vanilla", unit=5, step=37)
    texts = " ".join(_texts(fig))
    for expected in (
        "f = 0.91",
        "i = 0.72",
        "g = −0.64",
        "o = 0.35",
        "c<sub>t−1</sub> = 0.53",
        "c<sub>t</sub> = 0.30",
        "h<sub>t</sub> = 0.10",
        "h<sub>t−1</sub> = −0.21",
        "x<sub>t</sub> = ‘(’",
        "f·c<sub>t−1</sub> = 0.48",  # 0.91 * 0.53
        "i·g = −0.46",  # 0.72 * -0.64
        "tanh c<sub>t</sub> = 0.29",
    ):
        assert expected in texts, expected
    for words in ("forget gate", "input gate", "candidate", "output gate"):
        assert words in texts
    assert texts.count("σ") == 3 and "tanh" in texts
    assert not _named(fig, "peep_f")


def test_gate_boxes_are_filled_with_their_colour_by_value() -> None:
    low = cell_diagram({**VALUES, "f": 0.05}, "vanilla")
    high = cell_diagram({**VALUES, "f": 0.95}, "vanilla")
    (box_low,), (box_high,) = _named(low, "box_f"), _named(high, "box_f")
    assert style._luminance(box_low.fillcolor) > style._luminance(box_high.fillcolor)
    assert box_low.fillcolor == style.gate_fill("f", 0.05)
    # the same hue as the heatmap scale of f
    assert box_high.fillcolor == style.gate_fill("f", 0.95)
    assert style.gate_colorscale("f")[1][1] == style.color("f")


def test_cell_state_line_is_drawn_in_the_colour_of_c() -> None:
    fig = cell_diagram(VALUES, "vanilla")
    (line,) = _named(fig, "c_in")
    assert line.line.color == style.color("c")
    (out,) = _named(fig, "h_out")
    assert out.line.color == style.color("h")


def test_peephole_draws_dashed_connections_to_f_i_o() -> None:
    fig = cell_diagram(VALUES, "peephole")
    for gate in "fio":
        (peep,) = _named(fig, f"peep_{gate}")
        assert peep.line.dash == "dash"
    (peep_o,) = _named(fig, "peep_o")
    assert peep_o.path.startswith("M 12.450,9.000")  # taps c_t on the cell line, after the +
    assert peep_o.path.endswith("L 12.450,5.525")  # straight into the top of the o box


def test_cifg_draws_one_minus_i_instead_of_a_forget_box() -> None:
    fig = cell_diagram({**VALUES, "f": None}, "cifg", unit=1, step=2)
    assert not _named(fig, "box_f")
    assert _named(fig, "one_minus")
    texts = " ".join(_texts(fig))
    assert "f = 1 − i = 0.28" in texts
    assert "f·c<sub>t−1</sub> = 0.15" in texts  # (1 - 0.72) * 0.53


@pytest.mark.parametrize(("variant", "gate"), [("nig", "i"), ("nfg", "f"), ("nog", "o")])
def test_removed_gates_are_greyed_boxes_equal_to_one(variant: str, gate: str) -> None:
    values = {k: v for k, v in VALUES.items() if k != gate}
    fig = cell_diagram(values, variant)
    (box,) = _named(fig, f"box_{gate}")
    assert box.line.dash == "dot"
    assert box.fillcolor != style.gate_fill(gate, 1.0)
    assert f"<b>{gate} = 1</b>" in _texts(fig)
    assert not _named(fig, f"feed_{gate}")  # not fed by [h, x]


def test_niaf_and_noaf_show_the_missing_activation() -> None:
    niaf = " ".join(_texts(cell_diagram(VALUES, "niaf")))
    assert "identity" in niaf
    noaf = cell_diagram(VALUES, "noaf")
    texts = " ".join(_texts(noaf))
    assert "no tanh" in texts
    (label,) = _named(noaf, "label_tanh_c")
    assert label.text == "c<sub>t</sub> = 0.30"
    assert "h = o·c" in texts


def test_projection_draws_m_and_w_hr() -> None:
    fig = cell_diagram({**VALUES, "m": 0.12}, "vanilla")
    texts = " ".join(_texts(fig))
    assert "m = 0.12" in texts and "W<sub>hr</sub>" in texts


def test_gru_and_rnn_have_their_own_diagrams() -> None:
    gru = cell_diagram(GRU_VALUES, "gru", unit=0, step=1)
    texts = " ".join(_texts(gru))
    for expected in ("r = 0.30", "z = 0.80", "n = −0.50", "h<sub>t</sub> = −0.26", "1−z = 0.20"):
        assert expected in texts
    assert not _named(gru, "box_f")
    rnn = cell_diagram({"h_prev": 0.1, "x": 1.0, "h": 0.4}, "rnn")
    rnn_texts = " ".join(_texts(rnn))
    assert "tanh" in rnn_texts and "h = 0.40" in rnn_texts
    assert "GRU" in gru.layout.title.text and "RNN" in rnn.layout.title.text


def test_diagram_handles_missing_values_and_vector_inputs() -> None:
    fig = cell_diagram({"x": np.array([0.1, 0.2, 0.3, 0.4])}, "vanilla")
    texts = " ".join(_texts(fig))
    assert "f = –" in texts and "c<sub>t</sub> = –" in texts
    assert "[0.10, 0.20, 0.30, …]" in texts


def test_diagram_rejects_unknown_variants() -> None:
    """(Its speed is measured by ``python -m lstm_viz.bench.app_step``, not here.)"""
    with pytest.raises(ValueError, match="unknown variant"):
        cell_diagram(VALUES, "lstm2000")
    assert set(LSTM_VARIANTS) < set(VARIANTS)


def test_projector_diagram_is_larger() -> None:
    normal, big = cell_diagram(VALUES), cell_diagram(VALUES, projector=True)
    assert big.layout.width > normal.layout.width
    size = {a.name: a.font.size for a in normal.layout.annotations if a.name}
    size_big = {a.name: a.font.size for a in big.layout.annotations if a.name}
    assert size_big["value_f"] > size["value_f"]


def test_diagram_width_scales_fonts_so_it_never_overlaps() -> None:
    small = cell_diagram(VALUES, width=640)
    normal = cell_diagram(VALUES)
    assert (small.layout.width, small.layout.height) == (640, 384)
    assert (normal.layout.width, normal.layout.height) == (1000, 600)
    size = {a.name: a.font.size for a in normal.layout.annotations if a.name}
    size_small = {a.name: a.font.size for a in small.layout.annotations if a.name}
    assert size_small["value_f"] == pytest.approx(size["value_f"] * 0.64)


# --------------------------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------------------------


def test_gradient_flow_log_scale_one_line_per_model() -> None:
    steps = np.arange(60)
    curves = {
        "LSTM": 0.97 ** (59 - steps),
        "GRU": 0.9 ** (59 - steps),
        "RNN": np.where(steps > 10, 0.5 ** (59 - steps), 0.0),
    }
    fig = gradient_flow(curves, target_step=59)
    assert fig.layout.yaxis.type == "log"
    assert [t.name for t in fig.data] == ["LSTM", "GRU", "RNN"]
    assert fig.data[0].line.color == style.MODEL_COLORS["LSTM"]
    assert np.isnan(fig.data[2].y[:11]).all()  # zeros cannot be drawn on a log axis
    np.testing.assert_array_equal(fig.data[0].x, steps)
    (target,) = _shapes(fig, "target")
    assert target.x0 == 59
    per_unit = gradient_flow({"LSTM": np.ones((5, 4))})
    np.testing.assert_allclose(per_unit.data[0].y, 2.0)  # norm over 4 units of ones


def test_gradient_heatmap_uses_log10_of_the_magnitude() -> None:
    values = np.full((30, 4), 1e-3)
    values[29, 2] = -10.0
    values[0, 0] = 0.0
    fig = gradient_heatmap(values, target_step=29, step=5)
    trace = fig.data[0]
    assert trace.z.shape == (4, 30)
    assert trace.z[2, 29] == pytest.approx(1.0)
    assert trace.z[1, 3] == pytest.approx(-3.0)
    assert np.isnan(trace.z[0, 0])
    assert trace.zmax == 1.0 and trace.zmin == -9.0
    assert "10<sup>" in trace.colorbar.ticktext[0]
    assert _shapes(fig, "cursor")[0].x0 == 5


def test_forget_product_one_or_many_units() -> None:
    one = forget_product(np.linspace(0.01, 1, 20), target_step=19)
    assert one.layout.yaxis.type == "log" and len(one.data) == 1
    assert one.data[0].line.color == style.color("f")
    many = forget_product(np.ones((20, 5)) * 0.5)
    assert len(many.data) == 6 and many.data[-1].name == "median over units"


def test_saturation_scatter_one_trace_per_gate_with_unit_customdata() -> None:
    left = np.array([[0.1, 0.0, 0.5], [0.2, 0.3, 0.0]])
    right = np.array([[0.8, 1.0, 0.1], [0.0, 0.6, 0.9]])
    fig = saturation_scatter(left, right, ["f", "i"])
    assert [t.name for t in fig.data] == ["forget gate f", "input gate i"]
    assert fig.data[0].marker.color == style.color("f")
    np.testing.assert_array_equal(fig.data[1].customdata, [0, 1, 2])
    np.testing.assert_allclose(fig.data[0].y, [0.8, 1.0, 0.1], rtol=1e-6)
    assert fig.data[0].hovertemplate.startswith(
        "unit %{customdata}, forget gate: %{y:.0%} right-saturated"
    )
    (triangle,) = _shapes(fig, "triangle")
    assert triangle.path == "M 0,0 L 1,0 L 0,1 Z"
    with pytest.raises(ValueError):
        saturation_scatter(left, right[:, :2], ["f", "i"])


def test_loss_curve_single_and_several_runs() -> None:
    fig = loss_curve([1.0, 0.5, 0.25])
    assert list(fig.data[0].y) == [1.0, 0.5, 0.25]
    assert fig.data[1].text == ("0.250",)
    several = loss_curve({"vanilla": [2.0, 1.0], "cifg": [2.0, 0.5]}, log_y=True)
    assert several.layout.yaxis.type == "log"
    names = [t.name for t in several.data if t.mode == "lines"]
    assert names == ["vanilla (1.000)", "cifg (0.500)"]
    assert loss_curve([]).data[0].y.size == 0  # a live curve starts empty


def test_difference_heatmap_is_b_minus_a_on_a_symmetric_scale() -> None:
    a = RNG.normal(size=(40, 6))
    b = a + 0.5
    b[10, 2] = a[10, 2] - 2.0
    fig = difference_heatmap(a, b, names=("vanilla", "cifg"), step=10)
    trace = fig.data[0]
    np.testing.assert_allclose(trace.z, (b - a).T, rtol=1e-6)
    assert trace.zmid == 0.0 and trace.zmin == -trace.zmax == -2.0
    assert "cifg − vanilla" in fig.layout.title.text
    assert _shapes(move_cursor(fig, 20), "cursor")[0].x0 == 20
    with pytest.raises(ValueError):
        difference_heatmap(a, b[:, :3])


# --------------------------------------------------------------------------------------------
# export and purity
# --------------------------------------------------------------------------------------------


def test_figure_to_html_is_standalone() -> None:
    html = figure_to_html(cell_diagram(VALUES, "vanilla", unit=5, step=37))
    assert isinstance(html, bytes)
    assert html.lstrip().lower().startswith(b"<!doctype html>")
    assert len(html) > 1_000_000  # plotly.js inlined
    assert b"<script src=" not in html  # nothing fetched from a CDN
    assert b"unit 5 at step 37" in html


def test_plots_package_imports_no_streamlit() -> None:
    folder = Path(__file__).resolve().parents[2] / "lstm_viz" / "plots"
    for path in folder.glob("*.py"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path.name


@pytest.mark.slow
def test_figure_to_png_returns_png_bytes_and_reuses_chromium() -> None:
    signature = b"\x89PNG\r\n\x1a\n"
    from unittest import mock

    import kaleido

    first = figure_to_png(cell_diagram(VALUES, "peephole", unit=5, step=37))
    assert first[:8] == signature
    # the server is already running: the second export starts no new browser
    with mock.patch.object(kaleido, "start_sync_server", side_effect=AssertionError("restart")):
        second = figure_to_png(quantity_heatmaps(_trace(), step=3), scale=1)
    assert second[:8] == signature
    width = int.from_bytes(first[16:20], "big")
    assert width == 2 * 1000  # scale 2 of the diagram's 1000 px


@pytest.mark.parametrize("variant", ["vanilla", "peephole", "cifg", "nig", "nfg", "nog", "niaf",
                                     "noaf", "gru", "rnn"])
def test_diagram_is_valid_plotly(variant):
    """The diagram skips plotly's validation for speed; here every property is validated."""
    from lstm_viz.plots.diagram import cell_diagram

    values = {"i": 0.3, "f": 0.9, "g": -0.2, "o": 0.6, "c": 0.4, "h": 0.2, "c_prev": 0.1,
              "h_prev": -0.3, "x": "(", "r": 0.4, "z": 0.7, "n": 0.1}
    fig = cell_diagram(values, variant, unit=1, step=2)
    go.Figure(fig.to_dict())          # raises on any invalid property
    assert len(fig.layout.shapes) > 5 and len(fig.layout.annotations) > 5
