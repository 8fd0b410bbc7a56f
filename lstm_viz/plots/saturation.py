"""The gate saturation figure (after Karpathy, Johnson & Fei-Fei 2015): a panel per gate, where
units that sit on the same spot are one marker sized by their count."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import style

MARKER = 0.045           # a one-unit marker's diameter as a share of a panel's axis (about)
TOUCH = 0.8              # two markers overlap: centres closer than this × their radii's sum
MAX_LISTED = 96          # units listed in a merged marker's hover


def merged_points(x: np.ndarray, y: np.ndarray,
                  marker: float = MARKER) -> list[tuple[float, float, np.ndarray]]:
    """The points as groups that do not cover each other: (x mean, y mean, indices).

    A group's marker has the diameter ``marker`` × sqrt(its count) (its area is the count).
    Points at one spot start as one group; then, while two groups' centres are closer (on both x
    and y) than :data:`TOUCH` × the sum of their radii, the most overlapping pair becomes one
    group at the mean of its points. Groups in the order of their lowest index."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    _, first, inverse = np.unique(np.stack([x, y], axis=1), axis=0, return_index=True,
                                  return_inverse=True)
    groups = [np.flatnonzero(inverse.reshape(-1) == g) for g in np.argsort(first)]
    while len(groups) > 1:
        cx = np.array([x[g].mean() for g in groups])
        cy = np.array([y[g].mean() for g in groups])
        radius = marker * np.sqrt([g.size for g in groups]) / 2
        gap = np.maximum(abs(cx[:, None] - cx[None]), abs(cy[:, None] - cy[None]))
        overlap = gap - TOUCH * (radius[:, None] + radius[None])   # < 0: they overlap
        np.fill_diagonal(overlap, np.inf)
        a, b = np.unravel_index(int(np.argmin(overlap)), overlap.shape)
        if overlap[a, b] >= 0:
            break
        a, b = min(a, b), max(a, b)
        groups[a] = np.sort(np.concatenate([groups[a], groups[b]]))
        del groups[b]
    return [(float(x[g].mean()), float(y[g].mean()), g) for g in groups]


def listed(units: np.ndarray) -> str:
    """"unit 3" or "4 units: 0, 1, 2, 5" for a hover: 12 a line, at most MAX_LISTED."""
    shown = [str(int(u)) for u in units[:MAX_LISTED]]
    lines = [", ".join(shown[k:k + 12]) for k in range(0, len(shown), 12)]
    more = f"<br>and {units.size - MAX_LISTED} more" if units.size > MAX_LISTED else ""
    return ("unit " if units.size == 1 else f"{units.size} units: ") + "<br>".join(lines) + more


def span(shares: np.ndarray) -> str:
    """"40%" or "38–42%": the shares of the units of one marker."""
    low, high = f"{shares.min():.0%}", f"{shares.max():.0%}"
    return high if low == high else f"{low[:-1]}–{high}"


def saturation_scatter(
    left: np.ndarray,
    right: np.ndarray,
    gate_names: Sequence[str],
    *,
    left_threshold: float = 0.1,
    right_threshold: float = 0.9,
    mostly: float = 0.8,
    projector: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Gate saturation per unit: a panel per gate, a marker per spot where its units are.

    left, right: (gates, units) fractions of steps with the gate below ``left_threshold``
    (left-saturated, closed) and above ``right_threshold`` (right-saturated, open). x = left,
    y = right; every point lies in the triangle x + y <= 1. The units of a gate within
    :data:`MERGE_DISTANCE` of each other are one marker (:func:`merged_points`): its area and
    the number on it are their count, its hover lists them; customdata = (first unit, the units
    as text, right share(s), left share(s)). The corners "mostly open" / "mostly closed" (over
    ``mostly`` of the steps) are shaded and each panel says how many units are in them.
    """
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if left.shape != right.shape or left.ndim != 2 or left.shape[0] != len(gate_names):
        raise ValueError(
            f"left and right must both be (gates={len(gate_names)}, units), "
            f"got {left.shape} and {right.shape}"
        )
    gates, units = left.shape
    s = style.sizes(projector)
    fig = make_subplots(rows=1, cols=max(1, gates), horizontal_spacing=0.05,
                        subplot_titles=[f"<span style='color:{style.color(g)}'><b>"
                                        f"{style.words(g)}</b> {g}</span>" for g in gate_names])
    fig.update_layout(**style.base_layout(projector))
    style.style_axes(fig, projector)
    fig.update_annotations(font={"size": s["font"]})          # the panel titles
    rest = 1 - mostly
    key = (f"<br><span style='font-size:{s['small']}px;color:{style.MUTED}'>mostly: over "
           f"{mostly:.0%} of the steps · rarely: both under {rest:.0%} · a number: that many "
           "units on one spot (hover lists them)</span>")
    fig.update_layout(height=int(460 * (1.3 if projector else 1.0)), showlegend=False,
                      title={"text": (title or "Gate saturation per unit") + key},
                      hovermode="closest", margin={"t": 140 if projector else 100})
    base = 13 if projector else 9
    axis = {"range": [-0.04, 1.04], "tickformat": ".0%", "tickvals": [0, 0.5, 1],
            "constrain": "domain"}
    for index, name in enumerate(gate_names):
        col = index + 1
        xref, yref = ("x", "y") if col == 1 else (f"x{col}", f"y{col}")
        fig.add_shape(type="path", path="M 0,0 L 1,0 L 0,1 Z", xref=xref, yref=yref,
                      fillcolor="#f6f8fa", layer="below", name="triangle",
                      line={"color": style.MUTED, "width": s["thin"], "dash": "dot"})
        for corner, path in (("open_corner", f"M 0,{mostly} L {rest},{mostly} L 0,1 Z"),
                             ("closed_corner", f"M {mostly},0 L 1,0 L {mostly},{rest} Z")):
            fig.add_shape(type="path", path=path, xref=xref, yref=yref, fillcolor="#e3e8ef",
                          line={"color": style.MUTED, "width": s["thin"]}, layer="below",
                          name=corner)
        groups = merged_points(left[index], right[index])
        counts = np.array([g[2].size for g in groups])
        fig.add_trace(go.Scatter(
            x=np.array([g[0] for g in groups], dtype=np.float32),
            y=np.array([g[1] for g in groups], dtype=np.float32),
            customdata=[[int(g[2][0]), listed(g[2]), span(right[index, g[2]]),
                         span(left[index, g[2]])] for g in groups],
            text=[str(c) if c > 1 else "" for c in counts], mode="markers+text",
            textposition="middle center", textfont={"color": "#ffffff", "size": s["small"]},
            name=style.label(name), cliponaxis=False,
            marker={"color": style.color(name), "opacity": 0.9,
                    "size": np.minimum(base * np.sqrt(counts), base * 5).tolist(),
                    "line": {"color": "#ffffff", "width": 1}},
            hovertemplate=(f"%{{customdata[1]}}<br>{style.words(name)}: %{{customdata[2]}} "
                           "right-saturated, %{customdata[3]} left-saturated<extra></extra>"),
        ), row=1, col=col)
        fig.update_xaxes(row=1, col=col, **axis, title={
            "text": f"closed: share of steps < {left_threshold:g}" if col == 1 else "closed"})
        fig.update_yaxes(row=1, col=col, **axis, scaleanchor=xref, scaleratio=1,
                         showticklabels=col == 1, title={
                             "text": f"open: share of steps > {right_threshold:g}"
                             if col == 1 else ""})
        is_open = int(np.count_nonzero(right[index] > mostly))
        is_closed = int(np.count_nonzero(left[index] > mostly))
        never = int(np.count_nonzero(np.maximum(left[index], right[index]) < rest))
        for x, y, text, xanchor, yanchor, note in (
                (rest + 0.04, 1.0, f"<b>{is_open} of {units}</b> mostly open", "left", "top",
                 "open_count"),
                (1.0, rest + 0.04, f"<b>{is_closed} of {units}</b><br>mostly closed", "right",
                 "bottom", "closed_count"),
                (1.0, 0.62, f"{never} of {units}<br>rarely saturated", "right", "bottom",
                 "rare_count")):
            fig.add_annotation(x=x, y=y, xref=xref, yref=yref, text=text, showarrow=False,
                               xanchor=xanchor, yanchor=yanchor, align=xanchor, name=note,
                               font={"size": s["small"], "color": style.INK})
    return fig
