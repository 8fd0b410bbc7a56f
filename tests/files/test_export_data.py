"""Exports of traces and models (``lstm_viz.files.exports``) parse back to exactly the same arrays.

Besides the module's own readers, each format is also read by an independent one (``np.load``,
Python's ``csv`` module, ``safetensors``' own loaders), so a writer and reader that agree on a
mistake would still be caught.
"""

from __future__ import annotations

import csv
import io
import json
import time

import numpy as np
import pytest

from lstm_viz.core import VARIANTS, Recurrent, Trace, is_lstm
from lstm_viz.files.exports import (
    CSV_HEADER,
    model_from_npz,
    model_from_safetensors,
    model_to_npz,
    model_to_safetensors,
    safetensors_metadata,
    trace_arrays,
    trace_from_csv,
    trace_from_npz,
    trace_to_csv,
    trace_to_npz,
)

CASES = [
    # variant, num_layers, bidirectional, proj_size, dtype, batch
    ("vanilla", 2, True, 0, np.float32, 1),
    ("vanilla", 2, True, 0, np.float64, 1),
    ("peephole", 1, False, 3, np.float32, 2),
    ("cifg", 1, True, 0, np.float64, 1),
    ("gru", 2, True, 0, np.float32, 3),
    ("rnn", 3, False, 0, np.float64, 1),
]


def _trace(variant, layers, bidirectional, proj, dtype, batch, T=9, seed=0) -> tuple:
    model = Recurrent(3, 5, num_layers=layers, bidirectional=bidirectional, proj_size=proj,
                      variant=variant, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, 3) if batch == 1 else (T, batch, 3)) * 2
    return model, model.trace(x)


def _ids(case):
    v, layers, bi, proj, dtype, batch = case
    return f"{v}-l{layers}{'-bi' if bi else ''}{f'-p{proj}' if proj else ''}-" \
           f"{np.dtype(dtype).name}-b{batch}"


def _bits(a: np.ndarray) -> np.ndarray:
    """The raw bits of a float array (so -0.0 and 0.0 differ), NaNs folded to one pattern."""
    a = np.where(np.isnan(a), np.array(np.nan, dtype=a.dtype), a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


# --------------------------------------------------------------------------------------------------
# npz


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_npz_round_trip_is_exact(case):
    model, trace = _trace(*case)
    config = {"variant": case[0], "hidden_size": 5, "num_layers": case[1]}
    data = trace_to_npz(trace, model_config=config)
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:   # the plain reader
        names = set(archive.files)
        plain = {k: archive[k] for k in archive.files}
    back = trace_from_npz(data)
    assert set(back) == names
    expected = trace_arrays(trace)
    layers, dirs = case[1], 2 if case[2] else 1
    per_step = {k for k in expected if k.startswith("l")}
    assert per_step == {f"l{layer}_d{d}_{q}" for layer in range(layers) for d in range(dirs)
                        for q in trace.names(layer, d)}
    for name, value in expected.items():
        for got in (back[name], plain[name]):
            assert got.dtype == value.dtype and got.shape == value.shape, name
            np.testing.assert_array_equal(got, value, err_msg=name)
    for layer in range(layers):
        for d in range(dirs):
            for q in trace.names(layer, d):
                assert back[f"l{layer}_d{d}_{q}"].shape[:2] == (9, case[5])
    assert ("c_n" in back) == is_lstm(case[0])
    if "c_n" in back:
        np.testing.assert_array_equal(back["c_n"], trace.h_n[1])
    assert str(back["variant"]) == case[0]
    assert json.loads(str(back["model_config_json"])) == config
    # the archive's output is the model's output
    out, _ = model(trace.inputs[0][:, 0] if case[5] == 1 else trace.inputs[0])
    np.testing.assert_array_equal(back["output"], out)


def test_npz_without_config_and_uncompressed():
    _, trace = _trace("vanilla", 1, False, 0, np.float32, 1)
    small = trace_to_npz(trace)
    big = trace_to_npz(trace, compress=False)
    assert "model_config_json" not in trace_from_npz(small)
    a, b = trace_from_npz(small), trace_from_npz(big)
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# --------------------------------------------------------------------------------------------------
# csv


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_csv_round_trip_is_exact(case):
    _, trace = _trace(*case)
    dtype = np.dtype(case[4])
    for batch_index in sorted({0, case[5] - 1}):
        data = trace_to_csv(trace, batch_index=batch_index)
        back = trace_from_csv(data, dtype=dtype)
        keys = [(layer, d, q) for layer, d in sorted(trace.steps) for q in trace.names(layer, d)]
        assert list(back) == keys
        for layer, d, q in keys:
            want = trace.get(q, layer, d)[:, batch_index]
            got = back[(layer, d, q)]
            assert got.dtype == dtype and got.shape == want.shape
            np.testing.assert_array_equal(_bits(got), _bits(np.ascontiguousarray(want)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csv_round_trips_awkward_values(dtype):
    """Random bit patterns (every exponent, subnormals), ±0, ±inf, nan, ±max, ±tiny."""
    info = np.finfo(dtype)
    rng = np.random.default_rng(1)
    uint = np.uint32 if dtype == np.float32 else np.uint64
    raw = rng.integers(0, np.iinfo(uint).max, size=4000, dtype=uint, endpoint=True).view(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.max, -info.max, info.tiny,
                        info.smallest_subnormal, -info.smallest_subnormal, 0.1, 1 / 3],
                       dtype=dtype)
    values = np.concatenate([raw, special])[: 4000].reshape(400, 1, 10)
    values[-1, 0, :] = special[:10]
    trace = Trace(output=values[:, 0], h_n=values[-1:, 0], variant="rnn",
                  steps={(0, 0): {"h": values}}, inputs=[np.zeros((400, 1, 1), dtype=dtype)],
                  h0=np.zeros((1, 1, 10), dtype=dtype), c0=None)
    back = trace_from_csv(trace_to_csv(trace), dtype=dtype)[(0, 0, "h")]
    np.testing.assert_array_equal(_bits(back), _bits(values[:, 0]))
    assert np.signbit(back[-1, 1]) and back[-1, 1] == 0      # -0.0 kept its sign


def test_csv_header_rows_and_an_independent_reader():
    model, trace = _trace("vanilla", 2, True, 0, np.float32, 1, T=7)
    data = trace_to_csv(trace)
    text = data.decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == CSV_HEADER
    T, units, layers, directions = 7, 5, 2, 2
    quantities = len(trace.names(0, 0))          # i f g o c h z_i z_f z_g z_o
    assert quantities == 10
    assert len(lines) - 1 == T * units * quantities * layers * directions
    assert text.endswith("\n")
    # first rows: layer 0, direction 0, the first quantity, step 0, units in order
    first = trace.names(0, 0)[0]
    for u in range(units):
        step, layer, direction, unit, quantity, value = lines[1 + u].split(",")
        assert (step, layer, direction, unit, quantity) == ("0", "0", "0", str(u), first)
        assert np.float32(float(value)) == trace.get(first)[0, 0, u]
    # Python's csv module reads the same numbers
    seen = 0
    for row in csv.DictReader(io.StringIO(text)):
        got = np.float32(float(row["value"]))
        want = trace.get(row["quantity"], int(row["layer"]), int(row["direction"]))[
            int(row["step"]), 0, int(row["unit"])]
        assert got == want
        seen += 1
    assert seen == len(lines) - 1


def test_csv_rejects_bad_input():
    _, trace = _trace("gru", 1, False, 0, np.float64, 2, T=4)
    with pytest.raises(ValueError, match="batch_index"):
        trace_to_csv(trace, batch_index=2)
    good = trace_to_csv(trace).decode()
    with pytest.raises(ValueError, match="header"):
        trace_from_csv(good.replace("quantity", "name", 1).encode())
    lines = good.splitlines()
    with pytest.raises(ValueError, match="one value per step"):      # a row missing
        trace_from_csv(("\n".join(lines[:5] + lines[6:]) + "\n").encode())
    with pytest.raises(ValueError, match="one value per step"):      # a row twice
        trace_from_csv(("\n".join(lines + lines[-1:]) + "\n").encode())
    with pytest.raises(ValueError, match="six fields"):
        trace_from_csv(("\n".join(lines[:3] + [lines[3] + ",1"] + lines[4:])).encode())
    with pytest.raises(ValueError, match="malformed"):
        trace_from_csv(("\n".join(lines[:3] + [lines[3].rsplit(",", 1)[0] + ",abc"]
                                  + lines[4:])).encode())
    assert trace_from_csv((CSV_HEADER + "\n").encode()) == {}


def test_csv_export_is_fast():
    """1,000 steps x 64 units x 11 quantities (703,000 rows: h has 63 units). Measured 0.20 s of
    CPU time (0.2-0.9 s wall clock on a loaded 2-core machine). CPU time, so that other processes
    competing for the cores do not make the test flaky."""
    model = Recurrent(4, 64, proj_size=63, seed=0)
    trace = model.trace(np.random.default_rng(0).standard_normal((1000, 4)).astype(np.float32))
    assert len(trace.names()) == 11
    best = np.inf
    for _ in range(3):
        start = time.process_time()
        data = trace_to_csv(trace)
        best = min(best, time.process_time() - start)
    assert data.count(b"\n") == 1 + 1000 * (64 * 10 + 63)
    assert best < 1.0, f"CSV export took {best:.2f} s of CPU time"


# --------------------------------------------------------------------------------------------------
# models


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", VARIANTS)
def test_safetensors_round_trip(tmp_path, dtype, variant):
    from safetensors import safe_open
    from safetensors.numpy import load as st_load

    model = Recurrent(3, 4, num_layers=2, bidirectional=True, variant=variant, dtype=dtype,
                      seed=2)
    state = model.state_dict()
    meta = {"variant": variant, "config": json.dumps({"hidden_size": 4})}
    data = model_to_safetensors(state, metadata=meta)
    back = model_from_safetensors(data)
    assert list(back) == list(state) or set(back) == set(state)
    for name, value in state.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape
        np.testing.assert_array_equal(back[name], value)
        np.testing.assert_array_equal(st_load(data)[name], value)
    assert safetensors_metadata(data) == meta
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    with safe_open(str(path), framework="numpy") as fh:
        assert fh.metadata() == meta
        assert set(fh.keys()) == set(state)
    # the loaded weights run the same model
    again = Recurrent(3, 4, num_layers=2, bidirectional=True, variant=variant, dtype=dtype)
    again.load_state_dict(back)
    x = np.random.default_rng(0).standard_normal((6, 3))
    np.testing.assert_array_equal(again(x)[0], model(x)[0])
    assert safetensors_metadata(model_to_safetensors(state)) == {}


def test_safetensors_takes_torch_tensors_and_checks_metadata():
    torch = pytest.importorskip("torch")
    lstm = torch.nn.LSTM(3, 4, num_layers=1)
    data = model_to_safetensors(lstm.state_dict())
    back = model_from_safetensors(data)
    for name, tensor in lstm.state_dict().items():
        np.testing.assert_array_equal(back[name], tensor.numpy())
    with pytest.raises(TypeError, match="metadata"):
        model_to_safetensors(lstm.state_dict(), metadata={"steps": 3})
    with pytest.raises(ValueError, match="safetensors"):
        safetensors_metadata(b"\x01")


def test_npz_model_round_trip():
    model = Recurrent(3, 4, variant="cifg", proj_size=2, seed=3)
    state = model.state_dict()
    data = model_to_npz(state)
    back = model_from_npz(data)
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        assert set(archive.files) == set(state)
    for name, value in state.items():
        assert back[name].dtype == value.dtype
        np.testing.assert_array_equal(back[name], value)
    with pytest.raises(TypeError, match="not numeric"):
        model_to_npz({"w": np.array([object()])})
