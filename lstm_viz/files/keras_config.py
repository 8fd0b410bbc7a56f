"""Keras model files read as data, the first half: the container (a `.keras` zip or a legacy
`.h5`), the configuration JSON as a flat list of layers with the HDF5 datasets each holds, and the
links between layers (which layer reads which). `keras_files` converts the weights.

Links to other files and datasets stored in other files are refused; no path the file names is
ever opened.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import NAME_LIMIT, quote
from lstm_viz.files.model_config import MAX_FILE_ELEMENTS, MAX_UNPACKED_BYTES
from lstm_viz.files.weight_checks import COMPRESSED_RATIO_LIMIT, COMPRESSED_SIZE_FLOOR

_SAVE = "save the whole model with model.save('model.keras') and upload that"
_MAX_CONFIG_BYTES = 8 * 1024 * 1024
# Weight groups nest 4-6 deep (layers/bidirectional/forward_layer/cell/vars); 32 is far beyond.
_MAX_DEPTH = 32


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


# ---------------------------------------------------------------------------------------------
# Links: which layer reads which.


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
