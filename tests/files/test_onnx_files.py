"""Tests for lstm_viz.files.onnx_files: torch modules exported to ONNX here (the TorchScript
exporter, dynamo=False: it writes LSTM/GRU/RNN as single operators and needs no onnxscript), read
as data, converted back and run through the core against onnxruntime on the same input (SPEC §4,
float32: 1e-5 × max(1, max abs))."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper, numpy_helper
from param_limit import refused_over_the_limit

from lstm_viz.core import Recurrent
from lstm_viz.errors import InputError
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.model_config import infer_config
from lstm_viz.files.onnx_files import read_onnx

RNG = np.random.default_rng(13)


class Net(torch.nn.Module):
    """[Embedding ->] recurrent module -> Linear on every step's output."""

    def __init__(self, rnn: torch.nn.Module, out_size: int, vocab: int = 0):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, rnn.input_size) if vocab else None
        self.rnn = rnn
        self.head = torch.nn.Linear(out_size, 3)

    def forward(self, x):
        if self.emb is not None:
            x = self.emb(x)
        y, _ = self.rnn(x)
        return self.head(y)


def _export(module: torch.nn.Module, x: torch.Tensor, **kw) -> bytes:
    torch.manual_seed(0)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (x,), buf, dynamo=False, input_names=["x"],
                          output_names=["y"], **kw)
    return buf.getvalue()


def _core(module: RecurrentModule) -> Recurrent:
    cfg = infer_config(module.state, module.variant)
    return Recurrent.from_state_dict(
        module.state, cfg["input_size"], cfg["hidden_size"], num_layers=cfg["num_layers"],
        bias=cfg["bias"], batch_first=True, bidirectional=cfg["bidirectional"],
        proj_size=cfg["proj_size"], variant=cfg["variant"])


def _run(fc: FileContents, x: np.ndarray) -> np.ndarray:
    """Embedding, every module in turn (batch-first), then the head, in numpy and the core."""
    y = fc.embedding[x] if fc.embedding is not None else x
    for module in fc.recurrent:
        y, _ = _core(module)(y)
    w, b = fc.head
    return y @ w.T + (0 if b is None else b)


def _ort(data: bytes, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def _parity(data: bytes, x: np.ndarray) -> tuple[FileContents, float]:
    fc = read_onnx("m.onnx", data)
    ours, ref = _run(fc, x), _ort(data, x)
    assert ours.shape == ref.shape
    err = float(np.abs(ours - ref).max())
    assert err <= 1e-5 * max(1.0, float(np.abs(ref).max())), err
    return fc, err


def _same_as_torch(module: RecurrentModule, rnn: torch.nn.Module) -> None:
    """Exported and converted back, the weights are torch's own, exactly."""
    want = {k: v.detach().numpy() for k, v in rnn.state_dict().items()}
    assert set(module.state) == set(want)
    for k, v in want.items():
        np.testing.assert_array_equal(module.state[k], v, err_msg=k)


def test_embedding_bidirectional_lstm_linear_matches_onnxruntime():
    torch.manual_seed(1)
    rnn = torch.nn.LSTM(4, 5, batch_first=True, bidirectional=True)
    net = Net(rnn, 10, vocab=11)
    x = RNG.integers(0, 11, (1, 7))
    data = _export(net, torch.from_numpy(x))
    fc, _ = _parity(data, x)
    assert [m.variant for m in fc.recurrent] == ["vanilla"]
    _same_as_torch(fc.recurrent[0], rnn)
    np.testing.assert_array_equal(fc.embedding, net.emb.weight.detach().numpy())
    np.testing.assert_array_equal(fc.head[0], net.head.weight.detach().numpy())
    assert sum(v != "not used" for v in fc.tensors.values()) == 6


@pytest.mark.parametrize("cls,variant", [(torch.nn.GRU, "gru"), (torch.nn.RNN, "rnn"),
                                         (torch.nn.LSTM, "vanilla")])
def test_gru_rnn_lstm_match_onnxruntime_and_torch_weights(cls, variant):
    torch.manual_seed(2)
    rnn = cls(3, 6, batch_first=True)
    x = RNG.normal(size=(1, 8, 3)).astype(np.float32)
    fc, _ = _parity(_export(Net(rnn, 6), torch.from_numpy(x)), x)
    assert fc.recurrent[0].variant == variant
    _same_as_torch(fc.recurrent[0], rnn)


def test_bidirectional_gru_and_two_layers_are_separate_modules_that_chain():
    torch.manual_seed(3)
    rnn = torch.nn.GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    x = RNG.normal(size=(1, 6, 3)).astype(np.float32)
    fc, _ = _parity(_export(Net(rnn, 8), torch.from_numpy(x)), x)
    assert len(fc.recurrent) == 2
    assert any("separate modules" in n for n in fc.notes)


def test_lstm_without_bias():
    torch.manual_seed(4)
    rnn = torch.nn.LSTM(3, 4, bias=False, batch_first=True)
    x = RNG.normal(size=(1, 5, 3)).astype(np.float32)
    fc, _ = _parity(_export(Net(rnn, 4), torch.from_numpy(x)), x)
    assert not any(k.startswith("bias") for k in fc.recurrent[0].state)


# ---- refusals -------------------------------------------------------------------------------


def _lstm_model(cls=torch.nn.LSTM) -> onnx.ModelProto:
    torch.manual_seed(5)
    x = torch.randn(1, 4, 3)
    return onnx.load_model_from_string(_export(Net(cls(3, 4, batch_first=True), 4), x))


def _node(model: onnx.ModelProto, op: str) -> onnx.NodeProto:
    return next(n for n in model.graph.node if n.op_type == op)


def _set(model: onnx.ModelProto, op: str, **attrs) -> bytes:
    node = _node(model, op)
    keep = [a for a in node.attribute if a.name not in attrs]
    del node.attribute[:]
    node.attribute.extend(keep + [helper.make_attribute(k, v) for k, v in attrs.items()])
    return model.SerializeToString()


@pytest.mark.parametrize("op,attrs,match", [
    ("LSTM", {"direction": "reverse"}, "direction 'reverse' only"),
    ("LSTM", {"clip": 3.0}, "clip=3"),
    ("LSTM", {"input_forget": 1}, "input_forget=1"),
    ("LSTM", {"activations": ["HardSigmoid", "Tanh", "Tanh"]}, "HardSigmoid"),
    ("GRU", {"linear_before_reset": 0}, "linear_before_reset=0"),
    ("RNN", {"activations": ["Relu"]}, "Relu"),
])
def test_attributes_the_core_cannot_compute_are_refused_by_name(op, attrs, match):
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[op]
    with pytest.raises(InputError, match=match):
        read_onnx("m.onnx", _set(_lstm_model(cls), op, **attrs))


def test_peepholes_are_refused():
    model = _lstm_model()
    node = _node(model, "LSTM")
    model.graph.initializer.append(numpy_helper.from_array(np.zeros((1, 12), np.float32), "P"))
    while len(node.input) < 7:
        node.input.append("")
    node.input.append("P")
    with pytest.raises(InputError, match="peephole weights"):
        read_onnx("m.onnx", model.SerializeToString())


def test_external_data_is_refused_without_opening_the_file(tmp_path):
    model = _lstm_model()
    path = tmp_path / "m.onnx"
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="m.onnx.data", size_threshold=0)
    (tmp_path / "m.onnx.data").unlink()  # would the reader open it, it would fail differently
    with pytest.raises(InputError, match=r"outside the file .*'m.onnx.data'.*external_data=False"):
        read_onnx("m.onnx", path.read_bytes())


def test_too_large_initializer_is_refused_before_converting():
    model = _lstm_model()
    big = onnx.TensorProto(name="huge", data_type=onnx.TensorProto.FLOAT, dims=[100_000, 100_000])
    model.graph.initializer.append(big)  # no data at all: only its dims are read
    with pytest.raises(InputError, match="more than 40,000,000 values"):
        read_onnx("m.onnx", model.SerializeToString())


def test_wrong_kernel_shape_and_too_large_hidden_are_refused():
    model = _lstm_model()
    w_name = _node(model, "LSTM").input[1]
    w = next(t for t in model.graph.initializer if t.name == w_name)
    w.CopyFrom(numpy_helper.from_array(np.zeros((1, 12, 3), np.float32), w_name))
    with pytest.raises(InputError, match=r"W \(1, 12, 3\).*expects W \(1, 16, inputs\)"):
        read_onnx("m.onnx", model.SerializeToString())
    with pytest.raises(InputError, match="hidden_size 5,000, more than the 2,048"):
        read_onnx("m.onnx", _set(_lstm_model(), "LSTM", hidden_size=5000))


def test_an_operator_of_too_many_parameters_is_refused_by_the_shared_check(monkeypatch):
    refused_over_the_limit(monkeypatch, read_onnx, "m.onnx", _lstm_model().SerializeToString(),
                           r"'m\.onnx': the LSTM operator '[^']+' \(3 inputs, 4 units\)")


def test_non_onnx_bytes_and_a_graph_without_recurrent_operator_are_refused():
    with pytest.raises(InputError, match="not a readable ONNX model"):
        read_onnx("m.onnx", b"\xff\xff\xff not onnx")
    buf = _export(torch.nn.Linear(3, 2), torch.randn(1, 3))
    with pytest.raises(InputError, match="no LSTM, GRU or RNN operator"):
        read_onnx("m.onnx", buf)


def test_attributes_of_the_wrong_type_are_refused_with_a_sentence():
    with pytest.raises(InputError, match="hidden_size '4', not an integer"):
        read_onnx("m.onnx", _set(_lstm_model(), "LSTM", hidden_size="4"))
    with pytest.raises(InputError, match="clip="):
        read_onnx("m.onnx", _set(_lstm_model(), "LSTM", clip="x"))
    model = _lstm_model()
    gemm_or_matmul = next(n for n in model.graph.node if n.op_type == "MatMul")
    gemm_or_matmul.op_type = "Gemm"
    gemm_or_matmul.attribute.extend([helper.make_attribute("alpha", "big")])
    with pytest.raises(InputError, match="malformed"):
        read_onnx("m.onnx", model.SerializeToString())


def test_hand_made_lstm_with_a_gemm_head_matches_onnxruntime():
    """An LSTM operator built by hand (ONNX gate order i, o, f, c), Squeeze, Reshape, then a Gemm
    with transB=1 and alpha, beta != 1, which torch's exporter does not write."""
    t, i, h, o = 6, 3, 4, 2
    w = RNG.normal(size=(1, 4 * h, i)).astype(np.float32)
    r = RNG.normal(size=(1, 4 * h, h)).astype(np.float32)
    b = RNG.normal(size=(1, 8 * h)).astype(np.float32)
    hw = RNG.normal(size=(o, h)).astype(np.float32)
    hb = RNG.normal(size=(o,)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("LSTM", ["x", "W", "R", "B"], ["y"], name="lstm", hidden_size=h),
         helper.make_node("Squeeze", ["y", "axes"], ["ys"]),
         helper.make_node("Reshape", ["ys", "shape"], ["flat"]),
         helper.make_node("Gemm", ["flat", "HW", "HB"], ["out"], name="gemm", transB=1,
                          alpha=0.5, beta=2.0)],
        "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [t, 1, i])],
        [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, [t, o])],
        [numpy_helper.from_array(a, n) for a, n in (
            (w, "W"), (r, "R"), (b, "B"), (hw, "HW"), (hb, "HB"),
            (np.array([1], np.int64), "axes"), (np.array([-1, h], np.int64), "shape"))])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    x = RNG.normal(size=(t, 1, i)).astype(np.float32)
    ref = _ort(data, x)
    fc = read_onnx("m.onnx", data)
    assert fc.recurrent[0].path == "lstm" and not fc.recurrent[0].batch_first
    y, _ = _core(fc.recurrent[0])(x.transpose(1, 0, 2))
    ours = y[0] @ fc.head[0].T + fc.head[1]
    err = float(np.abs(ours - ref).max())
    assert err <= 1e-5 * max(1.0, float(np.abs(ref).max())), err
    assert fc.tensors["axes"] == "not used" and "Gemm" in fc.tensors["HW"]


class LastStep(torch.nn.Module):
    """A classifier on one step: the last output y[:, -1], or the last state h_n[-1]."""

    def __init__(self, rnn: torch.nn.Module, use_state: bool):
        super().__init__()
        self.rnn, self.use_state = rnn, use_state
        self.head = torch.nn.Linear(rnn.hidden_size, 2)

    def forward(self, x):
        y, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.head(h[-1] if self.use_state else y[:, -1])


@pytest.mark.parametrize("use_state", [False, True])
def test_a_gemm_head_on_the_last_step_or_state_matches_onnxruntime(use_state):
    torch.manual_seed(6)
    net = LastStep(torch.nn.LSTM(3, 5, batch_first=True), use_state)
    x = RNG.normal(size=(1, 7, 3)).astype(np.float32)
    data = _export(net, torch.from_numpy(x))
    fc = read_onnx("m.onnx", data)
    assert fc.head is not None, fc.notes
    y, _ = _core(fc.recurrent[0])(x)
    ours = y[:, -1] @ fc.head[0].T + fc.head[1]
    ref = _ort(data, x)
    assert float(np.abs(ours - ref).max()) <= 1e-5 * max(1.0, float(np.abs(ref).max()))
    assert any(("Y_h" in n) == use_state for n in fc.notes if "head" in n)


def test_recurrent_operators_with_the_same_name_get_distinct_paths():
    torch.manual_seed(7)
    x = torch.randn(1, 4, 3)
    model = onnx.load_model_from_string(
        _export(Net(torch.nn.LSTM(3, 4, num_layers=2, batch_first=True), 4), x))
    for node in model.graph.node:
        if node.op_type == "LSTM":
            node.name = ""
    fc = read_onnx("m.onnx", model.SerializeToString())
    assert [m.path for m in fc.recurrent] == ["LSTM_0", "LSTM_1"]
