"""One layer, one direction, a whole sequence: the forward loops of the LSTM family, GRU and RNN.

Every function takes time-major arrays and returns the per-step quantities as arrays (T, B, units)
indexed by position in the sequence, also when it runs backwards in time (``reverse=True``).

Speed: the input projection ``x W_ih^T + b`` of all steps is one matrix product before the loop;
inside the loop each step is a handful of ufuncs writing into preallocated arrays (``out=``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .interventions import Override
from .variants import variant as variant_row


@dataclass(frozen=True)
class Weights:
    """The parameters of one layer and direction (torch names without the suffix)."""

    weight_ih: np.ndarray                 # (G, I), G = blocks * hidden
    weight_hh: np.ndarray                 # (G, R), R = proj_size or hidden
    bias_ih: np.ndarray | None = None     # (G,)
    bias_hh: np.ndarray | None = None     # (G,)
    weight_hr: np.ndarray | None = None   # (P, H)     proj_size > 0
    peephole: np.ndarray | None = None    # (3, H)     rows p_i, p_f, p_o

    def input_projection(self, x: np.ndarray, with_hh_bias: bool = True) -> np.ndarray:
        """z_x[t] = W_ih x_t + b_ih (+ b_hh) for all steps at once: (T, B, I) -> (T, B, G)."""
        T, B, _ = x.shape
        z = (x.reshape(T * B, -1) @ self.weight_ih.T).reshape(T, B, -1)
        if self.bias_ih is not None:
            z += self.bias_ih
            if with_hh_bias:
                z += self.bias_hh
        return z


def _order(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _per_step(ov: dict[str, Override] | None, T: int, reverse: bool) -> Any:
    """Per step (in the loop's order): {quantity: (mask, values)} of what an intervention sets
    there, or None; all None without interventions (the loop then only tests ``is not None``)."""
    if not ov:
        return np.broadcast_to(None, (T,))
    steps = [{k: o.at(t) for k, o in ov.items() if o.any[t]} or None for t in range(T)]
    return steps[::-1] if reverse else steps


def _set(a: np.ndarray, s: dict, name: str) -> None:
    """Overwrite the intervened cells of quantity ``name`` (this step's ``a``) in place."""
    if name in s:
        np.copyto(a, s[name][1], where=s[name][0])


def lstm_layer(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, w: Weights, variant: str,
               reverse: bool = False, ov: dict[str, Override] | None = None
               ) -> dict[str, np.ndarray]:
    """Run the LSTM family over a sequence.

    x: (T, B, I), h0: (B, R), c0: (B, H). Returns i, f, g, o, c, h (and m with a projection) and
    the pre-activations z_<gate> of the variant's blocks, each (T, B, units). A gate the variant
    lacks holds its constant (``coupled``: f = 1 - i; ``fixed`` gates: 1). Every rule comes from
    the variant's row of the table (``fixed``, ``coupled``, the activations, ``peephole``).

    Inside the loop the gate rows are reordered so that the σ gates (i, f, o) come first and g last,
    and the σ rows are scaled by 1/2 (exact in floating point): then one ``tanh`` over the whole
    row gives tanh(z/2) for the σ gates and tanh(z_g) for g, and σ(z) = 0.5 tanh(z/2) + 0.5.

    ``ov``: interventions (SPEC §5), quantity -> ``Override``; each is applied right after its
    quantity is computed, so everything downstream reads the overwritten value.
    """
    T, B, _ = x.shape
    H = c0.shape[1]
    R = w.weight_hh.shape[1]
    dt = x.dtype
    row = variant_row(variant)
    blocks = row.blocks
    sig = [k for k in ("i", "f", "o") if k in blocks]
    order = [*sig, "g"]                               # internal row order: σ gates, then g
    col = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(order)}
    S = len(sig) * H                                  # rows [:S] are σ gates
    rows = np.concatenate([np.arange(blocks.index(k) * H, (blocks.index(k) + 1) * H)
                           for k in order])
    scale = np.ones(len(rows), dtype=dt)
    scale[:S] = 0.5
    b = None if w.bias_ih is None else (w.bias_ih + w.bias_hh)[rows] * scale
    Wih_T = np.ascontiguousarray((w.weight_ih[rows] * scale[:, None]).T)
    Whh_T = np.ascontiguousarray((w.weight_hh[rows] * scale[:, None]).T)
    Whr_T = None if w.weight_hr is None else np.ascontiguousarray(w.weight_hr.T)

    # z_x = W_ih x + b_ih + b_hh for all steps at once (σ rows halved)
    Z = (x.reshape(T * B, -1) @ Wih_T).reshape(T, B, -1)
    if b is not None:
        Z += b
    A = np.empty_like(Z)                              # gates after σ / tanh
    C = np.empty((T, B, H), dtype=dt)                 # cell state c_t
    Hs = np.empty((T, B, R), dtype=dt)                # hidden state h_t
    M = np.empty((T, B, H), dtype=dt) if Whr_T is not None else Hs   # o * tanh(c_t)
    hz = np.empty((B, Z.shape[2]), dtype=dt)          # scratch: W_hh h_{t-1}
    ig = np.empty((B, H), dtype=dt)                   # scratch: i * g
    tc = np.empty((B, H), dtype=dt)                   # scratch: tanh(c_t)
    if w.peephole is not None:
        p_i, p_f, p_o = 0.5 * w.peephole              # halved like the σ rows
        pc = np.empty((B, H), dtype=dt)

    def per_gate(a: np.ndarray, k: str) -> np.ndarray | None:
        return a[:, :, col[k]] if k in col else None

    A_s, Z_g, A_i, A_f, A_g, A_o, Z_i, Z_f, Z_o = (
        A[:, :, :S], per_gate(Z, "g"), *(per_gate(A, k) for k in "ifgo"),
        *(per_gate(Z, k) for k in "ifo"))
    per_step = [Z, A, A_s, Z_g, A_i, A_f, A_g, A_o, Z_i, Z_f, Z_o, C, M, Hs]
    per_step = [np.broadcast_to(None, (T,)) if a is None else a for a in per_step]
    if reverse:
        per_step = [a[::-1] for a in per_step]
    per_step.append(_per_step(ov, T, reverse))

    dot, add, mul, tanh = np.dot, np.add, np.multiply, np.tanh
    peephole, coupled = row.peephole, row.coupled
    linear_g, linear_c = row.input_activation == "identity", row.output_activation == "identity"
    one_i, one_f, one_o = ("i" in row.fixed), ("f" in row.fixed), ("o" in row.fixed)
    h, c = h0, c0
    for z, a, a_s, z_g, i, f, g, o, z_i, z_f, z_o, c_t, m_t, h_t, s in zip(*per_step,
                                                                           strict=True):
        dot(h, Whh_T, out=hz)
        add(z, hz, out=z)                             # z = W_ih x + b_ih + W_hh h + b_hh
        if peephole:                                  # z_i += p_i c_{t-1},  z_f += p_f c_{t-1}
            add(z_i, mul(p_i, c, out=pc), out=z_i)
            add(z_f, mul(p_f, c, out=pc), out=z_f)
        tanh(z, out=a)                                # tanh(z/2) for σ rows, tanh(z_g) for g
        mul(a_s, 0.5, out=a_s)                        # σ(z) = 0.5 tanh(z/2) + 0.5
        add(a_s, 0.5, out=a_s)
        if linear_g:                                  # g = z_g
            g[...] = z_g
        if s is not None:                             # interventions: the gates entering c_t
            for k, gate in (("i", i), ("f", f), ("g", g)):
                _set(gate, s, k)
        # c_t = f * c_{t-1} + i * g
        if coupled:                                   # f = 1 - i:  c_t = c + i (g - c)
            add(c, mul(i, g - c, out=ig), out=c_t)
        elif one_i:                                   # i = 1 (and f = 1: c_t = c + g)
            add(c if one_f else mul(f, c, out=c_t), g, out=c_t)
        elif one_f:                                   # f = 1
            add(c, mul(i, g, out=ig), out=c_t)
        else:
            add(mul(f, c, out=c_t), mul(i, g, out=ig), out=c_t)
        if s is not None:                             # interventions: c_t, before tanh, z_o
            _set(c_t, s, "c")
        if peephole:                                  # z_o += p_o c_t, then o = σ(z_o)
            add(z_o, mul(p_o, c_t, out=pc), out=z_o)
            tanh(z_o, out=o)
            mul(o, 0.5, out=o)
            add(o, 0.5, out=o)
        if s is not None:
            _set(o, s, "o")
        # h_t = o * tanh(c_t)   (identity: o * c_t; o fixed: o = 1), then h_t = W_hr m_t
        act = c_t if linear_c else tanh(c_t, out=tc)
        if one_o:
            m_t[...] = act
        else:
            mul(o, act, out=m_t)
        if Whr_T is not None:
            if s is not None:
                _set(m_t, s, "m")
            dot(m_t, Whr_T, out=h_t)
        if s is not None:                             # interventions: h_t, before what reads it
            _set(h_t, s, "h")
        h, c = h_t, c_t

    Z[:, :, :S] *= 2.0                                # undo the halving: the real z of σ gates
    out = {k: A[:, :, col[k]] for k in blocks}
    out.update({f"z_{k}": Z[:, :, col[k]] for k in blocks})
    if coupled:
        out["f"] = 1.0 - out["i"]
    for k in ("i", "f", "o"):
        out.setdefault(k, np.ones((T, B, H), dtype=dt))
    out["c"], out["h"] = C, Hs
    if Whr_T is not None:
        out["m"] = M
    return out


def gru_layer(x: np.ndarray, h0: np.ndarray, w: Weights, reverse: bool = False,
              ov: dict[str, Override] | None = None) -> dict[str, np.ndarray]:
    """torch.nn.GRU over a sequence: r, z = σ(...), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}.  x: (T, B, I), h0: (B, H). Returns r, z, n, h (T, B, H) and the
    recurrent part of n, ``hn`` = W_hn h_{t-1} + b_hn, which BPTT needs."""
    T, B, _ = x.shape
    H = h0.shape[1]
    Zx = w.input_projection(x, with_hh_bias=False)    # (T, B, 3H)
    A = np.empty_like(Zx)                             # r, z, n
    HN = np.empty((T, B, H), dtype=x.dtype)
    Hs = np.empty((T, B, H), dtype=x.dtype)
    Whh_T = np.ascontiguousarray(w.weight_hh.T)
    b_hh = w.bias_hh
    hh = np.empty((B, 3 * H), dtype=x.dtype)
    dot, add, sub, mul, tanh = np.dot, np.add, np.subtract, np.multiply, np.tanh

    sets = _per_step(ov, T, False)                    # indexed by position t here
    h = h0
    for t in _order(T, reverse):
        zx, a, h_t, s = Zx[t], A[t], Hs[t], sets[t]
        dot(h, Whh_T, out=hh)
        if b_hh is not None:
            add(hh, b_hh, out=hh)
        rz = a[:, : 2 * H]                            # r, z = σ(W_i x + b_i + W_h h + b_h)
        add(zx[:, : 2 * H], hh[:, : 2 * H], out=rz)
        mul(rz, 0.5, out=rz)
        tanh(rz, out=rz)
        mul(rz, 0.5, out=rz)
        add(rz, 0.5, out=rz)
        r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
        if s is not None:                             # interventions: r before n, z before h
            _set(r, s, "r")
            _set(z, s, "z")
        HN[t] = hh[:, 2 * H :]
        mul(r, HN[t], out=n)                          # n = tanh(W_in x + b_in + r (W_hn h + b_hn))
        add(n, zx[:, 2 * H :], out=n)
        tanh(n, out=n)
        if s is not None:
            _set(n, s, "n")
        sub(h, n, out=h_t)                            # h_t = n + z (h_{t-1} - n)
        mul(h_t, z, out=h_t)
        add(h_t, n, out=h_t)
        if s is not None:
            _set(h_t, s, "h")
        h = h_t
    return {"r": A[:, :, :H], "z": A[:, :, H : 2 * H], "n": A[:, :, 2 * H :], "h": Hs, "hn": HN}


def rnn_layer(x: np.ndarray, h0: np.ndarray, w: Weights, reverse: bool = False,
              ov: dict[str, Override] | None = None) -> dict[str, np.ndarray]:
    """torch.nn.RNN (tanh): h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
    x: (T, B, I), h0: (B, H). Returns h (T, B, H)."""
    T = x.shape[0]
    Hs = w.input_projection(x)                        # (T, B, H), becomes h in place
    Whh_T = np.ascontiguousarray(w.weight_hh.T)
    hz = np.empty_like(h0)
    sets = _per_step(ov, T, False)                    # indexed by position t here
    h = h0
    for t in _order(T, reverse):
        h_t = Hs[t]
        np.dot(h, Whh_T, out=hz)
        np.add(h_t, hz, out=h_t)
        np.tanh(h_t, out=h_t)
        if sets[t] is not None:
            _set(h_t, sets[t], "h")
        h = h_t
    return {"h": Hs}
