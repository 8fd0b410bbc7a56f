"""Units: which gates saturate (after Karpathy, Johnson & Fei-Fei 2015), and which units fire
together over a stretch of the input (the unit search of LSTMVis, Strobelt et al. 2018)."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import numpy as np
import pandas as pd
import streamlit as st

from lstm_viz.analysis import saturation, suggest_range, threshold_range, unit_search
from lstm_viz.core import TITLES
from lstm_viz.plots import style
from lstm_viz.plots.analysis import saturation_scatter
from lstm_viz.ui import page
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import set_value
from lstm_viz.ui.units_view import (
    MOSTLY,
    clicked_unit,
    code,
    found_heatmap,
    input_context,
    most_saturated,
    saturation_notes,
    unit_choice,
)
from lstm_viz.workbench import sequence_key

THRESHOLD_QUANTILE = 0.9  # the default threshold: this quantile of the values searched
MAX_RANGE_SHARE = 0.25   # a suggested range covers at most this share of the sequence
FALLBACK_SPAN = 4        # a suggested range when no unit switches: the step and 4 more
MAX_MATCHES = 8          # matches listed (best first)
MATCH_SHARES = (0.25, 0.5, 0.75, 1.0)  # share of the found units on together for a match

loaded = page("Units")
ss = st.session_state
seq, trace = loaded.sequence, loaded.trace
variant = loaded.recurrent.variant
layer, direction = int(ss["layer"]), int(ss["direction"])
projector = bool(ss["projector"])
step, last = int(ss["step"]), seq.length - 1
where = (f"layer {layer}" + (", backward" if direction else "")
         if loaded.recurrent.num_layers > 1 or loaded.recurrent.bidirectional else "")

st.title("Units: what does each one do?")
st.caption(" · ".join(p for p in (plain(loaded.model.label, 120), where, f"{seq.length:,} steps")
                      if p))


def open_in_stepper(unit: int, at_step: int | None = None) -> None:
    """Focus a unit (and a step) and go to the stepper."""
    set_value("unit", int(unit))
    if at_step is not None:
        ss["playing"] = False
        set_value("step", int(at_step))
    st.switch_page("app.py", query_params=st.query_params.to_dict())


# -- gate saturation ----------------------------------------------------------------------------
st.header("Gate saturation")
with shown_as_message("measuring the gate saturation"):
    sat = saturation(trace, layer, direction)
if not sat.gates:
    st.info(f"A {TITLES[variant]} has no gates: its state is h_t = tanh(W x_t + U h_(t−1) + b) "
            "and nothing opens or closes, so there is nothing to saturate. Pick an LSTM variant "
            "or the GRU in the sidebar to see gates; the unit search below works on h.")
else:
    low, high = f"{sat.low:g}", f"{sat.high:g}"
    st.markdown(
        f"A panel per gate; each marker is that gate of one unit (a number on it: that many "
        f"units on the same spot): the share of steps it spends **left-saturated** "
        f"(below {low}, closed) against the share it spends **right-saturated** (above {high}, "
        "open). A gate near 1 most of the time is a memory that is kept (a forget gate that "
        "holds its cell for many steps), and one near 0 always is a gate that blocks; the markers "
        "in the corner near the origin are graded switches that rarely saturate "
        "(after Karpathy, Johnson & Fei-Fei 2015).")
    units = sat.left.shape[1]
    fig = saturation_scatter(sat.left, sat.right, list(sat.gates), projector=projector,
                             mostly=MOSTLY, title=f"Gate saturation of {units} units"
                                                  + (f" ({where})" if where else ""))
    # a panel per gate: the figure takes the whole width, the notes and the picker go below it
    event = st.plotly_chart(fig, key="sat_scatter", on_select="rerun", selection_mode="points",
                            width="stretch", config={"displayModeBar": False})
    notes, pick = (st.container(), st.container()) if projector else st.columns(
        [3, 2], gap="large")
    with notes:
        st.markdown("**What this model shows**")
        st.markdown("\n".join(saturation_notes(sat, variant, loaded.model.trained is not None)))
    with pick:
        st.markdown("**Open a unit in the stepper**: click a marker (one that holds several "
                    "units opens the first; hover lists them), or pick it here.")
        if ss.get("sat_unit") not in range(units):
            ss["sat_unit"] = most_saturated(sat)[1]
        st.selectbox(
            "Unit", list(range(units)), key="sat_unit",
            format_func=lambda u: unit_choice(sat, u))
        if st.button("Open in the stepper", key="sat_open", type="primary"):
            open_in_stepper(ss["sat_unit"])
    figure_downloads(fig, "gate-saturation", key="sat_export")
    with st.expander("The numbers: share of steps saturated, per unit and gate"):
        table = pd.DataFrame({"unit": np.arange(units)})
        for k, gate in enumerate(sat.gates):
            table[f"{gate} < {low}"] = sat.left[k]
            table[f"{gate} > {high}"] = sat.right[k]
        st.dataframe(table, hide_index=True, key="sat_table", column_config={
            c: st.column_config.NumberColumn(format="percent") for c in table.columns[1:]})

    points = event.selection.points if event is not None else []
    if not points:
        ss.pop("_sat_clicked", None)
    elif repr(points) != ss.get("_sat_clicked"):                # a new click on a point
        ss["_sat_clicked"] = repr(points)
        picked = clicked_unit(points, units)
        if picked is not None:
            open_in_stepper(picked)


# -- unit search --------------------------------------------------------------------------------
st.header("Unit search")
st.markdown(
    "Select a stretch of the input and a threshold: the search finds the units that are **on** "
    "(at or above the threshold) over the whole stretch and **off** just before and after it, "
    "then the other places where the same units are on together (after LSTMVis, Strobelt "
    "et al. 2018). A match that recurs at similar input points to a unit that tracks it.")

if last < 1:
    st.info("The sequence has a single step: there is no range to select.")
    st.stop()

kinds = [k for k in ("h", "c") if k in trace.names(layer, direction)]
base = f"{loaded.model.key}|{sequence_key(seq)}|{layer}|{direction}"
if ss.get("_us_base") != base or ss.get("us_kind") not in kinds:
    ss["_us_base"] = base
    ss["us_kind"] = "h"
kind_col, threshold_col, match_col = st.columns([1, 2.2, 1], gap="large")
kind = kind_col.radio(
    "Search in", kinds, key="us_kind", horizontal=True, format_func=style.label,
    help="h: what the unit outputs at each step; c: its memory (LSTM family only).")
values = trace.get(kind, layer, direction)[:, 0].astype(np.float64)   # (T, units)

lo_v, hi_v, default_threshold = threshold_range(values, THRESHOLD_QUANTILE)
kind_key = f"{base}|{kind}"
if ss.get("_us_kind_key") != kind_key or not lo_v <= ss.get("us_threshold", np.nan) <= hi_v:
    ss["_us_kind_key"] = kind_key
    ss["us_threshold"] = default_threshold
    ss.pop("us_range", None)
threshold = threshold_col.slider(
    f"Threshold: a unit is on where {kind} ≥", float(lo_v), float(hi_v), step=0.01,
    key="us_threshold", help=f"Starts at the {THRESHOLD_QUANTILE:.0%} quantile of {kind} over "
    "every unit and step: about a tenth of all the values are above it.")

if ss.get("_us_step") != step or "us_range" not in ss or max(ss["us_range"]) > last:
    ss["_us_step"] = step
    ss["us_range"] = suggest_range(values, threshold, step, max_share=MAX_RANGE_SHARE,
                                   fallback_span=FALLBACK_SPAN)


def suggest() -> None:
    ss["us_range"] = suggest_range(values, float(ss["us_threshold"]), step,
                                   max_share=MAX_RANGE_SHARE, fallback_span=FALLBACK_SPAN)


range_col, suggest_col = st.columns([3, 1], vertical_alignment="bottom", gap="large")
start, end = range_col.slider(
    "Steps to select", 0, last, key="us_range",
    help="The search asks for units on at every step of this range and off just outside it.")
suggest_col.button("Suggest a range", on_click=suggest, key="us_suggest",
                   help=f"A range around the stepper's step ({step}) where some unit turns on "
                        "and off again at this threshold.")
if ss.get("us_match") not in MATCH_SHARES:
    ss["us_match"] = MATCH_SHARES[-1]
match_share = match_col.select_slider(
    "A match needs", MATCH_SHARES, key="us_match", format_func=lambda f: f"{f:.0%} of the units",
    help="The share of the found units that must be on together at a step for it to match.")
with shown_as_message("searching the units"):
    result = unit_search(values, start, end, threshold, match_fraction=match_share)

st.markdown(f"**Selected, steps {start}–{end}:** {code(input_context(seq, start, end))}")
if not result.units.size:
    st.info(f"No unit is on ({kind} ≥ {threshold:g}) at every step of {start}–{end} and off just "
            "outside it. Lower the threshold, select another range, or let the page suggest one.")
    st.stop()

first_unit = int(result.units[0])
n_found = result.units.size
st.markdown(
    f"**{n_found} unit{'s' if n_found > 1 else ''} on here and off around it**, strongest first: "
    + ", ".join(f"unit {u} ({m:+.{2 if abs(m) >= 0.01 else 3}f} over the threshold)"
                for u, m in zip(result.units.tolist(), result.margins.tolist(), strict=True)))

matches = result.matches
if not matches:
    st.markdown(f"{'These units are' if n_found > 1 else 'This unit is'} never on"
                + ("" if n_found == 1 else " together" if match_share == 1
                   else f" together (at least {match_share:.0%} of them)")
                + f" anywhere else in the {seq.length:,} steps.")
else:
    st.markdown(f"**{len(matches)} other place{'s' if len(matches) > 1 else ''}** where "
                + ("it is on" if n_found == 1 else "they are all on" if match_share == 1
                   else f"at least {match_share:.0%} of them are on")
                + (f" (the best {MAX_MATCHES})" if len(matches) > MAX_MATCHES else "") + ":")
    for k, m in enumerate(matches[:MAX_MATCHES]):
        where_col, text_col, go_col = st.columns([1.4, 5, 1.3], vertical_alignment="center")
        where_col.markdown(f"steps {m.start}–{m.end}" if m.end > m.start else f"step {m.start}",
                           help=f"score {m.score:.2f}: length similarity to the selection × "
                                "share of the units on")
        text_col.markdown(code(input_context(seq, m.start, m.end)))
        if go_col.button("Step there", key=f"us_go_{k}",
                         help=f"Open the stepper at step {m.start} with unit {first_unit}."):
            open_in_stepper(first_unit, m.start)

with shown_as_message("drawing the units found"):
    heatmap = found_heatmap(values, result.units, seq, kind, threshold, (start, end), matches,
                            projector)
st.plotly_chart(heatmap, key="us_heatmap", width="stretch", config={"displayModeBar": False})
figure_downloads(heatmap, "unit-search", key="us_export")
