"""What the stepper's buttons do to the step: callbacks on the session state."""

from __future__ import annotations

import streamlit as st

from .state import set_value


def go_to(step: int, last: int) -> None:
    """Jump to ``step`` (kept inside [0, last]) and stop playing."""
    st.session_state["playing"] = False
    set_value("step", max(0, min(int(step), last)))


def step_by(delta: int, last: int) -> None:
    go_to(int(st.session_state["step"]) + delta, last)


def set_playing(play: bool, last: int) -> None:
    """Play from here (from the start when at the end), or pause.

    Sets the value the button promised rather than toggling: a click that Streamlit replays
    (when a play tick interrupts the run that handled it) then does no harm.
    """
    ss = st.session_state
    if play and not ss["playing"] and int(ss["step"]) >= last:
        set_value("step", 0)
    ss["playing"] = bool(play)


def tick(last: int) -> bool:
    """One step of play; returns False (and stops) at the end."""
    ss = st.session_state
    if int(ss["step"]) >= last:
        ss["playing"] = False
        return False
    set_value("step", int(ss["step"]) + 1)
    return True
