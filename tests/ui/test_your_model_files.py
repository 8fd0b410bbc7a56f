"""The "Your model" page end to end in AppTest: a char-RNN checkpoint, several modules, ONNX,
the URL and a sequence that does not fit."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from conftest import app_test, click, model_reading_typed_text, no_exception, open_page
from streamlit.testing.v1 import AppTest
from torch import nn

PAGE = "pages/4_Your_model.py"
CHARS = ["(", ")"]          # the brackets task's two features: the example sequence fits


class CharRNN(nn.Module):
    def __init__(self, n_in: int = 2, hidden: int = 8, n_out: int = 2) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])


class TwoLSTMs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm1 = nn.LSTM(2, 6)
        self.lstm2 = nn.LSTM(6, 6)


def torch_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def char_rnn_bytes(n_in: int = 2) -> tuple[bytes, CharRNN]:
    torch.manual_seed(0)
    net = CharRNN(n_in)
    opt = torch.optim.Adam(net.parameters())
    net(torch.zeros(1, 3, n_in)).sum().backward()
    opt.step()
    return torch_bytes({"n_hidden": 8, "n_layers": 2, "tokens": CHARS,
                        "state_dict": net.state_dict(), "optimizer": opt.state_dict()}), net


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="w_ym_upload").set_value((name, data, "application/octet-stream"))
    at.run()
    no_exception(at)
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def tensor_rows(at: AppTest) -> dict[str, str]:
    [table] = [t.value for t in at.table if "tensor" in t.value.columns]
    return dict(zip(table["tensor"], table["use"], strict=True))


@pytest.fixture(scope="module")
def char_rnn() -> tuple[bytes, CharRNN]:
    return char_rnn_bytes()


def test_char_rnn_checkpoint_lists_every_tensor_and_predicts_on_the_stepper(char_rnn):
    data, net = char_rnn
    at = upload(open_page(PAGE), "char_rnn.net", data)
    assert not at.error, texts(at.error)
    rows = tensor_rows(at)
    for name in net.state_dict():
        assert name.replace("_", "\\_") in rows or name in rows, name
    uses = set(rows.values())
    assert any(u.startswith("recurrent") for u in uses) and "head" in uses
    assert any("optimizer" in u for u in uses)               # the optimizer's tensors: listed
    notes = texts(at.markdown)
    assert "vocabulary" in notes.lower() and "Linear head" in notes
    assert "nn.LSTM(input_size=2, hidden_size=8, num_layers=2)" in texts(at.code)

    click(at, "Inspect this model")
    model = at.session_state["custom_model"]
    assert model.head is not None and model.vocab == tuple(CHARS)
    at.switch_page("app.py")
    at.run()
    no_exception(at)
    shown = texts(at.markdown)
    assert "Model predicts:" in shown and "%" in shown
    assert at.query_params["model"] == "upload"
    assert at.query_params["h"] == model.short_hash
    assert "variant" not in at.query_params


def test_prediction_is_the_torch_head_on_the_torch_output(char_rnn):
    from lstm_viz import read_model
    from lstm_viz.workbench import Loaded, model_from_file, run

    data, net = char_rnn
    model = model_from_file(read_model("char_rnn.net", data), "yours")
    x = np.random.default_rng(0).standard_normal((7, 2)).astype(np.float32)
    from lstm_viz.files.sequence import Sequence
    seq = Sequence(x, "x")
    pred = Loaded(seq, model, run(model, seq)).prediction()
    with torch.no_grad():
        want = net(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(pred, want, atol=1e-5)


def test_key_includes_the_head_and_vocabulary(char_rnn):
    from dataclasses import replace

    from lstm_viz import read_model
    from lstm_viz.workbench import model_from_file

    mf = read_model("char_rnn.net", char_rnn[0])
    w, b = mf.head
    keys = {model_from_file(mf, "a").key,
            model_from_file(replace(mf, head=(w * 2, b)), "a").key,
            model_from_file(replace(mf, head=(w, None)), "a").key,
            model_from_file(replace(mf, vocab=["x", "y"]), "a").key,
            model_from_file(replace(mf, embedding=np.eye(2, dtype=np.float32)), "a").key}
    assert len(keys) == 5


def test_token_ids_go_through_the_embedding():
    from lstm_viz import InputError
    from lstm_viz.core import Recurrent
    from lstm_viz.files.sequence import Sequence
    from lstm_viz.workbench import Loaded, Model, fits, run, trace_key

    rec = Recurrent(3, 4, seed=0)
    emb = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    model = Model(rec, "m", "k", embedding=emb)
    ids = np.array([1, 4, 9, 4])
    seq = Sequence(np.zeros((4, 1)), "t", meta={"token_ids": ids})
    assert fits(model, seq)
    np.testing.assert_allclose(run(model, seq).output, rec.trace(emb[ids]).output)
    other = Sequence(np.zeros((4, 1)), "t", meta={"token_ids": ids[::-1].copy()})
    assert trace_key(model, seq) != trace_key(model, other)
    loaded = Loaded(seq, model, run(model, seq))
    np.testing.assert_array_equal(loaded.inputs, emb[ids])
    with pytest.raises(InputError, match="vocabulary"):
        run(model, Sequence(np.zeros((2, 1)), "t", meta={"token_ids": np.array([0, 10])}))


def test_two_modules_offer_a_picker_and_a_stack():
    torch.manual_seed(0)
    at = upload(open_page(PAGE), "two.pt", torch_bytes(TwoLSTMs().state_dict()))
    box = at.selectbox(key="w_ym_pick")
    assert box.options == ["lstm1", "lstm2", "lstm1 → lstm2 (one stack)"]
    assert box.value == "lstm1"
    box.set_value("lstm2")
    at.run()
    no_exception(at)
    assert at.session_state["ym_file"]["mf"].picked == "lstm2"
    assert "input_size=6" in texts(at.code)
    at.selectbox(key="w_ym_pick").set_value("lstm1+lstm2")
    at.run()
    no_exception(at)
    assert "num_layers=2" in texts(at.code) and "input_size=2" in texts(at.code)


def test_onnx_file_loads():
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 5)
    buf = io.BytesIO()
    torch.onnx.export(lstm, (torch.zeros(4, 1, 2),), buf, dynamo=False)
    at = upload(open_page(PAGE), "lstm.onnx", buf.getvalue())
    assert not at.error, texts(at.error)
    assert "hidden_size=5" in texts(at.code)
    assert tensor_rows(at)


def test_mismatch_is_said_on_the_stepper_and_the_users_model_is_not_swapped():
    data, _ = char_rnn_bytes(n_in=5)
    at = upload(open_page(PAGE), "five.net", data)
    click(at, "Inspect this model")
    at.switch_page("app.py")
    at.run()
    no_exception(at)
    warning = texts(at.warning)
    assert "reads 5 features per step" in warning and "has 2 features" in warning
    assert "tokenised with the model's vocabulary" in warning
    captions = texts(at.main.caption)
    assert "trained on brackets" in captions and "yours" not in captions
    assert at.query_params.get("model") != "upload"


def test_a_link_to_an_upload_in_a_fresh_session_falls_back_with_a_sentence():
    at = app_test(query={"task": "brackets", "model": "upload", "h": "0123abcd"})
    at.run()
    no_exception(at)
    assert "This link shows an uploaded model" in texts(at.info)
    assert at.session_state["model_kind"] == "trained"
    assert "model" not in at.query_params


def test_a_head_without_vocabulary_shows_its_raw_outputs():
    torch.manual_seed(0)
    net = CharRNN(n_out=3)
    at = upload(open_page(PAGE), "regressor.pt", torch_bytes(net.state_dict()))
    assert "**Head** 3 outputs with bias" in texts(at.markdown)
    click(at, "Inspect this model")
    at.switch_page("app.py")
    at.run()
    no_exception(at)
    [line] = [m.value for m in at.markdown if m.value.startswith("Model output: ")]
    assert len(line.removeprefix("Model output: ").split(", ")) == 3


def test_typed_text_runs_through_the_char_rnns_vocabulary_and_shows_its_predictions():
    """Issue #13: a char-RNN checkpoint with `tokens` shows next-character predictions on text
    typed in the sidebar, tokenised with its own vocabulary."""
    vocab = ["a", "b", "c", " "]
    torch.manual_seed(1)
    net = CharRNN(len(vocab), 8, len(vocab))
    data = torch_bytes({"tokens": vocab, "state_dict": net.state_dict()})
    at = model_reading_typed_text("char_rnn.net", data, "abc cab")
    seq = at.session_state["uploaded_sequence"]
    np.testing.assert_array_equal(seq.meta["token_ids"], [0, 1, 2, 3, 2, 0, 1])
    shown = texts(at.markdown)
    assert "Model predicts:" in shown and "%" in shown
    with torch.no_grad():
        logits = net(torch.eye(len(vocab))[seq.meta["token_ids"]][None])[0, 0].numpy()
    assert f"'{vocab[int(np.argmax(logits))]}'" in shown.split("Model predicts:")[1][:40] \
        or vocab[int(np.argmax(logits))] in shown.split("Model predicts:")[1][:40]


class Tagger(nn.Module):
    def __init__(self, words: int, tags: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(words, 5)
        self.lstm = nn.LSTM(5, 6, batch_first=True)
        self.fc = nn.Linear(6, tags)


def test_a_word_tagger_with_an_embedding_reads_typed_words_and_shows_its_tags():
    """Issue #13: a word-level tagger (embedding → LSTM → head, a word vocabulary, its tags)
    reads typed words through its embedding and the stepper shows its top tags."""
    words = ["<unk>", "the", "cat", "sat", "on", "mat"]
    tags = ["DET", "NOUN", "VERB"]
    torch.manual_seed(2)
    net = Tagger(len(words), 3)
    data = torch_bytes({"stoi": {w: k for k, w in enumerate(words)}, "tags": tags,
                        "model_state_dict": net.state_dict()})
    at = model_reading_typed_text("tagger.pt", data, "the cat sat on the dog")
    model = at.session_state["custom_model"]
    assert model.embedding is not None and model.head is not None
    seq = at.session_state["uploaded_sequence"]
    np.testing.assert_array_equal(seq.meta["token_ids"], [1, 2, 3, 4, 1, 0])   # dog -> <unk>
    from lstm_viz.workbench import Loaded, run
    pred = Loaded(seq, model, run(model, seq)).prediction()
    with torch.no_grad():
        ids = torch.tensor(seq.meta["token_ids"])[None]
        want = net.fc(net.lstm(net.embedding(ids))[0])[0].numpy()
    np.testing.assert_allclose(pred, want, atol=1e-5)
    shown = texts(at.markdown).split("Model predicts:")[1][:80]
    assert tags[int(np.argmax(want[0]))] in shown                 # step 0's top tag, by name


def test_experiments_read_an_uploaded_taggers_embedded_inputs():
    """The Experiments page on an embedding model fed token ids: surgery, ranking and
    attribution run on the embedded inputs, and so does the counterfactual edit."""
    words = ["<unk>", "the", "cat", "sat"]
    torch.manual_seed(5)
    data = torch_bytes({"itos": words, "state_dict": Tagger(len(words), 2).state_dict()})
    at = model_reading_typed_text("tagger.pt", data, "the cat sat the cat")
    at.switch_page("pages/7_Experiments.py")
    at.run()
    no_exception(at)
    assert not at.error, texts(at.error)     # the edit too (tests/ui/test_page_experiments.py)
