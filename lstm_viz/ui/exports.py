"""Download buttons for figures, traces and models, built lazily: nothing is exported until the
person clicks (``st.download_button(data=callable)``), so stepping stays fast."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from lstm_viz.files.exports import model_to_safetensors, trace_to_csv, trace_to_npz
from lstm_viz.plots.export import figure_to_html, figure_to_png
from lstm_viz.plots.svg import figure_svg
from lstm_viz.workbench import Loaded

Figure = go.Figure | Callable[[], go.Figure]


def _figure(fig: Figure) -> go.Figure:
    return fig() if callable(fig) else fig


def figure_downloads(fig: Figure, name: str, key: str) -> None:
    """Two small buttons under a figure: standalone HTML and PNG (``fig`` may be a callable that
    builds the figure, so that nothing is built until a click)."""
    c1, c2, _ = st.columns([1, 1, 6])
    c1.download_button("HTML", data=lambda: figure_to_html(_figure(fig)),
                       file_name=f"{name}.html", mime="text/html", key=f"{key}_html",
                       on_click="ignore",
                       help="The interactive figure as a standalone HTML file (plotly inlined).")
    c2.download_button("PNG", data=lambda: figure_to_png(_figure(fig)), file_name=f"{name}.png",
                       mime="image/png", key=f"{key}_png", on_click="ignore",
                       help="A 2x PNG for slides.")


def diagram_downloads(fig: Figure, step: int, unit: int, variant: str,
                      key: str = "diagram_export") -> None:
    """The cell diagram of ``unit`` at ``step`` as SVG (the markup the page draws, `figure_svg`,
    standalone) and PNG (kaleido); ``fig`` may be a callable, so that nothing is drawn until a
    click. The file names say the variant, the step and the unit."""
    name = f"cell-diagram-{variant}-step{step}-unit{unit}"
    label = f"cell diagram of unit {unit} at step {step}"
    c1, c2, _ = st.columns([1.3, 1.3, 5.4])
    c1.download_button("Diagram SVG", data=lambda: figure_svg(_figure(fig), label=label),
                       file_name=f"{name}.svg", mime="image/svg+xml", key=f"{key}_svg",
                       on_click="ignore",
                       help=f"The cell diagram of unit {unit} at step {step}, as drawn here: "
                            "a vector image for slides or print.")
    c2.download_button("Diagram PNG", data=lambda: figure_to_png(_figure(fig)),
                       file_name=f"{name}.png", mime="image/png", key=f"{key}_png",
                       on_click="ignore",
                       help=f"The cell diagram of unit {unit} at step {step} as a 2x PNG.")


def trace_downloads(loaded: Loaded, key: str = "trace") -> None:
    """The whole trace as .npz and long-format CSV, and the model's weights as .safetensors."""
    rec = loaded.recurrent
    config = {"variant": rec.variant, "input_size": rec.input_size, "hidden_size": rec.hidden_size,
              "num_layers": rec.num_layers, "bidirectional": rec.bidirectional,
              "proj_size": rec.proj_size}
    name = f"{loaded.sequence.name}-{rec.variant}".replace(" ", "_").replace("/", "_")[:60]
    c1, c2, c3, _ = st.columns([1.2, 1.2, 1.6, 4])
    c1.download_button("Trace .npz", data=lambda: trace_to_npz(loaded.trace, model_config=config),
                       file_name=f"{name}-trace.npz", mime="application/octet-stream",
                       key=f"{key}_npz", on_click="ignore",
                       help="Every per-step quantity of every layer and direction.")
    c2.download_button("Trace .csv", data=lambda: trace_to_csv(loaded.trace),
                       file_name=f"{name}-trace.csv", mime="text/csv", key=f"{key}_csv",
                       on_click="ignore",
                       help="Long format: step, layer, direction, unit, quantity, value.")
    c3.download_button("Model .safetensors",
                       data=lambda: model_to_safetensors(
                           rec.state_dict(), {k: str(v) for k, v in config.items()}),
                       file_name=f"{name}.safetensors", mime="application/octet-stream",
                       key=f"{key}_st", on_click="ignore",
                       help="The recurrent weights under torch's names: "
                            "load_state_dict(safetensors.torch.load_file(...)).")
