"""Saving torch objects as a user's file would hold them (shared by the model-file tests)."""

from __future__ import annotations

import io
import sys
import types

import torch


def save(obj: object) -> bytes:
    """torch.save(obj) into bytes, the way an upload arrives."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def save_unimportable(model: torch.nn.Module, module_name: str) -> bytes:
    """torch.save(model) with its class under a module name that does not exist afterwards: the
    file names a class the app could never import (as a user's own model class would be)."""
    cls = type(model)
    parts = module_name.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    for name in names:
        sys.modules[name] = types.ModuleType(name)
    for parent, child in zip(names, names[1:], strict=False):
        setattr(sys.modules[parent], child.rsplit(".", 1)[-1], sys.modules[child])
    setattr(sys.modules[module_name], cls.__name__, cls)
    old = cls.__module__
    cls.__module__ = module_name
    try:
        return save(model)
    finally:
        cls.__module__ = old
        for name in names:
            del sys.modules[name]
