"""The Experiments page's widgets and cached computations (the page itself tells the story).

Surgery and the counterfactual edit are in :mod:`.surgery_view`. ``attr`` holds the featured
attribution method and target step.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz.analysis import ATTRIBUTION_METHODS, attribute
from lstm_viz.analysis.experiments import (
    EXPERIMENT_PRESETS,
    Hold,
    connectivity,
    format_ablate,
    format_attr,
    parse_attr,
)
from lstm_viz.analysis.surgery import Ablation, ablate_each_unit
from lstm_viz.errors import InputError
from lstm_viz.workbench import Loaded, sequence_key

from .presets_view import apply_preset
from .safe_text import plain
from .state import set_value
from .trace_cache import RESULTS

MAX_OCCLUSION_ROWS = 3000     # occlusion runs T × inputs sequences: skipped past this
MAX_BATCH_BYTES = 512 * 1024**2   # integrated gradients and connectivity run one batched
IG_STEPS = 64                     # trace (IG_STEPS or T rows): left out past this many bytes


def fits(loaded: Loaded, rows: int) -> bool:
    """Whether a batched trace of ``rows`` copies of the sequence stays under the budget."""
    return rows * loaded.recurrent.trace_nbytes(loaded.length) <= MAX_BATCH_BYTES


def _key(loaded: Loaded, *extra: object) -> tuple:
    return ("experiments", loaded.model.key, sequence_key(loaded.sequence), *extra)


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
    ss["exp_hold"] = 0
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


def presets_list() -> None:
    """The experiment presets as links, one line each, and a button to show one here."""
    for k, p in enumerate(EXPERIMENT_PRESETS):
        text, button = st.columns([6, 1], vertical_alignment="center")
        text.markdown(f"[**{p.name}**]({p.url()}) · {p.description}")
        button.button("Show here", key=f"exp_preset_{k}", on_click=apply_preset, args=(p,),
                      help=f"Show “{p.name}” in this tab.")
