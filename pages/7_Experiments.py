"""Experiments: ask why, not only what. Hold units and see what the model loses (surgery, after
Lakretz et al. 2019), rank every unit by that loss, ask which inputs drove an output
(attribution), and edit one input to see what changes downstream and for how long."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import pandas as pd
import streamlit as st

from lstm_viz.analysis import ATTRIBUTION_METHODS
from lstm_viz.core.interventions import settable
from lstm_viz.plots import experiments as plots
from lstm_viz.plots import style
from lstm_viz.ui import page
from lstm_viz.ui.decomposition_view import decomposed
from lstm_viz.ui.experiments_view import (
    attributions,
    completeness,
    connected,
    current_attr,
    fits,
    head_row,
    open_in_surgery,
    presets_list,
    ranked,
    write_attr,
)
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.signal_view import track_a_signal
from lstm_viz.ui.surgery_view import counterfactual_section, surgery_section
from lstm_viz.ui.units_view import clicked_unit

TOP_UNITS = 5        # units listed under the damage chart

loaded = page("Experiments")
ss = st.session_state
seq, trace, rec = loaded.sequence, loaded.trace, loaded.recurrent
layer, direction = int(ss["layer"]), int(ss["direction"])
projector = bool(ss["projector"])
labels = seq.labels

st.title("Experiments: ask why")
st.caption(" · ".join((plain(loaded.model.label, 120), f"{seq.length:,} steps")))
with st.expander("Presets: experiments to open as links"):
    presets_list()

# -- 1. surgery ---------------------------------------------------------------------------------
st.header("Surgery: hold units, see what changes")
st.markdown(
    "Pick units of one quantity and hold them at a value over some steps; everything downstream "
    "uses the held value. **Before | after | difference** share one time axis; the held cells "
    "are boxed. Holding a unit at its mean keeps its average and removes only what it varies "
    "with (Lakretz et al. 2019); holding it at 0 removes both.")
surgery_section(loaded, layer, direction)

# -- 2. rank units ------------------------------------------------------------------------------
st.header("Rank units: which one matters most?")
st.markdown(
    "Every unit of a quantity held on its own over the whole sequence, one batched run: the "
    "damage is the mean squared change of the model's output (click a bar to hold that unit "
    "in Surgery). A unit that hurts when held at "
    "0 but not at its mean only carries a constant; one that hurts at its mean carries "
    "information.")
choices = list(settable(rec.config))
rank_q = st.selectbox("Quantity to rank", choices,
                      index=choices.index("c") if "c" in choices else 0, key="exp_rank_q",
                      format_func=style.label)
with shown_as_message("ranking the units", stop=False):
    by_mean = ranked(loaded, rank_q, "mean", layer, direction)
    by_zero = ranked(loaded, rank_q, "zero", layer, direction)
    bars = plots.damage_bars(by_mean.damage, by_zero.damage, rank_q, projector)
    event = st.plotly_chart(bars, key="exp_rank", width="stretch", on_select="rerun",
                            selection_mode="points", config={"displayModeBar": False})
    points = event.selection.points if event is not None else []
    if not points:
        ss.pop("_exp_rank_clicked", None)
    elif repr(points) != ss.get("_exp_rank_clicked"):        # a new click on a bar
        ss["_exp_rank_clicked"] = repr(points)
        clicked = clicked_unit(points, len(by_mean.damage))
        if clicked is not None:
            ss["exp_rank_unit"] = clicked
            open_in_surgery()
            st.rerun()
    figure_downloads(bars, "unit-damage", key="exp_rank_export")
    top = by_mean.ranking[:TOP_UNITS]
    st.dataframe(pd.DataFrame({
        "unit": top, "held at": by_mean.held_at[top],
        "damage (mean)": by_mean.damage[top], "damage (0)": by_zero.damage[top]}),
        hide_index=True, key="exp_rank_table")
    pick_col, go_col = st.columns([2, 1], vertical_alignment="bottom")
    pick_col.selectbox("Unit", [int(u) for u in by_mean.ranking], key="exp_rank_unit",
                                format_func=lambda u: f"unit {u} (damage "
                                                      f"{by_mean.damage[u]:.3g})")
    go_col.button("Open in Surgery", key="exp_rank_open", on_click=open_in_surgery,
                  type="primary",
                  help="Hold this unit at its mean over the whole sequence, above.")

# -- 3. attribution -----------------------------------------------------------------------------
st.header("Attribution: which inputs drove the output?")
method, target = current_attr(loaded)
ss["exp_attr_method"], ss["exp_attr_step"] = method, target
step_col, method_col, out_col = st.columns(3)
step_col.number_input("Target step", 0, seq.length - 1, key="exp_attr_step",
                      on_change=write_attr, args=(loaded,))
method_col.selectbox("Featured method", list(ATTRIBUTION_METHODS), key="exp_attr_method",
                     on_change=write_attr, args=(loaded,),
                     format_func=lambda m: m.replace("_", " "))
outputs = loaded.prediction()
output = None
if outputs is not None and outputs.shape[1] > 1:
    output = out_col.selectbox("Output", [None, *range(outputs.shape[1])], key="exp_attr_out",
                               format_func=lambda k: "the predicted one" if k is None
                               else f"output {k}")
with shown_as_message("attributing the output", stop=False):
    weight, scored = head_row(loaded, target, output)
    found = attributions(loaded, target, weight)
    order = [method] + [m for m in ATTRIBUTION_METHODS if m != method]
    strips = {m: found[m].sum(axis=1) for m in order if m in found}
    cd = decomposed(loaded, target, weight)      # contextual decomposition: LSTM family only
    strips.update(cd.strip)
    st.markdown(f"The score is **{scored}** at step {target}; each strip is the attribution "
                "of each step, summed over its input features (red raises the score, blue "
                "lowers it).")
    for m in order:
        if m in found:
            st.markdown(f"- **{m.replace('_', ' ')}**: {ATTRIBUTION_METHODS[m]}")
        else:
            st.markdown(f"- **{m.replace('_', ' ')}**: left out (it would run the sequence "
                        f"{seq.values.size if m == 'occlusion' else 64:,} times: too much "
                        "here).")
    st.markdown(cd.bullet)
    strip_fig = plots.attribution_strips(strips, labels, target, projector)
    st.plotly_chart(strip_fig, key="exp_attr", width="stretch", config={"displayModeBar": False})
    figure_downloads(strip_fig, "attribution", key="exp_attr_export")
    if "integrated_gradients" in found:
        total, gap = completeness(loaded, target, weight, found["integrated_gradients"])
        st.markdown(f"**Completeness** of integrated gradients: Σ attributions = {total:.4f}, "
                    f"score(x) − score(baseline 0) = {gap:.4f} (off by "
                    f"{abs(total - gap):.2g}, the cost of a 64-point path).")
    if cd.exactness:
        st.markdown(cd.exactness)

# -- 4. counterfactual edit ---------------------------------------------------------------------
st.header("Counterfactual: edit one input")
st.markdown("Change one step's token or value and run the sequence again: the heatmaps show "
            "|Δ| of every quantity per unit over time, from the edit on.")
counterfactual_section(loaded, layer, direction)

# -- 5. connectivity ----------------------------------------------------------------------------
st.header("Connectivity: how far back does each output look?")
if not fits(loaded, seq.length):
    st.info(f"Connectivity runs the sequence once per output step, {seq.length:,} times here: "
            "too much for the server. Pick a shorter sequence.")
else:
    with shown_as_message("measuring the connectivity", stop=False):
        weight, scored = head_row(loaded, seq.length - 1, output)
        conn = connected(loaded, weight)
        st.markdown(f"‖∂ score_t / ∂ x_s‖ for {scored} (the norm over the input's "
                    "features): a row is one output step, a column one input step, the colour "
                    "on a log scale; above the diagonal is blank (no output looks ahead).")
        conn_fig = plots.connectivity_heatmap(conn, projector)
        st.plotly_chart(conn_fig, key="exp_conn", width="stretch",
                        config={"displayModeBar": False})
        figure_downloads(conn_fig, "connectivity", key="exp_conn_export")

# -- 6. track a signal --------------------------------------------------------------------------
st.header("Track a signal: which unit follows it?")
track_a_signal(loaded, projector)
