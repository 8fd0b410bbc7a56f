"""A visible match with torch: one honest line saying the numbers shown are torch's numbers.

``torch_badge(loaded)`` runs the loaded model's weights through the equivalent torch module on the
loaded sequence (:func:`lstm_viz.torch_check.torch_match`) and shows the largest gap, e.g.
"✓ matches torch.nn.LSTM: max |Δh| = 3e-08 over 1,000 steps". It is computed only when drawn and
cached by the model's key and the sequence's content hash. Without torch it says so; a gap above
the tolerance is a warning, never hidden.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz.core import Recurrent
from lstm_viz.torch_check import TorchMatch, torch_match
from lstm_viz.workbench import Loaded, sequence_key


@st.cache_data(show_spinner=False, max_entries=256)
def cached_match(model_key: str, seq_key: str, _model: Recurrent, _x: np.ndarray) -> TorchMatch:
    """:func:`torch_match` of a model on a sequence, kept by their content keys."""
    return torch_match(_model, _x)


def badge_text(match: TorchMatch) -> tuple[str, str]:
    """(kind, text): kind is "ok", "missing" or "warning"."""
    if not match.available:
        return "missing", f"Not checked against torch: {match.message}."
    if match.ok:
        return "ok", f"✓ {match.message}"
    return "warning", f"This model's numbers {match.message}."


def torch_badge(loaded: Loaded) -> None:
    """One line under a figure: does this trace match torch on the same weights and input?"""
    with st.spinner("Checking against torch…", show_time=False):
        match = cached_match(loaded.model.key, sequence_key(loaded.sequence), loaded.recurrent,
                             loaded.sequence.values)
    kind, text = badge_text(match)
    if kind == "warning":
        st.warning(text)
        return
    help_text = ("The same weights and the same input run through "
                 f"{match.module_name} (float32); |Δh| is the largest difference over every "
                 "output step and the final state." if match.available else None)
    st.caption(text, help=help_text)
