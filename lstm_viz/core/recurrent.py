"""``Recurrent``: the whole model, torch.nn.LSTM's interface on the NumPy loops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .backward import gru_layer_backward, lstm_layer_backward, rnn_layer_backward
from .forward import Weights, gru_layer, lstm_layer, rnn_layer
from .interventions import Intervention, resolve
from .params import Config, check_config, init_params, param_shapes, suffix
from .trace import Gradients, Trace
from .variants import check_variant, is_lstm, torch_variants, variant


def _to_numpy(value: Any) -> np.ndarray:
    """A numpy array from an array or a torch tensor (without importing torch)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Recurrent:
    """An LSTM (or one of its variants, a GRU or a plain RNN) with torch.nn.LSTM's interface.

    Parameters as ``torch.nn.LSTM``; ``variant`` picks the cell (SPEC §1); ``dropout`` is accepted
    to mirror torch's signature and ignored (the model evaluates as torch in ``eval()`` mode).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, bidirectional: bool = False, proj_size: int = 0,
                 variant: str = "vanilla", dtype: Any = np.float32, seed: int | None = None,
                 *, dropout: float = 0.0) -> None:
        self._configure(input_size, hidden_size, num_layers, bias, batch_first, bidirectional,
                        proj_size, variant, dtype, dropout)
        self._params = init_params(self.config, self.dtype, seed)

    def _configure(self, input_size: int, hidden_size: int, num_layers: int, bias: bool,
                   batch_first: bool, bidirectional: bool, proj_size: int, variant: str,
                   dtype: Any, dropout: float) -> None:
        """Validate and set everything but the parameters."""
        self.config = Config(int(input_size), int(hidden_size), int(num_layers), bool(bias),
                             bool(bidirectional), int(proj_size), check_variant(variant))
        check_config(self.config)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self._params: dict[str, np.ndarray] = {}

    @classmethod
    def from_state_dict(cls, state_dict: dict[str, Any], input_size: int, hidden_size: int,
                        num_layers: int = 1, bias: bool = True, batch_first: bool = False,
                        bidirectional: bool = False, proj_size: int = 0,
                        variant: str = "vanilla", dtype: Any = np.float32, *,
                        dropout: float = 0.0) -> Recurrent:
        """A model with these weights, built without ever initialising random parameters.

        The configuration is validated as by the constructor and the weights are loaded strictly,
        as by ``load_state_dict`` (``ValueError`` naming a missing, unexpected or misshapen
        tensor). Use it for a model about to be loaded: the constructor first draws full-size
        random weights, which for a big model costs as much memory and time as the real ones.
        """
        model = cls.__new__(cls)
        model._configure(input_size, hidden_size, num_layers, bias, batch_first, bidirectional,
                         proj_size, variant, dtype, dropout)
        return model.load_state_dict(state_dict)

    # -- configuration, as torch names it ------------------------------------------------------
    input_size = property(lambda self: self.config.input_size)
    hidden_size = property(lambda self: self.config.hidden_size)
    num_layers = property(lambda self: self.config.num_layers)
    bias = property(lambda self: self.config.bias)
    bidirectional = property(lambda self: self.config.bidirectional)
    proj_size = property(lambda self: self.config.proj_size)
    variant = property(lambda self: self.config.variant)

    def __repr__(self) -> str:
        c = self.config
        return (f"Recurrent({c.input_size}, {c.hidden_size}, num_layers={c.num_layers}, "
                f"bias={c.bias}, batch_first={self.batch_first}, bidirectional={c.bidirectional}, "
                f"proj_size={c.proj_size}, variant={c.variant!r}, dtype={self.dtype.name})")

    # -- parameters ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Name -> a copy of the parameter, torch's names and order."""
        return {name: p.copy() for name, p in self._params.items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> Recurrent:
        """Load torch-named parameters (numpy arrays or torch tensors), strictly.

        Raises ``ValueError`` naming the tensor that is missing, unexpected or wrongly shaped.
        """
        shapes = param_shapes(self.config)
        missing = [n for n in shapes if n not in state_dict]
        unexpected = [n for n in state_dict if n not in shapes]
        if missing:
            raise ValueError(f"missing tensor {missing[0]!r} (expected shape {shapes[missing[0]]})"
                             + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
        if unexpected:
            raise ValueError(f"unexpected tensor {unexpected[0]!r} for {self!r}")
        params = {}
        for name, shape in shapes.items():
            value = _to_numpy(state_dict[name])
            if value.shape != shape:
                raise ValueError(f"tensor {name!r} has shape {tuple(value.shape)}, "
                                 f"expected {shape}")
            params[name] = np.array(value, dtype=self.dtype)
        self._params = params
        return self

    @classmethod
    def from_torch(cls, module: Any) -> Recurrent:
        """A copy of a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` (or a reference module carrying a
        ``variant`` attribute): configuration, weights and dtype."""
        kind = type(module).__name__
        native = torch_variants()
        name = getattr(module, "variant", None) or native.get(kind)
        if name is None:
            raise ValueError(f"cannot convert a {kind}: expected one of "
                             f"{', '.join('torch.nn.' + k for k in native)}")
        if kind == "RNN" and getattr(module, "nonlinearity", "tanh") != "tanh":
            raise ValueError("only the tanh RNN is supported, not nonlinearity='relu'")
        state = {k: _to_numpy(v) for k, v in module.state_dict().items()}
        dtype = next(iter(state.values())).dtype
        return cls.from_state_dict(state, module.input_size, module.hidden_size,
                                   module.num_layers, module.bias, module.batch_first,
                                   module.bidirectional, getattr(module, "proj_size", 0), name,
                                   dtype=dtype, dropout=getattr(module, "dropout", 0.0))

    def weights(self, layer: int, direction: int) -> Weights:
        """The parameters of one layer and direction."""
        s = suffix(layer, direction)
        p = self._params
        return Weights(p[f"weight_ih_{s}"], p[f"weight_hh_{s}"], p.get(f"bias_ih_{s}"),
                       p.get(f"bias_hh_{s}"), p.get(f"weight_hr_{s}"),
                       p.get(f"weight_peephole_{s}"))

    # -- forward ---------------------------------------------------------------------------------
    def __call__(self, x: Any, hx: Any = None,
                 interventions: Sequence[Intervention] | None = None):
        """output, h_n as torch returns them (h_n is (h_n, c_n) for the LSTM family)."""
        t = self.trace(x, hx, interventions)
        return t.output, t.h_n

    def trace(self, x: Any, hx: Any = None,
              interventions: Sequence[Intervention] | None = None) -> Trace:
        """The forward pass, keeping every per-step quantity of every layer and direction.

        ``interventions`` (SPEC §5) overwrite quantities of chosen units at chosen steps;
        everything downstream, and ``backward``, sees the overwritten values as constants."""
        cfg = self.config
        x, unbatched = self._time_major(x)
        h0, c0 = self._initial_state(hx, x.shape[1], unbatched)
        ovs = resolve(interventions, cfg, x.shape[0], x.shape[1], self.dtype)
        family = variant(cfg.variant).family
        steps: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        inputs = []
        layer_in = x
        for layer in range(cfg.num_layers):
            inputs.append(layer_in)
            outs = []
            for d in range(cfg.num_directions):
                k = layer * cfg.num_directions + d
                w = self.weights(layer, d)
                ov = ovs.get((layer, d))
                if family == "lstm":
                    q = lstm_layer(layer_in, h0[k], c0[k], w, cfg.variant, reverse=d == 1, ov=ov)
                elif family == "gru":
                    q = gru_layer(layer_in, h0[k], w, reverse=d == 1, ov=ov)
                else:
                    q = rnn_layer(layer_in, h0[k], w, reverse=d == 1, ov=ov)
                steps[(layer, d)] = q
                outs.append(q["h"])
            layer_in = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=2)

        # h_n / c_n: the state after the last processed step (position 0 for direction 1)
        last = [steps[(l, d)] for l in range(cfg.num_layers) for d in range(cfg.num_directions)]
        pos = [(-1 if d == 0 else 0) for _ in range(cfg.num_layers)
               for d in range(cfg.num_directions)]
        h_n = np.stack([q["h"][p] for q, p in zip(last, pos, strict=True)])
        h_n_out: Any = h_n[:, 0] if unbatched else h_n
        if is_lstm(cfg.variant):
            c_n = np.stack([q["c"][p] for q, p in zip(last, pos, strict=True)])
            h_n_out = (h_n_out, c_n[:, 0] if unbatched else c_n)
        return Trace(output=self._from_time_major(layer_in, unbatched), h_n=h_n_out,
                     variant=cfg.variant, steps=steps, inputs=inputs, h0=h0, c0=c0,
                     unbatched=unbatched, batch_first=self.batch_first, overrides=ovs)

    def trace_nbytes(self, steps: int, batch: int = 1) -> int:
        """About how many bytes ``trace`` keeps for ``steps`` steps (to refuse what won't fit)."""
        c = self.config
        H, R, G = c.hidden_size, c.real_hidden_size, c.gate_rows
        family = variant(c.variant).family
        if family == "lstm":     # z and the gates (G each), c, h, m, the missing gate's constant
            per_step = 2 * G + H + R + (H if c.proj_size else 0) + (4 * H - G)
        elif family == "gru":    # r, z, n, h, W_hn h + b_hn
            per_step = 3 * H + 2 * H
        else:
            per_step = H
        inputs = sum(c.layer_input_size(k) for k in range(c.num_layers))
        total = steps * batch * (per_step * c.num_layers * c.num_directions + inputs)
        return int(total * self.dtype.itemsize)

    # -- backward --------------------------------------------------------------------------------
    def backward(self, trace: Trace, d_output: Any) -> Gradients:
        """BPTT for loss = Σ output · d_output: parameter, input and per-step gradients."""
        cfg = self.config
        d_output = np.asarray(_to_numpy(d_output), dtype=self.dtype)
        if d_output.shape != trace.output.shape:
            raise ValueError(f"d_output has shape {d_output.shape}, the output has "
                             f"{trace.output.shape}")
        dY, _ = self._time_major(d_output, expected_features=d_output.shape[-1],
                                 unbatched=trace.unbatched)
        R = cfg.real_hidden_size
        family = variant(cfg.variant).family
        params: dict[str, np.ndarray] = {}
        steps: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        for layer in reversed(range(cfg.num_layers)):
            x = trace.inputs[layer]
            dX = np.zeros_like(x)
            for d in range(cfg.num_directions):
                k = layer * cfg.num_directions + d
                q, w = trace.steps[(layer, d)], self.weights(layer, d)
                dYd = dY[:, :, d * R:(d + 1) * R]
                ov = trace.overrides.get((layer, d))
                if family == "lstm":
                    g, dx, s = lstm_layer_backward(q, x, trace.h0[k], trace.c0[k], dYd, w,
                                                   cfg.variant, reverse=d == 1, ov=ov)
                elif family == "gru":
                    g, dx, s = gru_layer_backward(q, x, trace.h0[k], dYd, w, reverse=d == 1,
                                                  ov=ov)
                else:
                    g, dx, s = rnn_layer_backward(q, x, trace.h0[k], dYd, w, reverse=d == 1,
                                                  ov=ov)
                sfx = suffix(layer, d)
                params.update({("weight_peephole" if n == "peephole" else n) + f"_{sfx}": v
                               for n, v in g.items()})
                steps[(layer, d)] = s
                dX += dx
            dY = dX
        ordered = {name: params[name] for name in self._params}
        return Gradients(params=ordered, input=self._from_time_major(dY, trace.unbatched),
                         steps=steps)

    # -- shapes ----------------------------------------------------------------------------------
    def _time_major(self, x: Any, expected_features: int | None = None,
                    unbatched: bool | None = None) -> tuple[np.ndarray, bool]:
        """(T, I) or (T, B, I) / (B, T, I) -> contiguous (T, B, I) in the model's dtype."""
        x = _to_numpy(x)
        if x.ndim not in (2, 3):
            raise ValueError(f"input must be 2-D (T, features) or 3-D, got shape {x.shape}")
        features = self.input_size if expected_features is None else expected_features
        if x.shape[-1] != features:
            raise ValueError(f"input has {x.shape[-1]} features, the model expects {features}")
        if unbatched is None:
            unbatched = x.ndim == 2
        if unbatched:
            x = x[:, None, :]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"input must have at least one step and one sequence, got {x.shape}")
        return np.ascontiguousarray(x, dtype=self.dtype), unbatched

    def _from_time_major(self, y: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return y[:, 0]
        return y.transpose(1, 0, 2) if self.batch_first else y

    def _initial_state(self, hx: Any, batch: int, unbatched: bool):
        """h0 (L·D, B, R) and c0 (L·D, B, H) (None for gru / rnn), zeros when not given."""
        cfg = self.config
        n = cfg.num_layers * cfg.num_directions
        lstm = is_lstm(cfg.variant)
        want = [("h_0", (n, batch, cfg.real_hidden_size))]
        if lstm:
            want.append(("c_0", (n, batch, cfg.hidden_size)))
        if hx is None:
            states = [np.zeros(shape, dtype=self.dtype) for _, shape in want]
        else:
            given = list(hx) if lstm and isinstance(hx, (tuple, list)) else [hx]
            if len(given) != len(want):
                raise ValueError("hx must be (h_0, c_0) for the LSTM family" if lstm
                                 else "hx must be one array h_0")
            states = []
            for (name, shape), raw in zip(want, given, strict=True):
                value = _to_numpy(raw)
                if unbatched and value.ndim == 2:
                    value = value[:, None, :]
                if value.shape != shape:
                    expected = (shape[0], shape[2]) if unbatched else shape
                    raise ValueError(f"{name} has shape {_to_numpy(raw).shape}, "
                                     f"expected {expected}")
                states.append(np.ascontiguousarray(value, dtype=self.dtype))
        return states[0], (states[1] if lstm else None)
