"""What the model's readout says at the focused step, beside the task's target (the stepper).

Predicted tokens and targets show as code chips with their invisible characters made visible
(`safe_text.chip`: a space is "␣", a newline "↵"), never as an empty chip.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz.training.tasks import TASKS
from lstm_viz.workbench import Loaded

from .safe_text import chip

TOP = 3                  # tokens listed, the most likely first
RAW_OUTPUTS = 8          # outputs listed when they have no names


def _softmax(out: np.ndarray) -> np.ndarray:
    p = np.exp(out - out.max())
    return p / p.sum()


def top_tokens(out: np.ndarray, names: tuple[str, ...] | None, k: int = TOP) -> str:
    """"`␣` 50%, `e` 20%, `a` 8%": the ``k`` most likely of the outputs (softmax) as chips."""
    p = _softmax(np.asarray(out, dtype=np.float64))
    names = names if names is not None and len(names) == p.shape[0] else tuple(
        str(j) for j in range(p.shape[0]))
    return ", ".join(f"{chip(names[j])} {p[j]:.0%}" for j in np.argsort(p)[::-1][:k])


def head_readout(out: np.ndarray, vocab: tuple[str, ...] | None) -> str:
    """An uploaded head's outputs at one step: the top 3 names (softmax) when the outputs are
    named (its tags, or the vocabulary's tokens), else the raw outputs (the first 8)."""
    if vocab is not None and len(vocab) == out.shape[0]:
        return "Model predicts: " + top_tokens(out, tuple(vocab))
    more = f", … ({out.shape[0]:,} outputs)" if out.shape[0] > RAW_OUTPUTS else ""
    return "Model output: " + ", ".join(f"{v:.3f}" for v in out[:RAW_OUTPUTS]) + more


def target_text(loaded: Loaded, step: int, from_example: bool) -> str | None:
    """"Target: `␣`" at ``step`` (the task example's target; a whole-sequence target at the last
    step), None when there is none to show."""
    trained = loaded.model.trained
    seq = loaded.sequence
    target = seq.meta.get("target") if from_example and trained is not None else None
    if target is None:
        return None
    task = TASKS[trained.task]
    target = np.asarray(target)
    if target.ndim >= 1 and target.shape[0] == seq.length:
        shown = target[step]
    elif not task.per_step and step == seq.length - 1:
        shown = target
    else:
        return None
    if task.loss == "ce" and task.vocab is not None and np.ndim(shown) == 0:
        return f"Target: {chip(task.vocab[int(shown)])}"
    if isinstance(shown, str):
        return f"Target: {chip(shown)}"
    return "Target: " + chip(", ".join(f"{v:.3g}" for v in np.ravel(shown)), 0)


def prediction_text(loaded: Loaded, step: int) -> str | None:
    """The readout's line at ``step``: the top tokens of a classifier, else its outputs."""
    pred = loaded.prediction()
    if pred is None:
        return None
    model = loaded.model
    if model.trained is None:                  # an uploaded head: its own vocabulary
        return head_readout(pred[step], model.head_labels or model.vocab)
    task = TASKS[model.trained.task]
    if task.loss == "ce":
        return "Model predicts: " + top_tokens(pred[step], task.vocab)
    return "Model output: " + ", ".join(f"{v:.3f}" for v in pred[step])


def show_prediction(loaded: Loaded, step: int) -> None:
    """What the trained model's readout says at this step, beside the task's target."""
    line = prediction_text(loaded, step)
    if line is None:
        return
    st.markdown(line)
    target = target_text(loaded, step, st.session_state.get("seq_source") == "example")
    if target is not None:
        st.markdown(target)
