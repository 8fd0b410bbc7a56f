"""The Experiments page's widgets and cached computations (the page itself tells the story).

The held units live in the state value ``ablate`` (the URL's ``ablate=``, grammar in
:mod:`lstm_viz.analysis.experiments`); the Surgery widgets show its first hold and write it
back. ``attr`` holds the featured attribution method and target step.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz.analysis import ATTRIBUTION_METHODS, attribute
from lstm_viz.analysis.experiments import (
    EXPERIMENT_PRESETS,
    Counterfactual,
    Hold,
    Surgery,
    check_hold,
    connectivity,
    counterfactual,
    edited,
    fitted,
    format_ablate,
    format_attr,
    parse_ablate,
    parse_attr,
    surgery,
)
from lstm_viz.analysis.surgery import Ablation, ablate_each_unit
from lstm_viz.core.interventions import settable
from lstm_viz.errors import InputError
from lstm_viz.workbench import Loaded, array_digest, sequence_key

from .presets_view import apply_preset
from .safe_text import plain
from .state import set_value
from .trace_cache import RESULTS

VALUES = {"mean": "its mean", "zero": "0", "one": "1", "number": "a number"}
MAX_OCCLUSION_ROWS = 3000     # occlusion runs T × inputs sequences: skipped past this
MAX_BATCH_BYTES = 512 * 1024**2   # integrated gradients and connectivity run one batched
IG_STEPS = 64                     # trace (IG_STEPS or T rows): left out past this many bytes


def fits(loaded: Loaded, rows: int) -> bool:
    """Whether a batched trace of ``rows`` copies of the sequence stays under the budget."""
    return rows * loaded.recurrent.trace_nbytes(loaded.length) <= MAX_BATCH_BYTES


def _key(loaded: Loaded, *extra: object) -> tuple:
    return ("experiments", loaded.model.key, sequence_key(loaded.sequence), *extra)


def default_hold(loaded: Loaded) -> Hold:
    names = settable(loaded.recurrent.config)
    quantity = "c" if "c" in names else "h"
    unit = int(st.session_state.get("unit", 0))
    return Hold(quantity, (unit if unit < names[quantity] else 0,), "mean", None)


def current_holds(loaded: Loaded) -> list[Hold]:
    """The holds of ``ablate`` that fit this model (a link's that do not: a notice, then the
    default hold); none set: the default hold, not written to the URL."""
    ss = st.session_state
    text = ss.get("ablate") or ""
    if not text:
        return [default_hold(loaded)]
    try:
        holds = [fitted(h, loaded.length) for h in parse_ablate(text)]
        for hold in holds:
            check_hold(hold, loaded.recurrent, loaded.length)
        return holds
    except InputError as exc:
        st.info(f"The link's ablation {plain(repr(text[:60]), 0)} does not fit here: "
                f"{plain(str(exc), 300)} Showing {default_hold(loaded).describe()} instead.")
        ss["ablate"] = ""
        return [default_hold(loaded)]


def _seed(loaded: Loaded, hold: Hold) -> None:
    """Put ``hold`` into the Surgery widgets (when ``ablate`` changed since they were seeded)."""
    ss = st.session_state
    if ss.get("_exp_seeded") == (ss.get("ablate"), loaded.model.key, loaded.length):
        return
    ss["_exp_seeded"] = (ss.get("ablate"), loaded.model.key, loaded.length)
    last = loaded.length - 1
    ss["exp_q"] = ss["exp_show"] = hold.quantity      # and show what is held
    ss["exp_units"] = list(hold.units)
    a, b = hold.steps if hold.steps is not None else (0, last)
    ss["exp_steps"] = (min(a, last), min(b, last))
    if isinstance(hold.value, str):
        ss["exp_value"], ss["exp_number"] = hold.value, 0.5
    else:
        ss["exp_value"] = "one" if hold.value == 1 else "number"
        ss["exp_number"] = float(hold.value)


def _write(loaded: Loaded) -> None:
    """``on_change`` of a Surgery widget: its hold replaces the first of ``ablate``."""
    ss = st.session_state
    last = loaded.length - 1
    value = {"mean": "mean", "zero": "zero", "one": 1.0}.get(ss["exp_value"],
                                                             float(ss.get("exp_number", 0)))
    a, b = ss["exp_steps"]
    units = tuple(u for u in ss["exp_units"] if u < settable(loaded.recurrent.config).get(
        ss["exp_q"], 0))
    if not units:                    # nothing to hold: keep the URL, say so below
        ss["_exp_empty"] = True
        return
    ss["_exp_empty"] = False
    hold = Hold(ss["exp_q"], units, value, None if (a, b) == (0, last) else (a, b))
    rest = current_holds(loaded)[1:] if ss.get("ablate") else []
    text = format_ablate([hold, *rest])
    ss["_exp_seeded"] = (text, loaded.model.key, loaded.length)
    ss["exp_show"] = hold.quantity
    set_value("ablate", text)


def surgery_controls(loaded: Loaded) -> list[Hold]:
    """The quantity, units, steps and value widgets; returns the holds to run (InputError when
    the widgets select no unit)."""
    ss = st.session_state
    holds = current_holds(loaded)
    _seed(loaded, holds[0])
    names = settable(loaded.recurrent.config)
    ss["exp_units"] = [u for u in ss["exp_units"] if u < names[ss["exp_q"]]]
    q_col, u_col, v_col, n_col = st.columns([1, 2, 1.3, 1])
    q_col.selectbox("Quantity", list(names), key="exp_q", on_change=_write, args=(loaded,),
                    help="What to hold: a gate, the cell c or the hidden state h.")
    u_col.multiselect("Units", list(range(names[ss["exp_q"]])), key="exp_units",
                      on_change=_write, args=(loaded,))
    v_col.radio("Held at", list(VALUES), key="exp_value", format_func=VALUES.get,
                horizontal=True, on_change=_write, args=(loaded,),
                help="Its mean keeps the unit's average contribution and removes only what it "
                     "varies with; 0 also removes the average.")
    n_col.number_input("The number", key="exp_number", on_change=_write, args=(loaded,),
                       disabled=ss["exp_value"] != "number", step=0.1, format="%.3f")
    if loaded.length > 1:
        st.slider("Steps held", 0, loaded.length - 1, key="exp_steps", on_change=_write,
                  args=(loaded,))
    if ss.get("_exp_empty") or not ss["exp_units"]:
        raise InputError("Pick at least one unit to hold.")
    if len(holds) > 1:
        st.caption("This link also holds: " + "; ".join(plain(h.describe(), 120)
                                                       for h in holds[1:]) + ".")
    return holds


def held_run(loaded: Loaded, holds: list[Hold], layer: int, direction: int) -> Surgery:
    """``surgery`` of the sequence with these holds, cached (a rerun does not trace again)."""
    return RESULTS.get(_key(loaded, "surgery", format_ablate(holds), layer, direction),
                       lambda: surgery(loaded.recurrent, loaded.inputs, holds,
                                       loaded.trace, layer, direction))


def edit_run(loaded: Loaded, x_edit: np.ndarray, step: int, layer: int,
             direction: int) -> Counterfactual:
    """``counterfactual`` of one edit, cached."""
    if loaded.inputs is not loaded.sequence.values:  # token ids through an uploaded embedding
        raise InputError("Editing an input of a model that reads token ids through its "
                         "embedding is not available yet: use Surgery, Rank units or "
                         "Attribution, which read the embedded inputs.")
    return RESULTS.get(_key(loaded, "edit", array_digest(x_edit), step, layer, direction),
                       lambda: counterfactual(loaded.recurrent, loaded.sequence.values, x_edit,
                                              step, layer, direction))


def prediction_change(before: np.ndarray, after: np.ndarray) -> tuple[str, list[int]]:
    """One sentence on how the head's prediction (T, O) moved, and the outputs to draw (one
    output: it; several: the one predicted at the last step)."""
    change = float(np.abs(after - before).max())
    if before.shape[1] == 1:
        return (f"**The prediction** moves by at most {change:.3g} (at the last step: "
                f"{before[-1, 0]:.3f} → {after[-1, 0]:.3f})."), [0]
    flips = int((before.argmax(axis=1) != after.argmax(axis=1)).sum())
    k, k_after = int(before[-1].argmax()), int(after[-1].argmax())
    return (f"**The prediction** moves by at most {change:.3g}; the predicted output changes "
            f"at {flips} of {len(before)} steps (at the last step: output {k} → output "
            f"{k_after})."), [k]


def open_in_surgery(quantity_key: str = "exp_rank_q", unit_key: str = "exp_rank_unit") -> None:
    """``on_click``: hold the unit picked (in Rank units, or Track a signal) at its mean in
    Surgery (read from the state when clicked, so a pick and a click in one run agree)."""
    ss = st.session_state
    hold = Hold(ss[quantity_key], (int(ss[unit_key]),), "mean", None)
    set_value("ablate", format_ablate([hold]))


def ranked(loaded: Loaded, quantity: str, value: str, layer: int, direction: int) -> Ablation:
    return RESULTS.get(_key(loaded, "rank", quantity, value, layer, direction),
                       lambda: ablate_each_unit(loaded.recurrent, loaded.inputs,
                                                quantity, value, layer=layer,
                                                direction=direction))


def current_attr(loaded: Loaded) -> tuple[str, int]:
    """(featured method, target step) from ``attr`` (a bad or past-the-end one: a notice, then
    integrated gradients at the last step)."""
    ss = st.session_state
    last = loaded.length - 1
    try:
        method, step = parse_attr(ss["attr"]) if ss.get("attr") else (
            "integrated_gradients", None)
        if step is not None and step > last:
            raise InputError(f"Step {step} is past the end of the sequence (0 to {last}).")
    except InputError as exc:
        st.info(f"The link's attr={plain(repr(ss['attr'][:60]), 0)} does not fit here: "
                f"{plain(str(exc), 200)} Using integrated gradients at the last step.")
        ss["attr"] = ""
        method, step = "integrated_gradients", None
    return method, last if step is None else step


def write_attr(loaded: Loaded) -> None:
    ss = st.session_state
    step = int(ss["exp_attr_step"])
    set_value("attr", format_attr(ss["exp_attr_method"],
                                  None if step == loaded.length - 1 else step))


def head_row(loaded: Loaded, step: int, output: int | None) -> tuple[np.ndarray, str]:
    """The weight of the score: the shipped head's row of ``output`` (None: the predicted one at
    ``step``), or the mean of the recurrent output when there is no head."""
    pred = loaded.prediction()
    if pred is None:
        size = loaded.trace.output.shape[-1]
        return np.full(size, 1 / size), "the mean of the model's output"
    k = int(np.argmax(pred[step])) if output is None else int(output)
    head = (loaded.model.trained.head_weight if loaded.model.trained is not None
            else loaded.model.head[0])                # a shipped head, or an uploaded one
    return head[k].astype(np.float64), f"the head's output {k}"


def attributions(loaded: Loaded, step: int, weight: np.ndarray) -> dict[str, np.ndarray]:
    """Every method's attribution (T, inputs) of ``weight · output[step]`` (occlusion left out
    when it would run too many sequences)."""
    x = loaded.inputs                                # what the recurrent module reads
    methods = [m for m in ATTRIBUTION_METHODS
               if (m != "occlusion" or x.size <= MAX_OCCLUSION_ROWS)
               and (m != "integrated_gradients" or fits(loaded, IG_STEPS))]

    def compute() -> dict[str, np.ndarray]:
        return {m: attribute(loaded.recurrent, x, step, weight, m, n_steps=IG_STEPS)
                for m in methods}
    return RESULTS.get(_key(loaded, "attr", step, weight.tobytes(), tuple(methods)), compute)


def connected(loaded: Loaded, weight: np.ndarray) -> np.ndarray:
    """``connectivity`` of the sequence for this score, cached."""
    return RESULTS.get(_key(loaded, "conn", weight.tobytes()),
                       lambda: connectivity(loaded.recurrent, loaded.inputs, weight))


def completeness(loaded: Loaded, step: int, weight: np.ndarray,
                 ig: np.ndarray) -> tuple[float, float]:
    """(Σ integrated gradients, score(x) − score(zeros)): equal up to the path's discretisation."""
    rec, x = loaded.recurrent, loaded.inputs
    score = float(rec.trace(x).output[step] @ weight)
    base = float(rec.trace(np.zeros_like(x)).output[step] @ weight)
    return float(ig.sum()), score - base


def edit_controls(loaded: Loaded) -> tuple[np.ndarray, int, str]:
    """One step's token (one-hot sequences) or one value: (edited x, step, what changed)."""
    seq = loaded.sequence
    x = seq.values
    step_col, what_col, value_col = st.columns([1, 1.5, 1.5])
    ss = st.session_state
    if not 0 <= int(ss.get("exp_edit_step", -1)) < seq.length:     # first time, or too long
        ss["exp_edit_step"] = min(int(ss.get("step", 0)), seq.length - 1)
    step = int(step_col.number_input("Step to edit", 0, seq.length - 1, key="exp_edit_step"))
    vocab = seq.vocab
    if vocab and len(vocab) == x.shape[1]:
        now = int(np.argmax(x[step]))
        options = [k for k in range(len(vocab)) if k != now] or [now]
        new = what_col.selectbox(f"Replace {plain(repr(vocab[now]), 0)} by", options,
                                 format_func=lambda k: repr(vocab[k]), key="exp_edit_token")
        return edited(x, step, one_hot=int(new)), step, \
            f"step {step}: {vocab[now]!r} → {vocab[int(new)]!r}"
    names = list(seq.feature_names)
    feature = what_col.selectbox("Feature", range(len(names)), format_func=lambda k: names[k],
                                 key="exp_edit_feature")
    old = float(x[step, feature])
    new = value_col.number_input(f"New value (now {old:.3f})", value=round(old + 1.0, 3),
                                 key=f"exp_edit_value_{step}_{feature}", format="%.3f")
    return edited(x, step, value=float(new), feature=int(feature)), step, \
        f"step {step}: {names[feature]} {old:.3f} → {float(new):.3f}"


def presets_list() -> None:
    """The experiment presets as links, one line each, and a button to show one here."""
    for k, p in enumerate(EXPERIMENT_PRESETS):
        text, button = st.columns([6, 1], vertical_alignment="center")
        text.markdown(f"[**{p.name}**]({p.url()}) · {p.description}")
        button.button("Show here", key=f"exp_preset_{k}", on_click=apply_preset, args=(p,),
                      help=f"Show “{p.name}” in this tab.")
