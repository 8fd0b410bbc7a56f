"""A visible match with torch: run the same weights through torch and report the largest gap.

``torch_match(model, x)`` builds the equivalent torch module (``torch.nn.LSTM`` / ``GRU`` / ``RNN``
for vanilla / gru / rnn, :func:`lstm_viz.torch_reference.make_torch_model` for the other variants),
loads the model's weights, runs both and reports max |Δh| over the output and h_n (and |Δc| over
c_n). torch is imported lazily, inside the function: without torch the check says so instead of
failing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import Recurrent, is_lstm

NOT_INSTALLED = "torch is not installed here: no check against it"

_NATIVE = {"vanilla": "torch.nn.LSTM", "gru": "torch.nn.GRU", "rnn": "torch.nn.RNN"}


@dataclass(frozen=True)
class TorchMatch:
    """The result of :func:`torch_match`.

    available: False when torch could not be imported (then nothing was compared).
    module_name: "torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN" or "reference LSTM (cifg)".
    max_abs_dh: the largest |h_numpy − h_torch| over every output step and h_n (nan when not run).
    steps: the sequence length compared; sequences: how many sequences (1 when unbatched).
    message: one line for people, e.g. "matches torch.nn.LSTM: max |Δh| = 3e-08 over 1,000 steps".
    ok: True when the gap is within SPEC §4's tolerance (``tolerance``).
    max_abs_dc: the largest |Δc_n| for the LSTM family, else None.
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


def module_name(variant: str) -> str:
    """The name of the torch module :func:`torch_match` compares ``variant`` against."""
    return _NATIVE.get(variant, f"reference LSTM ({variant})")


def tolerance(dtype: Any, scale: float = 1.0) -> float:
    """SPEC §4's forward tolerance: 1e-10 for float64, 1e-5 × max(1, scale) for float32."""
    if np.dtype(dtype) == np.float64:
        return 1e-10
    return 1e-5 * max(1.0, float(scale))


def build_torch_module(model: Recurrent) -> Any:
    """The torch module equivalent to ``model``, with its weights, in eval mode.

    Raises ImportError when torch is missing.
    """
    import torch

    from .torch_reference import make_torch_model

    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    module = make_torch_model(model.variant, model.input_size, model.hidden_size,
                              num_layers=model.num_layers, bias=model.bias,
                              batch_first=model.batch_first, bidirectional=model.bidirectional,
                              proj_size=model.proj_size, dtype=dtype)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.state_dict().items()}
    module.load_state_dict(state, strict=True)
    return module.eval()


def _sci(value: float) -> str:
    """3e-08; 0 as "0"."""
    return "0" if value == 0 else f"{value:.0e}"


def _steps_text(steps: int, sequences: int, unbatched: bool) -> str:
    text = f"{steps:,} step{'s' if steps != 1 else ''}"
    if not unbatched and sequences > 1:
        text += f" × {sequences:,} sequences"
    return text


def torch_match(model: Recurrent, x: np.ndarray, hx: Any = None) -> TorchMatch:
    """Run ``model`` and the equivalent torch module on ``x`` (and ``hx``) and compare h.

    ``x`` and ``hx`` as ``model(x, hx)`` takes them. Raises ``ValueError`` only when the NumPy
    model itself rejects the input; anything torch does wrong is reported in the result.
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
    tol = tolerance(model.dtype, scale)
    worst = max(dh, dc or 0.0)
    ok = bool(np.isfinite(worst) and worst <= tol)
    verb = "matches" if ok else "differs from"
    dc_text = f", max |Δc| = {_sci(dc)}" if dc is not None and dc > dh else ""
    message = (f"{verb} {name}: max |Δh| = {_sci(dh)}{dc_text} over "
               f"{_steps_text(steps, sequences, unbatched)}")
    if not ok:
        message += f" (tolerance {_sci(tol)})"
    return TorchMatch(True, name, dh, steps, message, ok=ok, sequences=sequences, max_abs_dc=dc,
                      tolerance=tol)
