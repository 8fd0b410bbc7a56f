"""One place that turns a failure into one sentence on the page, never a traceback.

Every page wraps its work in ``shown_as_message``::

    with shown_as_message("comparing the variants"):
        ...

``InputError`` shows its own message (it says what is wrong and how to fix it); a
``MemoryError`` (NumPy's ``_ArrayMemoryError`` is one) says the input is too big for the
server; anything else shows one sentence naming what was being done, and goes to the server
log with its traceback. The section then stops (``st.stop()``): what was drawn before it stays,
and the session state holds what the user had (the callbacks only replace it on success).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import streamlit as st

from lstm_viz.errors import InputError

from .safe_text import plain

log = logging.getLogger("lstm_viz")

MEMORY = "This needs more memory than the server has: use a shorter sequence or a smaller model."
MESSAGE_LIMIT = 400          # characters of an error message shown at most

T = TypeVar("T")


def message(exc: BaseException, doing: str) -> str:
    """The sentence a person sees for ``exc``, raised while ``doing`` (escaped for markdown)."""
    if isinstance(exc, MemoryError):
        return MEMORY
    if isinstance(exc, InputError):
        return plain(str(exc), MESSAGE_LIMIT)
    return (f"Something went wrong while {doing}; the rest of the app still works. "
            "Try another input, or reload the page.")


def report(exc: BaseException, doing: str) -> str:
    """Log ``exc`` (with its traceback when it is not the user's input) and return the message."""
    if isinstance(exc, InputError):
        log.info("%s: %s", doing, exc)
    elif isinstance(exc, MemoryError):
        log.warning("out of memory while %s", doing, exc_info=exc)
    else:
        log.error("failed while %s", doing, exc_info=exc)
    return message(exc, doing)


@contextmanager
def shown_as_message(doing: str, stop: bool = True) -> Iterator[None]:
    """Run a section; a failure in it becomes one ``st.error`` sentence, then ``st.stop()``
    (or, with ``stop=False``, the section just ends and the script goes on)."""
    try:
        yield
    # MemoryError (and NumPy's _ArrayMemoryError) is an Exception; Streamlit's st.stop and
    # st.rerun are BaseExceptions, so they pass through.
    except Exception as exc:
        st.error(report(exc, doing))
        if stop:
            st.stop()


def attempt(doing: str, fn: Callable[[], T], fallback: Callable[[], T]) -> tuple[T, str | None]:
    """``fn()``, or on a failure ``fallback()`` and the message saying why (not shown here)."""
    try:
        return fn(), None
    except Exception as exc:
        return fallback(), report(exc, doing)


def fail(exc: BaseException, doing: str) -> NoReturn:
    """Show ``exc`` as its one sentence and stop the script run."""
    st.error(report(exc, doing))
    st.stop()
