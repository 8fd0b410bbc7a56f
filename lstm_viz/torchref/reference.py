"""Torch reference modules written straight from the SPEC equations, for every variant.

Used by the tests (the reference the NumPy core is checked against, gradients by autograd) and by
the training code (:func:`make_torch_model`). Clarity over speed: :class:`ReferenceLSTM` is a plain
Python loop over time.

``make_torch_model`` returns torch's own module for a variant whose row of the table
(``lstm_viz.core.variants.TABLE``) names a ``torch_class`` (``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``),
and a :class:`ReferenceLSTM` for the others. :class:`ReferenceLSTM` builds every variant of the
table from its row (blocks, fixed and coupled gates, activations, peepholes), so a new row is
covered without an edit here, and it also records the per-step quantities of the torch-native
ones: see :func:`reference_from_torch` and ``ReferenceLSTM.record``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lstm_viz.core.variants import VARIANTS, Variant, torch_variants
from lstm_viz.core.variants import variant as variant_row

_ACTIVATION = {"tanh": torch.tanh, "identity": lambda z: z}   # the row's activation names


def _check_config(variant: str, input_size: int, hidden_size: int, num_layers: int,
                  proj_size: int) -> Variant:
    """The variant's row of the table; ``ValueError`` for what torch would refuse."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    row = variant_row(variant)
    if input_size < 1 or hidden_size < 1 or num_layers < 1:
        raise ValueError("input_size, hidden_size and num_layers must be at least 1")
    if proj_size < 0:
        raise ValueError("proj_size must be >= 0")
    if proj_size and not row.is_lstm:
        raise ValueError(f"proj_size is only supported for the LSTM family, not {variant!r}")
    if proj_size >= hidden_size and proj_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    return row


class ReferenceLSTM(nn.Module):
    """A recurrent network of any SPEC variant, a plain loop over time, torch.nn.LSTM's semantics.

    Parameters are registered under torch's names (``weight_ih_l0``, ``bias_hh_l1_reverse``,
    ``weight_hr_l0``, ``weight_peephole_l0`` ...). ``forward(x, hx=None)`` returns
    ``(output, (h_n, c_n))`` for the LSTM family and ``(output, h_n)`` for gru / rnn, exactly as
    torch's modules (batched 3-D or unbatched 2-D input, ``batch_first``, multi-layer,
    bidirectional).

    Set ``module.record = {}`` before a forward pass to record every per-step quantity:
    afterwards ``module.record[(name, layer, direction)]`` is a list of T tensors of shape
    (B, units), indexed by position in the sequence (also for direction 1), B = 1 for unbatched
    input. The recorded ``h`` and ``c`` tensors are the very tensors the graph uses, so with
    ``retain_grad`` (call :meth:`retain_grads`) their ``.grad`` is the total
    derivative dL/dh_t, dL/dc_t.

    Names: LSTM family ``i f g o c h`` plus ``z_i z_f z_g z_o`` where the gate exists (and ``m``
    with a projection); gru ``r z n h`` plus ``z_r z_z``; rnn ``h`` plus ``z_h``.
    """

    def __init__(self, variant: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, bidirectional: bool = False,
                 proj_size: int = 0, dtype: torch.dtype = torch.float32,
                 seed: int | None = None) -> None:
        super().__init__()
        self.row = _check_config(variant, input_size, hidden_size, num_layers, proj_size)
        self.variant = variant
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self.record: dict[tuple[str, int, int], list[torch.Tensor]] | None = None
        blocks = len(self.row.blocks)
        real_hidden = proj_size or hidden_size
        num_directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * num_directions
            for direction in range(num_directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (blocks * hidden_size, layer_input)),
                          ("weight_hh", (blocks * hidden_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (blocks * hidden_size,)),
                               ("bias_hh", (blocks * hidden_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                if self.row.peephole:
                    shapes.append(("weight_peephole", (3, hidden_size)))
                for name, shape in shapes:
                    self.register_parameter(name + sfx,
                                            nn.Parameter(torch.empty(shape, dtype=dtype)))
        self.reset_parameters(seed)

    # ------------------------------------------------------------------ set-up

    def reset_parameters(self, seed: int | None = None) -> None:
        """Torch's initialisation: uniform(-1/sqrt(hidden), 1/sqrt(hidden)); peepholes zero."""
        generator = None
        if seed is not None:
            generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name.startswith("weight_peephole"):
                    param.zero_()
                else:
                    param.uniform_(-bound, bound, generator=generator)

    def extra_repr(self) -> str:
        return (f"variant={self.variant!r}, {self.input_size}, {self.hidden_size}, "
                f"num_layers={self.num_layers}, bias={self.bias}, batch_first={self.batch_first},"
                f" bidirectional={self.bidirectional}, proj_size={self.proj_size}")

    @property
    def is_lstm(self) -> bool:
        return self.row.is_lstm

    def retain_grads(self) -> None:
        """Call ``retain_grad`` on every recorded per-step tensor that requires grad."""
        if self.record is None:
            raise RuntimeError("set module.record = {} before the forward pass")
        for steps in self.record.values():
            for tensor in steps:
                if tensor.requires_grad:
                    tensor.retain_grad()

    def recorded(self, name: str, layer: int = 0, direction: int = 0,
                 grad: bool = False) -> torch.Tensor:
        """The recorded quantity (or its ``.grad``) stacked to (T, B, units), detached."""
        if self.record is None:
            raise RuntimeError("set module.record = {} before the forward pass")
        steps = self.record[(name, layer, direction)]
        if grad:
            return torch.stack([
                t.grad if t.grad is not None else torch.zeros_like(t) for t in steps
            ]).detach()
        return torch.stack([t.detach() for t in steps])

    # ------------------------------------------------------------------ forward

    def _record(self, name: str, layer: int, direction: int, t: int, steps: int,
                value: torch.Tensor) -> None:
        if self.record is None:
            return
        slot = self.record.setdefault((name, layer, direction), [None] * steps)  # type: ignore
        slot[t] = value

    def _cell(self, x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, sfx: str,
              rec) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One step of one layer and direction; ``rec(name, value)`` records a quantity."""
        w_ih = getattr(self, "weight_ih" + sfx)
        w_hh = getattr(self, "weight_hh" + sfx)
        zx = x_t @ w_ih.T
        zh = h @ w_hh.T
        if self.bias:
            zx = zx + getattr(self, "bias_ih" + sfx)
            zh = zh + getattr(self, "bias_hh" + sfx)
        hs = self.hidden_size
        row = self.row

        if row.family == "rnn":
            z = zx + zh
            h_new = torch.tanh(z)
            rec("z_h", z)
            rec("h", h_new)
            return h_new, None

        if row.family == "gru":
            zr = zx[:, 0:hs] + zh[:, 0:hs]
            zz = zx[:, hs:2 * hs] + zh[:, hs:2 * hs]
            r = torch.sigmoid(zr)
            z = torch.sigmoid(zz)
            n = torch.tanh(zx[:, 2 * hs:] + r * zh[:, 2 * hs:])
            h_new = (1 - z) * n + z * h
            for name, value in (("z_r", zr), ("z_z", zz), ("r", r), ("z", z), ("n", n),
                                ("h", h_new)):
                rec(name, value)
            return h_new, None

        # the LSTM family, every rule from the row: blocks, fixed / coupled gates, activations
        zsum = zx + zh
        pre = {name: zsum[:, k * hs:(k + 1) * hs] for k, name in enumerate(row.blocks)}
        assert c is not None
        if row.peephole:
            p = getattr(self, "weight_peephole" + sfx)
            pre["i"] = pre["i"] + p[0] * c
            pre["f"] = pre["f"] + p[1] * c
        one = torch.ones_like(c)
        i = torch.sigmoid(pre["i"]) if "i" in pre else one
        if row.coupled:
            f = 1 - i
        else:
            f = torch.sigmoid(pre["f"]) if "f" in pre else one
        g = _ACTIVATION[row.input_activation](pre["g"])
        c_new = f * c + i * g
        if row.peephole:
            pre["o"] = pre["o"] + p[2] * c_new
        o = torch.sigmoid(pre["o"]) if "o" in pre else one
        m = o * _ACTIVATION[row.output_activation](c_new)
        h_new = m @ getattr(self, "weight_hr" + sfx).T if self.proj_size else m
        for gate in ("i", "f", "g", "o"):
            if gate in pre:
                rec("z_" + gate, pre[gate])
        for name, value in (("i", i), ("f", f), ("g", g), ("o", o), ("c", c_new)):
            rec(name, value)
        if self.proj_size:
            rec("m", m)
        rec("h", h_new)
        return h_new, c_new

    def forward(self, x: torch.Tensor, hx=None):
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2-D (unbatched) or 3-D input, got {x.dim()}-D")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        steps, batch, _ = x.shape
        if x.shape[2] != self.input_size:
            raise ValueError(f"input size {x.shape[2]} != {self.input_size}")
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size or self.hidden_size
        n_states = self.num_layers * num_directions

        h0: torch.Tensor
        c0: torch.Tensor | None = None
        if hx is None:
            h0 = x.new_zeros(n_states, batch, real_hidden)
            if self.is_lstm:
                c0 = x.new_zeros(n_states, batch, self.hidden_size)
        else:
            if self.is_lstm:
                h0, c0 = hx
            else:
                h0 = hx
            if unbatched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            if tuple(h0.shape) != (n_states, batch, real_hidden):
                raise ValueError(f"h_0 has shape {tuple(h0.shape)}, "
                                 f"expected {(n_states, batch, real_hidden)}")
            if c0 is not None and tuple(c0.shape) != (n_states, batch, self.hidden_size):
                raise ValueError(f"c_0 has shape {tuple(c0.shape)}, "
                                 f"expected {(n_states, batch, self.hidden_size)}")

        layer_input = x
        h_finals: list[torch.Tensor] = []
        c_finals: list[torch.Tensor] = []
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction in range(num_directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                idx = layer * num_directions + direction
                h = h0[idx]
                c = c0[idx] if c0 is not None else None
                outs: list[torch.Tensor | None] = [None] * steps
                order = range(steps - 1, -1, -1) if direction else range(steps)
                for t in order:
                    def rec(name: str, value: torch.Tensor, _t: int = t, _l: int = layer,
                            _d: int = direction) -> None:
                        self._record(name, _l, _d, _t, steps, value)

                    h, c = self._cell(layer_input[t], h, c, sfx, rec)
                    outs[t] = h
                direction_outputs.append(torch.stack(outs))  # type: ignore[arg-type]
                h_finals.append(h)
                if c is not None:
                    c_finals.append(c)
            layer_input = torch.cat(direction_outputs, dim=2)

        output = layer_input
        h_n = torch.stack(h_finals)
        c_n = torch.stack(c_finals) if self.is_lstm else None
        if unbatched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        if self.is_lstm:
            return output, (h_n, c_n)
        return output, h_n


def _torch_class(variant: str) -> type[nn.Module] | None:
    """torch's own module for the variant (the row's ``torch_class``), or None."""
    name = variant_row(variant).torch_class
    return None if name is None else getattr(nn, name)


def make_torch_model(variant: str, input_size: int, hidden_size: int, num_layers: int = 1,
                     bias: bool = True, batch_first: bool = False, bidirectional: bool = False,
                     proj_size: int = 0, dtype: torch.dtype = torch.float32,
                     seed: int | None = None) -> nn.Module:
    """A torch module of the given variant: torch's own LSTM / GRU / RNN, else a ReferenceLSTM.

    ``seed`` makes the initialisation reproducible without touching torch's global RNG.
    """
    _check_config(variant, input_size, hidden_size, num_layers, proj_size)
    cls = _torch_class(variant)
    if cls is None:
        return ReferenceLSTM(variant, input_size, hidden_size, num_layers=num_layers, bias=bias,
                             batch_first=batch_first, bidirectional=bidirectional,
                             proj_size=proj_size, dtype=dtype, seed=seed)
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
                  bidirectional=bidirectional, dtype=dtype)
    if cls is nn.LSTM:
        kwargs["proj_size"] = proj_size
    if cls is nn.RNN:
        kwargs["nonlinearity"] = "tanh"
    module = cls(input_size, hidden_size, **kwargs)
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for _, param in module.named_parameters():
                param.uniform_(-bound, bound, generator=generator)
    return module


def torch_variant(module: nn.Module) -> str:
    """The SPEC variant name of a torch module (nn.LSTM / GRU / RNN or ReferenceLSTM)."""
    if isinstance(module, ReferenceLSTM):
        return module.variant
    if isinstance(module, nn.RNN) and module.nonlinearity != "tanh":
        raise ValueError("only tanh RNNs are supported")
    for cls_name, name in torch_variants().items():
        if isinstance(module, getattr(nn, cls_name)):
            return name
    raise TypeError(f"not a recurrent module: {type(module).__name__}")


def reference_from_torch(module: nn.Module) -> ReferenceLSTM:
    """A ReferenceLSTM with the same configuration, weights and dtype as ``module``."""
    variant = torch_variant(module)
    if isinstance(module, ReferenceLSTM):
        proj_size = module.proj_size
    else:
        proj_size = getattr(module, "proj_size", 0)
    dtype = next(module.parameters()).dtype
    ref = ReferenceLSTM(variant, module.input_size, module.hidden_size,
                        num_layers=module.num_layers, bias=module.bias,
                        batch_first=module.batch_first, bidirectional=module.bidirectional,
                        proj_size=proj_size, dtype=dtype)
    ref.load_state_dict(module.state_dict())
    return ref


@torch.no_grad()
def torch_loop_lstm_trace(module: nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Step a 1-layer unidirectional torch.nn.LSTM through ``x``, keeping i, f, g, o, c, h.

    The benchmark baseline: the input projection of every step is computed at once, then each
    step is one matmul and the gate nonlinearities, written into preallocated tensors. ``x`` is
    batched (3-D, ``module.batch_first`` honoured) or unbatched (2-D); the result holds tensors of
    shape (T, B, units), time-major, B = 1 for unbatched input (plus ``"m"`` with a projection).
    Initial state zero.
    """
    if not isinstance(module, nn.LSTM) or module.num_layers != 1 or module.bidirectional:
        raise ValueError("torch_loop_lstm_trace needs a 1-layer unidirectional torch.nn.LSTM")
    w_ih = module.weight_ih_l0
    w_hh = module.weight_hh_l0
    x = x.to(w_ih.dtype)
    if x.dim() == 2:
        x = x.unsqueeze(1)
    elif module.batch_first:
        x = x.transpose(0, 1)
    steps, batch, _ = x.shape
    hs = module.hidden_size
    proj = module.proj_size
    w_hr_t = module.weight_hr_l0.T if proj else None

    xw = x.reshape(steps * batch, -1) @ w_ih.T
    if module.bias:
        xw += module.bias_ih_l0 + module.bias_hh_l0
    xw = xw.reshape(steps, batch, 4 * hs)
    w_hh_t = w_hh.T.contiguous()

    new = x.new_empty
    i, f, g, o, c = (new(steps, batch, hs) for _ in range(5))
    h = new(steps, batch, proj or hs)
    m = new(steps, batch, hs) if proj else h
    h_prev = x.new_zeros(batch, proj or hs)
    c_prev = x.new_zeros(batch, hs)
    for t in range(steps):
        z = torch.addmm(xw[t], h_prev, w_hh_t)
        torch.sigmoid(z[:, 0:hs], out=i[t])
        torch.sigmoid(z[:, hs:2 * hs], out=f[t])
        torch.tanh(z[:, 2 * hs:3 * hs], out=g[t])
        torch.sigmoid(z[:, 3 * hs:], out=o[t])
        c_t = c[t]
        torch.mul(f[t], c_prev, out=c_t)
        c_t.addcmul_(i[t], g[t])
        m_t = m[t]
        torch.tanh(c_t, out=m_t)
        m_t.mul_(o[t])
        if proj:
            torch.mm(m_t, w_hr_t, out=h[t])
        h_prev = h[t]
        c_prev = c_t
    result = {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}
    if proj:
        result["m"] = m
    return result
