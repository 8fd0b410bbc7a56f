"""Step through: an LSTM reads a sequence one step at a time, and you watch every gate move."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
from functools import partial

import plotly.io
import streamlit as st

from lstm_viz.analysis.lesson_unit import TellingUnit, per_unit_default, shipped_telling_unit
from lstm_viz.plots.diagram import cell_diagram
from lstm_viz.plots.heatmaps import quantity_heatmaps
from lstm_viz.training.tasks import TASKS, Task
from lstm_viz.ui import page
from lstm_viz.ui.explain_panel import explain_panel
from lstm_viz.ui.exports import diagram_downloads, figure_downloads, trace_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.first_run import drawn_lean
from lstm_viz.ui.heatmap_view import heatmap_view
from lstm_viz.ui.player import player
from lstm_viz.ui.prediction_view import show_prediction
from lstm_viz.ui.presets_view import presets_view
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import needs_full_run, set_value
from lstm_viz.ui.stepper import needs_window, numbers_at, stepper, stepper_ready, window_moves
from lstm_viz.ui.steps import controls, go_to, on_player_request, server_view
from lstm_viz.ui.torch_badge import torch_badge
from lstm_viz.ui.trace_cache import RESULTS
from lstm_viz.workbench import sequence_key, shown_key

SPEEDS = (1, 2, 5, 10)         # steps a second while playing, when the server keeps up
DIAGRAM_WIDTH = 1000          # px at most; the SVG (and its fonts) shrink to the page width
LONG_SEQUENCE = 2_000          # above this, offer a zoom window at full resolution
ZOOM_HALF = 500               # the zoom window: the step ± this many steps

loaded = page("Step through", lean=True)     # a browser's first run: the lesson first
ss = st.session_state
seq, rec = loaded.sequence, loaded.recurrent
last = seq.length - 1
# Labels that are characters (text, brackets, symbols) are shown as such; longer ones (the
# numbers of a sine wave) are not tick labels: the values are drawn as a line instead.
chars = seq.labels if seq.labels and max(map(len, seq.labels)) <= 2 else None


def lesson_line(task: Task | None) -> TellingUnit | None:
    """The shipped model's telling unit (measured once per model) when the page shows it."""
    if task is None or ss["model_kind"] != "trained" or task.lesson is None:
        return None
    try:
        return shipped_telling_unit(task.name, ss["variant"])
    except Exception:           # no shipped model of this variant: no line
        return None


# One line above the controls: the title, the task and why the unit in focus tells its lesson;
# the rest in a popover. The torch badge fills in below the diagram, last (see the end).
task = TASKS.get(ss["task"]) if ss["seq_source"] == "example" else None
head = st.columns([2.3, 4.2, 0.9], vertical_alignment="center")
head[0].title("Step through an LSTM")
told = lesson_line(task)
head[1].markdown(" · ".join(([f"**{plain(task.title, 80)}**"] if task else [])
                            + ([told.sentence] if told else [])))
with head[2].popover("About", help="The task, the model, the keys"):
    if task is not None:
        st.markdown(f"**{plain(task.title, 80)}.** {task.description}")
    st.caption(f"{plain(loaded.model.label, 120)} · {seq.length:,} steps · use ← → to step, "
               "space to play")

# -- the step controls and the live view: in the browser's component once it is mounted ----------
@st.fragment
def live_view() -> None:
    """The part that moves at every step: the controls, the cell diagram, the numbers around it.

    In a browser the stepper component (ui.stepper) draws it and steps and plays with no server
    round trip; it tells the server the step (debounced), which reruns only this fragment. Until
    the component is mounted (and under AppTest, always) the server draws it (ui.steps), and the
    player at its end asks for the next step while playing. With the zoom toggle on, a step
    that leaves the heatmaps' zoom window (drawn outside this fragment), or moves the
    stepper's window, reruns the whole page so the zoom window follows it.
    """
    if needs_full_run():        # play ended, or a change outside arrived with a play request
        st.rerun()
    if drawn_lean() and not ss.get("_full_run"):    # the stepper mounted (or a click) after
        st.rerun()                                  # the lean first run: the whole page now
    zoom = ss.get("_zoom_window")       # the heatmaps' zoom window, drawn outside: follow the step
    if zoom and not ss.get("_full_run") and (needs_window(int(ss["step"]), zoom, last)
                                            or window_moves(loaded)):
        st.rerun()
    step, unit = int(ss["step"]), int(ss["unit"])
    layer, direction = int(ss["layer"]), int(ss["direction"])
    numbers = numbers_at(loaded, step, unit, layer, direction)
    stepper(loaded, unit, layer, direction, projector=bool(ss["projector"]), width=DIAGRAM_WIDTH)
    if stepper_ready():
        show_prediction(loaded, step)
    else:
        controls(last, SPEEDS)
        server_view(loaded, numbers, width=DIAGRAM_WIDTH, projector=bool(ss["projector"]),
                    prediction=partial(show_prediction, loaded))
    explain_panel(loaded, numbers)
    if not stepper_ready():
        player(step, last, bool(ss["playing"]), 1 / int(ss["speed"]),
               partial(on_player_request, last))


def zoom_window() -> tuple[int, int] | None:
    """The heatmaps' window at full resolution around the step (the zoom toggle on), or None."""
    if seq.length <= LONG_SEQUENCE or not ss.get("zoom"):
        return None
    step = int(ss["step"])
    return max(0, step - ZOOM_HALF), min(last, step + ZOOM_HALF)


ss["_zoom_window"], ss["_full_run"] = zoom_window(), True     # a fragment rerun sees False
try:
    live_view()
finally:
    ss["_full_run"] = False
if drawn_lean():            # a browser's first run ends here (ui.first_run): the rest
    st.stop()               # follows once the stepper mounts, after this paint
badge = st.empty()          # the torch badge, under the diagram: filled at the very end

# -- the whole sequence: heatmaps, units x time, cursor at the step ---------------------------
st.subheader("Every unit over the whole sequence")
quantities = loaded.quantities(int(ss["layer"]), int(ss["direction"]))
per_unit = st.toggle(
    "Scale each unit's row of c to its own range", key=f"per_unit|{loaded.model.key}",
    value=per_unit_default("c", quantities["c"]) if "c" in quantities else False,
    disabled="c" not in quantities,
    help="On by default when one unit's c spans 3x the range of the median unit's: its row "
         "would wash the others out to white. Hover shows the true values.")
window = ss["_zoom_window"]         # the toggle's value is in the session from the run's start
if seq.length > LONG_SEQUENCE and st.toggle("Zoom into a window at full resolution",
                                            key="zoom") and window:
    st.caption(f"Window {window[0]}–{window[1]} around the current step.")


def heatmap_spec(layer: int, direction: int, window: tuple[int, int] | None) -> tuple[str, str]:
    """The heatmaps of this view as (JSON, key), built once and kept in the session."""
    key = "|".join(map(str, (loaded.model.key, sequence_key(seq), layer, direction, window,
                             ss["projector"], int(ss["unit"]), per_unit,
                             shown_key(seq))))
    cached = ss.get("_heatmaps")
    if cached is None or cached[0] != key:       # and shared by the sessions on the same view
        step = int(ss["step"])
        ss["_heatmaps"] = cached = (key, RESULTS.get(("heatmaps", key, step), lambda: (
            quantity_heatmaps(
                loaded.quantities(layer, direction), step=step,
                input_values=seq.values, input_labels=chars, feature_names=seq.feature_names,
                focus_unit=int(ss["unit"]), projector=bool(ss["projector"]),
                window=None if window is None else (window[0], window[1] + 1),  # [lo, hi] drawn
                per_unit=("c",) if per_unit else ()).to_json())))
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
    diagram_downloads(lambda: draw(numbers_at(loaded, *where)), *where[:2], rec.variant)
if click and click.get("key") == fig_key and click.get("n") != ss.get("_last_click"):
    ss["_last_click"] = click.get("n")           # a click on a cell: jump there
    if click.get("unit") is not None:
        set_value("unit", int(click["unit"]))
    go_to(int(click["step"]), last)
    st.rerun()

presets_view()
with badge.container():
    torch_badge(loaded)      # last: never before the diagram and the heatmaps
