"""The "Compare variants" page in AppTest: every task, two and three variants, GRU / RNN, and the
numbers it shows checked against the analysis and the core computed here independently."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from conftest import no_exception, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.analysis import compare_variants
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots.downsample import downsample_time
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import list_shipped, load_shipped
from lstm_viz.workbench import example_sequence

PAGE = "pages/1_Compare_variants.py"
LOSSES = "mean loss on this sequence"


def shipped(task: str) -> list[str]:
    return [v for t, v in list_shipped() if t == task]


def needs(task: str, *variants: str) -> None:
    missing = [v for v in variants if v not in shipped(task)]
    if missing:
        pytest.skip(f"no shipped {task} model for {', '.join(missing)}")


def new_page(task: str = "brackets", **state) -> AppTest:
    return open_page(PAGE, state={"task": task, **state}, timeout=90)


def run(at: AppTest) -> AppTest:
    at.run()
    no_exception(at)
    return at


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly figures on the page by title (the first line of it)."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"]["title"]["text"].split("<br>")[0]
        out[title] = spec
    return out


def decode(value) -> np.ndarray:
    """A plotly 7 array: base64 {"dtype", "bdata", "shape"} or a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if value.get("shape"):
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array
    return np.asarray(value, dtype=np.float64)


def loss_table(at: AppTest):
    [table] = [d.value for d in at.dataframe if LOSSES in d.value.columns]
    return table


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_renders(task):
    needs(task, "vanilla", "peephole", "cifg")
    at = new_page(task)
    assert at.title[0].value == "Compare variants"
    assert at.multiselect(key="w_compare").value == ["vanilla", "peephole", "cifg"]
    shown = charts(at)
    for v in ("vanilla", "peephole", "cifg"):
        assert any(title.startswith(f"{v}: ") for title in shown)
    assert any("peephole − vanilla" in title for title in shown)       # the difference
    assert ("Loss at every step of this sequence" in shown) == TASKS[task].per_step
    assert list(loss_table(at)["variant"]) == ["vanilla", "peephole", "cifg"]
    assert not at.error and not at.warning
    assert any("max |f + i − 1|" in m.value for m in at.markdown)


def test_two_then_three_variants():
    needs("brackets", "vanilla", "peephole", "cifg")
    at = new_page()
    at.multiselect(key="w_compare").set_value(["vanilla", "cifg"])
    run(at)
    assert list(loss_table(at)["variant"]) == ["vanilla", "cifg"]
    shown = charts(at)
    assert len(shown) == 2 + 2                                           # heatmaps, loss, diff
    assert "cell state c: cifg − vanilla" in shown
    at.multiselect(key="w_compare").set_value(["cifg", "vanilla", "peephole"])
    run(at)
    assert list(loss_table(at)["variant"]) == ["vanilla", "peephole", "cifg"]
    assert len(charts(at)) == 3 + 2
    # the choice survives a change of quantity and a move of the step
    at.radio(key="w_cmp_quantity").set_value("c")
    at.slider(key="w_step").set_value(7)
    run(at)
    assert at.multiselect(key="w_compare").value == ["cifg", "vanilla", "peephole"]
    for title, spec in charts(at).items():
        if title.startswith(("vanilla:", "peephole:", "cifg:")):
            cursor = [s for s in spec["layout"]["shapes"] if s.get("name") == "cursor"]
            assert cursor and cursor[0]["x0"] == 7
    # one colour range for the three cell states
    ranges = {(t["zmin"], t["zmax"]) for spec in charts(at).values() for t in spec["data"]
              if t.get("type") == "heatmap" and t.get("name") == "c"}
    assert len(ranges) == 1


def test_losses_equal_compare_variants():
    variants = ["vanilla", "peephole", "cifg"]
    needs("brackets", *variants)
    at = new_page(example_seed=3)
    seq = example_sequence("brackets", seed=3)
    models = {v: load_shipped("brackets", v) for v in variants}
    expected = compare_variants({v: m.recurrent() for v, m in models.items()}, seq.values,
                                seq.meta["target"], "brackets", heads=models)
    table = loss_table(at)
    np.testing.assert_allclose(table[LOSSES].to_numpy(dtype=float),
                               [expected[v].mean_loss for v in variants], rtol=1e-12)
    np.testing.assert_allclose(table["held-out accuracy"].to_numpy(dtype=float),
                               [models[v].metric_value for v in variants], rtol=1e-12)
    curve = charts(at)["Loss at every step of this sequence"]
    lines = {t["name"].split()[0]: decode(t["y"]) for t in curve["data"]
             if t.get("mode") == "lines"}
    assert set(lines) == set(variants)
    for v in variants:
        np.testing.assert_allclose(lines[v], expected[v].loss, rtol=1e-12)


def test_difference_heatmap_is_the_difference_of_the_core_cell_states():
    needs("brackets", "vanilla", "cifg")
    at = new_page()
    at.selectbox(key="w_cmp_a").set_value("cifg")
    at.selectbox(key="w_cmp_b").set_value("vanilla")
    run(at)
    seq = example_sequence("brackets", seed=0)
    c = {v: load_shipped("brackets", v).recurrent().trace(seq.values).get("c")[:, 0]
         for v in ("cifg", "vanilla")}
    want = c["vanilla"].astype(np.float64) - c["cifg"].astype(np.float64)   # b − a
    spec = charts(at)["cell state c: vanilla − cifg"]
    [heat] = [t for t in spec["data"] if t.get("type") == "heatmap"]
    z = decode(heat["z"])
    width = int(round(heat.get("dx", 1)))
    pooled, _ = downsample_time(want.T, -(-want.shape[0] // width))
    assert z.shape == pooled.shape == (c["cifg"].shape[1], seq.length // width)
    np.testing.assert_allclose(z, pooled, rtol=1e-6, atol=1e-6)
    # the sentence above it names the same largest gap
    t, u = np.unravel_index(np.argmax(np.abs(want)), want.shape)
    assert any(f"at unit {u}, step {t}." in m.value for m in at.markdown)


def test_gru_and_rnn_show_what_exists():
    needs("brackets", "vanilla", "gru", "rnn")
    at = new_page()
    at.multiselect(key="w_compare").set_value(["vanilla", "gru", "rnn"])
    run(at)
    captions = " ".join(c.value for c in at.caption)
    assert "gru, rnn have no forget gate f: not shown." in captions
    assert [t for t in charts(at) if t.startswith(("vanilla:", "gru:", "rnn:"))] == [
        "vanilla: LSTM (torch.nn.LSTM)"]
    assert "reset gate r" in at.radio(key="w_cmp_quantity").options
    at.radio(key="w_cmp_quantity").set_value("c")
    run(at)
    captions = " ".join(c.value for c in at.caption)
    assert "gru, rnn have no separate cell state" in captions
    assert len([t for t in charts(at) if t.startswith(("vanilla:", "gru:", "rnn:"))]) == 3
    # the difference of a cell state and a hidden state is labelled as such
    assert "vanilla's c and gru's h: gru − vanilla" in charts(at)
    at.radio(key="w_cmp_quantity").set_value("z")
    run(at)
    assert [t for t in charts(at) if t.startswith(("vanilla:", "gru:", "rnn:"))] == [
        "gru: GRU (torch.nn.GRU)"]


def test_an_uploaded_sequence_that_fits_is_compared_without_targets():
    needs("brackets", "vanilla", "peephole", "cifg")
    values = example_sequence("brackets", seed=5).values[:12]
    mine = Sequence(values=values, name="mine.csv", feature_names=("(", ")"))
    at = new_page(uploaded_sequence=mine, seq_source="upload")
    assert any("mine.csv" in c.value and "12 steps" in c.value for c in at.caption)
    assert loss_table(at)[LOSSES].isna().all()
    assert any("no targets" in i.value for i in at.info)
    assert "Loss at every step of this sequence" not in charts(at)
