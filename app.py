"""Step through: an LSTM reads a sequence one step at a time, and you watch every gate move."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
from functools import partial

import plotly.io
import streamlit as st

from lstm_viz.plots.diagram import cell_diagram
from lstm_viz.plots.heatmaps import quantity_heatmaps
from lstm_viz.plots.svg import figure_svg
from lstm_viz.teaching.step import UnitStep, unit_step
from lstm_viz.training.tasks import TASKS
from lstm_viz.ui import page
from lstm_viz.ui.explain_panel import explain_panel
from lstm_viz.ui.exports import diagram_downloads, figure_downloads, trace_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.heatmap_view import heatmap_view
from lstm_viz.ui.player import player
from lstm_viz.ui.prediction_view import show_prediction
from lstm_viz.ui.presets_view import presets_view
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import bind, needs_full_run, set_value
from lstm_viz.ui.steps import go_to, on_player_request, set_playing, step_by
from lstm_viz.ui.torch_badge import torch_badge
from lstm_viz.workbench import sequence_key

SPEEDS = (1, 2, 5, 10)         # steps a second while playing, when the server keeps up
DIAGRAM_WIDTH = 1000          # px at most; the SVG (and its fonts) shrink to the page width
LONG_SEQUENCE = 2_000          # above this, offer a zoom window at full resolution
MAX_FEATURES = 8               # input features listed by name at every step, at most

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

# -- the step controls --------------------------------------------------------------------------
cols = st.columns([1.2, 1.5, 1.9, 1.5, 1.2, 5], vertical_alignment="bottom")
cols[0].button("«", help="First step (Home)", on_click=go_to, args=(0, last), shortcut="Home")
cols[1].button("◀ Back", help="Step back (←)", on_click=step_by, args=(-1, last),
               shortcut="Left")
cols[2].button("⏸ Pause" if ss["playing"] else "▶ Play", help="Play / pause (space)",
               on_click=set_playing, args=(not ss["playing"], last), shortcut="Space",
               type="primary")
cols[3].button("Next ▶", help="Step forward (→)", on_click=step_by, args=(1, last),
               shortcut="Right")
cols[4].button("»", help="Last step (End)", on_click=go_to, args=(last, last), shortcut="End")
cols[5].select_slider("Play speed", SPEEDS, format_func=lambda v: f"{v} steps/s",
                      help="Slower play leaves time to talk through each step.", **bind("speed"))


def numbers_at(step: int, unit: int, layer: int, direction: int) -> UnitStep:
    """Every number of the focused unit at one step, computed once: the diagram, the line of
    values and the explain panel all read it."""
    label = chars[step] if chars else None
    x = label if label is not None else (
        float(seq.values[step, 0]) if seq.n_features == 1 else seq.values[step].tolist())
    try:
        return unit_step(rec, loaded.trace, step, unit, layer, direction, x=x)
    except ValueError:                  # a stale unit or layer of another model: dashes
        return UnitStep(rec.variant, step, unit, x=x)


@st.fragment
def live_view() -> None:
    """The part that moves at every step: the cell diagram and the numbers around it.

    While playing, the player at its end asks for the next step once this one is drawn: a
    request reruns only this fragment.
    """
    if needs_full_run():        # play ended, or a change outside arrived with a play request
        st.rerun()
    if last > 0:                                      # in the fragment: it follows play
        st.slider("Step", 0, last, **bind("step"))
    step, unit = int(ss["step"]), int(ss["unit"])
    layer, direction = int(ss["layer"]), int(ss["direction"])
    numbers = numbers_at(step, unit, layer, direction)
    where, now = st.columns([2, 3])
    with where:
        st.markdown(f"#### Step {step} of {last}")
        if chars:
            lo, hi = max(0, step - 12), min(seq.length, step + 13)
            context = "".join(    # the characters are the user's text: escaped
                f"**\\[{plain(chars[t], 0)}\\]**" if t == step else plain(chars[t], 0)
                for t in range(lo, hi))
            st.markdown(f"Input around here: {'…' if lo else ''}{context}"
                        f"{'…' if hi < seq.length else ''}")
        else:
            # Feature names are a CSV's header: each clipped and escaped, at most MAX_FEATURES.
            shown = [f"{plain(n, 24)} {v:.3g}" for n, v in zip(
                seq.feature_names[:MAX_FEATURES], seq.values[step, :MAX_FEATURES], strict=True)]
            more = seq.n_features - len(shown)
            # A table's time axis (its date column): the date of this step, from the file.
            when = (f" ({plain(seq.labels[step], 40)})"
                    if seq.labels and seq.meta.get("time_column") is not None else "")
            st.markdown(f"Input x_t{when} = " + ", ".join(shown)
                        + (f", and {more:,} more" if more > 0 else ""))
    with now:
        show_prediction(loaded, step)
        st.markdown(f"Unit {unit} right now: " + numbers.text())
    fig = cell_diagram(numbers, rec.variant, unit=unit, step=step,
                       projector=bool(ss["projector"]), width=DIAGRAM_WIDTH)
    # The whole width, as SVG markup: plotly.js would re-measure every label at every step
    # (see plots.svg); through markdown, as st.html's sanitiser keeps only HTML elements.
    st.markdown(figure_svg(fig, label=f"cell diagram of unit {unit} at step {step}"),
                unsafe_allow_html=True)
    explain_panel(loaded, numbers)
    player(step, last, bool(ss["playing"]), 1 / int(ss["speed"]),
           partial(on_player_request, last))


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
    where = (int(ss["step"]), int(ss["unit"]), int(ss["layer"]), int(ss["direction"]))
    draw = partial(cell_diagram, variant=rec.variant, unit=where[1], step=where[0],
                   projector=bool(ss["projector"]), width=DIAGRAM_WIDTH)
    diagram_downloads(lambda: draw(numbers_at(*where)), *where[:2], rec.variant)
if click and click.get("key") == fig_key and click.get("n") != ss.get("_last_click"):
    ss["_last_click"] = click.get("n")           # a click on a cell: jump there
    if click.get("unit") is not None:
        set_value("unit", int(click["unit"]))
    go_to(int(click["step"]), last)
    st.rerun()

presets_view()
