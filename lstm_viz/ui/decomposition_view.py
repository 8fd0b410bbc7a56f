"""The Experiments page's contextual decomposition (Murdoch, Liu & Yu 2018): one more strip beside
the attribution methods, the line on what it means, and its exactness (each step's part plus the
rest is the score). A GRU or RNN gets the one sentence why it does not apply instead."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lstm_viz.analysis.decomposition import MEANING, refusal, strip_parts
from lstm_viz.errors import InputError
from lstm_viz.workbench import Loaded, sequence_key

from .safe_text import plain
from .trace_cache import RESULTS

NAME = "contextual_decomposition"


@dataclass(frozen=True)
class Decomposed:
    """What the page shows: the strip (none when it does not apply) and two markdown lines."""

    strip: dict[str, np.ndarray] = field(default_factory=dict)   # {NAME: (T,)} or {}
    bullet: str = ""               # the method's line under the strips' heading
    exactness: str = ""            # Σ parts + rest = score, or "" without a strip


def _computed(loaded: Loaded, step: int, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                         float]:
    rec, x = loaded.recurrent, loaded.inputs
    beta, gamma = strip_parts(rec, x, step, weight)
    score = float(rec.trace(x).output[step] @ weight.astype(rec.dtype))
    return beta, gamma, score


def decomposed(loaded: Loaded, step: int, weight: np.ndarray) -> Decomposed:
    """The contextual decomposition of ``weight · output[step]`` for the page, cached."""
    title = "- **contextual decomposition**: "
    why = refusal(loaded.recurrent)
    if why is not None:
        return Decomposed(bullet=title + why[0].upper() + why[1:] + ".")
    key = ("experiments", loaded.model.key, sequence_key(loaded.sequence), "cd", step,
           weight.tobytes())
    try:
        beta, gamma, score = RESULTS.get(key, lambda: _computed(loaded, step, weight))
    except InputError as exc:                      # too long for the strip: say so, go on
        return Decomposed(bullet=title + "left out: " + plain(str(exc), 300))
    off = float(np.max(np.abs(beta.astype(np.float64) + gamma - score)))
    together = score - float(beta.sum(dtype=np.float64))
    return Decomposed(
        strip={NAME: beta},
        bullet=title + MEANING + ".",
        exactness=(f"**Exactness** of contextual decomposition: Σ parts + rest = score, for "
                   f"each step: its part + the rest of the sequence = {score:.4f} (off by at "
                   f"most {off:.2g}, float rounding). The single-step parts add up to "
                   f"{score - together:.4f}; the other {together:.4f} comes from steps acting "
                   "together."))
