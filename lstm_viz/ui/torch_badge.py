"""A visible match with torch: one honest line saying the numbers shown are torch's numbers.

``torch_badge(loaded)`` compares the trace the page already shows (``loaded.trace``, not computed
again) with the equivalent torch module run on the loaded sequence with the same weights
(:func:`lstm_viz.torchref.check.trace_match`) and shows the largest gap, e.g. "✓ matches
torch.nn.LSTM: max |Δh| = 3e-08 over 1,000 steps". torch runs over at most ``CHECK_STEPS`` steps:
a longer sequence is compared over its first ``CHECK_STEPS`` steps and the line says so ("over the
first 2,000 of 100,000 steps"; a long bidirectional model: its first layer, forward over the first
and backward over the last ``CHECK_STEPS`` steps). It is computed only when drawn and cached by
content: the model's key, a hash of its configuration and weights, and the sequence's content
hash. Without torch it says so; a gap above the tolerance is a warning, never hidden.

It never holds up the page: torch takes seconds to import on a fresh server, so when it is not
imported yet the badge starts importing it in a background thread (once per server) and shows
"Checking against torch…" in a fragment that looks again every second; when torch is in, the
whole page runs once more and the badge fills in. Call it last on a page (after its figures),
in a slot reserved where it shows (``st.empty()``).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
import streamlit as st

from lstm_viz.core import Recurrent, Trace
from lstm_viz.torchref.check import CHECK_STEPS, TorchMatch, trace_match
from lstm_viz.workbench import Loaded, model_key, trace_key


def weights_key(rec: Recurrent) -> str:
    """A content key of a model: ``workbench.model_key`` (configuration, dtype, layout, tensor
    names and values)."""
    return model_key(rec)


def badge_keys(loaded: Loaded) -> tuple[str, str]:
    """(model key, sequence key) that identify what the badge compares.

    The trace the page shows is kept under ``model.key`` and the sequence's key
    (``ui.sidebar``); the weights' own hash is added so that two models can never share a
    result, whatever their keys.
    """
    return (f"{loaded.model.key}|{weights_key(loaded.recurrent)}",
            trace_key(loaded.model, loaded.sequence)[2])   # what it read: values or token ids


@st.cache_data(show_spinner=False, max_entries=256)
def cached_match(model_key: str, seq_key: str, max_steps: int | None, _model: Recurrent,
                 _trace: Trace, _x: Any) -> TorchMatch:
    """:func:`trace_match` of a model's trace of a sequence, kept by their content keys."""
    return trace_match(_model, _trace, _x, max_steps=max_steps)


def badge_text(match: TorchMatch) -> tuple[str, str]:
    """(kind, text): kind is "ok", "missing" or "warning"."""
    if not match.available:
        return "missing", f"Not checked against torch: {match.message}."
    if match.ok:
        return "ok", f"✓ {match.message}"
    return "warning", f"This model's numbers {match.message}."


def help_text(match: TorchMatch, dtype: Any = np.float32) -> str | None:
    """The badge's tooltip: what was run through torch and what was compared."""
    if not match.available:
        return None
    text = (f"The same weights and the same input run through {match.module_name} "
            f"({np.dtype(dtype).name}) "
            "and compared with the trace shown here; ")
    if match.scope == "ends":
        n = match.compared_steps or 0
        return text + (
            f"the model is bidirectional and the sequence longer than {n:,} steps; a backward step "
            "depends on every later step, so only the first layer is compared, each direction "
            f"run alone: the forward direction over the first {n:,} steps and the backward "
            f"direction over the last {n:,}. |Δh| is the largest difference over those steps.")
    if match.scope == "prefix":
        n = match.compared_steps or 0
        return text + (
            f"torch runs over the first {n:,} steps only (a forward step depends only on the "
            f"steps before it). |Δh| is the largest difference over those {n:,} output steps "
            f"and the state at step {n - 1:,}.")
    return text + "|Δh| is the largest difference over every output step and the final state."


POLL_S = 1.0                       # while torch loads, the badge looks again this often
PENDING = "Checking against torch…"
_import_done = threading.Event()
_import_lock = threading.Lock()
_import_started = False


def _import_torch() -> None:
    try:
        import torch  # noqa: F401
    except Exception:               # not installed, or broken: trace_match says so
        pass
    finally:
        _import_done.set()


def torch_ready() -> bool:
    """True when ``import torch`` returns at once (done, by the background thread or anyone)."""
    torch = sys.modules.get("torch")       # in sys.modules from the start of its import:
    spec = getattr(torch, "__spec__", None)     # importlib marks it while it runs
    return _import_done.is_set() or (torch is not None and not getattr(spec, "_initializing",
                                                                       False))


def start_torch_import() -> None:
    """Import torch in a daemon thread, once per server (the page goes on meanwhile)."""
    global _import_started
    with _import_lock:
        if _import_started or torch_ready():
            return
        _import_started = True
    threading.Thread(target=_import_torch, name="lstm_viz-import-torch", daemon=True).start()


def _pending() -> None:
    """The badge's place while torch loads: rerun the whole page once it is in."""
    if torch_ready():
        st.rerun()
    st.caption(PENDING)


def torch_badge(loaded: Loaded) -> None:
    """One line under a figure: does this trace match torch on the same weights and input?"""
    if not torch_ready():
        start_torch_import()
        st.fragment(run_every=POLL_S)(_pending)()
        return
    with st.spinner(PENDING, show_time=False):
        match = cached_match(*badge_keys(loaded), CHECK_STEPS, loaded.recurrent, loaded.trace,
                             loaded.inputs)
    kind, text = badge_text(match)
    if kind == "warning":
        st.warning(text)
        return
    st.caption(text, help=help_text(match, loaded.recurrent.dtype))
