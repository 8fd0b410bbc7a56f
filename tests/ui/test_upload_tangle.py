"""An uploaded text follows the model that reads it (issue #15): on brackets it is encoded over
the brackets model's vocabulary '()' with one sentence naming what it lacks; switching the task
reads the held upload again for the new model (no stale error or caption); re-uploading the same
file after a change reads it again; a text a model cannot read is not shown with it."""

from __future__ import annotations

import html
import re

from conftest import no_exception, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.training.tasks import TASKS

HELLO = ("hello.txt", b"hello world (a) b\n", "text/plain")


def upload(at: AppTest, file: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader(key="w_upload").set_value(file).run()
    no_exception(at)
    return at


def task(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="w_task").set_value(name).run()
    no_exception(at)
    return at


def on_brackets() -> AppTest:
    return upload(open_page(state={"task": "brackets", "seq_source": "upload"}), HELLO)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.sidebar.caption)


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


def test_a_text_on_brackets_is_read_over_the_brackets_vocabulary_with_one_sentence() -> None:
    at = on_brackets()
    seq = at.session_state["uploaded_sequence"]
    assert seq.vocab == TASKS["brackets"].vocab and seq.n_features == 2
    assert seq.values[[12, 14]].tolist() == [[1, 0], [0, 1]]      # "(" and ")" one-hot
    assert seq.values[0].tolist() == [0, 0]                      # "h": all-zero
    [sentence] = [w.value for w in at.warning if "vocabulary" in w.value]
    assert sentence.startswith("16 of 18 characters are not in the brackets model's "
                               "vocabulary '()'")
    assert "‘␣’" in sentence and "‘↵’" in sentence and "all-zero" in sentence
    assert "Characters through the brackets model's vocabulary of 2 characters" in captions(at)
    assert "reads the file again" in captions(at)                # the behaviour, stated
    assert not at.error


def test_switching_the_task_reads_the_held_upload_for_the_new_model() -> None:
    at = task(on_brackets(), "text")
    seq = at.session_state["uploaded_sequence"]
    vocab = TASKS["text"].vocab
    assert seq.vocab == vocab and seq.n_features == len(vocab)
    assert seq.meta["token_ids"].tolist() == [vocab.index(c) for c in "hello world (a) b\n"]
    assert at.session_state["seq_source"] == "upload"
    assert not at.error and "vocabulary" not in warnings(at)     # no stale sentence
    assert "features per step" not in warnings(at)               # no mismatch fallback
    caps = captions(at)
    assert f"18 steps × {len(vocab)} features" in caps and "× 2 features" not in caps
    assert "brackets" not in caps.replace("trained on text", "")
    # the stepper shows the upload through the text model
    [line] = [m.value for m in at.markdown if m.value.startswith("Input around here: ")]
    shown = html.unescape(re.sub(r"<[^>]+>", "", line))
    assert shown.startswith("Input around here: hello␣world")
    assert re.search(r'<span style="background[^"]*">&#104;</span>', line)  # h, highlighted
    # and back: the brackets model's encoding again
    at = task(at, "brackets")
    assert at.session_state["uploaded_sequence"].n_features == 2
    assert "16 of 18 characters" in warnings(at)


def test_a_stale_error_is_cleared_by_switching_the_task() -> None:
    at = upload(on_brackets(), ("x.txt", b"xyz", "text/plain"))     # nothing brackets reads
    [error] = [e.value for e in at.error]
    assert "None of the 3 characters of the text is in the model's vocabulary '()'" in error
    assert at.session_state["uploaded_sequence"].name == "hello.txt"   # the one before stays
    at = task(at, "text")
    assert not at.error
    assert at.session_state["uploaded_sequence"].n_features == len(TASKS["text"].vocab)


def test_reuploading_the_same_file_after_a_change_reads_it_again() -> None:
    at = task(on_brackets(), "text")
    first = at.session_state["uploaded_sequence"]
    at = upload(at, HELLO)
    again = at.session_state["uploaded_sequence"]
    assert again is not first and again.n_features == len(TASKS["text"].vocab)
    at = task(at, "brackets")
    at = upload(at, HELLO)
    assert at.session_state["uploaded_sequence"].n_features == 2
    assert not at.error


def test_a_text_the_new_model_cannot_read_is_not_shown_with_it() -> None:
    at = upload(open_page(state={"task": "text", "seq_source": "upload"}),
                ("hi.txt", b"hello", "text/plain"))
    assert at.session_state["uploaded_sequence"].name == "hi.txt"
    at = task(at, "brackets")                      # no "(" or ")" in it
    assert at.session_state["uploaded_sequence"] is None
    [error] = [e.value for e in at.error]
    assert error.startswith("hi.txt: None of the 5 characters")
    assert "hi.txt is not read for this model: showing the task example." in captions(at)
    assert "vocabulary of" not in captions(at)     # no caption of the read for the text model
    assert at.session_state["seq_source"] == "upload"
    at = task(at, "text")                          # the held file comes back
    assert at.session_state["uploaded_sequence"].name == "hi.txt"
    assert not at.error


def test_a_fresh_model_reads_a_text_over_its_own_characters() -> None:
    at = upload(open_page(state={"task": "brackets", "seq_source": "upload",
                                 "model_kind": "fresh"}), HELLO)
    seq = at.session_state["uploaded_sequence"]
    assert seq.n_features == len(set("hello world (a) b\n"))
    assert "over the text's own 13 different characters" in captions(at)
    assert "vocabulary" not in warnings(at)
