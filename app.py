"""Step through: an LSTM reads a sequence one step at a time, and you watch every gate move."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
from functools import partial

import numpy as np
import plotly.io
import streamlit as st

from lstm_viz.plots.heatmaps import quantity_heatmaps
from lstm_viz.training.tasks import TASKS
from lstm_viz.ui import page
from lstm_viz.ui.explain_panel import explain_panel
from lstm_viz.ui.exports import figure_downloads, trace_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.heatmap_view import heatmap_view
from lstm_viz.ui.player import player
from lstm_viz.ui.presets_view import presets_view
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import needs_full_run, set_value
from lstm_viz.ui.stepper import numbers_at, stepper, stepper_ready
from lstm_viz.ui.steps import controls, go_to, on_player_request, server_view
from lstm_viz.ui.torch_badge import torch_badge
from lstm_viz.workbench import sequence_key

SPEEDS = (1, 2, 5, 10)         # steps a second while playing, when the server keeps up
DIAGRAM_WIDTH = 1000          # px at most; the SVG (and its fonts) shrink to the page width
LONG_SEQUENCE = 2_000          # above this, offer a zoom window at full resolution

loaded = page("Step through")
ss = st.session_state
seq, rec = loaded.sequence, loaded.recurrent
last = seq.length - 1
# Labels that are characters (text, brackets, symbols) are shown as such; longer ones (the
# numbers of a sine wave) are not tick labels: the values are drawn as a line instead.
chars = seq.labels if seq.labels and max(map(len, seq.labels)) <= 2 else None

st.title("Step through an LSTM")
task = TASKS.get(ss["task"])
if task is not None and ss["seq_source"] == "example":
    st.markdown(f"**{task.title}.** {task.description}")
st.caption(f"{plain(loaded.model.label, 120)} · {seq.length:,} steps · use ← → to step, "
           "space to play")
torch_badge(loaded)

# -- the step controls and the live view: in the browser's component once it is mounted ----------
@st.fragment
def live_view() -> None:
    """The part that moves at every step: the controls, the cell diagram, the numbers around it.

    In a browser the stepper component (ui.stepper) draws it and steps and plays with no server
    round trip; it tells the server the step (debounced), which reruns only this fragment. Until
    the component is mounted (and under AppTest, always) the server draws it (ui.steps), and the
    player at its end asks for the next step while playing.
    """
    if needs_full_run():        # play ended, or a change outside arrived with a play request
        st.rerun()
    step, unit = int(ss["step"]), int(ss["unit"])
    layer, direction = int(ss["layer"]), int(ss["direction"])
    numbers = numbers_at(loaded, step, unit, layer, direction)
    stepper(loaded, unit, layer, direction, projector=bool(ss["projector"]), width=DIAGRAM_WIDTH)
    if stepper_ready():
        show_prediction(step)
    else:
        controls(last, SPEEDS)
        server_view(loaded, numbers, width=DIAGRAM_WIDTH, projector=bool(ss["projector"]),
                    prediction=show_prediction)
    explain_panel(loaded, numbers)
    if not stepper_ready():
        player(step, last, bool(ss["playing"]), 1 / int(ss["speed"]),
               partial(on_player_request, last))


def head_readout(out: np.ndarray, vocab: tuple[str, ...] | None) -> str:
    """An uploaded head's outputs at one step: the top 3 names (softmax) when the outputs are
    named (its tags, or the vocabulary's tokens), else the raw outputs (the first 8)."""
    if vocab is not None and len(vocab) == out.shape[0]:
        p = np.exp(out - out.max())
        p /= p.sum()
        top = np.argsort(p)[::-1][:3]
        return "Model predicts: " + ", ".join(f"**{plain(repr(vocab[k]), 24)}** {p[k]:.0%}"
                                              for k in top)
    more = f", … ({out.shape[0]:,} outputs)" if out.shape[0] > 8 else ""
    return "Model output: " + ", ".join(f"{v:.3f}" for v in out[:8]) + more


def show_prediction(step: int) -> None:
    """What the trained model's readout says at this step, beside the task's target."""
    pred = loaded.prediction()
    if pred is None:
        return
    if loaded.model.trained is None:            # an uploaded head: its own vocabulary
        st.markdown(head_readout(pred[step], loaded.model.head_labels or loaded.model.vocab))
        return
    task = TASKS[loaded.model.trained.task]
    target = seq.meta.get("target") if ss["seq_source"] == "example" else None
    if task.loss == "ce":
        p = np.exp(pred[step] - pred[step].max())
        p /= p.sum()
        top = np.argsort(p)[::-1][:3]
        names = task.vocab or tuple(str(k) for k in range(len(p)))
        st.markdown("Model predicts: " + ", ".join(f"`{names[k]}` {p[k]:.0%}" for k in top))
    else:
        st.markdown("Model output: " + ", ".join(f"{v:.3f}" for v in pred[step]))
    if target is not None:
        target = np.asarray(target)
        if target.ndim >= 1 and target.shape[0] == seq.length:
            shown = target[step]
        elif not task.per_step and step == last:
            shown = target
        else:
            return
        if task.loss == "ce" and task.vocab is not None and np.ndim(shown) == 0:
            shown = task.vocab[int(shown)]
        if isinstance(shown, str):
            text = shown
        else:
            text = ", ".join(f"{v:.3g}" for v in np.ravel(shown))
        st.markdown(f"Target: `{text}`")


live_view()

# -- the whole sequence: heatmaps, units x time, cursor at the step ---------------------------
st.subheader("Every unit over the whole sequence")
window = None
if seq.length > LONG_SEQUENCE:
    if st.toggle("Zoom into a window at full resolution", key="zoom"):
        step = int(ss["step"])
        half = 500
        window = (max(0, step - half), min(last, step + half))
        st.caption(f"Window {window[0]}–{window[1]} around the current step.")


def heatmap_spec(layer: int, direction: int, window: tuple[int, int] | None) -> tuple[str, str]:
    """The heatmaps of this view as (JSON, key), built once and kept in the session."""
    key = "|".join(map(str, (loaded.model.key, sequence_key(seq), layer, direction, window,
                             ss["projector"], int(ss["unit"]),
                             hash((tuple(seq.feature_names), tuple(chars or ()))))))
    cached = ss.get("_heatmaps")
    if cached is None or cached[0] != key:
        fig = quantity_heatmaps(
            loaded.quantities(layer, direction), step=int(ss["step"]),
            input_values=seq.values, input_labels=chars, feature_names=seq.feature_names,
            focus_unit=int(ss["unit"]), window=window, projector=bool(ss["projector"]))
        ss["_heatmaps"] = cached = (key, fig.to_json())
    return cached[1], key


with shown_as_message("drawing the heatmaps"):      # the live view above stays
    spec, fig_key = heatmap_spec(int(ss["layer"]), int(ss["direction"]), window)
click = heatmap_view(spec, fig_key)
with st.expander("Export: these heatmaps, the whole trace, the model"):
    figure_downloads(lambda: plotly.io.from_json(spec), "heatmaps", key="heatmaps_export")
    trace_downloads(loaded)
if click and click.get("key") == fig_key and click.get("n") != ss.get("_last_click"):
    ss["_last_click"] = click.get("n")           # a click on a cell: jump there
    if click.get("unit") is not None:
        set_value("unit", int(click["unit"]))
    go_to(int(click["step"]), last)
    st.rerun()

presets_view()
