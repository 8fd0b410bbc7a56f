"""What the stepper's buttons do to the step: callbacks on the session state."""

from __future__ import annotations

import streamlit as st

from .player import KEY as PLAYER_KEY
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
