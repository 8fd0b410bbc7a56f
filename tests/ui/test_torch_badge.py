"""``lstm_viz.ui.torch_badge``: the badge checks the trace the page already holds, over a bounded
prefix of a long sequence, says which steps it compared, and never shows one model's verdict for
another's."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lstm_viz.core import Recurrent
from lstm_viz.files.sequence import Sequence
from lstm_viz.torchref.check import CHECK_STEPS
from lstm_viz.ui import torch_badge as tb
from lstm_viz.workbench import Loaded, Model

pytest.importorskip("torch")


def loaded(T: int = 9, hidden: int = 5, seed: int = 3, key: str | None = None,
           bidirectional: bool = False, trace_of: Recurrent | None = None) -> Loaded:
    """A fresh seeded model and sequence, and the trace of ``trace_of`` (default: the model)."""
    rec = Recurrent(3, hidden, seed=seed, bidirectional=bidirectional)
    x = np.random.default_rng(0).normal(size=(T, 3)).astype(np.float32)
    trace = (trace_of or rec).trace(x)
    return Loaded(Sequence(values=x, name="test"), Model(rec, "test", key or f"test:{seed}"),
                  trace)


def badge_script(T: int, hidden: int, perturb: bool, bidirectional: bool,
                 collide: bool) -> None:
    import numpy as np
    import streamlit as st

    from lstm_viz.core import Recurrent
    from lstm_viz.files.sequence import Sequence
    from lstm_viz.ui.torch_badge import torch_badge
    from lstm_viz.workbench import Loaded, Model

    x = np.random.default_rng(0).normal(size=(T, 3)).astype(np.float32)
    seq = Sequence(values=x, name="test")
    rec = Recurrent(3, hidden, seed=3, bidirectional=bidirectional)
    trace = rec.trace(x)
    if perturb:                                     # a wrong value inside the compared prefix
        trace.get("h")[T // 7, 0, 0] += 1e-3
    key = f"badge:{T}:{hidden}:{perturb}:{bidirectional}"
    torch_badge(Loaded(seq, Model(rec, "test", key), trace))
    if collide:                     # another session: other weights under the same model key
        st.divider()
        other = Recurrent(3, hidden, seed=4, bidirectional=bidirectional)
        torch_badge(Loaded(seq, Model(other, "other", key), trace))


def run_badge(T: int = 9, hidden: int = 5, perturb: bool = False, bidirectional: bool = False,
              collide: bool = False) -> AppTest:
    at = AppTest.from_function(badge_script, default_timeout=60,
                               kwargs=dict(T=T, hidden=hidden, perturb=perturb,
                                           bidirectional=bidirectional, collide=collide))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def badges(at: AppTest) -> list[tuple[str, str, str | None]]:
    """(kind, text, help) of every badge on the page, in order."""
    out = []
    for el in at.main:
        if el.type == "caption" and "torch" in el.value:
            out.append(("caption", el.value, el.proto.help or None))
        elif el.type == "warning" and "torch" in el.value:
            out.append(("warning", el.value, None))
    return out


def test_a_short_sequence_is_compared_whole() -> None:
    [(kind, text, help_text)] = badges(run_badge())
    assert kind == "caption"
    assert text.startswith("✓ matches torch.nn.LSTM: max |Δh| = ")
    assert text.endswith(" over 9 steps")
    assert "every output step and the final state" in help_text


def test_a_long_sequence_is_compared_over_its_first_steps() -> None:
    assert CHECK_STEPS == 2_000
    [(kind, text, help_text)] = badges(run_badge(T=10_000, hidden=4))
    assert kind == "caption"
    assert text.startswith("✓ matches torch.nn.LSTM: max |Δh| = ")
    assert text.endswith(" over the first 2,000 of 10,000 steps")
    assert "first 2,000 steps only" in help_text


def test_a_long_bidirectional_model_says_what_it_compared() -> None:
    [(kind, text, help_text)] = badges(run_badge(T=10_000, hidden=4, bidirectional=True))
    assert kind == "caption" and text.startswith("✓ matches torch.nn.LSTM")
    assert text.endswith("over the first 2,000 of 10,000 steps in the forward direction and the "
                         "last 2,000 in the backward direction")
    assert "bidirectional" in help_text and "first layer" in help_text


def test_a_wrong_trace_is_a_warning() -> None:
    [(kind, text, _)] = badges(run_badge(T=10_000, hidden=4, perturb=True))
    assert kind == "warning"
    assert text.startswith("This model's numbers differs from torch.nn.LSTM: max |Δh| = 1e-03")
    assert "over the first 2,000 of 10,000 steps (tolerance 1e-05)" in text


def test_one_models_verdict_is_never_shown_for_another() -> None:
    """Two models under the same model key, the same sequence and the first one's trace: the
    second is checked on its own weights (and this trace is not its trace)."""
    first, second = badges(run_badge(collide=True))
    assert first[0] == "caption" and first[1].startswith("✓ matches")
    assert second[0] == "warning" and "differs from torch.nn.LSTM" in second[1]


def test_the_cache_keys_on_content(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = tb.trace_match

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tb, "trace_match", counting)
    tb.cached_match.clear()

    def check(item: Loaded):
        return tb.cached_match(*tb.badge_keys(item), CHECK_STEPS, item.recurrent, item.trace,
                               item.sequence.values)

    a = loaded(seed=3, key="k")
    assert check(a).ok and len(calls) == 1
    assert check(loaded(seed=3, key="k")).ok and len(calls) == 1        # same content: cached
    b = loaded(seed=4, key="k", trace_of=a.recurrent)                  # same key, other weights
    assert tb.badge_keys(b) != tb.badge_keys(a)
    assert not check(b).ok and len(calls) == 2
    c = loaded(seed=3, key="k", T=10)                                  # another sequence
    assert tb.badge_keys(c)[1] != tb.badge_keys(a)[1]
    assert check(c).ok and len(calls) == 3
    tb.cached_match.clear()


def test_the_badge_does_not_run_the_model_again(monkeypatch: pytest.MonkeyPatch) -> None:
    item = loaded(T=3_000, hidden=4)

    def boom(*args, **kwargs):
        raise AssertionError("the NumPy model was run again")

    monkeypatch.setattr(Recurrent, "trace", boom)
    monkeypatch.setattr(Recurrent, "__call__", boom)
    tb.cached_match.clear()
    r = tb.cached_match(*tb.badge_keys(item), CHECK_STEPS, item.recurrent, item.trace,
                        item.sequence.values)
    assert r.ok and r.message.endswith("over the first 2,000 of 3,000 steps")
    tb.cached_match.clear()
