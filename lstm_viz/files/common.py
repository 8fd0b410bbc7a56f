"""What every reader of an upload shares: the size check, text decoding, quoting and clipping in
messages, and the one finite-and-within-limits check of an array (``out_of_range``).

Also the limits on uploaded sequences and the file extensions each reader takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from lstm_viz.errors import InputError

T = TypeVar("T")

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
# Longest tensor name, key or file name a message quotes (longer ones end in "…").
NAME_LIMIT = 60

TABLE_EXTENSIONS = (".csv", ".tsv")
ARRAY_EXTENSIONS = (".npy",)
MODEL_EXTENSIONS = (".pt", ".pth", ".safetensors", ".npz")

F32_MAX = float(np.finfo(np.float32).max)
VALUE_LIMIT = f"±{MAX_ABS_VALUE:,.0f} limit for input values"
SCALE_HINT = (
    "scale or standardise the data (for example subtract each column's mean and divide by its "
    "standard deviation)"
)
SAVE_HINT = "save the weights with torch.save(model.state_dict(), 'model.pt') and upload that"


def file_ext(filename: str) -> str:
    name = filename.strip().lower()
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") and dot >= 0 else ""


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def check_size(data: bytes) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"Expected the file's bytes, got {type(data).__name__}: pass file.read().")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"The file is {mb(len(data))}, over the {mb(MAX_UPLOAD_BYTES)} upload limit: "
            "upload a shorter sequence or a smaller model."
        )
    if len(data) == 0:
        raise InputError("The file is empty (0 bytes): upload a file with some content.")


def binary_kind(data: bytes) -> str | None:
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


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) to str, or an InputError telling how to re-save the file."""
    data = bytes(data)
    resave = "re-save it as UTF-8 (in most editors: Save As, Encoding: UTF-8) and upload again"
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError(f"The file is encoded as UTF-32, not UTF-8: {resave}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"The file is encoded as UTF-16, not UTF-8: {resave}.")
    kind = binary_kind(data)
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


def quote(s: str, limit: int = 30) -> str:
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return repr(s)


def clip(s: str, limit: int = NAME_LIMIT) -> str:
    """`s` cut to `limit` characters, ending in "…" when cut (messages never echo long input)."""
    return s if len(s) <= limit else s[: limit - 1] + "…"


def one_sentence(label: str, read: Callable[[], T], hint: str) -> T:
    """``read()``, with every failure as one ``InputError`` sentence: an ``InputError`` keeps its
    message, any other exception (a parser's: the file's fault, never a crash) says the file
    could not be read and ends with ``hint``. Nothing of the file outlives a refusal: the
    exception's frames are cleared (`forget`) before the sentence is raised."""
    message = ""
    try:
        return read()
    except InputError as e:
        message = str(e)
        forget(e)
    except Exception as e:
        message = (f"{label} could not be read as a model file ({type(e).__name__}): check that "
                   f"it is complete and in the format its extension says, or {hint}.")
        forget(e)
    raise InputError(message)


def forget(exc: BaseException | None) -> None:
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


def to_float32(values: np.ndarray) -> np.ndarray:
    """float64 -> float32 without RuntimeWarnings (overflow becomes inf, checked by the caller)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(np.float32)


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in getattr(value, "shape", np.shape(value)))


def npy_header(fp: Any) -> tuple[tuple[int, ...] | None, np.dtype | None]:
    """Shape and dtype from a .npy header, read without loading data (None, None if v3)."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        return None, None
    return tuple(int(n) for n in shape), dtype


@dataclass(frozen=True)
class OutOfRange:
    """The first value of an array that is not finite, or else beyond a limit, and how many are.

    finite: False when the values include NaN or ±inf (then ``index`` is the first of those),
    True when all are finite and some lie beyond the limit.
    """

    finite: bool
    index: tuple[int, ...]
    value: float
    count: int

    @property
    def more(self) -> str:
        """" (and 3 more)" after the first one, "" when it is the only one."""
        return f" (and {self.count - 1:,} more)" if self.count > 1 else ""


def out_of_range(values: np.ndarray, limit: float = np.inf) -> OutOfRange | None:
    """The first non-finite value of ``values`` (C order), else the first beyond ±``limit``; None
    when every value is finite and within it. The common case (all fine) makes no temporaries:
    min and max propagate NaN."""
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if np.isfinite(lo) and np.isfinite(hi) and -limit <= lo and hi <= limit:
        return None
    bad = ~np.isfinite(values)
    finite = not bad.any()
    if finite:
        bad = (values < -limit) | (values > limit)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return OutOfRange(finite, index, float(values[index]), int(bad.sum()))
