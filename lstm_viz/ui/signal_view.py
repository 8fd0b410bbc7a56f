"""The Experiments page's "Track a signal" section (issue #14): pick or type a signal, rank the
units by how well they follow it, and probe every layer for it (linear probe beside a control).

The signal is a choice among :func:`lstm_viz.analysis.experiments.signals` (bracket depth, the
task's latent, the input features or file columns) or a pattern typed in ``exp_sig_pattern``
(:func:`lstm_viz.analysis.probes.pattern_signal`); typing a pattern selects it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lstm_viz.analysis.experiments import correlations, signals
from lstm_viz.analysis.probes import SPLIT, LayerProbe, pattern_signal, probe_layers
from lstm_viz.errors import InputError
from lstm_viz.plots import experiments as plots
from lstm_viz.plots import style
from lstm_viz.workbench import Loaded, sequence_key

from .experiments_view import open_in_surgery
from .exports import figure_downloads
from .failures import shown_as_message
from .safe_text import plain
from .trace_cache import RESULTS

PATTERN = "a pattern you type"
PATTERN_HELP = ("Over the sequence's characters or tokens: `(` counts the open brackets so "
                "far; `( )` is the depth, opens minus closes; `\"` (or a pattern twice, like "
                "`* *`) is 1 inside a quoted span and 0 outside; `\\n` is a newline, `\\s` a "
                "space.")


def _typed() -> None:
    """``on_change`` of the pattern box: a typed pattern becomes the signal tracked."""
    if str(st.session_state.get("exp_sig_pattern", "")).strip():
        st.session_state["exp_sig"] = PATTERN


def signal_widgets(loaded: Loaded) -> tuple[str, dict[str, np.ndarray], str]:
    """The signal widgets -> (the choice, the signals offered, quantity "c" or "h")."""
    ss = st.session_state
    seq = loaded.sequence
    found = signals(seq.values, seq.feature_names, seq.labels, seq.meta)
    options = [*found, PATTERN]
    if ss.get("exp_sig") not in options:
        ss["exp_sig"] = options[0]
    sig_col, pat_col, q_col = st.columns([2, 2, 1])
    choice = sig_col.selectbox("Signal", options, key="exp_sig")
    pat_col.text_input("Pattern", key="exp_sig_pattern", on_change=_typed, max_chars=60,
                       placeholder="( )", help=PATTERN_HELP)
    layer, direction = int(ss["layer"]), int(ss["direction"])
    tracked = [n for n in ("c", "h") if n in loaded.trace.names(layer, direction)]
    quantity = q_col.radio("In", tracked, horizontal=True, key="exp_sig_q",
                           format_func=style.label)
    return choice, found, quantity


def chosen_signal(loaded: Loaded, choice: str,
                  found: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    """(name shown, signal (T,)) of the choice; ``InputError`` (one sentence) for a bad
    pattern."""
    if choice != PATTERN:
        return choice, found[choice]
    typed = str(st.session_state.get("exp_sig_pattern", ""))
    return f"pattern {typed.strip()}", pattern_signal(loaded.sequence.labels, typed)


def probed(loaded: Loaded, quantity: str, name: str, signal: np.ndarray) -> list[LayerProbe]:
    """A probe of ``quantity`` per layer and direction (cached per model, sequence, signal)."""
    trace = loaded.trace
    key = ("experiments", "probe", loaded.model.key, sequence_key(loaded.sequence), quantity,
           name, signal.tobytes())
    return RESULTS.get(key, lambda: probe_layers(
        {ld: trace.get(quantity, *ld)[:, 0] for ld in sorted(trace.steps)
         if quantity in trace.names(*ld)}, signal))


def track_a_signal(loaded: Loaded, projector: bool) -> None:
    """The whole section under its header: correlation ranking, then the probe per layer."""
    ss = st.session_state
    layer, direction = int(ss["layer"]), int(ss["direction"])
    choice, found, quantity = signal_widgets(loaded)
    signal = None
    with shown_as_message("reading the signal", stop=False):
        name, signal = chosen_signal(loaded, choice, found)
    if signal is None:
        return
    with shown_as_message("correlating the units with the signal", stop=False):
        r = correlations(loaded.trace.get(quantity, layer, direction)[:, 0], signal)
        best = int(np.argmax(np.abs(r)))
        ss["exp_sig_unit"] = best
        st.markdown(f"**Unit {best}**'s {quantity} follows {plain(name, 60)} best "
                    f"(r = {r[best]:+.3f}); hold it at its mean in Surgery to see what the model "
                    "loses without it.")
        st.button("Hold it in Surgery", key="exp_sig_open", on_click=open_in_surgery,
                  args=("exp_sig_q", "exp_sig_unit"))
        fig = plots.correlation_bars(r, quantity, name, projector)
        st.plotly_chart(fig, key="exp_signal", width="stretch", config={"displayModeBar": False})
        figure_downloads(fig, "signal-correlation", key="exp_signal_export")
    with shown_as_message("probing the layers for the signal", stop=False):
        try:
            rows = probed(loaded, quantity, name, signal)
        except InputError as exc:        # this signal cannot be probed here: a note, no failure
            st.caption(f"No linear probe for this signal: {plain(str(exc), 300)}")
            return
        st.markdown(
            f"**A linear probe per layer**: ridge regression from all the layer's {quantity} "
            f"units to the signal, fit on the first {SPLIT:.0%} of the steps and scored (R²) on "
            f"the last {1 - SPLIT:.0%}; the control is the same probe on the signal shifted in "
            "time. A probe far above its control means the layer holds the signal linearly; a "
            "control close to the probe means the fit comes from the signal's shape, not from "
            "the layer. Below 0, the probe does worse than the held-out mean: a count that "
            "keeps growing leaves the range the probe was fit on.")
        st.dataframe(pd.DataFrame({
            "layer": [row.name for row in rows],
            "probe R²": [row.probe.r2 for row in rows],
            "control R²": [row.probe.r2_control for row in rows]}),
            hide_index=True, key="exp_probe_table")
        fig = plots.probe_bars([row.name for row in rows], [row.probe.r2 for row in rows],
                               [row.probe.r2_control for row in rows], quantity, name,
                               projector)
        st.plotly_chart(fig, key="exp_probe", width="stretch", config={"displayModeBar": False})
        figure_downloads(fig, "signal-probe", key="exp_probe_export")
