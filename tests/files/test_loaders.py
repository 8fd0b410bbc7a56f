"""Tests for lstm_viz.files.loaders: sequences from uploads, state_dict files, config inference."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save as save_safetensors

from lstm_viz.core import BLOCKS, LSTM_VARIANTS, TABLE, VARIANTS
from lstm_viz.core.variants import torch_variants
from lstm_viz.errors import InputError
from lstm_viz.files.loaders import (
    MAX_FEATURES,
    MAX_ONE_HOT_CELLS,
    MAX_STEPS,
    MAX_UPLOAD_BYTES,
    VARIANT_BLOCKS,
    VARIANTS_BY_BLOCKS,
    check_features,
    display_char,
    fitting_variants,
    infer_config,
    load_sequence,
    load_state_dict_file,
)
from lstm_viz.files.sequence import Sequence

ROOT = Path(__file__).resolve().parents[2]

# torch warns about pickle protocols it will not run; that warning is the point of some tests.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def torch_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


def assert_valid_sequence(seq: Sequence) -> None:
    assert isinstance(seq, Sequence)
    assert seq.values.dtype == np.float32 and seq.values.ndim == 2
    assert 1 <= seq.length <= MAX_STEPS
    assert 1 <= seq.n_features <= MAX_FEATURES
    assert np.isfinite(seq.values).all()
    assert len(seq.feature_names) == seq.n_features


# ============================================================================ tables


class TestTable:
    def test_comma_csv(self) -> None:
        seq = load_sequence("data.csv", b"time,value\n0,0.5\n1,-1.25\n2,3e2\n")
        assert seq.feature_names == ("time", "value")
        np.testing.assert_array_equal(seq.values, [[0, 0.5], [1, -1.25], [2, 300]])
        assert seq.values.dtype == np.float32
        assert seq.name == "data.csv" and seq.labels is None and seq.text is None

    def test_name_is_basename(self) -> None:
        assert load_sequence("C:\\Users\\me\\x.csv", b"a\n1\n").name == "x.csv"
        assert load_sequence("dir/sub/y.csv", b"a\n1\n").name == "y.csv"

    def test_extension_is_case_insensitive(self) -> None:
        assert load_sequence("DATA.CSV", b"a,b\n1,2\n").n_features == 2

    def test_tab_separated(self) -> None:
        seq = load_sequence("d.tsv", b"a\tb\tc\n1\t2\t3\n")
        assert seq.feature_names == ("a", "b", "c")
        np.testing.assert_array_equal(seq.values, [[1, 2, 3]])

    def test_tab_in_csv_is_sniffed(self) -> None:
        assert load_sequence("d.csv", b"a\tb\n1\t2\n").feature_names == ("a", "b")

    def test_semicolon_with_decimal_comma(self) -> None:
        seq = load_sequence("d.csv", b"a;b\n1,5;2\n-0,25;3e-2\n")
        np.testing.assert_allclose(seq.values, [[1.5, 2], [-0.25, 0.03]], rtol=1e-6)

    def test_decimal_comma_only_when_semicolon_separated(self) -> None:
        msg = error_of(load_sequence, "d.tsv", b'a\tb\n"1,5"\t2\n')
        assert "'1,5'" in msg and "decimal separator" in msg

    def test_bom_crlf_blank_lines_quotes_and_spaces(self) -> None:
        data = '\ufeffa, "b"\r\n\r\n"1", 2 \r\n 3 ,"4.5"\r\n\r\n'.encode()
        seq = load_sequence("d.csv", data)
        assert seq.feature_names == ("a", "b")
        np.testing.assert_array_equal(seq.values, [[1, 2], [3, 4.5]])

    def test_single_column(self) -> None:
        seq = load_sequence("d.csv", b"signal\n1\n2\n3\n")
        assert seq.values.shape == (3, 1) and seq.feature_names == ("signal",)

    def test_no_trailing_newline(self) -> None:
        assert load_sequence("d.csv", b"a,b\n1,2").values.shape == (1, 2)

    def test_trailing_delimiter_column_is_dropped(self) -> None:
        seq = load_sequence("d.csv", b"a,b,\n1,2,\n3,4,\n")
        assert seq.feature_names == ("a", "b")
        np.testing.assert_array_equal(seq.values, [[1, 2], [3, 4]])

    def test_pandas_index_column_is_dropped(self) -> None:
        seq = load_sequence("d.csv", b",a,b\n0,1,2\n1,3,4\n2,5,6\n")
        assert seq.feature_names == ("a", "b")
        assert seq.meta["dropped_columns"] == ("index",)
        np.testing.assert_array_equal(seq.values[:, 0], [1, 3, 5])

    def test_nameless_column_that_is_not_an_index_is_kept(self) -> None:
        seq = load_sequence("d.csv", b",a\n5,1\n7,3\n")
        assert seq.feature_names == ("x0", "a")
        np.testing.assert_array_equal(seq.values[:, 0], [5, 7])

    def test_many_rows_and_columns_at_the_limit(self) -> None:
        header = ",".join(f"f{k}" for k in range(MAX_FEATURES))
        row = ",".join("1" for _ in range(MAX_FEATURES))
        seq = load_sequence("d.csv", f"{header}\n{row}\n{row}\n".encode())
        assert seq.values.shape == (2, MAX_FEATURES)

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"a,b\n1,2\n3\n", ["Row 3 has 1 value but the header has 2 columns", "one value"]),
            (b"a,b,c,d\n1,2,3,4\n5,6,7\n", ["Row 3 has 3 values", "4 columns"]),
            (b"a,b\n1,2\n3,4,5\n", ["Row 3 has 3 values", "2 columns"]),
            (b"x,y\n1,2\n3,abc\n", ["Row 3", "column 2", "'y'", "'abc'", "not a number"]),
            (b'x,y\n"1","two"\n', ["Row 2", "column 2", "'two'"]),
            (b"x,y\n1,NaN\n", ["Row 2", "column 2", "'y'", "missing value", "'NaN'"]),
            (b"x,y\nnan,1\n", ["Row 2", "column 1", "'x'", "missing"]),
            (b"x,y\n1,N/A\n", ["missing value", "'N/A'"]),
            (b"x,y\n1,inf\n", ["Row 2", "column 2", "infinite", "'inf'"]),
            (b"x,y\n-Infinity,1\n", ["column 1", "infinite"]),
            (b"x,y\n1,1e39\n", ["column 2", "too large", "32-bit"]),
            (b"x,y,z\n1,,3\n", ["Row 2", "column 2", "'y'", "is empty"]),
            (b"a;b\n1;2\n3;drei\n", ["Row 3", "column 2", "'drei'"]),
            (b"a\tb\n1\t?\n", ["Row 2", "column 2", "'?'"]),
            (b"word\nhello\n", ["Row 2", "column 1", "'word'", "'hello'"]),
            (b"a,b\n1,2\n\n5,x\n", ["Row 4", "'x'"]),
            (b"a,b\n", ["header but no data rows"]),
            (b"  \n \n", ["only whitespace"]),
        ],
    )
    def test_bad_tables_name_the_problem(self, data: bytes, expected: list[str]) -> None:
        msg = error_of(load_sequence, "bad.csv", data)
        for part in expected:
            assert part in msg, (part, msg)

    def test_empty_file(self) -> None:
        assert "empty" in error_of(load_sequence, "d.csv", b"")

    def test_too_many_columns(self) -> None:
        header = ",".join(f"c{k}" for k in range(10_000))
        msg = error_of(load_sequence, "wide.csv", f"{header}\n{header}\n".encode())
        assert "10,000 columns" in msg and "1,024" in msg

    def test_one_column_over_the_limit(self) -> None:
        n = MAX_FEATURES + 1
        header = ",".join(f"c{k}" for k in range(n))
        row = ",".join("0" for _ in range(n))
        assert "1,025 columns" in error_of(load_sequence, "w.csv", f"{header}\n{row}\n".encode())

    def test_headerless_tables_load(self) -> None:
        # Issue #13: a first row of numbers is data (these were refused before, asking for a
        # header); the columns are named x0, x1, ….
        seq = load_sequence("bad.csv", b"1.0,2.0\n3.0,4.0\n")
        assert seq.feature_names == ("x0", "x1")
        np.testing.assert_array_equal(seq.values, [[1, 2], [3, 4]])
        seq = load_sequence("bad.csv", b"1,2,3,4,5\n")
        assert seq.values.shape == (1, 5) and seq.meta["header"] is False

    def test_too_many_rows(self) -> None:
        # Issue #13: a table over MAX_STEPS rows loads its first MAX_STEPS rows (it was refused).
        data = b"x\n" + b"1\n" * (MAX_STEPS + 1)
        seq = load_sequence("long.csv", data)
        assert seq.length == MAX_STEPS and seq.meta["window"] == (0, MAX_STEPS, MAX_STEPS + 1)
        assert "choose a window" in seq.meta["notes"][-1]
        assert load_sequence("ok.csv", b"x\n" + b"1\n" * MAX_STEPS).length == MAX_STEPS

    def test_over_upload_limit_is_rejected_before_parsing(self) -> None:
        data = b"x\n" + b"1\n" * (MAX_UPLOAD_BYTES // 2)
        assert len(data) > MAX_UPLOAD_BYTES
        tracemalloc.start()
        msg = error_of(load_sequence, "huge.csv", data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 5_000_000  # refused from its size: nothing parsed
        assert "20 MB" in msg

    def test_exactly_at_upload_limit_is_not_a_size_error(self) -> None:
        data = npy_bytes(np.ones((163_839, 16)))  # 128-byte header + 163839 * 16 * 8 bytes
        assert len(data) == MAX_UPLOAD_BYTES
        assert load_sequence("big.npy", data).values.shape == (163_839, 16)
        assert "20 MB" in error_of(load_sequence, "big.npy", data + b"\x00")

    def test_unclosed_quote(self) -> None:
        msg = error_of(load_sequence, "q.csv", b'a,b\n"1,2\n' + b"3" * 200_000)
        assert "quote" in msg

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            ("a,b\n1,2\n".encode("utf-16"), "UTF-16"),
            ("a,b\n1,2\n".encode("utf-16-le"), "UTF-16"),
            ("a,b\n1,2\n".encode("utf-32"), "UTF-32"),
            ("é,b\n1,2\n".encode("latin-1"), "UTF-8"),
            (b"a,b\n1,2\x00\x01\x02\n", "binary"),
            (b"\x93NUMPY\x01\x00junk", ".npy"),
            (b"PK\x03\x04junk", "zip"),
        ],
    )
    def test_encodings_and_binary(self, data: bytes, expected: str) -> None:
        msg = error_of(load_sequence, "d.csv", data)
        assert expected in msg

    def test_latin1_message_suggests_resaving(self) -> None:
        msg = error_of(load_sequence, "d.csv", "température\n1\n".encode("latin-1"))
        assert "0xE9" in msg and "re-save" in msg


# ============================================================================ .npy


class TestNpy:
    def test_1d_becomes_one_feature(self) -> None:
        seq = load_sequence("s.npy", npy_bytes(np.arange(5, dtype=np.float64)))
        assert seq.values.shape == (5, 1) and seq.feature_names == ("x0",)
        np.testing.assert_array_equal(seq.values[:, 0], np.arange(5))

    def test_2d(self) -> None:
        arr = np.random.default_rng(0).standard_normal((7, 3))
        seq = load_sequence("s.npy", npy_bytes(arr))
        np.testing.assert_allclose(seq.values, arr.astype(np.float32))
        assert seq.meta["shape"] == (7, 3)

    @pytest.mark.parametrize(
        "arr",
        [
            np.arange(6, dtype=np.int16).reshape(3, 2),
            np.array([True, False, True]),
            np.arange(4, dtype=np.uint8),
            np.arange(6, dtype=np.float16).reshape(2, 3),
            np.asfortranarray(np.arange(6.0).reshape(2, 3)),
            np.arange(4, dtype=">f8"),
        ],
    )
    def test_other_numeric_dtypes_and_layouts(self, arr: np.ndarray) -> None:
        seq = load_sequence("s.npy", npy_bytes(arr))
        expected = arr.reshape(len(arr), -1).astype(np.float32)
        np.testing.assert_array_equal(seq.values, expected)

    @pytest.mark.parametrize(
        ("arr", "expected"),
        [
            (np.zeros((2, 3, 4, 5)), ["(2, 3, 4, 5)", "4-D"]),
            (np.zeros((0, 3)), ["empty"]),
            (np.zeros(0), ["empty"]),
            (np.array(2.0), ["0-D"]),
            (np.array([[0.0, 1.0], [2.0, np.nan]]), ["arr[1, 1]", "nan", "np.nan_to_num"]),
            (np.array([np.inf, -np.inf, 0.0]), ["arr[0, 0]", "and 1 more"]),
            (np.array([1e300]), ["32-bit"]),
            (np.array(["a", "b"]), ["text"]),
            (np.array([1j]), ["complex"]),
            (np.zeros(2, dtype=[("a", "f4")]), ["structured"]),
            (np.array(["2020-01-01"], dtype="datetime64[D]"), ["dates"]),
            (np.zeros((3, MAX_FEATURES + 1), np.float32), ["1,025 features"]),
        ],
    )
    def test_bad_arrays(self, arr: np.ndarray, expected: list[str]) -> None:
        msg = error_of(load_sequence, "bad.npy", npy_bytes(arr))
        for part in expected:
            assert part in msg, (part, msg)

    def test_too_many_steps(self) -> None:
        # Issue #13: loads its first MAX_STEPS steps (it was refused).
        arr = np.zeros(MAX_STEPS + 1, dtype=np.int8)
        seq = load_sequence("long.npy", npy_bytes(arr))
        assert seq.length == MAX_STEPS and "200,001" in seq.meta["notes"][-1]

    def test_batches_load_their_first_sequence(self) -> None:
        # Issue #13: a 3-D (N, T, F) array is a batch, sequence 0 by default (it was refused).
        arr = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
        seq = load_sequence("b.npy", npy_bytes(arr))
        np.testing.assert_array_equal(seq.values, arr[0])
        assert seq.meta["batch"] == (0, 2)
        assert load_sequence("one.npy", npy_bytes(np.zeros((1, 5, 2)))).values.shape == (5, 2)

    def test_object_arrays_are_refused(self) -> None:
        arr = np.array([[1, "a"], [2, None]], dtype=object)
        msg = error_of(load_sequence, "obj.npy", npy_bytes(arr, allow_pickle=True))
        assert "Python objects" in msg

    def test_every_truncation_is_an_input_error(self) -> None:
        data = npy_bytes(np.arange(12, dtype=np.float32).reshape(4, 3))
        for n in range(1, len(data)):
            error_of(load_sequence, "cut.npy", data[:n])

    def test_lying_header_is_caught_before_allocating(self) -> None:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": (150_000, 1000)}
        )
        assert buf.getvalue().startswith(b"\x93NUMPY")
        tracemalloc.start()
        msg = error_of(load_sequence, "lie.npy", buf.getvalue() + b"\x00" * 64)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 5_000_000  # the header's 1.2 GB is never allocated
        assert "truncated" in msg and "1,200,000,000 bytes" in msg
        buf = io.BytesIO()
        np.lib.format.write_array_header_2_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": (150_000, 3)}
        )
        msg = error_of(load_sequence, "lie.npy", buf.getvalue() + b"\x00" * 64)
        assert "truncated" in msg and "3,600,000 bytes" in msg

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"a,b\n1,2\n", "signature"),
            (pickle.dumps([1, 2]), "pickle"),
            (npz_bytes(a=np.zeros(3)), "zip"),
        ],
    )
    def test_not_npy(self, data: bytes, expected: str) -> None:
        assert expected in error_of(load_sequence, "x.npy", data)


# ============================================================================ text


class TestText:
    def test_own_vocab_sorted_one_hot(self) -> None:
        seq = load_sequence("t.txt", b"hello world\n")
        assert seq.vocab == tuple(sorted(set("hello world\n")))
        assert seq.text == "hello world\n"
        assert seq.values.shape == (12, len(seq.vocab))
        np.testing.assert_array_equal(seq.values.sum(axis=1), np.ones(12))
        for t, ch in enumerate(seq.text):
            assert seq.values[t, seq.vocab.index(ch)] == 1
        assert seq.labels[5] == "␣" and seq.labels[-1] == "⏎" and seq.labels[0] == "h"
        assert seq.feature_names[:2] == ("⏎", "␣")
        assert seq.meta["unknown_chars"] == ()

    def test_given_vocab_with_unknown_chars_maps_them_to_zero_rows(self) -> None:
        seq = load_sequence("t.txt", "abcax€".encode(), vocab=("a", "b", "c"))
        assert seq.vocab == ("a", "b", "c") and seq.n_features == 3
        np.testing.assert_array_equal(seq.values.sum(axis=1), [1, 1, 1, 1, 0, 0])
        np.testing.assert_array_equal(seq.values[3], [1, 0, 0])
        assert seq.meta["unknown_chars"] == ("x", "€")
        assert seq.meta["unknown_count"] == 2
        assert seq.labels == ("a", "b", "c", "a", "x", "€")

    def test_vocab_column_order_is_kept(self) -> None:
        seq = load_sequence("t.txt", b"ab", vocab=("b", "a"))
        np.testing.assert_array_equal(seq.values, [[0, 1], [1, 0]])

    @pytest.mark.parametrize(
        ("vocab", "expected"),
        [(("a", "a"), "twice"), ((), "empty")],
    )
    def test_bad_vocab(self, vocab: tuple[str, ...], expected: str) -> None:
        assert expected in error_of(load_sequence, "t.txt", b"ab", vocab=vocab)

    def test_a_vocab_of_longer_tokens_tokenises_the_text(self) -> None:
        # (refused before tokens.py: "single characters"); see tests/files/test_tokens.py
        seq = load_sequence("t.txt", b"ab", vocab=("ab",))
        assert seq.meta["token_ids"].tolist() == [0] and seq.labels == ("ab",)

    def test_bom_and_crlf(self) -> None:
        seq = load_sequence("t.txt", "\ufeffab\r\nc".encode())
        assert seq.text == "ab\nc" and seq.labels == ("a", "b", "⏎", "c")

    def test_other_extensions_are_text(self) -> None:
        assert load_sequence("notes", b"xyz").text == "xyz"
        assert load_sequence("notes.md", b"# hi").text == "# hi"

    def test_display_char(self) -> None:
        assert [display_char(c) for c in " \n\t\x00\x7fa"] == ["␣", "⏎", "⇥", "␀", "␡", "a"]

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            ("hi\n".encode("utf-16"), "UTF-16"),
            ("café".encode("latin-1"), "re-save it as UTF-8"),
            (b"", "empty"),
            (b"a\x00b\x00\x00\x00", "UTF-16"),
            (bytes(range(256)), "binary"),
        ],
    )
    def test_bad_text(self, data: bytes, expected: str) -> None:
        assert expected in error_of(load_sequence, "t.txt", data)

    def test_too_long(self) -> None:
        # Issue #13: a long text loads its first MAX_STEPS characters (it was refused).
        seq = load_sequence("t.txt", b"a" * (MAX_STEPS + 1))
        assert seq.length == MAX_STEPS and "200,001" in seq.meta["notes"][-1]

    def test_too_many_distinct_characters(self) -> None:
        text = "".join(chr(0x4E00 + k) for k in range(MAX_FEATURES + 1))
        assert "1,025 different characters" in error_of(load_sequence, "t.txt", text.encode())

    def test_one_hot_size_is_capped(self) -> None:
        alphabet = "".join(chr(0x4E00 + k) for k in range(500))
        text = (alphabet * (MAX_ONE_HOT_CELLS // 500 // 500 + 1))[: MAX_ONE_HOT_CELLS // 500 + 1]
        # Issue #13: the text loads as many characters as the one-hot values allow (it was
        # refused); a window asked for beyond them is refused.
        first = load_sequence("t.txt", text.encode())
        assert first.values.size == MAX_ONE_HOT_CELLS
        assert "choose a window" in first.meta["notes"][0]
        from lstm_viz.files.read_sequence import read_sequence

        msg = error_of(read_sequence, "t.txt", text.encode(), length=len(text))
        assert "one-hot values" in msg and "40,000 characters" in msg
        ok = text[: MAX_ONE_HOT_CELLS // 500]
        assert load_sequence("t.txt", ok.encode()).values.size == MAX_ONE_HOT_CELLS

    @pytest.mark.parametrize("ext", [".pt", ".pth", ".safetensors", ".npz"])
    def test_model_files_are_not_sequences(self, ext: str) -> None:
        assert "model weights" in error_of(load_sequence, f"m{ext}", b"whatever")


# ============================================================================ check_features


class TestCheckFeatures:
    def test_match_passes(self) -> None:
        check_features(Sequence(values=np.zeros((4, 3)), name="s"), 3)

    def test_mismatch_message(self) -> None:
        seq = Sequence(values=np.zeros((4, 3)), name="s")
        msg = error_of(check_features, seq, 1)
        assert msg == (
            "This sequence has 3 features but the model expects 1 input: upload a file with "
            "1 column, or choose/train a model with input size 3."
        )

    def test_text_mismatch_mentions_vocabulary(self) -> None:
        seq = load_sequence("t.txt", b"abc")
        msg = error_of(check_features, seq, 5)
        assert "3 characters" in msg and "5 inputs" in msg and "vocabulary" in msg


# ============================================================================ hostile pickles


class ShellMarker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch '{self.path}'",))


class WriteMarker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({str(self.path)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("payload", [ShellMarker, WriteMarker])
class TestHostile:
    def test_payloads_really_run_when_unpickled_unsafely(self, payload, tmp_path: Path) -> None:
        """Control: the same payloads do write the marker through a plain unpickler."""
        marker = tmp_path / "control"
        pickle.loads(pickle.dumps(payload(marker)))
        assert marker.exists()
        marker.unlink()
        torch.load(io.BytesIO(torch_bytes({"w": payload(marker)})), weights_only=False)
        assert marker.exists()

    def test_pt_zip(self, payload, tmp_path: Path) -> None:
        marker = tmp_path / "marker"
        data = torch_bytes({"weight_ih_l0": payload(marker)})
        msg = error_of(load_state_dict_file, "evil.pt", data)
        assert not marker.exists()
        assert "refused for safety" in msg and "state_dict()" in msg

    @pytest.mark.parametrize("protocol", [2, 4, 5])
    def test_raw_pickle_pth(self, payload, tmp_path: Path, protocol: int) -> None:
        marker = tmp_path / "marker"
        error_of(load_state_dict_file, "evil.pth", pickle.dumps(payload(marker), protocol))
        assert not marker.exists()

    def test_wrapped_in_checkpoint(self, payload, tmp_path: Path) -> None:
        marker = tmp_path / "marker"
        data = torch_bytes({"state_dict": {"weight_ih_l0": torch.zeros(1)}, "x": payload(marker)})
        error_of(load_state_dict_file, "evil.pt", data)
        assert not marker.exists()

    def test_object_npy(self, payload, tmp_path: Path) -> None:
        marker = tmp_path / "marker"
        data = npy_bytes(np.array([payload(marker)], dtype=object), allow_pickle=True)
        assert "Python objects" in error_of(load_sequence, "evil.npy", data)
        assert not marker.exists()

    def test_object_npz(self, payload, tmp_path: Path) -> None:
        marker = tmp_path / "marker"
        buf = io.BytesIO()
        np.savez(buf, weight_ih_l0=np.array([payload(marker)], dtype=object))
        assert "Python objects" in error_of(load_state_dict_file, "evil.npz", buf.getvalue())
        assert not marker.exists()


# ============================================================================ state_dict files


def lstm_state(**kw) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return torch.nn.LSTM(**kw).state_dict()


class TestStateDictFile:
    def test_pt_round_trip(self) -> None:
        sd = lstm_state(input_size=2, hidden_size=3, num_layers=2)
        out = load_state_dict_file("m.pt", torch_bytes(sd))
        assert list(out) == list(sd)
        for k, v in sd.items():
            assert isinstance(out[k], np.ndarray) and out[k].dtype == np.float32
            np.testing.assert_array_equal(out[k], v.numpy())

    def test_pth_and_dtypes(self) -> None:
        sd = {
            "weight_ih_l0": torch.randn(4, 2, dtype=torch.float64),
            "weight_hh_l0": torch.randn(4, 1, dtype=torch.bfloat16),
            "bias_ih_l0": torch.zeros(4, dtype=torch.float16),
            "bias_hh_l0": torch.nn.Parameter(torch.ones(4)),
        }
        out = load_state_dict_file("m.pth", torch_bytes(sd))
        assert out["weight_ih_l0"].dtype == np.float64
        assert {out[k].dtype for k in ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0")} == {
            np.dtype(np.float32)
        }
        np.testing.assert_array_equal(out["weight_ih_l0"], sd["weight_ih_l0"].numpy())
        np.testing.assert_array_equal(out["weight_hh_l0"], sd["weight_hh_l0"].float().numpy())

    @pytest.mark.parametrize("key", ["state_dict", "model", "model_state_dict"])
    def test_checkpoint_wrapping_is_unwrapped(self, key: str) -> None:
        sd = lstm_state(input_size=2, hidden_size=3)
        out = load_state_dict_file("m.pt", torch_bytes({key: sd, "epoch": 3, "lr": 0.1}))
        assert set(out) == set(sd)

    def test_dataparallel_prefix_is_stripped(self) -> None:
        sd = {f"module.{k}": v for k, v in lstm_state(input_size=2, hidden_size=3).items()}
        assert set(load_state_dict_file("m.pt", torch_bytes(sd))) == {k[7:] for k in sd}

    def test_submodule_of_a_bigger_model_is_selected(self) -> None:
        class Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embed = torch.nn.Linear(4, 2)
                self.rnn = torch.nn.GRU(2, 5, num_layers=2)
                self.head = torch.nn.Linear(5, 1)

        net = Net()
        out = load_state_dict_file("m.pt", torch_bytes(net.state_dict()))
        assert set(out) == set(net.rnn.state_dict())
        np.testing.assert_array_equal(out["weight_hh_l1"], net.rnn.weight_hh_l1.detach().numpy())
        assert infer_config(out)["variant_family"] == "gru"

    def test_two_recurrent_submodules_is_an_error(self) -> None:
        sd = {f"enc.{k}": v for k, v in lstm_state(input_size=2, hidden_size=3).items()}
        sd |= {f"dec.{k}": v for k, v in lstm_state(input_size=3, hidden_size=3).items()}
        msg = error_of(load_state_dict_file, "m.pt", torch_bytes(sd))
        assert "'dec'" in msg and "'enc'" in msg and "state_dict()" in msg

    def test_whole_module_is_refused_with_state_dict_advice(self) -> None:
        msg = error_of(load_state_dict_file, "m.pt", torch_bytes(torch.nn.LSTM(2, 3)))
        assert "whole saved model" in msg and "model.state_dict()" in msg

    @pytest.mark.parametrize(
        ("obj", "expected"),
        [
            ([torch.zeros(2)], "holds a list"),
            (torch.zeros(2), "holds a Tensor"),
            ({}, "no tensors"),
            ({"weight_ih_l0": [1.0, 2.0]}, "'weight_ih_l0' is a list"),
            ({"weight_ih_l0": torch.zeros(2, dtype=torch.complex64)}, "complex"),
            ({"weight_ih_l0": torch.tensor([1.0, float("nan")])}, "non-finite"),
            ({1: torch.zeros(2)}, "non-text key"),
        ],
    )
    def test_bad_contents(self, obj: object, expected: str) -> None:
        assert expected in error_of(load_state_dict_file, "m.pt", torch_bytes(obj))

    def test_every_truncation_of_a_pt_is_an_input_error(self) -> None:
        data = torch_bytes(lstm_state(input_size=1, hidden_size=1))
        for n in range(0, len(data), max(1, len(data) // 60)):
            error_of(load_state_dict_file, "cut.pt", data[:n] or b"x")

    def test_safetensors_round_trip(self) -> None:
        arrays = {k: v.numpy() for k, v in lstm_state(input_size=2, hidden_size=3).items()}
        out = load_state_dict_file("m.safetensors", save_safetensors(arrays))
        assert set(out) == set(arrays)
        for k in arrays:
            np.testing.assert_array_equal(out[k], arrays[k])

    def test_safetensors_bfloat16_via_torch(self) -> None:
        from safetensors.torch import save

        data = save({"weight_ih_l0": torch.ones(4, 2, dtype=torch.bfloat16)})
        out = load_state_dict_file("m.safetensors", data)
        assert out["weight_ih_l0"].dtype == np.float32 and out["weight_ih_l0"].sum() == 8

    @pytest.mark.parametrize(
        "header",
        [
            {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 4000]}},
            {"w": {"dtype": "F32", "shape": [400], "data_offsets": [0, 16]}},
            {"w": {"dtype": "XX", "shape": [4], "data_offsets": [0, 16]}},
            {"w": {"dtype": "F32", "shape": [4]}},
        ],
    )
    def test_safetensors_lying_headers(self, header: dict) -> None:
        h = json.dumps(header).encode()
        data = struct.pack("<Q", len(h)) + h + b"\x00" * 16
        assert "not a valid .safetensors" in error_of(load_state_dict_file, "m.safetensors", data)

    def test_npz_round_trip_and_errors(self) -> None:
        arrays = {k: v.numpy() for k, v in lstm_state(input_size=2, hidden_size=3).items()}
        data = npz_bytes(**arrays)
        out = load_state_dict_file("m.npz", data)
        assert set(out) == set(arrays)
        assert "damaged or truncated" in error_of(load_state_dict_file, "m.npz", data[:-30])
        assert "not a zip" in error_of(load_state_dict_file, "m.npz", b"hello")

    def test_npz_zip_bomb_is_refused_by_declared_size(self) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            with zf.open("weight_ih_l0.npy", "w", force_zip64=True) as f:
                chunk = b"\x00" * (1 << 20)
                for _ in range(400):
                    f.write(chunk)
        assert len(buf.getvalue()) < MAX_UPLOAD_BYTES
        assert "unpacks to" in error_of(load_state_dict_file, "bomb.npz", buf.getvalue())

    def test_npz_member_with_lying_npy_header(self) -> None:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 4)}
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("weight_ih_l0.npy", header.getvalue() + b"\x00" * 32)
        msg = error_of(load_state_dict_file, "lie.npz", buf.getvalue())
        assert "'weight_ih_l0'" in msg and "promises more data" in msg

    def test_unsupported_extension_and_size(self) -> None:
        assert ".safetensors" in error_of(load_state_dict_file, "m.onnx", b"x")
        big = b"\x00" * (MAX_UPLOAD_BYTES + 1)
        assert "20 MB" in error_of(load_state_dict_file, "m.pt", big)


# ============================================================================ infer_config


# The variants of the table that a file cannot tell apart from torch's own modules.
NATIVE = torch_variants()                  # "LSTM" -> its variant, "GRU" -> ..., "RNN" -> ...
LIKE_LSTM = [v for v in LSTM_VARIANTS if len(BLOCKS[v]) == 4 and not TABLE[v].peephole]
THREE_BLOCK_LSTM = [v for v in LSTM_VARIANTS if len(BLOCKS[v]) == 3]
assert NATIVE["LSTM"] == LIKE_LSTM[0] and THREE_BLOCK_LSTM and len(BLOCKS[NATIVE["GRU"]]) == 3


def torch_module(family: str, **kw) -> torch.nn.Module:
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[family]
    return cls(**kw)


def np_state(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


CONFIGS = [
    ("lstm", dict(input_size=3, hidden_size=5)),
    ("lstm", dict(input_size=1, hidden_size=1, num_layers=3, bias=False)),
    ("lstm", dict(input_size=2, hidden_size=4, num_layers=2, bidirectional=True)),
    ("lstm", dict(input_size=2, hidden_size=6, num_layers=2, bidirectional=True, proj_size=3)),
    ("gru", dict(input_size=4, hidden_size=2, num_layers=2)),
    ("gru", dict(input_size=2, hidden_size=3, bidirectional=True, bias=False)),
    ("rnn", dict(input_size=3, hidden_size=3, num_layers=2, bidirectional=True)),
]


def expected_config(family: str, kw: dict) -> dict:
    return {
        "variant_family": family,
        "variant": NATIVE[{"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[family]],
        "input_size": kw["input_size"],
        "hidden_size": kw["hidden_size"],
        "num_layers": kw.get("num_layers", 1),
        "bidirectional": kw.get("bidirectional", False),
        "bias": kw.get("bias", True),
        "proj_size": kw.get("proj_size", 0),
    }


class TestInferConfig:
    @pytest.mark.parametrize(("family", "kw"), CONFIGS)
    def test_torch_modules(self, family: str, kw: dict) -> None:
        cfg = infer_config(np_state(torch_module(family, **kw)))
        assert cfg == expected_config(family, kw)
        # the inferred config rebuilds a module that accepts the weights (strict)
        drop = {"variant_family", "variant"} | ({"proj_size"} if family != "lstm" else set())
        rebuilt = torch_module(family, **{k: v for k, v in cfg.items() if k not in drop})
        rebuilt.load_state_dict(torch_module(family, **kw).state_dict())

    def test_accepts_tensors_too(self) -> None:
        sd = torch.nn.LSTM(2, 3).state_dict()
        assert infer_config(sd)["hidden_size"] == 3

    def test_variant_decides_block_count(self) -> None:
        sd = np_state(torch.nn.GRU(2, 4))  # 12 rows
        assert infer_config(sd)["variant"] == NATIVE["GRU"]
        for variant in THREE_BLOCK_LSTM:
            cfg = infer_config(sd, variant=variant)
            assert cfg["variant"] == variant and cfg["variant_family"] == "lstm"
            assert cfg["hidden_size"] == 4
        msg = error_of(infer_config, sd, variant=NATIVE["LSTM"])
        assert "'weight_ih_l0'" in msg and "needs 4" in msg
        assert all(v in msg for v in THREE_BLOCK_LSTM)
        lstm = np_state(torch.nn.LSTM(2, 3))
        for variant in LIKE_LSTM:
            assert infer_config(lstm, variant=variant)["variant"] == variant
        assert "needs 3" in error_of(infer_config, lstm, variant=NATIVE["GRU"])
        assert "needs 1" in error_of(infer_config, lstm, variant=NATIVE["RNN"])

    def test_block_table_matches_spec(self) -> None:
        assert list(VARIANT_BLOCKS) == list(VARIANTS)
        assert all(VARIANT_BLOCKS[n] == len(BLOCKS[n]) for n in VARIANTS)
        for blocks, names in VARIANTS_BY_BLOCKS.items():
            assert all(VARIANT_BLOCKS[n] == blocks for n in names)
        assert sorted(n for names in VARIANTS_BY_BLOCKS.values() for n in names) == sorted(VARIANTS)
        # each block count's default is torch's own module, where torch has one of that size
        assert {VARIANTS_BY_BLOCKS[len(BLOCKS[v])][0] for v in NATIVE.values()} == set(
            NATIVE.values())

    def test_peephole(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 3, num_layers=2))
        sd["weight_peephole_l0"] = np.zeros((3, 3), np.float32)
        sd["weight_peephole_l1"] = np.zeros((3, 3), np.float32)
        cfg = infer_config(sd)
        assert cfg["variant"] == "peephole" and cfg["variant_family"] == "lstm"
        assert infer_config(sd, variant="peephole") == cfg
        assert "'weight_peephole_l0'" in error_of(infer_config, sd, variant="vanilla")
        del sd["weight_peephole_l1"]
        assert "'weight_peephole_l1' is missing" in error_of(infer_config, sd)
        sd["weight_peephole_l1"] = np.zeros((4, 3), np.float32)
        assert "'weight_peephole_l1' has shape (4, 3)" in error_of(infer_config, sd)
        plain = np_state(torch.nn.LSTM(2, 3))
        assert "'weight_peephole_l0' is missing" in error_of(
            infer_config, plain, variant="peephole"
        )

    def test_three_blocks_with_projection_needs_a_variant(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 4, proj_size=2))
        sd = {k: v[:12] if k != "weight_hr_l0" else v for k, v in sd.items()}
        msg = error_of(infer_config, sd)
        assert all(v in msg for v in THREE_BLOCK_LSTM), msg
        cfg = infer_config(sd, variant=THREE_BLOCK_LSTM[-1])
        assert cfg["proj_size"] == 2 and cfg["hidden_size"] == 4
        assert "only LSTMs" in error_of(infer_config, sd, variant="gru")

    def test_errors_name_the_tensor(self) -> None:
        base = np_state(torch.nn.LSTM(2, 3, num_layers=3, bidirectional=True))

        def without(*names: str) -> dict:
            return {k: v for k, v in base.items() if k not in names}

        def with_(**changes: np.ndarray) -> dict:
            return base | changes

        cases = [
            (without(*[k for k in base if "_l1" in k]), "Layer 1 is missing"),
            (without("weight_hh_l2_reverse"), "'weight_hh_l2_reverse' is missing"),
            (without("bias_ih_l1"), "'bias_ih_l1' is missing"),
            (without("weight_ih_l0"), "'weight_ih_l0' is missing"),
            (with_(weight_ih_l1=np.zeros((12, 3))), "'weight_ih_l1' has shape (12, 3)"),
            (with_(weight_ih_l2_reverse=np.zeros((12, 5))), "(12, 6)"),
            (with_(weight_hh_l1=np.zeros((12, 4))), "'weight_hh_l1'"),
            (with_(bias_hh_l2=np.zeros(13)), "'bias_hh_l2' has shape (13,)"),
            (with_(bias_hh_l0=np.zeros((12, 1))), "'bias_hh_l0'"),
            (with_(weight_hh_l0=np.zeros((16, 3))), "'weight_hh_l0' has 16 rows"),
            (with_(weight_ih_l0=np.zeros(12)), "must be 2-D"),
            (with_(fc_weight=np.zeros(3)), "Unknown tensor 'fc_weight'"),
            (with_(weight_ih_l3=np.zeros((12, 6))), "'weight_hh_l3' is missing"),
            (with_(weight_hr_l0=np.zeros((2, 3))), "'weight_hh_l0' has 3 columns"),
        ]
        for state, expected in cases:
            assert expected in error_of(infer_config, state), expected

    def test_bidirectional_layer1_input_must_be_twice_hidden(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True))
        sd["weight_ih_l1"] = np.zeros((12, 3), np.float32)
        msg = error_of(infer_config, sd)
        assert "'weight_ih_l1'" in msg and "(12, 6)" in msg and "2 × 3" in msg

    def test_reverse_only_in_one_layer(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 3, num_layers=2))
        sd["weight_ih_l1_reverse"] = sd["weight_ih_l1"]
        assert "'weight_ih_l0_reverse' is missing" in error_of(infer_config, sd)

    def test_weight_hr_in_one_layer_only(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 4, num_layers=2, proj_size=2))
        del sd["weight_hr_l1"]
        assert "'weight_hr_l1' is missing" in error_of(infer_config, sd)
        sd = np_state(torch.nn.LSTM(2, 4, num_layers=2))
        sd["weight_hr_l1"] = np.zeros((2, 4), np.float32)
        assert "'weight_hr_l1' is unexpected" in error_of(infer_config, sd)

    def test_bias_in_one_layer_only(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 3, num_layers=2, bias=False))
        sd["bias_ih_l1"] = np.zeros(12, np.float32)
        assert "'bias_ih_l1' is unexpected" in error_of(infer_config, sd)

    def test_projection_must_be_smaller_than_hidden(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 3))
        sd["weight_hr_l0"] = np.zeros((3, 3), np.float32)
        assert "smaller than hidden_size" in error_of(infer_config, sd)

    def test_bad_arguments(self) -> None:
        assert "Unknown variant 'lstm2'" in error_of(infer_config, {}, variant="lstm2")
        assert "empty" in error_of(infer_config, {})
        assert "5 blocks" in error_of(
            infer_config, {"weight_ih_l0": np.zeros((10, 1)), "weight_hh_l0": np.zeros((10, 2))}
        )


# ============================================================================ fitting_variants


class TestFittingVariants:
    def test_lstm_fits_the_four_block_variants_but_peephole(self) -> None:
        assert fitting_variants(np_state(torch.nn.LSTM(2, 3))) == (NATIVE["LSTM"], LIKE_LSTM)

    def test_gru_fits_the_three_block_lstm_variants(self) -> None:
        inferred, fits = fitting_variants(np_state(torch.nn.GRU(2, 3)))
        assert inferred == NATIVE["GRU"] and set(fits) == {NATIVE["GRU"], *THREE_BLOCK_LSTM}

    def test_three_blocks_with_projection_has_no_inferred_variant_but_fits(self) -> None:
        sd = np_state(torch.nn.LSTM(2, 4, proj_size=2))
        sd = {k: v[:12] if k != "weight_hr_l0" else v for k, v in sd.items()}
        inferred, fits = fitting_variants(sd)
        assert inferred == THREE_BLOCK_LSTM[0] and fits == THREE_BLOCK_LSTM

    def test_nothing_fits_raises_the_inference_message(self) -> None:
        state = {"weight_ih_l0": np.zeros((10, 1)), "weight_hh_l0": np.zeros((10, 2))}
        assert "5 blocks" in error_of(fitting_variants, state)


# ============================================================================ property tests


@st.composite
def recurrent_configs(draw) -> tuple[str, dict]:
    family = draw(st.sampled_from(["lstm", "gru", "rnn"]))
    hidden = draw(st.integers(1, 5))
    kw = dict(
        input_size=draw(st.integers(1, 5)),
        hidden_size=hidden,
        num_layers=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()),
        bias=draw(st.booleans()),
    )
    if family == "lstm" and hidden > 1 and draw(st.booleans()):
        kw["proj_size"] = draw(st.integers(1, hidden - 1))
    return family, kw


@settings(max_examples=60, deadline=None)
@given(recurrent_configs())
def test_infer_config_round_trips_any_torch_module(config: tuple[str, dict]) -> None:
    family, kw = config
    assert infer_config(np_state(torch_module(family, **kw))) == expected_config(family, kw)


@settings(max_examples=150, deadline=None)
@given(recurrent_configs(), st.data())
def test_infer_config_rejects_any_single_corruption(config: tuple[str, dict], data) -> None:
    """Drop one tensor, or change one dimension: with the variant fixed, never a valid config."""
    family, kw = config
    state = np_state(torch_module(family, **kw))
    variant = expected_config(family, kw)["variant"]
    key = data.draw(st.sampled_from(sorted(state)))
    how = data.draw(st.sampled_from(["drop", "grow", "shrink", "extra_axis", "rename"]))
    arr = state[key]
    if how == "drop":
        del state[key]
    elif how == "extra_axis":
        state[key] = arr[..., None]
    elif how == "rename":
        state[key.replace("_l", "_layer")] = state.pop(key)
    else:
        axis = data.draw(st.integers(0, arr.ndim - 1))
        if key == "weight_ih_l0" and axis == 1 and not kw["bidirectional"]:
            return  # that is just a different input size
        size = arr.shape[axis] + (1 if how == "grow" else -1)
        if size < 1:
            return
        shape = list(arr.shape)
        shape[axis] = size
        state[key] = np.zeros(shape, arr.dtype)
    with pytest.raises(InputError):
        infer_config(state, variant=variant)


GOOD_SEEDS: dict[str, bytes] = {
    ".csv": b'a,b;c\n1,2\n3.5,"4"\n-1e3,nan\n',
    ".tsv": b"a\tb\n1\t2\n",
    ".txt": "héllo wörld\n\ttab".encode(),
    ".npy": npy_bytes(np.arange(12, dtype=np.float32).reshape(4, 3)),
    "": b"plain",
    ".dat": npy_bytes(np.arange(3.0)),
}


@st.composite
def fuzzed_bytes(draw, seeds: list[bytes]) -> bytes:
    """Either arbitrary bytes or a valid file with a cut, a flipped byte or inserted junk."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=512))
    base = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        i = draw(st.integers(0, max(0, len(base) - 1)))
        if op == "cut":
            del base[i:]
        elif op == "flip" and base:
            base[i] = draw(st.integers(0, 255))
        elif op == "insert":
            base[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif base:
            del base[i]
    return bytes(base)


@pytest.mark.parametrize("ext", sorted(GOOD_SEEDS))
def test_fuzz_load_sequence(ext: str) -> None:
    seeds = list(GOOD_SEEDS.values())

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(fuzzed_bytes(seeds))
    def run(data: bytes) -> None:
        try:
            seq = load_sequence(f"fuzz{ext}", data)
        except InputError as e:
            assert str(e) and "Traceback" not in str(e)
        else:
            assert_valid_sequence(seq)

    run()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,;\t\n\r\"' -+eEnaifxy", max_size=80))
def test_fuzz_csv_text(text: str) -> None:
    try:
        seq = load_sequence("fuzz.csv", text.encode())
    except InputError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert_valid_sequence(seq)


def _model_seeds() -> list[bytes]:
    sd = lstm_state(input_size=2, hidden_size=2)
    arrays = {k: v.numpy() for k, v in sd.items()}
    return [torch_bytes(sd), save_safetensors(arrays), npz_bytes(**arrays)]


MODEL_SEEDS = _model_seeds()


@pytest.mark.parametrize("ext", [".pt", ".pth", ".safetensors", ".npz"])
def test_fuzz_load_state_dict_file(ext: str) -> None:
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(fuzzed_bytes(MODEL_SEEDS))
    def run(data: bytes) -> None:
        try:
            state = load_state_dict_file(f"fuzz{ext}", data)
        except InputError as e:
            assert str(e) and "Traceback" not in str(e)
            return
        assert state and all(isinstance(k, str) for k in state)
        for v in state.values():
            assert isinstance(v, np.ndarray) and v.dtype in (np.float32, np.float64)
            assert np.isfinite(v).all()
        try:
            cfg = infer_config(state)
        except InputError:
            return
        assert cfg["variant_family"] in ("lstm", "gru", "rnn")

    run()


# ============================================================================ module hygiene


def test_import_is_light() -> None:
    code = (
        "import sys, lstm_viz.files.loaders; "
        "bad = [m for m in ('torch', 'streamlit', 'plotly') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_limits() -> None:
    assert MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    assert MAX_STEPS == 200_000
    assert MAX_FEATURES == 1024
