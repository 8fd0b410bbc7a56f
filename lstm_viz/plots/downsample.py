"""Downsampling along time that keeps the extremes visible (max-abs pooling)."""

from __future__ import annotations

import math

import numpy as np


def window_size(n_steps: int, max_cols: int) -> int:
    """Steps per column so that ``n_steps`` fit in at most ``max_cols`` columns (1 = no pooling)."""
    if max_cols < 1:
        raise ValueError(f"max_cols must be >= 1, got {max_cols}")
    return max(1, math.ceil(n_steps / max_cols))


def downsample_time(values: np.ndarray, max_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Pool consecutive steps so that at most ``max_cols`` columns remain.

    values: (units, T). Returns (pooled (units, T'), starts (T',)) where ``starts[k]`` is the first
    step of column k; every column but possibly the last covers the same number of steps. Each
    pooled value is the element of largest |value| in its window, with its sign, so spikes and
    saturations stay visible (NaN only when the whole window is NaN). Identity when T <= max_cols.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D (units, T), got shape {values.shape}")
    units, n_steps = values.shape
    width = window_size(n_steps, max_cols)
    if width == 1:
        return values, np.arange(n_steps)
    n_cols = math.ceil(n_steps / width)
    padded = np.full((units, n_cols * width), np.nan, dtype=np.result_type(values, np.float32))
    padded[:, :n_steps] = values
    windows = padded.reshape(units, n_cols, width)
    magnitude = np.abs(windows)
    magnitude[np.isnan(magnitude)] = -1.0  # NaN loses to any number
    index = np.argmax(magnitude, axis=-1)[..., None]
    pooled = np.take_along_axis(windows, index, axis=-1)[..., 0]
    return pooled.astype(values.dtype, copy=False), np.arange(n_cols) * width


def max_cols_for(units: int, n_panels: int, max_cells: int = 500_000) -> int:
    """Columns per panel so that units * columns * panels stays within ``max_cells``."""
    return max(1, int(max_cells) // max(1, int(units) * max(1, int(n_panels))))
