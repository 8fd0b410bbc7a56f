"""The equations of every variant as LaTeX (KaTeX syntax, for ``st.latex``), plain-language
meanings of the gates and of torch.nn.LSTM's parameters, and the tensor shapes torch would use.

No UI: strings and tuples only (``shapes`` reads a model's configuration, never runs it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lstm_viz.core import Recurrent, Variant, is_lstm, variant
from lstm_viz.teaching.numbers import IDENTITY
from lstm_viz.teaching.numbers import fmt_latex as _n  # KaTeX numbers, short


@dataclass(frozen=True)
class Equation:
    """One equation of a variant.

    key: "f", "i", "g", "c", "o", "h" (LSTM family), "r", "z", "n", "h" (gru) or "h" (rnn).
    title: what it computes ("forget gate"). latex: the equation in KaTeX syntax.
    changed: True when it differs from the family's standard (torch.nn.LSTM for the LSTM
    variants; gru and rnn are their own standard) — highlight it. note: one plain sentence on what
    changed ("" when nothing did).
    """

    key: str
    title: str
    latex: str
    changed: bool = False
    note: str = ""


TITLES: dict[str, str] = {
    "i": "input gate",
    "f": "forget gate",
    "g": "candidate",
    "o": "output gate",
    "c": "cell state",
    "h": "hidden state",
    "r": "reset gate",
    "z": "update gate",
    "n": "new content",
}

GATE_MEANING: dict[str, str] = {
    "f": "The forget gate decides how much of the old memory c_{t-1} each cell keeps: 0 removes "
         "it, 1 keeps it all, a value in between keeps that share.",
    "i": "The input gate decides how much of the candidate g_t enters the cell: 0 lets nothing "
         "in, 1 adds all of it.",
    "g": "The candidate is the new content proposed for the cell, squashed by tanh into "
         "[−1, 1]; the input gate decides how much of it is written.",
    "o": "The output gate decides how much of tanh(c_t) becomes the hidden state h_t: the cell "
         "can hold something without showing it yet.",
    "c": "The cell state is the long-term memory: the kept share of the old memory plus the "
         "admitted share of the candidate.",
    "h": "The hidden state is what the layer outputs at this step and passes on to the next step "
         "(and to the layer above).",
    "r": "The reset gate decides how much of the previous hidden state is used to propose the "
         "new content n_t: 0 ignores the past, 1 uses all of it.",
    "z": "The update gate blends old and new: 1 keeps the previous hidden state, 0 replaces it "
         "with the new content n_t.",
    "n": "The new content is the GRU's proposal for the hidden state, in [−1, 1], built from the "
         "input and the reset-gated previous hidden state.",
}

PARAMETER_MEANING: dict[str, str] = {
    "input_size": "How many numbers (features) the input has at each time step.",
    "hidden_size": "How many cells each layer has: the size of c_t (and of h_t unless proj_size "
                   "is set).",
    "num_layers": "How many LSTMs are stacked: each layer reads the outputs (h_t) of the one "
                  "below.",
    "bias": "Whether the gates get the bias terms b_ih and b_hh (False drops both).",
    "batch_first": "Whether input and output are (batch, seq, feature) instead of "
                   "(seq, batch, feature); h_n and c_n are not affected.",
    "dropout": "The share of each layer's outputs zeroed during training before the next layer "
               "(not after the last); no effect in eval mode.",
    "bidirectional": "Whether a second LSTM reads the sequence backwards; the outputs of both "
                     "directions are concatenated, so the output has twice the features.",
    "proj_size": "If above 0, h_t is projected down to proj_size numbers by W_hr; the cell c_t "
                 "keeps hidden_size.",
}

# --------------------------------------------------------------------------- the equations

_LSTM_ORDER = ("f", "i", "g", "c", "o", "h")
_ACT = {"i": r"\sigma", "f": r"\sigma", "o": r"\sigma", "g": r"\tanh", "r": r"\sigma",
        "z": r"\sigma", "n": r"\tanh", "h": r"\tanh"}


def _affine(k: str, bias: bool, w: str | None = None) -> str:
    """W_{ik} x_t + b_{ik} + W_{hk} h_{t-1} + b_{hk}."""
    w = w or k
    if bias:
        return rf"W_{{i{w}}} x_t + b_{{i{w}}} + W_{{h{w}}} h_{{t-1}} + b_{{h{w}}}"
    return rf"W_{{i{w}}} x_t + W_{{h{w}}} h_{{t-1}}"


def _lstm_equations(name: str, proj: bool, bias: bool) -> list[Equation]:
    v = variant(name)
    eq: dict[str, Equation] = {}
    for k in ("i", "f", "o"):
        eq[k] = Equation(k, TITLES[k], rf"{k}_t = \sigma({_affine(k, bias)})")
    eq["g"] = Equation("g", TITLES["g"], rf"g_t = \tanh({_affine('g', bias)})")
    eq["c"] = Equation("c", TITLES["c"], r"c_t = f_t \odot c_{t-1} + i_t \odot g_t")
    act, act_note = r"\tanh(c_t)", ""
    if v.output_activation == IDENTITY:
        act = "c_t"
        act_note = ("no output activation: the cell state is passed on without tanh, so h_t is "
                    "not bounded to [−1, 1]")
    h_rhs = act if "o" in v.fixed else rf"o_t \odot {act}"
    h_note = act_note
    if "o" in v.fixed:
        h_note = "with no output gate the whole of tanh(c_t) becomes h_t"
    if proj:
        h_rhs = rf"W_{{hr}} ({h_rhs})"
        proj_note = ("a projection W_hr maps the hidden_size values down to proj_size numbers, "
                     "so h_t is smaller than c_t")
        h_note = f"{h_note}; {proj_note}" if h_note else proj_note
    eq["h"] = Equation("h", TITLES["h"], f"h_t = {h_rhs}", bool(h_note), _sentence(h_note))

    if v.peephole:
        for k, row, c in (("i", "i", "c_{t-1}"), ("f", "f", "c_{t-1}"), ("o", "o", "c_t")):
            eq[k] = Equation(
                k, TITLES[k], rf"{k}_t = \sigma({_affine(k, bias)} + p_{row} \odot {c})", True,
                f"The {TITLES[k]} also looks at the {'new' if c == 'c_t' else 'old'} cell state "
                f"{c} through the peephole weights p_{row}.")
    if v.coupled:
        eq["f"] = Equation("f", TITLES["f"], "f_t = 1 - i_t", True,
                           "The forget gate is tied to the input gate: what enters pushes out "
                           "the same share of the old memory.")
        eq["c"] = Equation("c", TITLES["c"], r"c_t = (1 - i_t) \odot c_{t-1} + i_t \odot g_t",
                           True, "The new cell is a blend of the old memory and the candidate, "
                           "weighted by i_t.")
    if "i" in v.fixed:
        eq["i"] = Equation("i", TITLES["i"], "i_t = 1", True,
                           "There is no input gate: the whole candidate always enters the cell.")
        eq["c"] = Equation("c", TITLES["c"], r"c_t = f_t \odot c_{t-1} + g_t", True,
                           "The candidate is added in full, without an input gate.")
    if "f" in v.fixed:
        eq["f"] = Equation("f", TITLES["f"], "f_t = 1", True,
                           "There is no forget gate: the old memory is always kept in full.")
        eq["c"] = Equation("c", TITLES["c"], r"c_t = c_{t-1} + i_t \odot g_t", True,
                           "The cell can only accumulate: nothing is ever forgotten.")
    if "o" in v.fixed:
        eq["o"] = Equation("o", TITLES["o"], "o_t = 1", True,
                           "There is no output gate: the cell is always shown in full.")
    if v.input_activation == IDENTITY:
        eq["g"] = Equation("g", TITLES["g"], rf"g_t = {_affine('g', bias)}", True,
                           "No input activation: the candidate is the raw pre-activation, not "
                           "squashed into [−1, 1] by tanh.")
    return [eq[k] for k in _LSTM_ORDER]


def _sentence(text: str) -> str:
    return (text[0].upper() + text[1:] + ".") if text else ""


def equations(name: str, proj: bool = False, bias: bool = True) -> list[Equation]:
    """The equations of variant ``name`` in the order f, i, g, c, o, h (gru: r, z, n, h; rnn: h).

    ``proj``: with proj_size > 0 (LSTM family), h_t = W_hr(o_t ⊙ tanh(c_t)). ``bias=False`` drops
    the b terms. Raises ``ValueError`` for an unknown variant or a projection outside the LSTM
    family.
    """
    family = variant(name).family           # ValueError for an unknown variant
    if proj and family != "lstm":
        raise ValueError(f"proj_size is only for the LSTM family, not {name!r}")
    if family == "gru":
        n_rec = (r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" if bias
                 else r"r_t \odot (W_{hn} h_{t-1})")
        n_in = r"W_{in} x_t + b_{in}" if bias else r"W_{in} x_t"
        return [
            Equation("r", TITLES["r"], rf"r_t = \sigma({_affine('r', bias)})"),
            Equation("z", TITLES["z"], rf"z_t = \sigma({_affine('z', bias)})"),
            Equation("n", TITLES["n"], rf"n_t = \tanh({n_in} + {n_rec})"),
            Equation("h", TITLES["h"], r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"),
        ]
    if family == "rnn":
        return [Equation("h", TITLES["h"], rf"h_t = \tanh({_affine('h', bias)})")]
    return _lstm_equations(name, proj, bias)


# --------------------------------------------------------------------------- with numbers


def _get(d: Mapping[str, float] | None, *keys: str) -> float | None:
    if not d:
        return None
    for k in keys:
        if k in d and d[k] is not None:
            return float(d[k])
    return None


def equations_with_numbers(name: str, values: Mapping[str, float],
                           pre: Mapping[str, float] | None = None, proj: bool = False,
                           digits: int = 2) -> list[str]:
    """Each equation of :func:`equations` with this step's numbers for the focused unit.

    values: the quantities of the unit at this step ("i", "f", "g", "o", "c", "h", "m"; gru "r",
    "z", "n", "h"), optionally the previous state "c_prev" and "h_prev". pre: the pre-activations
    keyed by gate ("f" or "z_f"). Returns one KaTeX string per equation, in the same order, e.g.
    ``f_t = \\sigma(2.31) = 0.91``; an equation whose numbers are missing stays symbolic.
    :func:`lstm_viz.teaching.explain.step_numbers` gives both dicts from a trace.
    """
    eqs = equations(name, proj)
    out = []
    for eq in eqs:
        line = _with_numbers(variant(name), eq, values, pre, proj, digits)
        out.append(line if line is not None else eq.latex)
    return out


def _with_numbers(v: Variant, eq: Equation, values: Mapping[str, float],
                  pre: Mapping[str, float] | None, proj: bool, digits: int) -> str | None:
    k = eq.key
    val = _get(values, k)
    sym = f"{k}_t"
    if k in v.fixed:                                       # a gate the variant fixes at 1
        return f"{sym} = 1"
    if v.coupled and k == "f":
        i = _get(values, "i")
        if i is None:
            return None
        return rf"f_t = 1 - i_t = 1 - {_n(i, digits, True)} = {_n(1.0 - i, digits)}"
    if val is None:
        return None
    z = _get(pre, k, f"z_{k}")
    is_gate = k in ("i", "f", "g", "o", "r", "z", "n") or (v.family == "rnn" and k == "h")
    if is_gate:
        if z is None:
            return f"{sym} = {_n(val, digits)}"
        if v.input_activation == IDENTITY and k == "g":
            return rf"g_t = z_g = {_n(val, digits)}"
        return rf"{sym} = {_ACT[k]}({_n(z, digits)}) = {_n(val, digits)}"
    if v.family == "gru":                                  # h
        zz, n, hp = _get(values, "z"), _get(values, "n"), _get(values, "h_prev")
        if None in (zz, n, hp):
            return f"h_t = {_n(val, digits)}"
        return (rf"h_t = (1 - {_n(zz, digits, True)}) \cdot {_n(n, digits, True)} + "
                rf"{_n(zz, digits, True)} \cdot {_n(hp, digits, True)} = {_n(val, digits)}")
    if k == "c":
        f, i, g, cp = (_get(values, q) for q in ("f", "i", "g", "c_prev"))
        if None in (f, i, g, cp):
            return f"c_t = {_n(val, digits)}"
        first = (_n(cp, digits, True) if "f" in v.fixed
                 else rf"{_n(f, digits, True)} \cdot {_n(cp, digits, True)}")
        second = (_n(g, digits, True) if "i" in v.fixed
                  else rf"{_n(i, digits, True)} \cdot {_n(g, digits, True)}")
        return rf"c_t = {first} + {second} = {_n(val, digits)}"
    # h of the LSTM family
    o, c = _get(values, "o"), _get(values, "c")
    if o is None or c is None:
        return f"h_t = {_n(val, digits)}"
    act = (_n(c, digits, True) if v.output_activation == IDENTITY
           else rf"\tanh({_n(c, digits)})")
    rhs = act if "o" in v.fixed else rf"{_n(o, digits, True)} \cdot {act}"
    if proj:
        m = _get(values, "m")
        m_txt = f" = {_n(m, digits)}" if m is not None else ""
        return rf"m_t = {rhs}{m_txt}, \quad h_t = W_{{hr}}\, m_t = {_n(val, digits)}"
    return rf"h_t = {rhs} = {_n(val, digits)}"


# --------------------------------------------------------------------------- shapes


def shapes(rec: Recurrent, T: int, batch: int | None, batch_first: bool | None,
           bidirectional: bool | None = None, with_hx: bool = False) -> dict[str, tuple]:
    """The shapes torch.nn.LSTM (GRU, RNN) semantics give for ``rec``'s configuration.

    T: the sequence length; batch: the number of sequences, None for an unbatched (2-D) input;
    batch_first: the layout of x and output (None: the model's own); bidirectional: override the
    model's to show what flipping it would do. Returns x, output, h_n (and c_n for the LSTM
    family), plus h_0 (and c_0) when ``with_hx``.
    """
    cfg = rec.config
    bf = rec.batch_first if batch_first is None else bool(batch_first)
    bi = cfg.bidirectional if bidirectional is None else bool(bidirectional)
    D = 2 if bi else 1
    L, R, H = cfg.num_layers, cfg.real_hidden_size, cfg.hidden_size
    T = int(T)

    def seq(features: int) -> tuple[int, ...]:
        if batch is None:
            return (T, features)
        return (int(batch), T, features) if bf else (T, int(batch), features)

    def state(units: int) -> tuple[int, ...]:
        return (D * L, units) if batch is None else (D * L, int(batch), units)

    out: dict[str, tuple] = {"x": seq(cfg.input_size), "output": seq(D * R)}
    if with_hx:
        out["h_0"] = state(R)
        if is_lstm(cfg.variant):
            out["c_0"] = state(H)
    out["h_n"] = state(R)
    if is_lstm(cfg.variant):
        out["c_n"] = state(H)
    return out
