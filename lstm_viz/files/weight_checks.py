"""Bounds on an uploaded weights file, checked before anything big is allocated.

`lstm_viz.files.weights.load_state_dict_file` calls these. Each one raises `InputError` with one
sentence, or returns quietly; the limits are passed in (they live in `lstm_viz.files.model_config`).

- `check_torch_zip`: a torch.save zip archive, from its directory alone: TorchScript archives
  (torch.jit.save) and compressed members that unpack far beyond the upload (torch writes its
  storages uncompressed, so a DEFLATE member that grows 100-fold is a bomb, not a state_dict).
- `check_tensor_layout`: one loaded torch tensor, from its metadata alone (no element is read):
  sparse tensors, stride-0 (expanded) or overlapping views and views larger than their storage
  all cost far more memory than the file's bytes once copied, so they are refused.
- `safetensors_header`: the JSON header of a .safetensors file, read without loading a tensor.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any

from lstm_viz.errors import InputError

__all__ = [
    "COMPRESSED_RATIO_LIMIT",
    "COMPRESSED_SIZE_FLOOR",
    "check_torch_zip",
    "check_tensor_layout",
    "safetensors_header",
]

# A compressed zip member bigger than this (unpacked) may not unpack to more than
# COMPRESSED_RATIO_LIMIT times its stored size. Real weights compress by 1.1-2x (zeros and
# pruned weights by more), so 100x is never a state_dict; torch itself stores members uncompressed.
COMPRESSED_SIZE_FLOOR = 4 * 1024 * 1024
COMPRESSED_RATIO_LIMIT = 100

_SAVE_STATE = "save its state_dict with torch.save(model.state_dict(), 'model.pt') and upload that"


def _mb(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024)):,} KB"
    return f"{n / (1024 * 1024):,.0f} MB" if n >= 10 * 1024 * 1024 else f"{n / 1024**2:.2g} MB"


def check_torch_zip(label: str, data: bytes, *, max_unpacked_bytes: int) -> None:
    """Refuse a torch zip archive that is TorchScript or would unpack beyond the limits.

    `label` is the file's (already shortened) name as messages show it. A file that is not a
    zip archive, or whose directory cannot be read, passes: torch.load reports those.
    """
    if not data.startswith(b"PK\x03\x04"):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except Exception:
        return  # torch.load says "damaged"
    for info in infos:
        parts = info.filename.split("/")
        if len(parts) >= 2 and (parts[1] == "code" or parts[1] == "constants.pkl"):
            raise InputError(
                f"{label} holds a whole saved model (TorchScript, torch.jit.save), which is never "
                f"run: {_SAVE_STATE}."
            )
    total = 0
    for info in infos:
        total += info.file_size
        compressed = info.compress_type != zipfile.ZIP_STORED
        if (
            compressed
            and info.file_size > COMPRESSED_SIZE_FLOOR
            and info.file_size > COMPRESSED_RATIO_LIMIT * max(1, info.compress_size)
        ):
            raise InputError(
                f"{label} holds a compressed member that unpacks from {_mb(info.compress_size)} "
                f"to {_mb(info.file_size)}, more than {COMPRESSED_RATIO_LIMIT} times its size, "
                f"which no saved weights do: {_SAVE_STATE}."
            )
    if total > max_unpacked_bytes:
        raise InputError(
            f"{label} unpacks to {_mb(total)}, more than the {_mb(max_unpacked_bytes)} allowed: "
            "upload a smaller model."
        )


def check_tensor_layout(label: str, tensor: Any, *, max_elements: int) -> None:
    """Refuse a torch tensor whose copy would cost more than its stored bytes, from metadata.

    `label` is the tensor's (already shortened) name as messages show it. Reads only the layout,
    shape, strides and storage size: nothing is copied or densified.
    """
    import torch

    if tensor.layout != torch.strided:
        raise InputError(
            f"Tensor {label} is stored as a sparse tensor ({str(tensor.layout).split('.')[-1]}), "
            "which is not read: save dense weights (t.to_dense()) in the state_dict."
        )
    shape = tuple(int(s) for s in tensor.shape)
    numel = 1
    for s in shape:
        numel *= s
    if numel == 0:
        return
    strides = tuple(int(s) for s in tensor.stride())
    expand = "save t.contiguous() (or t.clone()) instead of the view"
    if any(st == 0 and sz > 1 for sz, st in zip(shape, strides, strict=True)):
        raise InputError(
            f"Tensor {label} is an expanded view (a stride of 0 repeats one stored value "
            f"{numel:,} times): {expand}."
        )
    # Non-overlapping: with the dims sorted by stride, each stride must step past every element
    # the smaller ones reach.
    reach = 0
    for sz, st in sorted(
        ((sz, abs(st)) for sz, st in zip(shape, strides, strict=True) if sz > 1),
        key=lambda p: p[1],
    ):
        if st <= reach:
            raise InputError(
                f"Tensor {label} is a view whose elements overlap in memory (strides "
                f"{strides[:8]}), so it holds far fewer values than it shows: {expand}."
            )
        reach += st * (sz - 1)
    need = (int(tensor.storage_offset()) + reach + 1) * tensor.element_size()
    have = tensor.untyped_storage().nbytes()
    if need > have or any(st < 0 for st in strides):
        raise InputError(
            f"Tensor {label} is a view reaching past its stored data ({need:,} bytes needed, "
            f"{have:,} stored): {expand}."
        )
    if numel > max_elements:
        raise InputError(
            f"Tensor {label} has {numel:,} values, more than the {max_elements:,} a model may "
            "have here: upload a smaller model."
        )


def safetensors_header(data: bytes) -> dict[str, Any] | None:
    """The JSON header of a .safetensors file (8-byte little-endian length, then JSON), or None
    when it cannot be read (the safetensors parser then says what is wrong)."""
    if len(data) < 8:
        return None
    (n,) = struct.unpack("<Q", bytes(data[:8]))
    if n > len(data) - 8:
        return None
    try:
        header = json.loads(bytes(data[8 : 8 + n]))
    except Exception:
        return None
    return header if isinstance(header, dict) else None
