"""A whole saved torch model (``torch.save(model)``) read without running any of its code.

``torch.load(weights_only=True)`` refuses such a file because its pickle names the model's
classes (``model.CharRNN``, ``torch.nn.modules.rnn.LSTM``). Here the archive's ``data.pkl`` is
read again by ``_Reader``, a ``pickle.Unpickler`` whose ``find_class`` hands out only:

- tensor rebuilding (``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter``), done by this
  module's own functions on storages read from the zip's ``data/<key>`` records;
- a few plain containers (``collections.OrderedDict``, ``set``, ``frozenset``) and torch dtypes;
- for every other name, a ``Stub`` class made here, which records its qualified name, the
  arguments it was called with and the state pickle gives it (``__setstate__`` / ``__dict__``).

Nothing from the file is imported or called: a ``__reduce__`` naming ``os.system`` builds a stub
that holds the command as data. ``module_tensors`` walks the stubs' ``_modules`` tree into dotted
tensor names (``lstm.weight_ih_l0``, ``fc.weight``) and the class of every submodule.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from lstm_viz.errors import InputError

__all__ = ["Stub", "is_stub", "load_restricted", "module_tensors", "stub_name"]

# Longest data.pkl read (the upload limit bounds it already; this bounds the pickle's own work).
_MAX_PICKLE_BYTES = 64 * 1024 * 1024
_DEPTH = 64  # deepest module nesting walked
_DTYPES = frozenset(
    "float16 float32 float64 bfloat16 half float double complex64 complex128 uint8 int8 int16 "
    "int32 int64 short int long bool".split()
)


class Stub:
    """Stands for an object of a class the reader will not import; holds its data only."""

    _qualname = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Stub:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_stub_args", args)
        object.__setattr__(obj, "_stub_state", {})
        object.__setattr__(obj, "_stub_items", [])
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], Mapping):
            state = {**(state[0] or {}), **state[1]} if isinstance(state[0], Mapping) else state[1]
        if isinstance(state, Mapping):
            self._stub_state.update((k, v) for k, v in state.items() if isinstance(k, str))
        else:
            self._stub_state["__state__"] = state

    # a stub standing for a list or dict subclass still takes its items
    def append(self, item: Any) -> None:
        self._stub_items.append(item)

    def extend(self, items: Any) -> None:
        self._stub_items.extend(items)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._stub_items.append((key, value))

    def __repr__(self) -> str:
        return f"<stub {self._qualname}>"


def is_stub(obj: Any) -> bool:
    return isinstance(obj, Stub)


def stub_name(obj: Any) -> str | None:
    """The qualified class name a stub stands for (``model.CharRNN``), else None."""
    return type(obj)._qualname if isinstance(obj, Stub) else None


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> Any:
    """``torch._utils._rebuild_tensor_v2`` without hooks or metadata: a view of one storage."""
    import torch

    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a stored storage")
    ok = isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
    if not ok or len(size) != len(stride) or len(size) > 8:
        raise pickle.UnpicklingError("a tensor with a malformed size or stride")
    if not all(isinstance(n, int) and n >= 0 for n in size + stride) or offset < 0:
        raise pickle.UnpicklingError("a tensor with a negative size or stride")
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if 0 not in size and need > storage.numel:
        raise pickle.UnpicklingError("a tensor reaching past its storage")
    t = torch.empty((0,), dtype=storage.dtype)
    return t.set_(storage.untyped, offset, size, stride)


def _rebuild_parameter(data: Any, *_: Any) -> Any:
    import torch

    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("a parameter without a tensor")
    return data


class _Storage:
    def __init__(self, untyped: Any, dtype: Any, numel: int) -> None:
        self.untyped, self.dtype, self.numel = untyped, dtype, numel


class _StorageType:
    """What ``find_class('torch', 'FloatStorage')`` gives: only its dtype is used."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype


class _Reader(pickle.Unpickler):
    def __init__(self, fp: Any, zf: zipfile.ZipFile, prefix: str, little: bool) -> None:
        super().__init__(fp)
        self._zf, self._prefix, self._little = zf, prefix, little
        self._stubs: dict[tuple[str, str], type[Stub]] = {}
        self._storages: dict[str, _Storage] = {}
        self.classes: list[str] = []

    def find_class(self, module: str, name: str) -> Any:
        import torch

        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)

        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name in (
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
        ):
            return _rebuild_parameter
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "builtins" and name in ("set", "frozenset"):
            return set if name == "set" else frozenset
        if module == "torch" and name.endswith("Storage"):
            dtype = _storage_dtype(name)
            if dtype is not None:
                return _StorageType(dtype)
        if module == "torch" and name in _DTYPES:  # a fixed list: no lookup by the file's name
            dtype = getattr(torch, name, None)
            if isinstance(dtype, torch.dtype):
                return dtype
        if module == "copyreg" and name == "_reconstructor":
            return _reconstructor
        key = (str(module)[:200], str(name)[:200])
        if key not in self._stubs:
            if len(self._stubs) > 10_000:
                raise pickle.UnpicklingError("too many classes")
            qual = f"{key[0]}.{key[1]}"
            self._stubs[key] = type("Stub", (Stub,), {"_qualname": qual})
            self.classes.append(qual)
        return self._stubs[key]

    def persistent_load(self, pid: Any) -> Any:
        import torch

        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("an unknown persistent id")
        _, kind, key, _location, numel = pid
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError("a malformed storage id")
        if key in self._storages:
            return self._storages[key]
        dtype = kind.dtype if isinstance(kind, _StorageType) else torch.uint8
        raw = self._zf.read(f"{self._prefix}data/{key}")
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(raw) < numel * itemsize:
            raise pickle.UnpicklingError("a storage shorter than it says")
        untyped = torch.UntypedStorage.from_buffer(
            raw[: numel * itemsize], byte_order="little" if self._little else "big",
            dtype=torch.uint8,
        )
        storage = _Storage(untyped, dtype, numel)
        self._storages[key] = storage
        return storage


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` (pickle protocols 0 and 1) for stub classes only."""
    if isinstance(cls, type) and issubclass(cls, Stub):
        return cls()
    raise pickle.UnpicklingError("an object of a class that is not a stub")


def _storage_dtype(name: str) -> Any:
    import torch

    kinds = {
        "UntypedStorage": torch.uint8, "ByteStorage": torch.uint8, "CharStorage": torch.int8,
        "ShortStorage": torch.int16, "IntStorage": torch.int32, "LongStorage": torch.int64,
        "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
        "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "BoolStorage": torch.bool,
        "ComplexFloatStorage": torch.complex64, "ComplexDoubleStorage": torch.complex128,
    }
    return kinds.get(name)


def load_restricted(label: str, data: bytes) -> tuple[Any, list[str]]:
    """The object a torch zip archive holds, every class it names as a ``Stub``.

    Returns (object, qualified class names seen, in order). Raises ``InputError`` with one
    sentence when the archive cannot be read this way.
    """
    if not data.startswith(b"PK\x03\x04"):
        raise InputError(
            f"{label} holds a whole saved model in torch's old (non-zip) format, which is not "
            "read: save it again with a current torch, or save model.state_dict()."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            pkl = next(
                (n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1), None
            )
            if pkl is None:
                raise pickle.UnpicklingError("no data.pkl")
            prefix = pkl[: -len("data.pkl")]
            info = zf.getinfo(pkl)
            if info.file_size > _MAX_PICKLE_BYTES:
                raise pickle.UnpicklingError("data.pkl too large")
            names = set(zf.namelist())
            little = True
            if f"{prefix}byteorder" in names:
                little = zf.read(f"{prefix}byteorder").strip() != b"big"
            if not little:
                raise InputError(
                    f"{label} is a whole saved model written on a big-endian machine, which is "
                    "not read: save model.state_dict() instead and upload that."
                )
            reader = _Reader(io.BytesIO(zf.read(pkl)), zf, prefix, little)
            obj = reader.load()
            return obj, reader.classes
    except InputError:
        raise
    except Exception as e:
        raise InputError(
            f"{label} holds Python objects that could not be read even without running them "
            f"({type(e).__name__}): save the weights with torch.save(model.state_dict(), "
            "'model.pt') and upload that."
        ) from None


def module_tensors(obj: Any, prefix: str = "") -> tuple[dict[str, Any], dict[str, str],
                                                        dict[str, dict[str, Any]]]:
    """Walk a stub module's ``_modules`` tree: dotted name -> tensor (``_parameters`` and
    ``_buffers``), module path -> class name, module path -> its plain attributes."""
    tensors: dict[str, Any] = {}
    classes: dict[str, str] = {}
    attrs: dict[str, dict[str, Any]] = {}
    stack: list[tuple[str, Any, int]] = [(prefix, obj, 0)]
    seen: set[int] = set()
    while stack:
        path, mod, depth = stack.pop()
        if not isinstance(mod, Stub) or id(mod) in seen or depth > _DEPTH:
            continue
        seen.add(id(mod))
        classes[path] = stub_name(mod) or "?"
        state = mod._stub_state
        attrs[path] = {k: v for k, v in state.items() if not k.startswith("_")}
        dot = f"{path}." if path else ""
        for group in ("_parameters", "_buffers"):
            entries = state.get(group)
            if isinstance(entries, Mapping):
                for name, t in entries.items():
                    if isinstance(name, str) and t is not None:
                        tensors[dot + name] = t
        children = state.get("_modules")
        if isinstance(children, Mapping):
            for name, child in reversed(list(children.items())):
                if isinstance(name, str):
                    stack.append((dot + name, child, depth + 1))
    return tensors, classes, attrs
