"""Learn: the equations of the loaded variant with this step's numbers, what each gate does, the
torch.nn.LSTM usage and shapes for the loaded model, and the advantages and limits of LSTMs, each
backed by a live figure from the shipped models."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import numpy as np
import streamlit as st

from lstm_viz.core import variant as variant_row
from lstm_viz.plots.lessons import gradient_survival_figure, length_figure
from lstm_viz.teaching import explain, lessons
from lstm_viz.teaching.equations import PARAMETER_MEANING, equations, equations_with_numbers
from lstm_viz.teaching.learn import TorchUsage, intro, meaning, pre_activation_line, with_math
from lstm_viz.teaching.lessons import GRADIENT_STEPS, LENGTH_FACTORS, shipped_key
from lstm_viz.teaching.step import unit_step
from lstm_viz.training.zoo import load_shipped
from lstm_viz.ui import page
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.steps import step_by
from lstm_viz.ui.torch_badge import torch_badge
from lstm_viz.workbench import has_shipped

loaded = page("Learn")
ss = st.session_state
rec = loaded.recurrent
variant = rec.variant
row = variant_row(variant)
seq = loaded.sequence
last = seq.length - 1
unit, layer, direction = int(ss["unit"]), int(ss["layer"]), int(ss["direction"])
proj = rec.proj_size > 0
projector = bool(ss["projector"])

# Equations the variant changes get a coloured left border (containers keyed "eq_<k>_changed").
st.html("""<style>
[class*="st-key-eq_"] {padding: 0.4rem 0 0.4rem 1rem; border-left: 5px solid #d0d7de;}
[class*="st-key-eq_"][class*="_changed"] {border-left-color: #D55E00; background: #fff7f0;}
.st-key-eq_list {border-left: none !important; padding: 0 !important; background: none !important}
.st-key-eq_list .katex-display > .katex {font-size: 1.1em; white-space: normal;}
</style>""")

if projector:                      # a room: larger text and formulas than page() alone gives
    st.html("""<style>
.stMainBlockContainer [data-testid="stMarkdownContainer"] p,
.stMainBlockContainer [data-testid="stMarkdownContainer"] li {font-size: 1.3rem;}
.stMainBlockContainer [data-testid="stCaptionContainer"] p {font-size: 1.1rem;}
.stMainBlockContainer .stElementContainer .katex-display > .katex {font-size: 1.45em;}
.stMainBlockContainer [data-testid="stTable"] {font-size: 1.1rem;}
</style>""")

st.title("Learn: how an LSTM works")
st.markdown(
    "An LSTM reads a sequence one step at a time. At each step it keeps a **cell state** "
    "$c_t$, a memory that gates write to, keep and read from, and it outputs a **hidden state** "
    "$h_t$. Everything on this page is tied to what the sidebar has loaded: the equations carry "
    "this step's numbers for the unit in focus, and the PyTorch code builds this very model.")
st.caption(f"Loaded: {plain(loaded.model.label, 120)} · {plain(seq.name, 60)}, "
           f"{seq.length:,} steps. "
           "Sections: 1. the equations · 2. in PyTorch · 3. why LSTMs, and where they fail.")

# -- 1. the equations ---------------------------------------------------------------------------
st.header(f"1. The equations: {row.title}")
st.markdown(intro(row))


@st.fragment
def equations_section() -> None:
    """The rules beside this step's numbers; the step buttons rerun only this part."""
    step = int(ss["step"])
    nav = st.columns([1, 1, 4, 6], vertical_alignment="center")
    nav[0].button("◀", key="learn_back", help="Step back (←)", on_click=step_by,
                  args=(-1, last), shortcut="Left", disabled=step <= 0)
    nav[1].button("▶", key="learn_next", help="Step forward (→)", on_click=step_by,
                  args=(1, last), shortcut="Right", disabled=step >= last)
    where = f"unit {unit}" + (f", layer {layer}" if rec.num_layers > 1 else "") + (
        ", backward direction" if direction == 1 else "")
    label = seq.labels[step] if seq.labels else None
    nav[2].markdown(f"#### Step {step} of {last}")
    nav[3].markdown(f"Numbers for **{where}**"
                    + (f" · input here: “{plain(label, 12)}”" if label else ""))

    symbols = (r"$\sigma$ is the logistic function (squashes into 0…1), $\odot$ multiplies "
               r"element by element, $W_{i\cdot}$ / $W_{h\cdot}$ are the weights on the input "
               r"$x_t$ / on the previous hidden state, $b$ are biases.")
    if direction == 1:
        symbols += r" In the backward direction the previous state is $h_{t+1}$, $c_{t+1}$."
    st.caption(symbols)

    eqs = equations(variant, proj=proj, bias=rec.bias)
    try:                                            # this step's numbers, computed once
        here = unit_step(rec, loaded.trace, step, unit, layer, direction)
        numbered = equations_with_numbers(variant, here.values, here.pre, proj=proj)
        explained = here.explanations
    except ValueError:                              # a unit past a projection's outputs
        numbered, explained = [eq.latex for eq in eqs], {}

    heads = st.columns([1, 1])
    heads[0].markdown("**The rule**")
    heads[1].markdown(f"**This step's numbers** (step {step}, unit {unit})")
    with st.container(key="eq_list"):
        for eq, numbers in zip(eqs, numbered, strict=True):
            with st.container(key=f"eq_{eq.key}{'_changed' if eq.changed else ''}"):
                left, right = st.columns([1, 1], vertical_alignment="center")
                with left:
                    title = f"**{eq.title[0].upper() + eq.title[1:]}** ${eq.key}_t$"
                    if eq.changed:
                        title += " &nbsp; :orange-badge[changed vs vanilla]"
                    st.markdown(title)
                    st.latex(explain.in_direction(eq.latex, direction))        # h_{t+1} backward
                    if eq.changed and eq.note:
                        st.markdown(f":orange[**What changes:**] {with_math(eq.note)}")
                    said = meaning(eq.key, row)
                    if said:
                        st.caption(with_math(said))
                with right:
                    st.latex(numbers)
                    if numbers == eq.latex and proj and eq.key == "h" and unit >= rec.proj_size:
                        st.caption(f"$h_t$ has only proj_size = {rec.proj_size} numbers: unit "
                                   f"{unit} has none.")
                    line = pre_activation_line(explained, eq.key)
                    if line:
                        st.caption(with_math(line))


equations_section()

if variant != "vanilla":
    with st.expander("Compare: the vanilla LSTM (torch.nn.LSTM)"):
        for eq in equations("vanilla", bias=rec.bias):
            st.latex(eq.latex)

# -- 2. in PyTorch ------------------------------------------------------------------------------
st.header("2. In PyTorch")
native = f"torch.nn.{row.torch_class}" if row.torch_class else None
if native:
    st.markdown(f"The loaded model is a `{native}`. The app computes it step by step in NumPy, "
                "and checks its numbers against torch on the same weights:")
else:
    st.markdown("PyTorch has no built-in module for this variant; the app's reference module "
                "`lstm_viz.torchref.reference.make_torch_model` builds it with the same interface, "
                "parameter names and shapes as `torch.nn.LSTM`. The app's numbers, checked "
                "against it:")
torch_badge(loaded)

st.markdown("Try the options: the constructor, the shapes and the snippet follow.")
opts = st.columns(4, vertical_alignment="bottom")
batch_first = opts[0].toggle("batch_first", key="learn_batch_first",
                             help=PARAMETER_MEANING["batch_first"])
bidirectional = opts[1].toggle("bidirectional", value=rec.bidirectional,
                               key="learn_bidirectional", help=PARAMETER_MEANING["bidirectional"])
with_hx = opts[2].toggle("give (h_0, c_0)" if row.is_lstm else "give h_0",
                         key="learn_with_hx",
                         help="Pass an initial state; without it torch starts from zeros.")
batch_size = opts[3].number_input("batch size", 0, 4096, 0, key="learn_batch",
                                  help="0 = one unbatched sequence: x is 2-D (L, H_in).")
batch = int(batch_size) or None

usage = TorchUsage(rec, seq.length, batch, bool(batch_first), bool(bidirectional),
                   bool(with_hx))

left, right = st.columns([1, 1])
with left:
    st.markdown(f"**Shapes for this sequence** (L = {seq.length:,} steps"
                + (f", N = {batch}" if batch else ", unbatched") + ")")
    st.table(usage.rows(), hide_index=True)
    st.caption("D = 2 if bidirectional else 1 · H_out = proj_size or hidden_size · "
               "H_cell = hidden_size · batch_first changes x and output only.")
with right:
    st.markdown("**A runnable snippet**")
    st.code(usage.snippet(), language="python", wrap_lines=True)

st.markdown("**The key parameters**")
st.table(usage.parameters(), hide_index=True)

# -- 3. advantages and limits -------------------------------------------------------------------
st.header("3. Why LSTMs, and where they fail")


@st.cache_data(show_spinner="Following the gradient back through 100 steps…", max_entries=8)
def gradient_survival(keys: tuple[str, str], length: int = GRADIENT_STEPS
                      ) -> dict[str, np.ndarray]:
    """:func:`lessons.gradient_survival`, cached; ``keys`` (the models' content keys) key it."""
    return lessons.gradient_survival(length)


@st.cache_data(show_spinner="Testing the trained models on longer sequences…", max_entries=16)
def metric_by_length(task_name: str, key: str, factors: tuple[int, ...]
                     ) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """:func:`lessons.metric_by_length`, cached; ``key`` (the model's content key) keys it."""
    return lessons.metric_by_length(task_name, factors)


st.subheader("Advantage: the memory survives long gaps")
st.markdown(
    "In a plain RNN the gradient that teaches step $t$ travels back through $\\tanh$ and "
    "$W_{hh}$ at every step and shrinks by a factor at each one: after 100 steps nothing is "
    "left, so the RNN cannot learn what happened long ago. The LSTM's cell has an additive "
    "path, $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$, so $\\partial c_t / \\partial c_{t-1} "
    "= f_t$: with the forget gate near 1 the gradient passes almost unchanged (the *constant "
    "error carousel*, Hochreiter & Schmidhuber 1997).")
if has_shipped("remember", "vanilla") and has_shipped("remember", "rnn"):
    curves = gradient_survival((shipped_key("remember", "vanilla"),
                                shipped_key("remember", "rnn")))
    st.plotly_chart(gradient_survival_figure(curves, GRADIENT_STEPS, projector),
                    key="learn_gradient")
    acc = {v: load_shipped("remember", v).metric_value for v in ("vanilla", "rnn")}
    st.caption(lessons.gradient_caption(curves, acc))
else:
    st.info("The trained 'remember' models (vanilla LSTM and plain RNN) are not in "
            "lstm_viz/models yet, so this figure cannot be drawn. Rebuild them with "
            "`python -m lstm_viz.training.train --all --out lstm_viz/models`.")

st.markdown(
    "- **Learned memory control.** The gates decide from the data when to write, when to keep "
    "and when to read out; nobody sets a window size.\n"
    "- **Stable training on long sequences**, thanks to the additive cell path above.\n"
    "- **Cheap per step**: each step costs the same however long the sequence already is, and "
    "the state is a fixed-size vector (a transformer's cost grows with its context).\n"
    "- **Everywhere**: `torch.nn.LSTM` runs on fast cuDNN kernels and is a strong baseline for "
    "time series, audio and sensor data.")

st.subheader("Limit: it may not work past the lengths it was trained on")
if has_shipped("remember", "vanilla") and has_shipped("adding", "vanilla"):
    rem_len, rem_acc = metric_by_length("remember", shipped_key("remember", "vanilla"),
                                        LENGTH_FACTORS)
    add_len, add_err = metric_by_length("adding", shipped_key("adding", "vanilla"),
                                        LENGTH_FACTORS)
    st.plotly_chart(length_figure(LENGTH_FACTORS, rem_len, rem_acc, add_len, add_err, projector),
                    key="learn_lengths")
    st.caption(lessons.lengths_caption(rem_len, rem_acc, add_len, add_err))
else:
    st.info("The trained 'remember' and 'adding' LSTMs are not in lstm_viz/models yet, so this "
            "figure cannot be drawn.")

n_lstm, n_rnn = lessons.parameter_counts(rec.config)
st.markdown(
    "- **Sequential.** Step $t$ needs $h_{t-1}$, so the steps of one sequence cannot run in "
    "parallel; training on long sequences is slower than a transformer's.\n"
    f"- **More weights per unit.** An LSTM computes four blocks ($i, f, g, o$) where a plain "
    f"RNN computes one: at the loaded model's size, {n_lstm:,} parameters against "
    f"{n_rnn:,}.\n"
    "- **A fixed-size memory.** Everything must fit in the `hidden_size` numbers of $c_t$; "
    "exact recall of long passages (copying, lookup) is hard, where attention simply looks "
    "back.\n"
    "- **The gradient still fades, only slower**: whenever the forget gate is below 1 the "
    "memory decays geometrically (the dotted and solid LSTM lines above).")
