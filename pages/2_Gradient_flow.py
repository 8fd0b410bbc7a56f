"""Gradient flow: how far back the error signal of one loss reaches, in an LSTM, a GRU and an RNN
trained on the same task, and inside the model loaded in the sidebar."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lstm_viz.analysis import GradientFlow, gradient_flow
from lstm_viz.core import TITLES
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots import style
from lstm_viz.plots.analysis import forget_product, gradient_heatmap
from lstm_viz.plots.analysis import gradient_flow as gradient_flow_figure
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import load_shipped
from lstm_viz.ui import page
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.trace_cache import RESULTS
from lstm_viz.workbench import (
    Model,
    example_sequence,
    has_shipped,
    model_from_trained,
    sequence_key,
    targets_key,
)

LENGTHS = (20, 200)          # the length slider's range
DEFAULT_LENGTH = 100
STEPS_BACK = 40              # the caption's "n steps before the loss"
COMPARED = {"LSTM": "vanilla", "GRU": "gru", "RNN": "rnn"}
MAX_OWN_STEPS = 2_000        # the sidebar's own (uploaded) sequence is cut to this many steps
OVERFLOW_GREY = "#9e9e9e"    # gradient cells that overflowed (inf or NaN)

loaded = page("Gradient flow")
ss = st.session_state
task_name = ss["task"]
task = TASKS[task_name]
projector = bool(ss["projector"])


def sci(value: float) -> str:
    """A small or large positive number as "1.4e−4" (exactly 0 as "0")."""
    v = float(value)
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else "–"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.3g}"
    mantissa, exponent = f"{v:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "−")


def target_class(seq: Sequence, step: int) -> int | None:
    """The true class at ``step`` of a classification task's example (None for regression)."""
    if task.loss != "ce":
        return None
    target = np.asarray(seq.meta["target"])
    return int(target if target.ndim == 0 else target.reshape(target.shape[0], -1)[step, 0])


def class_name(k: int) -> str:
    return task.vocab[k] if task.vocab is not None else str(k)


# -- 1. the story -------------------------------------------------------------------------------
st.title("Gradient flow through time")
st.markdown(
    "To learn from something that happened many steps ago, a network needs the error at the "
    "loss to travel back through every step in between. In a plain RNN that signal is multiplied "
    "at every step by a factor that usually shrinks it, so it fades exponentially and the "
    "distant past teaches the network nothing (the vanishing gradient); the LSTM's cell state "
    "gives the gradient a path that only the forget gate scales, so much more of it survives.")

# -- 2. the controls -----------------------------------------------------------------------------
ss.setdefault("gf_length", DEFAULT_LENGTH)
ss.setdefault("gf_target", ss["gf_length"] - 1)
if ss.get("gf_loss_task") != task_name:      # a new task: its natural loss
    ss["gf_loss_task"] = task_name
    ss["gf_loss"] = "head" if task.loss == "ce" else "ones"
ss.setdefault("gf_relative", True)


def _on_length() -> None:
    """A new length keeps the loss at the last step when it was there, and inside the sequence."""
    old, new = int(ss["gf_length"]), int(ss["w_gf_length"])
    ss["gf_length"] = new
    if int(ss["gf_target"]) >= old - 1 or int(ss["gf_target"]) > new - 1:
        ss["gf_target"] = new - 1


def _copy(name: str) -> None:
    ss[name] = ss[f"w_{name}"]


def _bound(name: str) -> dict:
    ss[f"w_{name}"] = ss[name]
    return {"key": f"w_{name}", "on_change": _copy, "args": (name,)}


length = int(ss["gf_length"])
seq = example_sequence(task_name, seed=int(ss["example_seed"]), length=length)
cols = st.columns([3, 3, 3, 2.2], vertical_alignment="bottom")
cols[0].slider("Sequence length", *LENGTHS, key="w_gf_length", on_change=_on_length,
               value=length, help="A fresh example of the sidebar's task at this length.")
ss["gf_target"] = min(int(ss["gf_target"]), length - 1)
cols[1].slider("Loss at step", 1, length - 1, **_bound("gf_target"),
               help="The gradient of a loss taken at this one step is followed back in time.")
target = int(ss["gf_target"])
klass = target_class(seq, target)
head_label = (f"the true class's logit (**{class_name(klass)}**)" if klass is not None
              else "the model's output (its head)")
cols[2].radio("Loss", ["head", "ones"], horizontal=True, **_bound("gf_loss"),
              format_func={"head": head_label, "ones": "sum of h (ones)"}.get,
              help="L = the readout row of the head (for a classification task, the row of the "
                   "true class), or the sum of h at the loss step (unit-norm ones).")
cols[3].toggle("Relative scale", **_bound("gf_relative"),
               help="Divide each curve by its value at the loss step, so models compare.")
use_head = ss["gf_loss"] == "head"
relative = bool(ss["gf_relative"])
st.caption(f"**{task.title}** (the sidebar's task), example {int(ss['example_seed'])}, "
           f"{length} steps; the loss: {head_label if use_head else 'the sum of h'} at step "
           f"{target}.")


# -- 3. LSTM vs GRU vs RNN -----------------------------------------------------------------------
def compare(task_name: str, models: dict[str, Model], seq: Sequence, target: int,
            use_head: bool) -> dict[str, GradientFlow]:
    """BPTT of the loss at ``target`` through each shipped model of the task, on its example.

    Kept in the server's byte-bounded cache by the models' keys, the sequence's values and
    targets and the loss."""
    klass = target_class(seq, target)
    key = ("gf_compare", task_name, tuple((n, m.key) for n, m in models.items()),
           sequence_key(seq), targets_key(seq), target, use_head)

    def compute() -> dict[str, GradientFlow]:
        return {name: gradient_flow(m.recurrent, seq.values, target,
                                    head_weight=m.trained.head_weight if use_head else None,
                                    target_class=klass if use_head else None)
                for name, m in models.items()}

    with st.spinner("Back-propagating through time…"):
        return RESULTS.get(key, compute)


available = {n: v for n, v in COMPARED.items() if has_shipped(task_name, v)}
missing = [n for n in COMPARED if n not in available]
st.subheader("LSTM, GRU and RNN trained on the same task")
if missing:
    st.info(f"No trained {', '.join(missing)} ships for '{task_name}' yet, so "
            f"{'it is' if len(missing) == 1 else 'they are'} left out. Rebuild the shipped "
            "models with `python -m lstm_viz.training.train --all --out lstm_viz/models`.")
flows: dict[str, GradientFlow] = {}
if available:
    shipped = {n: model_from_trained(load_shipped(task_name, v)) for n, v in available.items()}
    flows = compare(task_name, shipped, seq, target, use_head)


def curve(flow: GradientFlow, quantity: str) -> np.ndarray:
    return flow.relative(quantity) if relative else flow.norm(quantity)


if flows:
    curves: dict[str, np.ndarray] = {}
    for name, flow in flows.items():
        if flow.dc_norm is not None:
            curves[f"{name} ‖∂L/∂c<sub>t</sub>‖"] = curve(flow, "dc")
        suffix = "" if flow.dc_norm is not None else " (no cell state c)"
        curves[f"{name} ‖∂L/∂h<sub>t</sub>‖{suffix}"] = curve(flow, "dh")
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
    st.plotly_chart(fig, key="gf_compare", config={"displaylogo": False})

    back = min(STEPS_BACK, target)
    where = target - back

    def kept(name: str, position: int, first: bool) -> str:
        """"the LSTM keeps 1.4e−4 of its gradient (through its cell)" and shorter after it."""
        flow = flows[name]
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

    def sentence(position: int) -> str:
        return ", ".join(kept(n, position, k == 0) for k, n in enumerate(flows))

    text = f"{back} steps before the loss (step {where}), {sentence(where)}."
    if where > 0:
        text += f" At step 0, {target} steps back: {sentence(0)}."
    scores = {n: load_shipped(task_name, COMPARED[n]) for n in flows}
    scored = [f"{n} " + (f"{tm.metric_value:.0%}" if tm.metric_name == "accuracy"
                         else style.fmt(tm.metric_value, 3)) for n, tm in scores.items()
              if tm.metric_value is not None]
    if scored:
        text += (f" Held-out {next(iter(scores.values())).metric_name} of the trained models: "
                 + ", ".join(scored) + ".")
    st.caption(text)
    figure_downloads(fig, f"gradient-flow-{task_name}-{length}", key="gf_compare_export")


# -- 4. inside the sidebar's model ---------------------------------------------------------------
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
            model.recurrent, seq.values, target, layer, direction, head_weight=head,
            target_class=klass if head is not None else None))


def max_weight(rec) -> float:
    """The largest |weight| of a model (for the overflow sentence)."""
    return max((float(np.abs(w).max()) for w in rec.state_dict().values() if w.size), default=0.0)


def overlay_overflow(fig, bad: np.ndarray) -> None:
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


model = loaded.model
rec = loaded.recurrent
layer, direction = int(ss["layer"]), int(ss["direction"])
own_seq, own_target = seq, target
if rec.input_size != seq.n_features:       # e.g. a fresh model sized for an uploaded sequence
    own_seq = loaded.sequence
    if own_seq.length > MAX_OWN_STEPS:     # an upload can be long: its first steps are enough
        own_seq = replace(own_seq, values=own_seq.values[:MAX_OWN_STEPS],
                          labels=own_seq.labels[:MAX_OWN_STEPS] if own_seq.labels else None)
    own_target = own_seq.length - 1
features = rec.config.num_directions * rec.config.real_hidden_size
own_head = (use_head and own_seq is seq and model.trained is not None
            and model.trained.task == task_name
            and model.trained.head_weight.shape[1] == features)
with shown_as_message("computing the gradient through the loaded model"):
    flow = own_flow(model, own_seq, own_target, layer, direction, own_head, klass)
has_c = flow.dc_abs is not None
view = ", ".join(([f"layer {layer}"] if rec.num_layers > 1 else [])
                 + ([("forward" if direction == 0 else "backward") + " direction"]
                    if rec.bidirectional else []))
st.subheader(f"Inside the loaded model: |∂L/∂{'c' if has_c else 'h'}| per unit")
st.caption(f"{plain(model.label, 120)}{f' · {view}' if view else ''} · "
           + (f"the same sequence, loss at step {own_target}" if own_seq is seq else
              f"the sidebar's own sequence ({own_seq.length:,} steps"
              f"{', its first ones' if own_seq.length < loaded.sequence.length else ''}; the "
              f"task's does not fit this model), loss at its last step {own_target}")
           + f": {head_label if own_head else 'the sum of h'}.")
if not has_c:
    st.info(f"A {TITLES.get(rec.variant, rec.variant)} has no cell state c and no forget gate, "
            "so there is no ∂L/∂c and no forget-gate product to show: below is |∂L/∂h| per unit. "
            "Pick an LSTM variant in the sidebar to see the cell's path.")
grad_abs = flow.dc_abs if has_c else flow.dh_abs
overflowed = ~np.isfinite(grad_abs)
if flow.overflowed:
    side = "back" if direction == 0 else "on"
    st.warning(f"The gradient overflowed float32 from step {flow.overflow_step} {side} (inf or "
               f"NaN, not a number): this model's weights are too large for back-propagation "
               f"(largest |w| = {style.fmt(max_weight(rec))}); retrain it or scale its weights "
               "down (those cells are drawn grey).")
heat = gradient_heatmap(np.where(overflowed, 0.0, grad_abs), name="c" if has_c else "h",
                        target_step=own_target, projector=projector)
if overflowed.any():
    overlay_overflow(heat, overflowed)
st.plotly_chart(heat, key="gf_heatmap", config={"displaylogo": False})
st.caption("Bright: the gradient arrives; dark: ten orders of magnitude less; blank: exactly 0"
           + (" (for instance where |c| is so large that tanh′(c) is 0 in float32, so nothing "
              "enters the cell from h)" if has_c else "")
           + ("; grey: overflowed, not a number." if overflowed.any() else "."))
figure_downloads(heat, f"gradient-heatmap-{rec.variant}", key="gf_heatmap_export")
if has_c:
    prod = flow.forget_product
    fprod = forget_product(prod, target_step=own_target, projector=projector,
                           title="The forget gates' product ∏ f on each unit's cell path",
                           ylabel="∏ f from step t to the loss")
    fprod.update_xaxes(range=[-0.5, own_seq.length - 0.5])     # the heatmap's time axis
    st.plotly_chart(fprod, key="gf_forget", config={"displaylogo": False})
    far = 0 if direction == 0 else own_seq.length - 1
    span = abs(own_target - far)
    if span > 0:
        share = prod[far]
        best = int(np.nanargmax(share))
        st.caption(
            f"From step {far} to the loss ({span} steps) the forget gates pass on "
            f"{sci(float(np.nanmedian(share)))} of the cell state in the median unit, "
            f"{sci(float(share[best]))} in unit {best}, the most. This is the share the cell's "
            "own path carries back (the constant error carousel when it stays near 1); the "
            "paths through h add to it.")
    figure_downloads(fprod, f"forget-product-{rec.variant}", key="gf_forget_export")

# -- 5. why ------------------------------------------------------------------------------------
st.subheader("Why the LSTM keeps its gradient")
st.markdown(
    r"The cell state is updated by addition: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, so "
    r"$\partial c_t / \partial c_{t-1} = f_t$ (element-wise). Back from the loss at step $T$ to "
    r"step $t$, the gradient along the cell is multiplied by $\prod_{k=t+1}^{T} f_k$, the "
    r"forget-gate product above: a forget gate near 1 carries the gradient almost "
    r"unchanged over hundreds of steps (the *constant error carousel*, Hochreiter & Schmidhuber "
    r"1997); the paths through $h$ add to it." "\n\n"
    r"The plain RNN has only $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$, so "
    r"$\partial h_t / \partial h_{t-1} = \mathrm{diag}(\tanh'(\cdot))\, W_{hh}$ at every step: "
    r"with $\tanh' \le 1$ and $W_{hh}$ of gain below 1 the product shrinks exponentially with "
    r"the distance (and explodes when the gain is above 1). The GRU sits in between: "
    r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$, its update gate $z$ plays the forget "
    r"gate's role on $h$ itself.")
