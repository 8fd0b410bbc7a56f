"""Stepping and playing in the browser: one component draws the live view of a window of steps.

The server sends, once per (trace, unit, layer, direction, window), everything the live view
shows at each step of a window of the sequence: the cell diagram as SVG frames
(:mod:`lstm_viz.plots.diagram_frames`), the line of values, the input context, a strip of the
focused unit's key quantity. The component (``stepper_component/index.html``) then draws step,
back, play, the slider and the keys itself, with no server round trip, and tells the server the
step only to keep the URL and the other panels in step: 250 ms after the last change, on pause,
and when play nears the window's edge (the server then sends the next window).

AppTest cannot run a component: the server-rendered live view (``app.py``) stays, and is drawn
until the component has said it is mounted (its first value, ``{"ready": true}``); from then on
the component draws and the server-rendered view is left out. The component stays hidden until
then, so a browser shows exactly one diagram.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from lstm_viz.plots.diagram_frames import diagram_frames
from lstm_viz.teaching.step import UnitStep, unit_step
from lstm_viz.workbench import Loaded, sequence_key, shown_key

from .first_run import drawn_lean
from .safe_text import clip
from .state import SPEEDS, set_value
from .trace_cache import RESULTS

HERE = Path(__file__).resolve().parent / "stepper_component"
KEY = "stepper"
READY = "_stepper_ready"       # the component said it is mounted: it draws the live view
SENT = "_stepper_sent"         # the key of the payload last sent: a rerun sends only the key
HALF = 150                     # steps each side of the step in one window
MARGIN = 50                    # play this close to an inner edge of the window asks for the next
CONTEXT = 12                   # characters shown each side of the current one
MAX_FEATURES = 8               # input features listed by name at every step, at most
SHOWN = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "↵"}


@lru_cache(maxsize=1)
def _component() -> Any:
    return components.declare_component("lstm_viz_stepper", path=str(HERE))


def char_labels(loaded: Loaded) -> tuple[str, ...] | None:
    """The sequence's labels when they are characters (text, brackets): at most 2 long each."""
    labels = loaded.sequence.labels
    return tuple(labels) if labels and max(map(len, labels)) <= 2 else None


def numbers_at(loaded: Loaded, step: int, unit: int, layer: int, direction: int) -> UnitStep:
    """Every number of the focused unit at one step, computed once: the diagram, the line of
    values and the explain panel all read it."""
    seq, chars = loaded.sequence, char_labels(loaded)
    label = chars[step] if chars else None
    x = label if label is not None else (
        float(seq.values[step, 0]) if seq.n_features == 1 else seq.values[step].tolist())
    try:
        return unit_step(loaded.recurrent, loaded.trace, step, unit, layer, direction, x=x)
    except ValueError:                  # a stale unit or layer of another model: dashes
        return UnitStep(loaded.recurrent.variant, step, unit, x=x)


def context_html(chars: tuple[str, ...], step: int, radius: int = CONTEXT) -> str:
    """The characters around ``step`` as HTML: the current one marked by a highlighted box (not
    by brackets, which read as part of a sequence of brackets), spaces as a dim ␣. Every
    character is a numeric entity: neither HTML nor markdown can read it as markup."""
    lo, hi = max(0, step - radius), min(len(chars), step + radius + 1)
    out = []
    for t in range(lo, hi):
        text = "".join(SHOWN.get(ch, ch) for ch in chars[t])
        body = "".join(f"&#{ord(ch)};" for ch in text)
        dim = text != chars[t]
        style = "opacity:0.45;" if dim and t != step else ""
        if t == step:
            style += ("background:#ffe08a;border-bottom:2px solid #b07d00;border-radius:3px;"
                      "padding:0 3px;font-weight:bold;")
        out.append(f'<span style="{style}">{body}</span>' if style else body)
    return ('<span style="font-family:monospace;white-space:pre">'
            f"{'…' if lo else ''}{''.join(out)}{'…' if hi < len(chars) else ''}</span>")


def input_line(loaded: Loaded, step: int) -> str:
    """The input at ``step`` of a sequence of numbers, as plain text: "x_t (date) = a 1, b 2"."""
    seq = loaded.sequence
    shown = [f"{clip(n, 24)} {v:.3g}" for n, v in zip(
        seq.feature_names[:MAX_FEATURES], seq.values[step, :MAX_FEATURES], strict=True)]
    more = seq.n_features - len(shown)
    when = (f" ({clip(seq.labels[step], 40)})"
            if seq.labels and seq.meta.get("time_column") is not None else "")
    return (f"Input x_t{when} = " + ", ".join(shown)
            + (f", and {more:,} more" if more > 0 else ""))


def window_around(step: int, last: int, half: int = HALF, ahead: bool = False
                  ) -> tuple[int, int]:
    """The window [lo, hi] of at most 2·half + 1 steps around ``step`` inside [0, last]: centred
    on it, or (``ahead``, while playing) starting MARGIN steps before it."""
    lo = max(0, min(step - (MARGIN if ahead else half), last - 2 * half))
    return lo, min(last, lo + 2 * half)


def needs_window(step: int, window: tuple[int, int] | None, last: int, ahead: bool = False
                 ) -> bool:
    """True when ``step`` is outside ``window`` or within MARGIN of one of its inner edges
    (2·MARGIN of its end while playing, ``ahead``: the component asks as early)."""
    if window is None:
        return True
    lo, hi = window
    return (step < lo or step > hi or (lo > 0 and step < lo + MARGIN)
            or (hi < last and step >= hi - (2 * MARGIN if ahead else MARGIN)))


def key_quantity(loaded: Loaded, layer: int, direction: int) -> tuple[str, np.ndarray | None]:
    """The quantity of the strip under the diagram (``key_quantity`` of the session, default
    c; h when the model has no such quantity) as (name, (T, units) array or None)."""
    q = loaded.quantities(layer, direction)
    name = str(st.session_state.get("key_quantity", "c"))
    if name not in q:
        name = "c" if "c" in q else "h"
    return name, q.get(name)


def payload(loaded: Loaded, unit: int, layer: int, direction: int, window: tuple[int, int],
            projector: bool, width: int) -> dict:
    """Everything the component draws at each step of ``window``, as one JSON-ready dict."""
    seq, chars = loaded.sequence, char_labels(loaded)
    lo, hi = window
    numbers = [numbers_at(loaded, t, unit, layer, direction) for t in range(lo, hi + 1)]
    frames = diagram_frames(numbers, loaded.recurrent.variant, unit=unit, projector=projector,
                            width=width)
    name, q = key_quantity(loaded, layer, direction)
    strip = None
    if q is not None and unit < q.shape[1]:
        row = np.nan_to_num(q[:, unit].astype(float))
        strip = {"name": name, "values": [round(float(v), 4) for v in row[lo:hi + 1]],
                 "min": float(min(row.min(), 0.0)), "max": float(max(row.max(), 0.0))}
    out = {"lo": lo, "hi": hi, "last": seq.length - 1, "margin": MARGIN, "unit": unit,
           "frames": frames, "values": [f"Unit {unit} right now: {u.text()}" for u in numbers],
           "strip": strip, "labels": None, "labels_lo": 0, "inputs": None,
           "radius": CONTEXT, "projector": bool(projector)}
    if chars:
        c_lo = max(0, lo - CONTEXT)
        out["labels"] = list(chars[c_lo:hi + CONTEXT + 1])
        out["labels_lo"] = c_lo
    else:
        out["inputs"] = [input_line(loaded, t) for t in range(lo, hi + 1)]
    return out


def _data(loaded: Loaded, unit: int, layer: int, direction: int, projector: bool,
          width: int) -> tuple[str, str]:
    """(JSON, key) of the payload around the session's step, built once per window."""
    ss = st.session_state
    last = loaded.sequence.length - 1
    step = min(max(0, int(ss["step"])), last)
    seq = loaded.sequence
    base = "|".join(map(str, (loaded.model.key, sequence_key(seq), shown_key(seq), unit, layer,
                              direction, projector, width, ss.get("key_quantity", "c"))))
    cached = ss.get("_stepper_data")
    ahead = bool(ss.get("_stepper_ahead"))
    if cached is not None and cached[0] == base and not needs_window(step, cached[1], last, ahead):
        return cached[2], cached[3]
    window = window_around(step, last, ahead=ahead)
    key = f"{base}|{window[0]}-{window[1]}"
    # Shared by the sessions on the same view (a class on one link): built once for the server.
    data = RESULTS.get(("stepper", key), lambda: json.dumps(
        payload(loaded, unit, layer, direction, window, projector, width), separators=(",", ":")))
    ss["_stepper_data"] = (base, window, data, key)
    return data, key


def on_stepper(last: int) -> None:
    """The component's ``on_change``: it is mounted, the browser is at this step, and (with any
    step it sends) plays at this speed: a speed of ``SPEEDS`` goes to the state and the URL."""
    ss = st.session_state
    value = ss.get(KEY) or {}
    if value.get("ready"):
        ss[READY] = True
    if value.get("need"):        # the component lacks the payload of this key: send it again
        ss.pop(SENT, None)
    ss["_stepper_ahead"] = bool(value.get("playing"))      # the next window lies ahead
    step = value.get("step")
    if isinstance(step, int) and step != int(ss["step"]):
        set_value("step", max(0, min(step, last)))
    speed = value.get("speed")
    if type(speed) is int and speed in SPEEDS and speed != int(ss["speed"]):
        set_value("speed", speed)
    if ss["playing"]:            # the browser plays from now on
        ss["playing"] = False


def window_moves(loaded: Loaded) -> bool:
    """True when drawing the stepper at the session's step would send a new window of steps."""
    ss = st.session_state
    cached = ss.get("_stepper_data")
    if not stepper_ready() or cached is None:
        return False
    last = loaded.sequence.length - 1
    step = min(max(0, int(ss["step"])), last)
    return needs_window(step, cached[1], last, bool(ss.get("_stepper_ahead")))


def stepper_ready() -> bool:
    """True once the component in this session has said it is mounted: it draws the view."""
    return bool(st.session_state.get(READY))


def stepper(loaded: Loaded, unit: int, layer: int, direction: int, *, projector: bool,
            width: int) -> None:
    """Draw the component: hidden and without its payload until it has said it is mounted (so
    a run that no browser shows, AppTest's, never builds the frames); then with it, shown.

    The payload (~300 kB for a window of 301 steps) is sent once per key: a rerun with the same
    key sends the key alone, and the component draws from the payload it keeps. A component
    that lacks it (mounted again, or a run that never reached the browser) asks for it with
    ``{"need": key}`` (``on_stepper``), and the next run sends it again."""
    ss = st.session_state
    last = loaded.sequence.length - 1
    data, key = (_data(loaded, unit, layer, direction, projector, width) if stepper_ready()
                 else ("", ""))
    if key and ss.get(SENT) == key:
        data = ""
    elif key:
        ss[SENT] = key
    _component()(data=data, data_key=key, step=int(ss["step"]), show=stepper_ready(),
                 autoplay=bool(ss["playing"]), speed=int(ss["speed"]), speeds=list(SPEEDS),
                 lean=drawn_lean(),       # say "mounted" once the page is idle (first_run)
                 key=KEY, default=None, on_change=partial(on_stepper, last))

