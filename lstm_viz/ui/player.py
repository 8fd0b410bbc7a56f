"""Play as a browser-paced loop: an invisible component asks for the next step when it is ready.

A timer on the server side (``st.fragment(run_every=...)``) keeps ticking when a run takes longer
than the tick, and reruns pile up: with a few tabs playing at once, play crawls. Here the browser
asks for step ``t + 1`` only after the page drawn for step ``t`` has arrived, so a tab has at most
one request in flight and play runs at ``min(interval, round trip)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

HERE = Path(__file__).resolve().parent / "player_component"
KEY = "player"
RETRY_S = 4.0          # a request with no answer after this long is sent again


@lru_cache(maxsize=1)
def _component() -> Any:
    return components.declare_component("lstm_viz_player", path=str(HERE))


def player(step: int, last: int, playing: bool, interval_s: float,
           on_tick: Callable[[], None]) -> None:
    """Draw the player; while ``playing``, ``on_tick`` runs (as a callback) once per request.

    The request sits in ``st.session_state[KEY]`` as ``{"from": step, "n": counter}``.
    """
    _component()(step=int(step), last=int(last), playing=bool(playing),
                 interval_ms=round(interval_s * 1000), retry_ms=round(RETRY_S * 1000),
                 key=KEY, default=None, on_change=on_tick)
