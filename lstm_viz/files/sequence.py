"""A sequence to feed the LSTM: values over time plus what a person needs to read them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Sequence:
    """One input sequence.

    values:        (T, F) float32, one row per step, one column per feature (the model's input).
    name:          short human name ("sine wave", "brackets", "my_data.csv").
    feature_names: F names, for hover and the input strip.
    labels:        T short strings, one per step (characters for text), or None.
    text:          the raw text for text sequences, else None.
    vocab:         for one-hot text, the characters in feature order, else None.
    """

    values: np.ndarray
    name: str
    feature_names: tuple[str, ...] = ()
    labels: tuple[str, ...] | None = None
    text: str | None = None
    vocab: tuple[str, ...] | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        v = np.ascontiguousarray(self.values, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"Sequence values must be 2-D (T, F), got shape {v.shape}")
        object.__setattr__(self, "values", v)
        if not self.feature_names:
            object.__setattr__(self, "feature_names", tuple(f"x{k}" for k in range(v.shape[1])))
        if len(self.feature_names) != v.shape[1]:
            raise ValueError("feature_names must have one name per column")
        if self.labels is not None and len(self.labels) != v.shape[0]:
            raise ValueError("labels must have one entry per step")

    @property
    def length(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.values.shape[1])
