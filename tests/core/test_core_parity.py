"""Parity of the NumPy core (``lstm_viz.core.Recurrent``) with torch, at SPEC §4 tolerances.

The reference is torch itself (``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``) for vanilla, gru and rnn,
and ``lstm_viz.torchref.reference.ReferenceLSTM`` (the SPEC equations in torch, autograd for the
gradients) for the other variants. Per-step quantities (the trace, and dL/dh_t, dL/dc_t) come from
a ReferenceLSTM with the same weights that records every step's tensors.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_viz.core import (
    BLOCKS,
    LSTM_VARIANTS,
    TABLE,
    VARIANTS,
    Config,
    Recurrent,
    Variant,
    param_shapes,
)
from lstm_viz.torchref.reference import (
    ReferenceLSTM,
    make_torch_model,
    reference_from_torch,
    torch_loop_lstm_trace,
)

# the variants torch has (a torch_class in the table), so Recurrent.from_torch applies
NATIVE = tuple(name for name, row in TABLE.items() if row.torch_class)
LOADS = ("from_torch", "state_dict_torch", "state_dict_numpy")

# torch's own note that projected LSTMs bypass oneDNN: irrelevant here
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Case:
    variant: str
    num_layers: int = 1
    bidirectional: bool = False
    proj_size: int = 0
    bias: bool = True
    batch_first: bool = False
    unbatched: bool = False
    with_hx: bool = False
    dtype: str = "float64"
    T: int = 4
    batch: int = 2
    input_size: int = 3
    hidden_size: int = 4
    load: str = "state_dict_torch"
    seed: int = 0

    @property
    def torch_dtype(self) -> torch.dtype:
        return torch.float64 if self.dtype == "float64" else torch.float32

    @property
    def np_dtype(self) -> type[np.floating]:
        return np.float64 if self.dtype == "float64" else np.float32

    @property
    def is_lstm(self) -> bool:
        return self.variant in LSTM_VARIANTS

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def real_hidden(self) -> int:
        return self.proj_size or self.hidden_size


def build_module(case: Case) -> torch.nn.Module:
    """The torch module of the case; peephole weights made non-zero so that they matter."""
    module = make_torch_model(case.variant, case.input_size, case.hidden_size,
                              num_layers=case.num_layers, bias=case.bias,
                              batch_first=case.batch_first, bidirectional=case.bidirectional,
                              proj_size=case.proj_size, dtype=case.torch_dtype, seed=case.seed)
    if TABLE[case.variant].peephole:
        generator = torch.Generator().manual_seed(case.seed + 1)
        with torch.no_grad():
            for name, param in module.named_parameters():
                if name.startswith("weight_peephole"):
                    param.uniform_(-0.9, 0.9, generator=generator)
    return module


def build_core(case: Case, module: torch.nn.Module) -> Recurrent:
    if case.load == "from_torch":
        return Recurrent.from_torch(module)
    model = Recurrent(case.input_size, case.hidden_size, num_layers=case.num_layers,
                      bias=case.bias, batch_first=case.batch_first,
                      bidirectional=case.bidirectional, proj_size=case.proj_size,
                      variant=case.variant, dtype=case.np_dtype)
    state = module.state_dict()
    if case.load == "state_dict_numpy":
        state = {name: value.detach().cpu().numpy() for name, value in state.items()}
    model.load_state_dict(state)
    return model


def make_data(case: Case):
    """x, hx (None or numpy, torch's shapes) and d_output, all of the case's dtype."""
    rng = np.random.default_rng(1000 + case.seed)
    dt = case.np_dtype
    if case.unbatched:
        x_shape: tuple[int, ...] = (case.T, case.input_size)
    elif case.batch_first:
        x_shape = (case.batch, case.T, case.input_size)
    else:
        x_shape = (case.T, case.batch, case.input_size)
    x = rng.normal(size=x_shape).astype(dt)
    states = case.num_layers * case.directions
    lead = (states,) if case.unbatched else (states, case.batch)
    hx = None
    if case.with_hx:
        h0 = rng.normal(size=(*lead, case.real_hidden)).astype(dt)
        if case.is_lstm:
            hx = (h0, rng.normal(size=(*lead, case.hidden_size)).astype(dt))
        else:
            hx = h0
    out_shape = (*x_shape[:-1], case.directions * case.real_hidden)
    d_output = rng.normal(size=out_shape).astype(dt)
    return x, hx, d_output


# --------------------------------------------------------------------------- torch side


@dataclass
class TorchRun:
    output: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray | None
    d_input: np.ndarray
    d_params: dict[str, np.ndarray]


def torch_run(module: torch.nn.Module, x: np.ndarray, hx, d_output: np.ndarray,
              record: bool = False) -> TorchRun:
    """Forward and backward of loss = sum(output * d_output) with autograd.

    With ``record`` (ReferenceLSTM only) every per-step tensor is kept with its gradient.
    """
    dtype = next(module.parameters()).dtype
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    if hx is None:
        hxt = None
    elif isinstance(hx, tuple):
        hxt = tuple(torch.tensor(a, dtype=dtype) for a in hx)
    else:
        hxt = torch.tensor(hx, dtype=dtype)
    module.zero_grad(set_to_none=True)
    if record:
        module.record = {}
    output, state = module(xt, hxt)
    if record:
        module.retain_grads()
    (output * torch.tensor(d_output, dtype=dtype)).sum().backward()
    h_n, c_n = state if isinstance(state, tuple) else (state, None)
    return TorchRun(
        output=output.detach().numpy(),
        h_n=h_n.detach().numpy(),
        c_n=None if c_n is None else c_n.detach().numpy(),
        d_input=xt.grad.numpy(),
        d_params={name: (p.grad if p.grad is not None else torch.zeros_like(p)).numpy()
                  for name, p in module.named_parameters()},
    )


def trace_names(case: Case) -> list[str]:
    family = TABLE[case.variant].family
    if family == "rnn":
        return ["h"]
    if family == "gru":
        return ["r", "z", "n", "h"]
    names = ["i", "f", "g", "o", "c", "h"] + [f"z_{k}" for k in BLOCKS[case.variant]]
    if case.proj_size:
        names.append("m")
    return names


# --------------------------------------------------------------------------- tolerances


def _max_abs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if a.size else 0.0


def _compare(actual, expected, tol: float, what: str) -> None:
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert np.all(np.isfinite(actual)), f"{what}: not finite"
    err = _max_abs(actual.astype(np.float64) - expected.astype(np.float64))
    assert err <= tol, f"{what}: max abs error {err:.3g} > tolerance {tol:.3g}"


def assert_forward(actual, expected, dtype: str, what: str) -> None:
    """SPEC §4 forward: float64 1e-10 absolute; float32 1e-5 * max(1, max |reference|)."""
    if dtype == "float64":
        tol = 1e-10
    else:
        tol = 1e-5 * max(1.0, _max_abs(np.asarray(expected)))
    _compare(actual, expected, tol, what)


def assert_backward(actual, expected, dtype: str, what: str) -> None:
    """SPEC §4 backward: float64 1e-8 absolute; float32 1e-4 relative to max |reference|."""
    if dtype == "float64":
        tol = 1e-8
    else:
        tol = 1e-4 * max(_max_abs(np.asarray(expected)), 1e-6)
    _compare(actual, expected, tol, what)


# --------------------------------------------------------------------------- the check


def check_case(case: Case) -> None:
    """Forward, trace, backward and per-step gradients of the core against torch."""
    module = build_module(case)
    model = build_core(case, module)
    x, hx, d_output = make_data(case)
    ref = torch_run(module, x, hx, d_output, record=isinstance(module, ReferenceLSTM))
    recorder = module if isinstance(module, ReferenceLSTM) else reference_from_torch(module)
    if recorder is not module:
        torch_run(recorder, x, hx, d_output, record=True)
    dt = case.dtype

    # forward, model(x, hx) and trace(x, hx)
    trace = model.trace(x, hx)
    for label, (output, state) in (("call", model(x, hx)), ("trace", (trace.output, trace.h_n))):
        assert np.asarray(output).dtype == case.np_dtype, f"{label}: output dtype"
        assert_forward(output, ref.output, dt, f"{label} output")
        if case.is_lstm:
            assert isinstance(state, tuple) and len(state) == 2, f"{label}: h_n not (h_n, c_n)"
            assert_forward(state[0], ref.h_n, dt, f"{label} h_n")
            assert_forward(state[1], ref.c_n, dt, f"{label} c_n")
        else:
            assert_forward(state, ref.h_n, dt, f"{label} h_n")

    # every traced quantity, per layer and direction, time-major by sequence position
    batch = 1 if case.unbatched else case.batch
    for layer in range(case.num_layers):
        for direction in range(case.directions):
            for name in trace_names(case):
                expected = recorder.recorded(name, layer, direction).numpy()
                assert expected.shape[:2] == (case.T, batch)
                assert_forward(trace.get(name, layer, direction), expected, dt,
                               f"trace {name!r} layer {layer} direction {direction}")

    # backward
    grads = model.backward(trace, d_output)
    assert set(grads.params) == set(ref.d_params), "grads.params names"
    for name, expected in ref.d_params.items():
        assert_backward(grads.params[name], expected, dt, f"grads.params[{name!r}]")
    assert_backward(grads.input, ref.d_input, dt, "grads.input")
    for layer in range(case.num_layers):
        for direction in range(case.directions):
            pairs = [("dh", "h")] + ([("dc", "c")] if case.is_lstm else [])
            for gname, qname in pairs:
                expected = recorder.recorded(qname, layer, direction, grad=True).numpy()
                assert_backward(grads.get(gname, layer, direction), expected, dt,
                                f"grads {gname!r} layer {layer} direction {direction}")


# --------------------------------------------------------------------------- explicit cases


def _explicit_cases() -> list[Case]:
    cases = []
    for v in VARIANTS:
        lstm = v in LSTM_VARIANTS
        loads = LOADS if v in NATIVE else LOADS[1:]
        cases += [
            Case(v, num_layers=2, bidirectional=True, with_hx=True, T=5, batch=3,
                 load=loads[0]),
            Case(v, unbatched=True, T=1, dtype="float32", load=loads[-1], seed=1),
            Case(v, num_layers=3, batch_first=True, bias=False, proj_size=2 if lstm else 0,
                 T=3, load=loads[1], seed=2),
            Case(v, unbatched=True, with_hx=True, bidirectional=True, batch_first=True, T=6,
                 dtype="float32", proj_size=3 if lstm else 0, load=loads[0], seed=3),
            Case(v, num_layers=2, bidirectional=True, batch_first=True, with_hx=True,
                 dtype="float32", hidden_size=5, input_size=2, T=7, batch=1,
                 load=loads[-1], seed=4),
        ]
    return cases


def _case_id(case: Case) -> str:
    flags = [case.variant, f"L{case.num_layers}", f"T{case.T}", case.dtype, case.load]
    for flag in ("bidirectional", "bias", "batch_first", "unbatched", "with_hx"):
        value = getattr(case, flag)
        if (flag == "bias" and not value) or (flag != "bias" and value):
            flags.append(flag if flag != "bias" else "nobias")
    if case.proj_size:
        flags.append(f"proj{case.proj_size}")
    return "-".join(flags)


@pytest.mark.parametrize("case", _explicit_cases(), ids=_case_id)
def test_parity_explicit(case: Case) -> None:
    check_case(case)


@st.composite
def cases(draw) -> Case:
    variant = draw(st.sampled_from(VARIANTS))
    hidden = draw(st.integers(2, 5))
    proj = 0
    if variant in LSTM_VARIANTS and draw(st.booleans()):
        proj = draw(st.integers(1, hidden - 1))
    loads = LOADS if variant in NATIVE else LOADS[1:]
    return Case(
        variant=variant,
        num_layers=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()),
        proj_size=proj,
        bias=draw(st.booleans()),
        batch_first=draw(st.booleans()),
        unbatched=draw(st.booleans()),
        with_hx=draw(st.booleans()),
        dtype=draw(st.sampled_from(("float64", "float32"))),
        T=draw(st.integers(1, 7)),
        batch=draw(st.integers(1, 3)),
        input_size=draw(st.integers(1, 4)),
        hidden_size=hidden,
        load=draw(st.sampled_from(loads)),
        seed=draw(st.integers(0, 2**16)),
    )


@settings(max_examples=40, deadline=None)
@given(case=cases())
def test_parity_hypothesis(case: Case) -> None:
    check_case(case)


# --------------------------------------------------------------------------- the reference itself


@pytest.mark.parametrize(("variant", "proj"), [(v, p) for v in NATIVE
                                               for p in ((0, 2) if TABLE[v].is_lstm else (0,))])
def test_reference_matches_torch_modules(variant: str, proj: int) -> None:
    """The ReferenceLSTM behind the traces reproduces torch's own modules (and their grads)."""
    case = Case(variant, num_layers=2, bidirectional=True, proj_size=proj, with_hx=True, T=5)
    module = build_module(case)
    x, hx, d_output = make_data(case)
    expected = torch_run(module, x, hx, d_output)
    recorder = reference_from_torch(module)
    got = torch_run(recorder, x, hx, d_output, record=True)
    np.testing.assert_allclose(got.output, expected.output, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.h_n, expected.h_n, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.d_input, expected.d_input, rtol=0, atol=1e-12)
    for name, grad in expected.d_params.items():
        np.testing.assert_allclose(got.d_params[name], grad, rtol=0, atol=1e-12)
    # the recorded h of the last layer is the output, by sequence position in both directions
    last = case.num_layers - 1
    h_fwd = recorder.recorded("h", last, 0).numpy()
    h_bwd = recorder.recorded("h", last, 1).numpy()
    np.testing.assert_array_equal(np.concatenate([h_fwd, h_bwd], axis=2), got.output)


@pytest.mark.parametrize("variant", VARIANTS)
def test_make_torch_model_kinds_names_and_seed(variant: str) -> None:
    """torch's classes for the rows with a torch_class, else ReferenceLSTM; torch's init;
    seeded."""
    torch_class = TABLE[variant].torch_class
    expected_type = ReferenceLSTM if torch_class is None else getattr(torch.nn, torch_class)
    proj = 2 if variant in LSTM_VARIANTS else 0
    kwargs = dict(num_layers=2, bidirectional=True, proj_size=proj, batch_first=True)
    a = make_torch_model(variant, 3, 4, seed=21, **kwargs)
    b = make_torch_model(variant, 3, 4, seed=21, **kwargs)
    c = make_torch_model(variant, 3, 4, seed=22, **kwargs)
    assert isinstance(a, expected_type)
    assert (a.hidden_size, a.num_layers, a.bidirectional, a.batch_first) == (4, 2, True, True)
    for name, value in a.state_dict().items():
        assert value.dtype == torch.float32
        assert torch.equal(value, b.state_dict()[name]), name
        if "peephole" in name:
            assert torch.all(value == 0)
        else:
            assert float(value.abs().max()) <= 0.5 and not torch.equal(value, c.state_dict()[name])
    out, _ = a(torch.zeros(2, 5, 3))  # batch_first: (B, T, I)
    assert out.shape == (2, 5, 2 * (proj or 4))
    if not TABLE[variant].is_lstm:
        with pytest.raises(ValueError):
            make_torch_model(variant, 3, 4, proj_size=2)


def test_reference_peephole_with_zero_peepholes_is_vanilla() -> None:
    lstm = make_torch_model("vanilla", 3, 4, num_layers=2, dtype=torch.float64, seed=5)
    peep = make_torch_model("peephole", 3, 4, num_layers=2, dtype=torch.float64, seed=6)
    state = dict(lstm.state_dict())
    state.update({k: v for k, v in peep.state_dict().items() if "peephole" in k})
    assert all(float(v.abs().max()) == 0.0 for k, v in state.items() if "peephole" in k)
    peep.load_state_dict(state)
    x = torch.randn(5, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(peep(x)[0], lstm(x)[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("proj", [0, 2])
def test_torch_loop_trace_matches_core_trace(proj: int) -> None:
    """The benchmark's torch loop and the core trace agree (float32, both through torch)."""
    case = Case("vanilla", proj_size=proj, dtype="float32", batch_first=True, T=6, batch=3,
                load="from_torch")
    module = build_module(case)
    x, _, _ = make_data(case)
    loop = torch_loop_lstm_trace(module, torch.tensor(x))
    out, (h_n, c_n) = module(torch.tensor(x))
    assert_forward(loop["h"].numpy(), out.detach().numpy().transpose(1, 0, 2), "float32",
                   "loop h vs torch output")
    assert_forward(loop["c"][-1].numpy(), c_n[0].detach().numpy(), "float32", "loop c_n")
    trace = build_core(case, module).trace(x)
    for name in ("i", "f", "g", "o", "c", "h"):
        assert_forward(trace.get(name), loop[name].numpy(), "float32", f"trace {name!r}")


# --------------------------------------------------------------------------- state dicts


STATE_CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=3, bias=False, proj_size=2),
    dict(num_layers=2, bidirectional=True, proj_size=1),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("config", range(len(STATE_CONFIGS)))
def test_state_dict_names_and_shapes_match_torch(variant: str, config: int) -> None:
    kwargs = dict(STATE_CONFIGS[config])
    if variant not in LSTM_VARIANTS:
        kwargs.pop("proj_size", None)
    module = make_torch_model(variant, 3, 4, dtype=torch.float64, seed=7, **kwargs)
    model = Recurrent(3, 4, variant=variant, dtype=np.float64, seed=7, **kwargs)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    state = model.state_dict()
    assert {k: tuple(np.shape(v)) for k, v in state.items()} == expected
    bound = 1 / np.sqrt(4)
    for name, value in state.items():
        assert isinstance(value, np.ndarray) and value.dtype == np.float64, name
        if "peephole" in name:
            assert np.all(value == 0), f"{name}: peepholes start at zero"
        else:
            assert np.all(np.abs(value) <= bound), f"{name}: outside torch's init range"
            assert np.unique(value).size > 1 or value.size == 1, f"{name}: not random"
    # round trip: loading torch's weights gives exactly torch's weights back
    model.load_state_dict(module.state_dict())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, module.state_dict()[name].numpy(), err_msg=name)


def test_seed_makes_initialisation_reproducible() -> None:
    a = Recurrent(3, 4, num_layers=2, variant="cifg", seed=11).state_dict()
    b = Recurrent(3, 4, num_layers=2, variant="cifg", seed=11).state_dict()
    c = Recurrent(3, 4, num_layers=2, variant="cifg", seed=12).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("variant", NATIVE)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_from_torch_takes_config_weights_and_dtype(variant: str, dtype: torch.dtype) -> None:
    proj = 2 if TABLE[variant].is_lstm else 0
    module = make_torch_model(variant, 3, 5, num_layers=2, bidirectional=True, bias=False,
                              batch_first=True, proj_size=proj, dtype=dtype, seed=3)
    model = Recurrent.from_torch(module)
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    torch_state = module.state_dict()
    state = model.state_dict()
    assert set(state) == set(torch_state)
    for name, value in state.items():
        assert value.dtype == np_dtype, name
        np.testing.assert_array_equal(value, torch_state[name].numpy(), err_msg=name)
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np_dtype)  # batch_first
    out = model(x)[0]
    assert np.asarray(out).shape == (2, 4, 2 * (proj or 5))


def _strict_model(variant: str, **kwargs) -> tuple[Recurrent, dict[str, np.ndarray]]:
    module = make_torch_model(variant, 3, 4, dtype=torch.float64, seed=1, **kwargs)
    model = Recurrent(3, 4, variant=variant, dtype=np.float64, **kwargs)
    return model, {k: v.numpy().copy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("as_torch", [False, True])
def test_load_state_dict_is_strict(variant: str, as_torch: bool) -> None:
    def convert(state: dict[str, np.ndarray]) -> dict:
        return {k: torch.from_numpy(v) for k, v in state.items()} if as_torch else state

    model, good = _strict_model(variant, num_layers=2, bidirectional=True)
    before = model.state_dict()
    for name in good:  # each tensor missing in turn
        state = {k: v for k, v in good.items() if k != name}
        with pytest.raises(ValueError, match=re.escape(name)):
            model.load_state_dict(convert(state))
    for name in ("weight_ih_l2", "weight_hh_l0_extra", "bias_hr_l1_reverse"):
        with pytest.raises(ValueError, match=re.escape(name)):
            model.load_state_dict(convert({**good, name: good["weight_ih_l0"]}))
    for name, value in good.items():  # each tensor wrongly shaped in turn
        wrong = np.zeros((value.shape[0] + 1, *value.shape[1:]))
        with pytest.raises(ValueError, match=re.escape(name)):
            model.load_state_dict(convert({**good, name: wrong}))
        with pytest.raises(ValueError, match=re.escape(name)):
            model.load_state_dict(convert({**good, name: value.reshape(-1, 1, *value.shape[1:])}))
    # a failed load leaves the model as it was; then the good one loads
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    model.load_state_dict(convert(good))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, good[name], err_msg=name)


def test_load_state_dict_rejects_tensors_of_other_configurations() -> None:
    model, good = _strict_model("vanilla", bias=False)
    with pytest.raises(ValueError, match="bias_ih_l0"):
        model.load_state_dict({**good, "bias_ih_l0": np.zeros(16)})
    model, good = _strict_model("vanilla")
    with pytest.raises(ValueError, match="weight_peephole_l0"):
        model.load_state_dict({**good, "weight_peephole_l0": np.zeros((3, 4))})
    with pytest.raises(ValueError, match="weight_hr_l0"):
        model.load_state_dict({**good, "weight_hr_l0": np.zeros((2, 4))})
    model, good = _strict_model("peephole")
    with pytest.raises(ValueError, match="weight_peephole_l0"):
        model.load_state_dict({k: v for k, v in good.items() if "peephole" not in k})
    model, good = _strict_model("vanilla", proj_size=2)
    with pytest.raises(ValueError, match="weight_hr_l0"):
        model.load_state_dict({k: v for k, v in good.items() if k != "weight_hr_l0"})


# --------------------------------------------------------------------------- float32 robustness


@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_huge_preactivations_stay_finite(variant: str) -> None:
    """Weights x 1e3 give pre-activations ~1e4: finite results, no RuntimeWarning, still parity."""
    case = Case(variant, num_layers=2, bidirectional=True, dtype="float32", T=5, batch=2,
                load="state_dict_numpy", seed=9)
    module = build_module(case)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if not name.startswith("weight_peephole"):
                param.mul_(1e3)
    model = build_core(case, module)
    x, _, d_output = make_data(case)
    x = x * np.float32(10.0)
    ref = torch_run(module, x, None, d_output)
    recorder = reference_from_torch(module)
    recorder.record = {}
    with torch.no_grad():
        recorder(torch.tensor(x))
    z_name = {"rnn": "z_h", "gru": "z_r"}.get(TABLE[variant].family, "z_g")
    assert float(recorder.recorded(z_name, 0, 0).abs().max()) > 1e3, "test not extreme enough"

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        output, _ = model(x)
        trace = model.trace(x)
        grads = model.backward(trace, d_output)
    assert_forward(output, ref.output, "float32", "output")
    for layer in range(case.num_layers):
        for direction in range(case.directions):
            for name in trace_names(case):
                value = np.asarray(trace.get(name, layer, direction))
                assert np.all(np.isfinite(value)), f"trace {name!r} not finite"
            for gname in ("dh", "dc") if case.is_lstm else ("dh",):
                value = np.asarray(grads.get(gname, layer, direction))
                assert np.all(np.isfinite(value)), f"grads {gname!r} not finite"
    for name, value in grads.params.items():
        assert np.all(np.isfinite(value)), f"grads.params[{name!r}] not finite"
    assert np.all(np.isfinite(grads.input))


@pytest.mark.parametrize("variant", VARIANTS)
def test_float64_input_to_float32_model(variant: str) -> None:
    case = Case(variant, num_layers=2, dtype="float32", T=4, batch=2, seed=4)
    module = build_module(case)
    model = build_core(case, module)
    x32, _, d_output = make_data(case)
    x64 = x32.astype(np.float64) + np.random.default_rng(0).normal(size=x32.shape) * 1e-3
    ref = torch_run(module, x64.astype(np.float32), None, d_output)
    output, _ = model(x64)
    assert_forward(output, ref.output, "float32", "output")
    trace = model.trace(x64)
    assert_forward(trace.output, ref.output, "float32", "trace output")
    grads = model.backward(trace, d_output)
    assert_backward(grads.input, ref.d_input, "float32", "grads.input")
    for name, expected in ref.d_params.items():
        assert_backward(grads.params[name], expected, "float32", f"grads.params[{name!r}]")



# --------------------------------------------------------------------------- the table is covered

# The fields of a table row that change what a cell computes: the core (forward.py, backward.py)
# and the torch reference (ReferenceLSTM._cell) read each of them. The others describe the row.
RULE_FIELDS = {"family", "blocks", "fixed", "coupled", "input_activation", "output_activation",
               "peephole", "torch_class"}
DESCRIPTIVE_FIELDS = {"name", "title", "summary", "paper", "derived"}


def test_every_row_of_the_table_has_parity_coverage() -> None:
    """A new row of ``core.variants.TABLE`` is parity-tested without an edit here: the reference
    builds it with the core's parameter names and shapes, the explicit cases and the hypothesis
    strategy draw it, and torch's own class is used where the row names one."""
    explicit = {case.variant for case in _explicit_cases()}
    assert set(VARIANTS) == set(TABLE) and set(NATIVE) <= set(TABLE)
    for name, row in TABLE.items():
        assert name in explicit, f"variant {name!r} has no explicit parity case"
        proj = 2 if row.is_lstm else 0
        ref = ReferenceLSTM(name, 3, 4, num_layers=2, bidirectional=True, proj_size=proj,
                            dtype=torch.float64)
        shapes = param_shapes(Config(3, 4, 2, True, True, proj, name))
        assert {k: tuple(v.shape) for k, v in ref.state_dict().items()} == shapes, name
        module = make_torch_model(name, 3, 4)
        expected = ReferenceLSTM if row.torch_class is None else getattr(torch.nn, row.torch_class)
        assert type(module) is expected, name
    fields = {f.name for f in dataclasses.fields(Variant)}
    assert fields == RULE_FIELDS | DESCRIPTIVE_FIELDS, (
        f"the table has new fields {sorted(fields - RULE_FIELDS - DESCRIPTIVE_FIELDS)}: make the "
        "core and ReferenceLSTM read them, then list them here")


def test_rows_with_the_same_weights_compute_different_cells() -> None:
    """Rows whose parameters have the same names and shapes (vanilla, niaf and noaf; the 3-block
    LSTM variants and gru) differ only by their rules: the core and the reference must both give
    them different outputs on the same weights, so no rule of the table is silently ignored."""
    x = np.random.default_rng(3).normal(size=(5, 2, 3))
    groups: dict[tuple, list[str]] = {}
    for name in VARIANTS:
        groups.setdefault(tuple(param_shapes(Config(3, 4, variant=name)).items()), []).append(name)
    pairs = 0
    for names in groups.values():
        state = make_torch_model(names[0], 3, 4, dtype=torch.float64, seed=1).state_dict()
        outs = {}
        for name in names:
            ref = ReferenceLSTM(name, 3, 4, dtype=torch.float64)
            ref.load_state_dict(state)
            with torch.no_grad():
                ref_out = ref(torch.tensor(x))[0].numpy()
            core = Recurrent(3, 4, variant=name, dtype=np.float64).load_state_dict(state)
            outs[name] = core(x)[0]
            assert_forward(outs[name], ref_out, "float64", f"{name} output")
        for k, a in enumerate(names):
            for b in names[k + 1:]:
                pairs += 1
                assert not np.allclose(outs[a], outs[b]), f"{a} and {b} compute the same"
    assert pairs > 0
