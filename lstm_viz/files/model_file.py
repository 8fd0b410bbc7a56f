"""``read_model``: a model file -> the recurrent module to show, and what feeds and reads it.

SPEC §7. Formats: torch (``.pt .pth .bin .ckpt .net``: state_dicts, checkpoint dicts, whole saved
models read without running them), ``.safetensors``, ``.npz``, and Keras / ONNX through their own
readers (``keras_files``, ``onnx_files``), which return a ``FileContents`` as this module builds
for the others. Every tensor read goes through the checks of ``weights`` (sizes, layouts, finite
values within limits); every tensor ends up in ``ModelFile.tensors`` with its use. The vocabulary,
embedding, head, sizes and stacking are found in ``model_parts``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_viz.core import Recurrent
from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    NAME_LIMIT,
    SAVE_HINT,
    check_size,
    clip,
    file_ext,
    one_sentence,
    quote,
)
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.model_config import fitting_variants, infer_config, match_anywhere
from lstm_viz.files.model_parts import (
    _MAX_LISTED,
    _blocks,
    _extras,
    _find_head_labels,
    _find_vocab,
    _fixed_extras,
    _Found,
    _shown,
    _sizes,
    _stack,
)
from lstm_viz.files.torch_pickle import is_stub, module_tensors, stub_name
from lstm_viz.files.weights import (
    SavedModel,
    _check_recurrent_bounds,
    _read_npz,
    _read_safetensors,
    _read_torch,
    _to_float_array,
)

__all__ = ["ModelFile", "read_model", "TORCH_EXTENSIONS", "MODEL_FILE_EXTENSIONS"]

TORCH_EXTENSIONS = (".pt", ".pth", ".bin", ".ckpt", ".net")
MODEL_FILE_EXTENSIONS = TORCH_EXTENSIONS + (".safetensors", ".npz", ".keras", ".h5", ".onnx")

_WRAPPERS = ("state_dict", "model_state_dict", "model", "net", "module", "network",
             "model_state", "weights", "params")
_CELL_RE = re.compile(r"^(?:(.{0,1000})\.)?(weight_ih|weight_hh|bias_ih|bias_hh)$")
_STRIP = ("module.", "_orig_mod.")
_CLASS_VARIANT = {"LSTM": "vanilla", "LSTMCell": "vanilla", "GRU": "gru", "GRUCell": "gru",
                  "RNN": "rnn", "RNNCell": "rnn"}


@dataclass
class ModelFile:
    """SPEC §7: the picked recurrent module of an uploaded file and what goes with it."""

    recurrent: Recurrent
    candidates: list[str]
    picked: str
    embedding: np.ndarray | None
    vocab: list[str] | None
    head: tuple[np.ndarray, np.ndarray | None] | None
    notes: list[str]
    tensors: dict[str, str] = field(default_factory=dict)   # every tensor -> its use
    variants: list[str] = field(default_factory=list)       # every variant the weights fit
    contents: FileContents | None = None
    head_labels: list[str] | None = None                    # names of the head's outputs


def read_model(filename: str, data: bytes, pick: str | None = None) -> ModelFile:
    """The bytes of an uploaded model file -> ``ModelFile`` (SPEC §7), or ``InputError``.

    ``pick`` names the recurrent module to use (one of ``candidates``); None takes the first.
    Nothing of the file is ever run: torch files are read with ``weights_only=True``, and a whole
    saved model by ``torch_pickle``'s restricted unpickler, which runs none of its classes.
    """
    check_size(data)
    if pick is not None and not isinstance(pick, str):
        raise InputError(f"pick must be a module path (text), not {type(pick).__name__}.")
    ext = file_ext(filename if isinstance(filename, str) else "")
    base = str(filename).strip().replace("\\", "/").rsplit("/", 1)[-1]
    label = "'" + clip(base or "upload") + "'"
    return one_sentence(label, lambda: _finish(label, _read(label, ext, bytes(data)), pick),
                        SAVE_HINT)


# -- reading -------------------------------------------------------------------------------------
def _read(label: str, ext: str, data: bytes) -> _Found:
    if ext in TORCH_EXTENSIONS:
        return _from_torch(label, _read_torch(label, data, whole_model=True))
    if ext == ".safetensors":
        return _from_flat(_read_safetensors(label, data), {}, {}, [])
    if ext == ".npz":
        return _from_flat(_read_npz(label, data), {}, {}, [])
    if ext in (".keras", ".h5", ".onnx"):
        try:
            if ext == ".onnx":
                from lstm_viz.files.onnx_files import read_onnx as reader
            else:
                from lstm_viz.files.keras_files import read_keras as reader
        except ImportError:
            raise InputError(
                f"{label} is a {ext} file, which this version cannot read yet: save a PyTorch "
                "state_dict (.pt) or the weights as .safetensors or .npz."
            ) from None
        contents = reader(label.strip("'"), data)
        return _Found(list(contents.recurrent), {}, {}, {}, dict(contents.tensors),
                      list(contents.notes), contents.vocab, fixed=contents)
    shown = ext or "no extension"
    raise InputError(
        f"{label} ({shown}) is not a model file this app reads: upload PyTorch weights (.pt, "
        ".pth, .bin, .ckpt, .net), .safetensors, .npz, Keras (.keras, .h5) or ONNX (.onnx)."
    )


def _is_tensor(v: Any) -> bool:
    if isinstance(v, np.ndarray):
        return True
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)


def _walk(obj: Any, prefix: str, out: dict[str, Any], classes: dict[str, str],
          attrs: dict[str, dict[str, Any]], depth: int = 0) -> None:
    """Every tensor reachable from ``obj`` by a dotted name (mappings, lists, stub modules)."""
    if depth > 12 or len(out) > 100_000:
        return
    dot = f"{prefix}." if prefix else ""
    if is_stub(obj):
        tensors, cls, att = module_tensors(obj, prefix)
        out.update(tensors)
        classes.update(cls)
        attrs.update(att)
        if not tensors and not obj._stub_state.get("_modules"):
            for k, v in obj._stub_state.items():
                _walk(v, dot + k, out, classes, attrs, depth + 1)
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            name = k if isinstance(k, str) else repr(k)[:80]
            if _is_tensor(v):
                out[dot + name] = v
            else:
                _walk(v, dot + name, out, classes, attrs, depth + 1)
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj[:10_000]):
            if _is_tensor(v):
                out[f"{dot}{i}"] = v
            else:
                _walk(v, f"{dot}{i}", out, classes, attrs, depth + 1)


def _weight_name(k: Any) -> bool:
    return isinstance(k, str) and (match_anywhere(k) is not None or _CELL_RE.match(k) is not None)


def _holds_weights(obj: Any) -> bool:
    if is_stub(obj):
        return "_modules" in obj._stub_state or "_parameters" in obj._stub_state
    if isinstance(obj, Mapping):
        return any(_is_tensor(v) for v in obj.values())
    return False


def _root(raw: Any) -> tuple[Any, str]:
    """The model's weights inside a checkpoint: (object, its dotted path in the file)."""
    root, where = raw, ""
    for _ in range(4):
        if is_stub(root) or (
            isinstance(root, Mapping) and any(_weight_name(k) for k in root)
        ):
            break
        if not isinstance(root, Mapping):
            break
        key = next((k for k in _WRAPPERS if _holds_weights(root.get(k))), None)
        if key is None:  # another key holding recurrent weights ({"encoder_state": {...}})
            key = next(
                (k for k, v in root.items() if isinstance(k, str)
                 and (is_stub(v) or (isinstance(v, Mapping) and any(map(_weight_name, v))))),
                None,
            )
        if key is None:
            break
        root, where = root[key], f"{where}.{key}" if where else key
    return root, where


def _strip(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _STRIP:
            if name.startswith(p):
                name, changed = name[len(p):], True
    return name


def _from_torch(label: str, raw: Any) -> _Found:
    notes: list[str] = []
    class_list: list[str] = []
    if isinstance(raw, SavedModel):
        class_list = raw.classes
        raw = raw.obj
        mods = [c for c in class_list if not c.startswith(("torch.", "collections."))]
        what = ", ".join(mods[:3]) or ", ".join(class_list[:3]) or "unknown"
        notes.append(
            f"The file is a whole saved model (classes {what}): its tensors were read without "
            "running any of its code."
        )
    if not isinstance(raw, Mapping) and not is_stub(raw):
        raise InputError(
            f"{label} holds a {type(raw).__name__}, not a model's weights: save them with "
            "torch.save(model.state_dict(), 'model.pt') and upload that."
        )
    root, where = _root(raw)
    everything: dict[str, Any] = {}
    _walk(raw, "", everything, {}, {})
    model: dict[str, Any] = {}
    classes: dict[str, str] = {}
    attrs: dict[str, dict[str, Any]] = {}
    _walk(root, "", model, classes, attrs)
    if is_stub(root):
        top = stub_name(root)
        if top and not class_list:
            notes.append(f"The file holds a whole model of class {top}.")
    elif where:
        notes.append(f"The model's weights were read from the checkpoint's {quote(where)} entry.")
    tensors: dict[str, str] = {}
    prefix = f"{where}." if where else ""
    outside = [k for k in everything if not (prefix and k.startswith(prefix)) and
               (prefix or k not in model)]
    for k in outside[:_MAX_LISTED]:
        tensors[k] = "ignored: outside the model's weights (optimizer or other checkpoint data)"
    if outside:
        notes.append(
            f"{len(outside):,} tensor{'s' if len(outside) != 1 else ''} outside the model's "
            f"weights (optimizer state or other checkpoint data) "
            f"{'were' if len(outside) != 1 else 'was'} left out."
        )
    vocab = _find_vocab(raw, root, attrs, notes)
    labels = _find_head_labels(raw, root, attrs, notes)
    found = _from_flat(model, classes, attrs, notes, tensors)
    found.vocab, found.head_labels = vocab, labels
    return found


def _from_flat(flat: Mapping[str, Any], classes: dict[str, str],
               attrs: dict[str, dict[str, Any]], notes: list[str],
               tensors: dict[str, str] | None = None) -> _Found:
    """Group named tensors into recurrent modules (torch names) and the rest."""
    tensors = {} if tensors is None else tensors
    groups: dict[str, dict[str, Any]] = {}
    cells: set[str] = set()
    others: dict[str, Any] = {}
    origin: dict[tuple[str, str], str] = {}
    for name, value in flat.items():
        key = _strip(name) if isinstance(name, str) else repr(name)[:80]
        m = match_anywhere(key)
        if m is not None and (m.group(1) == "" or m.group(1).endswith(".")):
            path, param = m.group(1)[:-1], key[len(m.group(1)):]
            if path in cells:
                others[key] = value
                continue
        else:
            c = _CELL_RE.match(key) if len(key) <= 1000 else None
            if c is None or (c.group(1) or "") in groups and (c.group(1) or "") not in cells:
                others[key] = value
                continue
            path, param = c.group(1) or "", c.group(2) + "_l0"
            cells.add(path)
        groups.setdefault(path, {})[param] = value
        origin[(path, param)] = key
    modules: list[RecurrentModule] = []
    for path, state in groups.items():
        if path in cells and not ("weight_ih_l0" in state and "weight_hh_l0" in state):
            for param, v in state.items():
                others[origin[(path, param)]] = v
            continue
        cls = classes.get(path, "")
        variant = _CLASS_VARIANT.get(cls.rsplit(".", 1)[-1]) if cls.startswith("torch.") else None
        att = attrs.get(path, {})
        if variant == "rnn" and att.get("nonlinearity") == "relu":
            variant = "relu"  # refused if picked
        modules.append(RecurrentModule(path, variant, state, cell=path in cells,
                                       batch_first=bool(att.get("batch_first", False))))
    owner = {origin[(m.path, param)]: m.path for m in modules for param in m.state}
    tensors.update((name, "recurrent") for name in owner)
    return _Found(modules, others, classes, attrs, tensors, notes, owner=owner)


# -- picking and building ------------------------------------------------------------------------
def _finish(label: str, found: _Found, pick: str | None) -> ModelFile:
    notes = list(found.notes)
    tensors = dict(found.tensors)
    modules = found.modules
    if not modules:
        names = [k for k in found.others][:4]
        listed = ", ".join(quote(k, NAME_LIMIT) for k in names) or "none"
        raise InputError(
            f"{label} holds no recurrent layer (no tensors named like weight_ih_l0, or an "
            f"LSTMCell's weight_ih; found {listed}): upload an LSTM, GRU or RNN's weights."
        )
    candidates = [m.path for m in modules]
    if pick is None:
        module = modules[0]
    elif "+" in pick and pick not in candidates:
        module = _stack(label, modules, pick)
    else:
        module = next((m for m in modules if m.path == pick), None)
        if module is None:
            listed = ", ".join(_shown(c) for c in candidates[:8])
            raise InputError(
                f"{label} has no recurrent module {quote(pick, NAME_LIMIT)}: choose one of "
                f"{listed}."
            )
    if len(modules) > 1:
        notes.append(
            f"The file holds {len(modules)} recurrent modules "
            f"({', '.join(map(_shown, candidates[:8]))}): showing {_shown(module.path)}; "
            "pick another to see it."
        )
        for a, b in zip(modules, modules[1:], strict=False):
            ia, oa, bia = _sizes(a.state)
            ib, ob, bib = _sizes(b.state)
            if oa == ib and not bia and not bib and _blocks(a.state) == _blocks(b.state):
                how = (f"pick={a.path + '+' + b.path!r} runs them as one stack" if oa == ob
                       else "each is shown on its own (their hidden sizes differ, so the core "
                       "cannot run them as one stacked module)")
                notes.append(
                    f"Modules {_shown(a.path)} and {_shown(b.path)} chain ({ia} → {oa} → {ob}): "
                    f"{how}."
                )
    by_path = {m.path: m for m in modules}
    parts = [module] if module.path in by_path else [by_path[p] for p in module.path.split("+")]
    if module.variant == "relu":
        raise InputError(
            f"Module {_shown(module.path)} is an RNN with ReLU, which this app does not model "
            "(only tanh RNNs): upload an LSTM, GRU or tanh RNN."
        )
    state = dict(module.state)
    _check_recurrent_bounds(state)
    arrays = {k: _to_float_array(k, v) for k, v in state.items()}
    if module.variant is None:
        variant, fits = fitting_variants(arrays)
        if len(fits) > 1:
            notes.append(
                f"The weights of {_shown(module.path)} fit the variants {', '.join(fits)}: read "
                f"as {variant} (the file cannot tell them apart)."
            )
        cfg = infer_config(arrays, variant)
    else:
        cfg = infer_config(arrays, module.variant)
        fits = [cfg["variant"]]
    dtype = np.float64 if all(a.dtype == np.float64 for a in arrays.values()) else np.float32
    try:
        rec = Recurrent.from_state_dict(
            arrays, cfg["input_size"], cfg["hidden_size"], num_layers=cfg["num_layers"],
            bias=cfg["bias"], batch_first=module.batch_first, bidirectional=cfg["bidirectional"],
            proj_size=cfg["proj_size"], variant=cfg["variant"], dtype=dtype,
        )
    except ValueError as e:
        raise InputError(f"Module {_shown(module.path)} could not be built: {clip(str(e), 200)}") \
            from None
    del arrays
    real = cfg["proj_size"] or cfg["hidden_size"]
    out_size = real * (2 if cfg["bidirectional"] else 1)
    kind = cfg["variant_family"].upper()
    notes.append(
        f"Recurrent module {_shown(module.path)}: {kind} ({cfg['variant']}), {cfg['input_size']} "
        f"inputs, {cfg['hidden_size']} units, {cfg['num_layers']} layer"
        f"{'s' if cfg['num_layers'] != 1 else ''}"
        f"{', bidirectional' if cfg['bidirectional'] else ''}."
    )
    if module.cell:
        notes.append(
            f"Module {_shown(module.path)} holds {kind} cell weights (nn.{kind}Cell style): it "
            "runs as a one-layer module unrolled over the sequence."
        )
    for name, path in found.owner.items():
        if path in {p.path for p in parts}:
            tensors[name] = f"recurrent {cfg['variant_family']} ({cfg['variant']})"
        else:
            tensors[name] = f"ignored: recurrent module {_shown(path)}, not picked"

    if found.fixed is not None:
        embedding, head = _fixed_extras(found.fixed, parts, modules, cfg, out_size, notes)
    else:
        embedding, head = _extras(found, parts[0] is modules[0], parts[-1] is modules[-1],
                                  cfg["input_size"], out_size, tensors, notes)
    vocab = found.vocab
    if vocab is not None:
        fits_vocab = {cfg["input_size"]}
        if embedding is not None:
            fits_vocab.add(embedding.shape[0])
        if head is not None:
            fits_vocab.add(head[0].shape[0])
        if len(vocab) not in fits_vocab:
            notes.append(
                f"The vocabulary's {len(vocab):,} tokens match neither the inputs nor the "
                "embedding nor the head: it was left out."
            )
            vocab = None
    labels = found.head_labels
    if labels is not None and (head is None or len(labels) != head[0].shape[0]):
        notes.append(f"The {len(labels):,} names of outputs in the file match no head's "
                     "outputs: they were left out.")
        labels = None
    # the modules' descriptions only: the picked weights live in `rec`, the others are let go
    described = [RecurrentModule(m.path, m.variant, {}, m.cell, m.batch_first) for m in modules]
    contents = FileContents(described, embedding, vocab, head, tensors, notes)
    return ModelFile(rec, candidates, module.path, embedding, vocab, head, notes, tensors,
                     fits, contents, labels)
