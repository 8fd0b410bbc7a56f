"""What the Gradient flow page computes and draws: the flows of the shipped LSTM, GRU and RNN and
of the sidebar's model (kept in the server's result cache), the comparison figure, its sentences
and the grey cells where a gradient overflowed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lstm_viz.analysis import GradientFlow, gradient_flow
from lstm_viz.core import TABLE, Recurrent
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots import style
from lstm_viz.plots.analysis import gradient_flow as gradient_flow_figure
from lstm_viz.training.tasks import Task
from lstm_viz.ui.trace_cache import RESULTS
from lstm_viz.workbench import Model, inputs, sequence_key, targets_key

# The torch modules compared, by their class name: LSTM, GRU and RNN (the table's order).
COMPARED: dict[str, str] = {row.torch_class: name for name, row in TABLE.items()
                            if row.torch_class is not None}
MAX_OWN_STEPS = 2_000        # the sidebar's own (uploaded) sequence is cut to this many steps
OVERFLOW_GREY = "#9e9e9e"    # gradient cells that overflowed (inf or NaN)


def sci(value: float) -> str:
    """A small or large positive number as "1.4e−4" (exactly 0 as "0")."""
    v = float(value)
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else "–"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.3g}"
    mantissa, exponent = f"{v:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "−")


def target_class(task: Task, seq: Sequence, step: int) -> int | None:
    """The true class at ``step`` of a classification task's example (None for regression)."""
    if task.loss != "ce":
        return None
    target = np.asarray(seq.meta["target"])
    return int(target if target.ndim == 0 else target.reshape(target.shape[0], -1)[step, 0])


def class_name(task: Task, k: int) -> str:
    return task.vocab[k] if task.vocab is not None else str(k)


def compare_flows(task_name: str, models: Mapping[str, Model], seq: Sequence, target: int,
                  use_head: bool, klass: int | None) -> dict[str, GradientFlow]:
    """BPTT of the loss at ``target`` through each shipped model of the task, on its example.

    Kept in the server's byte-bounded cache by the models' keys, the sequence's values and
    targets and the loss (``klass``: the true class at ``target``, from those targets)."""
    key = ("gf_compare", task_name, tuple((n, m.key) for n, m in models.items()),
           sequence_key(seq), targets_key(seq), target, use_head)

    def compute() -> dict[str, GradientFlow]:
        return {name: gradient_flow(m.recurrent, seq.values, target,
                                    head_weight=m.trained.head_weight if use_head else None,
                                    target_class=klass if use_head else None)
                for name, m in models.items()}

    with st.spinner("Back-propagating through time…"):
        return RESULTS.get(key, compute)


def own_flow(model: Model, seq: Sequence, target: int, layer: int, direction: int,
             use_head: bool, klass: int | None) -> GradientFlow:
    """BPTT of the loss at ``target`` through the sidebar's model, read at one layer and
    direction; kept by the model's key (configuration, weights, head) and the sequence's
    values with the rest of the arguments."""
    head = model.trained.head_weight if use_head and model.trained is not None else None
    key = ("gf_own", model.key, sequence_key(seq), target, layer, direction, head is not None,
           klass if head is not None else None)
    with st.spinner("Back-propagating through the loaded model…"):
        return RESULTS.get(key, lambda: gradient_flow(
            model.recurrent, inputs(model, seq), target, layer, direction, head_weight=head,
            target_class=klass if head is not None else None))


def first_steps(seq: Sequence, limit: int = MAX_OWN_STEPS) -> Sequence:
    """The sequence, cut to its first ``limit`` steps when it is longer (an upload can be long)."""
    if seq.length <= limit:
        return seq
    meta = dict(seq.meta)
    if "token_ids" in meta:                           # what an embedding reads: cut it too
        meta["token_ids"] = meta["token_ids"][:limit]
    return replace(seq, values=seq.values[:limit], meta=meta,
                   labels=seq.labels[:limit] if seq.labels else None)


def comparison_figure(flows: Mapping[str, GradientFlow], target: int, relative: bool,
                      projector: bool) -> go.Figure:
    """One curve per model and quantity (‖∂L/∂c‖ where there is a cell, ‖∂L/∂h‖), on a log axis;
    the LSTM's h dotted in its colour, and a note where a curve stops (it underflowed to 0)."""
    curves: dict[str, np.ndarray] = {}
    for name, flow in flows.items():
        if flow.dc_norm is not None:
            curves[f"{name} ‖∂L/∂c<sub>t</sub>‖"] = (flow.relative("dc") if relative
                                                     else flow.norm("dc"))
        suffix = "" if flow.dc_norm is not None else " (no cell state c)"
        curves[f"{name} ‖∂L/∂h<sub>t</sub>‖{suffix}"] = (flow.relative("dh") if relative
                                                         else flow.norm("dh"))
    fig = gradient_flow_figure(
        curves, target_step=target, projector=projector,
        ylabel="gradient norm, relative to the loss step" if relative else "gradient norm",
        title=f"How far back does the gradient of step {target}'s loss reach?")
    for trace in fig.data:      # the LSTM's h: same colour as its c, dotted
        if trace.name.startswith("LSTM") and "∂h" in trace.name:
            trace.line.dash = "dot"
    for name, values in curves.items():     # where a curve stops: it underflowed to 0
        before = np.flatnonzero(np.asarray(values[:target]) == 0)
        if before.size and before[-1] + 1 < target:
            first = int(before[-1]) + 1
            fig.add_annotation(
                x=first, y=float(np.log10(values[first])), text=f"exactly 0 before step {first}",
                showarrow=True, arrowhead=2, ax=30, ay=35, xanchor="left", yanchor="top",
                font={"color": style.model_color(name), "size": style.sizes(projector)["small"]})
    if projector:               # large legend entries wrap: below the plot, clear of the title
        fig.update_layout(legend={"y": -0.2, "yanchor": "top"})
    return fig


def kept(name: str, flow: GradientFlow, position: int, first: bool) -> str:
    """"the LSTM keeps 1.4e−4 of its gradient (through its cell c)", shorter after the first."""
    q = "dc" if flow.dc_norm is not None else "dh"
    value = float(flow.relative(q)[position])
    how = "through its cell c" if q == "dc" else "in h"
    if not np.isfinite(value):
        how += ": it overflowed float32, not a number"
    elif value <= 0:
        how += ": it underflowed, below float precision"
    amount = ("no number" if not np.isfinite(value) else sci(value) if value > 0
              else "exactly 0")
    return (f"the {name} keeps {amount} of its gradient ({how})" if first
            else f"the {name} {amount} ({how})")


def reach_caption(flows: Mapping[str, GradientFlow], target: int, steps_back: int,
                  scores: Mapping[str, tuple[str, float | None]]) -> str:
    """How much of the gradient each model keeps ``steps_back`` steps before the loss and at
    step 0, then the held-out scores (name -> (metric name, value)) of the trained models."""
    def sentence(position: int) -> str:
        return ", ".join(kept(n, f, position, k == 0) for k, (n, f) in enumerate(flows.items()))

    back = min(steps_back, target)
    where = target - back
    text = f"{back} steps before the loss (step {where}), {sentence(where)}."
    if where > 0:
        text += f" At step 0, {target} steps back: {sentence(0)}."
    scored = [f"{n} " + (f"{value:.0%}" if metric == "accuracy" else style.fmt(value, 3))
              for n, (metric, value) in scores.items() if value is not None]
    if scored:
        text += (f" Held-out {next(iter(scores.values()))[0]} of the trained models: "
                 + ", ".join(scored) + ".")
    return text


def max_weight(rec: Recurrent) -> float:
    """The largest |weight| of a model (for the overflow sentence)."""
    return max((float(np.abs(w).max()) for w in rec.state_dict().values() if w.size), default=0.0)


def overlay_overflow(fig: go.Figure, bad: np.ndarray) -> None:
    """Grey cells over the heatmap's cells (steps pooled as it pools them) that hold a value
    that is not a finite number; ``bad`` (T, units)."""
    base = fig.data[0]
    width = max(1, int(round(base.dx or 1)))
    steps, units = bad.shape
    cols = -(-steps // width)
    padded = np.zeros((cols * width, units), dtype=bool)
    padded[:steps] = bad
    pooled = padded.reshape(cols, width, units).any(axis=1).T          # (units, cols)
    fig.add_trace(go.Heatmap(
        z=np.where(pooled, 1.0, np.nan), x0=base.x0, dx=base.dx, y0=base.y0, dy=base.dy,
        colorscale=[[0, OVERFLOW_GREY], [1, OVERFLOW_GREY]], showscale=False, zmin=0, zmax=1,
        name="overflowed", hovertemplate="step %{x}, unit %{y}: overflowed (inf or NaN)"
                                         "<extra></extra>"))


def forget_caption(prod: np.ndarray, target: int, direction: int) -> str | None:
    """What the forget gates pass on from the far end of the sequence to the loss (median unit
    and the best one); None when the loss sits at that end."""
    far = 0 if direction == 0 else prod.shape[0] - 1
    span = abs(target - far)
    if span == 0:
        return None
    share = prod[far]
    best = int(np.nanargmax(share))
    return (f"From step {far} to the loss ({span} steps) the forget gates pass on "
            f"{sci(float(np.nanmedian(share)))} of the cell state in the median unit, "
            f"{sci(float(share[best]))} in unit {best}, the most. This is the share the cell's "
            "own path carries back (the constant error carousel when it stays near 1); the "
            "paths through h add to it.")
