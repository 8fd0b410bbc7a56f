"""Tables (.csv / .tsv) as sequences: an optional header row naming the columns, then one row per
step.

The delimiter is sniffed (",", tab or ";" with decimal commas). A first row of numbers (and dates)
is data, not a header: the columns are then named ``x0, x1, …``. A column of dates or times
(``1949-01``, ``2020-01-01 12:00``, ``01/31/1949``…) is the time axis: its cells become the step
labels, not a feature. Every other kept cell must be a number, finite and (unless the caller
scales the values) within ``MAX_ABS_VALUE``; a cell that is not says where it is and what to do.

`columns` keeps some features only (names, or indices into the features offered); `start` and
`length` read a window of rows, so a table longer than ``MAX_STEPS`` loads its first
``MAX_STEPS`` rows and says so in ``meta`` instead of being refused.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence as Seq
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    F32_MAX,
    MAX_ABS_VALUE,
    MAX_FEATURES,
    MAX_STEPS,
    SCALE_HINT,
    VALUE_LIMIT,
    decode_text,
    out_of_range,
    quote,
    to_float32,
)
from lstm_viz.files.sequence import Sequence

_MISSING_WORDS = {"nan", "-nan", "+nan", "na", "n/a", "#n/a", "null", "none", "nil", "missing"}
_INF_WORDS = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "-∞", "+∞"}
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")

_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[ap]m)?"
_ZONE = r"(?:z|utc|[+-]\d{2}:?\d{2})?"
_DATE = re.compile(
    r"^(?:"
    rf"\d{{4}}-\d{{1,2}}(?:-\d{{1,2}})?(?:[ t]{_TIME}{_ZONE})?"  # 1949-01, 1949-01-31 12:00
    rf"|\d{{4}}/\d{{1,2}}(?:/\d{{1,2}})?(?:[ t]{_TIME})?"  # 1949/01/31
    rf"|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}(?:[ t,]+{_TIME})?"  # 01/31/1949, 31.01.1949
    rf"|\d{{4}}-?q[1-4]|q[1-4][ -]?\d{{4}}|\d{{4}}-?w\d{{1,2}}"  # 1949Q1, Q1 1949, 2020-W05
    rf"|{_MON}[ -]?\d{{2,4}}|\d{{4}}[ -]?{_MON}"  # Jan 1949, Jan-49, 1949-Jan
    rf"|\d{{1,2}}[ -]{_MON}[ -,]*\d{{2,4}}(?:[ t]{_TIME})?"  # 31 Jan 1949
    rf"|{_MON} \d{{1,2}},? \d{{4}}"  # January 31, 1949
    rf"|{_TIME}"  # 12:30, 12:30:05.5
    r")$",
    re.IGNORECASE,
)
# Share of a column's cells that must read as dates for it to be the time axis ("nearly all").
DATE_SHARE = 0.99


def is_date(cell: str) -> bool:
    """True when ``cell`` reads as a date or time (``1949-01``, ``01/31/1949``, ``12:30``…)."""
    s = cell.strip().strip("'\"").strip()
    return bool(s) and _DATE.match(s) is not None


def _clean_cell(cell: str, decimal_comma: bool) -> str:
    s = cell.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        s = s[1:-1].strip()
    if decimal_comma and _DECIMAL_COMMA.match(s):
        s = s.replace(",", ".")
    return s


def _cell_error(cell: str, line: int, col: int, col_name: str, decimal_comma: bool) -> InputError:
    where = f"Row {line}, column {col + 1} ({quote(col_name)})"
    s = _clean_cell(cell, decimal_comma)
    low = s.lower()
    if s == "":
        return InputError(
            f"{where} is empty: every cell below the header needs a number, so fill in "
            "or interpolate missing values, or delete the row."
        )
    if low in _MISSING_WORDS:
        return InputError(
            f"{where} is a missing value ({quote(s)}): fill in or interpolate missing values, "
            "or delete the row, before uploading."
        )
    if low in _INF_WORDS:
        return InputError(
            f"{where} is infinite ({quote(s)}): replace it with a finite number "
            "(for example clip or rescale the column)."
        )
    try:
        v = float(s)
    except ValueError:
        hint = ""
        if "," in s and not decimal_comma:
            hint = " (use a dot as the decimal separator and no thousands separators)"
        return InputError(
            f"{where} holds {quote(s)}, which is not a number: every cell below the header "
            f"must be a number{hint}, or leave the column out."
        )
    if abs(v) > F32_MAX:
        return InputError(
            f"{where} holds {quote(s)}, too large for 32-bit floats and over the "
            f"{VALUE_LIMIT}: {SCALE_HINT}."
        )
    raise AssertionError("unreachable: the cell parses")  # pragma: no cover


def _sniff_delimiter(text: str, ext: str) -> str:
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()][:50]
    if not lines:
        return ","
    candidates = ["\t", ",", ";"] if ext == ".tsv" else [",", "\t", ";"]
    best, best_score = candidates[0], None
    for rank, d in enumerate(candidates):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d, skipinitialspace=True)]
        except csv.Error:
            continue
        if not counts:
            continue
        hc = counts[0]
        consistent = sum(1 for c in counts if c == hc) / len(counts)
        score = (hc > 1, consistent, hc, -rank)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def window_bounds(total: int, start: int = 0, length: int | None = None) -> tuple[int, int]:
    """The steps ``[start, stop)`` a window reads of ``total``: checked, at most ``MAX_STEPS``."""
    start, stop = _window(start, length)
    if start >= total:
        raise InputError(
            f"The window starts at step {start:,}, past the end of the {total:,} steps: "
            f"choose a start below {total:,}."
        )
    return start, min(stop, total)


def _window(start: int, length: int | None) -> tuple[int, int]:
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise InputError(f"The window start must be a whole number ≥ 0, not {start!r}: use 0 for "
                         "the beginning.")
    if length is None:
        return int(start), int(start) + MAX_STEPS
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise InputError(f"The window length must be a whole number ≥ 1, not {length!r}: leave "
                         "it out to read as many steps as allowed.")
    if length > MAX_STEPS:
        raise InputError(f"The window length {length:,} is over the {MAX_STEPS:,} steps allowed: "
                         f"choose at most {MAX_STEPS:,}.")
    return int(start), int(start) + int(length)


def window_note(start: int, stop: int, total: int) -> str | None:
    """A sentence for ``meta["notes"]`` when the window is not the whole sequence, else None."""
    if start == 0 and stop == total:
        return None
    more = "; choose a window" if total > MAX_STEPS else ""
    return f"Steps {start:,}–{stop - 1:,} of {total:,}{more}."


def finish_meta(meta: dict[str, Any], notes: list[str], columns: Seq[str], start: int,
                stop: int, total: int) -> None:
    """The last entries of a read's ``meta``: the ``columns`` offered, the ``window`` read and
    the ``notes`` (with the window's sentence when not the whole sequence). Every reader ends so."""
    meta["columns"] = tuple(columns)
    meta["window"] = (start, stop, total)
    note = window_note(start, stop, total)
    if note:
        notes.append(note)
    meta["notes"] = notes


def pick_columns(available: Seq[str], columns: Seq[str | int] | None) -> list[int]:
    """Indices into ``available`` of the wanted ``columns`` (names or indices), in that order."""
    if columns is None:
        return list(range(len(available)))
    if isinstance(columns, str | int):
        columns = [columns]
    picked: list[int] = []
    for c in columns:
        if isinstance(c, int | np.integer) and not isinstance(c, bool):
            if not -len(available) <= c < len(available):
                raise InputError(
                    f"There is no feature {int(c)}: the file offers {len(available)} "
                    f"({_some(available)}), so choose an index from 0 to {len(available) - 1}."
                )
            k = int(c) % len(available)
        elif isinstance(c, str) and c in available:
            k = list(available).index(c)
        else:
            raise InputError(
                f"There is no feature {quote(str(c))} in the file: choose from "
                f"{_some(available)}."
            )
        if k not in picked:
            picked.append(k)
    if not picked:
        raise InputError(f"No feature is chosen: choose at least one of {_some(available)}.")
    return picked


def _some(names: Seq[str], most: int = 5) -> str:
    shown = ", ".join(quote(n, 20) for n in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")


def load_table(
    name: str,
    data: bytes,
    ext: str,
    *,
    columns: Seq[str | int] | None = None,
    start: int = 0,
    length: int | None = None,
    check_limit: bool = True,
) -> Sequence:
    """The table in ``data`` as a `Sequence` (see the module docstring)."""
    text = decode_text(data)
    if not text.strip():
        raise InputError(
            "The file has no content (only whitespace): upload a table with a header row "
            "and one row per time step."
        )
    w_start, w_stop = _window(start, length)
    delim = _sniff_delimiter(text, ext)
    decimal_comma = delim == ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, skipinitialspace=True)

    header: list[str] | None = None
    has_header = True
    width = 0
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    total = 0
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if header is None:
                header = [c.strip() for c in row]
                header_line = reader.line_num
                width = len(header)
                if width > MAX_FEATURES:
                    raise InputError(
                        f"The header has {width:,} columns, more than the "
                        f"{MAX_FEATURES:,} features allowed: keep at most {MAX_FEATURES:,} "
                        "columns (one per input feature)."
                    )
                cells = [_clean_cell(c, decimal_comma) for c in header]
                if len(cells) > 1 and not cells[-1]:
                    cells = cells[:-1]  # a trailing delimiter
                if any(_is_number(c, False) for c in cells) and all(
                    _is_number(c, False) or is_date(c) for c in cells
                ):
                    has_header = False  # a first row of numbers (and dates) is data
                else:
                    continue
            if len(row) != width:
                n, h = len(row), width
                what = "header has" if has_header else "first row has"
                raise InputError(
                    f"Row {reader.line_num} has {n} value{'s' if n != 1 else ''} but the {what} "
                    f"{h} column{'s' if h != 1 else ''}: every row needs one value per column."
                )
            if w_start <= total < w_stop:
                rows.append(row)
                lines.append(reader.line_num)
            total += 1
    except csv.Error as e:
        raise InputError(
            f"The table could not be parsed near row {reader.line_num} ({e}): check for an "
            "unclosed quote mark."
        ) from None

    if header is None:
        raise InputError(
            "The file has no readable rows (only empty fields or quote marks): upload a table "
            "with a header row and one row per time step."
        )
    if total == 0:
        raise InputError(
            "The file has a header but no data rows: add one row of numbers per time step "
            "below the header."
        )
    w_start, w_stop = window_bounds(total, w_start, w_stop - w_start)
    raw_first = header[0] if has_header else None
    nameless_last = not header[-1] if has_header else True
    header = [h if h and has_header else f"x{k}" for k, h in enumerate(header)]

    # A trailing delimiter on every line makes an empty, nameless last column: drop it.
    if width > 1 and nameless_last and all(not r[-1].strip() for r in rows):
        header = header[:-1]
        rows = [r[:-1] for r in rows]
        width -= 1

    cleaned_cols = [[_clean_cell(r[k], decimal_comma) for r in rows] for k in range(width)]
    meta: dict[str, Any] = {"source": "table", "delimiter": delim, "header": has_header}
    notes: list[str] = []
    if not has_header:
        notes.append(f"Row {header_line} holds numbers, so the file has no header: the columns "
                     "are named x0, x1, ….")
    numeric: dict[int, np.ndarray | None] = {k: _as_numbers(cleaned_cols[k]) for k in range(width)}

    # The time axis: the first column that is not numbers but (nearly) all dates.
    time_col: int | None = None
    dropped: list[str] = []
    for k in range(width):
        if numeric[k] is None:
            dates = sum(1 for c in cleaned_cols[k] if _DATE.match(c))
            if dates >= DATE_SHARE * len(rows) and dates > 0:
                if time_col is None:
                    time_col = k
                else:
                    dropped.append(header[k])
    feature_cols = [k for k in range(width) if k != time_col and header[k] not in dropped]
    # A pandas index column (nameless first column counting 0, 1, 2, ...) is not a feature.
    first = feature_cols[0] if feature_cols else None
    if (
        first is not None
        and len(feature_cols) > 1
        and first == 0
        and raw_first in ("", "Unnamed: 0", "index")
        and numeric[0] is not None
        and np.array_equal(numeric[0], np.arange(w_start, w_stop))
    ):
        feature_cols = feature_cols[1:]
        dropped.insert(0, "index")
    if not feature_cols:
        raise InputError(
            f"The table has only a time axis ({quote(header[time_col or 0])}) and no column of "
            "numbers: add a column of values, one per time step."
        )
    available = [header[k] for k in feature_cols]
    chosen = [feature_cols[i] for i in pick_columns(available, columns)]

    values = np.empty((len(rows), len(chosen)), dtype=np.float64)
    for j, k in enumerate(chosen):
        col = numeric[k]
        if col is None or out_of_range(col, F32_MAX) is not None:
            for r, s in enumerate(cleaned_cols[k]):
                if not _is_number(s, False) or not np.isfinite(v := float(s)) or abs(v) > F32_MAX:
                    raise _cell_error(rows[r][k], lines[r], k, header[k], decimal_comma)
            raise InputError(  # pragma: no cover
                "The table holds values that are not finite numbers: fix them and upload again."
            )
        values[:, j] = col
    if check_limit:
        over = out_of_range(values, MAX_ABS_VALUE)
        if over is not None:
            r, j = over.index
            k = chosen[j]
            raise InputError(
                f"Row {lines[r]}, column {k + 1} ({quote(header[k])}) holds "
                f"{quote(cleaned_cols[k][r])}{over.more}, over the {VALUE_LIMIT}: {SCALE_HINT}."
            )

    labels = None
    if time_col is not None:
        labels = tuple(cleaned_cols[time_col])
        meta["time_column"] = header[time_col]
        notes.append(f"Column {quote(header[time_col])} holds dates: it is the time axis "
                     "(the step labels), not a feature.")
    if dropped:
        meta["dropped_columns"] = tuple(dropped)
    finish_meta(meta, notes, available, w_start, w_stop, total)
    return Sequence(
        values=to_float32(values),
        name=name,
        feature_names=tuple(header[k] for k in chosen),
        labels=labels,
        meta=meta,
    )


def _as_numbers(cells: list[str]) -> np.ndarray | None:
    """The cells as float64 (possibly non-finite), or None when one is not a number."""
    try:
        return np.array(cells, dtype=np.float64).reshape(len(cells))
    except (ValueError, OverflowError):
        return None


def _is_number(s: str, decimal_comma: bool) -> bool:
    s = _clean_cell(s, decimal_comma)
    try:
        float(s)
    except ValueError:
        return False
    return True
