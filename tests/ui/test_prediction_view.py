"""The stepper's prediction line (issue #15): predicted tokens and targets show as visible chips,
a space as "␣" and a newline as "↵", never as an empty chip or a broken line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import open_page

from lstm_viz.ui.prediction_view import head_readout, top_tokens
from lstm_viz.ui.safe_text import chip, visible_token
from lstm_viz.workbench import example_sequence


@pytest.mark.parametrize(("token", "shown"), [
    (" ", "␣"), ("\n", "↵"), ("\t", "⇥"), ("a b", "a␣b"), ("\x01", "␁"), ("e", "e"), ("", "∅"),
])
def test_visible_token(token: str, shown: str) -> None:
    assert visible_token(token) == shown


def test_chip_is_never_empty_and_keeps_a_backtick_literal() -> None:
    assert chip(" ") == "`␣`"
    assert chip("\n") == "`↵`"
    assert chip("`") == "`` ` ``"
    assert chip("x" * 100).endswith("…`") and len(chip("x" * 100)) == 26


def test_top_tokens_orders_by_probability_with_visible_chips() -> None:
    out = np.log(np.array([0.1, 0.6, 0.3]))
    assert top_tokens(out, ("a", " ", "\n")) == "`␣` 60%, `↵` 30%, `a` 10%"
    assert top_tokens(out, None, k=1) == "`1` 60%"          # no names: the output index


def test_head_readout_without_names_lists_raw_outputs() -> None:
    assert head_readout(np.arange(10.0), None).startswith("Model output: 0.000, 1.000")
    assert "(10 outputs)" in head_readout(np.arange(10.0), None)
    assert head_readout(np.log(np.array([0.2, 0.8])), (" ", "x")) == \
        "Model predicts: `x` 80%, `␣` 20%"


def _markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_text_task_shows_a_space_target_and_prediction_as_visible_chips() -> None:
    at = open_page(state={"task": "text", "seq_source": "example"})
    seq = example_sequence("text", seed=int(at.session_state["example_seed"]))
    vocab = seq.vocab
    target = np.asarray(seq.meta["target"])
    step = int(np.flatnonzero(np.array([vocab[int(k)] for k in target]) == " ")[0])
    at.session_state["step"] = step
    at.run()
    lines = _markdown(at)
    assert "Target: `␣`" in lines
    [predicted] = [m for m in lines if m.startswith("Model predicts: ")]
    assert "``" not in predicted and "` `" not in predicted
    assert predicted.count("%") == 3
