"""Compare variants: one sequence through two or three models trained on the same task, their gates
on one time axis, their losses and how far apart their cell states drift."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import numpy as np
import pandas as pd
import streamlit as st

from lstm_viz.analysis import VariantRun, cell_difference, compare_variants, gate_summary
from lstm_viz.core import TITLES, is_lstm
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots import style
from lstm_viz.plots.analysis import difference_heatmap, loss_curve
from lstm_viz.plots.heatmaps import MAX_READABLE_CHARS, cursor_shapes, quantity_heatmaps
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import SHIPPED_VARIANTS, list_shipped, load_shipped
from lstm_viz.ui import page
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import bind, clamp
from lstm_viz.ui.trace_cache import RESULTS
from lstm_viz.workbench import (
    Model,
    check_trace_size,
    example_sequence,
    model_from_trained,
    sequence_key,
    targets_key,
    trace_key,
)
from lstm_viz.workbench import run as trace_run

DEFAULT_VARIANTS = ("vanilla", "peephole", "cifg")
MAX_VARIANTS = 3
LSTM_QUANTITIES = ("f", "i", "o", "g", "c", "h")
GRU_QUANTITIES = ("r", "z", "n")
CHART_CONFIG = {"displayModeBar": False}
# One colour per variant on every line figure of this page (Okabe-Ito, as the model colours).
VARIANT_COLORS = {"vanilla": style.model_color("LSTM"), "peephole": "#CC79A7",
                  "cifg": "#E69F00", "gru": style.model_color("GRU"),
                  "rnn": style.model_color("RNN")}

loaded = page("Compare variants")
ss = st.session_state
projector = bool(ss["projector"])
task = TASKS[ss["task"]]


def variant_run(model: Model, seq: Sequence, with_targets: bool) -> VariantRun:
    """One shipped model on the sequence (trace, state, prediction and per-step loss).

    Kept in the server's byte-bounded cache by the model's key (configuration, weights, head,
    task), the sequence's values and its targets when used: adding a third variant runs only
    that one. The trace is the sidebar's entry for the same model and sequence, held once.
    """
    tm = model.trained
    targets = seq.meta.get("target") if with_targets else None
    key = ("variant_run", model.key, sequence_key(seq),
           targets_key(seq) if with_targets else "no-target")

    def compute() -> VariantRun:
        trace = RESULTS.get(trace_key(model, seq), lambda: trace_run(model, seq))
        runs = compare_variants({model.variant: model.recurrent}, seq.values, targets,
                                tm.task if targets is not None else None,
                                heads={model.variant: tm}, traces={model.variant: trace})
        return runs[model.variant]

    with st.spinner("Running the sequence through the model…"):
        return RESULTS.get(key, compute)


def peephole_reach(run: VariantRun, variant: str) -> tuple[float, float, float]:
    """Largest |p·c| the peepholes add to z_i, z_f (from c_{t-1}) and z_o (from c_t)."""
    p = load_shipped(task.name, variant).state["weight_peephole_l0"].astype(np.float64)
    c = run.state.astype(np.float64)
    c0 = run.trace.c0[0, 0] if run.trace.c0 is not None else np.zeros(c.shape[1])
    c_prev = np.vstack([c0[None], c[:-1]])
    return (float(np.abs(p[0] * c_prev).max()), float(np.abs(p[1] * c_prev).max()),
            float(np.abs(p[2] * c).max()))


st.title("Compare variants")
st.markdown(
    "The same sequence goes through models trained on the same task with the same recipe; only "
    "the wiring of their gates differs. **Coupling** the forget and "
    "input gates (**cifg**: f = 1 − i) leaves one gate fewer to learn: the cell can only write as "
    "much as it forgets. **Peepholes** let the gates look at the cell itself (i and f see "
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
variants = [v for v in SHIPPED_VARIANTS if v in ss["compare"]] + [
    v for v in ss["compare"] if v not in SHIPPED_VARIANTS]
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
lines = []
for v in variants:
    tr, run = runs[v].trace, runs[v]
    if v == "cifg":
        f, i = (tr.get(k)[:, 0].astype(np.float64) for k in ("f", "i"))
        gap = float(np.abs(f + i - 1).max())
        lines.append(f"**cifg**'s forget gate is 1 − i exactly: max |f + i − 1| = "
                     f"{style.fmt(gap, 2)} over {seq.length:,} steps × {units[v]} units "
                     "(float32 rounding): its f heatmap is 1 minus its i heatmap.")
    elif is_lstm(v) and {"f", "i"} <= set(tr.names()):
        s = tr.get("f")[:, 0].astype(np.float64) + tr.get("i")[:, 0]
        lines.append(f"**{v}**'s f and i are free: f + i runs from {style.fmt(s.min())} to "
                     f"{style.fmt(s.max())} (coupled gates would give 1 everywhere).")
    if v == "peephole":
        with shown_as_message("measuring the peephole terms"):
            pi, pf, po = peephole_reach(run, v)
        lines.append(f"**peephole**'s gates see the cell: the peephole terms p·c move the gates' "
                     f"inputs by up to {style.fmt(pi)} (i), {style.fmt(pf)} (f) and "
                     f"{style.fmt(po)} (o) on this sequence.")
    if v == "gru":
        z_mean = float(tr.get("z")[:, 0].mean())
        lines.append(f"**gru** has no cell state and no f, i, o, g: its update gate z (mean "
                     f"{style.fmt(z_mean)} here) keeps old h where it is near 1 and writes new "
                     "where it is near 0.")
    if v == "rnn":
        lines.append("**rnn** has no gates: h<sub>t</sub> = tanh(W x<sub>t</sub> + U "
                     "h<sub>t−1</sub> + b), nothing decides what to keep.")
st.markdown("\n".join(f"- {line}" for line in lines), unsafe_allow_html=True)

# -- the gates side by side --------------------------------------------------------------------
st.subheader("Side by side, one time axis")
options = list(LSTM_QUANTITIES) + (list(GRU_QUANTITIES) if "gru" in variants else [])
if ss.get("w_cmp_quantity") not in options:
    ss["w_cmp_quantity"] = "f"
left, right = st.columns([5, 2], vertical_alignment="bottom")
quantity = left.radio("Quantity", options, horizontal=True, key="w_cmp_quantity",
                      format_func=lambda q: style.label(q),
                      help="One heatmap per variant, units × time, all on the same steps.")
if last > 0:
    right.slider("Step (the cursor on every figure)", 0, last, **bind("step"))
    step = int(ss["step"])


def shown(v: str) -> tuple[str, np.ndarray] | None:
    """The quantity a variant shows for the chosen one: (name, (T, units)), None if it has none."""
    names = runs[v].trace.names()
    if quantity == "c" and not is_lstm(v):
        return "h", runs[v].state                    # gru / rnn: the state they carry is h
    if quantity in names:
        return quantity, runs[v].trace.get(quantity)[:, 0]
    return None


rows = {v: shown(v) for v in variants}
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
# Every figure on the time axis gets the same side margins (room for the widest labels), so that
# their steps line up on the page; plotly widens a margin only when a label would not fit.
tick_px = style.sizes(projector)["tick"]
y_labels = [f"unit {max(units.values()) - 1}", *(
    [style.user_text(n) for n in seq.feature_names] if seq.n_features <= 12
    else [f"feature {seq.n_features - 1}"])]
margins = {"l": int(24 + 0.62 * tick_px * max(map(len, y_labels))),
           "r": 140 if projector else 110}


def align(fig) -> None:
    fig.update_layout(margin_l=max(margins["l"], fig.layout.margin.l or 0), margin_r=margins["r"])


# One colour range per quantity across the variants, so that equal colours mean equal values.
limits: dict[str, float] = {}
for row in rows.values():
    if row is not None and not style.is_gate(row[0]):
        limits[row[0]] = max(limits.get(row[0], 0.0), style.symmetric_limit(row[1], row[0]))
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
        lim = limits[name]
        fig.update_traces(zmin=-lim, zmax=lim, colorbar_tickvals=[-lim, 0, lim],
                          colorbar_ticktext=[style.fmt(-lim, 1), "0", style.fmt(lim, 1)],
                          selector={"type": "heatmap", "name": name})
    align(fig)
    first = False
    st.plotly_chart(fig, key=f"cmp_heat_{v}", config=CHART_CONFIG)
    figure_downloads(fig, f"{task.name}-{v}-{name}", key=f"cmp_heat_{v}_export")

with st.expander("Gate averages over this sequence (mean ± spread)"):
    summary = {v: gate_summary(runs[v].trace) for v in variants}
    gates = [g for g in ("i", "f", "g", "o", "r", "z", "n")
             if any(g in gs for gs in summary.values())]
    st.dataframe(pd.DataFrame(
        {style.label(g): [f"{summary[v][g][0]:.2f} ± {summary[v][g][1]:.2f}" if g in summary[v]
                          else "–" for v in variants] for g in gates},
        index=pd.Index(variants, name="variant")))

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
    for t in fig.data:                       # this page's colour per variant, its name alone
        v = t.name.split()[0]
        t.update(line_color=VARIANT_COLORS.get(v), marker_color=VARIANT_COLORS.get(v))
        if t.showlegend is not False:
            t.name = v
    fig.update_xaxes(range=[-0.5, last + 0.5])  # the heatmaps' time axis
    align(fig)
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
    t_max, u_max = np.unravel_index(int(np.nanargmax(np.abs(diff))), diff.shape)
    st.markdown(
        f"Red: {b}'s value is higher, blue: {a}'s is. The units were trained separately, so "
        f"unit k of one model need not do the job of unit k of the other. Mean |{b} − {a}| = "
        f"{style.fmt(float(np.abs(diff).mean()))}; largest {style.fmt(float(diff[t_max, u_max]))} "
        f"at unit {u_max}, step {t_max}.")
    fig = difference_heatmap(
        run_a.state, run_b.state, names=(a, b),
        quantity=run_a.state_name if same else "state", step=step, projector=projector,
        title=f"{what}: {b} − {a}")
    align(fig)
    st.plotly_chart(fig, key="cmp_difference", config=CHART_CONFIG)
    figure_downloads(fig, f"{task.name}-{b}-minus-{a}", key="cmp_difference_export")
