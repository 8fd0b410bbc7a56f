"""Issue #13: ``read_model`` (SPEC §7) on the model files people have, end to end.

Every file is built here with torch (``torch.save`` to bytes). Parity: what ``read_model`` builds
(embedding → recurrent → head) computes what the torch model computes on the same input, within
SPEC §4's float32 tolerance (1e-5 × max(1, max abs of the reference)).
"""

from __future__ import annotations

import io
import re
import sys
import types

import numpy as np
import pytest
import torch
from param_limit import refused_over_the_limit
from torch_saving import save, save_unimportable

from lstm_viz import InputError, read_model
from lstm_viz.files import model_config, weights
from lstm_viz.files.model_file import ModelFile

ERRORS: dict[str, float] = {}  # case -> max abs error, printed with -s



def _close(case: str, ours: np.ndarray, ref: torch.Tensor) -> None:
    ref_np = ref.detach().numpy()
    assert ours.shape == ref_np.shape
    err = float(np.max(np.abs(ours - ref_np)))
    ERRORS[case] = err
    print(f"parity {case}: max abs error {err:.3g}")
    assert err <= 1e-5 * max(1.0, float(np.max(np.abs(ref_np))))


def _forward(mf: ModelFile, x: np.ndarray) -> np.ndarray:
    """embedding (if any) → recurrent → head (if any), as the app would chain them."""
    if mf.embedding is not None:
        x = mf.embedding[x]
    out, _ = mf.recurrent(x.astype(np.float32))
    if mf.head is not None:
        w, b = mf.head
        out = out @ w.T + (b if b is not None else 0.0)
    return out


def _one_sentence(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg.endswith(".") and "\n" not in msg and "Traceback" not in msg
    return msg



# -- models --------------------------------------------------------------------------------------
class CharRNN(torch.nn.Module):
    """The char-RNN course's model: one-hot characters → LSTM → dropout → Linear."""

    def __init__(self, tokens: tuple[str, ...], n_hidden: int = 8, n_layers: int = 2) -> None:
        super().__init__()
        self.chars = tokens
        self.int2char = dict(enumerate(tokens))
        self.char2int = {c: i for i, c in self.int2char.items()}
        self.lstm = torch.nn.LSTM(len(tokens), n_hidden, n_layers, batch_first=True)
        self.dropout = torch.nn.Dropout(0.3)
        self.fc = torch.nn.Linear(n_hidden, len(tokens))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(self.dropout(out))


class WordModel(torch.nn.Module):
    """torch's word_language_model: encoder (Embedding) → rnn → decoder (Linear)."""

    def __init__(self, rnn: str = "GRU", vocab: int = 11, emb: int = 5, hidden: int = 7) -> None:
        super().__init__()
        self.encoder = torch.nn.Embedding(vocab, emb)
        self.rnn = getattr(torch.nn, rnn)(emb, hidden, 2)
        self.decoder = torch.nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.encoder(ids))
        return self.decoder(out)


class CellEncoder(torch.nn.Module):
    def __init__(self, kind: str = "LSTMCell") -> None:
        super().__init__()
        self.encoder_lstm = getattr(torch.nn, kind)(3, 5)


class Seq2Seq(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = CellEncoder("LSTMCell")
        self.head = torch.nn.Linear(5, 2)


class Stacked(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm1 = torch.nn.LSTM(3, 16, batch_first=True)
        self.lstm2 = torch.nn.LSTM(16, 6, batch_first=True)
        self.fc = torch.nn.Linear(6, 1)


TOKENS = tuple("helo wrd!")


def _x(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- torch files ---------------------------------------------------------------------------------
def test_public_api() -> None:
    import lstm_viz

    assert {"read_model", "InputError"} <= set(lstm_viz.__all__)
    lstm = torch.nn.LSTM(2, 3)
    mf = read_model("lstm.pt", save(lstm.state_dict()))
    for name in ("recurrent", "candidates", "picked", "embedding", "vocab", "head", "notes"):
        assert hasattr(mf, name)
    assert mf.candidates == [""] and mf.picked == "" and mf.embedding is None
    assert mf.vocab is None and mf.head is None and all(isinstance(n, str) for n in mf.notes)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_bare_state_dict_parity(kind: str) -> None:
    torch.manual_seed(0)
    rnn = getattr(torch.nn, kind)(4, 6, num_layers=2, bidirectional=True).eval()
    mf = read_model("rnn.pth", save(rnn.state_dict()))
    x = _x((7, 2, 4))
    with torch.no_grad():
        ref, _ = rnn(torch.from_numpy(x))
    _close(f"bare {kind} state_dict", mf.recurrent(x)[0], ref)
    assert set(mf.tensors) == set(rnn.state_dict())
    assert all(use.startswith("recurrent") for use in mf.tensors.values())


def test_char_rnn_checkpoint_net() -> None:
    """The course's checkpoint: {'n_hidden', 'n_layers', 'state_dict', 'tokens'} as .net."""
    torch.manual_seed(1)
    net = CharRNN(TOKENS).eval()
    ckpt = {"n_hidden": 8, "n_layers": 2, "state_dict": net.state_dict(), "tokens": net.chars}
    mf = read_model("rnn_20_epoch.net", save(ckpt))
    assert mf.vocab == list(TOKENS)
    assert mf.picked == "lstm" and mf.embedding is None and mf.head is not None
    assert mf.head[0].shape == (len(TOKENS), 8) and mf.head[1] is not None
    assert mf.tensors["fc.weight"] == "head" and mf.tensors["fc.bias"] == "head"
    ids = np.array([TOKENS.index(c) for c in "hello world"])
    onehot = np.eye(len(TOKENS), dtype=np.float32)[ids]
    with torch.no_grad():
        ref = net(torch.from_numpy(onehot)[None])[0]
    _close("char-RNN .net (lstm → fc)", _forward(mf, onehot), ref)


@pytest.mark.parametrize("key", ["char2int", "stoi", "int2char", "itos", "chars"])
def test_vocab_shapes(key: str) -> None:
    net = CharRNN(TOKENS)
    forms = {"char2int": net.char2int, "stoi": net.char2int, "int2char": net.int2char,
             "itos": list(TOKENS), "chars": "".join(TOKENS)}
    ckpt = {"model_state_dict": {f"module.{k}": v for k, v in net.state_dict().items()},
            key: forms[key], "epoch": 3}
    mf = read_model("ckpt.ckpt", save(ckpt))
    assert mf.vocab == list(TOKENS) and mf.candidates == ["lstm"]
    assert "fc.weight" in mf.tensors


def test_vocab_that_fits_nothing_is_left_out_with_a_note() -> None:
    net = CharRNN(TOKENS)
    mf = read_model("c.pt", save({"state_dict": net.state_dict(), "tokens": ["a", "b"]}))
    assert mf.vocab is None and any("vocabulary" in n for n in mf.notes)


def test_embedding_rnn_head_parity() -> None:
    torch.manual_seed(2)
    model = WordModel("GRU").eval()
    mf = read_model("word.bin", save({"model": model.state_dict()}))
    assert mf.picked == "rnn" and mf.recurrent.variant == "gru"
    assert mf.embedding is not None and mf.embedding.shape == (11, 5)
    assert mf.tensors["encoder.weight"] == "embedding"
    assert mf.tensors["decoder.weight"] == "head"
    ids = np.array([[1, 4, 0, 10, 3, 3]]).T  # (T, B)
    with torch.no_grad():
        ref = model(torch.from_numpy(ids))
    _close("embedding → GRU → head (state_dict .bin)", _forward(mf, ids), ref)


def test_whole_pickled_model_parity() -> None:
    torch.manual_seed(3)
    net = CharRNN(TOKENS, n_hidden=10).eval()
    data = save_unimportable(net, "model")
    mf = read_model("char_rnn.net", data)
    assert any("whole saved model" in n and "model.CharRNN" in n for n in mf.notes)
    assert mf.vocab == list(TOKENS) and mf.recurrent.variant == "vanilla"
    assert mf.recurrent.batch_first and mf.head is not None
    assert mf.variants == ["vanilla"]  # the class says torch.nn.LSTM: no guessing
    x = _x((2, 9, len(TOKENS)))
    with torch.no_grad():
        ref = net(torch.from_numpy(x))
    _close("whole pickled CharRNN (lstm → fc)", _forward(mf, x), ref)


def test_whole_pickled_word_model_lstm() -> None:
    torch.manual_seed(4)
    model = WordModel("LSTM").eval()
    mf = read_model("word.pt", save_unimportable(model, "lm.models"))
    assert mf.embedding is not None and mf.head is not None
    ids = np.array([[2, 5, 7, 1]]).T
    with torch.no_grad():
        ref = model(torch.from_numpy(ids))
    _close("whole pickled embedding → LSTM → head", _forward(mf, ids), ref)


def _unroll(cell: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    h = torch.zeros(x.shape[1], cell.hidden_size)
    c = torch.zeros_like(h)
    out = []
    for t in range(x.shape[0]):
        if isinstance(cell, torch.nn.LSTMCell):
            h, c = cell(x[t], (h, c))
        else:
            h = cell(x[t], h)
        out.append(h)
    return torch.stack(out)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_weights_run_unrolled(kind: str) -> None:
    torch.manual_seed(5)
    model = Seq2Seq()
    model.encoder = CellEncoder(kind)
    mf = read_model("seq2seq.pt", save(model.state_dict()))
    assert mf.candidates == ["encoder.encoder_lstm"]
    assert any("unrolled over the sequence" in n for n in mf.notes)
    assert mf.contents is not None and mf.contents.recurrent[0].cell
    assert mf.head is not None  # head 5 -> 2 reads the cell's output
    x = _x((6, 2, 3))
    with torch.no_grad():
        ref = _unroll(model.encoder.encoder_lstm, torch.from_numpy(x))
    _close(f"{kind} unrolled", mf.recurrent(x)[0], ref)


def test_cell_whole_model_variant_from_class() -> None:
    model = Seq2Seq()
    model.encoder = CellEncoder("GRUCell")
    mf = read_model("cell.pt", save_unimportable(model, "s2s"))
    assert mf.recurrent.variant == "gru" and mf.variants == ["gru"]


def test_two_modules_candidates_and_pick() -> None:
    torch.manual_seed(6)
    model = Stacked().eval()
    data = save(model.state_dict())
    mf = read_model("stack.pth", data)
    assert mf.candidates == ["lstm1", "lstm2"] and mf.picked == "lstm1"
    assert mf.recurrent.input_size == 3 and mf.head is None  # fc reads lstm2, not lstm1
    assert any("chain (3 → 16 → 6)" in n for n in mf.notes)
    assert mf.tensors["lstm2.weight_ih_l0"].startswith("ignored")
    mf2 = read_model("stack.pth", data, pick="lstm2")
    assert mf2.picked == "lstm2" and mf2.recurrent.input_size == 16 and mf2.head is not None
    x = _x((5, 3))
    with torch.no_grad():
        h1, _ = model.lstm1(torch.from_numpy(x))
        h2, _ = model.lstm2(h1)
        ref = model.fc(h2)
    out1, _ = mf.recurrent(x)
    _close("lstm1 of two", out1, h1)
    _close("lstm1 → lstm2 → fc, each picked", _forward(mf2, out1), ref)
    with pytest.raises(InputError) as e:
        read_model("stack.pth", data, pick="lstm3")
    msg = _one_sentence(e)
    assert "'lstm1'" in msg and "'lstm2'" in msg


class SameWidth(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm1 = torch.nn.LSTM(3, 8)
        self.lstm2 = torch.nn.LSTM(8, 8, num_layers=2)
        self.fc = torch.nn.Linear(8, 2)


def test_pick_a_stack_of_chained_modules() -> None:
    torch.manual_seed(8)
    model = SameWidth().eval()
    data = save(model.state_dict())
    mf = read_model("stack.pt", data)
    assert any("pick='lstm1+lstm2' runs them as one stack" in n for n in mf.notes)
    assert mf.head is None and mf.tensors["fc.weight"].startswith("ignored")  # fc reads lstm2
    st = read_model("stack.pt", data, pick="lstm1+lstm2")
    assert st.picked == "lstm1+lstm2" and st.candidates == ["lstm1", "lstm2"]
    assert st.recurrent.num_layers == 3 and st.recurrent.input_size == 3 and st.head is not None
    assert all(use.startswith("recurrent") for k, use in st.tensors.items() if "lstm" in k)
    x = _x((6, 2, 3))
    with torch.no_grad():
        h1, _ = model.lstm1(torch.from_numpy(x))
        ref = model.fc(model.lstm2(h1)[0])
    _close("stack lstm1+lstm2 (3 layers) → fc", _forward(st, x), ref)
    for bad in ("lstm2+lstm1", "lstm1+nope", "lstm1+lstm1"):
        with pytest.raises(InputError) as e:
            read_model("stack.pt", data, pick=bad)
        _one_sentence(e)
    mixed = {**{f"a.{k}": v for k, v in torch.nn.GRU(3, 8).state_dict().items()},
             **{f"b.{k}": v for k, v in torch.nn.LSTM(8, 8).state_dict().items()}}
    with pytest.raises(InputError) as e:
        read_model("mixed.pt", save(mixed), pick="a+b")
    assert "different kinds" in _one_sentence(e)
    with pytest.raises(InputError) as e:
        read_model("s.pt", save(Stacked().state_dict()), pick="lstm1+lstm2")
    assert "different hidden sizes" in _one_sentence(e)


def test_checkpoint_holding_a_whole_model() -> None:
    torch.manual_seed(9)
    net = CharRNN(TOKENS).eval()
    cls = type(net)
    sys.modules["trainer"] = types.ModuleType("trainer")
    sys.modules["trainer"].CharRNN = cls
    cls.__module__ = "trainer"
    try:
        data = save({"model": net, "epoch": 9, "tokens": list(TOKENS)})
    finally:
        cls.__module__ = __name__
        del sys.modules["trainer"]
    mf = read_model("ckpt.pth", data)
    assert mf.picked == "lstm" and mf.vocab == list(TOKENS) and mf.head is not None
    x = _x((1, 5, len(TOKENS)))
    with torch.no_grad():
        ref = net(torch.from_numpy(x))
    _close("checkpoint dict holding a whole model", _forward(mf, x), ref)


def test_encoder_decoder_of_different_kinds() -> None:
    enc, dec = torch.nn.GRU(4, 6), torch.nn.LSTM(6, 6)
    state = {**{f"encoder.{k}": v for k, v in enc.state_dict().items()},
             **{f"decoder.{k}": v for k, v in dec.state_dict().items()}}
    data = save(state)
    assert read_model("s.pt", data).recurrent.variant == "gru"
    assert read_model("s.pt", data, pick="decoder").recurrent.variant == "vanilla"


def test_optimizer_state_is_listed_as_ignored() -> None:
    lstm = torch.nn.LSTM(2, 3)
    opt = torch.optim.Adam(lstm.parameters())
    lstm(torch.zeros(2, 1, 2))[0].sum().backward()
    opt.step()
    mf = read_model("c.pt", save({"state_dict": lstm.state_dict(),
                                   "optimizer": opt.state_dict()}))
    ignored = [k for k, use in mf.tensors.items() if use.startswith("ignored: outside")]
    assert ignored and all(k.startswith("optimizer.") for k in ignored)


# -- safetensors and npz -------------------------------------------------------------------------
def test_safetensors_and_npz_with_head() -> None:
    from safetensors.torch import save

    torch.manual_seed(7)
    net = CharRNN(TOKENS).eval()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    x = _x((4, len(TOKENS)))
    with torch.no_grad():
        ref = net(torch.from_numpy(x)[None])[0]
    buf = io.BytesIO()
    np.savez(buf, **{k: v.numpy() for k, v in state.items()})
    for name, data in (("m.safetensors", save(state)), ("m.npz", buf.getvalue())):
        mf = read_model(name, data)
        assert mf.candidates == ["lstm"] and mf.head is not None
        _close(f"{name} (lstm → fc)", _forward(mf, x), ref)


# -- refusals ------------------------------------------------------------------------------------
def test_bad_files_are_one_sentence(tmp_path) -> None:  # noqa: ANN001
    lin = torch.nn.Linear(3, 2)
    cases = [
        ("model.txt", b"hello", "not a model file"),
        ("model.pt", b"\x00garbage" * 10, "not a readable PyTorch file"),
        ("model.net", save({"w": lin.state_dict()}), "no recurrent layer"),
        ("model.pt", save([1, 2, 3]), "not a model's weights"),
        ("model.pt", b"", "empty"),
        ("model.npz", b"PK\x03\x04broken", "damaged"),
    ]
    for name, data, words in cases:
        with pytest.raises(InputError) as e:
            read_model(name, data)
        assert words in _one_sentence(e), (name, str(e.value))


def test_relu_rnn_refused() -> None:
    rnn = torch.nn.RNN(2, 3, nonlinearity="relu")
    holder = torch.nn.Module()
    holder.rnn = rnn
    with pytest.raises(InputError) as e:
        read_model("r.pt", save(holder))
    assert "ReLU" in _one_sentence(e)


def test_oversized_tensors_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    lstm = torch.nn.LSTM(4, 8)
    data = save(lstm.state_dict())
    whole = save(CharRNN(TOKENS))
    monkeypatch.setattr(weights, "MAX_FILE_ELEMENTS", 100)
    for d in (data, whole):
        with pytest.raises(InputError) as e:
            read_model("big.pt", d)
        assert "more than" in _one_sentence(e)
    monkeypatch.undo()
    monkeypatch.setattr(weights, "MAX_PARAMS", 100)
    with pytest.raises(InputError) as e:
        read_model("big.pt", data)
    assert "more than the 100" in _one_sentence(e)
    monkeypatch.undo()
    monkeypatch.setattr(model_config, "MAX_HIDDEN", 4)
    with pytest.raises(InputError) as e:
        read_model("big.pt", data)
    assert "hidden size" in _one_sentence(e)


def test_a_layer_of_too_many_parameters_is_refused_by_the_shared_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for obj in (torch.nn.LSTM(3, 4).state_dict(), torch.nn.Sequential(torch.nn.LSTM(3, 4))):
        refused_over_the_limit(monkeypatch, read_model, "big.pt", save(obj),
                               re.escape("This LSTM (3 inputs, 4 units, 1 layer)"))


def test_non_finite_weights_refused() -> None:
    lstm = torch.nn.LSTM(2, 3)
    with torch.no_grad():
        lstm.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(InputError) as e:
        read_model("nan.pt", save(lstm.state_dict()))
    assert "non-finite" in _one_sentence(e)


def test_expanded_view_refused() -> None:
    lstm = torch.nn.LSTM(2, 3)
    state = lstm.state_dict()
    state["bias_ih_l0"] = torch.zeros(1).expand(12)
    with pytest.raises(InputError) as e:
        read_model("v.pt", save(state))
    assert "expanded view" in _one_sentence(e)


class _LstmHead(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm, self.fc = torch.nn.LSTM(3, 5), torch.nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.lstm(x)[0])


def test_onnx_goes_through_read_model_and_matches_onnxruntime() -> None:
    import warnings

    import onnxruntime as ort

    torch.manual_seed(3)
    x = _x((6, 1, 3))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_LstmHead().eval(), (torch.from_numpy(x),), buf, dynamo=False,
                          input_names=["x"], output_names=["y"])
    mf = read_model("m.onnx", buf.getvalue())
    w, b = mf.head
    ours = mf.recurrent(x[:, 0])[0] @ w.T + b
    ref = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0][:, 0]
    _close("onnx LSTM -> Linear via read_model", ours, torch.from_numpy(ref))


def test_keras_goes_through_read_model_and_matches_keras(tmp_path) -> None:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(5, return_sequences=True),
                              keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    mf = read_model("m.keras", path.read_bytes())
    x = _x((6, 3))
    w, b = mf.head
    ours = mf.recurrent(x)[0] @ w.T + b
    ref = np.asarray(model.predict(x[None], verbose=0))[0]
    _close("keras LSTM -> Dense via read_model", ours, torch.from_numpy(ref))


def test_whole_torch_module_and_legacy_format() -> None:
    torch.manual_seed(10)
    gru = torch.nn.GRU(3, 4).eval()
    mf = read_model("gru.pt", save(gru))  # torch.save(module) of torch's own class
    assert mf.candidates == [""] and mf.variants == ["gru"]
    x = _x((5, 3))
    with torch.no_grad():
        ref, _ = gru(torch.from_numpy(x))
    _close("torch.save(nn.GRU)", mf.recurrent(x)[0], ref)
    buf = io.BytesIO()
    torch.save(gru.state_dict(), buf, _use_new_zipfile_serialization=False)
    assert read_model("old.pth", buf.getvalue()).recurrent.variant == "gru"
    buf = io.BytesIO()
    torch.save(gru, buf, _use_new_zipfile_serialization=False)
    with pytest.raises(InputError) as e:
        read_model("old.pt", buf.getvalue())
    assert "old (non-zip) format" in _one_sentence(e)


class BiProj(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(9, 4)
        self.lstm = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
        self.out = torch.nn.Linear(6, 5)
        self.aux = torch.nn.Linear(7, 2)  # reads nothing of the LSTM: listed as ignored

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.lstm(self.embed(ids))[0])


def test_bidirectional_projection_head_reads_both_directions() -> None:
    torch.manual_seed(11)
    model = BiProj().eval()
    mf = read_model("bi.pt", save(model.state_dict()))
    assert mf.head is not None and mf.head[0].shape == (5, 6)
    assert mf.tensors["aux.weight"].startswith("ignored") and mf.tensors["aux.bias"].startswith(
        "ignored")
    assert any("aux.weight" in n for n in mf.notes)
    ids = np.array([[0, 8, 3], [2, 2, 7]]).T
    with torch.no_grad():
        ref = model(torch.from_numpy(ids))
    _close("embedding → bidirectional LSTM with projection → head", _forward(mf, ids), ref)
