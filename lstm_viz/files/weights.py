"""Model weights from uploaded bytes: .pt / .pth (a state_dict), .safetensors, .npz.

Everything here treats its input as hostile: pickles are never run (`allow_pickle=False`,
`torch.load(..., weights_only=True)`), sizes are checked before anything is allocated (the
limits are in `model_config`; the checks on a torch archive and its tensors in `weight_checks`),
and any exception a parser raises comes back as an `InputError` whose message a person can act on.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    NAME_LIMIT,
    SAVE_HINT,
    binary_kind,
    check_size,
    clip,
    file_ext,
    forget,
    mb,
    npy_header,
    one_sentence,
    quote,
    shape_of,
)
from lstm_viz.files.model_config import (
    MAX_FILE_ELEMENTS,
    MAX_PARAM_KEY,
    MAX_PARAMS,
    MAX_UNPACKED_BYTES,
    PARAM_RE,
    check_layer_count,
    check_weights,
    match_anywhere,
)
from lstm_viz.files.torch_pickle import is_stub, load_restricted
from lstm_viz.files.weight_checks import check_tensor_layout, check_torch_zip, safetensors_header

_MAX_NPZ_UNCOMPRESSED = MAX_UNPACKED_BYTES
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")


def load_state_dict_file(filename: str, data: bytes) -> dict[str, np.ndarray]:
    """A .pt/.pth, .safetensors or .npz file -> {torch parameter name: float ndarray}.

    Never runs pickled code. A checkpoint dict that wraps the state_dict under "state_dict",
    "model_state_dict" or "model" is unwrapped; "module." prefixes (DataParallel) are stripped;
    when the state_dict belongs to a bigger model (keys like "lstm.weight_ih_l0", "fc.weight"),
    the one recurrent submodule's tensors are kept, renamed without the prefix, and the rest
    dropped. Arrays come back float64 if stored as float64, else float32.

    Sizes are bounded before anything big is allocated: the archive's unpacked size
    (`MAX_UNPACKED_BYTES`), every array's element count (`MAX_FILE_ELEMENTS` in all, `MAX_PARAMS`
    for the recurrent part) and layer count (`MAX_LAYERS`), and torch tensors' layouts (no
    sparse, expanded or overlapping views). A refused file leaves nothing behind: the error
    carries no traceback into the file's tensors.
    """
    check_size(data)
    ext = file_ext(filename)
    label = "'" + clip(filename.strip().replace("\\", "/").rsplit("/", 1)[-1] or "upload") + "'"

    def read() -> dict[str, np.ndarray]:
        if ext in (".pt", ".pth"):
            raw = _read_torch(label, bytes(data))
        elif ext == ".safetensors":
            raw = _read_safetensors(label, bytes(data))
        elif ext == ".npz":
            raw = _read_npz(label, bytes(data))
        else:
            raise InputError(
                f"{label} is not a supported model file: upload a state_dict as .pt or .pth, "
                "or the weights as .safetensors or .npz."
            )
        entries = _select_recurrent(label, raw)
        del raw
        _check_recurrent_bounds(entries)
        out: dict[str, np.ndarray] = {}
        while entries:  # convert one tensor at a time, dropping each original as it is copied
            key, value = next(iter(entries.items()))
            del entries[key]
            out[key] = _to_float_array(key, value)
            del value
        return out

    return one_sentence(label, read, SAVE_HINT)


def _check_recurrent_bounds(entries: Mapping[str, Any]) -> None:
    """Layer count, each tensor's layout and the total size, before any tensor is copied."""
    check_layer_count(entries)
    total = 0
    for key, value in entries.items():
        if "torch" in sys.modules and isinstance(value, sys.modules["torch"].Tensor):
            check_tensor_layout(quote(key, NAME_LIMIT), value, max_elements=MAX_PARAMS)
        total += int(np.prod(shape_of(value), dtype=np.int64)) if hasattr(value, "shape") else 0
    if total > MAX_PARAMS:
        raise InputError(
            f"The recurrent layers hold {total:,} values, more than the {MAX_PARAMS:,} allowed "
            "(one step must stay quick to compute): upload a smaller model."
        )


def _check_torch_elements(raw: Any) -> None:
    """Every tensor in a loaded torch object: layouts and the total count, before any copy."""
    import torch

    total = 0
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:
        key, obj = stack.pop()
        if isinstance(obj, torch.Tensor):
            check_tensor_layout(quote(key, NAME_LIMIT), obj, max_elements=MAX_FILE_ELEMENTS)
            total += obj.numel()
        elif isinstance(obj, Mapping):
            stack.extend((k if isinstance(k, str) else repr(k)[:80], v) for k, v in obj.items())
        elif isinstance(obj, list | tuple):
            stack.extend((key, v) for v in obj)
        elif is_stub(obj):  # an object of a whole saved model, read without running it
            stack.extend((k, v) for k, v in obj._stub_state.items())
            stack.extend((key, v) for v in obj._stub_items)
        if total > MAX_FILE_ELEMENTS:
            raise InputError(
                f"The file holds more than {MAX_FILE_ELEMENTS:,} values, more than a model may "
                "have here: upload a smaller model (or only its recurrent layer's state_dict)."
            )


def _read_torch(label: str, data: bytes, *, whole_model: bool = False) -> Any:
    """What a torch.save file holds, read with ``weights_only=True``.

    With ``whole_model``, a file that names classes (``torch.save(model)``) is read again by
    `torch_pickle.load_restricted`, every object a `Stub` (nothing of the file is run); the
    result is then a `SavedModel`.
    """
    import pickle

    import torch

    check_torch_zip(label, data, max_unpacked_bytes=MAX_UNPACKED_BYTES)
    message: str | None = None
    restricted = False
    try:
        raw = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        if whole_model and ("GLOBAL" in msg or "global" in msg):
            restricted = True
        elif "torch.nn.modules" in msg or "GLOBAL __main__." in msg:
            message = (
                f"{label} holds a whole saved model (torch.save(model)), which cannot be loaded "
                f"safely: {SAVE_HINT}."
            )
        elif "GLOBAL" in msg or "global" in msg:
            message = (
                f"{label} contains Python objects or code besides tensors, so it was refused for "
                f"safety: {SAVE_HINT}."
            )
        else:
            message = (
                f"{label} is not a readable PyTorch file (it is damaged or not a torch.save file "
                f"of tensors): {SAVE_HINT}."
            )
        forget(e)
    except Exception as e:
        kind = binary_kind(data)
        if data.startswith(b"PK\x03\x04"):
            what = "the zip archive inside is damaged or truncated"
        elif kind is not None and kind != "a Python pickle":
            what = f"it looks like {kind}"
        else:
            what = "it is damaged, truncated or not a torch.save file"
        message = f"{label} is not a readable PyTorch file ({what}): {SAVE_HINT}."
        forget(e)
    if message is not None:
        raise InputError(message)
    if restricted:
        obj, classes = load_restricted(label, data)
        _check_torch_elements(obj)
        return SavedModel(obj, classes)
    _check_torch_elements(raw)
    return raw


class SavedModel:
    """A torch file read by `torch_pickle.load_restricted`: its object (stubs for every class
    instance) and the qualified names of the classes it names."""

    def __init__(self, obj: Any, classes: list[str]) -> None:
        self.obj, self.classes = obj, classes


def _read_safetensors(label: str, data: bytes) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    header = safetensors_header(data)
    if header is not None:  # a header that does not parse is reported by safetensors below
        check_layer_count(header)
        total = 0
        for entry in header.values():
            shape = entry.get("shape") if isinstance(entry, dict) else None
            if isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape):
                total += int(np.prod(shape, dtype=object))
        if total > MAX_FILE_ELEMENTS:
            raise InputError(
                f"{label} declares {total:,} values, more than the {MAX_FILE_ELEMENTS:,} a model "
                "may have here: upload a smaller model."
            )
    try:
        return load(data)
    except KeyError:
        pass  # a dtype numpy lacks (bfloat16): torch can read it
    except Exception as e:
        raise InputError(
            f"{label} is not a valid .safetensors file ({_safetensors_reason(e)}): save it "
            "again with safetensors and upload the complete file."
        ) from None
    import torch  # noqa: F401  (safetensors.torch needs it)
    from safetensors.torch import load as tload

    return tload(data)


def _safetensors_reason(e: Exception) -> str:
    msg = str(e).strip().rstrip(".")
    msg = msg.split(": ", 1)[-1] if msg.startswith("Error while deserializing") else msg
    return msg[:120] or type(e).__name__


def _read_npz(label: str, data: bytes) -> dict[str, np.ndarray]:
    if not data.startswith(b"PK"):
        kind = binary_kind(data)
        what = f"it looks like {kind}" if kind else "it is not a zip archive"
        raise InputError(
            f"{label} is not a NumPy .npz file ({what}): save the weights with "
            "np.savez('model.npz', **state_dict)."
        )
    lying = None
    elements = 0   # every array's values: the float arrays they become are what costs memory
    as_floats = 0  # their bytes as float32 (float64 stays float64)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            check_layer_count([i.filename[:-4] for i in infos if i.filename.endswith(".npy")])
            total = sum(info.file_size for info in infos)
            for info in infos:  # each array's header must fit its member's size
                if total > _MAX_NPZ_UNCOMPRESSED or not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as member:
                    shape, dtype = npy_header(member)
                if shape is None or dtype is None:
                    lying = info.filename[:-4]  # a version-3 header: never written for weights
                    break
                count = int(np.prod(shape, dtype=object))
                if count * dtype.itemsize > info.file_size:
                    lying = info.filename[:-4]
                    break
                elements += count
                as_floats += count * (8 if dtype == np.float64 else 4)
    except InputError:
        raise
    except Exception:
        raise InputError(
            f"{label} is a damaged or truncated .npz (zip) file: save it again with np.savez "
            "and upload the complete file."
        ) from None
    if total > _MAX_NPZ_UNCOMPRESSED:
        raise InputError(
            f"{label} unpacks to {mb(total)}, more than the {mb(_MAX_NPZ_UNCOMPRESSED)} "
            "allowed: upload a smaller model."
        )
    if lying is not None:
        raise InputError(
            f"{label} has a damaged array {quote(lying, NAME_LIMIT)} (its header promises more "
            "data than is stored): save it again with np.savez and upload the complete file."
        )
    if elements > MAX_FILE_ELEMENTS or as_floats > MAX_UNPACKED_BYTES:
        raise InputError(
            f"{label} holds {elements:,} values ({as_floats / 1024**2:,.0f} MB as floats), more "
            f"than the {MAX_FILE_ELEMENTS:,} a model may have here: upload a smaller model."
        )
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                out[key] = npz[key]
    except ValueError as e:
        pickled = "allow_pickle" in str(e) or "Object arrays" in str(e)
        out.clear()
        if pickled:
            raise InputError(
                f"{label} holds Python objects (pickled arrays), which are never loaded for "
                "safety: save only numeric arrays, np.savez('model.npz', **state_dict)."
            ) from None
        raise InputError(
            f"{label} has a damaged array inside: save it again with np.savez and upload the "
            "complete file."
        ) from None
    except Exception:
        out.clear()
        raise InputError(
            f"{label} is a damaged or truncated .npz file: save it again with np.savez and "
            "upload the complete file."
        ) from None
    return out


def _select_recurrent(label: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InputError(
            f"{label} holds a {type(raw).__name__}, not a state_dict (a mapping from names to "
            f"tensors): {SAVE_HINT}."
        )
    entries: Mapping[Any, Any] = raw
    for _ in range(3):  # checkpoint {"state_dict": {...}, "epoch": 3, ...}
        if any(isinstance(k, str) and match_anywhere(k) for k in entries):
            break
        inner = next(
            (entries[k] for k in _WRAPPER_KEYS if isinstance(entries.get(k), Mapping)), None
        )
        if inner is None:
            break
        entries = inner
    if not entries:
        raise InputError(f"{label} holds no tensors: {SAVE_HINT}.")
    bad_key = next((k for k in entries if not isinstance(k, str)), None)
    if bad_key is not None:
        raise InputError(
            f"{label} has a non-text key {clip(repr(bad_key))}, so it is not a state_dict: "
            f"{SAVE_HINT}."
        )
    keys = [k[7:] if k.startswith("module.") else k for k in entries]
    values = list(entries.values())
    prefixes = sorted(
        {m.group(1) for k in keys if (m := match_anywhere(k)) and m.group(1) != ""}
    )
    if any(len(k) <= MAX_PARAM_KEY and PARAM_RE.match(k) for k in keys) or not prefixes:
        return dict(zip(keys, values, strict=True))
    if len(prefixes) > 1:
        listed = ", ".join(quote(p.rstrip("."), NAME_LIMIT) for p in prefixes[:5])
        raise InputError(
            f"{label} holds several recurrent layers ({listed}): save the one to show, for "
            f"example torch.save(model.{clip(prefixes[0].rstrip('.'))}.state_dict(), "
            "'model.pt')."
        )
    prefix = prefixes[0]
    return {k[len(prefix) :]: v for k, v in zip(keys, values, strict=True) if k.startswith(prefix)}


def _to_float_array(key: str, value: Any) -> np.ndarray:
    """One tensor as a float32 (or float64) ndarray: one copy, then checks without temporaries.

    Its size and layout were bounded before (`_check_recurrent_bounds`).
    """
    shown = quote(key, NAME_LIMIT)
    if isinstance(value, np.ndarray):
        arr = value
        if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
            raise InputError(
                f"Tensor {shown} has dtype {arr.dtype}, not real numbers: weights must be floats."
            )
        arr = np.array(arr, dtype=np.float64 if arr.dtype == np.float64 else np.float32, copy=True)
    elif "torch" in sys.modules and isinstance(value, sys.modules["torch"].Tensor):
        import torch

        t = value.detach()
        if t.is_complex():
            raise InputError(f"Tensor {shown} holds complex numbers: weights must be real.")
        if t.layout != torch.strided:  # refused by _check_recurrent_bounds already
            raise InputError(f"Tensor {shown} is sparse: save dense weights (t.to_dense()).")
        want = torch.float64 if t.dtype == torch.float64 else torch.float32
        arr = t.to("cpu").to(want, copy=True).numpy()
    else:
        raise InputError(
            f"Entry {shown} is a {type(value).__name__}, not a tensor: a state_dict maps names to "
            f"tensors only; {SAVE_HINT}."
        )
    if arr.size == 0:
        return arr
    check_weights(arr, f"Tensor {shown}")
    return arr
