"""Gradient flow: how far back the error signal of one loss reaches, in an LSTM, a GRU and an RNN
trained on the same task, and inside the model loaded in the sidebar."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import numpy as np
import streamlit as st

from lstm_viz.analysis import GradientFlow
from lstm_viz.core import TITLES
from lstm_viz.plots import style
from lstm_viz.plots.analysis import forget_product, gradient_heatmap
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import load_shipped
from lstm_viz.ui import page
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.gradient_view import (
    COMPARED,
    class_name,
    compare_flows,
    comparison_figure,
    first_steps,
    forget_caption,
    max_weight,
    overlay_overflow,
    own_flow,
    reach_caption,
    target_class,
)
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import bind
from lstm_viz.workbench import example_sequence, has_shipped, model_from_trained

LENGTHS = (20, 200)          # the length slider's range
DEFAULT_LENGTH = 100
STEPS_BACK = 40              # the caption's "n steps before the loss"

loaded = page("Gradient flow")
ss = st.session_state
task_name = ss["task"]
task = TASKS[task_name]
projector = bool(ss["projector"])


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


length = int(ss["gf_length"])
seq = example_sequence(task_name, seed=int(ss["example_seed"]), length=length)
cols = st.columns([3, 3, 3, 2.2], vertical_alignment="bottom")
cols[0].slider("Sequence length", *LENGTHS, key="w_gf_length", on_change=_on_length,
               value=length, help="A fresh example of the sidebar's task at this length.")
ss["gf_target"] = min(int(ss["gf_target"]), length - 1)
cols[1].slider("Loss at step", 1, length - 1, **bind("gf_target"),
               help="The gradient of a loss taken at this one step is followed back in time.")
target = int(ss["gf_target"])
klass = target_class(task, seq, target)
head_label = (f"the true class's logit (**{class_name(task, klass)}**)" if klass is not None
              else "the model's output (its head)")
cols[2].radio("Loss", ["head", "ones"], horizontal=True, **bind("gf_loss"),
              format_func={"head": head_label, "ones": "sum of h (ones)"}.get,
              help="L = the readout row of the head (for a classification task, the row of the "
                   "true class), or the sum of h at the loss step (unit-norm ones).")
cols[3].toggle("Relative scale", **bind("gf_relative"),
               help="Divide each curve by its value at the loss step, so models compare.")
use_head = ss["gf_loss"] == "head"
relative = bool(ss["gf_relative"])
st.caption(f"**{task.title}** (the sidebar's task), example {int(ss['example_seed'])}, "
           f"{length} steps; the loss: {head_label if use_head else 'the sum of h'} at step "
           f"{target}.")


# -- 3. LSTM vs GRU vs RNN -----------------------------------------------------------------------
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
    flows = compare_flows(task_name, shipped, seq, target, use_head, klass)
if flows:
    fig = comparison_figure(flows, target, relative, projector)
    st.plotly_chart(fig, key="gf_compare", config={"displaylogo": False})
    st.caption(reach_caption(flows, target, STEPS_BACK, {
        n: (m.trained.metric_name, m.trained.metric_value) for n, m in shipped.items()}))
    figure_downloads(fig, f"gradient-flow-{task_name}-{length}", key="gf_compare_export")


# -- 4. inside the sidebar's model ---------------------------------------------------------------
model = loaded.model
rec = loaded.recurrent
layer, direction = int(ss["layer"]), int(ss["direction"])
own_seq, own_target = seq, target
if rec.input_size != seq.n_features:       # e.g. a fresh model sized for an uploaded sequence
    own_seq = first_steps(loaded.sequence)   # an upload can be long: its first steps are enough
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
    caption = forget_caption(prod, own_target, direction)
    if caption is not None:
        st.caption(caption)
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
