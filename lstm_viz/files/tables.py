"""Tables (.csv / .tsv) as sequences: a header row naming the features, then one row per step.

The delimiter is sniffed (",", tab or ";" with decimal commas); every cell must be a number,
finite and within ``MAX_ABS_VALUE``. A cell that is not says where it is and what to do.
"""

from __future__ import annotations

import csv
import io
import re
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
            f"must be a number{hint}."
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


def load_table(name: str, data: bytes, ext: str) -> Sequence:
    text = decode_text(data)
    if not text.strip():
        raise InputError(
            "The file has no content (only whitespace): upload a table with a header row "
            "and one row per time step."
        )
    delim = _sniff_delimiter(text, ext)
    decimal_comma = delim == ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, skipinitialspace=True)

    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if header is None:
                header = [c.strip() for c in row]
                header_line = reader.line_num
                if len(header) > MAX_FEATURES:
                    raise InputError(
                        f"The header has {len(header):,} columns, more than the "
                        f"{MAX_FEATURES:,} features allowed: keep at most {MAX_FEATURES:,} "
                        "columns (one per input feature)."
                    )
                continue
            if len(row) != len(header):
                n, h = len(row), len(header)
                raise InputError(
                    f"Row {reader.line_num} has {n} value{'s' if n != 1 else ''} but the header "
                    f"has {h} column{'s' if h != 1 else ''}: every row needs one value per column."
                )
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) > MAX_STEPS:
                raise InputError(
                    f"The table has more than {MAX_STEPS:,} rows (time steps): upload at most "
                    f"{MAX_STEPS:,} rows, for example by cropping or downsampling the sequence."
                )
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
    if not rows:
        if all(_is_number(c, decimal_comma) for c in header):
            raise InputError(
                "The file has a single row of numbers and no header: add a header line naming "
                "each column (for example 'x0,x1') and put one time step per row below it."
            )
        raise InputError(
            "The file has a header but no data rows: add one row of numbers per time step "
            "below the header."
        )
    if all(_is_number(c, decimal_comma) for c in header):
        example = ",".join(f"x{k}" for k in range(min(len(header), 3)))
        example += ",…" if len(header) > 3 else ""
        raise InputError(
            f"Row {header_line} holds numbers, but the first row must be a header naming each "
            f"column: add a line such as '{example}' at the top of the file."
        )

    # A trailing delimiter on every line makes an empty, nameless last column: drop it.
    if len(header) > 1 and header[-1] == "" and all(not r[-1].strip() for r in rows):
        header = header[:-1]
        rows = [r[:-1] for r in rows]

    cleaned = [[_clean_cell(c, decimal_comma) for c in r] for r in rows]
    values: np.ndarray | None
    try:
        values = np.array(cleaned, dtype=np.float64).reshape(len(rows), len(header))
    except (ValueError, OverflowError):
        values = None
    if values is None or out_of_range(values, F32_MAX) is not None:
        for r, (row, line) in enumerate(zip(rows, lines, strict=True)):
            for k, cell in enumerate(row):
                s = cleaned[r][k]
                if not _is_number(s, False) or not np.isfinite(v := float(s)) or abs(v) > F32_MAX:
                    raise _cell_error(cell, line, k, header[k] or f"x{k}", decimal_comma)
        raise InputError("The table holds values that are not finite numbers.")  # pragma: no cover
    over = out_of_range(values, MAX_ABS_VALUE)
    if over is not None:
        r, k = over.index
        raise InputError(
            f"Row {lines[r]}, column {k + 1} ({quote(header[k] or f'x{k}')}) holds "
            f"{quote(cleaned[r][k])}{over.more}, over the {VALUE_LIMIT}: {SCALE_HINT}."
        )

    names = [h if h else f"x{k}" for k, h in enumerate(header)]
    meta: dict[str, Any] = {"source": "table", "delimiter": delim}
    # A pandas index column (nameless first column counting 0, 1, 2, ...) is not a feature.
    if (
        len(names) > 1
        and header[0] in ("", "Unnamed: 0", "index")
        and np.array_equal(values[:, 0], np.arange(len(values)))
    ):
        values = values[:, 1:]
        names = names[1:]
        meta["dropped_columns"] = ("index",)
    return Sequence(values=to_float32(values), name=name, feature_names=tuple(names), meta=meta)


def _is_number(s: str, decimal_comma: bool) -> bool:
    s = _clean_cell(s, decimal_comma)
    try:
        float(s)
    except ValueError:
        return False
    return True
