"""What the Units page shows beyond the analyses themselves: the notes beside the saturation
figure, the input around a range, and the heatmap of the units a search found."""

from __future__ import annotations

import re
from collections.abc import Sequence as SequenceABC
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lstm_viz.analysis import Match, Saturation, context
from lstm_viz.core import TITLES, is_lstm
from lstm_viz.core.variants import variant as variant_row
from lstm_viz.files.sequence import Sequence
from lstm_viz.plots import style
from lstm_viz.plots.downsample import downsample_time, max_cols_for, window_size

MOSTLY = 0.8             # "saturated most of the time": over this share of the steps
MAX_HEATMAP_UNITS = 32   # found units drawn in the heatmap (best first)
MAX_CELLS = 200_000      # heatmap cells before the time axis is pooled
MAX_MARKED = 200         # matches marked in the heatmap (best first)
MAX_DOTS = 20_000        # cells above which the "on" dots are left out
MAX_CHAR_TICKS = 120     # characters as x ticks up to this many steps
PROJECTOR_CHARS = 60     # ... on a projector (1.5x larger: more would overlap)
CONTEXT_PAD = 8          # steps of input shown on each side of a range
MARK = ("⟦", "⟧")        # marks the range in a context (not a character of any built-in task)


def unit_list(units) -> str:
    """"3, 5, 9" (the first 12, then "and N more")."""
    units = [int(u) for u in units]
    return ", ".join(map(str, units[:12])) + (f" and {len(units) - 12} more" if len(units) > 12
                                               else "")


def gate_words(sat: Saturation) -> dict[str, str]:
    """gate -> its name in words ("forget gate (= 1 − i)" for a derived one)."""
    return {g: style.words(g) + (" (= 1 − i)" if derived else "")
            for g, derived in zip(sat.gates, sat.derived, strict=True)}


def most_saturated(sat: Saturation) -> tuple[int, int, str, float]:
    """(gate index, unit, "left" | "right", share) of the gate saturated the longest."""
    peak = np.maximum(sat.left, sat.right)                      # (gates, units)
    g, u = np.unravel_index(int(np.argmax(peak)), peak.shape)
    side = "right" if sat.right[g, u] >= sat.left[g, u] else "left"
    return int(g), int(u), side, float(peak[g, u])


def saturation_notes(sat: Saturation, variant: str, trained: bool) -> list[str]:
    """The markdown bullet points of "What this model shows" beside the saturation figure."""
    units = sat.left.shape[1]
    names = gate_words(sat)
    low, high = f"{sat.low:g}", f"{sat.high:g}"
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
    peak = np.maximum(sat.left, sat.right)
    g_top, u_top, top_side, top = most_saturated(sat)
    if not found:
        found.append(f"- No gate is saturated over {MOSTLY:.0%} of the time.")
    if top > 0:
        found.append(
            f"- The most saturated: unit {u_top}'s {names[sat.gates[g_top]]}, {top_side}-"
            f"saturated {top:.0%} of the time.")
    else:
        found.append(f"- No gate ever goes below {low} or above {high} on this sequence: "
                     "every gate works as a graded switch"
                     + (", as in a model with fresh random weights." if not trained else "."))
    never = np.flatnonzero((peak < 1 - MOSTLY).all(axis=0))
    if never.size and top > 0:
        found.append(f"- **{never.size} of {units}** units never have a gate saturated over "
                     f"{1 - MOSTLY:.0%} of the time: unit{'s' if never.size > 1 else ''} "
                     f"{unit_list(never)}.")
    if variant_row(variant).family == "gru":
        found.append("- In a GRU the update gate z keeps the memory: h_t = (1 − z)·n + "
                     "z·h_(t−1), so z near 1 holds the old state.")
    missing = [g for g in ("i", "f", "o") if is_lstm(variant) and g not in sat.gates]
    if missing:
        found.append(f"- A {TITLES[variant]} holds the {', '.join(map(style.words, missing))}"
                     " at 1: not shown.")
    return found


def unit_choice(sat: Saturation, u: int) -> str:
    """How the unit picker names unit u: "unit 3: i 80% open, f 12% closed"."""
    return f"unit {u}: " + ", ".join(
        f"{g} {sat.right[k, u]:.0%} open" if sat.right[k, u] >= sat.left[k, u] else
        f"{g} {sat.left[k, u]:.0%} closed" for k, g in enumerate(sat.gates))


def clicked_unit(points: SequenceABC[dict[str, Any]], units: int) -> int | None:
    """The unit of the first selected point of the saturation figure, None if there is none."""
    if not points:
        return None
    picked = points[0].get("customdata", points[0].get("point_index"))
    if isinstance(picked, (list, tuple)):
        picked = picked[0]
    if picked is not None and 0 <= int(picked) < units:
        return int(picked)
    return None


def step_labels(seq: Sequence, lo: int, hi: int) -> list[str]:
    """Readable labels of steps lo..hi-1: the sequence's own (characters), else its values."""
    if seq.labels is not None:
        return [str(s) for s in seq.labels[lo:hi]]
    rows = seq.values[lo:hi]
    if seq.n_features == 1:
        return [f"{v:+.2f}" for v in rows[:, 0]]
    return ["(" + ", ".join(f"{v:+.2f}" for v in row) + ")" for row in rows]


def input_context(seq: Sequence, start: int, end: int) -> str:
    """The input around [start, end] with the range marked; only that window is formatted."""
    lo, hi = max(0, start - CONTEXT_PAD - 1), min(seq.length, end + CONTEXT_PAD + 2)
    return context(step_labels(seq, lo, hi), start - lo, end - lo, CONTEXT_PAD, mark=MARK)


def code(text: str) -> str:
    """Inline code (shown literally): its fence is longer than any run of backticks inside."""
    fence = "`" * max(2, max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def found_heatmap(values: np.ndarray, found: np.ndarray, seq: Sequence, kind: str,
                  threshold: float, selected: tuple[int, int], matches: list[Match],
                  projector: bool) -> go.Figure:
    """The found units over the whole sequence: dots where a unit is on, the selected range and
    the matches marked in a band above the cells (and framed in them).

    values (T, units) searched; found: the units, best first (the first 32 are drawn)."""
    shown = found[:MAX_HEATMAP_UNITS]
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
    chars = seq.labels is not None and width == 1 and n_steps <= (
        PROJECTOR_CHARS if projector else MAX_CHAR_TICKS) and all(
        len(str(c)) <= 1 for c in seq.labels)
    if chars:
        shown_chars = [{" ": "␣", "\n": "↵", "\t": "⇥"}.get(c, style.user_text(c))
                       for c in seq.labels]
        fig.update_xaxes(tickmode="array", tickvals=list(range(n_steps)), ticktext=shown_chars,
                         ticks="", tickfont={"family": "DejaVu Sans Mono, Menlo, monospace",
                                             "size": s["font"] if n_steps <= 60 else s["small"]},
                         title={"text": f"input, steps 0–{n_steps - 1} (hover for the step)"})
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
    start, end = selected
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
