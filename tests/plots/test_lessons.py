"""The Learn page's evidence figures, on made-up numbers."""

from __future__ import annotations

import numpy as np

from lstm_viz.plots.lessons import gradient_survival_figure, length_figure
from lstm_viz.teaching.lessons import LSTM_CELL, LSTM_H, RNN_H


def test_gradient_survival_figure_marks_where_the_rnn_is_zero() -> None:
    steps = 10
    curves = {LSTM_CELL: np.linspace(0.1, 1, steps), LSTM_H: np.linspace(0.01, 1, steps),
              RNN_H: np.r_[np.zeros(4), np.logspace(-6, 0, steps - 4)]}
    fig = gradient_survival_figure(curves, steps)
    dashes = {t.name: t.line.dash for t in fig.data}
    assert dashes[LSTM_H] == "dot" and dashes[LSTM_CELL] != "dot"
    [note] = [a for a in fig.layout.annotations if a.text.startswith("RNN: exactly 0")]
    assert note.x == 4
    big = gradient_survival_figure(curves, steps, projector=True)
    assert big.layout.height > fig.layout.height


def test_length_figure_has_two_panels_and_the_baselines() -> None:
    fig = length_figure((1, 2), (10, 20), (1.0, 0.9), (10, 20), (0.05, 0.2))
    bars = [t for t in fig.data if t.type == "bar"]
    assert [list(b.y) for b in bars] == [[1.0, 0.9], [0.05, 0.2]]
    assert list(bars[0].x) == ["10<br>(trained)", "20<br>(2×)"]
    texts = [a.text for a in fig.layout.annotations]
    assert "chance: 25%" in texts and "always guessing 1.0" in texts
