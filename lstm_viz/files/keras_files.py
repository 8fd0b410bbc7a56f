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
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import NAME_LIMIT, check_size, out_of_range, quote
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.model_config import (
    MAX_ABS_WEIGHT,
    MAX_FILE_ELEMENTS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_PARAMS,
    MAX_UNPACKED_BYTES,
)
from lstm_viz.files.weight_checks import COMPRESSED_RATIO_LIMIT, COMPRESSED_SIZE_FLOOR

__all__ = ["read_keras"]

_SAVE = "save the whole model with model.save('model.keras') and upload that"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_CONFIG_BYTES = 8 * 1024 * 1024
# Weight groups nest 4-6 deep (layers/bidirectional/forward_layer/cell/vars); 32 is far beyond.
_MAX_DEPTH = 32

_RECURRENT = {"LSTM": "vanilla", "GRU": "gru", "SimpleRNN": "rnn"}
_BLOCKS = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
# Identity at inference: the data passes through them unchanged.
_PASS = {"InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
         "AlphaDropout", "ActivityRegularization"}
_HEAD_ACTIVATIONS = ("linear", "softmax")
LAMBDA_NOTE = "ignored: a Lambda layer (its Python is never run)"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB"


def _snake(name: str) -> str:
    """Keras 3's naming.to_snake_case: the name of a layer's group in model.weights.h5."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ---------------------------------------------------------------------------------------------
# The container: the configuration JSON and an open h5py file.


def _unzip(label: str, data: bytes) -> tuple[bytes, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = {info.filename: info for info in zf.infolist()}
    except Exception:
        raise InputError(
            f"{label} is not a readable .keras archive (a zip file): {_SAVE}."
        ) from None
    total = 0
    for info in infos.values():
        total += info.file_size
        if (info.compress_type != zipfile.ZIP_STORED and info.file_size > COMPRESSED_SIZE_FLOOR
                and info.file_size > COMPRESSED_RATIO_LIMIT * max(1, info.compress_size)):
            raise InputError(
                f"{label} holds a compressed member that unpacks from {_mb(info.compress_size)} "
                f"to {_mb(info.file_size)}, more than {COMPRESSED_RATIO_LIMIT} times its size, "
                f"which no saved model does: {_SAVE}."
            )
    if total > MAX_UNPACKED_BYTES:
        raise InputError(
            f"{label} unpacks to {_mb(total)}, more than the {_mb(MAX_UNPACKED_BYTES)} allowed: "
            "upload a smaller model."
        )
    for need in ("config.json", "model.weights.h5"):
        if need not in infos:
            raise InputError(
                f"{label} has no {need}, which every .keras file holds: {_SAVE} (Keras 3)."
            )
    if infos["config.json"].file_size > _MAX_CONFIG_BYTES:
        raise InputError(
            f"{label} has a config.json of {_mb(infos['config.json'].file_size)}, far more than "
            "any model's configuration: upload a smaller model."
        )
    try:
        return zf.read("config.json"), zf.read("model.weights.h5")
    except Exception:
        raise InputError(f"{label} is damaged (a member cannot be unpacked): {_SAVE}.") from None


def _parse_config(label: str, raw: bytes | str) -> dict[str, Any]:
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError):
        raise InputError(f"{label} has a model configuration that is not valid JSON: {_SAVE}.") \
            from None
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise InputError(f"{label} has a model configuration without layers: {_SAVE}.")
    return config


def _open_h5(label: str, data: bytes) -> Any:
    import h5py

    try:
        return h5py.File(io.BytesIO(data), "r")
    except Exception:
        raise InputError(f"{label} is not a readable HDF5 file: {_SAVE}.") from None


def _datasets(label: str, group: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Every dataset under `group` in saving order (forward before backward, vars/0, vars/1, ...).

    Links to other files and datasets whose data lies in other files are refused: no path the
    file names is ever opened. Soft links are not followed.
    """
    import h5py

    def order(name: str) -> tuple[int, int, str]:
        rank = 0 if name.startswith("forward") else 1 if name.startswith("backward") else 0
        return (rank, int(name) if name.isdigit() else -1, name)

    if depth > _MAX_DEPTH:
        raise InputError(
            f"{label} nests its weight groups more than {_MAX_DEPTH} deep, which no saved model "
            f"does: {_SAVE}."
        )
    out: list[tuple[str, Any]] = []
    for name in sorted(group.keys(), key=order):
        link = group.get(name, getlink=True)
        path = f"{prefix}{name}"
        if isinstance(link, h5py.ExternalLink):
            raise InputError(
                f"{label} links {quote(path, NAME_LIMIT)} to another file, which is never "
                f"opened: {_SAVE}."
            )
        if isinstance(link, h5py.SoftLink):
            continue
        item = group[name]
        if isinstance(item, h5py.Group):
            out.extend(_datasets(label, item, path + "/", depth + 1))
        elif isinstance(item, h5py.Dataset):
            if item.external or item.is_virtual:
                raise InputError(
                    f"{label} keeps the data of {quote(path, NAME_LIMIT)} in another file, which "
                    f"is never opened: {_SAVE}."
                )
            out.append((path, item))
    return out


# ---------------------------------------------------------------------------------------------
# Layers: the configuration as a flat list, and the weights of each layer.


class _Layer:
    def __init__(self, entry: dict[str, Any], weights: list[tuple[str, Any]]):
        self.cls = str(entry.get("class_name", ""))
        self.config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        self.name = str(self.config.get("name") or entry.get("name") or _snake(self.cls))
        self.weights = weights  # (path in the file, h5py dataset), in saving order

    @property
    def label(self) -> str:
        return f"{self.cls} layer {quote(self.name, NAME_LIMIT)}"


def _layer_entries(label: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    kind = config.get("class_name")
    layers = config["config"].get("layers")
    if kind not in ("Sequential", "Functional", "Model") or not isinstance(layers, list):
        raise InputError(
            f"{label} holds a {quote(str(kind), NAME_LIMIT)} model, which is not read (only "
            "Sequential and functional models are): build the model with keras.Sequential or "
            "keras.Model(inputs, outputs)."
        )
    entries = [e for e in layers if isinstance(e, dict)]
    if not entries:
        raise InputError(f"{label} holds a model without layers: {_SAVE}.")
    return entries


def _layers_keras3(label: str, config: dict[str, Any], h5: Any) -> list[_Layer]:
    root = h5.get("layers")
    used: dict[str, int] = {}
    out = []
    for entry in _layer_entries(label, config):
        name = _snake(str(entry.get("class_name", "")))
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        weights: list[tuple[str, Any]] = []
        if root is not None and name in root:
            weights = _datasets(label, root[name], f"layers/{name}/")
        out.append(_Layer(entry, weights))
    return out


def _layers_legacy(label: str, config: dict[str, Any], h5: Any) -> list[_Layer]:
    root = h5["model_weights"] if "model_weights" in h5 else h5
    out = []
    for entry in _layer_entries(label, config):
        layer = _Layer(entry, [])
        if layer.name in root:
            group = root[layer.name]
            found = dict(_datasets(label, group))
            names = group.attrs.get("weight_names", [])
            for raw in names:
                wname = raw.decode() if isinstance(raw, bytes) else str(raw)
                if wname not in found:
                    raise InputError(
                        f"{label} names weight {quote(wname, NAME_LIMIT)} of {layer.label} but "
                        f"does not hold it: {_SAVE}."
                    )
                layer.weights.append((f"model_weights/{layer.name}/{wname}", found[wname]))
        out.append(layer)
    return out


def _check_sizes(label: str, layers: list[_Layer]) -> None:
    """Refuse a file over the element limit, from the datasets' shapes alone."""
    total = 0
    for layer in layers:
        for _, ds in layer.weights:
            total += int(np.prod(ds.shape, dtype=np.int64)) if ds.shape else 1
    if total > MAX_FILE_ELEMENTS:
        raise InputError(
            f"{label} holds {total:,} weights, more than the {MAX_FILE_ELEMENTS:,} a model may "
            "have here: upload a smaller model."
        )


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
    bad = out_of_range(values, MAX_ABS_WEIGHT)
    if bad is not None:
        what = "a non-finite value" if not bad.finite else f"the value {bad.value:g}"
        raise InputError(
            f"{label}: weight {quote(path, NAME_LIMIT)} holds {what} at {bad.index} (beyond the "
            f"±{MAX_ABS_WEIGHT:g} limit for weights): upload trained, finite weights."
        )
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
    if params > MAX_PARAMS:
        raise InputError(
            f"{label}: {layer.label} ({input_size:,} inputs, {units:,} units) has {params:,} "
            f"parameters, more than the {MAX_PARAMS:,} allowed (each step must stay quick to "
            "compute): upload a smaller model."
        )
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


def _dense_of(layer: _Layer) -> tuple[dict[str, Any], bool] | None:
    """The Dense configuration of a Dense or TimeDistributed(Dense) layer, else None."""
    if layer.cls == "Dense":
        return layer.config, False
    if layer.cls == "TimeDistributed":
        inner = layer.config.get("layer")
        if isinstance(inner, dict) and inner.get("class_name") == "Dense" and isinstance(
                inner.get("config"), dict):
            return inner["config"], True
    return None


def _inbound(entry: dict[str, Any]) -> list[str]:
    """The names of the layers a functional model's layer is called on (Keras 3 and Keras 2)."""
    out: list[str] = []

    def walk(v: Any, depth: int) -> None:
        if depth > 16:
            return
        if isinstance(v, dict):
            history = v.get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                out.append(history[0])
            elif "args" in v:  # a Keras 3 node: its positional inputs (not a mask kwarg)
                walk(v["args"], depth + 1)
            else:
                for x in v.values():
                    walk(x, depth + 1)
        elif isinstance(v, list):
            if len(v) >= 3 and isinstance(v[0], str) and isinstance(v[1], int):  # Keras 2
                out.append(v[0])
            else:
                for x in v:
                    walk(x, depth + 1)

    walk(entry.get("inbound_nodes", []), 0)
    return out


def _links(config: dict[str, Any], layers: list[_Layer]) -> dict[int, int]:
    """Layer index -> the index of the one layer it reads (layers with several inputs, or none,
    are left out): the previous layer in a Sequential model, the inbound one in a functional."""
    if config.get("class_name") == "Sequential":
        return {i: i - 1 for i in range(1, len(layers))}
    index = {lay.name: i for i, lay in enumerate(layers)}
    entries = _layer_entries("", config)
    out = {}
    for i, entry in enumerate(entries[:len(layers)]):
        names = set(_inbound(entry))
        if len(names) == 1:
            j = index.get(names.pop())
            if j is not None and j != i:
                out[i] = j
    return out


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
