"""The Learn page's text, PyTorch usage and evidence, without the page."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.core import TABLE, Config, Recurrent
from lstm_viz.teaching import lessons
from lstm_viz.teaching.learn import TorchUsage, intro, meaning, with_math
from lstm_viz.teaching.numbers import fmt, fmt_latex, latex_symbol, sci
from lstm_viz.workbench import torch_call


def test_intro_and_meaning_follow_the_row() -> None:
    texts = {name: intro(row) for name, row in TABLE.items()}
    assert "exactly what `torch.nn.LSTM`" in texts["vanilla"]
    assert "torch.nn.GRU" in texts["gru"] and "torch.nn.RNN" in texts["rnn"]
    assert "$f_t = 1 - i_t$" in texts["cifg"]
    assert "Search Space Odyssey" in texts["nog"]
    assert meaning("h", TABLE["rnn"]).startswith("The hidden state is the plain RNN's")
    assert meaning("f", TABLE["vanilla"]).startswith("The forget gate")


def test_with_math_sets_symbols() -> None:
    assert with_math("keeps c_{t-1} and g_t") == "keeps $c_{t-1}$ and $g_{t}$"


@pytest.mark.parametrize("name", ["vanilla", "gru", "peephole"])
def test_torch_usage(name: str) -> None:
    rec = Recurrent(3, 5, num_layers=2, variant=name, seed=0)
    usage = TorchUsage(rec, 7, batch=4, batch_first=True, bidirectional=True, with_hx=True)
    flipped = Recurrent(3, 5, num_layers=2, variant=name, seed=0, batch_first=True,
                        bidirectional=True)
    assert usage.call == torch_call(flipped)           # the options reach the constructor
    assert usage.shape["output"] == (4, 7, 10)
    assert [r["tensor"] for r in usage.rows()][:2] == ["x", "output"]
    code = usage.snippet()
    assert f"= {usage.call}" in code and "torch.randn(4, 7, 3)" in code
    assert ("from torch import nn" in code) == (TABLE[name].torch_class is not None)
    assert usage.native == (f"torch.nn.{TABLE[name].torch_class}"
                            if TABLE[name].torch_class else None)
    params = {r["parameter"]: r["value here"] for r in usage.parameters()}
    assert params["bidirectional"] == "True" and params["num_layers"] == "2"
    assert ("proj_size" in params) == TABLE[name].is_lstm


def test_unbatched_usage_symbols() -> None:
    usage = TorchUsage(Recurrent(2, 3, seed=0), 9, None, False, False, False)
    assert usage.symbolic("x") == "(L, H_in)" and usage.symbolic("c_n") == "(D·layers, H_cell)"
    assert "h_0" not in usage.shape


def test_lessons_helpers() -> None:
    assert lessons.first_zero(np.array([0.0, 0.0, 1e-3, 1.0])) == 1
    assert lessons.first_zero(np.array([1e-3, 1.0])) is None
    n_lstm, n_rnn = lessons.parameter_counts(Config(2, 3))
    assert n_lstm == 4 * 3 * (2 + 3) + 2 * 4 * 3
    assert n_rnn == 3 * (2 + 3) + 2 * 3
    text = lessons.lengths_caption((10, 80), (1.0, 0.99), (10, 80), (0.05, 0.3))
    assert "a latch" in text
    assert "a latch" not in lessons.lengths_caption((10, 80), (1.0, 0.5), (10, 80), (0.05, 0.3))
    curves = {lessons.LSTM_CELL: np.array([1e-3, 1.0]), lessons.LSTM_H: np.array([1e-5, 1.0]),
              lessons.RNN_H: np.array([0.0, 1.0])}
    caption = lessons.gradient_caption(curves, {"rnn": 0.25, "vanilla": 1.0}, steps=2)
    assert "exactly 0 (below float32's range) from step 0 back" in caption


def test_the_one_formatter() -> None:
    assert fmt(-0.004) == "-4.0e-03" and fmt(2.3149) == "2.31"
    assert fmt(-0.0001, kind="label") == "−1e−4" and fmt(None, kind="label") == "–"
    assert fmt(-0.00004, 4, kind="table") == "−4.0e−05"
    assert fmt(-0.0, 2, kind="table") == "0.00" and fmt(-0.5, kind="table") == "−0.50"
    assert fmt(-1e-9, 4, kind="table") == "−1.0e−09"
    assert fmt_latex(-1.2e-5, paren=True) == r"(-1.2 \times 10^{-5})"
    assert latex_symbol("z_f") == "z_{f}" and sci(3e-7) == "3e−07" and sci(0) == "0"
