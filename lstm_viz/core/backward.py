"""Backpropagation through time for one layer and direction, for loss = Σ output · d_output.

Each function takes the forward quantities of ``forward.py`` and dY (T, B, R), the gradient that
reaches the layer's output h_t from above (or from the loss), and walks the steps in the opposite
order of the forward pass. It returns the parameter gradients (torch names without suffix), dX
(T, B, I) for the layer below, and the per-step totals dh (T, B, R) and dc (T, B, H).
"""

from __future__ import annotations

import numpy as np

from .activations import dsigmoid, dtanh
from .forward import Weights, _order
from .interventions import Override
from .variants import variant as variant_row


def shifted(a: np.ndarray, first: np.ndarray, reverse: bool) -> np.ndarray:
    """The previous step's value at every position: a_{t-1} (a_{t+1} when running in reverse)."""
    prev = np.empty_like(a)
    if reverse:
        prev[:-1], prev[-1] = a[1:], first
    else:
        prev[1:], prev[0] = a[:-1], first
    return prev


def _matmul_sum(dz: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Σ_t dz_t^T a_t over time and batch: (T, B, G), (T, B, K) -> (G, K)."""
    return dz.reshape(-1, dz.shape[-1]).T @ a.reshape(-1, a.shape[-1])


def _shared_grads(dZx: np.ndarray, dZh: np.ndarray, x: np.ndarray, h_prev: np.ndarray,
                  w: Weights) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of W_ih, W_hh, the biases and the layer input, from the pre-activation grads."""
    grads = {"weight_ih": _matmul_sum(dZx, x), "weight_hh": _matmul_sum(dZh, h_prev)}
    if w.bias_ih is not None:
        grads["bias_ih"] = dZx.sum(axis=(0, 1))
        grads["bias_hh"] = dZh.sum(axis=(0, 1))
    dX = dZx @ w.weight_ih                            # (T, B, G) @ (G, I)
    return grads, dX


def _kept(ov: dict[str, Override] | None, T: int) -> list[dict[str, np.ndarray] | None]:
    """Per position t: quantity -> 1 where the gradient flows on and 0 where an intervention set
    the value (a constant: nothing flows back through it), or None when nothing was set."""
    if not ov:
        return [None] * T
    keep = {k: o.keep for k, o in ov.items()}
    return [{k: keep[k][t] for k, o in ov.items() if o.any[t]} or None for t in range(T)]


def lstm_layer_backward(q: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                        dY: np.ndarray, w: Weights, variant: str, reverse: bool = False,
                        ov: dict[str, Override] | None = None):
    """BPTT through the LSTM family. q: the forward quantities of ``lstm_layer``; ``ov`` the
    interventions it ran with (their cells are constants)."""
    T, B, H = q["c"].shape
    row = variant_row(variant)
    blocks = row.blocks
    col = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(blocks)}
    i, f, g, o, c = q["i"], q["f"], q["g"], q["o"], q["c"]
    c_prev = shifted(c, c0, reverse)
    h_prev = shifted(q["h"], h0, reverse)
    linear_c = row.output_activation == "identity"
    act = c if linear_c else np.tanh(c)               # what o multiplies
    dact = np.ones_like(c) if linear_c else dtanh(act)
    dg_dz = np.ones_like(g) if row.input_activation == "identity" else dtanh(g)
    p_i, p_f, p_o = (None, None, None) if w.peephole is None else w.peephole

    dZ = np.zeros((T, B, len(blocks) * H), dtype=c.dtype)
    dH = np.empty_like(q["h"])
    dHp = dH if not ov else np.empty_like(dH)         # what flows on from h_t (W_hr's grad)
    dC = np.empty_like(c)
    dh_next = np.zeros_like(h0)                       # from step t+1 through W_hh
    dc_next = np.zeros_like(c0)                       # from step t+1 through f
    kept = _kept(ov, T)
    for t in reversed(_order(T, reverse)):
        k = kept[t]
        dh = dH[t] = dY[t] + dh_next
        if k is not None:
            dh = dHp[t] = dh * k["h"] if "h" in k else dh
        dm = dh @ w.weight_hr if w.weight_hr is not None else dh   # h = W_hr m
        if k is not None and "m" in k:
            dm = dm * k["m"]
        dc = dc_next + dm * o[t] * dact[t]            # m = o * tanh(c)
        dz = dZ[t]
        if "o" in col:
            dz[:, col["o"]] = dm * act[t] * dsigmoid(o[t])
            if k is not None and "o" in k:
                dz[:, col["o"]] *= k["o"]
            if p_o is not None:                       # z_o = ... + p_o c_t
                dc += dz[:, col["o"]] * p_o
        dC[t] = dc
        if k is not None and "c" in k:                # a set c_t: nothing flows into f, i, g, c
            dc = dc * k["c"]
        # c = f c_prev + i g
        if "i" in col:
            di = dc * g[t]
            if row.coupled:                           # f = 1 - i
                di -= dc * c_prev[t]
            dz[:, col["i"]] = di * dsigmoid(i[t])
        if "f" in col:
            dz[:, col["f"]] = dc * c_prev[t] * dsigmoid(f[t])
        dz[:, col["g"]] = dc * i[t] * dg_dz[t]
        if k is not None:                             # set gates are constants
            for gate in ("i", "f", "g"):
                if gate in k and gate in col:
                    dz[:, col[gate]] *= k[gate]
        dc_next = dc * f[t]
        if p_i is not None:                           # z_i, z_f = ... + p c_{t-1}
            dc_next = dc_next + dz[:, col["i"]] * p_i + dz[:, col["f"]] * p_f
        dh_next = dz @ w.weight_hh

    grads, dX = _shared_grads(dZ, dZ, x, h_prev, w)
    if w.weight_hr is not None:
        if dHp is not dH:                             # steps nothing was set at: all flows on
            none = np.array([kk is None for kk in kept])
            dHp[none] = dH[none]
        grads["weight_hr"] = _matmul_sum(dHp, q["m"])
    if w.peephole is not None:
        grads["peephole"] = np.stack([
            (dZ[:, :, col["i"]] * c_prev).sum(axis=(0, 1)),
            (dZ[:, :, col["f"]] * c_prev).sum(axis=(0, 1)),
            (dZ[:, :, col["o"]] * c).sum(axis=(0, 1)),
        ])
    return grads, dX, {"dh": dH, "dc": dC}


def gru_layer_backward(q: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray, dY: np.ndarray,
                       w: Weights, reverse: bool = False, ov: dict[str, Override] | None = None):
    """BPTT through torch.nn.GRU. q: the forward quantities of ``gru_layer``; ``ov`` the
    interventions it ran with (their cells are constants)."""
    T, B, H = q["h"].shape
    r, z, n, hn = q["r"], q["z"], q["n"], q["hn"]
    h_prev = shifted(q["h"], h0, reverse)
    dZx = np.empty((T, B, 3 * H), dtype=hn.dtype)     # grads of W_i* x + b_i*
    dZh = np.empty_like(dZx)                          # grads of W_h* h + b_h*
    dH = np.empty_like(q["h"])
    dh_next = np.zeros_like(h0)
    kept = _kept(ov, T)
    for t in reversed(_order(T, reverse)):
        k = kept[t]
        dh = dH[t] = dY[t] + dh_next
        if k is not None and "h" in k:                # a set h_t: nothing flows into z, n, h
            dh = dh * k["h"]
        dzn = dh * (1.0 - z[t]) * dtanh(n[t])         # h = (1 - z) n + z h_prev
        dzz = dh * (h_prev[t] - n[t]) * dsigmoid(z[t])
        if k is not None:                             # set gates are constants
            dzn = dzn * k["n"] if "n" in k else dzn
            dzz = dzz * k["z"] if "z" in k else dzz
        dzr = dzn * hn[t] * dsigmoid(r[t])            # n = tanh(x_n + r hn)
        if k is not None and "r" in k:
            dzr = dzr * k["r"]
        dZx[t, :, :H], dZx[t, :, H : 2 * H], dZx[t, :, 2 * H :] = dzr, dzz, dzn
        dZh[t, :, :H], dZh[t, :, H : 2 * H], dZh[t, :, 2 * H :] = dzr, dzz, dzn * r[t]
        dh_next = dh * z[t] + dZh[t] @ w.weight_hh
    grads, dX = _shared_grads(dZx, dZh, x, h_prev, w)
    return grads, dX, {"dh": dH}


def rnn_layer_backward(q: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray, dY: np.ndarray,
                       w: Weights, reverse: bool = False, ov: dict[str, Override] | None = None):
    """BPTT through torch.nn.RNN (tanh). q: the forward quantities of ``rnn_layer``; ``ov`` the
    interventions it ran with."""
    h = q["h"]
    h_prev = shifted(h, h0, reverse)
    dZ = np.empty_like(h)
    dH = np.empty_like(h)
    dh_next = np.zeros_like(h0)
    kept = _kept(ov, h.shape[0])
    for t in reversed(_order(h.shape[0], reverse)):
        dh = dH[t] = dY[t] + dh_next
        if kept[t] is not None:                       # a set h_t is a constant
            dh = dh * kept[t]["h"]
        dZ[t] = dh * dtanh(h[t])                      # h = tanh(z)
        dh_next = dZ[t] @ w.weight_hh
    grads, dX = _shared_grads(dZ, dZ, x, h_prev, w)
    return grads, dX, {"dh": dH}
