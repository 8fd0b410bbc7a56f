"""A browser's first run of the landing page draws the lesson first, the rest right after.

A new visitor's browser renders every element of the first run before it paints any of them,
so everything in that run delays the cell diagram: Chromium's main thread, not the server, is
what the first paint waits for (``bench.first_paint``; measured in the README). So the first run
of a session in a browser is *lean*: the sidebar shows its headings and captions but not its
widgets or page links, and the page ends after the live view (no heatmaps, exports, presets or
torch badge). The stepper component mounts once the browser is idle after that paint and says
so (``ui.stepper``); that reruns the fragment, which then asks for a full run
(``drawn_lean``), and the whole page follows. Any other interaction does the same.

Only a session's very first run is lean, and only in a browser: AppTest's sessions have no HTTP
headers, so everything it tests is the whole page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

SEEN = "_lean_seen"        # this session has had its first run (lean or not)
LEAN = "_lean_drawn"       # the last full run was lean: the next run draws the whole page


def in_browser() -> bool:
    """True when a browser is on the other end (its websocket request's headers are known)."""
    return bool(st.context.headers)


def lean_run(allowed: bool, state: Mapping[str, Any] | None = None,
             browser: bool | None = None) -> bool:
    """Decide, once per full run, whether this run is lean: the page allows it, this is the
    session's first run, and a browser shows it. Records the answer for ``drawn_lean``."""
    ss = st.session_state if state is None else state
    lean = (allowed and SEEN not in ss
            and (in_browser() if browser is None else browser))
    ss[SEEN] = True
    ss[LEAN] = lean
    return lean


def drawn_lean(state: Mapping[str, Any] | None = None) -> bool:
    """True when the last full run (this one, in a full run) was lean: a fragment's run then
    asks for a full run (``st.rerun()``), and a lean full run ends after its first figure."""
    ss = st.session_state if state is None else state
    return bool(ss.get(LEAN))


class _Unshown:
    """Stands in for ``st`` where a lean run leaves widgets out: every call draws nothing and
    returns None (the widgets' values are in the session state already, see ``state.bind``)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


UNSHOWN = _Unshown()


def widgets(lean: bool) -> Any:
    """What the sidebar draws its widgets with: ``st``, or in a lean run nothing."""
    return UNSHOWN if lean else st
