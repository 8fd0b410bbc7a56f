"""Keras models (`.keras` zip and legacy `.h5`) read as data: the recurrent layers, converted to
torch's layout (SPEC §2), with the embedding that feeds them and the dense head that reads them.

Nothing of Keras is imported and no model is deserialized: the configuration is JSON read as data
and the weights are HDF5 datasets read with h5py from memory. A Lambda layer's code is never run.

Conversion (Keras stores kernels as (inputs, blocks·units), gate blocks side by side):

- LSTM, gates i, f, c, o (torch's i, f, g, o, same order): weight_ih = kernel.T,
  weight_hh = recurrent_kernel.T, bias_ih = bias, bias_hh = 0.
- GRU (reset_after=True), gates z, r, h -> torch r, z, n: the blocks are swapped, bias (2, 3·units)
  is [input bias; recurrent bias] -> bias_ih, bias_hh.
- SimpleRNN (tanh) -> "rnn"; Bidirectional -> the `_reverse` tensors of the same module.

Stacked recurrent layers are kept as separate modules (one candidate each, by layer name). What
feeds and reads them follows the model's links (the previous layer in a Sequential model, the
inbound layer in a functional one): an Embedding read through identity layers (Dropout, ...) is
the embedding, the one Dense (or TimeDistributed(Dense)) reading the last recurrent layer the head.
The container, the layer list and the links are read in `keras_config`.
"""


from __future__ import annotations

from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import NAME_LIMIT, check_size, quote
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.keras_config import (
    _SAVE,
    _check_sizes,
    _dense_of,
    _Layer,
    _layers_keras3,
    _layers_legacy,
    _links,
    _open_h5,
    _parse_config,
    _unzip,
)
from lstm_viz.files.model_config import (
    MAX_HIDDEN,
    MAX_LAYERS,
    check_param_count,
    check_weights,
)

__all__ = ["read_keras"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

_RECURRENT = {"LSTM": "vanilla", "GRU": "gru", "SimpleRNN": "rnn"}
_BLOCKS = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
# Identity at inference: the data passes through them unchanged.
_PASS = {"InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
         "AlphaDropout", "ActivityRegularization"}
_HEAD_ACTIVATIONS = ("linear", "softmax")
LAMBDA_NOTE = "ignored: a Lambda layer (its Python is never run)"


def _read(label: str, path: str, ds: Any, shape: tuple[int, ...]) -> np.ndarray:
    if tuple(ds.shape) != shape:
        raise InputError(
            f"{label}: weight {quote(path, NAME_LIMIT)} has shape {tuple(ds.shape)}, but the "
            f"layer's configuration implies {shape}: {_SAVE}."
        )
    if ds.dtype.kind != "f":
        raise InputError(
            f"{label}: weight {quote(path, NAME_LIMIT)} is stored as {ds.dtype}, not floating "
            f"point: {_SAVE}."
        )
    try:
        values = np.asarray(ds[()], dtype=np.float32)
    except Exception:
        raise InputError(
            f"{label}: weight {quote(path, NAME_LIMIT)} cannot be read (damaged, or stored with "
            f"a filter h5py lacks): {_SAVE}."
        ) from None
    check_weights(values, f"{label}: weight {quote(path, NAME_LIMIT)}")
    return values


# ---------------------------------------------------------------------------------------------
# Recurrent layers.


def _activation(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a serialized function or object
        inner = value.get("config")
        return str(value.get("class_name") if not isinstance(inner, str) else inner)
    return str(value)


def _check_cell(label: str, layer: _Layer, cfg: dict[str, Any]) -> None:
    act = _activation(cfg.get("activation", "tanh"))
    if act != "tanh":
        raise InputError(
            f"{label}: {layer.label} uses activation {act!r}, but the core's cells use tanh: "
            "retrain with the default activation='tanh'."
        )
    if layer.cls != "SimpleRNN":
        rec = _activation(cfg.get("recurrent_activation", "sigmoid"))
        if rec != "sigmoid":
            raise InputError(
                f"{label}: {layer.label} uses recurrent_activation {rec!r}, but the core's gates "
                "use the logistic sigmoid: retrain with recurrent_activation='sigmoid'."
            )
    if layer.cls == "GRU" and not cfg.get("reset_after", True):
        raise InputError(
            f"{label}: {layer.label} has reset_after=False (the reset gate applied before the "
            "recurrent weights), which torch's GRU and the core do not compute: retrain with "
            "reset_after=True (the Keras 3 default)."
        )
    if cfg.get("time_major"):
        raise InputError(
            f"{label}: {layer.label} is time_major, which is not read: save it batch-major "
            "(time_major=False)."
        )


def _convert_cell(label: str, layer: _Layer, cfg: dict[str, Any], cls: str,
                  weights: list[tuple[str, Any]], input_size: int, sfx: str,
                  state: dict[str, np.ndarray], tensors: dict[str, str]) -> None:
    units = int(cfg["units"])
    blocks = _BLOCKS[cls]
    bias = bool(cfg.get("use_bias", True))
    want = 3 if bias else 2
    if len(weights) != want:
        raise InputError(
            f"{label}: {layer.label} holds {len(weights)} weights per direction, but "
            f"{'kernel, recurrent_kernel and bias' if bias else 'kernel and recurrent_kernel'} "
            f"({want}) are expected: {_SAVE}."
        )
    (kpath, kds), (rpath, rds) = weights[0], weights[1]
    kernel = _read(label, kpath, kds, (input_size, blocks * units))
    rec = _read(label, rpath, rds, (units, blocks * units))
    b_ih = b_hh = None
    if bias:
        bpath, bds = weights[2]
        if cls == "GRU":
            if tuple(bds.shape) == (3 * units,):  # one bias: Keras < 2.1, before reset_after
                raise InputError(
                    f"{label}: {layer.label} has a single bias of {3 * units}, the layout of a "
                    "GRU without reset_after (the reset gate applied before the recurrent "
                    "weights), which torch's GRU and the core do not compute: retrain with "
                    "reset_after=True (the Keras 3 default)."
                )
            b2 = _read(label, bpath, bds, (2, 3 * units))
            b_ih, b_hh = b2[0], b2[1]
        else:
            b_ih = _read(label, bpath, bds, (blocks * units,))
            b_hh = np.zeros_like(b_ih)

    def rows(w: np.ndarray) -> np.ndarray:
        """(in, blocks·units) Keras columns -> torch rows, gate blocks in torch's order."""
        w = np.ascontiguousarray(w.T) if w.ndim == 2 else w.copy()
        if cls == "GRU":  # z, r, h -> r, z, n
            z, r, h = np.split(w, 3, axis=0)
            w = np.concatenate([r, z, h], axis=0)
        return w

    state[f"weight_ih_l0{sfx}"] = rows(kernel)
    state[f"weight_hh_l0{sfx}"] = rows(rec)
    how = {"GRU": "transposed, gate blocks z, r, h reordered to r, z, n",
           "LSTM": "transposed (gates i, f, c, o = torch's i, f, g, o)",
           "SimpleRNN": "transposed"}[cls]
    tensors[kpath] = f"{layer.name}: kernel -> weight_ih_l0{sfx} ({how})"
    tensors[rpath] = f"{layer.name}: recurrent_kernel -> weight_hh_l0{sfx} ({how})"
    if b_ih is not None and b_hh is not None:
        state[f"bias_ih_l0{sfx}"] = rows(b_ih)
        state[f"bias_hh_l0{sfx}"] = rows(b_hh)
        if cls == "GRU":
            tensors[weights[2][0]] = (
                f"{layer.name}: bias [input; recurrent] -> bias_ih_l0{sfx}, bias_hh_l0{sfx} "
                "(z, r, h reordered to r, z, n)"
            )
        else:
            tensors[weights[2][0]] = (
                f"{layer.name}: bias -> bias_ih_l0{sfx} (bias_hh_l0{sfx} = 0)"
            )


def _recurrent(label: str, layer: _Layer, input_size: int | None,
               tensors: dict[str, str]) -> tuple[RecurrentModule, int, list[str]]:
    """One recurrent layer (or Bidirectional wrapper) -> a module, its output size, notes."""
    notes: list[str] = []
    bidirectional = layer.cls == "Bidirectional"
    if bidirectional:
        inner = layer.config.get("layer")
        if not isinstance(inner, dict) or inner.get("class_name") not in _RECURRENT:
            raise InputError(
                f"{label}: {layer.label} wraps a layer the core does not compute (only LSTM, GRU "
                "and SimpleRNN are read)."
            )
        cls = str(inner["class_name"])
        fwd = inner.get("config") if isinstance(inner.get("config"), dict) else {}
        back_entry = layer.config.get("backward_layer")
        bwd = back_entry.get("config") if isinstance(back_entry, dict) else None
        bwd = bwd if isinstance(bwd, dict) else fwd
        merge = layer.config.get("merge_mode", "concat")
        if merge != "concat":
            raise InputError(
                f"{label}: {layer.label} merges its two directions with merge_mode={merge!r}, "
                "but the core concatenates them as torch does: retrain with merge_mode='concat'."
            )
        configs = [fwd, bwd]
    else:
        cls = layer.cls
        configs = [layer.config]
    for cfg in configs:
        _check_cell(label, layer, cfg)
    units = configs[0].get("units")
    if not isinstance(units, int) or units < 1:
        raise InputError(f"{label}: {layer.label} has no valid 'units' in its configuration.")
    if units > MAX_HIDDEN:
        raise InputError(
            f"{label}: {layer.label} has {units:,} units, more than the {MAX_HIDDEN:,} allowed "
            "(each step must stay quick to compute): upload a smaller model."
        )
    if bidirectional:
        if configs[1].get("units") != units or bool(configs[1].get("use_bias", True)) != bool(
                configs[0].get("use_bias", True)) or configs[1].get("reset_after", True) is not \
                configs[0].get("reset_after", True):
            raise InputError(
                f"{label}: {layer.label} has a backward layer unlike its forward one, which the "
                "core cannot compute: use the same layer both ways."
            )
        if configs[0].get("go_backwards"):
            raise InputError(
                f"{label}: {layer.label} runs its forward layer with go_backwards=True, which "
                "the core does not compute: retrain with go_backwards=False."
            )
    elif layer.config.get("go_backwards"):
        raise InputError(
            f"{label}: {layer.label} reads the sequence backwards (go_backwards=True) on its own, "
            "which the core does not compute: wrap it in Bidirectional or retrain with "
            "go_backwards=False."
        )
    ndir = 2 if bidirectional else 1
    weights = layer.weights
    if not weights or len(weights) % ndir:
        raise InputError(
            f"{label}: {layer.label} has no weights in the file (was the model built?): {_SAVE}."
        )
    if input_size is None:  # the kernel's first dimension
        input_size = int(weights[0][1].shape[0]) if len(weights[0][1].shape) == 2 else 0
    blocks = _BLOCKS[cls]
    params = ndir * blocks * units * (input_size + units + 2)
    check_param_count(params, f"{label}: {layer.label} ({input_size:,} inputs, {units:,} units)")
    state: dict[str, np.ndarray] = {}
    half = len(weights) // ndir
    for d in range(ndir):
        _convert_cell(label, layer, configs[d], cls, weights[d * half:(d + 1) * half],
                      input_size, "_reverse" if d else "", state, tensors)
    module = RecurrentModule(path=layer.name, variant=_RECURRENT[cls], state=state,
                             batch_first=True)
    if configs[0].get("stateful"):
        notes.append(f"{layer.label} is stateful in Keras; here every sequence starts from zeros.")
    if bidirectional and not configs[0].get("return_sequences", False):
        notes.append(
            f"{layer.label} returns one vector, [forward state after the last step, backward "
            "state after the first], which is h_n of both directions (not the last step's output)."
        )
    return module, units * ndir, notes


# ---------------------------------------------------------------------------------------------
# The pipeline: embedding -> recurrent layers -> head.


def read_keras(filename: str, data: bytes) -> FileContents:
    """Read a Keras `.keras` or legacy `.h5` model into `FileContents` (torch layout)."""
    check_size(data)
    data = bytes(data)
    label = quote(filename, NAME_LIMIT)
    if data.startswith(b"PK\x03\x04"):
        raw_config, h5_bytes = _unzip(label, data)
        config = _parse_config(label, raw_config)
        h5 = _open_h5(label, h5_bytes)
        legacy = False
    elif data.startswith(_HDF5_MAGIC):
        h5 = _open_h5(label, data)
        raw = h5.attrs.get("model_config")
        if raw is None:
            h5.close()
            raise InputError(
                f"{label} holds weights only, without the model's configuration (saved with "
                f"save_weights): {_SAVE}."
            )
        config = _parse_config(label, raw.decode() if isinstance(raw, bytes) else str(raw))
        legacy = True
    else:
        raise InputError(f"{label} is neither a .keras archive nor an HDF5 (.h5) model: {_SAVE}.")
    try:
        return _read_layers(label, config, h5, legacy)
    except InputError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError,
            RecursionError):
        # a configuration value of the wrong type, or an HDF5 structure h5py cannot walk
        raise InputError(
            f"{label} has a malformed configuration or weights file (a value of an unexpected "
            f"type): {_SAVE}."
        ) from None
    finally:
        h5.close()


def _read_layers(label: str, config: dict[str, Any], h5: Any, legacy: bool) -> FileContents:
    layers = (_layers_legacy if legacy else _layers_keras3)(label, config, h5)
    _check_sizes(label, layers)
    notes: list[str] = []
    tensors: dict[str, str] = {}
    rec_idx = [i for i, lay in enumerate(layers)
               if lay.cls in _RECURRENT or lay.cls == "Bidirectional"]
    if not rec_idx:
        raise InputError(
            f"{label} has no LSTM, GRU or SimpleRNN layer (nor a Bidirectional one): upload a "
            "model with a recurrent layer."
        )
    if len(rec_idx) > MAX_LAYERS:
        raise InputError(
            f"{label} has {len(rec_idx)} recurrent layers, more than the {MAX_LAYERS} allowed: "
            f"upload a model with at most {MAX_LAYERS}."
        )
    first, last = rec_idx[0], rec_idx[-1]
    prev_of = _links(config, layers)

    def walk_back(i: int) -> tuple[int | None, list[int]]:
        """From layer i back through identities and Lambdas: the layer reached, the ones passed."""
        passed: list[int] = []
        j = prev_of.get(i)
        while j is not None and len(passed) < len(layers):
            if layers[j].cls not in _PASS and layers[j].cls != "Lambda":
                return j, passed
            passed.append(j)
            j = prev_of.get(j)
        return None, passed

    def refuse_lambdas(passed: list[int]) -> None:
        for j in passed:
            if layers[j].cls == "Lambda":
                raise InputError(
                    f"{label}: the data passes through {layers[j].label}, whose Python code is "
                    "never run, so the core cannot reproduce the model: remove the Lambda layer "
                    "or replace it with a built-in one."
                )

    # the embedding: the Embedding the first recurrent layer reads, through identities
    embedding = None
    emb_at, passed = walk_back(first)
    if emb_at is not None and layers[emb_at].cls != "Embedding":
        emb_at = None
    if emb_at is not None:
        refuse_lambdas(passed)
    # the head: the one Dense that reads the last recurrent layer, through identities
    head_at = None
    at, seen = last, 0
    while seen < len(layers):
        readers = [j for j, p in prev_of.items() if p == at]
        if len(readers) != 1:
            break
        j = readers[0]
        if _dense_of(layers[j]) is not None:
            head_at = j
            refuse_lambdas(walk_back(j)[1])
            break
        if layers[j].cls not in _PASS and layers[j].cls != "Lambda":
            break
        at, seen = j, seen + 1
    # between stacked recurrent layers
    chained: dict[int, bool] = {}
    for k in range(1, len(rec_idx)):
        reached, passed = walk_back(rec_idx[k])
        if reached == rec_idx[k - 1]:
            refuse_lambdas(passed)
            chained[rec_idx[k]] = True
    for lay in layers:
        if lay.cls == "Lambda":
            notes.append(f"{lay.label}: {LAMBDA_NOTE}.")

    input_size: int | None = None
    if emb_at is not None:
        lay = layers[emb_at]
        if lay.weights:
            path, ds = lay.weights[0]
            if len(ds.shape) != 2:
                raise InputError(
                    f"{label}: {lay.label} holds a table of shape {ds.shape}, not 2-D: {_SAVE}."
                )
            embedding = _read(label, path, ds, tuple(ds.shape))
            input_size = int(ds.shape[1])
            tensors[path] = f"{lay.name}: embedding table (vocabulary, features) feeding " \
                            f"{layers[first].name}"
            notes.append(
                f"{lay.label} ({ds.shape[0]:,} tokens x {ds.shape[1]} features) feeds "
                f"{layers[first].label}."
            )
            if lay.config.get("mask_zero"):
                notes.append(f"{lay.label} masks token 0 in Keras; here token 0 is an ordinary "
                             "input.")

    modules: list[RecurrentModule] = []
    out_size = 0
    size = input_size
    for i in rec_idx:
        if i != first and not chained.get(i):
            size = None  # fed by something else: take the size from the kernel
        module, out_size, extra = _recurrent(label, layers[i], size, tensors)
        modules.append(module)
        notes.extend(extra)
        size = out_size
    if len(modules) > 1:
        notes.append(
            "Stacked recurrent layers are kept as separate modules ("
            + ", ".join(m.path for m in modules)
            + "): the embedding feeds the first, the head reads the last."
        )

    head = None
    if head_at is not None:
        lay = layers[head_at]
        dcfg, distributed = _dense_of(lay)  # type: ignore[misc]
        act = _activation(dcfg.get("activation", "linear"))
        use_bias = bool(dcfg.get("use_bias", True))
        units = dcfg.get("units")
        if act not in _HEAD_ACTIVATIONS:
            notes.append(
                f"{lay.label} applies activation {act!r}, so it is not used as a linear head."
            )
        elif not isinstance(units, int) or len(lay.weights) != (2 if use_bias else 1):
            notes.append(f"{lay.label} does not hold a kernel and bias as expected: not used.")
        else:
            kpath, kds = lay.weights[0]
            kernel = _read(label, kpath, kds, (out_size, units))
            w = np.ascontiguousarray(kernel.T)
            b = None
            tensors[kpath] = f"{lay.name}: head kernel -> W = kernel.T (outputs, " \
                             f"{modules[-1].path} outputs)"
            if use_bias:
                bpath, bds = lay.weights[1]
                b = _read(label, bpath, bds, (units,))
                tensors[bpath] = f"{lay.name}: head bias"
            head = (w, b)
            what = "TimeDistributed(Dense)" if distributed else "Dense"
            notes.append(
                f"{lay.label} ({what}, {units} outputs) reads {modules[-1].path}'s output as the "
                f"head; its activation is {act!r}"
                + (" (applied after W h + b)." if act == "softmax" else ".")
            )
    for lay in layers:
        for path, _ in lay.weights:
            if path not in tensors:
                tensors[path] = f"{lay.name}: not used ({lay.cls})"
    return FileContents(recurrent=modules, embedding=embedding, vocab=None, head=head,
                        tensors=tensors, notes=notes)
