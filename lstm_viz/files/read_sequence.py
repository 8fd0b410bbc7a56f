"""`read_sequence`: the bytes of an uploaded sequence -> `Sequence`, with the options a real data
file needs (SPEC §7).

    seq = read_sequence("airline.csv", data)                     # Month is the time axis
    seq = read_sequence("q.csv", data, columns=["value"], scale="zscore")
    seq = read_sequence("batch.npy", data, index=3)              # sequence 3 of a (N, T, F) batch
    seq = read_sequence("novel.txt", data, start=200_000, length=5_000)

``seq.meta`` says what was done, for the UI: ``notes`` (one sentence each: the time axis, a
headerless table, the window, which sequence of a batch, constant columns when scaling),
``columns`` (the features offered, for a column picker), ``time_column``, ``window`` (start,
stop, total steps), ``batch`` (index, N) and ``scaling`` (see `scale_values`).

Through a model's vocabulary (``vocab=``, see `tokens`): text becomes token ids, and so does a
column or array of whole numbers within the vocabulary (``ids=True``, or detected). Such a
sequence has ``meta["token_ids"]`` (T,) int64, ``labels`` the tokens, and ``values`` one-hot rows
in the vocabulary's order (T, len(vocab)) when at most ``MAX_ONE_HOT_CELLS``, else the ids as one
float column (a model with an embedding reads ``token_ids``). ``meta["unknown_tokens"]`` (the most
frequent, with counts) and ``meta["unknown_note"]`` say what the vocabulary lacked.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq
from dataclasses import replace
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    ARRAY_EXTENSIONS,
    MAX_ABS_VALUE,
    MAX_ONE_HOT_CELLS,
    MODEL_EXTENSIONS,
    TABLE_EXTENSIONS,
    VALUE_LIMIT,
    check_size,
    decode_text,
    display_char,
    file_ext,
    npy_header,
    out_of_range,
    quote,
    to_float32,
)
from lstm_viz.files.sequence import Sequence
from lstm_viz.files.sequences import load_npy, load_text
from lstm_viz.files.tables import load_table
from lstm_viz.files.tokens import NAMED_UNKNOWN, check_vocab, token_mode, tokenize

SCALINGS = (None, "zscore", "minmax")


def read_sequence(
    filename: str,
    data: bytes,
    vocab: Seq[str] | None = None,
    *,
    columns: Seq[str | int] | str | int | None = None,
    scale: str | Mapping[str, Any] | None = None,
    index: int | None = None,
    start: int = 0,
    length: int | None = None,
    tokens: bool | None = None,
    ids: bool | None = None,
    one_hot: bool = True,
) -> Sequence:
    """Uploaded bytes -> `Sequence`, dispatching on the file extension.

    ``.csv``/``.tsv`` are tables (a date column becomes the step labels; a first row of numbers
    means no header), ``.npy`` an array (T,), (T, F) or a batch (N, T, F), anything else text,
    one-hot per character over ``vocab`` (or the text's own sorted characters).

    columns: the features to keep, by name or by index into ``meta["columns"]`` (tables, arrays).
    scale:   None, "zscore" or "minmax", per feature over the loaded steps; the statistics are in
             ``meta["scaling"]``. Or the statistics a model was trained with, applied as given:
             ``{"mean": [...], "std": [...]}`` or ``{"min": [...], "max": [...]}`` (one number
             a chosen feature, or one for all). Scaled data may hold raw values beyond
             ``MAX_ABS_VALUE``.
    index:   which sequence of a batched .npy (default 0).
    start, length: the window of steps to read; by default the first ``MAX_STEPS``, so a longer
             file loads its beginning (``meta["notes"]`` says so) instead of being refused.
    tokens:  text with ``vocab``: True tokenises it (`tokens.tokenize`: unknown tokens mapped to
             the vocabulary's ``<unk>`` or dropped, ``meta["token_ids"]``); None (default) does
             so unless the vocabulary is plain single characters, which keeps the one-hot of
             every character (an unknown one an all-zero row; ``token_ids`` only when all are
             known); False always the one-hot of characters.
    ids:     a table column or .npy of token ids into ``vocab``: True reads it as such (one
             column of whole numbers in [0, len(vocab))), None detects it, False never.
    one_hot: a token sequence's values are one-hot rows when they fit ``MAX_ONE_HOT_CELLS``;
             False gives the ids as one float column at once (for a model with an embedding,
             which reads ``meta["token_ids"]``).

    Raises `InputError` with one sentence for anything it cannot use.
    """
    check_size(data)
    data = bytes(data)
    if not isinstance(scale, Mapping) and scale not in SCALINGS:
        raise InputError(f"Unknown scaling {str(scale)[:30]!r}: use None, 'zscore', 'minmax' or "
                         "the statistics {'mean': […], 'std': […]} or {'min': […], 'max': […]}.")
    ext = file_ext(filename)
    name = filename.strip().replace("\\", "/").rsplit("/", 1)[-1] or "upload"
    if vocab is not None:
        vocab = check_vocab(vocab, "The model's vocabulary")
    elif ids:
        raise InputError(f"'{name}' is read as token ids, which need the model's vocabulary: "
                         "upload the model's vocabulary file first.")
    if ext in TABLE_EXTENSIONS:
        seq = load_table(name, data, ext, columns=columns, start=start, length=length,
                         check_limit=scale is None)
        if index not in (None, 0):
            raise InputError(f"'{name}' is a table, which holds one sequence: leave the sequence "
                             "number at 0.")
    elif ext in ARRAY_EXTENSIONS:
        seq = load_npy(name, data, index=index, columns=columns, start=start, length=length,
                       check_limit=scale is None)
    elif ext in MODEL_EXTENSIONS:
        raise InputError(
            f"'{name}' is a model weights file, not a sequence: upload it as model weights, "
            "or upload a sequence as .csv, .tsv, .npy or .txt."
        )
    else:
        if columns is not None or scale is not None or index not in (None, 0):
            raise InputError(
                f"'{name}' is read as text, one-hot per character, so it has no columns, scaling "
                "or batch to choose: upload numbers as .csv, .tsv or .npy."
            )
        if vocab is not None and (tokens or (tokens is None and (
                token_mode(vocab) == "words" or any(len(t) != 1 for t in vocab)))):
            return _tokenised_text(name, data, vocab, start, length, one_hot)
        seq = load_text(name, data, vocab, start=start, length=length)
        meta = dict(seq.meta, tokenised="chars", encoding="one-hot",
                    vocab_size=len(seq.vocab or ()), over="model" if vocab else "text")
        if vocab is not None:
            _check_known(seq, vocab)
            if not seq.meta["unknown_count"]:
                meta["token_ids"] = seq.values.argmax(axis=1).astype(np.int64)
        return replace(seq, meta=meta)
    if vocab is not None and ids is not False and (ids or scale is None):
        token_ids = _as_ids(name, seq, len(vocab), ext, data, must=bool(ids))
        if token_ids is not None:
            meta = dict(seq.meta, source="ids")
            return token_sequence(name, token_ids, vocab, meta=meta, one_hot=one_hot)
    if scale is None:
        return seq
    if isinstance(scale, Mapping):
        values, stats = apply_statistics(seq.values.astype(np.float64), scale, seq.feature_names)
    else:
        values, stats = scale_values(seq.values.astype(np.float64), scale, seq.feature_names)
    bad = out_of_range(values, MAX_ABS_VALUE)
    if bad is not None:
        raise InputError(
            f"Scaled with the given statistics, feature {quote(seq.feature_names[bad.index[1]])} "
            f"reaches {bad.value:.3g} at step {bad.index[0]:,}, over the {VALUE_LIMIT}: check "
            "that the statistics belong to these features."
        )
    meta: dict[str, Any] = dict(seq.meta)
    meta["scaling"] = stats
    if stats["constant"]:
        names = ", ".join(repr(n) for n in stats["constant"][:5])
        more = f" and {len(stats['constant']) - 5} more" if len(stats["constant"]) > 5 else ""
        meta["notes"] = [*meta.get("notes", []),
                         f"Constant feature{'s' if len(stats['constant']) > 1 else ''} "
                         f"{names}{more} scaled to 0 (no spread to divide by)."]
    return replace(seq, values=to_float32(values), meta=meta)


def scale_values(values: np.ndarray, method: str, names: Seq[str]) -> tuple[np.ndarray, dict]:
    """``values`` (T, F) scaled per column, and the statistics used.

    zscore: (x − mean) / std (population std); minmax: (x − min) / (max − min), into [0, 1].
    A constant column (std or range 0) becomes all 0 and is listed in ``"constant"``.
    The statistics: {"method", "features", "mean", "std"} or {"method", "features", "min",
    "max"}, one float a feature, plus "constant" (feature names) and "steps" (how many steps
    they were computed over).
    """
    names = tuple(names)
    if method == "zscore":
        a = values.mean(axis=0)
        b = values.std(axis=0)
        keys = ("mean", "std")
        spread = b
    elif method == "minmax":
        a = values.min(axis=0)
        b = values.max(axis=0)
        keys = ("min", "max")
        spread = b - a
    else:  # pragma: no cover - checked by the caller
        raise InputError(f"Unknown scaling {method!r}: use None, 'zscore' or 'minmax'.")
    constant = ~(spread > 0) | ~np.isfinite(spread)
    safe = np.where(constant, 1.0, spread)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (values - a) / safe
    out[:, constant] = 0.0
    stats = {
        "method": method,
        "features": names,
        keys[0]: [float(x) for x in a],
        keys[1]: [float(x) for x in b],
        "constant": tuple(n for n, c in zip(names, constant, strict=True) if c),
        "steps": int(values.shape[0]),
    }
    return out, stats


def apply_statistics(
    values: np.ndarray, given: Mapping[str, Any], names: Seq[str]
) -> tuple[np.ndarray, dict]:
    """``values`` scaled with statistics given by the caller (a model's training statistics):
    {"mean", "std"} -> (x − mean) / std, {"min", "max"} -> (x − min) / (max − min)."""
    names = tuple(names)
    keys = next((k for k in (("mean", "std"), ("min", "max")) if set(k) <= set(given)), None)
    if keys is None:
        raise InputError("The scaling statistics need 'mean' and 'std', or 'min' and 'max': "
                         "pass one number a feature for each.")
    f = values.shape[1]
    pair = []
    for key in keys:
        try:
            v = np.broadcast_to(np.asarray(given[key], dtype=np.float64).reshape(-1), (f,))
        except (TypeError, ValueError):
            raise InputError(
                f"The scaling statistic {key!r} must be one number, or one a feature ({f}): "
                "pass a list of numbers."
            ) from None
        if not np.all(np.isfinite(v)):
            raise InputError(f"The scaling statistic {key!r} holds a non-finite number: pass "
                             "finite numbers.")
        pair.append(v.astype(np.float64))
    a, b = pair
    spread = b if keys[0] == "mean" else b - a
    if np.any(spread <= 0):
        k = int(np.argmax(spread <= 0))
        what = "std" if keys[0] == "mean" else "max − min"
        raise InputError(f"The scaling {what} of feature {quote(names[k])} is {spread[k]:.3g}, "
                         "not positive: pass the statistics the model was trained with.")
    method = "zscore" if keys[0] == "mean" else "minmax"
    stats = {"method": method, "features": names, keys[0]: a.tolist(), keys[1]: b.tolist(),
             "constant": (), "steps": int(values.shape[0]), "given": True}
    return (values - a) / spread, stats


def vocab_shown(vocab: Seq[str], most: int = 16) -> str:
    """A character vocabulary in a sentence: "'()'" when short, else "of 60 characters"."""
    if len(vocab) <= most and all(len(v) == 1 for v in vocab):
        return "'" + "".join(display_char(v) for v in vocab) + "'"
    return f"of {len(vocab):,} tokens"


def _check_known(seq: Sequence, vocab: tuple[str, ...]) -> None:
    """Refuse a text none of whose characters the model's vocabulary has (it would be all-zero
    inputs): one sentence naming the vocabulary."""
    if seq.length and seq.meta["unknown_count"] == seq.length:
        raise InputError(
            f"None of the {seq.length:,} characters of the text is in the model's vocabulary "
            f"{vocab_shown(vocab)}: upload text made of those characters, or pick a task (or a "
            "fresh model) that reads this text.")


def _tokenised_text(name: str, data: bytes, vocab: tuple[str, ...], start: int,
                    length: int | None, one_hot: bool = True) -> Sequence:
    whole = decode_text(data).replace("\r\n", "\n")
    if not whole:
        raise InputError("The text file is empty: upload a file with at least one character.")
    tok = tokenize(whole, vocab, start=start, length=length)
    meta: dict[str, Any] = {"source": "text", "tokenised": tok.mode, "notes": [
        n for n in tok.notes if "outside the vocabulary" not in n]}
    meta["window"] = (*tok.window, tok.total)
    if tok.unknown:
        meta["unknown_tokens"] = tuple(tok.unknown.most_common(NAMED_UNKNOWN))
        meta["unknown_count"] = int(sum(tok.unknown.values()))
        meta["unknown_note"] = next(n for n in tok.notes if "outside the vocabulary" in n)
    labels = tuple(display_char(t) if tok.mode == "chars" else t for t in tok.tokens)
    text = whole[tok.spans[0][0]:tok.spans[-1][1]] if tok.spans else ""
    return token_sequence(name, tok.ids, vocab, labels=labels, text=text, meta=meta,
                          one_hot=one_hot)


def token_sequence(name: str, token_ids: np.ndarray, vocab: Seq[str], *,
                   labels: tuple[str, ...] | None = None, text: str | None = None,
                   meta: dict[str, Any] | None = None, one_hot: bool = True) -> Sequence:
    """A `Sequence` of token ids into ``vocab``: one-hot rows in the vocabulary's order when
    ``one_hot`` and T × len(vocab) ≤ ``MAX_ONE_HOT_CELLS``, else the ids as one float column."""
    token_ids = np.asarray(token_ids, dtype=np.int64).reshape(-1)
    n, t = len(vocab), len(token_ids)
    meta = dict(meta or {})
    meta["token_ids"] = token_ids
    meta["vocab_size"] = n
    if labels is None:
        labels = tuple(display_char(vocab[i]) if len(vocab[i]) == 1 else vocab[i]
                       for i in token_ids)
    if one_hot and t * n <= MAX_ONE_HOT_CELLS:
        values = np.zeros((t, n), dtype=np.float32)
        values[np.arange(t), token_ids] = 1.0
        names = tuple(display_char(v) if len(v) == 1 else v for v in vocab)
        meta["encoding"] = "one-hot"
        return Sequence(values, name, names, labels, text, tuple(vocab), meta)
    meta["encoding"] = "ids"
    if one_hot:
        meta.setdefault("notes", []).append(
            f"{t:,} tokens over a vocabulary of {n:,} are too many one-hot values (> "
            f"{MAX_ONE_HOT_CELLS:,}): the values are the token ids, for a model with an embedding."
        )
    return Sequence(token_ids.astype(np.float32)[:, None], name, ("token id",), labels, text,
                    None, meta)


def _as_ids(name: str, seq: Sequence, n: int, ext: str, data: bytes,
            must: bool) -> np.ndarray | None:
    """The token ids a one-column table or array holds (whole numbers in [0, n)), or None (or,
    when ``must``, one `InputError` sentence saying why not)."""
    def no(why: str) -> None:
        if must:
            raise InputError(f"'{name}' is not a sequence of token ids ({why}): upload one column "
                             f"of whole numbers from 0 to {n - 1:,}, the model's token ids.")
        return None

    if seq.n_features != 1:
        return no(f"it has {seq.n_features} columns; choose one")
    if ext == ".npy" and not must:
        try:
            import io

            _, dtype = npy_header(io.BytesIO(data))
        except Exception:
            dtype = None
        if dtype is None or dtype.kind not in "iu":
            return None
    v = seq.values[:, 0].astype(np.float64)
    if not np.all(v == np.round(v)):
        return no("it holds fractions")
    if v.min() < 0 or v.max() >= n:
        return no(f"it holds {v.min():g} to {v.max():g}, beyond the vocabulary of {n:,}")
    return v.astype(np.int64)
