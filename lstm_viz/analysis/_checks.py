"""Argument checks shared by the analyses: one sequence, one step."""

from __future__ import annotations

import numpy as np

from lstm_viz.core import Recurrent


def check_sequence(model: Recurrent, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence (T, input features), got shape {x.shape}")
    if x.shape[1] != model.input_size:
        raise ValueError(f"x has {x.shape[1]} features, the model expects {model.input_size}")
    return x


def check_step(step: int | None, T: int, what: str = "target_step") -> int:
    if step is None:
        return T - 1
    s = int(step)
    if s < 0:
        s += T
    if not 0 <= s < T:
        raise ValueError(f"{what} {step} is outside the sequence of {T} steps")
    return s

