"""The server-rendered stepper: its buttons, what they do to the step (callbacks on the session
state), and the live view the server draws (the one AppTest tests; a browser draws it with the
component of :mod:`.stepper` once that is mounted)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lstm_viz.plots.diagram import cell_diagram
from lstm_viz.plots.svg import figure_svg
from lstm_viz.teaching.step import UnitStep
from lstm_viz.workbench import Loaded

from .player import KEY as PLAYER_KEY
from .safe_text import plain
from .state import bind, set_value
from .stepper import char_labels, context_html, input_line


def go_to(step: int, last: int) -> None:
    """Jump to ``step`` (kept inside [0, last]) and stop playing."""
    st.session_state["playing"] = False
    set_value("step", max(0, min(int(step), last)))


def step_by(delta: int, last: int) -> None:
    go_to(int(st.session_state["step"]) + delta, last)


def set_playing(play: bool, last: int) -> None:
    """Play from here (from the start when at the end), or pause.

    Sets the value the button promised rather than toggling: a click that Streamlit replays
    then does no harm.
    """
    ss = st.session_state
    if play and not ss["playing"] and int(ss["step"]) >= last:
        set_value("step", 0)
    ss["playing"] = bool(play)


def tick(last: int) -> bool:
    """One step of play; returns False when play has stopped (the last step reached)."""
    ss = st.session_state
    step = int(ss["step"])
    if step < last:
        step += 1
        set_value("step", step)
    if step >= last:
        ss["playing"] = False
        return False
    return True


def on_player_request(last: int) -> None:
    """The player's ``on_change``: it asks for the step after ``from``.

    A request that does not match the state (play was paused, or the step moved meanwhile, or it
    is a repeat of one already answered) changes nothing. At the last step play stops (the
    page then redraws in full: ``state.needs_full_run``).
    """
    ss = st.session_state
    request = ss.get(PLAYER_KEY) or {}
    if ss["playing"] and request.get("from") == int(ss["step"]):
        tick(last)


# -- the server-rendered live view: what AppTest sees (the browser's component draws it
# otherwise, see ui.stepper) ---------------------------------------------------------------------

def controls(last: int, speeds: tuple[int, ...]) -> None:
    """First, Back, Play/Pause, Next, Last and the play speed, as Streamlit buttons with keys.

    No emoji (Debian's Chromium has no emoji font): ▶ and ◀ are plain geometric shapes, and the
    Pause column is wide enough for its label.
    """
    ss = st.session_state
    cols = st.columns([1.1, 1.6, 1.8, 1.6, 1.1, 5], vertical_alignment="bottom")
    cols[0].button("«", help="First step (Home)", on_click=go_to, args=(0, last),
                   shortcut="Home")
    cols[1].button("◀ Back", help="Step back (←)", on_click=step_by, args=(-1, last),
                   shortcut="Left")
    cols[2].button("‖ Pause" if ss["playing"] else "▶ Play", help="Play / pause (space)",
                   on_click=set_playing, args=(not ss["playing"], last), shortcut="Space",
                   type="primary", use_container_width=True)
    cols[3].button("Next ▶", help="Step forward (→)", on_click=step_by, args=(1, last),
                   shortcut="Right")
    cols[4].button("»", help="Last step (End)", on_click=go_to, args=(last, last),
                   shortcut="End")
    if ss["speed"] not in speeds:          # a link's (or the component's) faster speed
        speeds = tuple(sorted({*speeds, int(ss["speed"])}))
    cols[5].select_slider("Play speed", speeds, format_func=lambda v: f"{v} steps/s",
                          help="Slower play leaves time to talk through each step.",
                          **bind("speed"))


def server_view(loaded: Loaded, numbers: UnitStep, *, width: int, projector: bool,
                prediction: Callable[[int], None]) -> None:
    """The live view drawn by the server at one step: the slider, "Step N of M", the input
    around the step, the prediction, the line of values and the cell diagram (SVG markup)."""
    seq = loaded.sequence
    last, step, unit = seq.length - 1, numbers.step, numbers.unit
    chars = char_labels(loaded)
    if last > 0:
        st.slider("Step", 0, last, **bind("step"))
    where, now = st.columns([2, 3])
    with where:
        st.markdown(f"#### Step {step} of {last}")
        if chars:                  # the user's characters, as entities: see context_html
            st.markdown("Input around here: " + context_html(chars, step),
                        unsafe_allow_html=True)
        else:
            st.markdown(plain(input_line(loaded, step), 0))
    with now:
        prediction(step)
        st.markdown(f"Unit {unit} right now: " + numbers.text())
    fig = cell_diagram(numbers, loaded.recurrent.variant, unit=unit, step=step,
                       projector=projector, width=width)
    # The whole width, as SVG markup: plotly.js would re-measure every label at every step
    # (see plots.svg); through markdown, as st.html's sanitiser keeps only HTML elements.
    st.markdown(figure_svg(fig, label=f"cell diagram of unit {unit} at step {step}"),
                unsafe_allow_html=True)
