"""Every number explained: how one traced quantity of one unit at one step was made.

``explain(model, trace, "f", step=3, unit=0)`` splits the forget gate of unit 0 at step 3 into the
terms of its pre-activation (``W_if·x_t``, ``W_hf·h_{t-1}``, ``b_if``, ``b_hf`` and, for peepholes,
``p_f·c_{t-1}``), their sum, the nonlinearity and the result, recomputed in float64 from the
model's weights and the trace's inputs, next to the value the trace holds. The cell state, the
hidden state (and ``m`` before a projection) and the GRU / RNN quantities are explained the same
way. NumPy only; no streamlit, plotly or torch.

"Previous" always means the previous position in processing order: t − 1 for direction 0, t + 1
for direction 1 (labels then say ``h_{t+1}``), and the initial state (h_0, c_0) at the first
processed step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstm_viz.core import Recurrent, Trace, variant
from lstm_viz.teaching.equations import TITLES
from lstm_viz.teaching.numbers import IDENTITY, SIGMA, TANH, fmt, fmt_latex
from lstm_viz.teaching.numbers import detail_latex as _detail_latex
from lstm_viz.teaching.numbers import num as _num

__all__ = ["IDENTITY", "SIGMA", "TANH", "Explanation", "Term", "apply", "explain", "explain_all",
           "explainable", "fmt", "fmt_latex", "in_direction", "previous_state", "sigmoid",
           "step_numbers", "units_of"]


def in_direction(text: str, direction: int) -> str:
    """An equation (KaTeX or plain "c_{t-1}") with the previous state where ``direction``
    reads it: ``h_{t-1}`` forward, ``h_{t+1}`` backward (as the explanations' terms say)."""
    return text.replace("_{t-1}", "_{t+1}") if direction == 1 else text


# Symbols of each quantity in text and in LaTeX.
_SYMBOL = {k: f"{k}_t" for k in ("i", "f", "g", "o", "c", "h", "m", "r", "z", "n")}

@dataclass(frozen=True)
class Term:
    """One part of a sum (or a factor of a product).

    label: plain text ("W_if·x_t"); value: its number for the focused unit; latex: the symbol in
    KaTeX syntax ("W_{if}\\,x_t"); detail: how the value was made, when it is itself a product
    ("0.91 × 0.50"), else "".
    """

    label: str
    value: float
    latex: str
    detail: str = ""


@dataclass
class Explanation:
    """How one number of the trace was made.

    name, step, unit (and layer, direction, batch): which number.
    terms: the parts; they are added (``combine == "sum"``) or multiplied (``"product"``).
    pre_activation: the sum of the terms when a nonlinearity follows, else None.
    nonlinearity: "σ", "tanh", "identity" or None (c, h, constant gates: the terms make the value).
    value: the value recomputed from the terms; traced: the value the trace holds.
    traced_pre_activation: the trace's ``z_<gate>`` where the trace keeps one, else None.
    rule: a plain sentence when the variant fixes the quantity by a rule (a coupled f = 1 − i, ...)
    or changes its formula, else None.
    prev_step: the position h_{t-1} / c_{t-1} come from, None for the initial state.
    kind: "gate" (terms → pre-activation → nonlinearity), "constant" (a gate fixed by the variant),
    "cell" (c), "hidden" (h or m = o · act(c)), "projection" (h = W_hr m), "gru_hidden".
    """

    name: str
    step: int
    unit: int
    terms: list[Term]
    pre_activation: float | None
    nonlinearity: str | None
    value: float
    traced: float
    layer: int = 0
    direction: int = 0
    batch: int = 0
    combine: str = "sum"
    traced_pre_activation: float | None = None
    rule: str | None = None
    prev_step: int | None = None
    symbol: str = ""
    pre_symbol: str = ""
    kind: str = "gate"

    @property
    def error(self) -> float:
        """|value − traced|: how far the recomputation is from the trace."""
        return abs(self.value - self.traced)

    @property
    def combined(self) -> float:
        """The terms combined (their sum, or their product)."""
        return _combine(self.terms, self.combine)

    def lines(self, digits: int = 2) -> list[str]:
        """Human text, e.g. ["z_f = W_if·x_t (0.84) + W_hf·h_{t-1} (1.02) + b_if (0.30) +
        b_hf (0.15) = 2.31", "f_t = σ(2.31) = 0.91"]."""
        out: list[str] = []
        if self.rule:
            out.append(self.rule)
        sym = self.symbol or _SYMBOL.get(self.name, self.name)
        joiner = " + " if self.combine == "sum" else " · "
        if self.combine == "sum" and len(self.terms) > _MAX_TERMS:
            parts = _summarised_terms(self.terms, digits)
        else:
            parts = [_term_text(t, digits) for t in self.terms]
        if self.nonlinearity is not None and self.pre_activation is not None:
            pre_sym = self.pre_symbol or f"z_{self.name}"
            out.append(f"{pre_sym} = {joiner.join(parts)} = {fmt(self.pre_activation, digits)}")
            if self.nonlinearity == IDENTITY:
                out.append(f"{sym} = {pre_sym} = {fmt(self.value, digits)}  (no activation)")
            else:
                out.append(f"{sym} = {self.nonlinearity}({fmt(self.pre_activation, digits)}) = "
                           f"{fmt(self.value, digits)}")
        elif self.kind == "constant":
            if len(self.terms) == 1:
                out.append(f"{sym} = 1")
            else:
                i = -self.terms[1].value
                out.append(f"{sym} = 1 − i_t = 1 − {fmt(i, digits)} = {fmt(self.value, digits)}")
        else:
            out.append(f"{sym} = {joiner.join(parts)} = {fmt(self.value, digits)}")
        if self.prev_step is None and any("_{t" in t.label for t in self.terms):
            out.append("(this is the first processed step: the previous h and c are the initial "
                       "state h_0, c_0)")
        tol = 10.0 ** -(digits + 1)
        if not self.error <= tol * max(1.0, abs(self.traced)):
            out.append(f"warning: the trace holds {fmt(self.traced, digits + 3)}, "
                       f"the terms give {fmt(self.value, digits + 3)}")
        return out

    def latex(self, digits: int = 2) -> str:
        """The explanation as one KaTeX line, e.g. ``f_t = \\sigma(0.84 + 1.02 + 0.30 + 0.15)
        = \\sigma(2.31) = 0.91``."""
        sym = self.symbol or _SYMBOL.get(self.name, self.name)
        if self.kind == "constant":
            if len(self.terms) == 1:
                return f"{sym} = 1"
            i = -self.terms[1].value
            return rf"{sym} = 1 - i_t = 1 - {fmt_latex(i, digits, paren=True)} = " \
                rf"{fmt_latex(self.value, digits)}"
        if self.combine == "sum":
            nums = " + ".join(fmt_latex(t.value, digits, paren=True) for t in self.terms)
            if self.kind == "projection":
                nums = (rf"\sum_{{j=0}}^{{{len(self.terms) - 1}}} W_{{hr}}[{self.unit},j]\, "
                        rf"m_t[j]")
            elif len(self.terms) > _MAX_TERMS:
                nums = r" + ".join(fmt_latex(t.value, digits, paren=True)
                                   for t in self.terms[:_MAX_TERMS]) + r" + \dots"
        else:
            nums = r" \cdot ".join(fmt_latex(t.value, digits, paren=True) for t in self.terms)
        if self.kind in ("cell", "gru_hidden") and all(t.detail or t.label.startswith(("c_", "g_"))
                                                       for t in self.terms):
            nums = " + ".join(_detail_latex(t.detail) if t.detail
                              else fmt_latex(t.value, digits, paren=True) for t in self.terms)
        val = fmt_latex(self.value, digits)
        if self.nonlinearity in (SIGMA, TANH) and self.pre_activation is not None:
            f = r"\sigma" if self.nonlinearity == SIGMA else r"\tanh"
            return (rf"{sym} = {f}({nums}) = {f}({fmt_latex(self.pre_activation, digits)}) = "
                    rf"{val}")
        return rf"{sym} = {nums} = {val}"


_MAX_TERMS = 8     # longer sums (a projection row) are summarised by their largest terms


def _times(a: float, b: float) -> str:
    """"a × b" for a Term's detail."""
    return f"{_num(a)} × {_num(b)}"


def _term_text(t: Term, digits: int) -> str:
    inner = f"{t.detail} = {fmt(t.value, digits)}" if t.detail else fmt(t.value, digits)
    return f"{t.label} ({inner})"


def _summarised_terms(terms: Sequence[Term], digits: int, keep: int = 3) -> list[str]:
    """The ``keep`` largest terms, then the rest as one sum."""
    order = sorted(range(len(terms)), key=lambda j: -abs(terms[j].value))
    top = sorted(order[:keep])
    rest = math.fsum(terms[j].value for j in order[keep:])
    return [_term_text(terms[j], digits) for j in top] + [
        f"{len(terms) - len(top)} more ({fmt(rest, digits)})"]


def _combine(terms: Sequence[Term], combine: str) -> float:
    if combine == "product":
        return math.prod(t.value for t in terms)
    return math.fsum(t.value for t in terms)


def sigmoid(z: float) -> float:
    """The logistic function, without overflow."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def apply(nonlinearity: str, z: float) -> float:
    """σ, tanh or identity of ``z``."""
    if nonlinearity == SIGMA:
        return sigmoid(z)
    if nonlinearity == TANH:
        return math.tanh(z)
    if nonlinearity == IDENTITY:
        return z
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


# --------------------------------------------------------------------------- what can be explained


def explainable(name: str, proj: bool = False) -> tuple[str, ...]:
    """The names ``explain`` accepts for a variant (``m`` only with a projection)."""
    family = variant(name).family
    if family == "gru":
        return ("r", "z", "n", "h")
    if family == "rnn":
        return ("h",)
    return ("i", "f", "g", "o", "c", *(("m",) if proj else ()), "h")


def units_of(model: Recurrent, name: str) -> int:
    """How many units the quantity ``name`` has (h: proj_size with a projection)."""
    if name == "h":
        return model.config.real_hidden_size
    return model.hidden_size


# --------------------------------------------------------------------------- the explainer


class _Context:
    """Everything one explanation needs, in float64."""

    def __init__(self, model: Recurrent, trace: Trace, step: int, unit: int, layer: int,
                 direction: int, batch: int) -> None:
        cfg = model.config
        if not 0 <= layer < cfg.num_layers:
            raise ValueError(f"layer {layer} out of range: the model has {cfg.num_layers}")
        if not 0 <= direction < cfg.num_directions:
            raise ValueError(f"direction {direction} out of range: the model has "
                             f"{cfg.num_directions}")
        T, B = trace.length, trace.batch
        if not 0 <= step < T:
            raise ValueError(f"step {step} out of range: the sequence has {T} steps")
        if not 0 <= batch < B:
            raise ValueError(f"batch {batch} out of range: the trace has {B} sequences")
        if trace.variant != cfg.variant:
            raise ValueError(f"the trace is of a {trace.variant!r} model, not {cfg.variant!r}")
        self.model, self.trace = model, trace
        self.variant = cfg.variant
        self.spec = variant(cfg.variant)
        self.H = cfg.hidden_size
        self.step, self.unit, self.layer, self.direction, self.batch = (
            step, unit, layer, direction, batch)
        self.w = model.weights(layer, direction)
        self.x = np.asarray(trace.inputs[layer][step, batch], dtype=np.float64)
        k = layer * cfg.num_directions + direction
        prev = step - 1 if direction == 0 else step + 1
        self.prev_step: int | None = prev if 0 <= prev < T else None
        self.prev = "t-1" if direction == 0 else "t+1"
        if self.prev_step is None:
            self.h_prev = np.asarray(trace.h0[k, batch], dtype=np.float64)
            self.c_prev = (None if trace.c0 is None
                           else np.asarray(trace.c0[k, batch], dtype=np.float64))
        else:
            self.h_prev = self.get("h", self.prev_step, all_units=True)
            self.c_prev = (self.get("c", self.prev_step, all_units=True)
                           if self.spec.is_lstm else None)

    def get(self, name: str, step: int | None = None, all_units: bool = False):
        """A traced quantity at ``step`` (default: this step): the unit's value, or all units."""
        a = self.trace.get(name, self.layer, self.direction)
        row = a[self.step if step is None else step, self.batch]
        if all_units:
            return np.asarray(row, dtype=np.float64)
        return float(row[self.unit])

    def row(self, gate: str) -> int:
        """The row of the weights for ``gate`` of this unit."""
        return self.spec.blocks.index(gate) * self.H + self.unit

    def linear_terms(self, gate: str, w_name: str, with_hh: bool = True,
                     with_hh_bias: bool = True) -> list[Term]:
        """W_i·x_t, W_h·h_{t-1}, b_i, b_h for one gate row (torch's letters in ``w_name``)."""
        r, w, p = self.row(gate), self.w, self.prev
        terms = [Term(f"W_i{w_name}·x_t",
                      float(np.dot(np.asarray(w.weight_ih[r], dtype=np.float64), self.x)),
                      rf"W_{{i{w_name}}}\,x_t")]
        if with_hh:
            terms.append(Term(f"W_h{w_name}·h_{{{p}}}",
                              float(np.dot(np.asarray(w.weight_hh[r], dtype=np.float64),
                                           self.h_prev)),
                              rf"W_{{h{w_name}}}\,h_{{{p}}}"))
        if w.bias_ih is not None:
            terms.append(Term(f"b_i{w_name}", float(w.bias_ih[r]), rf"b_{{i{w_name}}}"))
            if with_hh_bias:
                terms.append(Term(f"b_h{w_name}", float(w.bias_hh[r]), rf"b_{{h{w_name}}}"))
        return terms


def _gate(ctx: _Context, name: str, nonlinearity: str, extra: Sequence[Term] = (),
          w_name: str | None = None, rule: str | None = None) -> dict:
    terms = ctx.linear_terms(name, w_name or name) + list(extra)
    pre = math.fsum(t.value for t in terms)
    tp = ctx.trace.steps[(ctx.layer, ctx.direction)].get(f"z_{name}")
    traced_pre = None if tp is None else float(tp[ctx.step, ctx.batch, ctx.unit])
    return dict(terms=terms, pre_activation=pre, nonlinearity=nonlinearity,
                value=apply(nonlinearity, pre), traced_pre_activation=traced_pre, rule=rule,
                pre_symbol=f"z_{name}")


def _lstm(ctx: _Context, name: str) -> dict:
    v, row, p, u = ctx.variant, ctx.spec, ctx.prev, ctx.unit
    if name == "f" and row.coupled:
        i = ctx.get("i")
        terms = [Term("1", 1.0, "1"), Term("−i_t", -i, "-i_t")]
        return dict(terms=terms, pre_activation=None, nonlinearity=None,
                    value=math.fsum(t.value for t in terms), kind="constant",
                    rule=f"{v} couples the gates: f_t = 1 − i_t")
    if name in row.fixed:
        return dict(terms=[Term("1", 1.0, "1")], pre_activation=None, nonlinearity=None,
                    value=1.0, rule=f"{v} has no {TITLES[name]}: {name}_t = 1 always",
                    kind="constant")
    if name in ("i", "f", "o"):
        extra: list[Term] = []
        if row.peephole:
            pw = ctx.w.peephole
            assert pw is not None and ctx.c_prev is not None
            if name == "o":
                c = ctx.get("c")
                extra.append(Term("p_o·c_t", float(pw[2, u]) * c, r"p_o \odot c_t",
                                  _times(float(pw[2, u]), c)))
            else:
                k = 0 if name == "i" else 1
                extra.append(Term(f"p_{name}·c_{{{p}}}", float(pw[k, u]) * ctx.c_prev[u],
                                  rf"p_{name} \odot c_{{{p}}}",
                                  _times(float(pw[k, u]), ctx.c_prev[u])))
        return _gate(ctx, name, SIGMA, extra)
    if name == "g":
        if row.input_activation == IDENTITY:
            return _gate(ctx, "g", IDENTITY,
                         rule=f"{v} has no input activation: g_t = z_g, not squashed by tanh")
        return _gate(ctx, "g", TANH)
    if name == "c":
        assert ctx.c_prev is not None
        f, i, g, cp = ctx.get("f"), ctx.get("i"), ctx.get("g"), float(ctx.c_prev[u])
        rule = None
        if "f" in row.fixed:
            first = Term(f"c_{{{p}}}", cp, f"c_{{{p}}}")
            rule = f"{v}: f_t = 1, so the old cell is kept in full"
        elif row.coupled:
            first = Term(f"(1 − i_t)·c_{{{p}}}", f * cp, rf"(1 - i_t) \odot c_{{{p}}}",
                         f"(1 − {fmt(i)}) × {_num(cp)}")
            rule = f"{v}: f_t = 1 − i_t"
        else:
            first = Term(f"f_t·c_{{{p}}}", f * cp, rf"f_t \odot c_{{{p}}}",
                         _times(f, cp))
        if "i" in row.fixed:
            second = Term("g_t", g, "g_t")
            rule = f"{v}: i_t = 1, so the whole candidate enters the cell"
        else:
            second = Term("i_t·g_t", i * g, r"i_t \odot g_t", _times(i, g))
        terms = [first, second]
        return dict(terms=terms, pre_activation=None, nonlinearity=None,
                    value=math.fsum(t.value for t in terms), rule=rule, kind="cell")
    # m = o * act(c), and h (= m, or W_hr m with a projection)
    proj = ctx.w.weight_hr is not None
    raw_c = row.output_activation == IDENTITY
    if name == "h" and proj:
        m = ctx.get("m", all_units=True)
        w = np.asarray(ctx.w.weight_hr[u], dtype=np.float64)
        terms = [Term(f"W_hr[{u},{j}]·m_t[{j}]", float(w[j] * m[j]),
                      rf"W_{{hr}}[{u},{j}]\, m_t[{j}]", _times(float(w[j]), m[j]))
                 for j in range(len(m))]
        return dict(terms=terms, pre_activation=None, nonlinearity=None,
                    value=math.fsum(t.value for t in terms),
                    rule=(f"the projection: m_t = o_t ⊙ {'c_t' if raw_c else 'tanh(c_t)'}"
                          f" has {len(m)} cells; h_t[{u}] is row {u} of W_hr times m_t"),
                    kind="projection")
    o, c = ctx.get("o"), ctx.get("c")
    rule = None
    if raw_c:
        act = Term("c_t", c, "c_t")
        rule = f"{v} has no output activation: {_SYMBOL[name]} = o_t ⊙ c_t"
    else:
        act = Term("tanh(c_t)", math.tanh(c), r"\tanh(c_t)", f"tanh({fmt(c)})")
    if "o" in row.fixed:
        rule = f"{v} has no output gate: o_t = 1, so " + _SYMBOL[name] + " = tanh(c_t)"
    terms = [Term("o_t", o, "o_t"), act]
    return dict(terms=terms, pre_activation=None, nonlinearity=None, combine="product",
                value=math.prod(t.value for t in terms), rule=rule, kind="hidden")


def _gru(ctx: _Context, name: str) -> dict:
    p, u = ctx.prev, ctx.unit
    if name in ("r", "z"):
        return _gate(ctx, name, SIGMA)
    if name == "n":
        r = ctx.get("r")
        row, w = ctx.row("n"), ctx.w
        hn = float(np.dot(np.asarray(w.weight_hh[row], dtype=np.float64), ctx.h_prev))
        if w.bias_hh is not None:
            hn += float(w.bias_hh[row])
        bias = " + b_hn" if w.bias_hh is not None else ""
        extra = [Term(f"r_t·(W_hn·h_{{{p}}}{bias})", r * hn,
                      rf"r_t \odot (W_{{hn}}\,h_{{{p}}}{' + b_{hn}' if bias else ''})",
                      _times(r, hn))]
        terms = ctx.linear_terms("n", "n", with_hh=False, with_hh_bias=False) + extra
        pre = math.fsum(t.value for t in terms)
        return dict(terms=terms, pre_activation=pre, nonlinearity=TANH, value=math.tanh(pre),
                    pre_symbol="z_n")
    z, n, hp = ctx.get("z"), ctx.get("n"), float(ctx.h_prev[u])
    terms = [Term("(1 − z_t)·n_t", (1.0 - z) * n, r"(1 - z_t) \odot n_t",
                  f"(1 − {fmt(z)}) × {_num(n)}"),
             Term(f"z_t·h_{{{p}}}", z * hp, rf"z_t \odot h_{{{p}}}", _times(z, hp))]
    return dict(terms=terms, pre_activation=None, nonlinearity=None,
                value=math.fsum(t.value for t in terms), kind="gru_hidden")


def explain(model: Recurrent, trace: Trace, name: str, step: int, unit: int, layer: int = 0,
            direction: int = 0, batch: int = 0) -> Explanation:
    """Explain the traced quantity ``name`` of ``unit`` at sequence position ``step``.

    ``name``: a gate or candidate (``i f g o``; GRU ``r z n``; RNN ``h``), the cell ``c``, the
    hidden state ``h`` or, with a projection, ``m`` (the cells before it). ``trace`` must come from
    ``model.trace``. Raises ``ValueError`` for a name the variant lacks or an index out of range.
    """
    v = model.variant
    proj = model.proj_size > 0
    names = explainable(v, proj)
    if name not in names:
        raise ValueError(f"{v} has no {name!r} to explain; choose one of {', '.join(names)}")
    n_units = units_of(model, name)
    if not 0 <= unit < n_units:
        raise ValueError(f"unit {unit} out of range: {name} has {n_units} units")
    ctx = _Context(model, trace, int(step), int(unit), int(layer), int(direction), int(batch))
    if ctx.spec.family == "rnn":
        parts = _gate(ctx, "h", TANH, w_name="h")
        parts["pre_symbol"] = "z_h"
    elif ctx.spec.family == "gru":
        parts = _gru(ctx, name)
    else:
        parts = _lstm(ctx, name)
    return Explanation(name=name, step=ctx.step, unit=ctx.unit, layer=ctx.layer,
                       direction=ctx.direction, batch=ctx.batch, traced=ctx.get(name),
                       prev_step=ctx.prev_step, symbol=_SYMBOL.get(name, name), **parts)


def explain_all(model: Recurrent, trace: Trace, step: int, unit: int, layer: int = 0,
                direction: int = 0, batch: int = 0) -> dict[str, Explanation]:
    """Every explainable quantity of ``unit`` at ``step`` (h is left out when ``unit`` is beyond
    the projection's ``proj_size`` units)."""
    return {name: explain(model, trace, name, step, unit, layer, direction, batch)
            for name in explainable(model.variant, model.proj_size > 0)
            if unit < units_of(model, name)}


def previous_state(model: Recurrent, trace: Trace, step: int, unit: int, layer: int = 0,
                   direction: int = 0, batch: int = 0) -> dict[str, float]:
    """``c_prev`` and ``h_prev`` of ``unit``: the state the step read (the initial state at the
    first processed step); ``h_prev`` only for a unit below the projection's size."""
    ctx = _Context(model, trace, int(step), int(unit), int(layer), int(direction), int(batch))
    out = {}
    if ctx.c_prev is not None:
        out["c_prev"] = float(ctx.c_prev[unit])
    if unit < len(ctx.h_prev):
        out["h_prev"] = float(ctx.h_prev[unit])
    return out


def step_numbers(model: Recurrent, trace: Trace, step: int, unit: int, layer: int = 0,
                 direction: int = 0, batch: int = 0
                 ) -> tuple[dict[str, float], dict[str, float]]:
    """(values, pre) for :func:`lstm_viz.teaching.equations.equations_with_numbers`: this
    step's traced values of ``unit`` (plus ``c_prev`` / ``h_prev``, the previous state) and the
    pre-activations of its gates."""
    from lstm_viz.teaching.step import unit_step  # it builds on this module

    numbers = unit_step(model, trace, step, unit, layer, direction, batch)
    return numbers.values, numbers.pre
