"""``read_model``: a model file -> the recurrent module to show, and what feeds and reads it.

SPEC §7. Formats: torch (``.pt .pth .bin .ckpt .net``: state_dicts, checkpoint dicts, whole saved
models read without running them), ``.safetensors``, ``.npz``, and Keras / ONNX through their own
readers (``keras_files``, ``onnx_files``), which return a ``FileContents`` as this module builds
for the others. Every tensor read goes through the checks of ``weights`` (sizes, layouts, finite
values within limits); every tensor ends up in ``ModelFile.tensors`` with its use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_viz.core import Recurrent
from lstm_viz.errors import InputError
from lstm_viz.files.common import NAME_LIMIT, check_size, clip, file_ext, forget, quote, shape_of
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.model_config import fitting_variants, infer_config, match_anywhere
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
_VOCAB_KEYS = ("tokens", "chars", "characters", "vocab", "itos", "int2char", "idx2char",
               "id2token", "char2int", "stoi", "char2idx", "token2id", "vocabulary")
_HEAD_WORDS = ("fc", "linear", "decoder", "head", "out", "classifier", "dense", "proj", "readout")
_CELL_RE = re.compile(r"^(?:(.{0,1000})\.)?(weight_ih|weight_hh|bias_ih|bias_hh)$")
_STRIP = ("module.", "_orig_mod.")
_MAX_VOCAB = 1_000_000
_MAX_LISTED = 2_000  # tensors listed one by one in ModelFile.tensors
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


@dataclass
class _Found:
    modules: list[RecurrentModule]
    others: dict[str, Any]                      # tensors outside the recurrent modules
    classes: dict[str, str]                     # module path -> class (whole saved models)
    attrs: dict[str, dict[str, Any]]            # module path -> plain attributes
    tensors: dict[str, str]
    notes: list[str]
    vocab: list[str] | None = None
    owner: dict[str, str] = field(default_factory=dict)  # recurrent tensor -> its module path
    fixed: FileContents | None = None           # a Keras / ONNX reader's own choice


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
    message: str | None = None
    result: ModelFile | None = None
    try:
        found = _read(label, ext, bytes(data))
        result = _finish(label, found, pick)
    except InputError as e:
        message = str(e)
        forget(e)
    except Exception as e:  # any parser failure is the file's fault, never a crash
        message = (
            f"{label} could not be read as a model file ({type(e).__name__}): check that it is "
            "complete and in the format its extension says, or save the weights with "
            "torch.save(model.state_dict(), 'model.pt') and upload that."
        )
        forget(e)
    if message is not None:
        found = result = None  # noqa: F841  (nothing of the file outlives this)
        raise InputError(message)
    assert result is not None
    return result


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
    found = _from_flat(model, classes, attrs, notes, tensors)
    found.vocab = vocab
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


# -- the vocabulary ------------------------------------------------------------------------------
def _as_vocab(v: Any) -> list[str] | None:
    if isinstance(v, str) and 0 < len(v) <= _MAX_VOCAB:
        return list(v)
    if isinstance(v, list | tuple) and 0 < len(v) <= _MAX_VOCAB:
        if all(isinstance(t, str) and len(t) <= 1000 for t in v):
            return list(v)
        return None
    if isinstance(v, Mapping) and 0 < len(v) <= _MAX_VOCAB:
        items = list(v.items())
        if all(isinstance(k, str) and isinstance(i, int) and not isinstance(i, bool)
               for k, i in items):
            ids = {i: k for k, i in items}
        elif all(isinstance(i, int) and not isinstance(i, bool) and isinstance(k, str)
                 for i, k in items):
            ids = dict(items)
        else:
            return None
        if len(ids) == len(items) and set(ids) == set(range(len(ids))):
            return [ids[i] for i in range(len(ids))]
    return None


def _find_vocab(raw: Any, root: Any, attrs: dict[str, dict[str, Any]],
                notes: list[str]) -> list[str] | None:
    places: list[tuple[str, Mapping[str, Any]]] = []
    for where, obj in (("checkpoint", raw), ("model", root)):
        if isinstance(obj, Mapping):
            places.append((where, obj))
    for path, att in attrs.items():
        places.append((f"model{'.' + path if path else ''}", att))
    for where, obj in places:
        for key in _VOCAB_KEYS:
            if key in obj:
                vocab = _as_vocab(obj[key])
                if vocab is not None:
                    notes.append(f"The vocabulary ({len(vocab):,} tokens) is the {where}'s "
                                 f"{quote(key)}.")
                    return vocab
    return None


# -- picking and building ------------------------------------------------------------------------
def _sizes(state: Mapping[str, Any]) -> tuple[int, int, bool]:
    """(input size, output size, bidirectional) from the shapes alone."""
    w = shape_of(state.get("weight_ih_l0"))
    layers = [int(k[len("weight_hh_l"):]) for k in state
              if k.startswith("weight_hh_l") and k[len("weight_hh_l"):].isdigit()]
    last = f"weight_hh_l{max(layers)}" if layers else "weight_hh_l0"
    hh = shape_of(state.get(last))
    bi = any(k.endswith("_reverse") for k in state)
    inp = int(w[1]) if len(w) == 2 else -1
    out = int(hh[1]) * (2 if bi else 1) if len(hh) == 2 else -1
    return inp, out, bi


def _shown(path: str) -> str:
    return quote(path, NAME_LIMIT) if path else "(the file's top level)"


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
    # the modules' descriptions only: the picked weights live in `rec`, the others are let go
    described = [RecurrentModule(m.path, m.variant, {}, m.cell, m.batch_first) for m in modules]
    contents = FileContents(described, embedding, vocab, head, tensors, notes)
    return ModelFile(rec, candidates, module.path, embedding, vocab, head, notes, tensors,
                     fits, contents)


def _blocks(state: Mapping[str, Any]) -> int:
    """Gate blocks of a module (rows of weight_ih_l0 over its hidden size)."""
    rows = shape_of(state.get("weight_ih_l0"))
    hr = shape_of(state.get("weight_hr_l0"))
    hh = shape_of(state.get("weight_hh_l0"))
    hidden = hr[1] if len(hr) == 2 else hh[1] if len(hh) == 2 else 0
    return rows[0] // hidden if len(rows) == 2 and hidden else -1


def _stack(label: str, modules: list[RecurrentModule], pick: str) -> RecurrentModule:
    """``pick="lstm1+lstm2"``: single-direction modules of one kind whose sizes chain, as one
    multi-layer module (layer k of each renumbered after the layers before it)."""
    by_path = {m.path: m for m in modules}
    names = pick.split("+")
    missing = [n for n in names if n not in by_path]
    if missing or len(names) < 2 or len(set(names)) != len(names):
        listed = ", ".join(_shown(m.path) for m in modules[:8])
        raise InputError(
            f"{label} has no recurrent modules {quote(pick, NAME_LIMIT)} to stack: name two or "
            f"more of {listed} joined by '+', in the order they run."
        )
    parts = [by_path[n] for n in names]
    kinds = {m.variant for m in parts if m.variant is not None}
    if len(kinds) > 1 or len({_blocks(m.state) for m in parts}) > 1:
        raise InputError(
            f"Modules {quote(pick, NAME_LIMIT)} are different kinds of recurrent layer, so they "
            "cannot run as one stack: pick them one at a time."
        )
    outs = [_sizes(m.state)[1] for m in parts]
    if len(set(outs)) > 1:
        raise InputError(
            f"Modules {quote(pick, NAME_LIMIT)} have different hidden sizes "
            f"({', '.join(map(str, outs))}), and one stacked module has one hidden size: pick "
            "the modules one at a time."
        )
    state: dict[str, Any] = {}
    offset = 0
    previous_out = None
    for m in parts:
        inp, out, bi = _sizes(m.state)
        if bi:
            raise InputError(
                f"Module {_shown(m.path)} is bidirectional, so {quote(pick, NAME_LIMIT)} cannot "
                "run as one stack: pick the modules one at a time."
            )
        if previous_out is not None and inp != previous_out:
            raise InputError(
                f"Module {_shown(m.path)} takes {inp} inputs but the module before it gives "
                f"{previous_out}, so {quote(pick, NAME_LIMIT)} cannot run as one stack: pick the "
                "modules one at a time."
            )
        previous_out = out
        layers = 0
        for key, value in m.state.items():
            kind, _, k = key.rpartition("_l")
            state[f"{kind}_l{offset + int(k)}"] = value
            layers = max(layers, int(k) + 1)
        offset += layers
    return RecurrentModule(pick, kinds.pop() if kinds else None, state, cell=False,
                           batch_first=parts[0].batch_first)


def _fixed_extras(fixed: FileContents, parts: list[RecurrentModule], modules: list[RecurrentModule],
                  cfg: dict[str, Any], out_size: int, notes: list[str]) -> tuple[Any, Any]:
    emb = fixed.embedding
    feeds = parts[0] is modules[0] and np.shape(emb)[1:] == (cfg["input_size"],)
    if emb is not None and not feeds:
        notes.append("The file's embedding does not feed the picked module: it was left out.")
        emb = None
    head = fixed.head
    if head is not None and (parts[-1] is not modules[-1] or np.shape(head[0])[1:] != (out_size,)):
        notes.append("The file's head does not read the picked module's output: it was left out.")
        head = None
    return emb, head


def _prefer(name: str, words: tuple[str, ...]) -> int:
    low = name.lower()
    parts = re.split(r"[._]", low)
    return 0 if any(w in parts for w in words) else 1 if any(w in low for w in words) else 2


def _extras(found: _Found, first: bool, last: bool, input_size: int, out_size: int,
            tensors: dict[str, str], notes: list[str]) -> tuple[Any, Any]:
    """The embedding feeding the picked module and the linear head reading its output, from
    the tensors outside the recurrent modules. Only the file's first recurrent module (``first``)
    takes an embedding and only its last (``last``) a head: a layer between two recurrent modules
    of the same width would otherwise be read as the first one's head."""
    others = found.others
    for name in list(others)[:_MAX_LISTED]:
        tensors.setdefault(name, "ignored: not a recurrent, embedding or head weight")

    def path_of(name: str) -> str:
        return name[: -len(".weight")] if name.endswith(".weight") else ""

    embedding = None
    choices = []
    for name, v in others.items():
        path = path_of(name)
        s = shape_of(v)
        if not path or len(s) != 2 or s[1] != input_size or not first:
            continue
        cls = found.classes.get(path, "")
        low = path.lower()
        if cls.endswith("Embedding"):
            rank = 0
        elif "embed" in low:
            rank = 1
        elif low.rsplit(".", 1)[-1] in ("encoder", "emb", "wte", "tok_embeddings", "lookup"):
            rank = 2
        else:
            continue
        choices.append((rank, name))
    if choices:
        name = min(choices)[1]
        embedding = _to_float_array(name, others[name])
        tensors[name] = "embedding"
        notes.append(
            f"Embedding {quote(name, NAME_LIMIT)} ({embedding.shape[0]:,} × {embedding.shape[1]}) "
            "feeds the recurrent module: inputs are token ids."
        )
    head = None
    choices = []
    for i, (name, v) in enumerate(others.items()):
        path = path_of(name)
        s = shape_of(v)
        if not path or len(s) != 2 or s[1] != out_size or tensors.get(name) == "embedding":
            continue
        cls = found.classes.get(path, "")
        if cls and not cls.endswith("Linear"):
            continue
        choices.append((_prefer(path, _HEAD_WORDS), i, name))
    if choices and not last:
        for _, _, name in choices:
            tensors[name] = "ignored: could read the picked module, but another follows it"
        notes.append(
            f"{quote(path_of(min(choices)[2]), NAME_LIMIT)} could read the picked module's output, "
            "but another recurrent module follows it in the file: no head is used (pick the last "
            "module to use it)."
        )
    elif choices:
        _, _, name = min(choices)
        path = path_of(name)
        w = _to_float_array(name, others[name])
        bias_name = f"{path}.bias"
        b = None
        if bias_name in others and shape_of(others[bias_name]) == (w.shape[0],):
            b = _to_float_array(bias_name, others[bias_name])
            tensors[bias_name] = "head"
        tensors[name] = "head"
        head = (w, b)
        notes.append(
            f"Linear head {quote(path, NAME_LIMIT)} ({w.shape[0]:,} outputs"
            f"{', with bias' if b is not None else ', no bias'}) reads the recurrent output."
        )
        for _, _, other in choices:
            if other != name:
                tensors[other] = "ignored: another layer that could read the output"
    left = [k for k in others if tensors.get(k, "").startswith("ignored")]
    if left:
        shown = ", ".join(quote(k, 40) for k in left[:4])
        more = f" and {len(left) - 4:,} more" if len(left) > 4 else ""
        notes.append(
            f"Left out (not recurrent, embedding or head): {shown}{more}."
        )
    return embedding, head
