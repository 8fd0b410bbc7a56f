"""The heatmaps as a Streamlit component that draws once per trace and moves only its cursor.

``st.plotly_chart`` would serialise and send the whole figure (megabytes for a long trace) at every
step. This component gets the figure JSON once per key; the cursor follows the URL's ``step``
parameter in the browser; a click on a cell comes back as ``{"step", "unit", "n"}``.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly
import streamlit.components.v1 as components

HERE = Path(__file__).resolve().parent / "heatmap_component"


@lru_cache(maxsize=1)
def _component() -> Any:
    """Declare the component from a folder holding its page and plotly.js (copied once)."""
    folder = Path(tempfile.mkdtemp(prefix="lstm_viz_heatmaps_"))
    shutil.copy(HERE / "index.html", folder / "index.html")
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                folder / "plotly.min.js")
    return components.declare_component("lstm_viz_heatmaps", path=str(folder))


def heatmap_view(spec: str, fig_key: str, *, key: str = "heatmaps") -> dict | None:
    """Show the figure ``spec`` (``fig.to_json()``); ``fig_key`` names it (a new one redraws).

    Returns the last click as ``{"step", "unit", "n", "key"}`` or None.
    """
    return _component()(spec=spec, fig_key=fig_key, key=key, default=None)
