"""Uploaded bytes as a `Sequence`: tables (.csv / .tsv, see `tables`), .npy arrays, and any other
file as text, one-hot encoded per character. `check_features` says when a sequence does not fit
a model.

Table and array values must be finite and at most `MAX_ABS_VALUE` in absolute value.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    ARRAY_EXTENSIONS,
    MAX_ABS_VALUE,
    MAX_FEATURES,
    MAX_ONE_HOT_CELLS,
    MAX_STEPS,
    MODEL_EXTENSIONS,
    SCALE_HINT,
    TABLE_EXTENSIONS,
    VALUE_LIMIT,
    binary_kind,
    check_size,
    decode_text,
    display_char,
    file_ext,
    npy_header,
    out_of_range,
    to_float32,
)
from lstm_viz.files.sequence import Sequence
from lstm_viz.files.tables import load_table


def load_sequence(filename: str, data: bytes, *, vocab: tuple[str, ...] | None = None) -> Sequence:
    """Uploaded bytes -> `Sequence`, dispatching on the file extension.

    `.csv`/`.tsv` are read as a table, `.npy` as an array, anything else as text (one-hot per
    character, over `vocab` if given, else over the text's own sorted characters). Raises
    `InputError` with one actionable sentence for anything it cannot use.
    """
    check_size(data)
    data = bytes(data)
    ext = file_ext(filename)
    name = filename.strip().replace("\\", "/").rsplit("/", 1)[-1] or "upload"
    if ext in TABLE_EXTENSIONS:
        return load_table(name, data, ext)
    if ext in ARRAY_EXTENSIONS:
        return _load_npy(name, data)
    if ext in MODEL_EXTENSIONS:
        raise InputError(
            f"'{name}' is a model weights file, not a sequence: upload it as model weights, "
            "or upload a sequence as .csv, .tsv, .npy or .txt."
        )
    return _load_text(name, data, vocab)


_NPY_MAGIC = b"\x93NUMPY"


def _load_npy(name: str, data: bytes) -> Sequence:
    if not data.startswith(_NPY_MAGIC):
        kind = binary_kind(data)
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
        shape, dtype = npy_header(fp)
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
    bad = out_of_range(values, MAX_ABS_VALUE)
    if bad is not None and not bad.finite:
        raise InputError(
            f"'{name}' has a non-finite value ({bad.value}) at arr{list(bad.index)}{bad.more}: "
            "replace NaN and inf before saving, for example with np.nan_to_num or interpolation."
        )
    v32 = to_float32(values)
    if bad is not None:
        big = out_of_range(v32)
        if big is not None:
            raise InputError(
                f"'{name}' has a value too large for 32-bit floats ({values[big.index]:.3g}) at "
                f"arr{list(big.index)}, over the {VALUE_LIMIT}: {SCALE_HINT} before saving."
            )
        raise InputError(
            f"'{name}' has a value ({values[bad.index]:.10g}) at arr{list(bad.index)}{bad.more} "
            f"over the {VALUE_LIMIT}: {SCALE_HINT} before saving."
        )
    return Sequence(values=v32, name=name, meta={"source": "npy", "shape": tuple(arr.shape)})


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
    text = decode_text(data)
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
