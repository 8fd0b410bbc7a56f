"""AppTest: the options under an uploaded sequence (issue #13): a dated CSV loads with its dates
as the step labels; the features and the scaling are chosen in the sidebar; a batch and a long
file offer a sequence number and a window; a bad choice keeps the sequence shown."""

from __future__ import annotations

import io

import numpy as np
from conftest import no_exception, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.files.common import MAX_STEPS


def dated_csv(months: int = 24) -> bytes:
    rows = [f"{1949 + m // 12}-{m % 12 + 1:02d},{1949 + m // 12},{100 + 3 * m},{m % 4}"
            for m in range(months)]
    return ("Month,Year,Passengers,Quarter\n" + "\n".join(rows) + "\n").encode()


def fresh_upload(name: str, data: bytes) -> AppTest:
    at = open_page()
    at.radio(key="w_model_kind").set_value("fresh").run()
    at.radio(key="w_seq_source").set_value("upload").run()
    at.file_uploader(key="w_upload").set_value((name, data, "text/csv")).run()
    no_exception(at)
    return at


def texts(at: AppTest) -> list[str]:
    return [m.value for m in (*at.markdown, *at.caption, *at.error)]


def input_line(at: AppTest) -> str:
    [line] = [m.value for m in at.markdown if m.value.startswith("Input x_t")]
    return line


def test_dated_csv_columns_and_scaling_in_the_sidebar() -> None:
    at = fresh_upload("airline.csv", dated_csv())
    seq = at.session_state["uploaded_sequence"]
    assert seq.feature_names == ("Year", "Passengers", "Quarter") and seq.length == 24
    assert seq.labels[0] == "1949-01"
    assert "Time axis: Month" in texts(at)
    assert input_line(at).startswith("Input x_t (1949-01) = Year 1.95e+03, Passengers 100")
    assert at.multiselect(key="w_seq_columns").options == ["Year", "Passengers", "Quarter"]

    at.multiselect(key="w_seq_columns").set_value(["Passengers"]).run()
    no_exception(at)
    seq = at.session_state["uploaded_sequence"]
    assert seq.feature_names == ("Passengers",) and seq.labels[-1] == "1950-12"
    assert at.multiselect(key="w_seq_columns").value == ["Passengers"]

    at.radio(key="w_seq_scale").set_value("zscore").run()
    no_exception(at)
    seq = at.session_state["uploaded_sequence"]
    p = 100 + 3 * np.arange(24.0)
    np.testing.assert_allclose(seq.values[:, 0], (p - p.mean()) / p.std(), atol=1e-5)
    [stats] = [t for t in texts(at) if t.startswith("z-score over 24 steps")]
    assert "Passengers: mean 134.5, std 20.77" in stats
    assert input_line(at) == f"Input x_t (1949-01) = Passengers {seq.values[0, 0]:.3g}"

    at.slider(key="w_step").set_value(13).run()
    no_exception(at)
    assert input_line(at).startswith("Input x_t (1950-02) = Passengers")

    at.radio(key="w_seq_scale").set_value("minmax").run()
    assert [t for t in texts(at) if t.startswith("min-max") and "min 100, max 169" in t]


def test_a_bad_choice_keeps_the_sequence_and_says_why() -> None:
    at = fresh_upload("airline.csv", dated_csv())
    at.multiselect(key="w_seq_columns").set_value(["Passengers"]).run()
    before = at.session_state["uploaded_sequence"]
    at.multiselect(key="w_seq_columns").set_value([]).run()
    no_exception(at)
    assert at.session_state["uploaded_sequence"] is before
    assert [e.value for e in at.error if "No feature is chosen" in e.value]
    assert at.multiselect(key="w_seq_columns").value == ["Passengers"]   # what is loaded


def test_a_batch_offers_the_sequence_number() -> None:
    arr = np.random.default_rng(0).standard_normal((5, 30, 2)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, arr)
    at = fresh_upload("batch.npy", buf.getvalue())
    np.testing.assert_array_equal(at.session_state["uploaded_sequence"].values, arr[0])
    assert "Sequence 0 of 5 (axis 0 of shape (5, 30, 2) is the batch)." in texts(at)
    at.number_input(key="w_seq_index").set_value(3).run()
    no_exception(at)
    np.testing.assert_array_equal(at.session_state["uploaded_sequence"].values, arr[3])


def test_a_long_text_offers_a_window() -> None:
    text = ("abc " * 80_000).encode()                       # 320,000 characters
    at = fresh_upload("long.txt", text)
    assert at.session_state["uploaded_sequence"].length == MAX_STEPS
    assert "Characters 0–199,999 of 320,000; choose a window." in texts(at)
    at.number_input(key="w_seq_length").set_value(100).run()
    at.number_input(key="w_seq_start").set_value(1_000).run()
    no_exception(at)
    seq = at.session_state["uploaded_sequence"]
    assert seq.length == 100 and seq.text == text.decode()[1_000:1_100]


def test_columns_make_a_file_fit_the_trained_model() -> None:
    # The sine task's trained model takes 1 input: the 3-feature table does not fit, but it is
    # kept, so picking one column under the uploader makes it fit.
    at = open_page(query={"task": "sine"})
    at.radio(key="w_seq_source").set_value("upload").run()
    at.file_uploader(key="w_upload").set_value(("airline.csv", dated_csv(), "text/csv")).run()
    no_exception(at)
    assert "uploaded_sequence" not in at.session_state
    assert [e.value for e in at.error if "3 features but the model expects 1 input" in e.value]
    at.multiselect(key="w_seq_columns").set_value(["Passengers"]).run()
    no_exception(at)
    assert not [e.value for e in at.error if "airline.csv" in e.value]
    seq = at.session_state["uploaded_sequence"]
    assert seq.feature_names == ("Passengers",) and seq.labels[0] == "1949-01"
    assert input_line(at).startswith("Input x_t (1949-01) = Passengers 100")


def test_a_file_too_big_to_trace_can_be_windowed() -> None:
    # 30,000 steps through 256 units x 4 bidirectional layers is over the trace limit: the file
    # is kept and a window of it loads.
    at = open_page()
    at.radio(key="w_model_kind").set_value("fresh").run()
    at.slider(key="w_hidden").set_value(256).run()
    at.slider(key="w_layers").set_value(4).run()
    at.toggle(key="w_bidirectional").set_value(True).run()
    at.radio(key="w_seq_source").set_value("upload").run()
    data = ("v\n" + "\n".join(str(k % 7) for k in range(30_000)) + "\n").encode()
    at.file_uploader(key="w_upload").set_value(("long.csv", data, "text/csv")).run()
    no_exception(at)
    assert [e.value for e in at.error if "long.csv" in e.value and "GB" in e.value]
    assert "uploaded_sequence" not in at.session_state
    at.number_input(key="w_seq_length").set_value(50).run()
    no_exception(at)
    seq = at.session_state["uploaded_sequence"]
    assert seq.length == 50 and seq.meta["window"] == (0, 50, 30_000)


def test_names_from_the_file_are_shown_as_text() -> None:
    data = (b'"[t](https://evil.example)",**v**,w\n1949-01,1,2\n1949-02,3,4\n')
    at = fresh_upload("x.csv", data)
    shown = [t for t in texts(at) if "evil" in t or "v\\*\\*" in t]
    assert shown and all("](https://" not in t for t in shown)
    assert "Time axis: \\[t\\](https\u2060://evil.example)" in texts(at)
    at.radio(key="w_seq_scale").set_value("zscore").run()
    [stats] = [t for t in texts(at) if t.startswith("z-score")]
    assert "\\*\\*v\\*\\*: mean 2" in stats
