"""Text and token ids through a model's own vocabulary, and vocabulary files.

    ids, tokens, unknown = tokenize("The cat sat.", vocab)
    vocab = read_vocab("vocab.json", data)

How text becomes tokens (`tokenize`):

- **characters** when every ordinary entry of the vocabulary is one character ("a", " ", "\\n");
  **words** otherwise: runs of letters/digits/underscore and single punctuation marks, split at
  whitespace (``\\w+|[^\\w\\s]``). Case is kept; when no ordinary entry holds an upper-case letter
  and a token is not found as written, its lower-case form is tried.
- **special tokens** (``<pad>``, ``<s>``, ``</s>``, ``[CLS]``: an entry wrapped in ``<…>`` or
  ``[…]``, longer than one character) are never produced from text; only the unknown entry is
  used, for what the vocabulary lacks.
- **unknown tokens**: mapped to the vocabulary's ``<unk>`` / ``<UNK>`` / ``[UNK]`` / ``<oov>``
  entry when it has one; else **dropped** (the sequence holds the known tokens only). Either way
  they are counted in ``unknown`` and named in a note (up to 8, with counts). When **no** token
  of the text is in the vocabulary the text is refused (`InputError`): it is in another
  language, case or tokenisation than the model's.
- bounded: at most ``MAX_STEPS`` tokens (a window of a longer text, with a note).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import decode_text, display_char, file_ext, quote

__all__ = ["tokenize", "read_vocab", "Tokens", "UNK_TOKENS", "MAX_VOCAB", "token_mode"]

UNK_TOKENS = ("<unk>", "<UNK>", "[UNK]", "<oov>", "<OOV>")
MAX_VOCAB = 1_000_000
MAX_TOKEN_CHARS = 1_000
NAMED_UNKNOWN = 8            # unknown tokens a note names (the most frequent first)
_WORD_RE = re.compile(r"\w+|[^\w\s]")
_SPECIAL_RE = re.compile(r"^(<[^<>\s]+>|\[[^\[\]\s]+\])$")


def is_special(token: str) -> bool:
    """``<pad>``, ``</s>``, ``[CLS]``: a marker, never produced from text."""
    return len(token) > 1 and _SPECIAL_RE.match(token) is not None


def token_mode(vocab: Seq[str]) -> str:
    """"chars" when every ordinary (not special) entry is one character, else "words"."""
    plain = [t for t in vocab if not is_special(t)]
    return "chars" if plain and all(len(t) == 1 for t in plain) else "words"


def unk_id(vocab: Seq[str]) -> int | None:
    """The id of the vocabulary's unknown entry, or None."""
    for name in UNK_TOKENS:
        if name in vocab:
            return list(vocab).index(name)
    return None


@dataclass(frozen=True)
class Tokens:
    """What `tokenize` found. Unpacks as ``ids, tokens, unknown``.

    ids:     (T,) int64 ids into the vocabulary (the window of at most ``MAX_STEPS``).
    tokens:  T token strings as written in the text (a mapped unknown keeps its own text).
    unknown: Counter of the tokens not in the vocabulary (over the whole text).
    mode:    "chars" or "words"; ``lowered``: tokens found only in lower case;
    unk:     the id unknown tokens were mapped to, or None (they were dropped);
    spans:   (start, stop) character offsets of each token in the text;
    total:   how many tokens the whole text gave (before the window).
    """

    ids: np.ndarray
    tokens: tuple[str, ...]
    unknown: Counter
    mode: str = "chars"
    lowered: int = 0
    unk: int | None = None
    spans: tuple[tuple[int, int], ...] = ()
    total: int = 0
    window: tuple[int, int] = (0, 0)
    notes: list[str] = field(default_factory=list)

    def __iter__(self):  # ids, tokens, unknown = tokenize(...)
        return iter((self.ids, self.tokens, self.unknown))


def check_vocab(vocab: Seq[str], what: str = "The vocabulary") -> tuple[str, ...]:
    """A usable vocabulary as a tuple, or one `InputError` sentence."""
    if isinstance(vocab, str) or not isinstance(vocab, Seq | tuple | list):
        raise InputError(f"{what} must be a list of token strings in id order.")
    vocab = tuple(vocab)
    if not vocab:
        raise InputError(f"{what} is empty: give at least one token.")
    if len(vocab) > MAX_VOCAB:
        raise InputError(f"{what} has {len(vocab):,} tokens, more than the {MAX_VOCAB:,} allowed.")
    bad = next((k for k, t in enumerate(vocab) if not isinstance(t, str)), None)
    if bad is not None:
        raise InputError(f"{what} holds a {type(vocab[bad]).__name__} at id {bad}, not text: "
                         "every entry must be a token string.")
    long = next((k for k, t in enumerate(vocab) if len(t) > MAX_TOKEN_CHARS), None)
    if long is not None:
        raise InputError(f"{what} has a token of {len(vocab[long]):,} characters at id {long}, "
                         f"more than the {MAX_TOKEN_CHARS:,} a token may have.")
    return vocab


def _note_unknown(unknown: Counter, unk: int | None, vocab: Seq[str]) -> str:
    n = sum(unknown.values())
    named = ", ".join(f"{quote(display_char(t) if len(t) == 1 else t, 24)} ×{c:,}"
                      for t, c in unknown.most_common(NAMED_UNKNOWN))
    more = len(unknown) - NAMED_UNKNOWN
    extra = f" and {more:,} more" if more > 0 else ""
    fate = (f"mapped to {vocab[unk]!r}" if unk is not None
            else "dropped (the vocabulary has no unknown entry)")
    return (f"{n:,} token{'s' if n != 1 else ''} outside the vocabulary, {fate}: "
            f"{named}{extra}.")


def tokenize(text: str, vocab: Seq[str], *, start: int = 0,
             length: int | None = None) -> Tokens:
    """``text`` -> token ids through ``vocab`` (see the module's rules). ``start``/``length``
    choose a window of tokens (default: the first ``MAX_STEPS``). Raises `InputError`."""
    from lstm_viz.files.tables import _window, window_bounds, window_note

    vocab = check_vocab(vocab)
    if not isinstance(text, str):
        raise InputError("The text must be a string.")
    w0, w1 = _window(start, length)                  # checked; stop clipped to the total below
    mode = token_mode(vocab)
    index: dict[str, int] = {}
    for k, t in enumerate(vocab):
        if t and not is_special(t):
            index.setdefault(t, k)
    lower_ok = mode == "words" and not any(t != t.lower() for t in index)
    unk = unk_id(vocab)
    if mode == "chars":
        pieces = ((c, k, k + 1) for k, c in enumerate(text))
    else:
        pieces = ((m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text))
    ids: list[int] = []
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    unknown: Counter = Counter()
    lowered = seen = total = known = 0
    for tok, a, b in pieces:             # only the window is kept: a 20 MB text stays cheap
        seen += 1
        k = index.get(tok)
        if k is None and lower_ok:
            k = index.get(tok.lower())
            lowered += k is not None
        if k is None:
            unknown[tok] += 1
            if unk is None:
                continue
            k = unk
        else:
            known += 1
        if w0 <= total < w1:
            ids.append(k)
            tokens.append(tok)
            spans.append((a, b))
        total += 1
    if not seen:
        raise InputError("The text holds no tokens: type or upload some words.")
    if not known:
        shown = ", ".join(quote(t, 20) for t, _ in unknown.most_common(4))
        raise InputError(
            f"None of the text's {seen:,} {'characters' if mode == 'chars' else 'tokens'} "
            f"({shown}) is in the model's vocabulary of {len(vocab):,}: use text in the "
            "model's language and case, or the vocabulary the model was trained with."
        )
    w0, w1 = window_bounds(total, w0, w1 - w0)
    notes = []
    if unknown:
        notes.append(_note_unknown(unknown, unk, vocab))
    if lowered:
        notes.append(f"{lowered:,} token{'s' if lowered != 1 else ''} found in lower case (the "
                     "vocabulary is all lower-case).")
    note = window_note(w0, w1, total)
    if note:
        notes.append(f"Tokens {note[len('Steps '):]}")
    return Tokens(np.asarray(ids, dtype=np.int64), tuple(tokens), unknown, mode, lowered, unk,
                  tuple(spans), total, (w0, w1), notes)


# -- vocabulary files ----------------------------------------------------------------------------
def read_vocab(filename: str, data: bytes) -> list[str]:
    """A vocabulary file -> token strings in id order, or one `InputError` sentence.

    Formats: a JSON list of tokens; a JSON object token -> id ({"the": 0, ...}) or id -> token
    ({"0": "the", ...}) whose ids are exactly 0 … n−1; or text, one token a line (a line
    "token<TAB>anything" in every line keeps the token: sentencepiece's .vocab).
    """
    from lstm_viz.files.common import check_size

    check_size(data)
    name = quote(str(filename).replace("\\", "/").rsplit("/", 1)[-1] or "upload", 40)
    try:
        text = decode_text(bytes(data))
    except InputError as e:
        raise InputError(f"{name} is not a vocabulary: {str(e)[0].lower()}{str(e)[1:]}") from None
    head = text.lstrip()
    if file_ext(str(filename)) == ".json" or head.startswith(("[", "{")):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            raise InputError(f"{name} is not valid JSON: save the vocabulary with json.dump(vocab, "
                             "f), or as text with one token a line.") from None
        vocab = _from_json(name, obj)
    else:
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if lines and all("\t" in line for line in lines):
            lines = [line.split("\t", 1)[0] for line in lines]
        empty = next((k for k, line in enumerate(lines) if line == ""), None)
        if empty is not None:
            raise InputError(f"{name} has an empty line ({empty + 1:,}), and a vocabulary file "
                             "holds one token a line: remove empty lines, or save it as a JSON "
                             "list.")
        vocab = lines
    vocab = list(check_vocab(vocab, f"The vocabulary in {name}"))
    seen: dict[str, int] = {}
    for k, t in enumerate(vocab):
        if t in seen:
            raise InputError(f"{name} lists the token {quote(t, 24)} twice (ids {seen[t]} and "
                             f"{k}): every token must appear once.")
        seen[t] = k
    return vocab


def _from_json(name: str, obj: Any) -> list[str]:
    if isinstance(obj, list):
        if not all(isinstance(t, str) for t in obj):
            raise InputError(f"{name} is a JSON list that holds more than text: a vocabulary is "
                             "a list of token strings in id order.")
        return obj
    if isinstance(obj, dict):
        items = list(obj.items())
        if items and all(isinstance(v, int) and not isinstance(v, bool) for _, v in items):
            pairs = {v: k for k, v in items}                       # token -> id
        elif items and all(isinstance(v, str) and k.strip().isdigit() for k, v in items):
            pairs = {int(k): v for k, v in items}                  # id -> token
        else:
            raise InputError(f"{name} is a JSON object but not token -> id or id -> token: save "
                             "the vocabulary as {\"token\": id, …} or a list of tokens.")
        if len(pairs) != len(items) or set(pairs) != set(range(len(pairs))):
            raise InputError(f"{name} does not number its {len(items):,} tokens 0 to "
                             f"{len(items) - 1:,}, each once: the ids must be the rows of the "
                             "model's embedding.")
        return [pairs[k] for k in range(len(pairs))]
    raise InputError(f"{name} holds a JSON {type(obj).__name__}, not a vocabulary: save a list of "
                     "tokens or a {\"token\": id, …} object.")
