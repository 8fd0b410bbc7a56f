"""Learn: the equations of the loaded variant with this step's numbers, what each gate does, the
torch.nn.LSTM usage and shapes for the loaded model, and the advantages and limits of LSTMs, each
backed by a live figure from the shipped models."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lstm_viz.analysis import gradient_flow
from lstm_viz.core import TITLES, is_lstm, param_shapes
from lstm_viz.plots import style
from lstm_viz.plots.analysis import gradient_flow as gradient_flow_figure
from lstm_viz.teaching.equations import (
    GATE_MEANING,
    PARAMETER_MEANING,
    equations,
    equations_with_numbers,
    shapes,
)
from lstm_viz.teaching.explain import explain_all, step_numbers
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import held_out, load_shipped
from lstm_viz.ui import page
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.steps import step_by
from lstm_viz.ui.torch_badge import torch_badge
from lstm_viz.workbench import example_sequence, has_shipped, model_from_trained, torch_call

GRADIENT_STEPS = 100                 # the gradient figure's sequence length
LENGTH_FACTORS = (1, 2, 4, 8)          # times the training length, for the "it fails" figure
EVAL_SEQUENCES = 200                 # held-out sequences per length

loaded = page("Learn")
ss = st.session_state
rec = loaded.recurrent
variant = rec.variant
seq = loaded.sequence
last = seq.length - 1
unit = int(ss["unit"])
layer, direction = int(ss["layer"]), int(ss["direction"])
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
st.header(f"1. The equations: {TITLES[variant]}")
_INTRO = {
    "vanilla": "This is the standard LSTM, exactly what `torch.nn.LSTM` computes.",
    "peephole": "Peepholes let the three gates look at the cell state itself, not only at "
                "$h_{t-1}$ (Gers & Schmidhuber 2000). Highlighted: what changes against "
                "`torch.nn.LSTM`.",
    "cifg": "The coupled input-forget gate drops the forget gate's own weights: "
            "$f_t = 1 - i_t$. Highlighted: what changes against `torch.nn.LSTM`.",
    "gru": "The GRU (`torch.nn.GRU`) has no separate cell state: two gates blend the previous "
           "hidden state with new content. Fewer weights, often as good.",
    "rnn": "A plain RNN (`torch.nn.RNN`) has no gates and no cell: the whole memory is "
           "$h_t$, rewritten at every step. Section 3 shows why it forgets.",
}
st.markdown(_INTRO.get(variant, "One of the variants of Greff et al. (2017), *LSTM: A Search "
                       "Space Odyssey*. Highlighted: what changes against `torch.nn.LSTM`."))

def with_math(text: str) -> str:
    """Plain text with symbols like c_{t-1}, g_t, tanh(c_t) set as inline math."""
    def math(m: re.Match) -> str:
        sub = m.group(2) if m.group(2).startswith("{") else "{" + m.group(2) + "}"
        return f"${m.group(1)}_{sub}$"

    return re.sub(r"(?<![\w$])([A-Za-z])_(\{[^}]*\}|[a-z]{1,2}\b)", math, text)


def pre_activation_line(explained: dict, name: str) -> str | None:
    """The sum of a gate's terms with their numbers, e.g. "z_f = W_if·x_t (0.84) + ..."."""
    ex = explained.get(name)
    if ex is None or ex.pre_activation is None:
        return None
    return next((t for t in ex.lines() if t.startswith(ex.pre_symbol + " =")), None)


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
    try:
        values, pre = step_numbers(rec, loaded.trace, step, unit, layer, direction)
        numbered = equations_with_numbers(variant, values, pre, proj=proj)
        explained = explain_all(rec, loaded.trace, step, unit, layer, direction)
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
                    st.latex(eq.latex)
                    if eq.changed and eq.note:
                        st.markdown(f":orange[**What changes:**] {with_math(eq.note)}")
                    meaning = GATE_MEANING.get(eq.key)
                    if variant == "rnn":
                        meaning = ("The hidden state is the plain RNN's only memory: the new "
                                   "input and the old state are mixed and squashed at every "
                                   "step.")
                    if meaning:
                        st.caption(with_math(meaning))
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
native = {"vanilla": "torch.nn.LSTM", "gru": "torch.nn.GRU", "rnn": "torch.nn.RNN"}.get(variant)
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
with_hx = opts[2].toggle("give (h_0, c_0)" if is_lstm(variant) else "give h_0",
                         key="learn_with_hx",
                         help="Pass an initial state; without it torch starts from zeros.")
batch_size = opts[3].number_input("batch size", 0, 4096, 0, key="learn_batch",
                                  help="0 = one unbatched sequence: x is 2-D (L, H_in).")
batch = int(batch_size) or None

cfg = replace(rec.config, bidirectional=bool(bidirectional))
call = torch_call(SimpleNamespace(config=cfg, batch_first=bool(batch_first)),  # type: ignore
                  batch_first=bool(batch_first))
shape = shapes(rec, seq.length, batch, batch_first=bool(batch_first),
               bidirectional=bool(bidirectional), with_hx=bool(with_hx))


def symbolic(name: str) -> str:
    """The shape in torch's documentation letters (L, N, H_in, D, H_out, H_cell)."""
    feat = {"x": "H_in", "output": "D·H_out"}.get(name)
    if feat is not None:
        if batch is None:
            return f"(L, {feat})"
        return f"(N, L, {feat})" if batch_first else f"(L, N, {feat})"
    units = "H_cell" if name.startswith("c") else "H_out"
    return f"(D·layers, {units})" if batch is None else f"(D·layers, N, {units})"


_HOLDS = {
    "x": "the input sequence",
    "h_0": "initial hidden state",
    "c_0": "initial cell state",
    "output": "h_t of the last layer, every step",
    "h_n": "last h_t of each layer and direction",
    "c_n": "last c_t of each layer and direction",
}
rows = [{"tensor": k, "shape": "(" + ", ".join(map(str, v)) + ")", "in symbols": symbolic(k),
         "what it holds": _HOLDS[k]} for k, v in shape.items()]


def snippet() -> str:
    """A short runnable script building this model and printing the shapes of the table."""
    lstm = is_lstm(variant)
    name = "lstm" if lstm else variant
    lines = ["import torch"]
    lines.append("from torch import nn" if native
                 else "from lstm_viz.torchref.reference import make_torch_model")
    lines += ["", f"{name} = {call}"]
    lines.append(f"x = torch.randn{shape['x']}   # {symbolic('x')}")
    args = "x"
    if with_hx:
        lines.append(f"h0 = torch.zeros{shape['h_0']}")
        if lstm:
            lines.append(f"c0 = torch.zeros{shape['c_0']}")
            args = "x, (h0, c0)"
        else:
            args = "x, h0"
    if lstm:
        lines.append(f"output, (h_n, c_n) = {name}({args})")
        lines.append("print(output.shape, h_n.shape, c_n.shape)")
        lines.append(f"# torch.Size({list(shape['output'])}) torch.Size({list(shape['h_n'])}) "
                     f"torch.Size({list(shape['c_n'])})")
    else:
        lines.append(f"output, h_n = {name}({args})")
        lines.append("print(output.shape, h_n.shape)")
        lines.append(f"# torch.Size({list(shape['output'])}) torch.Size({list(shape['h_n'])})")
    return "\n".join(lines)


left, right = st.columns([1, 1])
with left:
    st.markdown(f"**Shapes for this sequence** (L = {seq.length:,} steps"
                + (f", N = {batch}" if batch else ", unbatched") + ")")
    st.table(rows, hide_index=True)
    st.caption("D = 2 if bidirectional else 1 · H_out = proj_size or hidden_size · "
               "H_cell = hidden_size · batch_first changes x and output only.")
with right:
    st.markdown("**A runnable snippet**")
    st.code(snippet(), language="python", wrap_lines=True)

st.markdown("**The key parameters**")
c = rec.config
params = {"input_size": c.input_size, "hidden_size": c.hidden_size,
          "num_layers": c.num_layers, "bias": c.bias, "batch_first": bool(batch_first),
          "bidirectional": bool(bidirectional)}
if is_lstm(variant):
    params["proj_size"] = c.proj_size
st.table([{"parameter": k, "value here": str(v), "what it means": with_math(PARAMETER_MEANING[k])}
          for k, v in params.items()], hide_index=True)

# -- 3. advantages and limits -------------------------------------------------------------------
st.header("3. Why LSTMs, and where they fail")


@st.cache_data(show_spinner="Following the gradient back through 100 steps…", max_entries=8)
def gradient_survival(keys: tuple[str, str], length: int = GRADIENT_STEPS
                      ) -> dict[str, np.ndarray]:
    """‖∂L/∂c_t‖, ‖∂L/∂h_t‖ relative to the loss step, for the shipped remember models vanilla
    and rnn, on the task's example of ``length`` steps (the loss: the logit of the right
    symbol at the last step). ``keys`` (the models' content keys) key the cache."""
    x = example_sequence("remember", seed=0, length=length)
    target = int(np.asarray(x.meta["target"]))
    flows = {}
    for v in ("vanilla", "rnn"):
        tm = load_shipped("remember", v)
        flows[v] = gradient_flow(tm.recurrent(), x.values, head_weight=tm.head_weight,
                                 target_class=target)
    return {"LSTM, through the cell ‖∂L/∂c<sub>t</sub>‖": flows["vanilla"].relative("dc"),
            "LSTM, ‖∂L/∂h<sub>t</sub>‖": flows["vanilla"].relative("dh"),
            "RNN, ‖∂L/∂h<sub>t</sub>‖": flows["rnn"].relative("dh")}


@st.cache_data(show_spinner="Testing the trained models on longer sequences…", max_entries=16)
def metric_by_length(task_name: str, key: str, factors: tuple[int, ...]
                     ) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The shipped vanilla model's held-out metric at ``factors`` × its longest training
    sequence (``key``, its content key, keys the cache)."""
    tm = load_shipped(task_name, "vanilla")
    task = TASKS[task_name]
    lengths = tuple(int(task.train_length[1]) * k for k in factors)
    values = []
    for n in lengths:
        x, y = held_out(task, seed=12_345, n=EVAL_SEQUENCES, length=n)
        values.append(float(task.metric(tm.predict(x), y)))
    return lengths, tuple(values)


def shipped_key(task_name: str, v: str) -> str:
    return model_from_trained(load_shipped(task_name, v)).key


def first_zero(values: np.ndarray) -> int | None:
    """The latest step where a relative gradient is exactly 0 (float32 underflow), if any."""
    zeros = np.flatnonzero(np.asarray(values) == 0)
    return int(zeros[-1]) if zeros.size else None


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
    fig = gradient_flow_figure(
        curves, target_step=GRADIENT_STEPS - 1, projector=projector,
        ylabel="gradient, relative to the last step",
        title=f"The gradient of the answer, followed back {GRADIENT_STEPS} steps")
    for trace in fig.data:
        if "h<sub>" in trace.name and trace.name.startswith("LSTM"):
            trace.line.dash = "dot"
    fig.update_xaxes(title={"text": "step t (the symbol to remember is at step 0)"})
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2,
                              "yanchor": "top"}, margin={"b": 120 if projector else 100},
                      height=int(500 * (1.3 if projector else 1)))
    lstm_c, lstm_h, rnn = curves.values()
    gone = first_zero(rnn)
    if gone is not None and gone + 1 < GRADIENT_STEPS:
        fig.add_annotation(x=gone + 1, y=float(np.log10(rnn[gone + 1])),
                           text="RNN: exactly 0 before this step", showarrow=True, arrowhead=2,
                           ax=20, ay=-140, xanchor="left", yanchor="bottom",
                           font={"color": style.MODEL_COLORS["RNN"],
                                 "size": style.sizes(projector)["small"]})
    st.plotly_chart(fig, key="learn_gradient")
    rnn_text = (f"the RNN's is exactly 0 (below float32's range) from step {gone} back"
                if gone is not None else f"the RNN's is {rnn[0]:.0e}")
    acc = {v: load_shipped("remember", v).metric_value for v in ("vanilla", "rnn")}
    st.caption(
        "Both models were trained on the remember task; the loss is the answer at the last of "
        f"{GRADIENT_STEPS} steps. At step 0 the LSTM still gets {lstm_c[0]:.0e} of the gradient "
        f"through its cell (‖∂L/∂c‖) and {lstm_h[0]:.0e} "
        f"through h; {rnn_text}. So the RNN never learned the task: held-out accuracy "
        f"{acc['rnn']:.0%} (chance is 25%), the LSTM {acc['vanilla']:.0%}.")
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
    s = style.sizes(projector)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "Remember the first symbol: accuracy", "Adding problem: mean abs error"))
    fig.update_layout(**style.base_layout(projector))
    style.style_axes(fig, projector)
    fig.update_annotations(font={"size": s["font"], "color": style.INK})   # the panel titles
    dark = style.MODEL_COLORS["LSTM"]
    light = style.mix(dark, "#ffffff", 0.4)
    for col, lengths, values, text in (
            (1, rem_len, rem_acc, [f"{a:.0%}" for a in rem_acc]),
            (2, add_len, add_err, [f"{e:.2f}" for e in add_err])):
        ticks = [f"{n}<br>(trained)" if k == 1 else f"{n}<br>({k}×)"
                 for k, n in zip(LENGTH_FACTORS, lengths, strict=True)]
        fig.add_trace(go.Bar(x=ticks, y=values, text=text, textposition="outside",
                             marker_color=[dark] + [light] * (len(values) - 1),
                             textfont={"size": s["small"]}, cliponaxis=False, showlegend=False,
                             hovertemplate="%{x}: %{y:.3g}<extra></extra>"), row=1, col=col)
    note = {"size": s["small"]}
    fig.add_hline(y=0.25, line_dash="dash", line_color=style.INK, row=1, col=1,
                  annotation_text="chance: 25%", annotation_position="top right",
                  annotation_font={**note, "color": style.INK},
                  annotation_bgcolor="rgba(255,255,255,0.85)")
    fig.add_hline(y=1 / 3, line_dash="dash", line_color=style.COLORS["f"], row=1, col=2,
                  annotation_text="always guessing 1.0", annotation_position="top left",
                  annotation_font={**note, "color": style.COLORS["f"]},
                  annotation_bgcolor="rgba(255,255,255,0.85)")
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(range=[0, max(0.4, 1.15 * max(add_err))], row=1, col=2)
    fig.update_xaxes(title={"text": "sequence length (steps)"})
    fig.update_layout(height=int(400 * (1.3 if projector else 1)), margin={"t": 70})
    st.plotly_chart(fig, key="learn_lengths")
    holds = rem_acc[-1] >= 0.95
    fails = add_err[-1] > 2 * add_err[0]
    text = (f"Both LSTMs saw sequences of at most {rem_len[0]} (remember) and {add_len[0]} "
            f"(adding) steps in training; {EVAL_SEQUENCES} new sequences per length. "
            f"Remember: {rem_acc[0]:.0%} at {rem_len[0]} steps, {rem_acc[-1]:.0%} at "
            f"{rem_len[-1]}. Adding: error {add_err[0]:.2f} at {add_len[0]} steps, "
            f"{add_err[-1]:.2f} at {add_len[-1]} (guessing 1.0 every time gives 0.33).")
    if holds and fails:
        text += (" Holding one symbol is a latch (a forget gate saturated at 1) and works at "
                 "any length. Keeping a sum is not: a forget gate of 0.99 keeps 60% of a number "
                 "over 50 steps but 2% over 400, and small leaks of the input gate at unmarked "
                 "steps add up. Nothing forces a trained LSTM to find the rule that works for "
                 "every length.")
    st.caption(text)
else:
    st.info("The trained 'remember' and 'adding' LSTMs are not in lstm_viz/models yet, so this "
            "figure cannot be drawn.")

n_lstm = sum(int(np.prod(v)) for v in param_shapes(replace(rec.config, variant="vanilla")
                                                    ).values())
n_rnn = sum(int(np.prod(v)) for v in param_shapes(replace(rec.config, variant="rnn",
                                                          proj_size=0)).values())
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
