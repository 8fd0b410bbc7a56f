"""AppTest: text through the user's model's own vocabulary (issue #13). A model with a vocabulary
offers "Type text" in the sidebar, tokenised into its ids; a model without one offers an uploader
for its vocabulary file; unknown tokens are named, a bad vocabulary keeps what was there."""

from __future__ import annotations

import json

from conftest import no_exception, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.core import Recurrent
from lstm_viz.workbench import Model

VOCAB = ("<pad>", "<unk>", "the", "cat", "sat", "on", "mat", ".")


def user_model(vocab: tuple[str, ...] | None, inputs: int = len(VOCAB)) -> Model:
    rec = Recurrent(inputs, 4, variant="vanilla", seed=3)
    return Model(rec, "your test model", f"test:vocab:{vocab is not None}", vocab=vocab)


def open_with(model: Model) -> AppTest:
    return open_page(state={"custom_model": model, "model_kind": "custom",
                            "seq_source": "upload"})


def typed(at: AppTest, text: str) -> AppTest:
    at.text_area(key="w_typed").input(text).run()
    no_exception(at)
    return at


def test_typed_text_is_tokenised_with_the_models_vocabulary() -> None:
    at = typed(open_with(user_model(VOCAB)), "The cat sat on the dog.")
    seq = at.session_state["uploaded_sequence"]
    assert seq.meta["token_ids"].tolist() == [2, 3, 4, 5, 2, 1, 7]   # dog -> <unk>
    assert seq.labels == ("The", "cat", "sat", "on", "the", "dog", ".")
    assert seq.values.shape == (7, len(VOCAB))
    assert seq.values.argmax(axis=1).tolist() == seq.meta["token_ids"].tolist()
    assert not at.error
    [warning] = [w.value for w in at.warning if "outside the vocabulary" in w.value]
    assert "dog" in warning and "×1" in warning
    assert at.session_state["model_kind"] == "custom"


def test_unknown_tokens_are_shown_escaped() -> None:
    at = typed(open_with(user_model(VOCAB)), "the cat **_x_** sat")
    [warning] = [w.value for w in at.warning if "outside the vocabulary" in w.value]
    assert r"\_x\_" in warning and "**" not in warning.replace(r"\*", "")


def test_text_no_token_of_which_is_known_keeps_the_sequence() -> None:
    at = typed(open_with(user_model(VOCAB)), "the cat")
    before = at.session_state["uploaded_sequence"]
    at = typed(at, "le chien")
    assert at.session_state["uploaded_sequence"] is before
    assert any("None of the text" in e.value for e in at.error)


def test_a_vocabulary_file_beside_a_model_without_one() -> None:
    at = open_with(user_model(None))
    assert not at.text_area
    data = json.dumps({t: k for k, t in enumerate(VOCAB)}).encode()
    at.file_uploader(key="w_vocab").set_value(("vocab.json", data, "application/json")).run()
    no_exception(at)
    assert at.session_state["uploaded_vocab"] == list(VOCAB)
    at = typed(at, "the mat.")
    assert at.session_state["uploaded_sequence"].meta["token_ids"].tolist() == [2, 6, 7]


def test_a_vocabulary_that_does_not_fit_the_model_is_refused() -> None:
    at = open_with(user_model(None))
    at.file_uploader(key="w_vocab").set_value(("v.txt", b"a\nb\nc\n", "text/plain")).run()
    no_exception(at)
    assert "uploaded_vocab" not in at.session_state
    assert any("3 tokens" in e.value and "8 inputs" in e.value for e in at.error)
    assert not at.text_area


def test_uploads_of_text_and_of_token_ids_go_through_the_vocabulary() -> None:
    at = open_with(user_model(VOCAB))
    at.file_uploader(key="w_upload").set_value(("s.txt", b"the cat sat.", "text/plain")).run()
    no_exception(at)
    assert at.session_state["uploaded_sequence"].meta["token_ids"].tolist() == [2, 3, 4, 7]
    at.file_uploader(key="w_upload").set_value(("ids.csv", b"id\n6\n2\n", "text/csv")).run()
    no_exception(at)
    seq = at.session_state["uploaded_sequence"]
    assert seq.meta["token_ids"].tolist() == [6, 2] and seq.labels == ("mat", "the")
