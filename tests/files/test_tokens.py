"""Text and token ids through a model's own vocabulary (files/tokens.py, read_sequence's vocab
path), and vocabulary files."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from lstm_viz import read_sequence
from lstm_viz.errors import InputError
from lstm_viz.files.common import MAX_ONE_HOT_CELLS, MAX_STEPS
from lstm_viz.files.tokens import read_vocab, tokenize

WORDS = ["<pad>", "<unk>", "<s>", "the", "cat", "sat", "on", "mat", ".", ","]


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


# -- tokenize ------------------------------------------------------------------------------------
def test_characters_when_the_vocabulary_is_single_characters() -> None:
    ids, tokens, unknown = tokenize("abca", ["a", "b", "c"])
    assert ids.dtype == np.int64 and ids.tolist() == [0, 1, 2, 0]
    assert tokens == ("a", "b", "c", "a") and not unknown


def test_special_tokens_are_never_produced_and_chars_mode_holds_with_them() -> None:
    vocab = ["<pad>", "<s>", "a", "b", "<"]
    ids, tokens, _ = tokenize("ab<", vocab)
    assert ids.tolist() == [2, 3, 4]
    ids, _, unknown = tokenize("ba", ["<s>", "a", "b"])
    assert ids.tolist() == [2, 1] and not unknown


def test_words_split_at_whitespace_and_punctuation_case_kept() -> None:
    vocab = ["<unk>", "The", "the", "cat", ",", "."]
    ids, tokens, unknown = tokenize("The cat, the cat.", vocab)
    assert tokens == ("The", "cat", ",", "the", "cat", ".")
    assert ids.tolist() == [1, 3, 4, 2, 3, 5] and not unknown


def test_lower_case_is_tried_when_the_vocabulary_is_all_lower_case() -> None:
    t = tokenize("The Cat sat.", WORDS)
    assert t.ids.tolist() == [3, 4, 5, 8]
    assert t.tokens == ("The", "Cat", "sat", ".")     # as written, for the labels
    assert t.lowered == 2 and any("lower case" in n for n in t.notes)


def test_unknown_tokens_map_to_unk_and_are_named_with_counts() -> None:
    t = tokenize("the dog sat on the dog mat", WORDS)
    ids, tokens, unknown = t
    assert ids.tolist() == [3, 1, 5, 6, 3, 1, 7]
    assert unknown == {"dog": 2} and t.unk == 1
    assert any("'dog' ×2" in n and "mapped to '<unk>'" in n for n in t.notes)


@pytest.mark.parametrize("unk", ["<UNK>", "[UNK]"])
def test_other_unknown_entries(unk: str) -> None:
    ids, _, _ = tokenize("a dog", [unk, "a", "cat"])
    assert ids.tolist() == [1, 0]
    ids, _, _ = tokenize("axa", [unk, "a"])                        # characters
    assert ids.tolist() == [1, 0, 1]


def test_unknown_tokens_are_dropped_without_an_unknown_entry() -> None:
    t = tokenize("the dog sat", ["the", "sat"])
    assert t.ids.tolist() == [0, 1] and t.tokens == ("the", "sat")
    assert any("dropped" in n and "'dog' ×1" in n for n in t.notes)


def test_only_eight_unknown_tokens_are_named() -> None:
    text = " ".join(f"w{k}" for k in range(20)) + " the"
    t = tokenize(text, ["the"])
    [note] = [n for n in t.notes if "outside" in n]
    assert "and 12 more" in note and note.count("×") == 8


def test_text_with_no_known_token_is_refused() -> None:
    msg = error_of(tokenize, "le chien", WORDS)
    assert "None of the text's 2 tokens" in msg and "vocabulary of 10" in msg


def test_bounded_to_max_steps_with_a_note() -> None:
    t = tokenize("a" * (MAX_STEPS + 5), ["a"])
    assert len(t.ids) == MAX_STEPS and t.total == MAX_STEPS + 5
    assert any(n.startswith("Tokens 0–") for n in t.notes)
    t = tokenize("ab" * 10, ["a", "b"], start=3, length=4)
    assert t.ids.tolist() == [1, 0, 1, 0] and t.window == (3, 7)


def test_bad_vocabularies() -> None:
    assert "empty" in error_of(tokenize, "a", [])
    assert "not text" in error_of(tokenize, "a", ["a", 3])


# -- read_sequence with a vocabulary -------------------------------------------------------------
def test_text_file_tokenised_through_the_vocabulary() -> None:
    seq = read_sequence("s.txt", b"The cat sat on the mat.", vocab=WORDS)
    ids = seq.meta["token_ids"]
    assert ids.dtype == np.int64 and ids.tolist() == [3, 4, 5, 6, 3, 7, 8]
    assert seq.labels == ("The", "cat", "sat", "on", "the", "mat", ".")
    assert seq.values.shape == (7, len(WORDS)) and seq.feature_names == tuple(WORDS)
    np.testing.assert_array_equal(seq.values.argmax(axis=1), ids)
    assert seq.values.sum() == 7 and seq.meta["encoding"] == "one-hot"
    assert seq.text == "The cat sat on the mat."


def test_unknown_tokens_in_the_meta() -> None:
    seq = read_sequence("s.txt", b"the dog sat", vocab=WORDS)
    assert seq.meta["unknown_tokens"] == (("dog", 1),) and seq.meta["unknown_count"] == 1
    assert "'dog'" in seq.meta["unknown_note"]


def test_a_plain_character_vocabulary_keeps_the_one_hot_of_every_character() -> None:
    seq = read_sequence("s.txt", b"abca", vocab=["a", "b", "c"])
    assert seq.meta["token_ids"].tolist() == [0, 1, 2, 0]
    seq = read_sequence("s.txt", b"abxa", vocab=["a", "b", "c"])       # unknown: a zero row
    assert seq.length == 4 and "token_ids" not in seq.meta
    seq = read_sequence("s.txt", b"abxa", vocab=["a", "b", "c"], tokens=True)   # dropped
    assert seq.meta["token_ids"].tolist() == [0, 1, 0]


def test_a_big_vocabulary_gives_the_ids_as_values() -> None:
    vocab = [f"w{k}" for k in range(100_000)]
    n = MAX_ONE_HOT_CELLS // 100_000 // 2 + 1                  # 2n tokens: over the cell limit
    seq = read_sequence("s.txt", " ".join(["w1", "w7"] * n).encode(), vocab=vocab)
    assert seq.values.shape == (2 * n, 1) and seq.meta["encoding"] == "ids"
    assert seq.values[:, 0].tolist() == [1.0, 7.0] * n
    assert seq.meta["token_ids"].tolist() == [1, 7] * n


def test_ids_as_values_when_asked() -> None:
    seq = read_sequence("s.txt", b"the cat", vocab=WORDS, one_hot=False)
    assert seq.values.tolist() == [[3.0], [4.0]] and seq.meta["encoding"] == "ids"
    assert seq.meta["token_ids"].tolist() == [3, 4] and not seq.meta["notes"]


def test_token_ids_as_a_csv_column() -> None:
    seq = read_sequence("ids.csv", b"id\n3\n4\n5\n8\n", vocab=WORDS)
    assert seq.meta["token_ids"].tolist() == [3, 4, 5, 8]
    assert seq.labels == ("the", "cat", "sat", ".") and seq.values.shape == (4, len(WORDS))
    two = b"t,id\n0,3\n1,4\n"
    seq = read_sequence("ids.csv", two, vocab=WORDS, ids=True, columns=["id"])
    assert seq.meta["token_ids"].tolist() == [3, 4]


def test_token_ids_as_npy_ints() -> None:
    seq = read_sequence("ids.npy", npy(np.array([3, 4, 9], dtype=np.int32)), vocab=WORDS)
    assert seq.meta["token_ids"].tolist() == [3, 4, 9] and seq.labels[-1] == ","
    floats = read_sequence("x.npy", npy(np.array([3.0, 4.0])), vocab=WORDS)
    assert "token_ids" not in floats.meta                        # floats: not detected
    assert read_sequence("x.npy", npy(np.array([3.0, 4.0])), vocab=WORDS,
                         ids=True).meta["token_ids"].tolist() == [3, 4]


def test_numbers_that_are_not_ids_stay_numbers_unless_ids_is_asked() -> None:
    seq = read_sequence("v.csv", b"v\n0.5\n3\n", vocab=WORDS)
    assert "token_ids" not in seq.meta
    assert "fractions" in error_of(read_sequence, "v.csv", b"v\n0.5\n3\n", vocab=WORDS, ids=True)
    msg = error_of(read_sequence, "v.csv", b"v\n3\n10\n", vocab=WORDS, ids=True)
    assert "beyond the vocabulary of 10" in msg
    assert "2 columns" in error_of(read_sequence, "v.csv", b"a,b\n1,2\n", vocab=WORDS, ids=True)
    assert "vocabulary" in error_of(read_sequence, "v.csv", b"v\n1\n", ids=True)


# -- read_vocab ----------------------------------------------------------------------------------
def test_read_vocab_json_list_and_dicts() -> None:
    assert read_vocab("v.json", json.dumps(WORDS).encode()) == WORDS
    assert read_vocab("v.json", json.dumps({"b": 1, "a": 0}).encode()) == ["a", "b"]
    assert read_vocab("v.json", json.dumps({"1": "b", "0": "a"}).encode()) == ["a", "b"]
    assert read_vocab("v", b'  ["x", "y"]') == ["x", "y"]


def test_read_vocab_one_token_a_line() -> None:
    assert read_vocab("vocab.txt", b"the\ncat\n.\n") == ["the", "cat", "."]
    assert read_vocab("v.txt", b"a\r\n \r\nb") == ["a", " ", "b"]      # a space token
    assert read_vocab("m.vocab", b"<unk>\t0\nthe\t-1.5\n") == ["<unk>", "the"]


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("v.json", b"[1, 2]", "more than text"),
    ("v.json", b'{"a": 0, "b": 2}', "0 to 1"),
    ("v.json", b'{"a": "x"}', "not token -> id"),
    ("v.json", b"[oops", "not valid JSON"),
    ("v.json", b"3", "JSON int"),
    ("v.json", b"[]", "empty"),
    ("v.txt", b"a\n\nb\n", "empty line (2)"),
    ("v.txt", b"a\nb\na\n", "twice (ids 0 and 2)"),
    ("v.txt", b"\x89PNG\r\n\x1a\n", "not a vocabulary"),
    ("v.txt", b"", "empty"),
])
def test_read_vocab_bad_files(name: str, data: bytes, expected: str) -> None:
    msg = error_of(read_vocab, name, data)
    assert expected in msg and msg.count(". ") == 0, msg
