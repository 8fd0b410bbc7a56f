"""Contextual decomposition (Murdoch, Liu & Yu 2018, "Beyond word importance") for the LSTM family.

The score ``weight · output[step]`` (as SPEC §6: the last layer, both directions concatenated, no
head bias) is split into ``beta``, the part that comes from the input steps ``start..stop`` (the
"phrase"), and ``gamma``, the rest, with ``beta + gamma == score`` up to float rounding.

Every state is carried as two parts, relevant (phrase) and irrelevant (rest), starting from zero.
A gate's pre-activation splits linearly into its relevant part, its irrelevant part and its bias;
the gate itself is split by the Shapley linearisation over those three (``_three``, after
``propagate_three`` in the authors' code, github.com/jamie-murdoch/ContextualDecomposition).
The cell update follows the paper: the products of relevant parts with relevant or bias parts are
relevant; the bias·bias product is relevant inside the phrase and irrelevant outside; every
product with an irrelevant part is irrelevant; the forget gate carries the relevant cell with its
relevant and bias parts. ``h = o ⊙ L_tanh(c)`` with ``L_tanh`` the two-way Shapley split and the
output gate taken whole, as the authors' code does.

The cell is read from the variant table's row: a fixed gate is a constant 1 (a bias part), a
coupled forget gate is ``1 − i`` (parts ``−i_rel, −i_irr, 1 − i_bias``), a peephole ``p ⊙ c``
splits with ``c``'s parts, an identity activation splits linearly, and the projection
``h = W_hr m`` is linear. Layer k's parts of h are layer k+1's parts of the input; the reverse
direction runs the same way backwards in time. NumPy only; in the model's dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lstm_viz.core import Recurrent
from lstm_viz.core.activations import sigmoid
from lstm_viz.core.forward import Weights
from lstm_viz.core.variants import Variant
from lstm_viz.core.variants import variant as variant_row
from lstm_viz.errors import InputError

MEANING = ("the part of the score that comes from each step alone, with interactions assigned by "
           "Murdoch et al.'s rule; the parts add up to the score exactly")
# The per-step strip runs T phrases as T batch rows over T steps: refused past this much work
# (multiply-adds; at the cap, 4-15 s on a busy 2-core machine) and in chunks of bounded memory.
MAX_STRIP_WORK = 4_000_000_000
ELEMENTWISE = 200       # the cost of a cell unit's ~60 elementwise operations, in multiply-adds
MAX_CHUNK_VALUES = 20_000_000
# A chunk's per-step product h W_hh^T stays under this many multiply-adds: OpenBLAS runs one
# of 2^19 or more on several threads, which on a busy machine made the strip 10-30× slower.
STEP_PRODUCT = 500_000

Act = Callable[[np.ndarray], np.ndarray]


def _identity(z: np.ndarray) -> np.ndarray:
    return z


ACTS: dict[str, Act] = {"tanh": np.tanh, "identity": _identity}


def refusal(model: Recurrent) -> str | None:
    """The one sentence why contextual decomposition does not apply to ``model``, or None."""
    family = variant_row(model.config.variant).family
    if family == "lstm":
        return None
    what = {"gru": "a GRU", "rnn": "a plain RNN"}.get(family, f"a {family}")
    return (f"contextual decomposition is defined for the LSTM family; this model is {what}: "
            "use integrated gradients")


def _three(a: np.ndarray, b: np.ndarray, c: np.ndarray,
           act: Act) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapley split of act(a + b + c) over {a, b, c} with c (the bias) always present first:
    (a's part, b's part, act(c)); the three add up to act(a + b + c)."""
    if act is _identity:
        return a, b, np.broadcast_to(c, a.shape)
    ac, bc, abc = act(a + c), act(b + c), act(a + b + c)
    cc = act(c)
    return 0.5 * ((ac - cc) + (abc - bc)), 0.5 * ((bc - cc) + (abc - ac)), np.broadcast_to(
        cc, a.shape)


def _two(a: np.ndarray, b: np.ndarray, act: Act) -> tuple[np.ndarray, np.ndarray]:
    """Shapley split of act(a + b) over {a, b}: the two parts add up to act(a + b)."""
    if act is _identity:
        return a, b
    ta, tb, tab = act(a), act(b), act(a + b)
    return 0.5 * (ta + (tab - tb)), 0.5 * (tb + (tab - ta))


def _direction(rel_x: np.ndarray, irr_x: np.ndarray, phrase: np.ndarray, w: Weights,
               row: Variant, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """One layer and direction: input parts (T, B, I) -> h parts (T, B, R), by position."""
    T, B, _ = rel_x.shape
    blocks = row.blocks
    H = w.weight_hh.shape[0] // len(blocks)
    R = w.weight_hh.shape[1]
    dt = rel_x.dtype
    at = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(blocks)}
    Wih_T, Whh_T = w.weight_ih.T, w.weight_hh.T
    Whr_T = None if w.weight_hr is None else w.weight_hr.T
    bias = (np.zeros(w.weight_hh.shape[0], dtype=dt) if w.bias_ih is None
            else w.bias_ih + w.bias_hh)
    peep = dict(zip("ifo", w.peephole, strict=True)) if w.peephole is not None else {}
    Zr = (rel_x.reshape(T * B, -1) @ Wih_T).reshape(T, B, -1)    # the inputs' part, all steps
    Zi = (irr_x.reshape(T * B, -1) @ Wih_T).reshape(T, B, -1)
    g_act, c_act = ACTS[row.input_activation], ACTS[row.output_activation]
    zeros, ones = np.zeros((B, H), dtype=dt), np.ones((B, H), dtype=dt)
    out_r, out_i = np.empty((T, B, R), dtype=dt), np.empty((T, B, R), dtype=dt)
    hr, hi = np.zeros((B, R), dtype=dt), np.zeros((B, R), dtype=dt)
    cr, ci = zeros, zeros
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        zr, zi = Zr[t] + hr @ Whh_T, Zi[t] + hi @ Whh_T

        def gate(k: str, act: Act, cell_r: np.ndarray, cell_i: np.ndarray, zr=zr, zi=zi):
            if k in row.fixed:                        # a fixed gate: the constant 1
                return zeros, zeros, ones
            a, b = zr[:, at[k]], zi[:, at[k]]
            if k in peep:                             # p ⊙ c splits with c's parts
                a, b = a + peep[k] * cell_r, b + peep[k] * cell_i
            return _three(a, b, bias[at[k]], act)

        ri, ii, bi = gate("i", sigmoid, cr, ci)
        if row.coupled:                               # f = 1 − i
            rf, if_, bf = -ri, -ii, 1.0 - bi
        else:
            rf, if_, bf = gate("f", sigmoid, cr, ci)
        rg, ig, bg = gate("g", g_act, cr, ci)
        both = bi * bg
        inside = phrase[t][:, None]
        new_r = ri * (rg + bg) + bi * rg + (rf + bf) * cr + np.where(inside, both, 0)
        new_i = (ii * (rg + ig + bg) + (ri + bi) * ig + (rf + if_ + bf) * ci + if_ * cr
                 + np.where(inside, 0, both))
        cr, ci = new_r, new_i
        if "o" not in row.fixed:                      # the output gate, whole
            z_o = zr[:, at["o"]] + zi[:, at["o"]] + bias[at["o"]]
            if "o" in peep:
                z_o = z_o + peep["o"] * (cr + ci)
            o = sigmoid(z_o)
        else:
            o = ones
        mr, mi = _two(cr, ci, c_act)
        mr, mi = o * mr, o * mi
        if Whr_T is not None:
            mr, mi = mr @ Whr_T, mi @ Whr_T
        out_r[t], out_i[t] = mr, mi
        hr, hi = mr, mi
    return out_r, out_i


def _check(model: Recurrent, x: Any, step: int, weight: Any) -> tuple[np.ndarray, int, np.ndarray]:
    why = refusal(model)
    if why is not None:
        raise InputError(why[0].upper() + why[1:] + ".")
    x = np.asarray(x, dtype=model.dtype)
    if x.ndim != 2 or x.shape[1] != model.input_size or x.shape[0] == 0:
        raise InputError(f"x must be one sequence (T, {model.input_size}), got shape {x.shape}.")
    T = x.shape[0]
    if not 0 <= int(step) < T:
        raise InputError(f"Step {step} is outside the sequence (0 to {T - 1}); pick one inside.")
    c = model.config
    weight = np.asarray(weight, dtype=model.dtype)
    size = c.num_directions * c.real_hidden_size
    if weight.shape != (size,):
        raise InputError(f"weight must have the output's size ({size},), got {weight.shape}.")
    return x, int(step), weight


def _decompose(model: Recurrent, x: np.ndarray, phrase: np.ndarray, step: int,
               weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(beta, gamma) of each batch row; ``phrase`` (T, B) marks each row's phrase steps."""
    cfg = model.config
    row = variant_row(cfg.variant)
    if not cfg.bidirectional:                         # causal: later steps cannot matter
        x, phrase = x[:step + 1], phrase[:step + 1]
    inside = phrase[:, :, None]
    rel, irr = np.where(inside, x[:, None, :], 0), np.where(inside, 0, x[:, None, :])
    for layer in range(cfg.num_layers):
        parts = [_direction(rel, irr, phrase, model.weights(layer, d), row, d == 1)
                 for d in range(cfg.num_directions)]
        rel = np.concatenate([p[0] for p in parts], axis=2)
        irr = np.concatenate([p[1] for p in parts], axis=2)
    return rel[step] @ weight, irr[step] @ weight


def contextual_decomposition(model: Recurrent, x: Any, start: int, stop: int, step: int,
                             weight: Any) -> tuple[float, float]:
    """(beta, gamma): the score ``weight · output[step]`` of one sequence ``x`` (T, input_size)
    split into the part from steps ``start..stop`` (inclusive) and the rest; they add up to the
    score. ``InputError`` (one sentence) for a GRU or RNN, or bad arguments."""
    x, step, weight = _check(model, x, step, weight)
    T = x.shape[0]
    start, stop = int(start), int(stop)
    if not 0 <= start <= stop < T:
        raise InputError(f"The phrase {start}..{stop} must lie inside the sequence (0 to "
                         f"{T - 1}) with start ≤ stop.")
    phrase = np.zeros((T, 1), dtype=bool)
    phrase[start:stop + 1] = True
    beta, gamma = _decompose(model, x, phrase, step, weight)
    return float(beta[0]), float(gamma[0])


def strip_work(model: Recurrent, steps: int) -> int:
    """About how many multiply-adds the per-step strip of a ``steps``-long sequence costs."""
    c = model.config
    per = sum(c.gate_rows * (c.layer_input_size(k) + c.real_hidden_size) * 2
              + ELEMENTWISE * c.hidden_size for k in range(c.num_layers)) * c.num_directions
    return steps * steps * per


def strip_parts(model: Recurrent, x: Any, step: int, weight: Any) -> tuple[np.ndarray, np.ndarray]:
    """(beta, gamma), each (T,): element t decomposes the score with the phrase = step t alone,
    so beta[t] + gamma[t] == score for every t. The T phrases run as batch rows, in chunks."""
    x, step, weight = _check(model, x, step, weight)
    T = x.shape[0]
    n = T if model.bidirectional else step + 1        # later steps: beta 0 (causal)
    if strip_work(model, n) > MAX_STRIP_WORK:
        most = max(1, int(np.sqrt(MAX_STRIP_WORK / max(1, strip_work(model, 1)))))
        raise InputError(f"The per-step decomposition of {n:,} steps is too much work here; "
                         f"use a sequence (or target step) of at most {most:,} "
                         f"step{'s' * (most != 1)}.")
    c = model.config
    widest = max(c.layer_input_size(k) for k in range(c.num_layers))
    per_row = n * (2 * widest + 2 * c.gate_rows + 4 * c.num_directions * c.real_hidden_size)
    chunk = max(1, min(MAX_CHUNK_VALUES // max(1, per_row),
                       STEP_PRODUCT // (c.gate_rows * c.real_hidden_size)))
    beta = np.zeros(T, dtype=model.dtype)
    gamma = np.zeros(T, dtype=model.dtype)
    for lo in range(0, n, chunk):
        rows = np.arange(lo, min(n, lo + chunk))
        phrase = np.arange(T)[:, None] == rows[None, :]
        beta[rows], gamma[rows] = _decompose(model, x, phrase, step, weight)
    if n < T:
        gamma[n:] = beta[0] + gamma[0]                # the whole score is the rest's
    return beta, gamma


def decomposition_strip(model: Recurrent, x: Any, step: int, weight: Any) -> np.ndarray:
    """(T,): the beta of each single input step (phrase = that step alone)."""
    return strip_parts(model, x, step, weight)[0]
