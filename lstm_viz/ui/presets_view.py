"""The teacher presets on the landing page: one link per idea, with a line on what it shows.

Each preset is a link (``?task=…&variant=…&step=…&unit=…``) that opens the view in a new tab, to
copy into slides; "Show here" applies it in this tab. A toggle makes the links open in the
projector view (``&projector=1``).
"""

from __future__ import annotations

import streamlit as st

from lstm_viz.teaching.presets import PRESETS, Preset, preset_url

from .state import DEFAULTS, set_value


def apply_preset(preset: Preset, projector: bool = False) -> None:
    """Switch this session to the preset's view (its task example, the shipped model)."""
    ss = st.session_state
    ss["playing"] = False
    ss["model_kind"] = "trained"
    ss["seq_source"] = "example"
    ss["example_seed"] = 0
    for name in ("layer", "direction"):
        ss[name] = DEFAULTS[name]
    for name, raw in preset.params.items():
        if name in ("step", "unit", "layer", "direction"):
            ss[name] = int(raw)
        elif name == "projector":
            ss[name] = raw in ("1", "true")
        else:
            ss[name] = raw
    if projector:
        ss["projector"] = True
    set_value("step", int(ss["step"]))           # writes the URL


def presets_view() -> None:
    """List the presets as links with one line each, and a button to show one here."""
    st.subheader("Presets for teaching")
    projector = st.toggle("Links open in the projector view", key="presets_projector",
                          help="Adds projector=1 to the links: larger fonts for a room.")
    st.caption("Each link opens its view in a new tab, ready to put in a slide; "
               "'Show here' opens it in this tab.")
    extra = {"projector": "1"} if projector else {}
    for k, preset in enumerate(PRESETS):
        text, button = st.columns([6, 1], vertical_alignment="center")
        text.markdown(f"[**{preset.name}**]({preset_url(preset, **extra)}) · "
                      f"{preset.description}")
        button.button("Show here", key=f"preset_{k}", on_click=apply_preset,
                      args=(preset, projector), help=f"Show “{preset.name}” in this tab.")
