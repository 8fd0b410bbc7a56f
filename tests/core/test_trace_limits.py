"""Trace memory: the estimate the app checks before tracing, and the byte-bounded trace cache."""

import numpy as np
import pytest

from lstm_viz.core import VARIANTS, Recurrent, is_lstm
from lstm_viz.errors import InputError
from lstm_viz.files.sequence import Sequence
from lstm_viz.ui.trace_cache import TraceCache
from lstm_viz.workbench import MAX_TRACE_BYTES, Model, check_trace_size, run


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True}])
def test_trace_nbytes_is_exact(variant, kw):
    if not is_lstm(variant) or not kw:
        model = Recurrent(3, 6, variant=variant, seed=0, **kw)
    else:
        model = Recurrent(3, 6, variant=variant, seed=0, proj_size=2, **kw)
    trace = model.trace(np.ones((17, 3), np.float32))
    assert model.trace_nbytes(17) == trace.nbytes


def test_oversized_trace_is_refused_with_a_message():
    rec = Recurrent(2, 256, num_layers=4, bidirectional=True, seed=0)
    model = Model(rec, "big", "big")
    steps = MAX_TRACE_BYTES // rec.trace_nbytes(1) + 1
    seq = Sequence(np.zeros((steps, 2), np.float32), name="long")
    with pytest.raises(InputError, match="GB limit"):
        check_trace_size(model, seq)
    with pytest.raises(InputError):
        run(model, seq)
    check_trace_size(model, Sequence(np.zeros((steps - 1, 2), np.float32), name="fits"))


def _trace(T: int):
    return Recurrent(1, 4, seed=0).trace(np.ones((T, 1), np.float32))


def test_trace_cache_reuses_and_evicts_by_bytes():
    one = _trace(100).nbytes
    cache = TraceCache(max_bytes=int(2.5 * one))
    calls = []

    def make(key):
        calls.append(key)
        return _trace(100)

    a = cache.get("a", lambda: make("a"))
    assert cache.get("a", lambda: make("a")) is a and calls == ["a"]
    cache.get("b", lambda: make("b"))
    cache.get("a", lambda: make("a"))          # a is now the most recent
    cache.get("c", lambda: make("c"))          # over 2.5 traces: the oldest (b) goes
    assert len(cache) == 2 and cache.nbytes <= cache.max_bytes
    cache.get("a", lambda: make("a"))
    assert calls == ["a", "b", "c"]
    cache.get("b", lambda: make("b"))
    assert calls[-1] == "b"
