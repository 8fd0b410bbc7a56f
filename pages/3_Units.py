"""Units: which gates saturate (after Karpathy, Johnson & Fei-Fei 2015), and which units fire
together over a stretch of the input (the unit search of LSTMVis, Strobelt et al. 2018)."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_viz.analysis import context, saturation, unit_search
from lstm_viz.core import TITLES, is_lstm
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots import style
from lstm_viz.plots.analysis import saturation_scatter
from lstm_viz.plots.downsample import downsample_time, max_cols_for, window_size
from lstm_viz.ui import page
from lstm_viz.ui.exports import figure_downloads
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import set_value
from lstm_viz.workbench import sequence_key

MOSTLY = 0.8             # "saturated most of the time": over this share of the steps
THRESHOLD_QUANTILE = 0.9  # the default threshold: this quantile of the values searched
MAX_RANGE_SHARE = 0.25   # a suggested range covers at most this share of the sequence
FALLBACK_SPAN = 4        # a suggested range when no unit switches: the step and 4 more
CONTEXT_PAD = 8          # steps of input shown on each side of a range
MAX_MATCHES = 8          # matches listed (best first)
MAX_HEATMAP_UNITS = 32   # found units drawn in the heatmap (best first)
MAX_CELLS = 200_000      # heatmap cells before the time axis is pooled
MATCH_SHARES = (0.25, 0.5, 0.75, 1.0)  # share of the found units on together for a match
MAX_MARKED = 200         # matches marked in the heatmap (best first)
MAX_DOTS = 20_000        # cells above which the "on" dots are left out
MAX_CHAR_TICKS = 120     # characters as x ticks up to this many steps
MARK = ("⟦", "⟧")        # marks the range in a context (not a character of any built-in task)

loaded = page("Units")
ss = st.session_state
seq, trace = loaded.sequence, loaded.trace
variant = loaded.recurrent.variant
layer, direction = int(ss["layer"]), int(ss["direction"])
projector = bool(ss["projector"])
step, last = int(ss["step"]), seq.length - 1
where = (f"layer {layer}" + (", backward" if direction else "")
         if loaded.recurrent.num_layers > 1 or loaded.recurrent.bidirectional else "")

st.title("Units: what does each one do?")
st.caption(" · ".join(p for p in (plain(loaded.model.label, 120), where, f"{seq.length:,} steps")
                      if p))


def open_in_stepper(unit: int, at_step: int | None = None) -> None:
    """Focus a unit (and a step) and go to the stepper."""
    set_value("unit", int(unit))
    if at_step is not None:
        ss["playing"] = False
        set_value("step", int(at_step))
    st.switch_page("app.py", query_params=st.query_params.to_dict())


def unit_list(units) -> str:
    units = [int(u) for u in units]
    return ", ".join(map(str, units[:12])) + (f" and {len(units) - 12} more" if len(units) > 12
                                               else "")


# -- gate saturation ----------------------------------------------------------------------------
st.header("Gate saturation")
with shown_as_message("measuring the gate saturation"):
    sat = saturation(trace, layer, direction)
if not sat.gates:
    st.info(f"A {TITLES[variant]} has no gates: its state is h_t = tanh(W x_t + U h_(t−1) + b) "
            "and nothing opens or closes, so there is nothing to saturate. Pick an LSTM variant "
            "or the GRU in the sidebar to see gates; the unit search below works on h.")
else:
    low, high = f"{sat.low:g}", f"{sat.high:g}"
    st.markdown(
        f"Each point is one gate of one unit: the share of steps it spends **left-saturated** "
        f"(below {low}, closed) against the share it spends **right-saturated** (above {high}, "
        "open). A gate near 1 most of the time is a memory that is kept (a forget gate that "
        "holds its cell for many steps), and one near 0 always is a gate that blocks; the points "
        "in the corner near the origin are graded switches that rarely saturate "
        "(after Karpathy, Johnson & Fei-Fei 2015).")
    units = sat.left.shape[1]
    names = {g: style.words(g) + (" (= 1 − i)" if derived else "")
             for g, derived in zip(sat.gates, sat.derived, strict=True)}
    fig = saturation_scatter(sat.left, sat.right, list(sat.gates), projector=projector,
                             title=f"Gate saturation of {units} units"
                                   + (f" ({where})" if where else ""))
    # on a projector the figure takes the whole width (its legend would wrap over the title)
    chart, notes = (st.container(), st.container()) if projector else st.columns(
        [3, 2], gap="large")
    with chart:
        event = st.plotly_chart(fig, key="sat_scatter", on_select="rerun",
                                selection_mode="points", width="stretch",
                                config={"displayModeBar": False})
    with notes:
        st.markdown("**What this model shows**")
        found = []
        for k, gate in enumerate(sat.gates):
            for side, share, word in (("right", sat.right[k], "open"),
                                      ("left", sat.left[k], "closed")):
                which = np.flatnonzero(share > MOSTLY)
                if which.size:
                    found.append(
                        f"- **{which.size} of {units}** units have the {names[gate]} "
                        f"{side}-saturated ({word}) over {MOSTLY:.0%} of the time: "
                        f"unit{'s' if which.size > 1 else ''} {unit_list(which)}.")
        peak = np.maximum(sat.left, sat.right)                      # (gates, units)
        g_top, u_top = np.unravel_index(int(np.argmax(peak)), peak.shape)
        top_side = "right" if sat.right[g_top, u_top] >= sat.left[g_top, u_top] else "left"
        if not found:
            found.append(f"- No gate is saturated over {MOSTLY:.0%} of the time.")
        if peak.max() > 0:
            found.append(
                f"- The most saturated: unit {u_top}'s {names[sat.gates[g_top]]}, {top_side}-"
                f"saturated {peak[g_top, u_top]:.0%} of the time.")
        else:
            found.append(f"- No gate ever goes below {low} or above {high} on this sequence: "
                         "every gate works as a graded switch"
                         + (", as in a model with fresh random weights."
                            if loaded.model.trained is None else "."))
        never = np.flatnonzero((peak < 1 - MOSTLY).all(axis=0))
        if never.size and peak.max() > 0:
            found.append(f"- **{never.size} of {units}** units never have a gate saturated over "
                         f"{1 - MOSTLY:.0%} of the time: unit{'s' if never.size > 1 else ''} "
                         f"{unit_list(never)}.")
        if variant == "gru":
            found.append("- In a GRU the update gate z keeps the memory: h_t = (1 − z)·n + "
                         "z·h_(t−1), so z near 1 holds the old state.")
        missing = [g for g in ("i", "f", "o") if is_lstm(variant) and g not in sat.gates]
        if missing:
            found.append(f"- A {TITLES[variant]} holds the {', '.join(map(style.words, missing))}"
                         " at 1: not shown.")
        st.markdown("\n".join(found))
        st.markdown("**Open a unit in the stepper**: click a point, or pick it here.")
        if ss.get("sat_unit") not in range(units):
            ss["sat_unit"] = int(u_top)
        st.selectbox(
            "Unit", list(range(units)), key="sat_unit",
            format_func=lambda u: f"unit {u}: " + ", ".join(
                f"{g} {sat.right[k, u]:.0%} open" if sat.right[k, u] >= sat.left[k, u] else
                f"{g} {sat.left[k, u]:.0%} closed" for k, g in enumerate(sat.gates)))
        if st.button("Open in the stepper", key="sat_open", type="primary"):
            open_in_stepper(ss["sat_unit"])
    figure_downloads(fig, "gate-saturation", key="sat_export")
    with st.expander("The numbers: share of steps saturated, per unit and gate"):
        table = pd.DataFrame({"unit": np.arange(units)})
        for k, gate in enumerate(sat.gates):
            table[f"{gate} < {low}"] = sat.left[k]
            table[f"{gate} > {high}"] = sat.right[k]
        st.dataframe(table, hide_index=True, key="sat_table", column_config={
            c: st.column_config.NumberColumn(format="percent") for c in table.columns[1:]})

    points = event.selection.points if event is not None else []
    if not points:
        ss.pop("_sat_clicked", None)
    elif repr(points) != ss.get("_sat_clicked"):                # a new click on a point
        ss["_sat_clicked"] = repr(points)
        picked = points[0].get("customdata", points[0].get("point_index"))
        if isinstance(picked, (list, tuple)):
            picked = picked[0]
        if picked is not None and 0 <= int(picked) < units:
            open_in_stepper(int(picked))


# -- unit search --------------------------------------------------------------------------------
st.header("Unit search")
st.markdown(
    "Select a stretch of the input and a threshold: the search finds the units that are **on** "
    "(at or above the threshold) over the whole stretch and **off** just before and after it, "
    "then the other places where the same units are on together (after LSTMVis, Strobelt "
    "et al. 2018). A match that recurs at similar input points to a unit that tracks it.")


def step_labels(seq: Sequence, lo: int, hi: int) -> list[str]:
    """Readable labels of steps lo..hi-1: the sequence's own (characters), else its values."""
    if seq.labels is not None:
        return [str(s) for s in seq.labels[lo:hi]]
    rows = seq.values[lo:hi]
    if seq.n_features == 1:
        return [f"{v:+.2f}" for v in rows[:, 0]]
    return ["(" + ", ".join(f"{v:+.2f}" for v in row) + ")" for row in rows]


def input_context(start: int, end: int) -> str:
    """The input around [start, end] with the range marked; only that window is formatted."""
    lo, hi = max(0, start - CONTEXT_PAD - 1), min(seq.length, end + CONTEXT_PAD + 2)
    return context(step_labels(seq, lo, hi), start - lo, end - lo, CONTEXT_PAD, mark=MARK)


def code(text: str) -> str:
    """Inline code (shown literally): its fence is longer than any run of backticks inside."""
    fence = "`" * max(2, max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def on_runs(mask: np.ndarray) -> np.ndarray:
    """(runs, 2): start and end (inclusive) of each run of True in a 1-D mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return np.stack([edges[::2], edges[1::2] - 1], axis=1)


def suggest_range(values: np.ndarray, threshold: float, at: int) -> tuple[int, int]:
    """A range around step ``at`` where some unit switches on and off again.

    The run of steps with a unit on that holds ``at`` (the strongest such unit), else the nearest
    such run; runs longer than a quarter of the sequence are skipped. With none: a short window.
    """
    longest = max(1, int(seq.length * MAX_RANGE_SHARE))
    best, best_key = None, None
    for u in range(values.shape[1]):
        runs = on_runs(values[:, u] >= threshold)
        runs = runs[runs[:, 1] - runs[:, 0] < longest]
        if not runs.size:
            continue
        distance = np.maximum(0, np.maximum(runs[:, 0] - at, at - runs[:, 1]))
        for s, e in runs[distance == distance.min()].tolist():     # the nearest run(s) only
            key = (int(distance.min()), -float(values[s:e + 1, u].mean()))
            if best_key is None or key < best_key:
                best, best_key = (s, e), key
    if best is None:
        span = min(longest, FALLBACK_SPAN)
        return max(0, min(at, last - span)), min(last, max(at, 0) + span)
    return best


if last < 1:
    st.info("The sequence has a single step: there is no range to select.")
    st.stop()

kinds = [k for k in ("h", "c") if k in trace.names(layer, direction)]
base = f"{loaded.model.key}|{sequence_key(seq)}|{layer}|{direction}"
if ss.get("_us_base") != base or ss.get("us_kind") not in kinds:
    ss["_us_base"] = base
    ss["us_kind"] = "h"
kind_col, threshold_col, match_col = st.columns([1, 2.2, 1], gap="large")
kind = kind_col.radio(
    "Search in", kinds, key="us_kind", horizontal=True, format_func=style.label,
    help="h: what the unit outputs at each step; c: its memory (LSTM family only).")
values = trace.get(kind, layer, direction)[:, 0].astype(np.float64)   # (T, units)

lo_v, hi_v = np.floor(np.nanmin(values) * 100) / 100, np.ceil(np.nanmax(values) * 100) / 100
if hi_v <= lo_v:
    hi_v = lo_v + 0.01
kind_key = f"{base}|{kind}"
if ss.get("_us_kind_key") != kind_key or not lo_v <= ss.get("us_threshold", np.nan) <= hi_v:
    ss["_us_kind_key"] = kind_key
    quantile = np.floor(np.nanquantile(values, THRESHOLD_QUANTILE) * 100) / 100
    ss["us_threshold"] = float(np.clip(quantile, lo_v, hi_v))
    ss.pop("us_range", None)
threshold = threshold_col.slider(
    f"Threshold: a unit is on where {kind} ≥", float(lo_v), float(hi_v), step=0.01,
    key="us_threshold", help=f"Starts at the {THRESHOLD_QUANTILE:.0%} quantile of {kind} over "
    "every unit and step: about a tenth of all the values are above it.")

if ss.get("_us_step") != step or "us_range" not in ss or max(ss["us_range"]) > last:
    ss["_us_step"] = step
    ss["us_range"] = suggest_range(values, threshold, step)


def suggest() -> None:
    ss["us_range"] = suggest_range(values, float(ss["us_threshold"]), step)


range_col, suggest_col = st.columns([3, 1], vertical_alignment="bottom", gap="large")
start, end = range_col.slider(
    "Steps to select", 0, last, key="us_range",
    help="The search asks for units on at every step of this range and off just outside it.")
suggest_col.button("Suggest a range", on_click=suggest, key="us_suggest",
                   help=f"A range around the stepper's step ({step}) where some unit turns on "
                        "and off again at this threshold.")
if ss.get("us_match") not in MATCH_SHARES:
    ss["us_match"] = MATCH_SHARES[-1]
match_share = match_col.select_slider(
    "A match needs", MATCH_SHARES, key="us_match", format_func=lambda f: f"{f:.0%} of the units",
    help="The share of the found units that must be on together at a step for it to match.")
with shown_as_message("searching the units"):
    result = unit_search(values, start, end, threshold, match_fraction=match_share)

st.markdown(f"**Selected, steps {start}–{end}:** {code(input_context(start, end))}")
if not result.units.size:
    st.info(f"No unit is on ({kind} ≥ {threshold:g}) at every step of {start}–{end} and off just "
            "outside it. Lower the threshold, select another range, or let the page suggest one.")
    st.stop()

first_unit = int(result.units[0])
n_found = result.units.size
st.markdown(
    f"**{n_found} unit{'s' if n_found > 1 else ''} on here and off around it**, strongest first: "
    + ", ".join(f"unit {u} ({m:+.{2 if abs(m) >= 0.01 else 3}f} over the threshold)"
                for u, m in zip(result.units.tolist(), result.margins.tolist(), strict=True)))

matches = result.matches
if not matches:
    st.markdown(f"{'These units are' if n_found > 1 else 'This unit is'} never on"
                + ("" if n_found == 1 else " together" if match_share == 1
                   else f" together (at least {match_share:.0%} of them)")
                + f" anywhere else in the {seq.length:,} steps.")
else:
    st.markdown(f"**{len(matches)} other place{'s' if len(matches) > 1 else ''}** where "
                + ("it is on" if n_found == 1 else "they are all on" if match_share == 1
                   else f"at least {match_share:.0%} of them are on")
                + (f" (the best {MAX_MATCHES})" if len(matches) > MAX_MATCHES else "") + ":")
    for k, m in enumerate(matches[:MAX_MATCHES]):
        where_col, text_col, go_col = st.columns([1.4, 5, 1.3], vertical_alignment="center")
        where_col.markdown(f"steps {m.start}–{m.end}" if m.end > m.start else f"step {m.start}",
                           help=f"score {m.score:.2f}: length similarity to the selection × "
                                "share of the units on")
        text_col.markdown(code(input_context(m.start, m.end)))
        if go_col.button("Step there", key=f"us_go_{k}",
                         help=f"Open the stepper at step {m.start} with unit {first_unit}."):
            open_in_stepper(first_unit, m.start)


def found_heatmap() -> go.Figure:
    """The found units over the whole sequence: dots where a unit is on, the selected range and
    the matches marked in a band above the cells (and framed in them)."""
    shown = result.units[:MAX_HEATMAP_UNITS]
    n_shown, n_steps = len(shown), seq.length
    rows = [f"unit {u}" for u in shown.tolist()]
    z = values[:, shown].T                                           # (units, T)
    width = window_size(n_steps, max_cols_for(n_shown, 1, MAX_CELLS))
    pooled, _ = downsample_time(z, -(-n_steps // width))
    s = style.sizes(projector)
    fig = go.Figure(go.Heatmap(
        z=np.ascontiguousarray(pooled, dtype=np.float32), x0=(width - 1) / 2, dx=width,
        y=rows, name=kind, colorbar={"title": {"text": kind, "side": "top"}, "thickness": 14,
                                      "tickfont": {"size": s["small"]}},
        hovertemplate=f"%{{y}}, step %{{x}}, {kind} = %{{z:.2f}}<extra></extra>",
        **style.color_range(kind, values)))
    fig.update_layout(**style.base_layout(projector))
    if width == 1 and z.size <= MAX_DOTS:                            # the on cells, dotted
        on_units, on_steps = np.nonzero(z >= threshold)
        fig.add_trace(go.Scatter(
            x=on_steps, y=[rows[u] for u in on_units], mode="markers", name="on", hoverinfo="skip",
            marker={"symbol": "circle", "size": 8 if projector else 6, "color": "#ffffff",
                    "line": {"color": style.INK, "width": 1.5 if projector else 1}}))
    chars = seq.labels is not None and width == 1 and n_steps <= MAX_CHAR_TICKS and all(
        len(str(c)) <= 1 for c in seq.labels)
    if chars:
        shown_chars = [{" ": "␣", "\n": "↵", "\t": "⇥"}.get(c, style.user_text(c))
                       for c in seq.labels]
        fig.update_xaxes(tickmode="array", tickvals=list(range(n_steps)), ticktext=shown_chars,
                         ticks="", tickfont={"family": "DejaVu Sans Mono, Menlo, monospace",
                                             "size": s["font"] if n_steps <= 60 else s["small"]},
                         title={"text": f"input, steps 0–{last} (hover for the step)"})
    else:
        fig.update_xaxes(title={"text": "step"})
    band_px = 14 if projector else 10
    plot_px = max(140 if projector else 110, (40 if projector else 30) * n_shown)
    top_px = (110 if projector else 80) + band_px + (30 if width > 1 else 0)
    fig.update_layout(
        height=top_px + plot_px + (110 if projector else 80),
        margin={"t": top_px}, showlegend=False,
        title={"text": f"The found unit{'s' if n_shown > 1 else ''} over the sequence "
               f"({style.label(kind)}; dots: on, ≥ {threshold:g})" + (
                   f"<br><span style='font-size:{s['small']}px;color:{style.MUTED}'>pooled, "
                   f"each column the most extreme of {width} steps</span>" if width > 1 else "")})
    fig.update_yaxes(type="category", range=[n_shown - 0.5, -0.5], showline=False, ticks="")
    fig.update_xaxes(range=[-0.5, n_steps - 0.5], showline=False)
    band = (1 + 6 / plot_px, 1 + (6 + band_px) / plot_px)            # above the cells, in paper
    marks = [(start, end, style.INK, "solid", s["line"] + 1)] + [
        (m.start, m.end, style.MUTED, "dash", s["line"]) for m in matches[:MAX_MARKED]]
    for a, b, colour, dash, line in marks:
        fig.add_shape(type="rect", x0=a - 0.5, x1=b + 0.5, y0=band[0], y1=band[1], xref="x",
                      yref="paper", fillcolor=colour, line={"width": 0}, name="band")
        fig.add_shape(type="rect", x0=a - 0.5, x1=b + 0.5, y0=-0.5, y1=n_shown - 0.5,
                      xref="x", yref="y", fillcolor="rgba(0,0,0,0)", layer="above",
                      line={"color": colour, "width": line, "dash": dash}, name="frame")
    fig.add_annotation(
        x=1, y=band[1], xref="paper", yref="paper", xanchor="right", yanchor="bottom",
        showarrow=False, font={"size": s["small"], "color": style.MUTED},
        text=f"<b style='color:{style.INK}'>■ selected</b>   ■ "
             f"{len(matches)} match{'es' if len(matches) != 1 else ''}"
             + (f" (the best {MAX_MARKED} marked)" if len(matches) > MAX_MARKED else ""))
    return fig


with shown_as_message("drawing the units found"):
    heatmap = found_heatmap()
st.plotly_chart(heatmap, key="us_heatmap", width="stretch", config={"displayModeBar": False})
figure_downloads(heatmap, "unit-search", key="us_export")
