"""One layer, one direction, a whole sequence: the forward loops of the LSTM family, GRU and RNN.

Every function takes time-major arrays and returns the per-step quantities as arrays (T, B, units)
indexed by position in the sequence, also when it runs backwards in time (``reverse=True``).

Speed: the input projection ``x W_ih^T + b`` of all steps is one matrix product before the loop;
inside the loop each step is a handful of ufuncs writing into preallocated arrays (``out=``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .variants import BLOCKS


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


def lstm_layer(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, w: Weights, variant: str,
               reverse: bool = False) -> dict[str, np.ndarray]:
    """Run the LSTM family over a sequence.

    x: (T, B, I), h0: (B, R), c0: (B, H). Returns i, f, g, o, c, h (and m with a projection) and
    the pre-activations z_<gate> of the variant's blocks, each (T, B, units). A gate the variant
    lacks holds its constant (cifg: f = 1 - i; nig: i = 1; nfg: f = 1; nog: o = 1).
    """
    T, B, _ = x.shape
    H = c0.shape[1]
    blocks = BLOCKS[variant]
    col = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(blocks)}
    has_i, has_f, has_o = "i" in col, "f" in col, "o" in col
    peephole, cifg = variant == "peephole", variant == "cifg"
    sigmoid_rows = slice(0, 2 * H) if peephole else slice(0, len(blocks) * H)

    Z = w.input_projection(x)                         # (T, B, G): x-part of every pre-activation
    A = np.empty_like(Z)                              # (T, B, G): the gates after σ / tanh
    C = np.empty((T, B, H), dtype=x.dtype)            # cell state c_t
    R = w.weight_hh.shape[1]
    Hs = np.empty((T, B, R), dtype=x.dtype)           # hidden state h_t
    M = np.empty((T, B, H), dtype=x.dtype) if w.weight_hr is not None else Hs

    Whh_T = np.ascontiguousarray(w.weight_hh.T)       # (R, G)
    Whr_T = None if w.weight_hr is None else np.ascontiguousarray(w.weight_hr.T)
    p_i, p_f, p_o = (None, None, None) if w.peephole is None else w.peephole
    hz = np.empty((B, Z.shape[2]), dtype=x.dtype)     # scratch: W_hh h_{t-1}
    ig = np.empty((B, H), dtype=x.dtype)              # scratch: i * g
    tc = np.empty((B, H), dtype=x.dtype)              # scratch: tanh(c_t)
    dot, add, mul, tanh = np.dot, np.add, np.multiply, np.tanh

    h, c = h0, c0
    for t in _order(T, reverse):
        z, a, c_t, m_t = Z[t], A[t], C[t], M[t]
        dot(h, Whh_T, out=hz)
        add(z, hz, out=z)                             # z = W_ih x + b_ih + W_hh h + b_hh
        if peephole:                                  # z_i += p_i c_{t-1},  z_f += p_f c_{t-1}
            z[:, col["i"]] += p_i * c
            z[:, col["f"]] += p_f * c
        s = a[:, sigmoid_rows]                        # σ(z) = 0.5 tanh(z/2) + 0.5, all at once
        mul(z[:, sigmoid_rows], 0.5, out=s)
        tanh(s, out=s)
        mul(s, 0.5, out=s)
        add(s, 0.5, out=s)
        g = a[:, col["g"]]
        if variant == "niaf":                         # g = z_g
            g[...] = z[:, col["g"]]
        else:                                         # g = tanh(z_g)
            tanh(z[:, col["g"]], out=g)
        # c_t = f * c_{t-1} + i * g
        if has_f:
            mul(a[:, col["f"]], c, out=c_t)
        elif cifg:                                    # f = 1 - i
            mul(1.0 - a[:, col["i"]], c, out=c_t)
        else:                                         # nfg: f = 1
            c_t[...] = c
        if has_i:
            mul(a[:, col["i"]], g, out=ig)
            add(c_t, ig, out=c_t)
        else:                                         # nig: i = 1
            add(c_t, g, out=c_t)
        if peephole:                                  # z_o += p_o c_t, then o = σ(z_o)
            z_o, o = z[:, col["o"]], a[:, col["o"]]
            z_o += p_o * c_t
            mul(z_o, 0.5, out=o)
            tanh(o, out=o)
            mul(o, 0.5, out=o)
            add(o, 0.5, out=o)
        # h_t = o * tanh(c_t)   (noaf: o * c_t; nog: o = 1), then the projection h_t = W_hr m_t
        act = c_t if variant == "noaf" else tanh(c_t, out=tc)
        if has_o:
            mul(a[:, col["o"]], act, out=m_t)
        else:
            m_t[...] = act
        if Whr_T is not None:
            dot(m_t, Whr_T, out=Hs[t])
        h, c = Hs[t], c_t

    out = {k: A[:, :, col[k]] for k in blocks}
    out.update({f"z_{k}": Z[:, :, col[k]] for k in blocks})
    if cifg:
        out["f"] = 1.0 - out["i"]
    for k in ("i", "f", "o"):
        out.setdefault(k, np.ones((T, B, H), dtype=x.dtype))
    out["c"], out["h"] = C, Hs
    if w.weight_hr is not None:
        out["m"] = M
    return out


def gru_layer(x: np.ndarray, h0: np.ndarray, w: Weights, reverse: bool = False
              ) -> dict[str, np.ndarray]:
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

    h = h0
    for t in _order(T, reverse):
        zx, a, h_t = Zx[t], A[t], Hs[t]
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
        HN[t] = hh[:, 2 * H :]
        mul(r, HN[t], out=n)                          # n = tanh(W_in x + b_in + r (W_hn h + b_hn))
        add(n, zx[:, 2 * H :], out=n)
        tanh(n, out=n)
        sub(h, n, out=h_t)                            # h_t = n + z (h_{t-1} - n)
        mul(h_t, z, out=h_t)
        add(h_t, n, out=h_t)
        h = h_t
    return {"r": A[:, :, :H], "z": A[:, :, H : 2 * H], "n": A[:, :, 2 * H :], "h": Hs, "hn": HN}


def rnn_layer(x: np.ndarray, h0: np.ndarray, w: Weights, reverse: bool = False
              ) -> dict[str, np.ndarray]:
    """torch.nn.RNN (tanh): h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
    x: (T, B, I), h0: (B, H). Returns h (T, B, H)."""
    T = x.shape[0]
    Hs = w.input_projection(x)                        # (T, B, H), becomes h in place
    Whh_T = np.ascontiguousarray(w.weight_hh.T)
    hz = np.empty_like(h0)
    h = h0
    for t in _order(T, reverse):
        h_t = Hs[t]
        np.dot(h, Whh_T, out=hz)
        np.add(h_t, hz, out=h_t)
        np.tanh(h_t, out=h_t)
        h = h_t
    return {"h": Hs}
