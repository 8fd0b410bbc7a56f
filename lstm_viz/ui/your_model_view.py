"""Helpers of the "Your model" page: reading an upload (and re-reading it with a pick), the
variant a person picks, and the "What this file holds" section.

Session state: ``ym_bytes`` (name, bytes) of the last file that read (at most the upload cap:
``read_model`` refuses more), ``ym_file`` {"name", "mf"} its ``ModelFile``, ``ym_pick`` the module
picked, ``ym_variant`` the variant, ``ym_error`` the last failure's one sentence (escaped).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import streamlit as st

from lstm_viz import read_model
from lstm_viz.core import Recurrent
from lstm_viz.files.model_file import MODEL_FILE_EXTENSIONS, ModelFile
from lstm_viz.workbench import Model, model_from_file

from .failures import report
from .safe_text import plain
from .state import set_value

MODEL_TYPES = [e.lstrip(".") for e in MODEL_FILE_EXTENSIONS]
CONFIG_ROWS = ("variant", "input_size", "hidden_size", "num_layers", "bidirectional",
               "proj_size", "bias", "batch_first")
_STACK = re.compile(r"pick='([^'\n]{1,400})' runs them as one stack")


def read_into_state(name: str, data: bytes, pick: str | None = None) -> bool:
    """Read a model file into the page's state; on a problem keep what was there (False)."""
    ss = st.session_state
    try:
        mf = read_model(name, data, pick=pick)
    except Exception as exc:        # InputError says what to do; MemoryError; a reader's bug
        ss["ym_error"] = f"{plain(name, 60)}: {report(exc, 'reading the model file')}"
        return False
    ss["ym_error"] = None
    ss["ym_bytes"] = (name, data)
    ss["ym_file"] = {"name": name, "mf": mf}
    ss["ym_pick"] = mf.picked
    ss["ym_variant"] = mf.recurrent.variant
    return True


def on_upload() -> None:
    file = st.session_state.get("w_ym_upload")
    if file is not None:
        read_into_state(file.name, file.getvalue())


def on_pick() -> None:
    """Re-read the kept bytes with the module (or stack) the person picked."""
    ss = st.session_state
    kept, pick = ss.get("ym_bytes"), ss.get("w_ym_pick")
    if kept is not None and pick is not None:
        if not read_into_state(*kept, pick=pick):
            ss["w_ym_pick"] = ss.get("ym_pick")


def on_variant() -> None:
    st.session_state["ym_variant"] = st.session_state["w_ym_variant"]


def pick_options(mf: ModelFile) -> list[str]:
    """Every recurrent module, and the stacks the notes say chain (``pick='a+b'``)."""
    stacks = [m.group(1) for note in mf.notes for m in _STACK.finditer(note)]
    options = list(mf.candidates) + [s for s in stacks if s not in mf.candidates]
    if mf.picked not in options:
        options.append(mf.picked)
    return options


def shown_pick(path: str) -> str:
    if "+" in path:
        return plain(" → ".join(path.split("+")), 120) + " (one stack)"
    return plain(path, 120) if path else "(the file's top level)"


def with_variant(rec: Recurrent, variant: str) -> Recurrent:
    """The same weights read as another variant they fit."""
    if variant == rec.variant:
        return rec
    c = rec.config
    return Recurrent.from_state_dict(
        rec.state_dict(), c.input_size, c.hidden_size, num_layers=c.num_layers, bias=c.bias,
        batch_first=rec.batch_first, bidirectional=c.bidirectional, proj_size=c.proj_size,
        variant=variant, dtype=rec.dtype)


def build(name: str, mf: ModelFile, variant: str) -> Model:
    """The page's model: the picked module as ``variant``, with the file's embedding and head."""
    rec = with_variant(mf.recurrent, variant)
    c = rec.config
    layers = f", {c.num_layers} layers" if c.num_layers > 1 else ""
    where = f" {mf.picked}" if len(mf.candidates) > 1 or "+" in mf.picked else ""
    label = f"yours: {name}{where} ({c.variant}, {c.hidden_size} units{layers})"
    return model_from_file(replace(mf, recurrent=rec), label)


def config_table(rec: Recurrent) -> dict[str, list[str]]:
    c = rec.config
    values: dict[str, Any] = {"variant": c.variant, "input_size": c.input_size,
                              "hidden_size": c.hidden_size, "num_layers": c.num_layers,
                              "bidirectional": c.bidirectional, "proj_size": c.proj_size,
                              "bias": c.bias, "batch_first": rec.batch_first}
    return {"setting": list(CONFIG_ROWS), "value": [str(values[k]) for k in CONFIG_ROWS]}


def tensors_table(mf: ModelFile) -> dict[str, list[str]]:
    """Every tensor of the file with its use (names are the file's: shown as plain text)."""
    return {"tensor": [plain(k, 200) for k in mf.tensors],
            "use": [plain(v, 200) for v in mf.tensors.values()]}


def extras_lines(model: Model) -> list[str]:
    """One line each on what feeds and reads the recurrent module."""
    lines = []
    if model.embedding is not None:
        v, d = model.embedding.shape
        lines.append(f"**Embedding** {v:,} × {d}: the model reads token ids.")
    if model.head is not None:
        w, b = model.head
        lines.append(f"**Head** {w.shape[0]:,} outputs{' with bias' if b is not None else ''}:"
                     " the stepper shows its predictions.")
    if model.vocab is not None:
        sample = " ".join(repr(t) for t in model.vocab[:12])
        lines.append(f"**Vocabulary** {len(model.vocab):,} tokens: {plain(sample, 120)}"
                     f"{' …' if len(model.vocab) > 12 else ''}")
    return lines


def inspect(model: Model) -> None:
    """Hand the model to every page: it becomes the sidebar's "yours" model."""
    ss = st.session_state
    ss["custom_model"] = model
    ss["playing"] = False
    set_value("model_kind", "custom")
