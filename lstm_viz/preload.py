"""The heavy imports every page shares, done once, before any page's code runs.

Import this module first on every page (``import lstm_viz.preload`` above the other imports).

Why: Streamlit runs each browser tab's script in its own thread, and the first runs after a
server start import pandas, plotly and the app's modules concurrently. An ``import`` statement
is safe on its own (a thread that finds a module half-initialised waits on that module's import
lock), but code that *peeks* at ``sys.modules`` does not wait: plotly's
``get_module("pandas", should_load=False)`` (in its validators and JSON encoder) hands a
half-imported pandas to a second tab, which then fails with "partially initialized module
'pandas' has no attribute 'Series'".

How: ``streamlit run`` offers no hook at server start, so the first script run does the work.
All of it happens while *this* module is being imported; Python holds this module's import lock
for that whole time, and any other script thread that reaches ``import lstm_viz.preload``
blocks on that lock until every import below has finished. So no page code runs (and nothing
peeks at sys.modules) before pandas, plotly and the app's modules are complete. Later runs find
the module in ``sys.modules`` and pay nothing.

Not torch: it takes seconds to import and no page needs it to draw (the core is NumPy). The torch
badge imports it in a background thread once the page is drawn (``ui.torch_badge``); nothing on
the pages' import chains peeks at ``sys.modules`` for torch (a plain ``import torch`` elsewhere
waits on its module lock). tests/ui/test_landing.py checks that no page's imports bring it in.
"""

from __future__ import annotations

import numpy  # noqa: F401
import pandas  # noqa: F401  (before plotly: plotly peeks at it)
import pandas.core.frame  # noqa: F401
import plotly.graph_objects  # noqa: F401
import plotly.io  # noqa: F401
import plotly.subplots  # noqa: F401
import streamlit  # noqa: F401

import lstm_viz.plots.analysis  # noqa: F401
import lstm_viz.plots.diagram  # noqa: F401
import lstm_viz.plots.heatmaps  # noqa: F401
import lstm_viz.ui  # noqa: F401  (the sidebar: loaders, the models, the core)
import lstm_viz.ui.explain_panel  # noqa: F401
import lstm_viz.ui.exports  # noqa: F401

# plotly builds its validators and JSON encoder lazily: build one figure and serialise it, so
# that their first use (which peeks at pandas) has happened here, under this module's lock.
plotly.io.to_json(plotly.graph_objects.Figure(plotly.graph_objects.Scatter(y=[0, 1])))

# Streamlit 1.67's server leaves Nagle's algorithm on: every static file and small websocket
# message waits ~40 ms for the browser's delayed ACK (see there). Once, at the first run.
from lstm_viz.ui.nodelay import set_nodelay  # noqa: E402

set_nodelay()
