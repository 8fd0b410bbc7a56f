"""Session state and the URL: a few clear keys, read from the query string once per session.

Each persisted value lives under its own name in ``st.session_state`` ("task", "variant", "step",
...). A widget never owns that key: it is drawn with the key ``"w_<name>"``, seeded from the
value, and its ``on_change`` copies the value back and rewrites the URL. So a value survives pages
that do not draw its widget, and buttons can move it (the step) freely.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lstm_viz.analysis.experiments import format_ablate, format_attr, parse_ablate, parse_attr
from lstm_viz.analysis.lesson_unit import TellingUnit, shipped_telling_unit
from lstm_viz.core import VARIANTS, is_lstm
from lstm_viz.training.tasks import TASKS

from .safe_text import clip, plain

DEFAULTS: dict[str, Any] = {
    "task": "brackets",         # the built-in task: its example sequence and its shipped models
    "variant": "vanilla",
    "model_kind": "trained",    # "trained" | "fresh" | "custom"
    "seq_source": "example",    # "example" | "upload"
    "example_seed": 0,
    "hidden": 16,
    "layers": 1,
    "bidirectional": False,
    "seed": 0,
    "step": 0,
    "unit": 0,                  # a shipped model opens on its telling unit instead (lesson_focus)
    "layer": 0,
    "direction": 0,
    "projector": False,
    "playing": False,
    "speed": 10,                # steps a second while playing (at most: the browser paces it)
    "ablate": "",               # Experiments: units held (analysis.experiments, "c:4:mean:10-30")
    "attr": "",                 # Experiments: attribution method and target step
}

# The play speeds a session may hold (steps a second): the stepper's choices, and what a link's
# speed= may say (the default, 10, is one of them).
SPEEDS = (1, 2, 5, 10, 20, 30, 60)
# The URL contract of DESIGN.md: these names, absent = default.
URL_KEYS = ("task", "variant", "step", "unit", "layer", "direction", "projector", "ablate",
            "attr", "speed")
# An uploaded model is in the URL as model=upload&h=<8 hex of its key>, not as a variant.
UPLOAD_LINK = ("This link shows an uploaded model, which only its session has: upload the file "
               "on Your model. Showing the task's model meanwhile.")
_INT_KEYS = ("step", "unit", "layer", "direction")


def _parse(name: str, raw: str) -> Any:
    """A query-string value as the state wants it; ``ValueError`` when it is not valid."""
    if name == "task":
        if raw not in TASKS:
            raise ValueError
        return raw
    if name == "variant":
        if raw not in VARIANTS:
            raise ValueError
        return raw
    if name == "ablate":       # the grammar here; whether the units exist, on the page
        return format_ablate(parse_ablate(raw))
    if name == "attr":
        return format_attr(*parse_attr(raw))
    if name == "projector":
        if raw not in ("0", "1", "true", "false"):
            raise ValueError
        return raw in ("1", "true")
    value = int(raw)
    if name == "speed" and value not in SPEEDS:
        raise ValueError
    if value < 0:
        raise ValueError
    return value


def init_state() -> None:
    """Defaults, then the URL's query parameters, once per session (before widgets are drawn).

    An invalid parameter falls back to its default and leaves a notice for the page to show.
    """
    ss = st.session_state
    if ss.get("_initialised"):
        return
    unit_given = "unit" in ss or "unit" in st.query_params   # a link's (or a test's) unit wins
    for name, value in DEFAULTS.items():
        ss.setdefault(name, value)
    notices = []
    for name in URL_KEYS:
        raw = st.query_params.get(name)
        if raw is None:
            continue
        try:
            ss[name] = _parse(name, raw)
        except ValueError as exc:
            # The value is the visitor's (anyone can send a link): quoted, clipped, escaped, so
            # "**Log in again** [here](https://...)" shows as those characters, not as a link.
            # An experiment (ablate, attr) says why in one sentence, then is left out.
            notices.append(f"The link's {name}={plain(repr(clip(raw, 60)), 0)} is not valid "
                           f"here; using {DEFAULTS[name]!r} instead."
                           if DEFAULTS[name] != "" else
                           f"The link's {name}={plain(repr(clip(raw, 60)), 0)} is not valid "
                           f"here: {plain(str(exc), 200)} It is left out.")
    if "task" in st.query_params or "variant" in st.query_params:
        ss["model_kind"] = "trained"
    if st.query_params.get("model") == "upload":    # a fresh session has no upload: say so
        notices.append(UPLOAD_LINK)
        ss["model_kind"] = "trained"
    if not st.query_params:          # a first visit, no link: the trained model, already moving
        ss["playing"] = True
    lesson_focus(not unit_given)
    ss["notices"] = notices
    ss["_initialised"] = True


def lesson_focus(move_unit: bool) -> TellingUnit | None:
    """The shipped task model's telling unit (``analysis.lesson_unit``, measured once per model):
    ``ss["key_quantity"]`` becomes its quantity (the task's lesson quantity otherwise) and, when
    ``move_unit`` (no ``unit=`` in the link, or another task or variant picked), the unit in focus
    becomes it. None when the model shown is not a shipped one."""
    ss = st.session_state
    lesson = TASKS[ss["task"]].lesson if ss["task"] in TASKS else None
    cell = is_lstm(ss["variant"]) if ss["variant"] in VARIANTS else True
    ss["key_quantity"] = lesson.quantity if lesson is not None and cell else ("c" if cell else "h")
    if lesson is None or ss["model_kind"] != "trained":
        return None
    try:
        told = shipped_telling_unit(ss["task"], ss["variant"])
    except Exception:       # no shipped model for this variant: the defaults stand
        return None
    ss["key_quantity"] = told.quantity
    if move_unit:
        ss["unit"] = told.unit
    return told


def sync_url(force: bool = False) -> None:
    """Write the view into the query string (only what differs from the defaults).

    ``force`` writes it even when the server's copy already agrees: the browser's own URL may
    be behind it (a step written by a run that a click interrupted can land after the click's
    request left), and the browser ignores a write that changes nothing.
    """
    ss = st.session_state
    want = {}
    shown = ss.get("_shown_model")             # the model the last sidebar run showed
    uploaded = shown is not None and getattr(shown, "uploaded", False)
    for name in URL_KEYS:
        value = ss.get(name, DEFAULTS[name])
        if name == "variant" and uploaded:       # never stands for an uploaded model
            want["model"], want["h"] = "upload", shown.short_hash
            continue
        if name in ("task", "variant", "step", "unit") or value != DEFAULTS[name]:
            want[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    if force or {k: st.query_params.get(k) for k in want} != want or (
            set(st.query_params) - set(want)):
        st.query_params.from_dict(want)


def commit(name: str) -> None:
    """``on_change`` of a bound widget: copy its value into the state, update the URL."""
    st.session_state[name] = st.session_state[f"w_{name}"]
    if name in ("task", "variant", "model_kind", "seq_source", "layer", "direction"):
        st.session_state["playing"] = False
    if name in ("task", "variant", "model_kind"):   # the stepper's key quantity follows; another
        lesson_focus(move_unit=name != "model_kind")  # shipped model: its own telling unit
    sync_url()


def bind(name: str) -> dict[str, Any]:
    """Keyword arguments for a widget bound to the state value ``name``."""
    st.session_state[f"w_{name}"] = st.session_state[name]
    return {"key": f"w_{name}", "on_change": commit, "args": (name,)}


def set_value(name: str, value: Any) -> None:
    """Change a state value from code (a button, a click on a chart) and update the URL."""
    st.session_state[name] = value
    sync_url()


def clamp(name: str, upper: int) -> int:
    """Keep an integer state value inside [0, upper]: past it, fall back to the default (0)
    with a notice, as DESIGN's URL contract says."""
    ss = st.session_state
    value = int(ss.get(name, 0))
    if value > upper:
        ss.setdefault("notices", []).append(
            f"{name} {value} is past the end here (0 to {upper}); showing {name} 0.")
        value = 0
        ss[name] = value
    return value


def show_notices() -> None:
    """Show (once) the notices left by the URL and by fallbacks."""
    for text in st.session_state.pop("notices", []) or []:
        st.info(text)
    st.session_state["notices"] = []


# What only a full run draws: the sidebar, the buttons, the heatmaps. A callback that changes
# one of these can run inside a fragment's rerun (a widget change that reaches the server
# together with the player's request), which would leave the page showing the old view.
# Every state value but the step (which the fragment draws) is drawn outside the live view.
_FULL_RUN_KEYS = (*(k for k in DEFAULTS if k != "step"), "upload_error")
_FULL_RUN_OBJECTS = ("uploaded_sequence", "custom_model")
_DRAWN = "_full_run_view"


def _view() -> tuple:
    ss = st.session_state
    return (tuple(ss.get(k) for k in _FULL_RUN_KEYS)
            + tuple(id(ss.get(k)) for k in _FULL_RUN_OBJECTS))


def mark_full_run() -> None:
    """Record the view a full run drew (call at the end of the shared sidebar)."""
    st.session_state[_DRAWN] = _view()


def needs_full_run() -> bool:
    """True when the state moved away from what the last full run drew (call in a fragment,
    then ``st.rerun()``)."""
    return st.session_state.get(_DRAWN) != _view()

