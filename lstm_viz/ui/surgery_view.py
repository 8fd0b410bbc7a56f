"""The Experiments page's Surgery (section 1) and counterfactual edit (section 4).

The held units live in the state value ``ablate`` (the URL's ``ablate=``, grammar in
:mod:`lstm_viz.analysis.experiments`), one hold per ``;``-joined item. Each hold is a row of
the list (edit, remove, add); the widgets below it show the hold being edited (``exp_hold``)
and write it back, and so does a box dragged on the "before" heatmap (its steps, and units).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz.analysis.experiments import (
    MAX_SPECS,
    SETTLED,
    Counterfactual,
    Hold,
    Surgery,
    brushed,
    check_hold,
    counterfactual,
    edited,
    edited_tokens,
    fitted,
    format_ablate,
    held_values,
    parse_ablate,
    parse_hold,
    surgery,
    with_range,
)
from lstm_viz.core.interventions import settable
from lstm_viz.errors import InputError
from lstm_viz.plots import experiments as plots
from lstm_viz.plots import style
from lstm_viz.plots.diagram import cell_diagram
from lstm_viz.plots.svg import figure_svg
from lstm_viz.teaching.step import unit_step
from lstm_viz.workbench import Loaded, array_digest, token_ids

from .experiments_view import _key, prediction_change
from .exports import figure_downloads
from .failures import shown_as_message
from .safe_text import plain
from .state import set_value
from .trace_cache import RESULTS

VALUES = {"mean": "its mean", "zero": "0", "one": "1", "number": "a number"}
DIAGRAM_WIDTH = 760          # px of each of the two diagrams (they shrink to their column)
MAX_TOKEN_CHOICES = 5000     # a vocabulary this long or shorter: a selectbox, else a token id


def default_hold(loaded: Loaded) -> Hold:
    names = settable(loaded.recurrent.config)
    quantity = "c" if "c" in names else "h"
    unit = int(st.session_state.get("unit", 0))
    return Hold(quantity, (unit if unit < names[quantity] else 0,), "mean", None)


def current_holds(loaded: Loaded) -> list[Hold]:
    """The holds of ``ablate`` that fit this model; each one of a link that does not: one
    sentence, and it is left out (none left, or none set: the default hold, not in the URL)."""
    ss = st.session_state
    text = ss.get("ablate") or ""
    if not text:
        return [default_hold(loaded)]
    try:
        holds = [fitted(h, loaded.length) for h in parse_ablate(text)]
    except InputError as exc:
        holds, bad = [], [plain(str(exc), 300)]
    else:
        bad = []
        for k, hold in enumerate(holds, start=1):
            try:
                check_hold(hold, loaded.recurrent, loaded.length)
            except InputError as exc:
                bad.append(f"hold {k} ({plain(hold.text(), 60)}): {plain(str(exc), 300)}")
        holds = [h for h in holds if not _fails(h, loaded)]
    if bad:
        instead = ("Left out; the other holds stay." if holds
                   else f"Showing {default_hold(loaded).describe()} instead.")
        st.info(f"The link's ablation {plain(repr(text[:60]), 0)} does not fit here: "
                + " ".join(bad) + " " + instead)
        ss["ablate"] = format_ablate(holds) if holds else ""
    return holds or [default_hold(loaded)]


def _fails(hold: Hold, loaded: Loaded) -> bool:
    try:
        check_hold(hold, loaded.recurrent, loaded.length)
    except InputError:
        return True
    return False


def _seed(loaded: Loaded, holds: list[Hold]) -> int:
    """Put the hold being edited into the widgets (when ``ablate`` or the pick changed since
    they were seeded); returns its index."""
    ss = st.session_state
    k = min(max(int(ss.get("exp_hold", 0)), 0), len(holds) - 1)
    ss["exp_hold"] = k
    ss["_exp_holds"] = holds
    seeded = (ss.get("ablate"), loaded.model.key, loaded.length, k)
    if ss.get("_exp_seeded") == seeded:
        return k
    ss["_exp_seeded"] = seeded
    hold, last = holds[k], loaded.length - 1
    ss["exp_q"] = ss["exp_show"] = hold.quantity      # and show what is held
    ss["exp_units"] = list(hold.units)
    a, b = hold.steps if hold.steps is not None else (0, last)
    ss["exp_steps"] = (min(a, last), min(b, last))
    ss["exp_hold_text"] = hold.text()
    ss.pop("_exp_typed_error", None)
    ss["exp_diag_step"] = min(a, last)                # the diagram: inside the held range
    ss["exp_diag_unit"] = hold.units[0]
    if isinstance(hold.value, str):
        ss["exp_value"], ss["exp_number"] = hold.value, 0.5
    else:
        ss["exp_value"] = "one" if hold.value == 1 else "number"
        ss["exp_number"] = float(hold.value)
    return k


def _put(holds: list[Hold], k: int, show: bool = True) -> None:
    """Write ``holds`` to the URL with hold ``k`` the one edited (and shown, from a callback)."""
    ss = st.session_state
    ss["exp_hold"] = k
    if show:
        ss["exp_show"] = holds[k].quantity
    set_value("ablate", format_ablate(holds))


def _write(loaded: Loaded) -> None:
    """``on_change`` of a Surgery widget: its hold replaces the one edited."""
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
    holds = list(ss.get("_exp_holds") or [default_hold(loaded)])
    k = min(int(ss.get("exp_hold", 0)), len(holds) - 1)
    holds[k] = Hold(ss["exp_q"], units, value, None if (a, b) == (0, last) else (a, b))
    _put(holds, k)


def _typed(loaded: Loaded) -> None:
    """``on_change`` of the hold typed as text: it replaces the one edited when it reads and
    fits; else one sentence (kept for the run) and the URL stays."""
    ss = st.session_state
    holds = list(ss.get("_exp_holds") or [default_hold(loaded)])
    k = min(int(ss.get("exp_hold", 0)), len(holds) - 1)
    try:
        hold = fitted(parse_hold(str(ss.get("exp_hold_text") or "")), loaded.length)
        check_hold(hold, loaded.recurrent, loaded.length)
    except InputError as exc:
        ss["_exp_typed_error"] = f"Hold {k + 1} as typed does not fit: {exc}"
        return
    ss.pop("_exp_typed_error", None)
    holds[k] = hold
    _put(holds, k)


def _pick(k: int) -> None:
    st.session_state["exp_hold"] = k


def _remove(k: int) -> None:
    ss = st.session_state
    holds = list(ss["_exp_holds"])
    del holds[k]
    keep = int(ss.get("exp_hold", 0))
    _put(holds, max(0, keep - (keep >= k)) if keep != k else min(k, len(holds) - 1))


def _add(loaded: Loaded) -> None:
    holds = list(st.session_state.get("_exp_holds") or [])
    _put([*holds, default_hold(loaded)], len(holds))


def hold_rows(loaded: Loaded, holds: list[Hold], k: int) -> None:
    """One row per hold (its sentence, Edit, Remove) and "Add a hold"."""
    for j, hold in enumerate(holds):
        text, edit, remove = st.columns([8, 1, 1], vertical_alignment="center")
        sentence = plain(hold.describe(), 160)
        text.markdown(f"**{j + 1}.** " + (f"**{sentence}** (editing below)" if j == k
                                          else sentence))
        edit.button("Edit", key=f"exp_hold_edit_{j}", on_click=_pick, args=(j,),
                    disabled=j == k, help="Show this hold in the widgets below.")
        remove.button("Remove", key=f"exp_hold_remove_{j}", on_click=_remove, args=(j,),
                      disabled=len(holds) == 1, help="Stop holding these units.")


def surgery_controls(loaded: Loaded) -> list[Hold]:
    """The list of holds and the widgets of the one edited; returns the holds to run
    (InputError when the widgets select no unit)."""
    ss = st.session_state
    holds = current_holds(loaded)
    k = _seed(loaded, holds)
    hold_rows(loaded, holds, k)
    names = settable(loaded.recurrent.config)
    ss["exp_units"] = [u for u in ss["exp_units"] if u < names[ss["exp_q"]]]
    st.markdown(f"**Hold {k + 1}**" + (f" of {len(holds)}" if len(holds) > 1 else "") + ":")
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
                  args=(loaded,), help="Or drag a box on the \"before\" heatmap below.")
    st.text_input("Or type it", key="exp_hold_text", on_change=_typed, args=(loaded,),
                  help="quantity:units:value:steps, like c:4:mean:10-30 or i:0-7:zero:all.")
    if ss.get("_exp_typed_error"):
        with shown_as_message("reading the typed hold", stop=False):
            raise InputError(ss["_exp_typed_error"])
    st.button("Add a hold", key="exp_hold_add", on_click=_add, args=(loaded,),
              disabled=len(holds) >= MAX_SPECS,
              help=f"Hold other units as well (at most {MAX_SPECS} holds).")
    if ss.get("_exp_empty") or not ss["exp_units"]:
        raise InputError("Pick at least one unit to hold.")
    return holds


def held_run(loaded: Loaded, holds: list[Hold], layer: int, direction: int) -> Surgery:
    """``surgery`` of the sequence with these holds, cached (a rerun does not trace again)."""
    return RESULTS.get(_key(loaded, "surgery", format_ablate(holds), layer, direction),
                       lambda: surgery(loaded.recurrent, loaded.inputs, holds,
                                       loaded.trace, layer, direction))


def brush(loaded: Loaded, holds: list[Hold], shown: str, event: object) -> None:
    """A new box dragged on the heatmaps: the hold edited takes its steps (and its units, when
    the heatmap shows the held quantity and "A box sets the units too" is on)."""
    ss = st.session_state
    selection = event.get("selection") or {} if isinstance(event, dict) else {}
    boxes = list(selection.get("box") or [])
    if not boxes:
        ss.pop("_exp_brushed", None)
        return
    if repr(boxes) == ss.get("_exp_brushed"):          # the same box, seen on a rerun
        return
    ss["_exp_brushed"] = repr(boxes)
    k = int(ss.get("exp_hold", 0))
    hold = holds[k]
    n_units = settable(loaded.recurrent.config).get(shown, 0)
    found = brushed(boxes[-1], loaded.length, n_units)
    if found is None:
        st.info("The box covers no step of the sequence: drag it over the heatmap.")
        return
    steps, units = found
    use_units = ss.get("exp_brush_units", True) and shown == hold.quantity
    holds = list(holds)
    holds[k] = with_range(hold, steps, units if use_units else None, loaded.length)
    _put(holds, k, show=False)
    st.rerun()


def _x_at(loaded: Loaded, step: int) -> object:
    seq = loaded.sequence
    if seq.labels:
        return seq.labels[step]
    return float(seq.values[step, 0]) if seq.n_features == 1 else seq.values[step].tolist()


def diagrams(loaded: Loaded, holds: list[Hold], result: Surgery, layer: int,
             direction: int) -> None:
    """The cell diagram of one unit at one step, before | after, the held values marked."""
    ss = st.session_state
    rec, last = loaded.recurrent, loaded.length - 1
    names = settable(rec.config)
    cells = names["c"] if "c" in names else names["h"]
    hold = holds[int(ss.get("exp_hold", 0))]
    options = sorted({u for u in hold.units if u < cells} | {int(ss.get("unit", 0)) % cells})
    if ss.get("exp_diag_unit") not in options:
        ss["exp_diag_unit"] = options[0]
    if not 0 <= int(ss.get("exp_diag_step", 0)) <= last:
        ss["exp_diag_step"] = 0
    unit_col, step_col = st.columns([1, 3])
    unit = int(unit_col.selectbox("Unit", options, key="exp_diag_unit"))
    step = int(step_col.slider("Step", 0, last, key="exp_diag_step")) if last > 0 else 0
    x = _x_at(loaded, step)
    held = held_values(holds, result.interventions, step, unit)
    before = unit_step(rec, loaded.trace, step, unit, layer, direction, x=x)
    after = unit_step(rec, result.trace, step, unit, layer, direction, x=x)
    projector = bool(ss["projector"])
    st.caption(("Held here: " + ", ".join(f"{n} at {v:.3f}" for n, v in held.items())
                if held else f"Nothing of unit {unit} is held at step {step}: the after "
                "diagram shows what the holds changed upstream.") + " The held nodes are "
                "outlined.")
    left, right = st.columns(2)
    for col, numbers, marks, when in ((left, before, None, "before"),
                                      (right, after, held, "after")):
        fig = cell_diagram(numbers, rec.variant, unit=unit, step=step, projector=projector,
                           width=DIAGRAM_WIDTH, held=marks)
        col.markdown(f"**{when.capitalize()}**")
        col.markdown(figure_svg(fig, label=f"cell diagram of unit {unit} at step {step}, "
                                           f"{when} the holds"), unsafe_allow_html=True)


def surgery_section(loaded: Loaded, layer: int, direction: int) -> None:
    """Section 1: the holds, before | after | difference, the prediction and the diagrams."""
    ss = st.session_state
    projector = bool(ss["projector"])
    with shown_as_message("holding the units"):
        holds = surgery_controls(loaded)
        result = held_run(loaded, holds, layer, direction)
    means = [f"{h.quantity} unit {u} at {v:.3f}" for h, iv in zip(
        holds, result.interventions, strict=True) if h.value == "mean"
        for u, v in zip(h.units, np.atleast_1d(iv.value), strict=True)]
    if means:
        st.caption("The means held: " + ", ".join(means[:12]) + (" …" if len(means) > 12
                                                                 else ""))
    names = list(result.after)
    if ss.get("exp_show") not in names:
        ss["exp_show"] = holds[0].quantity
    show_col, brush_col = st.columns([3, 1], vertical_alignment="bottom")
    shown = show_col.radio("Show", names, horizontal=True, key="exp_show",
                           format_func=style.label)
    brush_col.checkbox("A box sets the units too", value=True, key="exp_brush_units",
                       help="Drag a box on a heatmap to hold its steps (and its units, when "
                            "it shows the held quantity) in the hold edited.")
    fig = plots.surgery_heatmaps(shown, result.before[shown], result.after[shown],
                                 result.held.get(shown), loaded.sequence.labels, projector)
    fig.update_layout(dragmode="select", selectdirection="any")
    event = st.plotly_chart(fig, key="exp_surgery", width="stretch", on_select="rerun",
                            selection_mode="box", config={"displayModeBar": False})
    brush(loaded, holds, shown, event)
    figure_downloads(fig, "surgery", key="exp_surgery_export")
    before_pred = loaded.prediction()
    if before_pred is not None:
        after_pred = loaded.readout(result.trace.output)
        sentence, drawn = prediction_change(before_pred, after_pred)
        st.markdown(sentence)
        pred_fig = plots.prediction_lines(before_pred[:, drawn], after_pred[:, drawn],
                                          [f"output {k}" for k in drawn], projector)
        st.plotly_chart(pred_fig, key="exp_prediction", width="stretch",
                        config={"displayModeBar": False})
    else:
        st.caption("This model has no shipped head: compare the hidden state h above.")
    st.subheader("One unit, one step: before | after")
    with shown_as_message("drawing the cell diagrams", stop=False):
        diagrams(loaded, holds, result, layer, direction)


def edit_run(loaded: Loaded, x_edit: np.ndarray, step: int, layer: int,
             direction: int) -> Counterfactual:
    """``counterfactual`` of one edit of what the model reads (its inputs, or the embedding
    rows of its token ids), cached."""
    return RESULTS.get(_key(loaded, "edit", array_digest(x_edit), step, layer, direction),
                       lambda: counterfactual(loaded.recurrent, loaded.inputs, x_edit,
                                              step, layer, direction))


def _token_edit(loaded: Loaded, ids: np.ndarray, step: int,
                what_col: object) -> tuple[np.ndarray, int, str]:
    """One step's token id, through the model's embedding: (edited inputs, step, what)."""
    table = loaded.model.embedding
    n = int(table.shape[0])
    vocab = loaded.model.vocab if loaded.model.vocab and len(loaded.model.vocab) == n else None
    now = int(ids[step])

    def name(k: int) -> str:
        return f"{vocab[k]!r} (id {k})" if vocab else f"id {k}"
    if vocab and n <= MAX_TOKEN_CHOICES:
        options = [k for k in range(n) if k != now] or [now]
        new = int(what_col.selectbox(f"Replace {plain(name(now), 0)} by", options,
                                     format_func=name, key="exp_edit_id"))
    else:
        new = int(what_col.number_input(f"New token id (now {plain(name(now), 0)}; 0 to "
                                        f"{n - 1})", 0, n - 1, value=(now + 1) % n,
                                        key=f"exp_edit_id_{step}"))
    new_ids = edited_tokens(ids, step, new, n)
    return table[new_ids].astype(loaded.inputs.dtype), step, \
        f"step {step}: {name(now)} → {name(new)}"


def edit_controls(loaded: Loaded) -> tuple[np.ndarray, int, str]:
    """One step's token (one-hot sequences, or token ids through an embedding) or one value:
    (edited inputs, step, what changed)."""
    seq = loaded.sequence
    x = seq.values
    step_col, what_col, value_col = st.columns([1, 1.5, 1.5])
    ss = st.session_state
    if not 0 <= int(ss.get("exp_edit_step", -1)) < seq.length:     # first time, or too long
        ss["exp_edit_step"] = min(int(ss.get("step", 0)), seq.length - 1)
    step = int(step_col.number_input("Step to edit", 0, seq.length - 1, key="exp_edit_step"))
    ids = token_ids(loaded.model, seq)
    if ids is not None and loaded.inputs is not seq.values:
        return _token_edit(loaded, ids, step, what_col)
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


def counterfactual_section(loaded: Loaded, layer: int, direction: int) -> None:
    """Section 4: edit one step, the |Δ| heatmaps and how long the change lasts."""
    with shown_as_message("running the edited sequence", stop=False):
        x_edit, edit_step, what = edit_controls(loaded)
        cf = edit_run(loaded, x_edit, edit_step, layer, direction)
        lasts = cf.lasts
        st.markdown(f"**Edit:** {plain(what, 120)}. " + (
            "It changes nothing." if lasts == 0 else
            f"|Δh| is still above {SETTLED:g} at the last step." if lasts is None else
            f"|Δh| falls below {SETTLED:g} for good after {lasts} step{'s' * (lasts != 1)}."))
        largest = cf.largest()
        st.caption(" · ".join(f"max |Δ{n}| = {v:.3g}" for n, v in largest.items()))
        change_fig = plots.change_heatmaps(cf.difference, edit_step,
                                           bool(st.session_state["projector"]))
        st.plotly_chart(change_fig, key="exp_edit", width="stretch",
                        config={"displayModeBar": False})
        figure_downloads(change_fig, "counterfactual", key="exp_edit_export")
