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
    F32_MAX,
    MAX_ABS_VALUE,
    MAX_FEATURES,
    MAX_ONE_HOT_CELLS,
    MAX_STEPS,
    SCALE_HINT,
    VALUE_LIMIT,
    binary_kind,
    decode_text,
    display_char,
    npy_header,
    out_of_range,
    to_float32,
)
from lstm_viz.files.sequence import Sequence
from lstm_viz.files.tables import finish_meta, pick_columns, window_bounds, window_note


def load_sequence(filename: str, data: bytes, *, vocab: tuple[str, ...] | None = None) -> Sequence:
    """Uploaded bytes -> `Sequence`: `read_sequence` with no options (kept for its callers)."""
    from lstm_viz.files.read_sequence import read_sequence

    return read_sequence(filename, data, vocab)


_NPY_MAGIC = b"\x93NUMPY"


def load_npy(
    name: str,
    data: bytes,
    *,
    index: int | None = None,
    columns: Any = None,
    start: int = 0,
    length: int | None = None,
    check_limit: bool = True,
) -> Sequence:
    """A .npy array: (T,), (T, F), or a batch (N, T, F) of which ``index`` picks one (default 0);
    ``columns`` and the ``start``/``length`` window as for tables."""
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
    shape = tuple(int(n) for n in arr.shape)
    notes: list[str] = []
    meta: dict[str, Any] = {"source": "npy", "shape": shape}
    if arr.ndim == 3:
        n = shape[0]
        k = 0 if index is None else index
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k < n:
            raise InputError(
                f"'{name}' holds {n:,} sequence{'s' if n != 1 else ''} (shape {shape}), so the "
                f"sequence number must be from 0 to {n - 1:,}, not {k!r}."
            )
        arr = arr[int(k)]
        meta["batch"] = (int(k), n)
        notes.append(f"Sequence {int(k):,} of {n:,} (axis 0 of shape {shape} is the batch).")
    elif index not in (None, 0):
        raise InputError(
            f"'{name}' holds one sequence (shape {shape}), not a batch: leave the sequence "
            "number at 0."
        )
    total = int(arr.shape[0])
    w0, w1 = window_bounds(total, start, length)
    arr = arr[w0:w1]
    names = [f"x{k}" for k in range(arr.shape[1] if arr.ndim == 2 else 1)]
    chosen = pick_columns(names, columns)
    if arr.ndim == 2:
        arr = arr[:, chosen]
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
    bad = out_of_range(values, MAX_ABS_VALUE if check_limit else F32_MAX)
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
    finish_meta(meta, notes, names, w0, w1, total)
    return Sequence(values=v32, name=name, feature_names=tuple(names[k] for k in chosen),
                    meta=meta)


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
    if len(shape) > 3:
        raise InputError(
            f"'{name}' has shape {tuple(shape)} ({len(shape)}-D), but a sequence must be 1-D (T,), "
            "2-D (T, features) or a 3-D batch (N, T, features): save it as one of those."
        )
    if 0 in shape:
        raise InputError(
            f"'{name}' is empty (shape {tuple(shape)}): save an array with at least one step "
            "and one feature."
        )
    steps = shape[-2] if len(shape) == 3 else shape[0]
    if len(shape) >= 2 and shape[-1] > MAX_FEATURES:
        hint = " (if axis 0 is the features, save arr.T)" if steps <= MAX_FEATURES else ""
        raise InputError(
            f"'{name}' has {shape[-1]:,} features (columns), more than the {MAX_FEATURES:,} "
            f"allowed: save at most {MAX_FEATURES:,} columns{hint}."
        )


def load_text(
    name: str,
    data: bytes,
    vocab: tuple[str, ...] | None,
    *,
    start: int = 0,
    length: int | None = None,
) -> Sequence:
    """Text one-hot per character, over ``vocab`` or the whole file's sorted characters; a text
    longer than ``MAX_STEPS`` loads the ``start``/``length`` window (by default its beginning)."""
    whole = decode_text(data)
    whole = whole.replace("\r\n", "\n")
    if not whole:
        raise InputError("The text file is empty: upload a file with at least one character.")
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
        chars = tuple(sorted(set(whole)))
    if len(chars) > MAX_FEATURES:
        raise InputError(
            f"The text uses {len(chars):,} different characters, more than the {MAX_FEATURES:,} "
            "one-hot features allowed: use a text with a smaller alphabet."
        )
    # By default as many characters as the one-hot values allow (a long text over a big
    # alphabet loads its beginning); a window asked for is refused when it is too big.
    cut = length is None
    if cut:
        length = min(MAX_STEPS, MAX_ONE_HOT_CELLS // len(chars))
    w0, w1 = window_bounds(len(whole), start, length)
    text = whole[w0:w1]
    if len(text) * len(chars) > MAX_ONE_HOT_CELLS:
        raise InputError(
            f"The text has {len(text):,} characters over an alphabet of {len(chars):,}, too many "
            f"one-hot values ({len(text) * len(chars):,} > {MAX_ONE_HOT_CELLS:,}): choose a "
            f"window of at most {MAX_ONE_HOT_CELLS // len(chars):,} characters, or a text with "
            "fewer different characters."
        )
    index = {c: k for k, c in enumerate(chars)}
    codes = np.fromiter((index.get(c, -1) for c in text), dtype=np.int64, count=len(text))
    values = np.zeros((len(text), len(chars)), dtype=np.float32)
    known = codes >= 0
    values[np.nonzero(known)[0], codes[known]] = 1.0
    unknown = tuple(sorted({c for c in text if c not in index}))
    note = window_note(w0, w1, len(whole))
    if note and cut and w1 < len(whole) and "choose" not in note:
        note = note[:-1] + "; choose a window."
    meta: dict[str, Any] = {
        "source": "text",
        "unknown_chars": unknown,
        "unknown_count": int((~known).sum()),
        "window": (w0, w1, len(whole)),
        "notes": [f"Characters {note[len('Steps '):]}"] if note else [],
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
