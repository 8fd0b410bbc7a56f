"""Results shared by every session of this server, bounded in bytes, least recently used first out.

One cache holds the traces and the analysis results the pages compute (Compare variants' runs,
Gradient flow's back-propagations): ``st.cache_resource`` / ``st.cache_data`` bound the number
of entries, not their size, and one trace of a long upload can take hundreds of MB. The bound
counts everything held: every entry is measured (:func:`buffers`), and an array shared by two
entries (a run built on a cached trace) is counted once, as it is held once.

Keys must say everything a result depends on: ``workbench.model_key`` (configuration, dtype,
tensor names and values) for a model, ``workbench.sequence_key`` for a sequence, and whatever
else the computation reads. A session only ever gets the result of what it holds itself.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

MAX_CACHE_BYTES = 3 * 1024**3          # everything cached, together

T = TypeVar("T")


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def buffers(obj: Any) -> dict[int, int]:
    """What ``obj`` holds in memory, as {id of a buffer: bytes}.

    NumPy arrays count their whole underlying buffer (a view counts the array it views, once);
    dataclasses (a ``Trace``, a ``VariantRun``, a ``GradientFlow``), dicts, lists and tuples
    count what they hold; a plotly figure counts its data roughly (8 bytes a number); strings
    and bytes their length; anything else its ``sys.getsizeof``.
    """
    out: dict[int, int] = {}
    seen: set[int] = set()

    def walk(o: Any) -> None:
        if id(o) in seen:
            return
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            r = _root(o)
            out[id(r)] = int(r.nbytes)
        elif isinstance(o, (str, bytes, bytearray)):
            out[id(o)] = len(o)
        elif isinstance(o, dict):
            out[id(o)] = sys.getsizeof(o)
            for k, v in o.items():
                walk(k)
                walk(v)
        elif isinstance(o, (list, tuple, set, frozenset)):
            out[id(o)] = sys.getsizeof(o)
            for v in o:
                walk(v)
        elif dataclasses.is_dataclass(o) and not isinstance(o, type):
            out[id(o)] = sys.getsizeof(o)
            for f in dataclasses.fields(o):
                walk(getattr(o, f.name, None))
        elif hasattr(o, "to_plotly_json") and hasattr(o, "data"):     # a plotly figure
            out[id(o)] = _plotly_bytes(o.to_plotly_json())
        else:
            out[id(o)] = sys.getsizeof(o)

    walk(obj)
    return out


def _plotly_bytes(o: Any) -> int:
    if isinstance(o, np.ndarray):
        return int(o.nbytes)
    if isinstance(o, str):
        return len(o)
    if isinstance(o, dict):
        return sum(len(str(k)) + _plotly_bytes(v) for k, v in o.items())
    if isinstance(o, (list, tuple)):
        return sum(_plotly_bytes(v) for v in o)
    return 8


def nbytes(obj: Any) -> int:
    """The bytes ``obj`` holds (:func:`buffers`, each buffer once)."""
    return sum(buffers(obj).values())


class ResultCache:
    """A byte-bounded LRU of computed results, safe to use from many script threads.

    ``get(key, compute)`` returns the kept result or computes it (outside the cache's lock) and
    keeps it; two threads asking for the same missing key compute it once (the second waits).
    After each insertion the least recently used entries go until the bytes held by all entries
    together (shared buffers once) are within ``max_bytes``; a result larger than the bound on
    its own is returned but not kept.
    """

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, dict[int, int]]] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.computed = 0                  # how many results were computed (hits do not count)

    def _total(self) -> int:
        held: dict[int, int] = {}
        for _, bufs in self._items.values():
            held.update(bufs)
        return sum(held.values())

    @property
    def nbytes(self) -> int:
        """The bytes held by every entry together (a buffer shared by entries, once)."""
        with self._lock:
            return self._total()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._items)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for ``key``, computing and keeping it if absent."""
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]
                pending = self._pending.get(key)
                if pending is None:
                    done = self._pending[key] = threading.Event()
                    break
            pending.wait()              # another thread computes it: then it is kept (or failed)
        try:
            value = compute()
            bufs = buffers(value)
            with self._lock:
                self.computed += 1
                if sum(bufs.values()) <= self.max_bytes:
                    self._items[key] = (value, bufs)
                    while len(self._items) > 1 and self._total() > self.max_bytes:
                        self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


TraceCache = ResultCache              # the name it had when it held traces only

RESULTS = ResultCache()
TRACES = RESULTS                      # traces are results too: one budget for all
