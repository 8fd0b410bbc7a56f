"""Turn uploaded bytes into a `Sequence` or a state_dict, or say in one sentence what is wrong.

Everything here treats its input as hostile: pickles are never run (`allow_pickle=False`,
`torch.load(..., weights_only=True)`), sizes are checked before anything is allocated, and any
exception a parser raises comes back as an `InputError` whose message a person can act on.

Sequences (`load_sequence`):
    .csv / .tsv   a table: a header row naming the features, then one row per step.
    .npy          a numeric array (T,) or (T, F).
    anything else text, one-hot encoded per character.
Table and array values must be finite and at most `MAX_ABS_VALUE` in absolute value.

Model weights (`load_state_dict_file`): .pt / .pth (a state_dict), .safetensors, .npz.
`infer_config` reads the recurrent layer's configuration off the tensor names and shapes.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.sequence import Sequence

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_STEPS",
    "MAX_FEATURES",
    "MAX_ONE_HOT_CELLS",
    "MAX_ABS_VALUE",
    "MAX_ABS_WEIGHT",
    "TABLE_EXTENSIONS",
    "ARRAY_EXTENSIONS",
    "MODEL_EXTENSIONS",
    "VARIANT_BLOCKS",
    "VARIANTS_BY_BLOCKS",
    "display_char",
    "load_sequence",
    "check_features",
    "MAX_HIDDEN",
    "MAX_LAYERS",
    "MAX_PARAMS",
    "MAX_FILE_ELEMENTS",
    "MAX_UNPACKED_BYTES",
    "load_state_dict_file",
    "infer_config",
    "fitting_variants",
]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_STEPS = 200_000
MAX_FEATURES = 1024
# steps × vocabulary of a one-hot text (80 MB of float32): a long text over a big alphabet.
MAX_ONE_HOT_CELLS = 20_000_000
# Largest |value| a table or array sequence may hold. The core computes in float32 (max about
# 3.4e38); with inputs up to 1e6 and ordinary weights the input projection x @ W_ih.T stays far
# from overflow even over MAX_FEATURES features, while larger inputs (up to 3.4e38 parses fine)
# overflow it to inf/NaN with RuntimeWarnings. Data this large is unscaled: the message says so.
MAX_ABS_VALUE = 1e6
# Largest |weight| of an uploaded model. Trained LSTM weights are rarely above 100; with weights
# and inputs both within 1e6, no sum in the core comes near float32's overflow.
MAX_ABS_WEIGHT = 1e6

# Limits on an uploaded model, from what one step may cost. One step of one layer and direction
# is a matrix-vector product over all its weights: about 2 flops per weight, 2·G·H·(I + R) for G
# gate blocks of H units (4 for an LSTM: ~8·H·(I + H) flops), and every weight is read once. On
# one core NumPy streams float32 weights at a few GB/s, so 20 M parameters (80 MB) take about
# 10 ms a traced step (`python -m lstm_viz.bench.hostile` measured 9 ms at hidden 2,048, 4.8 ms
# at hidden 1,024 with 1,024 inputs): stepping stays interactive, a 1,000-step trace takes ~10 s.
# An LSTM with hidden 2,048 and 1 input has 16.8 M parameters, so MAX_HIDDEN lets one such layer
# in; 16 layers are far beyond what anyone stacks (torch models rarely go past 4) and bound the
# per-layer Python loops. A file that breaks one of these is refused before any weight is
# converted.
MAX_HIDDEN = 2048
MAX_LAYERS = 16
MAX_PARAMS = 20_000_000
# Every array in a file, before its recurrent part is picked: a 20 MB file of int8 holds 20 M
# values; twice MAX_PARAMS leaves room for an embedding and a head beside the recurrent layer.
MAX_FILE_ELEMENTS = 2 * MAX_PARAMS
# All stored tensors/arrays of a file after decompression (zip bombs); 320 MB.
MAX_UNPACKED_BYTES = 16 * MAX_UPLOAD_BYTES
_MAX_NPZ_UNCOMPRESSED = MAX_UNPACKED_BYTES
# Longest tensor name, key or file name a message quotes (longer ones end in "…").
_NAME_LIMIT = 60

TABLE_EXTENSIONS = (".csv", ".tsv")
ARRAY_EXTENSIONS = (".npy",)
MODEL_EXTENSIONS = (".pt", ".pth", ".safetensors", ".npz")

# Gate blocks per variant (SPEC §1): the number of hidden-size row blocks in weight_ih / weight_hh.
VARIANT_BLOCKS: dict[str, int] = {
    "vanilla": 4,
    "peephole": 4,
    "niaf": 4,
    "noaf": 4,
    "cifg": 3,
    "nig": 3,
    "nfg": 3,
    "nog": 3,
    "gru": 3,
    "rnn": 1,
}
VARIANTS_BY_BLOCKS: dict[int, tuple[str, ...]] = {
    4: ("vanilla", "peephole", "niaf", "noaf"),
    3: ("gru", "cifg", "nig", "nfg", "nog"),
    1: ("rnn",),
}

_F32_MAX = float(np.finfo(np.float32).max)
_VALUE_LIMIT = f"±{MAX_ABS_VALUE:,.0f} limit for input values"
_SCALE_HINT = (
    "scale or standardise the data (for example subtract each column's mean and divide by its "
    "standard deviation)"
)


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _ext(filename: str) -> str:
    name = filename.strip().lower()
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") and dot >= 0 else ""


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _check_size(data: bytes) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"Expected the file's bytes, got {type(data).__name__}: pass file.read().")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"The file is {_mb(len(data))}, over the {_mb(MAX_UPLOAD_BYTES)} upload limit: "
            "upload a shorter sequence or a smaller model."
        )
    if len(data) == 0:
        raise InputError("The file is empty (0 bytes): upload a file with some content.")


def _binary_kind(data: bytes) -> str | None:
    """Name a well-known binary format from its magic bytes, for friendlier messages."""
    magics = [
        (b"\x93NUMPY", "a NumPy .npy array"),
        (b"PK\x03\x04", "a zip archive (for example .npz, .pt or an Excel .xlsx)"),
        (b"PK\x05\x06", "an empty zip archive"),
        (b"\x80", "a Python pickle"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\xd0\xcf\x11\xe0", "an old Excel/Office document"),
        (b"\x7fELF", "a program (ELF binary)"),
    ]
    for magic, kind in magics:
        if data.startswith(magic):
            return kind
    return None


def _decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) to str, or an InputError telling how to re-save the file."""
    data = bytes(data)
    resave = "re-save it as UTF-8 (in most editors: Save As, Encoding: UTF-8) and upload again"
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError(f"The file is encoded as UTF-32, not UTF-8: {resave}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"The file is encoded as UTF-16, not UTF-8: {resave}.")
    kind = _binary_kind(data)
    if kind is not None:
        raise InputError(
            f"The file looks like {kind}, not text: upload a plain-text file "
            "(CSV/TSV for numbers, .npy for arrays)."
        )
    if b"\x00" in data:
        even, odd = data[0::2], data[1::2]
        if len(data) >= 4 and (
            odd.count(0) >= 0.4 * max(1, len(odd)) or even.count(0) >= 0.4 * max(1, len(even))
        ):
            raise InputError(f"The file looks like UTF-16 text, not UTF-8: {resave}.")
        raise InputError(
            "The file contains binary data (NUL bytes), not text: upload a plain-text file "
            "(CSV/TSV for numbers, .npy for arrays)."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        controls = sum(1 for b in data[:4096] if b < 9 or 13 < b < 32)
        if controls > 0.05 * min(len(data), 4096):
            raise InputError(
                "The file contains binary data, not text: upload a plain-text file "
                "(CSV/TSV for numbers, .npy for arrays)."
            ) from None
        bad = data[e.start]
        raise InputError(
            f"The file is not valid UTF-8 (byte 0x{bad:02X} at position {e.start} is not UTF-8; "
            f"it may be Latin-1 or Windows-1252): {resave}."
        ) from None


def display_char(c: str) -> str:
    """A visible label for one character: "␣" for space, "⏎" for newline, symbols for controls."""
    if c == " ":
        return "␣"
    if c == "\n":
        return "⏎"
    if c == "\t":
        return "⇥"
    if c == "\x7f":
        return "␡"
    if len(c) == 1 and ord(c) < 0x20:
        return chr(0x2400 + ord(c))
    return c


def _quote(s: str, limit: int = 30) -> str:
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return repr(s)


def _where_nonfinite(values: np.ndarray) -> tuple[tuple[int, ...], float, int]:
    bad = ~np.isfinite(values)
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return idx, float(values[idx]), int(bad.sum())


def _to_float32(values: np.ndarray) -> np.ndarray:
    """float64 -> float32 without RuntimeWarnings (overflow becomes inf, checked by the caller)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(np.float32)


# --------------------------------------------------------------------------------------------
# sequences
# --------------------------------------------------------------------------------------------


def load_sequence(filename: str, data: bytes, *, vocab: tuple[str, ...] | None = None) -> Sequence:
    """Uploaded bytes -> `Sequence`, dispatching on the file extension.

    `.csv`/`.tsv` are read as a table, `.npy` as an array, anything else as text (one-hot per
    character, over `vocab` if given, else over the text's own sorted characters). Raises
    `InputError` with one actionable sentence for anything it cannot use.
    """
    _check_size(data)
    data = bytes(data)
    ext = _ext(filename)
    name = filename.strip().replace("\\", "/").rsplit("/", 1)[-1] or "upload"
    if ext in TABLE_EXTENSIONS:
        return _load_table(name, data, ext)
    if ext in ARRAY_EXTENSIONS:
        return _load_npy(name, data)
    if ext in MODEL_EXTENSIONS:
        raise InputError(
            f"'{name}' is a model weights file, not a sequence: upload it as model weights, "
            "or upload a sequence as .csv, .tsv, .npy or .txt."
        )
    return _load_text(name, data, vocab)


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
    where = f"Row {line}, column {col + 1} ({_quote(col_name)})"
    s = _clean_cell(cell, decimal_comma)
    low = s.lower()
    if s == "":
        return InputError(
            f"{where} is empty: every cell below the header needs a number, so fill in "
            "or interpolate missing values, or delete the row."
        )
    if low in _MISSING_WORDS:
        return InputError(
            f"{where} is a missing value ({_quote(s)}): fill in or interpolate missing values, "
            "or delete the row, before uploading."
        )
    if low in _INF_WORDS:
        return InputError(
            f"{where} is infinite ({_quote(s)}): replace it with a finite number "
            "(for example clip or rescale the column)."
        )
    try:
        v = float(s)
    except ValueError:
        hint = ""
        if "," in s and not decimal_comma:
            hint = " (use a dot as the decimal separator and no thousands separators)"
        return InputError(
            f"{where} holds {_quote(s)}, which is not a number: every cell below the header "
            f"must be a number{hint}."
        )
    if abs(v) > _F32_MAX:
        return InputError(
            f"{where} holds {_quote(s)}, too large for 32-bit floats and over the "
            f"{_VALUE_LIMIT}: {_SCALE_HINT}."
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


def _load_table(name: str, data: bytes, ext: str) -> Sequence:
    text = _decode_text(data)
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
    if values is None or not np.isfinite(values).all() or np.abs(values).max() > _F32_MAX:
        for r, (row, line) in enumerate(zip(rows, lines, strict=True)):
            for k, cell in enumerate(row):
                s = cleaned[r][k]
                if not _is_number(s, False) or not np.isfinite(v := float(s)) or abs(v) > _F32_MAX:
                    raise _cell_error(cell, line, k, header[k] or f"x{k}", decimal_comma)
        raise InputError("The table holds values that are not finite numbers.")  # pragma: no cover
    over = np.abs(values) > MAX_ABS_VALUE
    if over.any():
        r, k = (int(i) for i in np.argwhere(over)[0])
        count = int(over.sum())
        more = f" (and {count - 1:,} more)" if count > 1 else ""
        raise InputError(
            f"Row {lines[r]}, column {k + 1} ({_quote(header[k] or f'x{k}')}) holds "
            f"{_quote(cleaned[r][k])}{more}, over the {_VALUE_LIMIT}: {_SCALE_HINT}."
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
    return Sequence(values=_to_float32(values), name=name, feature_names=tuple(names), meta=meta)


def _is_number(s: str, decimal_comma: bool) -> bool:
    s = _clean_cell(s, decimal_comma)
    try:
        float(s)
    except ValueError:
        return False
    return True


_NPY_MAGIC = b"\x93NUMPY"


def _load_npy(name: str, data: bytes) -> Sequence:
    if not data.startswith(_NPY_MAGIC):
        kind = _binary_kind(data)
        what = f"it looks like {kind}" if kind else "it does not start with the .npy signature"
        raise InputError(
            f"'{name}' is not a NumPy .npy file ({what}): save the array with "
            "np.save('data.npy', arr), or upload a CSV instead."
        )
    damaged = (
        f"'{name}' is damaged or truncated (its .npy header cannot be read): save it again "
        "with np.save and upload the complete file."
    )
    fp = io.BytesIO(data)
    try:
        shape, dtype = _npy_header(fp)
    except Exception:
        raise InputError(damaged) from None
    if dtype is not None and dtype.hasobject:
        raise _object_array_error(name)
    if shape is not None and dtype is not None:
        _check_array_shape(name, tuple(shape))
        need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        have = len(data) - fp.tell()
        if have < need:
            raise InputError(
                f"'{name}' is truncated: its header promises {need:,} bytes of data for shape "
                f"{tuple(shape)} but only {have:,} are there; upload the complete file."
            )
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise _object_array_error(name) from None
        raise InputError(damaged) from None
    except Exception:
        raise InputError(damaged) from None
    if not isinstance(arr, np.ndarray):
        raise InputError(damaged)
    _check_array_shape(name, arr.shape)
    if arr.dtype.hasobject:
        raise _object_array_error(name)
    if arr.dtype.kind not in "biuf":
        kinds = {
            "c": "complex numbers",
            "U": "text",
            "S": "bytes",
            "V": "structured records",
            "M": "dates",
            "m": "time spans",
        }
        what = kinds.get(arr.dtype.kind, f"dtype {arr.dtype}")
        raise InputError(
            f"'{name}' holds {what}, not real numbers: save a float array, for example "
            "np.save('data.npy', arr.astype(np.float32))."
        )
    values = arr.astype(np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if not np.isfinite(values).all():
        idx, v, count = _where_nonfinite(values)
        more = f" (and {count - 1:,} more)" if count > 1 else ""
        raise InputError(
            f"'{name}' has a non-finite value ({v}) at arr{list(idx)}{more}: replace NaN and inf "
            "before saving, for example with np.nan_to_num or interpolation."
        )
    v32 = _to_float32(values)
    if not np.isfinite(v32).all():
        idx, _, _ = _where_nonfinite(v32)
        raise InputError(
            f"'{name}' has a value too large for 32-bit floats ({values[idx]:.3g}) at "
            f"arr{list(idx)}, over the {_VALUE_LIMIT}: {_SCALE_HINT} before saving."
        )
    over = np.abs(values) > MAX_ABS_VALUE
    if over.any():
        idx = tuple(int(i) for i in np.argwhere(over)[0])
        count = int(over.sum())
        more = f" (and {count - 1:,} more)" if count > 1 else ""
        raise InputError(
            f"'{name}' has a value ({values[idx]:.10g}) at arr{list(idx)}{more} over the "
            f"{_VALUE_LIMIT}: {_SCALE_HINT} before saving."
        )
    return Sequence(values=v32, name=name, meta={"source": "npy", "shape": tuple(arr.shape)})


def _npy_header(fp: Any) -> tuple[tuple[int, ...] | None, np.dtype | None]:
    """Shape and dtype from a .npy header, read without loading data (None, None if v3)."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        return None, None
    return tuple(int(n) for n in shape), dtype


def _object_array_error(name: str) -> InputError:
    return InputError(
        f"'{name}' holds Python objects (a pickled or dtype=object array), which are never loaded "
        "for safety: save a numeric array, e.g. np.save('data.npy', arr.astype(np.float32))."
    )


def _check_array_shape(name: str, shape: tuple[int, ...]) -> None:
    if len(shape) == 0:
        raise InputError(
            f"'{name}' holds a single number (a 0-D array): save a 1-D (T,) or 2-D (T, features) "
            "array."
        )
    if len(shape) > 2:
        hint = ""
        if shape[0] == 1:
            hint = ", for example arr[0] to drop the batch axis"
        raise InputError(
            f"'{name}' has shape {tuple(shape)} ({len(shape)}-D), but a sequence must be 1-D (T,) "
            f"or 2-D (T, features): save one sequence as a 2-D array{hint}."
        )
    if 0 in shape:
        raise InputError(
            f"'{name}' is empty (shape {tuple(shape)}): save an array with at least one step "
            "and one feature."
        )
    if shape[0] > MAX_STEPS:
        raise InputError(
            f"'{name}' has {shape[0]:,} steps, more than the {MAX_STEPS:,} allowed: crop or "
            "downsample the sequence (axis 0 is time)."
        )
    if len(shape) == 2 and shape[1] > MAX_FEATURES:
        hint = " (if axis 0 is the features, save arr.T)" if shape[0] <= MAX_FEATURES else ""
        raise InputError(
            f"'{name}' has {shape[1]:,} features (columns), more than the {MAX_FEATURES:,} "
            f"allowed: save at most {MAX_FEATURES:,} columns{hint}."
        )


def _load_text(name: str, data: bytes, vocab: tuple[str, ...] | None) -> Sequence:
    text = _decode_text(data)
    text = text.replace("\r\n", "\n")
    if not text:
        raise InputError("The text file is empty: upload a file with at least one character.")
    if len(text) > MAX_STEPS:
        raise InputError(
            f"The text has {len(text):,} characters, more than the {MAX_STEPS:,} steps allowed "
            f"(one step per character): upload at most {MAX_STEPS:,} characters."
        )
    if vocab is not None:
        vocab = tuple(vocab)
        if not vocab:
            raise InputError("The model's vocabulary is empty: train the model on some text.")
        if any(not isinstance(v, str) or len(v) != 1 for v in vocab):
            raise InputError(
                "The vocabulary must be single characters: pass one character per one-hot feature."
            )
        if len(set(vocab)) != len(vocab):
            dup = next(v for v in vocab if vocab.count(v) > 1)
            raise InputError(
                f"The vocabulary lists {display_char(dup)!r} twice: every character must appear "
                "once."
            )
        chars = vocab
    else:
        chars = tuple(sorted(set(text)))
    if len(chars) > MAX_FEATURES:
        raise InputError(
            f"The text uses {len(chars):,} different characters, more than the {MAX_FEATURES:,} "
            "one-hot features allowed: use a text with a smaller alphabet."
        )
    if len(text) * len(chars) > MAX_ONE_HOT_CELLS:
        raise InputError(
            f"The text has {len(text):,} characters over an alphabet of {len(chars):,}, too many "
            f"one-hot values ({len(text) * len(chars):,} > {MAX_ONE_HOT_CELLS:,}): upload a "
            "shorter text or one with fewer different characters."
        )
    index = {c: k for k, c in enumerate(chars)}
    codes = np.fromiter((index.get(c, -1) for c in text), dtype=np.int64, count=len(text))
    values = np.zeros((len(text), len(chars)), dtype=np.float32)
    known = codes >= 0
    values[np.nonzero(known)[0], codes[known]] = 1.0
    unknown = tuple(sorted({c for c in text if c not in index}))
    meta: dict[str, Any] = {
        "source": "text",
        "unknown_chars": unknown,
        "unknown_count": int((~known).sum()),
    }
    return Sequence(
        values=values,
        name=name,
        feature_names=tuple(display_char(c) for c in chars),
        labels=tuple(display_char(c) for c in text),
        text=text,
        vocab=chars,
        meta=meta,
    )


def check_features(seq: Sequence, input_size: int) -> None:
    """Raise `InputError` if `seq` does not have exactly `input_size` features."""
    n = seq.n_features
    if n == input_size:
        return
    inputs = f"{input_size} input{'s' if input_size != 1 else ''}"
    if seq.vocab is not None:
        raise InputError(
            f"This text is one-hot encoded over {n} character{'s' if n != 1 else ''} but the "
            f"model expects {inputs}: load the text with the model's vocabulary, or choose/train "
            f"a model with input size {n}."
        )
    raise InputError(
        f"This sequence has {n} feature{'s' if n != 1 else ''} but the model expects {inputs}: "
        f"upload a file with {input_size} column{'s' if input_size != 1 else ''}, or "
        f"choose/train a model with input size {n}."
    )


# --------------------------------------------------------------------------------------------
# model weights
# --------------------------------------------------------------------------------------------

_PARAM_RE = re.compile(
    r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d{1,6})(_reverse)?$"
)
_PARAM_ANYWHERE = re.compile(
    r"^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d{1,6})(_reverse)?$"
)
# No parameter name is longer (a module path of many nested submodules is ~200 characters);
# longer keys skip the regular expressions, which would scan them on every call.
_MAX_PARAM_KEY = 1000
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")
_SAVE_HINT = "save the weights with torch.save(model.state_dict(), 'model.pt') and upload that"


def _match_anywhere(key: Any) -> re.Match[str] | None:
    """`_PARAM_ANYWHERE` on a key of sane length (else None)."""
    if not isinstance(key, str) or len(key) > _MAX_PARAM_KEY:
        return None
    return _PARAM_ANYWHERE.match(key)


def _clip(s: str, limit: int = _NAME_LIMIT) -> str:
    """`s` cut to `limit` characters, ending in "…" when cut (messages never echo long input)."""
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _forget(exc: BaseException | None) -> None:
    """Drop the locals of every frame in `exc`'s tracebacks (and its context's), so that a refused
    file's tensors are freed at once, even when a frame sits in a reference cycle and the garbage
    collector is off."""
    import traceback

    seen = 0
    while exc is not None and seen < 16:
        if exc.__traceback__ is not None:
            traceback.clear_frames(exc.__traceback__)
            exc.__traceback__ = None
        exc = exc.__context__ or exc.__cause__
        seen += 1


def load_state_dict_file(filename: str, data: bytes) -> dict[str, np.ndarray]:
    """A .pt/.pth, .safetensors or .npz file -> {torch parameter name: float ndarray}.

    Never runs pickled code. A checkpoint dict that wraps the state_dict under "state_dict",
    "model_state_dict" or "model" is unwrapped; "module." prefixes (DataParallel) are stripped;
    when the state_dict belongs to a bigger model (keys like "lstm.weight_ih_l0", "fc.weight"),
    the one recurrent submodule's tensors are kept, renamed without the prefix, and the rest
    dropped. Arrays come back float64 if stored as float64, else float32.

    Sizes are bounded before anything big is allocated: the archive's unpacked size
    (`MAX_UNPACKED_BYTES`), every array's element count (`MAX_FILE_ELEMENTS` in all, `MAX_PARAMS`
    for the recurrent part) and layer count (`MAX_LAYERS`), and torch tensors' layouts (no
    sparse, expanded or overlapping views). A refused file leaves nothing behind: the error
    carries no traceback into the file's tensors.
    """
    _check_size(data)
    ext = _ext(filename)
    label = "'" + _clip(filename.strip().replace("\\", "/").rsplit("/", 1)[-1] or "upload") + "'"
    message: str | None = None
    try:
        if ext in (".pt", ".pth"):
            raw = _read_torch(label, bytes(data))
        elif ext == ".safetensors":
            raw = _read_safetensors(label, bytes(data))
        elif ext == ".npz":
            raw = _read_npz(label, bytes(data))
        else:
            raise InputError(
                f"{label} is not a supported model file: upload a state_dict as .pt or .pth, "
                "or the weights as .safetensors or .npz."
            )
        entries = _select_recurrent(label, raw)
        del raw
        _check_recurrent_bounds(entries)
        out: dict[str, np.ndarray] = {}
        while entries:  # convert one tensor at a time, dropping each original as it is copied
            key, value = next(iter(entries.items()))
            del entries[key]
            out[key] = _to_float_array(key, value)
            del value
    except InputError as e:
        message = str(e)
        _forget(e)
    except Exception as e:  # any parser failure is the file's fault, never a crash
        message = (
            f"{label} could not be read as a model file ({type(e).__name__}): check that it is "
            f"complete and in the format its extension says, or {_SAVE_HINT}."
        )
        _forget(e)
    if message is not None:
        raw = entries = out = value = None  # noqa: F841  (nothing of the file outlives this)
        raise InputError(message)
    return out


def _check_layer_count(keys: Any) -> None:
    """Refuse more than MAX_LAYERS recurrent layers, from the names alone (linear time)."""
    top = -1
    for key in keys:
        m = _match_anywhere(key)
        if m is not None:
            top = max(top, int(m.group(3)))
    if top + 1 > MAX_LAYERS:
        raise InputError(
            f"The weights name {top + 1:,} recurrent layers (up to '_l{top}'), more than the "
            f"{MAX_LAYERS} allowed: upload a model with at most {MAX_LAYERS} layers."
        )


def _check_recurrent_bounds(entries: Mapping[str, Any]) -> None:
    """Layer count, each tensor's layout and the total size, before any tensor is copied."""
    _check_layer_count(entries)
    total = 0
    for key, value in entries.items():
        if "torch" in sys.modules and isinstance(value, sys.modules["torch"].Tensor):
            from lstm_viz.files.weight_checks import check_tensor_layout

            check_tensor_layout(_quote(key, _NAME_LIMIT), value, max_elements=MAX_PARAMS)
        total += int(np.prod(_shape(value), dtype=np.int64)) if hasattr(value, "shape") else 0
    if total > MAX_PARAMS:
        raise InputError(
            f"The recurrent layers hold {total:,} values, more than the {MAX_PARAMS:,} allowed "
            "(one step must stay quick to compute): upload a smaller model."
        )


def _check_torch_elements(raw: Any) -> None:
    """Every tensor in a loaded torch object: layouts and the total count, before any copy."""
    import torch

    from lstm_viz.files.weight_checks import check_tensor_layout

    total = 0
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:
        key, obj = stack.pop()
        if isinstance(obj, torch.Tensor):
            check_tensor_layout(_quote(key, _NAME_LIMIT), obj, max_elements=MAX_FILE_ELEMENTS)
            total += obj.numel()
        elif isinstance(obj, Mapping):
            stack.extend((k if isinstance(k, str) else repr(k)[:80], v) for k, v in obj.items())
        elif isinstance(obj, list | tuple):
            stack.extend((key, v) for v in obj)
        if total > MAX_FILE_ELEMENTS:
            raise InputError(
                f"The file holds more than {MAX_FILE_ELEMENTS:,} values, more than a model may "
                "have here: upload a smaller model (or only its recurrent layer's state_dict)."
            )


def _read_torch(label: str, data: bytes) -> Any:
    import pickle

    import torch

    from lstm_viz.files.weight_checks import check_torch_zip

    check_torch_zip(label, data, max_unpacked_bytes=MAX_UNPACKED_BYTES)
    message: str | None = None
    try:
        raw = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        if "torch.nn.modules" in msg or "GLOBAL __main__." in msg:
            message = (
                f"{label} holds a whole saved model (torch.save(model)), which cannot be loaded "
                f"safely: {_SAVE_HINT}."
            )
        elif "GLOBAL" in msg or "global" in msg:
            message = (
                f"{label} contains Python objects or code besides tensors, so it was refused for "
                f"safety: {_SAVE_HINT}."
            )
        else:
            message = (
                f"{label} is not a readable PyTorch file (it is damaged or not a torch.save file "
                f"of tensors): {_SAVE_HINT}."
            )
        _forget(e)
    except Exception as e:
        kind = _binary_kind(data)
        if data.startswith(b"PK\x03\x04"):
            what = "the zip archive inside is damaged or truncated"
        elif kind is not None and kind != "a Python pickle":
            what = f"it looks like {kind}"
        else:
            what = "it is damaged, truncated or not a torch.save file"
        message = f"{label} is not a readable PyTorch file ({what}): {_SAVE_HINT}."
        _forget(e)
    if message is not None:
        raise InputError(message)
    _check_torch_elements(raw)
    return raw


def _read_safetensors(label: str, data: bytes) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    from lstm_viz.files.weight_checks import safetensors_header

    header = safetensors_header(data)
    if header is not None:  # a header that does not parse is reported by safetensors below
        _check_layer_count(header)
        total = 0
        for entry in header.values():
            shape = entry.get("shape") if isinstance(entry, dict) else None
            if isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape):
                total += int(np.prod(shape, dtype=object))
        if total > MAX_FILE_ELEMENTS:
            raise InputError(
                f"{label} declares {total:,} values, more than the {MAX_FILE_ELEMENTS:,} a model "
                "may have here: upload a smaller model."
            )
    try:
        return load(data)
    except KeyError:
        pass  # a dtype numpy lacks (bfloat16): torch can read it
    except Exception as e:
        raise InputError(
            f"{label} is not a valid .safetensors file ({_safetensors_reason(e)}): save it "
            "again with safetensors and upload the complete file."
        ) from None
    import torch  # noqa: F401  (safetensors.torch needs it)
    from safetensors.torch import load as tload

    return tload(data)


def _safetensors_reason(e: Exception) -> str:
    msg = str(e).strip().rstrip(".")
    msg = msg.split(": ", 1)[-1] if msg.startswith("Error while deserializing") else msg
    return msg[:120] or type(e).__name__


def _read_npz(label: str, data: bytes) -> dict[str, np.ndarray]:
    if not data.startswith(b"PK"):
        kind = _binary_kind(data)
        what = f"it looks like {kind}" if kind else "it is not a zip archive"
        raise InputError(
            f"{label} is not a NumPy .npz file ({what}): save the weights with "
            "np.savez('model.npz', **state_dict)."
        )
    lying = None
    elements = 0   # every array's values: the float arrays they become are what costs memory
    as_floats = 0  # their bytes as float32 (float64 stays float64)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_layer_count([i.filename[:-4] for i in infos if i.filename.endswith(".npy")])
            total = sum(info.file_size for info in infos)
            for info in infos:  # each array's header must fit its member's size
                if total > _MAX_NPZ_UNCOMPRESSED or not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as member:
                    shape, dtype = _npy_header(member)
                if shape is None or dtype is None:
                    lying = info.filename[:-4]  # a version-3 header: never written for weights
                    break
                count = int(np.prod(shape, dtype=object))
                if count * dtype.itemsize > info.file_size:
                    lying = info.filename[:-4]
                    break
                elements += count
                as_floats += count * (8 if dtype == np.float64 else 4)
    except InputError:
        raise
    except Exception:
        raise InputError(
            f"{label} is a damaged or truncated .npz (zip) file: save it again with np.savez "
            "and upload the complete file."
        ) from None
    if total > _MAX_NPZ_UNCOMPRESSED:
        raise InputError(
            f"{label} unpacks to {_mb(total)}, more than the {_mb(_MAX_NPZ_UNCOMPRESSED)} "
            "allowed: upload a smaller model."
        )
    if lying is not None:
        raise InputError(
            f"{label} has a damaged array {_quote(lying, _NAME_LIMIT)} (its header promises more "
            "data than is stored): save it again with np.savez and upload the complete file."
        )
    if elements > MAX_FILE_ELEMENTS or as_floats > MAX_UNPACKED_BYTES:
        raise InputError(
            f"{label} holds {elements:,} values ({as_floats / 1024**2:,.0f} MB as floats), more "
            f"than the {MAX_FILE_ELEMENTS:,} a model may have here: upload a smaller model."
        )
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                out[key] = npz[key]
    except ValueError as e:
        pickled = "allow_pickle" in str(e) or "Object arrays" in str(e)
        out.clear()
        if pickled:
            raise InputError(
                f"{label} holds Python objects (pickled arrays), which are never loaded for "
                "safety: save only numeric arrays, np.savez('model.npz', **state_dict)."
            ) from None
        raise InputError(
            f"{label} has a damaged array inside: save it again with np.savez and upload the "
            "complete file."
        ) from None
    except Exception:
        out.clear()
        raise InputError(
            f"{label} is a damaged or truncated .npz file: save it again with np.savez and "
            "upload the complete file."
        ) from None
    return out


def _select_recurrent(label: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InputError(
            f"{label} holds a {type(raw).__name__}, not a state_dict (a mapping from names to "
            f"tensors): {_SAVE_HINT}."
        )
    entries: Mapping[Any, Any] = raw
    for _ in range(3):  # checkpoint {"state_dict": {...}, "epoch": 3, ...}
        if any(isinstance(k, str) and _match_anywhere(k) for k in entries):
            break
        inner = next(
            (entries[k] for k in _WRAPPER_KEYS if isinstance(entries.get(k), Mapping)), None
        )
        if inner is None:
            break
        entries = inner
    if not entries:
        raise InputError(f"{label} holds no tensors: {_SAVE_HINT}.")
    bad_key = next((k for k in entries if not isinstance(k, str)), None)
    if bad_key is not None:
        raise InputError(
            f"{label} has a non-text key {_clip(repr(bad_key))}, so it is not a state_dict: "
            f"{_SAVE_HINT}."
        )
    keys = [k[7:] if k.startswith("module.") else k for k in entries]
    values = list(entries.values())
    prefixes = sorted(
        {m.group(1) for k in keys if (m := _match_anywhere(k)) and m.group(1) != ""}
    )
    if any(len(k) <= _MAX_PARAM_KEY and _PARAM_RE.match(k) for k in keys) or not prefixes:
        return dict(zip(keys, values, strict=True))
    if len(prefixes) > 1:
        listed = ", ".join(_quote(p.rstrip("."), _NAME_LIMIT) for p in prefixes[:5])
        raise InputError(
            f"{label} holds several recurrent layers ({listed}): save the one to show, for "
            f"example torch.save(model.{_clip(prefixes[0].rstrip('.'))}.state_dict(), "
            "'model.pt')."
        )
    prefix = prefixes[0]
    return {k[len(prefix) :]: v for k, v in zip(keys, values, strict=True) if k.startswith(prefix)}


def _to_float_array(key: str, value: Any) -> np.ndarray:
    """One tensor as a float32 (or float64) ndarray: one copy, then checks without temporaries.

    Its size and layout were bounded before (`_check_recurrent_bounds`).
    """
    shown = _quote(key, _NAME_LIMIT)
    if isinstance(value, np.ndarray):
        arr = value
        if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
            raise InputError(
                f"Tensor {shown} has dtype {arr.dtype}, not real numbers: weights must be floats."
            )
        arr = np.array(arr, dtype=np.float64 if arr.dtype == np.float64 else np.float32, copy=True)
    elif "torch" in sys.modules and isinstance(value, sys.modules["torch"].Tensor):
        import torch

        t = value.detach()
        if t.is_complex():
            raise InputError(f"Tensor {shown} holds complex numbers: weights must be real.")
        if t.layout != torch.strided:  # refused by _check_recurrent_bounds already
            raise InputError(f"Tensor {shown} is sparse: save dense weights (t.to_dense()).")
        want = torch.float64 if t.dtype == torch.float64 else torch.float32
        arr = t.to("cpu").to(want, copy=True).numpy()
    else:
        raise InputError(
            f"Entry {shown} is a {type(value).__name__}, not a tensor: a state_dict maps names to "
            f"tensors only; {_SAVE_HINT}."
        )
    if arr.size == 0:
        return arr
    lo, hi = float(arr.min()), float(arr.max())  # NaN propagates: no temporaries
    if not (np.isfinite(lo) and np.isfinite(hi)):
        _, v, count = _where_nonfinite(arr)
        raise InputError(
            f"Tensor {shown} contains {count:,} non-finite value{'s' if count != 1 else ''} "
            f"(e.g. {v}): the training diverged; upload weights from an earlier checkpoint."
        )
    if lo < -MAX_ABS_WEIGHT or hi > MAX_ABS_WEIGHT:
        big = (arr < -MAX_ABS_WEIGHT) | (arr > MAX_ABS_WEIGHT)
        count = int(big.sum())
        raise InputError(
            f"Tensor {shown} has {count:,} weight{'s' if count != 1 else ''} beyond "
            f"±{MAX_ABS_WEIGHT:,.0f} (e.g. {float(arr[big].flat[0]):.3g}): a trained LSTM's "
            "weights are far smaller, so the training likely diverged; upload an earlier "
            "checkpoint."
        )
    return arr


# --------------------------------------------------------------------------------------------
# configuration from names and shapes
# --------------------------------------------------------------------------------------------


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in getattr(value, "shape", np.shape(value)))


def infer_config(state: Mapping[str, Any], variant: str | None = None) -> dict[str, Any]:
    """Read the configuration of a torch-named recurrent state_dict (SPEC §2).

    Returns {"variant_family", "variant", "input_size", "hidden_size", "num_layers",
    "bidirectional", "bias", "proj_size"}. `variant` fixes how many gate blocks the rows hold;
    without it 4 blocks -> "vanilla" ("peephole" if peephole weights are present), 3 -> "gru"
    (the 3-block LSTM variants cifg/nig/nfg/nog have the same shapes: pass `variant`), 1 -> "rnn".
    Raises `InputError` naming the offending tensor when the set is inconsistent.
    """
    if variant is not None and variant not in VARIANT_BLOCKS:
        raise InputError(f"Unknown variant {variant!r}: choose one of {', '.join(VARIANT_BLOCKS)}.")
    if not isinstance(state, Mapping) or not state:
        raise InputError(f"The state_dict is empty: {_SAVE_HINT}.")
    _check_layer_count(state)  # first: everything below is linear in the number of tensors

    parsed: dict[tuple[str, int, int], str] = {}
    for key in state:
        m = _PARAM_RE.match(key) if isinstance(key, str) and len(key) <= _MAX_PARAM_KEY else None
        if m is None:
            raise InputError(
                f"Unknown tensor {_quote(key, _NAME_LIMIT)}: expected torch LSTM/GRU/RNN names "
                "such as weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (save only the "
                "recurrent layer's state_dict)."
            )
        parsed[(m.group(1), int(m.group(2)), 1 if m.group(3) else 0)] = key
    shapes = {key: _shape(value) for key, value in state.items()}

    def name(kind: str, layer: int, d: int) -> str:
        return f"{kind}_l{layer}{'_reverse' if d else ''}"

    def require(kind: str, layer: int, d: int, why: str) -> tuple[int, ...]:
        key = name(kind, layer, d)
        if key not in state:
            raise InputError(f"Tensor '{key}' is missing: {why}.")
        return shapes[key]

    layers = {layer for (_, layer, _) in parsed}
    num_layers = max(layers) + 1
    for k in range(num_layers):
        if k not in layers:
            raise InputError(
                f"Layer {k} is missing (tensor '{name('weight_ih', k, 0)}' not found, but layer "
                f"{num_layers - 1} exists): upload the complete state_dict."
            )
    bidirectional = any(d == 1 for (_, _, d) in parsed)
    dirs = (0, 1) if bidirectional else (0,)
    bias = ("bias_ih", 0, 0) in parsed or ("bias_hh", 0, 0) in parsed
    has_proj = ("weight_hr", 0, 0) in parsed
    has_peep = ("weight_peephole", 0, 0) in parsed

    complete = "every layer and direction needs the same set of tensors"
    w0 = require("weight_ih", 0, 0, "it holds the input weights of layer 0")
    if len(w0) != 2:
        raise InputError(
            f"Tensor 'weight_ih_l0' has shape {w0}, but it must be 2-D (gate rows, input size): "
            "upload a torch LSTM/GRU/RNN state_dict."
        )
    rows, input_size = w0
    hh0 = require("weight_hh", 0, 0, "it holds the recurrent weights of layer 0")
    if len(hh0) != 2:
        raise InputError(
            f"Tensor 'weight_hh_l0' has shape {hh0}, but it must be 2-D (gate rows, hidden size)."
        )
    real_hidden = hh0[1]
    proj_size = 0
    if has_proj:
        hr = shapes[name("weight_hr", 0, 0)]
        if len(hr) != 2:
            raise InputError(
                f"Tensor 'weight_hr_l0' has shape {hr}, but it must be 2-D (proj_size, "
                "hidden_size)."
            )
        proj_size, hidden_size = hr
        if proj_size != real_hidden:
            raise InputError(
                f"Tensor 'weight_hh_l0' has {real_hidden} columns but 'weight_hr_l0' projects to "
                f"{proj_size} units: with a projection the recurrent weights take proj_size "
                "columns."
            )
        if not 0 < proj_size < hidden_size:
            raise InputError(
                f"Tensor 'weight_hr_l0' has shape {hr}: proj_size ({proj_size}) must be smaller "
                f"than hidden_size ({hidden_size}), as in torch."
            )
    else:
        hidden_size = real_hidden
    if hidden_size > MAX_HIDDEN:
        raise InputError(
            f"Tensor 'weight_hh_l0' {hh0} means a hidden size of {hidden_size:,}, more than the "
            f"{MAX_HIDDEN:,} allowed (each step must stay quick to compute): upload a model with "
            f"at most {MAX_HIDDEN:,} hidden units."
        )
    if hidden_size < 1 or input_size < 1:
        raise InputError(
            f"Tensor 'weight_ih_l0' has shape {w0} and 'weight_hh_l0' {hh0}: the input and "
            "hidden sizes must be at least 1."
        )
    if hh0[0] != rows:
        raise InputError(
            f"Tensor 'weight_hh_l0' has {hh0[0]} rows but 'weight_ih_l0' has {rows}: both stack "
            "the same gate blocks, so their row counts must match."
        )
    if rows % hidden_size:
        source = "weight_hr_l0's columns" if has_proj else "weight_hh_l0's columns"
        raise InputError(
            f"Tensors 'weight_ih_l0' {w0} and 'weight_hh_l0' {hh0} do not fit together: the "
            f"{rows} gate rows are not whole blocks of the hidden size {hidden_size} "
            f"({source})."
        )
    blocks = rows // hidden_size

    if variant is None:
        if has_peep:
            variant = "peephole"
        elif blocks == 3 and has_proj:
            raise InputError(
                "These weights have 3 gate blocks and a projection (weight_hr_l0), which fits the "
                "LSTM variants cifg, nig, nfg and nog: choose which variant they belong to."
            )
        elif blocks in VARIANTS_BY_BLOCKS:
            variant = VARIANTS_BY_BLOCKS[blocks][0]
        else:
            raise InputError(
                f"Tensor 'weight_ih_l0' has {rows} rows = {blocks} blocks of hidden size "
                f"{hidden_size}, but an LSTM has 4 (or 3 for some variants), a GRU 3 and an RNN 1: "
                "upload a torch LSTM/GRU/RNN state_dict."
            )
    want = VARIANT_BLOCKS[variant]
    if blocks != want:
        fits = ", ".join(VARIANTS_BY_BLOCKS.get(blocks, ())) or "no known variant"
        raise InputError(
            f"Tensor 'weight_ih_l0' has {rows} rows = {blocks} gate blocks of {hidden_size}, but "
            f"variant {variant!r} needs {want}: choose a variant with {blocks} blocks ({fits})."
        )
    family = "gru" if variant == "gru" else "rnn" if variant == "rnn" else "lstm"
    if has_proj and family != "lstm":
        raise InputError(
            f"Tensor 'weight_hr_l0' is a projection, which only LSTMs have, but variant "
            f"{variant!r} is a {family.upper()}: remove it or choose an LSTM variant."
        )
    if has_peep and variant != "peephole":
        raise InputError(
            f"Tensor 'weight_peephole_l0' belongs to the 'peephole' variant, not {variant!r}: "
            "choose variant 'peephole' or remove the peephole weights."
        )
    if variant == "peephole" and not has_peep:
        require("weight_peephole", 0, 0, "variant 'peephole' needs peephole weights")

    # every (layer, direction) has the same tensors, with the shapes the configuration implies
    expected: dict[str, tuple[int, ...]] = {}
    gate_rows = want * hidden_size
    for k in range(num_layers):
        in_k = input_size if k == 0 else len(dirs) * real_hidden
        for d in dirs:
            expected[name("weight_ih", k, d)] = (gate_rows, in_k)
            expected[name("weight_hh", k, d)] = (gate_rows, real_hidden)
            if bias:
                expected[name("bias_ih", k, d)] = (gate_rows,)
                expected[name("bias_hh", k, d)] = (gate_rows,)
            if has_proj:
                expected[name("weight_hr", k, d)] = (proj_size, hidden_size)
            if variant == "peephole":
                expected[name("weight_peephole", k, d)] = (3, hidden_size)
    params = sum(int(np.prod(shape, dtype=np.int64)) for shape in expected.values())
    if params > MAX_PARAMS:
        raise InputError(
            f"This {family.upper()} ({input_size:,} inputs, {hidden_size:,} units, {num_layers} "
            f"layer{'s' if num_layers != 1 else ''}) has {params:,} parameters, more than the "
            f"{MAX_PARAMS:,} allowed (each step must stay quick to compute): upload a smaller "
            "model."
        )
    for key, shape in expected.items():
        if key not in state:
            why = complete
            if key.endswith("_reverse"):
                why = "a bidirectional model needs reverse weights in every layer"
            elif key.startswith("bias"):
                why = "with bias=True every layer and direction needs bias_ih and bias_hh"
            elif key.startswith("weight_hr"):
                why = "a projection (weight_hr) must be in every layer and direction"
            raise InputError(f"Tensor '{key}' is missing: {why}.")
        if shapes[key] != shape:
            detail = ""
            if key.startswith("weight_ih") and not key.startswith("weight_ih_l0"):
                dir_note = "2 × " if bidirectional else ""
                detail = (
                    f" (layer {key.split('_l')[1].split('_')[0]} takes the {dir_note}"
                    f"{real_hidden} outputs of the layer below)"
                )
            raise InputError(
                f"Tensor '{key}' has shape {shapes[key]} but the rest of the model implies "
                f"{shape}{detail}: the tensors do not belong to one {family.upper()}."
            )
    for key in state:
        if key not in expected:
            kind = _PARAM_RE.match(key).group(1)  # type: ignore[union-attr]
            why = {
                "bias_ih": "bias tensors must be in every layer and direction, or in none",
                "bias_hh": "bias tensors must be in every layer and direction, or in none",
                "weight_hr": "weight_hr must be in every layer and direction, or in none",
                "weight_peephole": "peephole weights must be in every layer and direction",
            }.get(kind, complete)
            raise InputError(f"Tensor '{key}' is unexpected here: {why}.")
    return {
        "variant_family": family,
        "variant": variant,
        "input_size": int(input_size),
        "hidden_size": int(hidden_size),
        "num_layers": int(num_layers),
        "bidirectional": bool(bidirectional),
        "bias": bool(bias),
        "proj_size": int(proj_size),
    }


def fitting_variants(state: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The inferred variant and every variant the tensors fit; `InputError` if none fits.

    The file cannot tell a GRU from the 3-block LSTM variants (cifg, nig, nfg, nog), nor vanilla
    from niaf / noaf: same names, same shapes. So the person picks among the ones that fit.
    Only messages are kept, never an exception: a caught exception's traceback would hold
    `state` alive in a reference cycle after the caller lets go of it.
    """
    from lstm_viz.core import VARIANTS

    inferred: str | None = None
    first_error = (
        "These tensors fit no known variant: save the recurrent module's state_dict with "
        "torch.save(lstm.state_dict(), 'lstm.pt')."
    )
    try:
        inferred = infer_config(state)["variant"]
    except InputError as exc:
        first_error = str(exc)
        if "allowed" in first_error:  # a limit: no variant can fit, and no need to try them all
            raise InputError(first_error) from None
    fits = []
    for variant in VARIANTS:
        try:
            infer_config(state, variant)
        except InputError:
            continue
        fits.append(variant)
    if not fits:
        raise InputError(first_error)
    inferred = inferred or fits[0]
    return inferred, [inferred] + [v for v in fits if v != inferred]
