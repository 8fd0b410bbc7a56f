"""Traces shared by every session of this server, bounded in bytes, least recently used first out.

``st.cache_resource`` bounds the number of entries, not their size, and one trace of a long upload
can take hundreds of MB. Keys are content hashes of the model's weights and the sequence, so a
session only ever gets the trace of what it holds itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from lstm_viz.core import Trace

MAX_CACHE_BYTES = 3 * 1024**3          # all cached traces together


class TraceCache:
    """A byte-bounded LRU of traces, safe to use from many script threads."""

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Trace] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(t.nbytes for t in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, compute: Callable[[], Trace]) -> Trace:
        """The cached trace for ``key``, computing (outside the lock) and keeping it if absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        trace = compute()
        with self._lock:
            self._items[key] = trace
            total = sum(t.nbytes for t in self._items.values())
            while total > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                total -= old.nbytes
        return trace

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


TRACES = TraceCache()
