"""Unit search (after LSTMVis, Strobelt et al. 2018): the units that are on over a selected
range and off around it, and the other places where they are on together.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Match(NamedTuple):
    """A run of steps [start, end] (inclusive) where the selected units are on together.

    score in (0, 1]: the length similarity to the selection, min(n, m) / max(n, m), times the mean
    share of selected units on over the run (1 when ``match_fraction`` is 1).
    """

    start: int
    end: int
    score: float


@dataclass
class UnitSearchResult:
    """What :func:`unit_search` found.

    units (K,): the selected units, best first; margins (K,): their mean value − threshold over
    the range. on_fraction (T,): per step the share of selected units ≥ threshold (0 when none is
    selected); together (T,): the steps where at least ``match_fraction`` of them are.
    matches: the runs of ``together`` outside the selected range, best score first.
    """

    start: int
    end: int
    threshold: float
    units: np.ndarray
    margins: np.ndarray
    on_fraction: np.ndarray
    together: np.ndarray
    matches: list[Match]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) inclusive of every run of True in a 1-D bool array."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(s), int(e) - 1) for s, e in zip(edges[::2], edges[1::2], strict=True)]


MIN_SWING = 0.02   # a unit must switch by this share of the spread of all values (not noise)


def swing(values: np.ndarray, start: int, end: int) -> np.ndarray:
    """Per unit, how far it switches at the edges of [start, end]: its mean over the range minus
    the larger of its values just before and just after the range (those that exist).

    values (T, units). NaN for a unit with no step outside the range (the range is the whole
    sequence: nothing to switch from).
    """
    v = np.asarray(values, dtype=np.float64)
    outside = [v[i] for i in (start - 1, end + 1) if 0 <= i < v.shape[0]]
    if not outside:
        return np.full(v.shape[1], np.nan)
    return v[start:end + 1].mean(axis=0) - np.max(outside, axis=0)


def always_on(values: np.ndarray, threshold: float, start: int, end: int, *,
              min_swing: float = MIN_SWING) -> np.ndarray:
    """(units,) bool: the units a search over [start, end] must never suggest, as they tell
    nothing about the range: those ≥ ``threshold`` at every step of the sequence (always on; a
    constant one too), and those whose :func:`swing` at the range's edges is below ``min_swing``
    times the spread (max − min) of all the values: they cross the threshold by noise only (a
    saturated unit at 0.980 against 0.979 around it).
    """
    v = np.asarray(values, dtype=np.float64)
    every = (v >= threshold).all(axis=0)
    if min_swing <= 0 or not v.size:
        return every
    spread = float(np.nanmax(v) - np.nanmin(v))
    return every | ~(swing(v, start, end) >= min_swing * spread)      # NaN: nothing to switch from


def unit_search(values: np.ndarray, start: int, end: int, threshold: float, *,
                min_on_fraction: float = 1.0, match_fraction: float = 1.0,
                min_match_length: int = 1, min_swing: float = MIN_SWING) -> UnitSearchResult:
    """The units that are on over [start, end] and off around it, and where else they are on.

    values (T, units), e.g. h or c of one layer and direction. A unit is selected when it is
    ≥ ``threshold`` on at least ``min_on_fraction`` of the steps of [start, end] (all of them by
    default) and < ``threshold`` at the step just before and just after the range (where those
    exist), and is not :func:`always_on` (on at every step, or switching by less than
    ``min_swing`` of the values' spread: it matches everywhere and tells nothing); the selection
    is ranked by its mean margin (value − threshold) over the range.
    A step has the units "on together" when at least ``match_fraction`` of the selected units are
    ≥ threshold there; the matches are the runs of such steps (at least ``min_match_length`` long)
    that do not overlap the selected range, ranked by :class:`Match` score.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be (T, units), got shape {v.shape}")
    T = v.shape[0]
    start, end = int(start), int(end)
    if not 0 <= start <= end < T:
        raise ValueError(f"the range [{start}, {end}] must lie within 0..{T - 1} with "
                         "start <= end")
    if not 0 < min_on_fraction <= 1 or not 0 < match_fraction <= 1:
        raise ValueError("min_on_fraction and match_fraction must be in (0, 1]")
    on = v >= threshold                                    # (T, units); NaN counts as off
    length = end - start + 1
    need = int(np.ceil(min_on_fraction * length - 1e-9))
    chosen = np.count_nonzero(on[start:end + 1], axis=0) >= need
    if start > 0:
        chosen &= ~on[start - 1]
    if end < T - 1:
        chosen &= ~on[end + 1]
    chosen &= ~always_on(v, threshold, start, end, min_swing=min_swing)
    units = np.flatnonzero(chosen)
    margins = (v[start:end + 1, units] - threshold).mean(axis=0) if units.size else np.zeros(0)
    order = np.argsort(-margins, kind="stable")
    units, margins = units[order], margins[order]

    if units.size:
        on_fraction = np.count_nonzero(on[:, units], axis=1) / units.size
        together = on_fraction >= match_fraction - 1e-12
    else:
        on_fraction = np.zeros(T)
        together = np.zeros(T, dtype=bool)
    matches = []
    for s, e in runs(together):
        if e >= start and s <= end:                        # the selection itself
            continue
        n = e - s + 1
        if n < min_match_length:
            continue
        score = min(n, length) / max(n, length) * float(on_fraction[s:e + 1].mean())
        matches.append(Match(s, e, score))
    matches.sort(key=lambda m: (-m.score, m.start))
    return UnitSearchResult(start=start, end=end, threshold=float(threshold), units=units,
                            margins=margins, on_fraction=on_fraction, together=together,
                            matches=matches)


def context(labels: SequenceABC[str], start: int, end: int, pad: int = 5, *,
            mark: tuple[str, str] | None = None, newline: str = "↵") -> str:
    """The labels of steps [start − pad, end + pad] as one string, "…" where the sequence goes on.

    Single-character labels (text) are joined as they are, longer ones with spaces. ``mark``
    (e.g. ``("[", "]")``) wraps the range [start, end]; line breaks show as ``newline``.
    """
    n = len(labels)
    if not 0 <= start <= end < n:
        raise ValueError(f"the range [{start}, {end}] must lie within 0..{n - 1}")
    lo, hi = max(0, start - pad), min(n, end + pad + 1)
    shown = [str(s).replace("\n", newline) for s in labels]
    sep = "" if all(len(str(s)) <= 1 for s in labels) else " "
    before, inside, after = shown[lo:start], shown[start:end + 1], shown[end + 1:hi]
    middle = sep.join(inside)
    if mark is not None:
        middle = mark[0] + middle + mark[1]
    text = sep.join(p for p in (sep.join(before), middle, sep.join(after)) if p)
    return ("…" if lo > 0 else "") + text + ("…" if hi < n else "")


def suggest_range(values: np.ndarray, threshold: float, at: int, *, max_share: float = 0.25,
                  fallback_span: int = 4, min_swing: float = MIN_SWING) -> tuple[int, int]:
    """A range [start, end] around step ``at`` where some unit switches on and off again.

    values (T, units). The run of steps with a unit on (≥ ``threshold``) that holds ``at`` (the
    strongest such unit: the highest mean over the run), else the nearest such run; runs of
    ``max_share`` of the sequence or longer are skipped, and so are the runs where the unit
    switches by less than ``min_swing`` of the values' spread (:func:`swing`: noise, which
    the search would not report). With none: ``at`` and ``fallback_span`` more steps (fewer
    when the sequence is short), inside the sequence.
    """
    v = np.asarray(values, dtype=np.float64)
    last = v.shape[0] - 1
    longest = max(1, int(v.shape[0] * max_share))
    least = min_swing * float(np.nanmax(v) - np.nanmin(v)) if v.size else 0.0
    best, best_key = None, None
    for u in range(v.shape[1]):
        found = [(s, e) for s, e in runs(v[:, u] >= threshold) if e - s < longest
                 and (min_swing <= 0 or swing(v[:, u:u + 1], s, e)[0] >= least)]
        if not found:
            continue
        distance = [max(0, s - at, at - e) for s, e in found]
        nearest = min(distance)
        for (s, e), d in zip(found, distance, strict=True):
            if d != nearest:                                   # the nearest run(s) only
                continue
            key = (nearest, -float(v[s:e + 1, u].mean()))
            if best_key is None or key < best_key:
                best, best_key = (s, e), key
    if best is None:
        span = min(longest, fallback_span)
        return max(0, min(at, last - span)), min(last, max(at, 0) + span)
    return best


def threshold_range(values: np.ndarray, quantile: float = 0.9) -> tuple[float, float, float]:
    """(low, high, default) of a threshold slider over ``values``, on a 0.01 grid.

    low / high: the smallest / largest value rounded down / up to 0.01 (high at least 0.01
    above low); default: the ``quantile`` of the values rounded down, inside [low, high].
    NaN values are left out.
    """
    v = np.asarray(values, dtype=np.float64)
    low, high = np.floor(np.nanmin(v) * 100) / 100, np.ceil(np.nanmax(v) * 100) / 100
    if high <= low:
        high = low + 0.01
    default = np.clip(np.floor(np.nanquantile(v, quantile) * 100) / 100, low, high)
    return float(low), float(high), float(default)
