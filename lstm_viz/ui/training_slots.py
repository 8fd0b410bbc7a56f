"""How many models the server trains at once.

A classroom pressing "Train now" together would otherwise run one torch training per student on
a few cores, and every other session's steps would crawl. Trainings take a slot (one per two
CPU cores, at least one); a run that finds none waits for one, showing that it waits, for up
to ``MAX_WAIT_S`` seconds. Slots are process-wide: every session of the server shares them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

MAX_TRAININGS = max(1, (os.cpu_count() or 2) // 2)
MAX_WAIT_S = 120.0
POLL_S = 0.5

_slots = threading.BoundedSemaphore(MAX_TRAININGS)


def acquire(on_wait: Callable[[float], None], max_wait_s: float | None = None) -> bool:
    """Take a training slot; while none is free call ``on_wait(seconds waited)`` every
    ``POLL_S`` (a Streamlit call there lets a click interrupt the wait). False after
    ``max_wait_s`` (default ``MAX_WAIT_S``) without one."""
    limit = MAX_WAIT_S if max_wait_s is None else max_wait_s
    start = time.monotonic()
    while not _slots.acquire(timeout=POLL_S):
        waited = time.monotonic() - start
        if waited >= limit:
            return False
        on_wait(waited)
    return True


def release() -> None:
    _slots.release()
