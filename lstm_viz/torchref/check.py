"""A visible match with torch: run the same weights through torch and report the largest gap.

``torch_match(model, x)`` builds the equivalent torch module (the ``torch_class`` of the variant's
row of the table, ``torch.nn.LSTM`` / ``GRU`` / ``RNN``, else the reference module of
:func:`lstm_viz.torchref.reference.make_torch_model`),
loads the model's weights, runs both and reports max |Δh| over the output and h_n (and |Δc| over
c_n). torch is imported lazily, inside the function: without torch the check says so instead of
failing.

``trace_match(model, trace, x)`` checks a trace already computed (what the pages show) instead of
running the NumPy model again, and runs torch over at most ``CHECK_STEPS`` steps: the first
``CHECK_STEPS`` of a longer sequence. A step's values in the forward direction depend only on the
steps before it, so a prefix run is exact there. In the backward direction they depend on every
later step, so a bidirectional model is run whole when it is short, and otherwise only its first
layer is compared: the forward direction over the first ``CHECK_STEPS`` steps and the backward
direction over the last ``CHECK_STEPS``. The message says exactly which steps were compared.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_viz.core import TABLE, Recurrent, Trace, is_lstm

NOT_INSTALLED = "torch is not installed here: no check against it"

# variant -> the torch module that computes it, from the table's torch_class column
_NATIVE = {name: f"torch.nn.{v.torch_class}" for name, v in TABLE.items() if v.torch_class}

CHECK_STEPS = 2_000     # trace_match runs torch over at most this many steps (per direction)


@dataclass(frozen=True)
class TorchMatch:
    """The result of :func:`torch_match` or :func:`trace_match`.

    available: False when torch could not be imported (then nothing was compared).
    module_name: "torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN" or "reference LSTM (cifg)".
    max_abs_dh: the largest |h_numpy − h_torch| over every output step and h_n (nan when not run);
      over the steps compared (``scope``) for :func:`trace_match`.
    steps: the sequence length; sequences: how many sequences (1 when unbatched).
    message: one line for people, e.g. "matches torch.nn.LSTM: max |Δh| = 3e-08 over 1,000 steps"
      or "... over the first 2,000 of 100,000 steps".
    ok: True when the gap is within SPEC §4's tolerance (``tolerance``).
    max_abs_dc: the largest |Δc_n| for the LSTM family, else None.
    compared_steps: how many steps (per direction) torch was run over; None or ``steps`` when
      the whole sequence was compared.
    scope: "all", "prefix" (unidirectional: the first ``compared_steps`` steps: the output at
      each and every layer's state at the last) or "ends" (bidirectional: layer 1 only, forward
      over the first and backward over the last ``compared_steps`` steps).
    """

    available: bool
    module_name: str
    max_abs_dh: float
    steps: int
    message: str
    ok: bool = False
    sequences: int = 1
    max_abs_dc: float | None = None
    tolerance: float = float("nan")
    compared_steps: int | None = None
    scope: str = "all"

    @property
    def whole(self) -> bool:
        """True when every step of the sequence was compared."""
        return self.scope == "all" and self.compared_steps in (None, self.steps)


def module_name(variant: str) -> str:
    """The name of the torch module :func:`torch_match` compares ``variant`` against."""
    return _NATIVE.get(variant, f"reference LSTM ({variant})")


def tolerance(dtype: Any, scale: float = 1.0) -> float:
    """SPEC §4's forward tolerance: 1e-10 for float64, 1e-5 × max(1, scale) for float32."""
    if np.dtype(dtype) == np.float64:
        return 1e-10
    return 1e-5 * max(1.0, float(scale))


def build_torch_module(model: Recurrent, *, batch_first: bool | None = None,
                       only: tuple[int, int] | None = None) -> Any:
    """The torch module equivalent to ``model``, with its weights, in eval mode.

    ``batch_first``: the module's layout (default: the model's). ``only=(layer, direction)``: a
    one-layer, one-direction module holding just that layer and direction's weights (run it on
    the time-reversed input for direction 1). Raises ImportError when torch is missing.
    """
    import torch

    from lstm_viz.core.params import suffix
    from lstm_viz.torchref.reference import make_torch_model

    c = model.config
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    bf = model.batch_first if batch_first is None else batch_first
    state = model.state_dict()
    if only is None:
        layers, bidirectional, input_size = c.num_layers, c.bidirectional, c.input_size
    else:
        layer, direction = only
        end = "_" + suffix(layer, direction)
        state = {k[:-len(end)] + "_l0": v for k, v in state.items() if k.endswith(end)}
        layers, bidirectional, input_size = 1, False, c.layer_input_size(layer)
    module = make_torch_model(c.variant, input_size, c.hidden_size, num_layers=layers,
                              bias=c.bias, batch_first=bf, bidirectional=bidirectional,
                              proj_size=c.proj_size, dtype=dtype)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    module.load_state_dict(tensors, strict=True)
    return module.eval()


def _sci(value: float) -> str:
    """3e-08; 0 as "0"."""
    return "0" if value == 0 else f"{value:.0e}"


def _steps_text(steps: int, sequences: int, unbatched: bool) -> str:
    text = f"{steps:,} step{'s' if steps != 1 else ''}"
    if not unbatched and sequences > 1:
        text += f" × {sequences:,} sequences"
    return text


def _sequences_text(sequences: int, unbatched: bool) -> str:
    return f" × {sequences:,} sequences" if not unbatched and sequences > 1 else ""


def _verdict(model: Recurrent, name: str, dh: float, dc: float | None, scale: float, steps: int,
             sequences: int, over: str, compared: int, scope: str) -> TorchMatch:
    """The result of a comparison: ``over`` is what was compared ("40 steps", ...)."""
    tol = tolerance(model.dtype, scale)
    worst = max(dh, dc or 0.0)
    ok = bool(np.isfinite(worst) and worst <= tol)
    verb = "matches" if ok else "differs from"
    dc_text = f", max |Δc| = {_sci(dc)}" if dc is not None and dc > dh else ""
    message = f"{verb} {name}: max |Δh| = {_sci(dh)}{dc_text} over {over}"
    if not ok:
        message += f" (tolerance {_sci(tol)})"
    return TorchMatch(True, name, dh, steps, message, ok=ok, sequences=sequences, max_abs_dc=dc,
                      tolerance=tol, compared_steps=compared, scope=scope)


def _gaps(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """(max |ours − torch's|, max |torch's|) over pairs of arrays; a nan anywhere gives nan."""
    gaps, scales = [], []
    for ours, ref in pairs:
        if ours.shape != ref.shape:
            raise ValueError(f"shapes differ: {ours.shape} here, {ref.shape} in torch")
        gaps.append(np.max(np.abs(ours.astype(np.float64) - ref)))
        scales.append(np.max(np.abs(ref)))
    return float(np.max(gaps)), float(np.max(scales))


def torch_match(model: Recurrent, x: np.ndarray, hx: Any = None) -> TorchMatch:
    """Run ``model`` and the equivalent torch module on ``x`` (and ``hx``) and compare h.

    ``x`` and ``hx`` as ``model(x, hx)`` takes them. Raises ``ValueError`` only when the NumPy
    model itself rejects the input; anything torch does wrong is reported in the result.
    Runs the whole sequence through both: :func:`trace_match` checks a trace already computed.
    """
    name = module_name(model.variant)
    output, h_n = model(x, hx)                     # validates x and hx (ValueError)
    x_arr = np.asarray(x)
    unbatched = x_arr.ndim == 2
    if unbatched:
        steps, sequences = x_arr.shape[0], 1
    elif model.batch_first:
        sequences, steps = x_arr.shape[:2]
    else:
        steps, sequences = x_arr.shape[:2]
    steps, sequences = int(steps), int(sequences)
    try:
        import torch
    except ImportError:
        return TorchMatch(False, name, float("nan"), steps, NOT_INSTALLED, ok=False,
                          sequences=sequences)
    try:
        module = build_torch_module(model)
        dtype = torch.float64 if model.dtype == np.float64 else torch.float32

        def tensor(a: Any) -> Any:
            return torch.as_tensor(np.asarray(a), dtype=dtype)

        t_hx = None
        if hx is not None:
            t_hx = tuple(tensor(a) for a in hx) if is_lstm(model.variant) else tensor(hx)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # e.g. "LSTM with projections ..."
            t_out, t_hn = module(tensor(x_arr), t_hx)
        if is_lstm(model.variant):
            (h_np, c_np), (h_t, c_t) = h_n, t_hn
        else:
            h_np, c_np, h_t, c_t = h_n, None, t_hn, None
        ref_out, ref_h = t_out.numpy(), h_t.numpy()
        dh = max(float(np.max(np.abs(output - ref_out))), float(np.max(np.abs(h_np - ref_h))))
        scale = max(float(np.max(np.abs(ref_out))), float(np.max(np.abs(ref_h))))
        dc = None
        if c_np is not None:
            ref_c = c_t.numpy()
            dc = float(np.max(np.abs(c_np - ref_c)))
            scale = max(scale, float(np.max(np.abs(ref_c))))
    except Exception as exc:        # a check must never take the page down
        return TorchMatch(True, name, float("nan"), steps,
                          f"could not run {name}: {type(exc).__name__}: {exc}", ok=False,
                          sequences=sequences)
    return _verdict(model, name, dh, dc, scale, steps, sequences,
                    _steps_text(steps, sequences, unbatched), steps, "all")


def _run(module: Any, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None,
         lstm: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A time-major torch module on time-major ``x`` from (h0, c0): (output, h_n, c_n)."""
    import torch

    hx = (torch.from_numpy(h0), torch.from_numpy(c0)) if lstm else torch.from_numpy(h0)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # e.g. "LSTM with projections ..."
        out, state = module(torch.from_numpy(np.ascontiguousarray(x)), hx)
    if lstm:
        return out.numpy(), state[0].numpy(), state[1].numpy()
    return out.numpy(), state.numpy(), None


def trace_match(model: Recurrent, trace: Trace, x: Any, hx: Any = None,
                max_steps: int | None = CHECK_STEPS) -> TorchMatch:
    """Compare ``trace`` (``model.trace(x, hx)``, already computed) with torch on the same input.

    The NumPy model is not run again: torch is run on ``x`` and ``hx`` and compared with the
    trace's h (and c). With P = min(steps, ``max_steps``) (``None``: no bound):

    - unidirectional: torch over the first P steps; compared: the last layer's h at each of
      them and every layer's h and c at step P − 1 (for P = steps: output, h_n and c_n, as
      :func:`torch_match`);
    - bidirectional, steps ≤ ``max_steps``: the same over the whole sequence;
    - bidirectional, longer: its backward direction over a prefix would depend on steps not run,
      so only layer 1 is compared, each direction run alone: forward over the first P steps,
      backward over the last P steps (h at each, c at the last one processed).

    Raises ``ValueError`` only when the model rejects ``x`` or ``hx``; a trace that does not fit
    them, or a torch failure, is reported in the result.
    """
    name = module_name(model.variant)
    xt, unbatched = model._time_major(x)                        # (T, B, I); ValueError
    h0, c0 = model._initial_state(hx, xt.shape[1], unbatched)   # ValueError
    steps, sequences = int(xt.shape[0]), int(xt.shape[1])
    c = model.config
    lstm = is_lstm(c.variant)
    P = steps if max_steps is None else max(1, min(steps, int(max_steps)))
    ends = c.bidirectional and P < steps
    scope = "ends" if ends else ("prefix" if P < steps else "all")
    try:
        import torch  # noqa: F401
    except ImportError:
        return TorchMatch(False, name, float("nan"), steps, NOT_INSTALLED, ok=False,
                          sequences=sequences, compared_steps=P, scope=scope)
    try:
        if (trace.length, trace.batch) != (steps, sequences) or trace.variant != c.variant:
            raise ValueError(f"the trace is of {trace.length:,} steps × {trace.batch} "
                             f"sequence(s) of a {trace.variant} model, the input has "
                             f"{steps:,} × {sequences} for a {c.variant} model")
        pairs: list[tuple[np.ndarray, np.ndarray]] = []
        c_pairs: list[tuple[np.ndarray, np.ndarray]] = []
        if not ends:
            out, h_n, c_n = _run(build_torch_module(model, batch_first=False), xt[:P], h0, c0,
                                 lstm)
            top = c.num_layers - 1
            ours = [trace.get("h", top, d)[:P] for d in range(c.num_directions)]
            pairs.append((ours[0] if len(ours) == 1 else np.concatenate(ours, axis=2), out))
            for layer in range(c.num_layers):
                for d in range(c.num_directions):
                    k = layer * c.num_directions + d
                    last = P - 1 if d == 0 else 0
                    pairs.append((trace.get("h", layer, d)[last], h_n[k]))
                    if lstm:
                        c_pairs.append((trace.get("c", layer, d)[last], c_n[k]))
        else:
            for d in range(2):                  # layer 1, one direction at a time
                module = build_torch_module(model, batch_first=False, only=(0, d))
                h0_d = h0[d:d + 1]
                c0_d = None if c0 is None else c0[d:d + 1]
                if d == 0:
                    out, h_n, c_n = _run(module, xt[:P], h0_d, c0_d, lstm)
                    span, last = slice(0, P), P - 1
                else:                           # backward = forward over the reversed steps
                    out, h_n, c_n = _run(module, xt[steps - P:][::-1], h0_d, c0_d, lstm)
                    out = out[::-1]
                    span, last = slice(steps - P, steps), steps - P
                pairs += [(trace.get("h", 0, d)[span], out), (trace.get("h", 0, d)[last], h_n[0])]
                if lstm:
                    c_pairs.append((trace.get("c", 0, d)[last], c_n[0]))
        dh, scale = _gaps(pairs)
        dc = None
        if lstm:
            dc, c_scale = _gaps(c_pairs)
            scale = max(scale, c_scale)
    except Exception as exc:        # a check must never take the page down
        return TorchMatch(True, name, float("nan"), steps,
                          f"could not compare with {name}: {type(exc).__name__}: {exc}",
                          ok=False, sequences=sequences, compared_steps=P, scope=scope)
    many = _sequences_text(sequences, unbatched)
    if scope == "all":
        over = _steps_text(steps, sequences, unbatched)
    elif scope == "prefix":
        over = f"the first {P:,} of {steps:,} steps{many}"
    else:
        layer = "" if c.num_layers == 1 else f"layer 1 of {c.num_layers} only: "
        over = (f"{layer}the first {P:,} of {steps:,} steps in the forward direction and the "
                f"last {P:,} in the backward direction{many}")
    return _verdict(model, name, dh, dc, scale, steps, sequences, over, P, scope)
