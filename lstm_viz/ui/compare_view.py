"""What the Compare variants page computes and draws beyond the analyses: each model's run on the
sequence (kept in the server's result cache), what its wiring does on that run, the quantity each
variant shows, one colour scale and one time axis for all the figures, and the tables."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as SequenceABC

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_viz.analysis import (
    VariantRun,
    compare_variants,
    coupling_gap,
    gate_sum_range,
    peephole_reach,
)
from lstm_viz.core import TABLE, is_lstm
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots import style
from lstm_viz.training.zoo import SHIPPED_VARIANTS
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.trace_cache import RESULTS
from lstm_viz.workbench import Model, sequence_key, targets_key, trace_key
from lstm_viz.workbench import run as trace_run

MAX_VARIANTS = 3
# The first visit compares the first shipped LSTM variants.
DEFAULT_VARIANTS = tuple(v for v in SHIPPED_VARIANTS if is_lstm(v))[:MAX_VARIANTS]
# Okabe-Ito, after the torch modules' colours, for the variants torch has no module for.
EXTRA_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#555555")


def _colors() -> dict[str, str]:
    own = [v for v in SHIPPED_VARIANTS if TABLE[v].torch_class is None]
    return {v: (style.model_color(TABLE[v].torch_class) if TABLE[v].torch_class is not None
                else EXTRA_COLORS[own.index(v) % len(EXTRA_COLORS)]) for v in SHIPPED_VARIANTS}


# One colour per variant on every line figure of the page (the torch modules' as the model colours).
VARIANT_COLORS: dict[str, str] = _colors()


def ordered(chosen: SequenceABC[str]) -> list[str]:
    """The chosen variants in the shipped order (any others after them, as chosen)."""
    return [v for v in SHIPPED_VARIANTS if v in chosen] + [
        v for v in chosen if v not in SHIPPED_VARIANTS]


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


def wiring_notes(runs: Mapping[str, VariantRun], models: Mapping[str, Model],
                 length: int) -> list[str]:
    """One markdown line per variant: what its wiring does, measured on this run."""
    lines = []
    for v, run in runs.items():
        row, names, units = TABLE[v], set(run.trace.names()), int(run.state.shape[1])
        if row.coupled:
            lines.append(f"**{v}**'s forget gate is 1 − i exactly: max |f + i − 1| = "
                         f"{style.fmt(coupling_gap(run), 2)} over {length:,} steps × {units} "
                         "units (float32 rounding): its f heatmap is 1 minus its i heatmap.")
        elif is_lstm(v) and {"f", "i"} <= names:
            lo, hi = gate_sum_range(run)
            lines.append(f"**{v}**'s f and i are free: f + i runs from {style.fmt(lo)} to "
                         f"{style.fmt(hi)} (coupled gates would give 1 everywhere).")
        if row.peephole:
            with shown_as_message("measuring the peephole terms"):
                pi, pf, po = peephole_reach(
                    models[v].trained.state["weight_peephole_l0"], run)
            lines.append(f"**{v}**'s gates see the cell: the peephole terms p·c move the gates' "
                         f"inputs by up to {style.fmt(pi)} (i), {style.fmt(pf)} (f) and "
                         f"{style.fmt(po)} (o) on this sequence.")
        if row.family == "gru":
            z_mean = float(run.trace.get("z")[:, 0].mean())
            lines.append(f"**{v}** has no cell state and no f, i, o, g: its update gate z (mean "
                         f"{style.fmt(z_mean)} here) keeps old h where it is near 1 and writes new "
                         "where it is near 0.")
        if row.family == "rnn":
            lines.append(f"**{v}** has no gates: h<sub>t</sub> = tanh(W x<sub>t</sub> + U "
                         "h<sub>t−1</sub> + b), nothing decides what to keep.")
    return lines


def shown(run: VariantRun, variant: str, quantity: str) -> tuple[str, np.ndarray] | None:
    """The quantity a variant shows for the chosen one: (name, (T, units)), None if it has none
    (gru / rnn show h, the state they carry, for c)."""
    if quantity == "c" and not is_lstm(variant):
        return "h", run.state
    if quantity in run.trace.names():
        return quantity, run.trace.get(quantity)[:, 0]
    return None


def shared_limits(rows: Mapping[str, tuple[str, np.ndarray] | None]) -> dict[str, float]:
    """quantity -> one symmetric colour limit across the variants (gates keep their 0..1)."""
    limits: dict[str, float] = {}
    for row in rows.values():
        if row is not None and not style.is_gate(row[0]):
            limits[row[0]] = max(limits.get(row[0], 0.0), style.symmetric_limit(row[1], row[0]))
    return limits


def apply_limit(fig: go.Figure, name: str, lim: float) -> None:
    """Put a heatmap of ``name`` on the shared colour scale −lim..lim."""
    fig.update_traces(zmin=-lim, zmax=lim, colorbar_tickvals=[-lim, 0, lim],
                      colorbar_ticktext=[style.fmt(-lim, 1), "0", style.fmt(lim, 1)],
                      selector={"type": "heatmap", "name": name})


def time_axis_margins(max_units: int, seq: Sequence, projector: bool) -> dict[str, int]:
    """Side margins with room for the widest labels, the same on every figure on the time axis,
    so that their steps line up on the page."""
    tick_px = style.sizes(projector)["tick"]
    y_labels = [f"unit {max_units - 1}", *(
        [style.user_text(n) for n in seq.feature_names] if seq.n_features <= 12
        else [f"feature {seq.n_features - 1}"])]
    return {"l": int(24 + 0.62 * tick_px * max(map(len, y_labels))),
            "r": 140 if projector else 110}


def align(fig: go.Figure, margins: Mapping[str, int]) -> None:
    """The shared margins (plotly widens a margin only when a label would not fit)."""
    fig.update_layout(margin_l=max(margins["l"], fig.layout.margin.l or 0), margin_r=margins["r"])


def gate_averages(runs: Mapping[str, VariantRun],
                  summary: Mapping[str, Mapping[str, tuple[float, float]]]) -> pd.DataFrame:
    """variant x gate: "mean ± spread" ("–" for a gate the variant does not compute)."""
    variants = list(runs)
    gates = [g for g in ("i", "f", "g", "o", "r", "z", "n")
             if any(g in gs for gs in summary.values())]
    return pd.DataFrame(
        {style.label(g): [f"{summary[v][g][0]:.2f} ± {summary[v][g][1]:.2f}" if g in summary[v]
                          else "–" for v in variants] for g in gates},
        index=pd.Index(variants, name="variant"))


def recolor_losses(fig: go.Figure) -> None:
    """The page's colour per variant on a loss figure, and each line named by its variant."""
    for t in fig.data:
        v = t.name.split()[0]
        t.update(line_color=VARIANT_COLORS.get(v), marker_color=VARIANT_COLORS.get(v))
        if t.showlegend is not False:
            t.name = v


def difference_sentence(a: str, b: str, diff: np.ndarray) -> str:
    """What the b − a heatmap shows, with its mean and its largest difference."""
    t_max, u_max = np.unravel_index(int(np.nanargmax(np.abs(diff))), diff.shape)
    return (f"Red: {b}'s value is higher, blue: {a}'s is. The units were trained separately, so "
            f"unit k of one model need not do the job of unit k of the other. Mean |{b} − {a}| = "
            f"{style.fmt(float(np.abs(diff).mean()))}; largest "
            f"{style.fmt(float(diff[t_max, u_max]))} at unit {u_max}, step {t_max}.")
