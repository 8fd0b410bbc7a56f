"""Tests for lstm_viz.files.keras_files: Keras models built here (torch backend), read as data,
converted to the torch layout and run through the core against Keras's own prediction (SPEC §4,
float32: 1e-5 × max(1, max abs))."""

from __future__ import annotations

import io
import json
import os
import zipfile

os.environ["KERAS_BACKEND"] = "torch"

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from param_limit import refused_over_the_limit  # noqa: E402

from lstm_viz.core import Recurrent  # noqa: E402
from lstm_viz.errors import InputError  # noqa: E402
from lstm_viz.files.contents import FileContents, RecurrentModule  # noqa: E402
from lstm_viz.files.keras_files import LAMBDA_NOTE, read_keras  # noqa: E402
from lstm_viz.files.model_config import infer_config  # noqa: E402

L = keras.layers
RNG = np.random.default_rng(13)


def _randomize(model: keras.Model) -> keras.Model:
    """Every weight random (biases too), so a misplaced gate block cannot go unnoticed."""
    model.set_weights([RNG.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return model


def _save(model: keras.Model, tmp_path, ext: str = ".keras") -> bytes:
    path = tmp_path / f"m{ext}"
    model.save(path)
    return path.read_bytes()


def _core(module: RecurrentModule) -> Recurrent:
    cfg = infer_config(module.state, module.variant)
    return Recurrent.from_state_dict(
        module.state, cfg["input_size"], cfg["hidden_size"], num_layers=cfg["num_layers"],
        bias=cfg["bias"], batch_first=module.batch_first, bidirectional=cfg["bidirectional"],
        proj_size=cfg["proj_size"], variant=cfg["variant"])


def _head(fc: FileContents, y: np.ndarray, softmax: bool = False) -> np.ndarray:
    w, b = fc.head
    out = y @ w.T + (0 if b is None else b)
    if softmax:
        e = np.exp(out - out.max(axis=-1, keepdims=True))
        out = e / e.sum(axis=-1, keepdims=True)
    return out


def _err(ours: np.ndarray, ref: np.ndarray) -> float:
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    err = float(np.abs(ours - ref).max())
    assert err <= 1e-5 * max(1.0, float(np.abs(ref).max())), err
    return err


def _every_tensor_listed(fc: FileContents, data: bytes) -> None:
    """Every dataset of the weights file has a line in `tensors`."""
    if data.startswith(b"PK"):
        h5_bytes = zipfile.ZipFile(io.BytesIO(data)).read("model.weights.h5")
    else:
        h5_bytes = data
    names: list[str] = []
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    names = [n for n in names if "top_level_model_weights" not in n]
    assert names and set(names) == set(fc.tensors), (names, fc.tensors)


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_embedding_lstm_dense_softmax_matches_keras(tmp_path, ext):
    model = _randomize(keras.Sequential([
        keras.Input((None,), dtype="int32"), L.Embedding(11, 4), L.Dropout(0.3, seed=1),
        L.LSTM(6, return_sequences=True), L.Dropout(0.2), L.Dense(3, activation="softmax")]))
    data = _save(model, tmp_path, ext)
    fc = read_keras(f"model{ext}", data)
    _every_tensor_listed(fc, data)
    assert [m.variant for m in fc.recurrent] == ["vanilla"]
    assert fc.embedding.shape == (11, 4) and fc.head[0].shape == (3, 6)
    tokens = RNG.integers(0, 11, (2, 9))
    ref = np.asarray(model.predict(tokens, verbose=0))
    out, _ = _core(fc.recurrent[0])(fc.embedding[tokens])
    _err(_head(fc, out, softmax=True), ref)
    # the hidden states themselves, not only the head
    inner = keras.Model(model.inputs, model.layers[2].output)
    _err(out, np.asarray(inner.predict(tokens, verbose=0)))
    used = [k for k, v in fc.tensors.items() if "not used" not in v]
    assert len(used) == 6  # embeddings, kernel, recurrent_kernel, bias, dense kernel, bias
    assert any("softmax" in n for n in fc.notes)


def test_lstm_layout_is_the_transpose_in_the_same_gate_order(tmp_path):
    model = _randomize(keras.Sequential([keras.Input((None, 3)), L.LSTM(2)]))
    kernel, rec, bias = model.get_weights()
    state = read_keras("m.keras", _save(model, tmp_path)).recurrent[0].state
    np.testing.assert_array_equal(state["weight_ih_l0"], kernel.T)
    np.testing.assert_array_equal(state["weight_hh_l0"], rec.T)
    np.testing.assert_array_equal(state["bias_ih_l0"], bias)
    np.testing.assert_array_equal(state["bias_hh_l0"], np.zeros(8, np.float32))


def test_gru_reset_after_matches_keras_and_reorders_z_r_h(tmp_path):
    model = _randomize(keras.Sequential([keras.Input((None, 3)), L.GRU(5), L.Dense(2)]))
    data = _save(model, tmp_path)
    fc = read_keras("gru.keras", data)
    module = fc.recurrent[0]
    assert module.variant == "gru"
    kernel, _, bias = model.get_weights()[:3]
    z, r, h = np.split(kernel.T, 3)
    np.testing.assert_array_equal(module.state["weight_ih_l0"], np.concatenate([r, z, h]))
    np.testing.assert_array_equal(module.state["bias_hh_l0"][:5], bias[1][5:10])
    x = RNG.normal(size=(2, 7, 3)).astype(np.float32)
    out, _ = _core(module)(x)
    _err(_head(fc, out[:, -1]), np.asarray(model.predict(x, verbose=0)))


def test_simple_rnn_and_no_bias_lstm_match_keras(tmp_path):
    x = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    for layer, variant in ((L.SimpleRNN(4, return_sequences=True), "rnn"),
                           (L.LSTM(4, use_bias=False, return_sequences=True), "vanilla")):
        model = _randomize(keras.Sequential([keras.Input((None, 3)), layer]))
        fc = read_keras("m.keras", _save(model, tmp_path))
        module = fc.recurrent[0]
        assert module.variant == variant
        if variant == "vanilla":
            assert not any(k.startswith("bias") for k in module.state)
        out, _ = _core(module)(x)
        _err(out, np.asarray(model.predict(x, verbose=0)))


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_bidirectional_lstm_time_distributed_head_matches_keras(tmp_path, ext):
    model = _randomize(keras.Sequential([
        keras.Input((None, 3)), L.Bidirectional(L.LSTM(4, return_sequences=True)),
        L.TimeDistributed(L.Dense(2))]))
    fc = read_keras(f"m{ext}", _save(model, tmp_path, ext))
    module = fc.recurrent[0]
    assert "weight_ih_l0_reverse" in module.state
    assert infer_config(module.state)["bidirectional"]
    x = RNG.normal(size=(2, 8, 3)).astype(np.float32)
    out, _ = _core(module)(x)
    _err(_head(fc, out), np.asarray(model.predict(x, verbose=0)))


def test_bidirectional_gru_last_vector_is_h_n_of_both_directions(tmp_path):
    model = _randomize(keras.Sequential([
        keras.Input((None, 3)), L.Bidirectional(L.GRU(4)), L.Dense(2)]))
    fc = read_keras("m.keras", _save(model, tmp_path))
    x = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    _, h_n = _core(fc.recurrent[0])(x)
    last = np.concatenate([h_n[0], h_n[1]], axis=-1)
    _err(_head(fc, last), np.asarray(model.predict(x, verbose=0)))
    assert any("h_n of both directions" in n for n in fc.notes)


def test_stacked_layers_are_separate_modules_and_chain(tmp_path):
    inp = keras.Input((None, 3))
    a = L.LSTM(4, return_sequences=True, name="enc")(inp)
    b = L.GRU(5, return_sequences=True, name="dec")(a)
    model = _randomize(keras.Model(inp, L.Dense(2)(b)))
    fc = read_keras("m.keras", _save(model, tmp_path))
    assert [m.path for m in fc.recurrent] == ["enc", "dec"]
    x = RNG.normal(size=(1, 6, 3)).astype(np.float32)
    y, _ = _core(fc.recurrent[0])(x)
    y, _ = _core(fc.recurrent[1])(y)
    _err(_head(fc, y), np.asarray(model.predict(x, verbose=0)))
    assert any("separate modules" in n for n in fc.notes)


# ---- refusals -------------------------------------------------------------------------------


def _refused(model: keras.Model, tmp_path, match: str, ext: str = ".keras") -> None:
    with pytest.raises(InputError, match=match):
        read_keras(f"m{ext}", _save(model, tmp_path, ext))


def test_lambda_in_the_data_path_is_refused_and_after_the_head_ignored(tmp_path):
    inside = keras.Sequential([keras.Input((None, 3)), L.LSTM(4, return_sequences=True),
                               L.Lambda(lambda t: t * 2.0), L.Dense(2)])
    _refused(inside, tmp_path, "Lambda layer 'lambda', whose Python code is never run")
    after = keras.Sequential([keras.Input((None, 3)), L.LSTM(4), L.Dense(2),
                              L.Lambda(lambda t: t + 1.0)])
    fc = read_keras("m.keras", _save(after, tmp_path))
    assert fc.head is not None
    assert any(LAMBDA_NOTE in n for n in fc.notes)


def test_what_the_core_cannot_compute_is_refused_by_name(tmp_path):
    cases = [
        (L.LSTM(4, recurrent_activation="hard_sigmoid"), "recurrent_activation 'hard_sigmoid'"),
        (L.LSTM(4, activation="relu"), "activation 'relu'"),
        (L.GRU(4, reset_after=False), "reset_after=False"),
        (L.LSTM(4, go_backwards=True), "go_backwards=True"),
        (L.Bidirectional(L.LSTM(4), merge_mode="sum"), "merge_mode='sum'"),
    ]
    for layer, match in cases:
        _refused(keras.Sequential([keras.Input((None, 3)), layer]), tmp_path, match)


def test_no_recurrent_layer_and_weights_only_files_are_refused(tmp_path):
    _refused(keras.Sequential([keras.Input((3,)), L.Dense(2)]), tmp_path, "no LSTM, GRU")
    model = keras.Sequential([keras.Input((None, 3)), L.LSTM(4)])
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with pytest.raises(InputError, match="weights only"):
        read_keras("w.h5", path.read_bytes())
    with pytest.raises(InputError, match="neither a .keras archive"):
        read_keras("m.keras", b"not a model")


def _rewrite(data: bytes, config=None, h5_edit=None) -> bytes:
    """The .keras archive with its config.json and/or model.weights.h5 changed."""
    src = zipfile.ZipFile(io.BytesIO(data))
    cfg = src.read("config.json")
    h5_bytes = src.read("model.weights.h5")
    if config is not None:
        cfg = json.dumps(config(json.loads(cfg))).encode()
    if h5_edit is not None:
        buf = io.BytesIO(h5_bytes)
        with h5py.File(buf, "r+") as f:
            h5_edit(f)
        h5_bytes = buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("config.json", cfg)
        dst.writestr("model.weights.h5", h5_bytes)
    return out.getvalue()


def test_wrong_kernel_shape_too_many_units_and_external_data_are_refused(tmp_path):
    data = _save(keras.Sequential([keras.Input((None, 3)), L.LSTM(4)]), tmp_path)

    def wrong_kernel(f):
        del f["layers/lstm/cell/vars/0"]
        f["layers/lstm/cell/vars/0"] = np.zeros((3, 12), np.float32)

    with pytest.raises(InputError, match=r"has shape \(3, 12\).*implies \(3, 16\)"):
        read_keras("m.keras", _rewrite(data, h5_edit=wrong_kernel))

    def huge(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = 100_000
        return cfg

    with pytest.raises(InputError, match="100,000 units, more than the 2,048 allowed"):
        read_keras("m.keras", _rewrite(data, config=huge))

    def external(f):
        del f["layers/lstm/cell/vars/2"]
        f.create_dataset("layers/lstm/cell/vars/2", (16,), "f4",
                         external=[("/etc/passwd", 0, 64)])

    with pytest.raises(InputError, match="in another file, which is never opened"):
        read_keras("m.keras", _rewrite(data, h5_edit=external))

    def link(f):
        f["layers/lstm/cell/vars/9"] = h5py.ExternalLink("/etc/passwd", "/x")

    with pytest.raises(InputError, match="to another file, which is never opened"):
        read_keras("m.keras", _rewrite(data, h5_edit=link))

    def nan(f):
        f["layers/lstm/cell/vars/1"][0, 0] = np.nan

    with pytest.raises(InputError, match="non-finite value"):
        read_keras("m.keras", _rewrite(data, h5_edit=nan))


def test_a_layer_of_too_many_parameters_is_refused_by_the_shared_check(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input((None, 3)), L.LSTM(4)])
    for ext in (".keras", ".h5"):
        refused_over_the_limit(monkeypatch, read_keras, f"m{ext}", _save(model, tmp_path, ext),
                               rf"'m\{ext}': LSTM layer '\w+' \(3 inputs, 4 units\)")


def test_zip_bomb_and_bad_json_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("config.json", "{}")
        dst.writestr("model.weights.h5", b"\0" * (50 * 1024 * 1024))
    with pytest.raises(InputError, match="more than 100 times its size"):
        read_keras("bomb.keras", out.getvalue())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("config.json", "[" * 100_000)
        dst.writestr("model.weights.h5", b"")
    with pytest.raises(InputError, match="not valid JSON"):
        read_keras("m.keras", out.getvalue())


def test_malformed_configuration_and_deep_groups_are_refused(tmp_path):
    data = _save(keras.Sequential([keras.Input((None, 3)), L.LSTM(4)]), tmp_path)

    def units_text(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = "4"
        return cfg

    with pytest.raises(InputError, match="no valid 'units'"):
        read_keras("m.keras", _rewrite(data, config=units_text))

    def layers_text(cfg):
        cfg["config"]["layers"][1]["config"] = "LSTM"
        return cfg

    with pytest.raises(InputError):
        read_keras("m.keras", _rewrite(data, config=layers_text))

    def deep(f):
        f.create_group("layers/lstm/" + "/".join(["g"] * 40))

    with pytest.raises(InputError, match="nests its weight groups"):
        read_keras("m.keras", _rewrite(data, h5_edit=deep))


def test_functional_links_decide_what_feeds_and_reads_the_recurrent_layer(tmp_path):
    seq, side = keras.Input((None, 3)), keras.Input((4,))
    h = L.LSTM(4, name="enc")(seq)
    other = L.Dense(2, name="side")(side)  # listed after the LSTM but never reads it
    model = keras.Model([seq, side], [h, other])
    fc = read_keras("m.keras", _save(model, tmp_path))
    assert fc.head is None and fc.embedding is None
    assert "not used" in fc.tensors["layers/dense/vars/0"]
    # a Lambda on a branch the data never takes is ignored, with a note
    tokens = keras.Input((None,), dtype="int32")
    e = L.Embedding(7, 3)(tokens)
    y = L.Dense(2)(L.GRU(4, return_sequences=True)(e))
    aside = L.Lambda(lambda t: t * 3.0)(e)
    model = _randomize(keras.Model(tokens, [y, aside]))
    fc = read_keras("m.keras", _save(model, tmp_path))
    assert fc.embedding.shape == (7, 3) and fc.head is not None
    assert any(LAMBDA_NOTE in n for n in fc.notes)
    x = RNG.integers(0, 7, (1, 5))
    out, _ = _core(fc.recurrent[0])(fc.embedding[x])
    _err(_head(fc, out), np.asarray(model.predict(x, verbose=0)[0]))


def test_a_single_gru_bias_of_old_keras_is_refused_as_reset_after_false(tmp_path):
    data = _save(keras.Sequential([keras.Input((None, 3)), L.GRU(4)]), tmp_path)

    def old_bias(f):
        del f["layers/gru/cell/vars/2"]
        f["layers/gru/cell/vars/2"] = np.zeros(12, np.float32)

    with pytest.raises(InputError, match="single bias of 12.*reset_after=True"):
        read_keras("m.keras", _rewrite(data, h5_edit=old_bias))
