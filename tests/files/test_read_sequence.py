"""read_sequence (SPEC §7, issue #13): real data files load, with columns, scaling, a batch index
and a window; anything unusable is one InputError sentence."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lstm_viz import read_sequence
from lstm_viz.errors import InputError
from lstm_viz.files.common import MAX_STEPS
from lstm_viz.files.tables import is_date

PASSENGERS = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]


def airline_csv(months: int = 24) -> bytes:
    rows = [f"{1949 + m // 12}-{m % 12 + 1:02d},{PASSENGERS[m % 12] + m}" for m in range(months)]
    return ("Month,Passengers\n" + "\n".join(rows) + "\n").encode()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def sentence(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert msg and "\n" not in msg and msg.endswith(".") and len(msg) <= 400, msg
    return msg


def test_airline_passengers_loads_with_dates_as_labels() -> None:
    seq = read_sequence("airline-passengers.csv", airline_csv())
    assert seq.values.shape == (24, 1) and seq.values.dtype == np.float32
    assert seq.feature_names == ("Passengers",)
    assert seq.labels[:3] == ("1949-01", "1949-02", "1949-03") and seq.labels[-1] == "1950-12"
    assert seq.meta["time_column"] == "Month"
    assert any("time axis" in n for n in seq.meta["notes"])
    assert seq.values[0, 0] == 112


@pytest.mark.parametrize(
    "cells",
    [
        ["1949-01-31", "1949-02-28"],
        ["2020-01-01 12:00", "2020-01-01 13:00"],
        ["2020-01-01T12:00:00Z", "2020-01-01T12:00:01Z"],
        ["01/31/1949", "02/28/1949"],
        ["31.01.1949", "28.02.1949"],
        ["Jan 1949", "Feb 1949"],
        ["1949Q1", "1949Q2"],
        ["12:00", "12:30:05.5"],
    ],
)
def test_date_formats_become_the_time_axis(cells: list[str]) -> None:
    data = ("when;value\n" + "".join(f"{c};{k}\n" for k, c in enumerate(cells))).encode()
    seq = read_sequence("d.csv", data)
    assert seq.labels == tuple(cells) and seq.feature_names == ("value",)


def test_is_date_does_not_take_numbers_or_words() -> None:
    assert is_date("1949-01") and is_date("'2020-01-01'")
    assert not any(is_date(s) for s in ("1949", "3.5", "-1e3", "hello", "", "12-345"))


def test_a_dated_table_without_a_header() -> None:
    seq = read_sequence("d.csv", b"1949-01,112\n1949-02,118\n")
    assert seq.feature_names == ("x1",) and seq.labels == ("1949-01", "1949-02")


def test_headerless_single_column_ecg() -> None:
    ecg = np.round(np.sin(np.arange(500) / 7.0), 4)
    seq = read_sequence("ecg.csv", "\n".join(map(str, ecg)).encode())
    assert seq.feature_names == ("x0",) and seq.values.shape == (500, 1)
    np.testing.assert_allclose(seq.values[:, 0], ecg, atol=1e-6)
    assert seq.labels is None and seq.meta["header"] is False
    assert "no header" in seq.meta["notes"][0]


def quarterly() -> bytes:
    rows = [f"{2000 + k // 4},{k % 4 + 1},{0.5 * k:.1f}" for k in range(12)]
    return ("year,quarter,value\n" + "\n".join(rows) + "\n").encode()


def test_columns_pick_the_features() -> None:
    assert read_sequence("q.csv", quarterly()).n_features == 3
    seq = read_sequence("q.csv", quarterly(), columns=["value"])
    assert seq.feature_names == ("value",) and seq.values[3, 0] == 1.5
    assert seq.meta["columns"] == ("year", "quarter", "value")
    by_index = read_sequence("q.csv", quarterly(), columns=[2, 0])
    assert by_index.feature_names == ("value", "year")


def test_columns_leave_out_a_column_of_words() -> None:
    data = b"t,name,v\n0,a,1\n1,b,2\n"
    assert "'a'" in sentence(read_sequence, "w.csv", data)
    assert read_sequence("w.csv", data, columns=["v"]).values[:, 0].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["price"], ["'price'", "'year'", "'quarter'", "'value'"]),
        ([7], ["no feature 7", "0 to 2"]),
        ([], ["No feature is chosen"]),
    ],
)
def test_unknown_columns_are_one_sentence(columns: list, expected: list[str]) -> None:
    msg = sentence(read_sequence, "q.csv", quarterly(), columns=columns)
    for part in expected:
        assert part in msg


def test_zscore_with_its_statistics() -> None:
    seq = read_sequence("q.csv", quarterly(), columns=["year", "value"], scale="zscore")
    raw = read_sequence("q.csv", quarterly(), columns=["year", "value"]).values.astype(float)
    stats = seq.meta["scaling"]
    assert stats["method"] == "zscore" and stats["features"] == ("year", "value")
    np.testing.assert_allclose(stats["mean"], raw.mean(axis=0))
    np.testing.assert_allclose(stats["std"], raw.std(axis=0))
    np.testing.assert_allclose(seq.values, (raw - raw.mean(0)) / raw.std(0), atol=1e-6)
    assert stats["constant"] == ()


def test_minmax_with_a_constant_column() -> None:
    data = b"a,b\n1,5\n3,5\n2,5\n"
    seq = read_sequence("c.csv", data, scale="minmax")
    np.testing.assert_allclose(seq.values, [[0, 0], [1, 0], [0.5, 0]])
    stats = seq.meta["scaling"]
    assert stats["min"] == [1, 5] and stats["max"] == [3, 5] and stats["constant"] == ("b",)
    assert any("'b'" in n and "Constant" in n for n in seq.meta["notes"])
    z = read_sequence("c.csv", data, scale="zscore")
    assert np.all(z.values[:, 1] == 0) and z.meta["scaling"]["std"][1] == 0


def test_scaling_brings_large_raw_values_into_range() -> None:
    data = b"price\n2500000\n3000000\n"
    assert "limit" in sentence(read_sequence, "p.csv", data)
    seq = read_sequence("p.csv", data, scale="minmax")
    np.testing.assert_allclose(seq.values[:, 0], [0, 1])


def test_unknown_scaling_and_text_options_are_refused() -> None:
    assert "'log'" in sentence(read_sequence, "q.csv", quarterly(), scale="log")
    assert "text" in sentence(read_sequence, "t.txt", b"abc", scale="zscore")
    assert "text" in sentence(read_sequence, "t.txt", b"abc", columns=[0])


def test_batched_npy_with_index() -> None:
    arr = np.random.default_rng(0).standard_normal((64, 256, 2)).astype(np.float32)
    first = read_sequence("batch.npy", npy(arr))
    np.testing.assert_array_equal(first.values, arr[0])
    assert first.meta["batch"] == (0, 64) and "Sequence 0 of 64" in first.meta["notes"][0]
    seq = read_sequence("batch.npy", npy(arr), index=63, columns=["x1"], scale="zscore")
    x = arr[63, :, 1].astype(np.float64)
    np.testing.assert_allclose(seq.values[:, 0], (x - x.mean()) / x.std(), atol=1e-5)
    assert "0 to 63" in sentence(read_sequence, "batch.npy", npy(arr), index=64)
    assert "not a batch" in sentence(read_sequence, "one.npy", npy(arr[0]), index=2)


def test_a_long_text_loads_a_window() -> None:
    text = ("It was the best of times, it was the worst of times. " * 6000)[:300_000]
    seq = read_sequence("novel.txt", text.encode())
    assert seq.length == MAX_STEPS and seq.text == text[:MAX_STEPS]
    assert seq.meta["window"] == (0, MAX_STEPS, 300_000)
    assert "Characters 0–199,999 of 300,000; choose a window." in seq.meta["notes"]
    later = read_sequence("novel.txt", text.encode(), start=250_000, length=1000)
    assert later.text == text[250_000:251_000] and later.vocab == seq.vocab
    tail = read_sequence("novel.txt", text.encode(), start=299_990)
    assert tail.length == 10
    assert "past the end" in sentence(read_sequence, "novel.txt", text.encode(), start=300_000)
    assert "200,000" in sentence(read_sequence, "novel.txt", b"abc", length=MAX_STEPS + 1)


def test_table_and_array_windows() -> None:
    seq = read_sequence("a.csv", airline_csv(), start=12, length=3)
    assert seq.labels == ("1950-01", "1950-02", "1950-03") and seq.meta["window"] == (12, 15, 24)
    assert seq.meta["notes"][-1] == "Steps 12–14 of 24."
    arr = np.arange(10.0)
    seq = read_sequence("a.npy", npy(arr), start=8)
    assert seq.values[:, 0].tolist() == [8, 9]
    assert "start" in sentence(read_sequence, "a.npy", npy(arr), start=-1)


def test_a_pandas_index_column_in_a_window_is_still_dropped() -> None:
    data = (",v\n" + "".join(f"{k},{k * 2}\n" for k in range(10))).encode()
    seq = read_sequence("p.csv", data, start=4, length=3)
    assert seq.feature_names == ("v",) and seq.values[:, 0].tolist() == [8, 10, 12]


def test_no_options_is_the_old_load_sequence() -> None:
    from lstm_viz.files.loaders import load_sequence

    data = b"a,b\n1,2\n3,4\n"
    a, b = read_sequence("x.csv", data), load_sequence("x.csv", data)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.feature_names == b.feature_names


def test_a_models_training_statistics_are_applied_as_given() -> None:
    seq = read_sequence("q.csv", quarterly(), columns=["year", "value"],
                        scale={"mean": [2000, 1.0], "std": [2, 0.5]})
    raw = read_sequence("q.csv", quarterly(), columns=["year", "value"]).values.astype(float)
    np.testing.assert_allclose(seq.values, (raw - [2000, 1.0]) / [2, 0.5], atol=1e-6)
    assert seq.meta["scaling"]["given"] and seq.meta["scaling"]["std"] == [2, 0.5]
    seq = read_sequence("p.csv", b"price\n2500000\n3000000\n",
                        scale={"min": 2_000_000, "max": 4_000_000})
    np.testing.assert_allclose(seq.values[:, 0], [0.25, 0.5])


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ({"mean": [0, 0]}, "'mean' and 'std'"),
        ({"mean": [0, 0, 0], "std": [1, 1, 1]}, "one a feature (2)"),
        ({"mean": 0, "std": [1, 0]}, "'value'"),
        ({"mean": 0, "std": float("nan")}, "non-finite"),
        ({"mean": 0, "std": 1e-12}, "over the"),
    ],
)
def test_bad_training_statistics_are_one_sentence(scale: dict, expected: str) -> None:
    msg = sentence(read_sequence, "q.csv", quarterly(), columns=["year", "value"], scale=scale)
    assert expected in msg


def test_trailing_delimiters_and_a_named_empty_column() -> None:
    assert read_sequence("t.csv", b"a,b,\n1,2,\n3,4,\n").feature_names == ("a", "b")
    assert read_sequence("t.csv", b"1,2,\n3,4,\n").feature_names == ("x0", "x1")
    assert "is empty" in sentence(read_sequence, "t.csv", b"a,notes\n1,\n2,\n")
    assert read_sequence("t.csv", b"a,notes\n1,\n2,\n", columns=["a"]).n_features == 1


def test_a_2_mb_novel_over_a_big_alphabet_loads_a_window() -> None:
    alphabet = "".join(chr(c) for c in range(33, 153))        # 120 characters
    novel = (alphabet * (2_000_000 // len(alphabet) + 1))[:2_000_000]
    seq = read_sequence("novel.txt", novel.encode())
    assert seq.n_features == 120 and seq.length == 20_000_000 // 120
    assert seq.meta["notes"] == ["Characters 0–166,665 of 2,000,000; choose a window."]
