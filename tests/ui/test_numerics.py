"""Numerical edge cases (issue #6, item 5): every variant gives finite, correct results for

- T = 1 (the core, ``lstm_viz.workbench``, and the app with a one-row CSV),
- a sequence of zeros,
- huge (1e30), tiny (1e-30, subnormal) and mixed input magnitudes in float32,
- weights scaled so that the pre-activations are about ±1e4 (forward and backward),
- float64 input to a float32 model,

and the loaders keep values the float32 model cannot hold out, with an actionable message: every
table or array value must be finite and within ±``loaders.MAX_ABS_VALUE`` (1e6), and values at
that limit trace through every variant without a warning.

"Correct" means equal to torch on the same weights (``make_torch_model``: torch's own module for
vanilla, gru and rnn, the SPEC-equation ``ReferenceLSTM`` for the rest) at SPEC §4 tolerances,
wherever torch itself is finite. pytest turns every RuntimeWarning into an error (pyproject), so a
numpy overflow / invalid-value warning anywhere in a forward or backward pass fails the test.
"""

from __future__ import annotations

import base64
import io
import json
import re
import warnings

import numpy as np
import pytest
import torch
from conftest import app_test, no_exception
from streamlit.testing.v1 import AppTest

from lstm_viz.core import LSTM_VARIANTS, VARIANTS, Recurrent
from lstm_viz.errors import InputError
from lstm_viz.files.loaders import MAX_ABS_VALUE, MAX_FEATURES, load_sequence
from lstm_viz.files.sequence import Sequence
from lstm_viz.torchref.reference import make_torch_model
from lstm_viz.workbench import Loaded, Model, check_trace_size, run

I, H = 3, 4                    # input features, hidden units of the small models here
F32_MAX = float(np.finfo(np.float32).max)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


# --------------------------------------------------------------------------- helpers


def pair(variant: str, dtype: str = "float32", seed: int = 0, scale: float = 1.0,
         bias: bool = True) -> tuple[torch.nn.Module, Recurrent]:
    """A torch module and a ``Recurrent`` with the same weights (peepholes made non-zero,
    every parameter multiplied by ``scale``)."""
    tdt = torch.float64 if dtype == "float64" else torch.float32
    module = make_torch_model(variant, I, H, bias=bias, dtype=tdt, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith("weight_peephole"):
                p.uniform_(-0.9, 0.9, generator=gen)
            p.mul_(scale)
    rec = Recurrent(I, H, bias=bias, variant=variant, dtype=np.dtype(dtype))
    rec.load_state_dict(module.state_dict())
    return module, rec


def torch_forward(module: torch.nn.Module, x: np.ndarray, d_output: np.ndarray | None = None):
    """(output, h_n, c_n or None, grads) of the torch module; grads (params by name, input)
    by autograd for loss = Σ output · d_output when ``d_output`` is given."""
    xt = torch.from_numpy(x.copy()).requires_grad_(d_output is not None)
    module.zero_grad()
    out, hn = module(xt)
    h_n, c_n = hn if isinstance(hn, tuple) else (hn, None)
    grads = None
    if d_output is not None:
        (out * torch.from_numpy(d_output)).sum().backward()
        grads = ({n: p.grad.detach().numpy().copy() for n, p in module.named_parameters()},
                 xt.grad.detach().numpy().copy())
    return _np(out), _np(h_n), _np(c_n), grads


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().numpy().copy()


def _max_abs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if a.size else 0.0


def close_forward(actual, expected, dtype: str, what: str, mask=None) -> None:
    """SPEC §4 forward: float64 1e-10 absolute; float32 1e-5 × max(1, max |reference|).
    Only where ``mask`` (default: where the reference is finite)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: {actual.shape} != {expected.shape}"
    mask = np.isfinite(expected) if mask is None else mask
    assert np.isfinite(actual[mask]).all(), f"{what}: not finite where torch is"
    tol = 1e-10 if dtype == "float64" else 1e-5 * max(1.0, _max_abs(expected[mask]))
    err = _max_abs(actual[mask] - expected[mask])
    assert err <= tol, f"{what}: max abs error {err:.3g} > {tol:.3g}"


def close_backward(actual, expected, dtype: str, what: str) -> None:
    """SPEC §4 backward: float64 1e-8 absolute; float32 1e-4 of the gradient's max abs."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: {actual.shape} != {expected.shape}"
    assert np.isfinite(actual).all(), f"{what}: not finite"
    tol = 1e-8 if dtype == "float64" else 1e-4 * max(_max_abs(expected), 1e-6)
    err = _max_abs(actual - expected)
    assert err <= tol, f"{what}: max abs error {err:.3g} > {tol:.3g}"


def check_against_torch(module, rec: Recurrent, x: np.ndarray, dtype: str, what: str) -> None:
    """Forward (output, h_n, c_n) equals torch's where torch is finite, and is finite there."""
    tr = rec.trace(x)
    out, h_n, c_n, _ = torch_forward(module, x)
    close_forward(tr.output, out, dtype, f"{what} output")
    got_h = tr.h_n[0] if isinstance(tr.h_n, tuple) else tr.h_n
    close_forward(got_h, h_n, dtype, f"{what} h_n")
    if c_n is not None:
        close_forward(tr.h_n[1], c_n, dtype, f"{what} c_n")


def all_finite(arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


def trace_arrays(tr) -> list[np.ndarray]:
    return [a for q in tr.steps.values() for a in q.values()] + [tr.output]


# --------------------------------------------------------------------------- T = 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_one_step_equals_torch(variant, dtype):
    module, rec = pair(variant, dtype)
    rng = np.random.default_rng(1)
    for shape in [(1, I), (1, 2, I)]:                 # unbatched and batched, T = 1
        x = rng.standard_normal(shape).astype(dtype)
        check_against_torch(module, rec, x, dtype, f"{variant} T=1 {shape}")
        tr = rec.trace(x)
        assert tr.length == 1
        for name in tr.names():
            assert tr.get(name).shape[:2] == (1, shape[-2] if len(shape) == 3 else 1), name
        # backward of a single step: equal to autograd, finite
        d_out = rng.standard_normal(tr.output.shape).astype(dtype)
        g = rec.backward(tr, d_out)
        _, _, _, (t_params, t_input) = torch_forward(module, x, d_out)
        close_backward(g.input, t_input, dtype, f"{variant} T=1 dL/dx")
        for name, grad in t_params.items():
            close_backward(g.params[name], grad, dtype, f"{variant} T=1 dL/d{name}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_step_through_the_workbench(variant):
    rec = Recurrent(2, 5, variant=variant, seed=3)
    model = Model(rec, f"fresh {variant}", f"test:{variant}")
    seq = Sequence(np.array([[0.25, -1.5]], np.float32), name="one.csv")
    check_trace_size(model, seq)
    loaded = Loaded(seq, model, run(model, seq))
    assert loaded.length == 1 and loaded.trace.length == 1
    q = loaded.quantities()
    expected = {"gru": {"r", "z", "n", "h"}, "rnn": {"h"}}.get(variant, set("figoch"))
    assert set(q) == expected
    for name, arr in q.items():
        assert arr.shape == (1, 5), name
        assert np.isfinite(arr).all(), name
    assert loaded.units("h") == 5
    assert loaded.prediction() is None                       # a fresh model has no head
    np.testing.assert_array_equal(q["h"][0], rec.trace(seq.values).output[0])


def _one_row_app() -> AppTest:
    at = app_test(query={"step": "0"}, timeout=120)  # a link: a first visit plays
    at.run()
    at.radio(key="w_model_kind").set_value("fresh").run()
    at.radio(key="w_seq_source").set_value("upload").run()
    at.file_uploader(key="w_upload").set_value(("one_row.csv", b"a,b\n0.5,-2\n", "text/csv"))
    return at.run()


def _heading(at: AppTest) -> tuple[int, int]:
    for md in at.markdown:
        m = re.search(r"Step (\d+) of (\d+)", md.value)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise AssertionError("no 'Step N of M' heading: " + repr([m.value for m in at.markdown]))


def test_one_row_csv_in_the_app_every_variant():
    """A 1-row upload: the page shows "Step 0 of 0" for every variant; the step buttons keep
    it there; the heatmaps hold the one column of the trace; no exception, no warning."""
    at = _one_row_app()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("**one_row.csv**: 1 steps × 2 features" in c.value for c in at.sidebar.caption), (
        [c.value for c in at.sidebar.caption])
    for variant in VARIANTS:
        if at.session_state["variant"] != variant:
            at.radio(key="w_variant").set_value(variant).run()
        no_exception(at)
        assert at.session_state["variant"] == variant
        assert _heading(at) == (0, 0), variant
        assert not [s for s in at.main.slider if s.label == "Step"], "a slider over one step"
        for label in ("Next ▶", "»", "◀ Back", "«"):
            next(b for b in at.button if b.label == label).click().run()
            no_exception(at)
            assert _heading(at) == (0, 0), (variant, label)
        tr = Recurrent(2, 16, variant=variant, seed=0).trace(np.array([[0.5, -2.0]], np.float32))
        comp = [c for c in at.get("component_instance") if getattr(c, "key", None) == "heatmaps"]
        assert len(comp) == 1
        spec = json.loads(json.loads(comp[0].proto.json_args)["spec"])
        names = {t["name"] for t in spec["data"] if t.get("type") == "heatmap"}
        assert "h" in names, names
        for t in spec["data"]:
            if t.get("type") == "heatmap" and t["name"] == "h":
                z = t["z"]
                if isinstance(z, dict):
                    arr = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
                    arr = arr.reshape([int(s) for s in str(z["shape"]).split(",")])
                else:
                    arr = np.asarray(z, dtype=float)
                np.testing.assert_allclose(arr.astype(float), tr.get("h")[:, 0, :].T,
                                           atol=1e-5, err_msg=variant)


# --------------------------------------------------------------------------- zeros


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_zero_sequence_equals_torch(variant, dtype):
    module, rec = pair(variant, dtype, seed=2)
    x = np.zeros((7, 2, I), dtype)
    check_against_torch(module, rec, x, dtype, f"{variant} zeros")
    # Without biases, zeros in give exactly zeros everywhere (nothing ever moves off 0).
    _, rec0 = pair(variant, dtype, seed=2, bias=False)
    tr = rec0.trace(x)
    assert not np.any(tr.output), f"{variant}: zero input, no bias, non-zero output"
    for name in ("c", "h", "n"):
        if name in tr.names():
            assert not np.any(tr.get(name)), name


# --------------------------------------------------------------------------- magnitudes


def _magnitudes(kind: str) -> np.ndarray:
    """(T=6, B=2, I) float32 inputs of one magnitude family, random signs."""
    rng = np.random.default_rng(7)
    signs = rng.choice([-1.0, 1.0], size=(6, 2, I))
    if kind == "huge":
        return (signs * 1e30).astype(np.float32)
    if kind == "tiny":
        return (signs * 1e-30).astype(np.float32)
    if kind == "subnormal":
        return (signs * 1e-42).astype(np.float32)
    # mixed: each cell 1e30, 1e-30 or an ordinary number, a few zeros
    pick = rng.integers(0, 4, size=(6, 2, I))
    values = np.choose(pick, [np.full(pick.shape, 1e30), np.full(pick.shape, 1e-30),
                              rng.standard_normal(pick.shape), np.zeros(pick.shape)])
    return (signs * values).astype(np.float32)


@pytest.mark.parametrize("kind", ["huge", "tiny", "subnormal", "mixed"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_extreme_input_magnitudes_float32(variant, kind):
    module, rec = pair(variant, "float32", seed=4)
    x = _magnitudes(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # any warning at all fails
        tr = rec.trace(x)
        assert all_finite(trace_arrays(tr)), f"{variant} {kind}: a non-finite trace value"
        g = rec.backward(tr, np.ones_like(tr.output))
        assert all_finite([*g.params.values(), g.input]), f"{variant} {kind}: gradients"
    assert tr.output.dtype == np.float32
    check_against_torch(module, rec, x, "float32", f"{variant} {kind}")
    if variant in LSTM_VARIANTS and variant != "niaf":    # gates in [0, 1], |tanh| <= 1
        for name in ("i", "f", "o"):
            assert np.all((tr.get(name) >= 0) & (tr.get(name) <= 1)), name


@pytest.mark.parametrize("variant", VARIANTS)
def test_saturating_preactivations(variant):
    """Every parameter × 1e4: pre-activations about ±1e4. float32: finite forward and backward,
    no warning; float64: equal to torch forward and backward at SPEC tolerances."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 2, I))
    d_out = None
    for dtype in ("float32", "float64"):
        module, rec = pair(variant, dtype, seed=6, scale=1e4)
        xd = x.astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tr = rec.trace(xd)
            d_out = rng.standard_normal(tr.output.shape).astype(dtype)
            g = rec.backward(tr, d_out)
        zs = [tr.get(n) for n in tr.names() if n.startswith("z_")]
        biggest = max(_max_abs(z) for z in zs) if zs else None
        if biggest is not None:
            assert 1e3 <= biggest <= 1e6, f"pre-activations reach {biggest:.3g}, not ~1e4"
        assert all_finite(trace_arrays(tr)), f"{variant} {dtype}: forward"
        assert all_finite([*g.params.values(), g.input]), f"{variant} {dtype}: backward"
        out, _, _, (t_params, t_input) = torch_forward(module, xd, d_out)
        if dtype == "float64":
            close_forward(tr.output, out, dtype, f"{variant} ×1e4 output")
            close_backward(g.input, t_input, dtype, f"{variant} ×1e4 dL/dx")
            for name, grad in t_params.items():
                close_backward(g.params[name], grad, dtype, f"{variant} ×1e4 dL/d{name}")
        else:
            # float32 rounds a pre-activation of 1e4 to ~1e-3, so SPEC's well-conditioned
            # tolerance does not apply; the output (a bounded function of z) must still agree
            # to the rounding of z: 1e-6 × max |z|.
            tol = 1e-6 * max(1.0, biggest or 1.0)
            err = _max_abs(tr.output.astype(np.float64) - out)
            assert err <= tol, f"{variant} ×1e4 float32 output: {err:.3g} > {tol:.3g}"


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("variant", VARIANTS)
def test_float64_input_to_a_float32_model(variant):
    _, rec = pair(variant, "float32", seed=8)
    x64 = np.random.default_rng(9).standard_normal((5, 2, I))          # float64
    tr64 = rec.trace(x64)
    tr32 = rec.trace(x64.astype(np.float32))
    assert tr64.output.dtype == np.float32
    for name in tr64.names():
        assert tr64.get(name).dtype == np.float32, name
        np.testing.assert_array_equal(tr64.get(name), tr32.get(name), err_msg=name)
    np.testing.assert_array_equal(tr64.output, tr32.output)
    h64 = tr64.h_n if isinstance(tr64.h_n, tuple) else (tr64.h_n,)
    h32 = tr32.h_n if isinstance(tr32.h_n, tuple) else (tr32.h_n,)
    for a, b in zip(h64, h32, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    # a float64 d_output: float32 gradients equal to the float32 ones
    d64 = np.ones(tr64.output.shape)
    g64, g32 = rec.backward(tr64, d64), rec.backward(tr32, d64.astype(np.float32))
    assert g64.input.dtype == np.float32
    np.testing.assert_array_equal(g64.input, g32.input)
    for name in g32.params:
        assert g64.params[name].dtype == np.float32
        np.testing.assert_array_equal(g64.params[name], g32.params[name])
    # a float64 torch tensor and an integer array are cast the same way
    np.testing.assert_array_equal(rec.trace(torch.from_numpy(x64)).output, tr32.output)
    xi = np.arange(5 * 2 * I).reshape(5, 2, I) % 3 - 1
    np.testing.assert_array_equal(rec.trace(xi).output,
                                  rec.trace(xi.astype(np.float32)).output)


def test_float64_sequence_values_are_stored_as_float32():
    seq = Sequence(np.array([[1.0 + 1e-12, 2.0]]), name="f64")
    assert seq.values.dtype == np.float32
    assert seq.values[0, 0] == np.float32(1.0)


# --------------------------------------------------------------------------- loaders


def _csv(cell: str) -> bytes:
    return f"a,b\n0.5,1\n{cell},2\n".encode()


@pytest.mark.parametrize("cell", ["1e308", "-1e308", "1e309", "-1e309", "3.41e38"])
def test_csv_values_float32_cannot_hold_are_refused(cell):
    """Documented (loaders._cell_error): a cell over float32's max (about 3.4e38), finite in
    float64 (1e308) or not (1e309 reads as inf), is an InputError naming the row, the column
    and the 32-bit limit, never a silent inf."""
    with pytest.raises(InputError) as err:
        load_sequence("big.csv", _csv(cell))
    msg = str(err.value)
    assert "Row 3, column 1" in msg and cell in msg and "32-bit" in msg, msg


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "nan"])
def test_csv_inf_and_nan_words_are_refused(cell):
    with pytest.raises(InputError, match=r"Row 3, column 1"):
        load_sequence("big.csv", _csv(cell))


def test_csv_extreme_but_allowed_values_load():
    seq = load_sequence("edge.csv", b"a,b\n1e6,-1000000\n1e-30,-1e-30\n1e-50,0\n")
    assert seq.values.dtype == np.float32
    assert np.isfinite(seq.values).all()
    np.testing.assert_array_equal(
        seq.values, np.array([[1e6, -1e6], [1e-30, -1e-30], [0, 0]], np.float32))


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_npy_float64_values():
    seq = load_sequence("ok.npy", _npy(np.array([[1e6, 1e-30], [-2.5, 0.0]])))
    assert seq.values.dtype == np.float32 and np.isfinite(seq.values).all()
    with pytest.raises(InputError, match="32-bit"):
        load_sequence("big.npy", _npy(np.array([[1.0], [1e308]])))
    with pytest.raises(InputError, match="non-finite"):
        load_sequence("inf.npy", _npy(np.array([[1.0], [np.inf]])))


# --------------------------------------------------------------------------- the value limit

LIMIT_TEXT = f"±{MAX_ABS_VALUE:,.0f}"          # how the loaders' messages name the limit


def _at_limit_csv(n_features: int) -> bytes:
    """A table whose values are exactly ±MAX_ABS_VALUE (the largest the loaders accept)."""
    header = ",".join(f"x{k}" for k in range(n_features))
    plus = ",".join([repr(MAX_ABS_VALUE)] * n_features)
    minus = ",".join([repr(-MAX_ABS_VALUE)] * n_features)
    return f"{header}\n{plus}\n{minus}\n{plus}\n".encode()


@pytest.mark.parametrize("variant", VARIANTS)
def test_inputs_at_the_loader_limit_trace_without_warnings(variant):
    """The largest inputs the loaders accept (±MAX_ABS_VALUE, in a CSV and an .npy) trace and
    backpropagate in float32 without any warning or floating-point error, with finite results
    equal to torch's; also over MAX_FEATURES features at once. Raising MAX_ABS_VALUE towards
    float32's max makes the input projection overflow and this test fail."""
    module, rec = pair(variant, "float32")
    x = load_sequence("max.csv", _at_limit_csv(I)).values
    at_limit = np.array([[MAX_ABS_VALUE] * I, [-MAX_ABS_VALUE] * I, [MAX_ABS_VALUE] * I])
    x_npy = load_sequence("max.npy", _npy(at_limit)).values
    np.testing.assert_array_equal(x_npy, x)
    assert np.abs(x).max() == np.float32(MAX_ABS_VALUE)
    wide = load_sequence("wide.csv", _at_limit_csv(MAX_FEATURES)).values
    rec_wide = Recurrent(MAX_FEATURES, H, variant=variant, seed=1)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")                   # any warning at all fails
        for r, xs in ((rec, x), (rec_wide, wide)):
            tr = r.trace(xs)
            assert all_finite(trace_arrays(tr)), f"{variant}: a non-finite trace value"
            g = r.backward(tr, np.ones_like(tr.output))
            assert all_finite([*g.params.values(), g.input]), f"{variant}: gradients"
    check_against_torch(module, rec, x, "float32", f"{variant} at the value limit")


def _just_above(dtype) -> float:
    return float(np.nextafter(dtype(MAX_ABS_VALUE), dtype(np.inf)))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_values_just_above_the_limit_are_refused(sign):
    """One ulp over ±MAX_ABS_VALUE (float64 in a CSV and an .npy, float32 in an .npy) is an
    InputError that says where the value is, names the limit and says to scale the data."""
    cell = repr(sign * _just_above(np.float64))
    with pytest.raises(InputError) as err:
        load_sequence("over.csv", _csv(cell))
    msg = str(err.value)
    assert "Row 3, column 1 ('a')" in msg and cell in msg, msg
    assert LIMIT_TEXT in msg and "scale or standardise" in msg, msg
    for dtype in (np.float64, np.float32):
        arr = np.array([[0.5, 1.0], [2.0, sign * _just_above(dtype)]], dtype)
        with pytest.raises(InputError) as err:
            load_sequence("over.npy", _npy(arr))
        msg = str(err.value)
        assert "arr[1, 1]" in msg and LIMIT_TEXT in msg and "scale or standardise" in msg, msg


def test_limit_message_counts_the_other_offending_values():
    msg = str(pytest.raises(InputError, load_sequence, "over.csv",
                            b"a,b\n1,2e6\n-3e6,4\n5,6e6\n").value)
    assert "Row 2, column 2 ('b') holds '2e6' (and 2 more)" in msg, msg
    big = np.zeros((4, 2))
    big[1:, 0] = 1e7
    msg = str(pytest.raises(InputError, load_sequence, "over.npy", _npy(big)).value)
    assert "arr[1, 0] (and 2 more)" in msg, msg


def test_values_over_float32_name_the_value_limit_too():
    """A value float32 cannot hold gets the 32-bit message, which points at the real limit."""
    for name, data in (("big.csv", _csv("1e39")), ("big.npy", _npy(np.array([1e300])))):
        msg = str(pytest.raises(InputError, load_sequence, name, data).value)
        assert "32-bit" in msg and LIMIT_TEXT in msg, msg


def test_uploaded_weights_beyond_the_limit_are_refused_with_their_name(tmp_path) -> None:
    """Huge finite weights would overflow the core's sums in float32: they are refused, naming
    the tensor; weights at the limit still load."""
    import torch

    from lstm_viz.files import loaders

    lstm = torch.nn.LSTM(2, 3)
    state = {k: v.detach().clone() for k, v in lstm.state_dict().items()}
    state["weight_hh_l0"][1, 2] = 1e35
    path = tmp_path / "huge.pt"
    torch.save(state, path)
    with pytest.raises(loaders.InputError, match=r"weight_hh_l0.*±1,000,000"):
        loaders.load_state_dict_file(path.name, path.read_bytes())
    state["weight_hh_l0"][1, 2] = loaders.MAX_ABS_WEIGHT
    torch.save(state, path)
    assert loaders.load_state_dict_file(path.name, path.read_bytes())
