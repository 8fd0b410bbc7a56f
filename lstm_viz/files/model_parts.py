"""What goes with the recurrent module `read_model` picks (the second half of ``model_file``):
the vocabulary a checkpoint keeps, the embedding that feeds the module and the linear head that
reads it, module sizes from the tensor shapes alone, and stacking single-layer modules
(``pick="lstm1+lstm2"``) into one multi-layer module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import NAME_LIMIT, quote, shape_of
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.weights import _to_float_array

_VOCAB_KEYS = ("tokens", "chars", "characters", "vocab", "itos", "int2char", "idx2char",
               "id2token", "char2int", "stoi", "char2idx", "token2id", "vocabulary")
_HEAD_WORDS = ("fc", "linear", "decoder", "head", "out", "classifier", "dense", "proj", "readout")
_MAX_VOCAB = 1_000_000
_MAX_LISTED = 2_000  # tensors listed one by one in ModelFile.tensors



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
    head_labels: list[str] | None = None        # names of the head's outputs (tags, classes)



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


# Names of a classifier head's outputs (a tagger's tags), kept under one of these keys.
_HEAD_LABEL_KEYS = ("tags", "idx2tag", "itos_tags", "tag_vocab", "tag2idx", "tag2id", "labels",
                    "id2label", "label2id", "idx2label", "label2idx", "classes", "class_names",
                    "target_names")


def _find_head_labels(raw: Any, root: Any, attrs: dict[str, dict[str, Any]],
                      notes: list[str]) -> list[str] | None:
    """The names of the head's outputs when the checkpoint or the model keeps them."""
    return _find_vocab(raw, root, attrs, notes, _HEAD_LABEL_KEYS, "names of the head's outputs")


def _find_vocab(raw: Any, root: Any, attrs: dict[str, dict[str, Any]],
                notes: list[str], keys: tuple[str, ...] = _VOCAB_KEYS,
                what: str = "vocabulary") -> list[str] | None:
    places: list[tuple[str, Mapping[str, Any]]] = []
    for where, obj in (("checkpoint", raw), ("model", root)):
        if isinstance(obj, Mapping):
            places.append((where, obj))
    for path, att in attrs.items():
        places.append((f"model{'.' + path if path else ''}", att))
    for where, obj in places:
        for key in keys:
            if key in obj:
                vocab = _as_vocab(obj[key])
                if vocab is not None:
                    notes.append(f"The {what} ({len(vocab):,} tokens) is the {where}'s "
                                 f"{quote(key)}.")
                    return vocab
    return None


# -- sizes, stacking, the embedding and the head --------------------------------------------------
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
