"""Compare variants: one sequence through two or three models trained on the same task, their gates
on one time axis, their losses and how far apart their cell states drift."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import pandas as pd
import streamlit as st

from lstm_viz.analysis import cell_difference, gate_summary
from lstm_viz.core import TABLE, TITLES
from lstm_viz.plots import style
from lstm_viz.plots.analysis import difference_heatmap, loss_curve
from lstm_viz.plots.heatmaps import MAX_READABLE_CHARS, cursor_shapes, quantity_heatmaps
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import SHIPPED_VARIANTS, list_shipped, load_shipped
from lstm_viz.ui import page
from lstm_viz.ui.compare_view import (
    DEFAULT_VARIANTS,
    MAX_VARIANTS,
    align,
    apply_limit,
    difference_sentence,
    gate_averages,
    ordered,
    recolor_losses,
    shared_limits,
    shown,
    time_axis_margins,
    variant_run,
    wiring_notes,
)
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import bind, clamp
from lstm_viz.workbench import check_trace_size, example_sequence, model_from_trained

LSTM_QUANTITIES = ("f", "i", "o", "g", "c", "h")
GRU_QUANTITIES = ("r", "z", "n")
CHART_CONFIG = {"displayModeBar": False}

loaded = page("Compare variants")
ss = st.session_state
projector = bool(ss["projector"])
task = TASKS[ss["task"]]


st.title("Compare variants")
coupled = next(n for n, row in TABLE.items() if row.coupled)
st.markdown(
    "The same sequence goes through models trained on the same task with the same recipe; only "
    "the wiring of their gates differs. **Coupling** the forget and "
    f"input gates (**{coupled}**: f = 1 − i) leaves one gate fewer to learn: the cell can only "
    "write as much as it forgets. **Peepholes** let the gates look at the cell itself (i and f see "
    "c<sub>t−1</sub>, o sees c<sub>t</sub>), so they can time themselves on what is stored. "
    "A GRU merges cell and hidden state; a plain RNN has no gates at all.",
    unsafe_allow_html=True)

# -- which models ------------------------------------------------------------------------------
available = [v for t, v in list_shipped() if t == task.name]
if len(available) < 2:
    have = ", ".join(available) or "none"
    st.warning(f"Fewer than two trained models ship for {task.title} (have: {have}): nothing to "
               "compare. Pick another task in the sidebar.")
    st.stop()
chosen = [v for v in ss.get("compare", []) if v in available]
if "compare" not in ss or not chosen:               # first visit, or none of them ships here
    chosen = [v for v in DEFAULT_VARIANTS if v in available] or available[:MAX_VARIANTS]
ss["compare"] = chosen
st.multiselect(f"Variants trained on {task.title} (two or three)", available,
               max_selections=MAX_VARIANTS, format_func=lambda v: f"{v}: {TITLES[v]}",
               **bind("compare"))
variants = ordered(ss["compare"])
missing = [v for v in SHIPPED_VARIANTS if v not in available]
if missing:
    st.caption(f"No trained {', '.join(missing)} ships for {task.title}.")
if len(variants) < 2:
    st.info("Pick at least two variants to compare.")
    st.stop()

# -- the sequence: the sidebar's, when the task's models can read it ---------------------------
seq = loaded.sequence
if seq.n_features != task.input_size:
    st.info(f"Your sequence has {seq.n_features} feature(s); the models trained on {task.title} "
            f"read {task.input_size}: comparing them on the task example instead.")
    seq = example_sequence(task.name, seed=int(ss["example_seed"]))
has_targets = seq.meta.get("task") == task.name and seq.meta.get("target") is not None
with shown_as_message("comparing the variants"):     # e.g. out of memory on a long text
    models = {v: model_from_trained(load_shipped(task.name, v)) for v in variants}
    for m in models.values():
        check_trace_size(m, seq)                     # InputError: its own sentence
    runs = {v: variant_run(models[v], seq, has_targets) for v in variants}
last = seq.length - 1
step = clamp("step", last)
units = {v: int(r.state.shape[1]) for v, r in runs.items()}
st.caption(f"Sequence: **{plain(seq.name, 60)}**, {seq.length:,} steps · "
           + " · ".join(f"{v}: {units[v]} units" for v in variants))

# -- what the wiring changes, computed on this run ---------------------------------------------
lines = wiring_notes(runs, models, seq.length)
st.markdown("\n".join(f"- {line}" for line in lines), unsafe_allow_html=True)

# -- the gates side by side --------------------------------------------------------------------
st.subheader("Side by side, one time axis")
options = list(LSTM_QUANTITIES) + (list(GRU_QUANTITIES) if any(
    set(GRU_QUANTITIES) <= set(runs[v].trace.names()) for v in variants) else [])
if ss.get("w_cmp_quantity") not in options:
    ss["w_cmp_quantity"] = "f"
left, right = st.columns([5, 2], vertical_alignment="bottom")
quantity = left.radio("Quantity", options, horizontal=True, key="w_cmp_quantity",
                      format_func=lambda q: style.label(q),
                      help="One heatmap per variant, units × time, all on the same steps.")
if last > 0:
    right.slider("Step (the cursor on every figure)", 0, last, **bind("step"))
    step = int(ss["step"])

rows = {v: shown(runs[v], v, quantity) for v in variants}
lacking = [v for v in variants if rows[v] is None]
stand_in = [v for v in variants if rows[v] is not None and rows[v][0] != quantity]
if lacking:
    st.caption(f"{', '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} no "
               f"{style.label(quantity)}: not shown.")
if stand_in:
    st.caption(f"{', '.join(stand_in)} {'has' if len(stand_in) == 1 else 'have'} no separate "
               "cell state: its row shows h, the state it carries.")
unit = int(ss["unit"])
at_step = [f"{v} {style.fmt(float(rows[v][1][step, unit]))}" for v in variants
           if rows[v] is not None and unit < rows[v][1].shape[1]]
label = seq.labels[step] if seq.labels else None
if at_step:
    st.markdown(f"Step {step}{f' (input “{plain(label, 12)}”)' if label is not None else ''}, "
                f"unit {unit}: "
                + " · ".join(at_step))
# Every figure on the time axis gets the same side margins, so that their steps line up.
margins = time_axis_margins(max(units.values()), seq, projector)
# One colour range per quantity across the variants, so that equal colours mean equal values.
limits = shared_limits(rows)
if limits:
    st.caption("One colour scale for all: " + ", ".join(
        f"{k} from −{style.fmt(lim, 1)} to {style.fmt(lim, 1)}" for k, lim in limits.items())
        + ", white at 0.")
# the step labels as tick labels only when they fit side by side (characters, short sequences)
readable_labels = seq.labels is not None and seq.length <= MAX_READABLE_CHARS and (
    seq.length * max(map(len, seq.labels)) <= 160)
first = True
for v in variants:
    if rows[v] is None:
        continue
    name, values = rows[v]
    fig = quantity_heatmaps(
        {name: values}, step=step, input_values=seq.values if first else None,
        input_labels=seq.labels if first and readable_labels else None,
        feature_names=seq.feature_names,
        focus_unit=unit if unit < values.shape[1] else None, projector=projector,
        title=f"{v}: {TITLES[v]}")
    if name in limits:
        apply_limit(fig, name, limits[name])
    align(fig, margins)
    first = False
    st.plotly_chart(fig, key=f"cmp_heat_{v}", config=CHART_CONFIG)
    figure_downloads(fig, f"{task.name}-{v}-{name}", key=f"cmp_heat_{v}_export")

with st.expander("Gate averages over this sequence (mean ± spread)"):
    summary = {v: gate_summary(runs[v].trace) for v in variants}
    st.dataframe(gate_averages(runs, summary))

# -- losses ------------------------------------------------------------------------------------
st.subheader("How well does each do?")
metric = f"held-out {task.metric_name}"
table = pd.DataFrame({
    "variant": variants,
    "units": [units[v] for v in variants],
    "weights": [sum(int(a.size) for a in models[v].recurrent.state_dict().values())
                for v in variants],
    "mean loss on this sequence": [runs[v].mean_loss for v in variants],
    metric: [models[v].trained.metric_value for v in variants],
})
better = "higher" if task.higher_is_better else "lower"
st.dataframe(table, hide_index=True, column_config={
    "mean loss on this sequence": st.column_config.NumberColumn(format="%.4f"),
    metric: st.column_config.NumberColumn(
        format="%.4f", help=f"From the model's training record: {task.eval_note} "
                            f"({better} is better)."),
})
loss_name = "cross-entropy" if task.loss == "ce" else "squared error"
if not has_targets:
    st.info("Your sequence has no targets, so no loss on it: the held-out metric above comes "
            "from each model's training record.")
elif not task.per_step:
    st.caption(f"{task.title} is scored at the last step only: the loss above is the "
               f"{loss_name} there.")
else:
    fig = loss_curve({v: runs[v].loss for v in variants}, xlabel="step t",
                     ylabel=f"loss ({loss_name})", projector=projector,
                     title="Loss at every step of this sequence")
    recolor_losses(fig)                      # this page's colour per variant, its name alone
    fig.update_xaxes(range=[-0.5, last + 0.5])  # the heatmaps' time axis
    align(fig, margins)
    for shape in cursor_shapes(step, projector):
        fig.add_shape(**shape)
    st.plotly_chart(fig, key="cmp_losses", config=CHART_CONFIG)
    figure_downloads(fig, f"{task.name}-losses", key="cmp_losses_export")

# -- cell-state difference ---------------------------------------------------------------------
st.subheader("Where do their cell states differ?")
if ss.get("w_cmp_a") not in variants:
    ss["w_cmp_a"] = variants[0]
if ss.get("w_cmp_b") not in variants or ss["w_cmp_b"] == ss["w_cmp_a"]:
    ss["w_cmp_b"] = next(v for v in variants if v != ss["w_cmp_a"])
ca, cb = st.columns(2)
a = ca.selectbox("From", variants, key="w_cmp_a")
b = cb.selectbox("to", variants, key="w_cmp_b")
run_a, run_b = runs[a], runs[b]
if a == b:
    st.info("Pick two different variants.")
elif units[a] != units[b]:
    st.warning(f"{a} has {units[a]} units and {b} {units[b]}: their states cannot be compared "
               "unit by unit.")
else:
    same = run_a.state_name == run_b.state_name
    what = style.label(run_a.state_name) if same else (
        f"{a}'s {run_a.state_name} and {b}'s {run_b.state_name}")
    diff = cell_difference(run_b.state, run_a.state)            # b − a, as the figure draws it
    st.markdown(difference_sentence(a, b, diff))
    fig = difference_heatmap(
        run_a.state, run_b.state, names=(a, b),
        quantity=run_a.state_name if same else "state", step=step, projector=projector,
        title=f"{what}: {b} − {a}")
    align(fig, margins)
    st.plotly_chart(fig, key="cmp_difference", config=CHART_CONFIG)
    figure_downloads(fig, f"{task.name}-{b}-minus-{a}", key="cmp_difference_export")
