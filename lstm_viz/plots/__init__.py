"""Plotly figures of lstm-viz: numpy arrays in, ``plotly.graph_objects.Figure`` out.

One colour language (:mod:`.style`), max-abs time downsampling (:mod:`.downsample`), the
units x time heatmaps (:mod:`.heatmaps`), the cell diagram (:mod:`.diagram`), the analysis
figures (:mod:`.analysis`) and HTML/PNG export (:mod:`.export`). No streamlit here.
"""

from .analysis import (
    difference_heatmap,
    forget_product,
    gradient_flow,
    gradient_heatmap,
    loss_curve,
    saturation_scatter,
)
from .diagram import VARIANTS, cell_diagram
from .downsample import downsample_time, max_cols_for
from .export import figure_to_html, figure_to_png
from .heatmaps import move_cursor, quantity_heatmaps
from .style import COLORS, LABELS, base_layout, color, color_range, label

__all__ = [
    "COLORS",
    "LABELS",
    "VARIANTS",
    "base_layout",
    "cell_diagram",
    "color",
    "color_range",
    "difference_heatmap",
    "downsample_time",
    "figure_to_html",
    "figure_to_png",
    "forget_product",
    "gradient_flow",
    "gradient_heatmap",
    "label",
    "loss_curve",
    "max_cols_for",
    "move_cursor",
    "quantity_heatmaps",
    "saturation_scatter",
]
