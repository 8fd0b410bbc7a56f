"""The Learn page's two evidence figures: the gradient of an answer followed back through time
(LSTM against RNN), and a trained LSTM's metric on longer sequences than it saw. Drawing only: the
numbers come from :mod:`lstm_viz.teaching.lessons`."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_viz.teaching.lessons import RNN_H, first_zero

from . import style
from .analysis import gradient_flow as gradient_flow_figure


def gradient_survival_figure(curves: dict[str, np.ndarray], steps: int,
                             projector: bool = False) -> go.Figure:
    """The relative gradient norms of ``curves`` over ``steps`` steps, the RNN's vanishing
    point marked."""
    fig = gradient_flow_figure(
        curves, target_step=steps - 1, projector=projector,
        ylabel="gradient, relative to the last step",
        title=f"The gradient of the answer, followed back {steps} steps")
    for trace in fig.data:
        if "h<sub>" in trace.name and trace.name.startswith("LSTM"):
            trace.line.dash = "dot"
    fig.update_xaxes(title={"text": "step t (the symbol to remember is at step 0)"})
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2,
                              "yanchor": "top"}, margin={"b": 120 if projector else 100},
                      height=int(500 * (1.3 if projector else 1)))
    rnn = curves[RNN_H]
    gone = first_zero(rnn)
    if gone is not None and gone + 1 < steps:
        fig.add_annotation(x=gone + 1, y=float(np.log10(rnn[gone + 1])),
                           text="RNN: exactly 0 before this step", showarrow=True, arrowhead=2,
                           ax=20, ay=-140, xanchor="left", yanchor="bottom",
                           font={"color": style.MODEL_COLORS["RNN"],
                                 "size": style.sizes(projector)["small"]})
    return fig


def length_figure(factors: tuple[int, ...], rem_len: tuple[int, ...],
                  rem_acc: tuple[float, ...], add_len: tuple[int, ...],
                  add_err: tuple[float, ...], projector: bool = False) -> go.Figure:
    """Two bar panels: remember accuracy and adding error at ``factors`` × the trained length."""
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
                 for k, n in zip(factors, lengths, strict=True)]
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
    return fig
