"""Every number explained: how one value of the focused unit at the current step was made.

``explain_panel(loaded)`` draws, under the stepper's cell diagram, a selector of the quantity
(f, i, g, o, c, h; GRU r, z, n, h; RNN h) and, for the focused unit at the current step (state keys
``step``, ``unit``, ``layer``, ``direction``), its computation: the parts with their numbers, the
nonlinearity, the result, and a check that the parts add up to the value the trace holds.

The arithmetic is :func:`lstm_viz.teaching.explain.explain`; the helpers here only turn an
:class:`~lstm_viz.teaching.explain.Explanation` into rows and sentences (and are tested on
their own).
"""

from __future__ import annotations

import streamlit as st

from lstm_viz.teaching.equations import TITLES
from lstm_viz.teaching.explain import Explanation, explain, explainable, units_of
from lstm_viz.teaching.numbers import IDENTITY, NONLINEARITY_LATEX, SIGMA, fmt, latex_symbol, sci
from lstm_viz.teaching.step import UnitStep
from lstm_viz.workbench import Loaded

from .safe_text import plain

TABLE_DIGITS = 4         # the table shows this many decimals, the formula 2 or 3
DIGITS = 3

def _fmt(value: float, digits: int = TABLE_DIGITS) -> str:
    return fmt(value, digits, kind="table")


def term_meaning(label: str) -> str:
    """A few words on what a term of an explanation is (from its label, e.g. ``W_if·x_t``)."""
    if label.startswith("W_i") and "x_t" in label:
        return "input weights × this step's input"
    if label.startswith("W_h") and "h_{" in label:
        return "recurrent weights × previous hidden state"
    if label.startswith("W_hr"):
        return "projection weight × one cell's output"
    if label.startswith("b_i"):
        return "input-side bias"
    if label.startswith("b_h"):
        return "recurrent-side bias"
    if label.startswith("p_"):
        return "peephole weight × cell state"
    if label.startswith("r_t·("):
        return "reset gate × (recurrent weights × previous h + bias)"
    if label.startswith("f_t·c_") or label.startswith("(1 − i_t)·c_"):
        return "what is kept of the old memory"
    if label.startswith("c_{"):
        return "the old memory, kept in full (no forget gate)"
    if label == "i_t·g_t":
        return "what is written from the candidate"
    if label == "g_t":
        return "the candidate, written in full (no input gate)"
    if label == "o_t":
        return "output gate: how much of the cell is shown"
    if label == "tanh(c_t)":
        return "the cell state squashed into [−1, 1]"
    if label == "c_t":
        return "the cell state (no output activation)"
    if label.startswith("(1 − z_t)·n_t"):
        return "the share of the new content"
    if label.startswith("z_t·h_"):
        return "the share of the previous hidden state kept"
    if label == "1":
        return "constant"
    if label == "−i_t":
        return "minus the input gate"
    return ""


def markdown_table(rows: list[dict[str, str]]) -> str:
    """``rows`` (one dict a row, the same keys) as a markdown table, the last column right-aligned.

    Not st.table: in the browser, that loads Arrow's ~0.9 MB of scripts (parsed before the live
    view settles) for a table of a few short rows. A "|" in a cell is escaped."""
    cols = list(rows[0]) if rows else []

    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) - 1) + "---:|"]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines) if cols else ""


def explanation_rows(ex: Explanation, digits: int = TABLE_DIGITS) -> list[dict[str, str]]:
    """The table under the formula: one row per part, then their total and the result.

    Columns "part", "what it is", "how" (the product behind a value, when it is one) and "value".
    """
    rows = [{"part": f"${t.latex}$", "what it is": term_meaning(t.label),
             "how": t.detail.replace("-", "−"),
             "value": _fmt(t.value, digits)} for t in ex.terms]
    op = "sum" if ex.combine == "sum" else "product"
    if ex.pre_activation is not None and ex.nonlinearity is not None:
        pre = latex_symbol(ex.pre_symbol or f"z_{ex.name}")
        rows.append({"part": f"${pre}$", "what it is": f"pre-activation: the {op} of the parts",
                     "how": "", "value": _fmt(ex.pre_activation, digits)})
        if ex.nonlinearity == IDENTITY:
            how, what = "no activation", "the pre-activation itself (this variant)"
        else:
            how = f"{ex.nonlinearity}({_fmt(ex.pre_activation, digits)})"
            what = "squashed into (0, 1)" if ex.nonlinearity == SIGMA else "squashed into (−1, 1)"
        rows.append({"part": f"${ex.symbol}$", "what it is": what, "how": how,
                     "value": _fmt(ex.value, digits)})
    else:
        rows.append({"part": f"${ex.symbol}$", "what it is": f"the {op} of the parts", "how": "",
                     "value": _fmt(ex.value, digits)})
    return rows


def symbolic_latex(ex: Explanation) -> str:
    """The formula in symbols, from the terms: ``f_t = \\sigma(W_{if}\\,x_t + ...)``."""
    if ex.kind == "projection":
        return rf"{ex.symbol} = \sum_j W_{{hr}}[{ex.unit},j]\, m_t[j]"
    joiner = " + " if ex.combine == "sum" else r" \cdot "
    body = joiner.join(t.latex for t in ex.terms)
    if ex.kind == "constant":
        return f"{ex.symbol} = {body}".replace("+ -", "- ")
    f = NONLINEARITY_LATEX.get(ex.nonlinearity or "")
    if f is not None and ex.pre_activation is not None:
        return rf"{ex.symbol} = {f}\left({body}\right)"
    return f"{ex.symbol} = {body}"


def check_sentence(ex: Explanation) -> tuple[bool, str]:
    """Whether the parts make the traced value, and a sentence showing both numbers."""
    tol = 1e-4 * max(1.0, abs(ex.traced))
    ok = bool(ex.error <= tol)
    what = "The parts add up to" if ex.kind != "hidden" else "The parts multiply to"
    made = f"{what} {_fmt(ex.value, 6)}"
    if ex.nonlinearity not in (None, IDENTITY) and ex.pre_activation is not None:
        pre = latex_symbol(ex.pre_symbol or f"z_{ex.name}")
        made = (f"The parts add up to ${pre}$ = {_fmt(ex.pre_activation, 6)}, and "
                f"{ex.nonlinearity}({_fmt(ex.pre_activation, 6)}) = {_fmt(ex.value, 6)}")
    if ok:
        return True, (f"{made}; the trace holds {_fmt(ex.traced, 6)} (difference "
                      f"{sci(ex.error)}, float32 rounding).")
    return False, (f"{made}, but the trace holds {_fmt(ex.traced, 6)}: they differ by "
                   f"{sci(ex.error)}.")


def quantities(loaded: Loaded, unit: int) -> list[str]:
    """The names the panel offers for this model and unit."""
    rec = loaded.recurrent
    return [n for n in explainable(rec.variant, rec.proj_size > 0) if unit < units_of(rec, n)]


_SHORT = {"i": "input", "f": "forget", "g": "candidate", "o": "output", "c": "cell",
          "h": "hidden", "m": "pre-projection", "r": "reset", "z": "update", "n": "new"}


def _label(name: str) -> str:
    return f"{name} · {_SHORT.get(name, TITLES.get(name, name))}"


def explain_panel(loaded: Loaded, numbers: UnitStep | None = None) -> None:
    """The quantity selector and how the chosen value of the focused unit at this step was made.

    numbers: this step's :class:`~lstm_viz.teaching.step.UnitStep` when the page has it (its
    explanations are shown, not recomputed)."""
    ss = st.session_state
    step, unit = int(ss.get("step", 0)), int(ss.get("unit", 0))
    layer, direction = int(ss.get("layer", 0)), int(ss.get("direction", 0))
    step = max(0, min(step, loaded.length - 1))
    names = quantities(loaded, unit)
    if not names:
        return
    chosen = ss.get("explain_q")
    if chosen not in names:
        chosen = "c" if "c" in names else names[-1]
    ss["explain_q"] = chosen
    ss["w_explain_q"] = chosen

    def _pick() -> None:
        if ss.get("w_explain_q") is not None:
            ss["explain_q"] = ss["w_explain_q"]

    with st.container(border=True, key="explain_panel"):
        st.markdown(f"**Every number explained** · unit {unit}, step {step}"
                    + (f", layer {layer}" if loaded.recurrent.num_layers > 1 else "")
                    + (", backward direction" if direction == 1 else ""))
        st.segmented_control("Which number?", names, format_func=_label, key="w_explain_q",
                             on_change=_pick, required=True)
        ex = None
        if numbers is not None and (numbers.step, numbers.unit) == (step, unit):
            ex = numbers.explanations.get(chosen)
        try:
            if ex is None or (ex.layer, ex.direction) != (layer, direction):
                ex = explain(loaded.recurrent, loaded.trace, chosen, step, unit, layer, direction)
        except ValueError as exc:               # a stale unit / layer from another model
            st.info(f"Nothing to explain here: {plain(str(exc), 300)}")
            return
        if ex.rule:
            st.caption(ex.rule[0].upper() + ex.rule[1:] + ".")
        st.latex(symbolic_latex(ex))
        st.latex(ex.latex(DIGITS))
        if ex.prev_step is None and any("_{t" in t.label for t in ex.terms):
            st.caption("This is the first step processed: the previous h and c are the initial "
                       "state h₀, c₀ (zeros unless given).")
        st.markdown(markdown_table(explanation_rows(ex)))
        ok, sentence = check_sentence(ex)
        if ok:
            st.caption("✓ " + sentence)
        else:
            st.warning(sentence)
