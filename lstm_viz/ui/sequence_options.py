"""The options under an uploaded sequence: which features, scaling, which sequence of a batch and
a window of a long file (of tokens, for text read through a model's vocabulary). Each widget
re-reads the kept upload bytes with the new options (``on_change``, in the sidebar); what the
widgets show comes from the last read that parsed.

Everything from the file (column names, notes quoting them) is shown through `plain`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lstm_viz.files.common import MAX_STEPS

from .safe_text import clip, plain, plain_list

SCALES = {"none": "none", "zscore": "z-score", "minmax": "min-max"}
# A file longer than this offers a window (a long one may be too big to trace with some models).
WINDOW_FROM = 1_000
KEYS = ("w_seq_columns", "w_seq_scale", "w_seq_index", "w_seq_start", "w_seq_length")


def options_from_widgets(available: tuple[str, ...]) -> dict[str, Any]:
    """The `read_sequence` keyword arguments the option widgets now ask for."""
    ss = st.session_state
    opts: dict[str, Any] = {}
    columns = ss.get("w_seq_columns")
    if columns is not None and list(columns) != list(available):
        opts["columns"] = [c for c in available if c in columns]
    scale = ss.get("w_seq_scale")
    if scale in ("zscore", "minmax"):
        opts["scale"] = scale
    if ss.get("w_seq_index"):
        opts["index"] = int(ss["w_seq_index"])
    if ss.get("w_seq_start"):
        opts["start"] = int(ss["w_seq_start"])
    if ss.get("w_seq_length") is not None:
        opts["length"] = int(ss["w_seq_length"])
    return opts


def sequence_options(view: dict[str, Any], on_change: Callable[[], None]) -> None:
    """Draw the options of the kept upload: ``view`` holds the ``meta`` and ``features`` of its
    last read, the ``options`` it was read with, whose vocabulary read it (``reader``) and
    ``unread`` when the model now asked for could not read it (no caption of that read)."""
    ss = st.session_state
    meta, opts = view["meta"], view["options"]
    for key in KEYS:                       # what the widgets show: the options last read
        ss.pop(key, None)
    if not view.get("unread") and (meta.get("token_ids") is not None
                                   or meta.get("source") == "text"):
        st.caption(_tokens_text(meta, view.get("reader")))
    if meta.get("time_column") is not None:
        st.caption(f"Time axis: {plain(meta['time_column'], 40)}")
    if meta.get("source") in ("table", "npy"):
        available = list(meta.get("columns", ()))
        if len(available) > 1:
            ss["w_seq_columns"] = list(view["features"])
            st.multiselect("Features", available, key="w_seq_columns", on_change=on_change,
                           format_func=lambda n: clip(n, 40),
                           help="The columns fed to the model, one input each.")
        ss["w_seq_scale"] = opts.get("scale") or "none"
        st.radio("Scaling", list(SCALES), format_func=SCALES.get, horizontal=True,
                 key="w_seq_scale", on_change=on_change,
                 help="Per feature, over the loaded steps: z-score (x − mean) / std, "
                      "min-max (x − min) / (max − min). A model trained on scaled data needs it.")
        stats = meta.get("scaling")
        if stats:
            st.caption(_stats_text(stats))
    if "batch" in meta:
        k, n = meta["batch"]
        ss["w_seq_index"] = int(k)
        st.number_input(f"Sequence (0–{n - 1:,}) of {n:,}", 0, n - 1, key="w_seq_index",
                        on_change=on_change, help="Axis 0 of the array is the batch.")
    w0, w1, total = meta.get("window", (0, 0, 0))
    if total > WINDOW_FROM or (w0, w1) != (0, total):
        cols = st.columns(2)
        ss["w_seq_start"] = int(w0)
        cols[0].number_input("Window start", 0, max(0, total - 1), key="w_seq_start",
                             on_change=on_change, help=f"The first step read, of {total:,}.")
        ss["w_seq_length"] = int(w1 - w0)
        cols[1].number_input("Length", 1, MAX_STEPS, key="w_seq_length", on_change=on_change,
                             help=f"Steps read, at most {MAX_STEPS:,}.")
    for note in meta.get("notes", ()):
        st.caption(plain(note, 200))


def _tokens_text(meta: dict[str, Any], reader: str | None = None) -> str:
    """How a text or a sequence of token ids was read: "Characters through the brackets model's
    vocabulary of 2 tokens, fed one-hot", "Characters one-hot over the text's own 27"."""
    n = int(meta.get("vocab_size", 0))
    if meta.get("source") == "text" and meta.get("over") == "text":
        return (f"Characters one-hot over the text's own {n:,} different characters (the model "
                "has no vocabulary).")
    how = {"words": "Words", "chars": "Characters"}.get(meta.get("tokenised", ""), "Token ids")
    enc = {"one-hot": "fed one-hot", "ids": "fed as ids (an embedding reads them)"}.get(
        meta.get("encoding", ""), "fed one-hot")
    whose = f"{plain(reader, 60)}'s" if reader else "the model's"
    unit = "characters" if how == "Characters" and n != 1 else "tokens" if n != 1 else "token"
    return f"{how} through {whose} vocabulary of {n:,} {unit}, {enc}."


def _stats_text(stats: dict[str, Any]) -> str:
    a, b = ("mean", "std") if stats["method"] == "zscore" else ("min", "max")
    items = [f"{name}: {a} {x:.4g}, {b} {y:.4g}" for name, x, y in zip(
        stats["features"], stats[a], stats[b], strict=True)]
    return f"{SCALES[stats['method']]} over {stats['steps']:,} steps · " + plain_list(
        items, each=60, most=6, sep=" · ")
