"""A recurrent layer's configuration read off its tensor names and shapes (SPEC §2), and the limits
on an uploaded model.

`infer_config` checks every tensor against the shapes the core expects of the configuration
(`lstm_viz.core.param_shapes`); `fitting_variants` lists every variant of the table the tensors
fit (the file cannot tell the variants with the same weights apart).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_viz.core import TABLE, VARIANTS, Config, param_shapes
from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    MAX_UPLOAD_BYTES,
    NAME_LIMIT,
    SAVE_HINT,
    out_of_range,
    quote,
    shape_of,
)

# Largest |weight| of an uploaded model. Trained LSTM weights are rarely above 100; with weights
# and inputs both within 1e6, no sum in the core comes near float32's overflow.
MAX_ABS_WEIGHT = 1e6

# Limits on an uploaded model, from what one step may cost. One step of one layer and direction
# is a matrix-vector product over all its weights: about 2 flops per weight, 2·G·H·(I + R) for G
# gate blocks of H units (4 for an LSTM: ~8·H·(I + H) flops), and every weight is read once. On
# one core NumPy streams float32 weights at a few GB/s, so 20 M parameters (80 MB) take about
# 10 ms a traced step (`python -m lstm_viz.bench.hostile` measured 9 ms at hidden 2,048, 4.8 ms
# at hidden 1,024 with 1,024 inputs): stepping stays interactive, a 1,000-step trace takes ~10 s.
# An LSTM with hidden 2,048 and 1 input has 16.8 M parameters, so MAX_HIDDEN lets one such layer
# in; 16 layers are far beyond what anyone stacks (torch models rarely go past 4) and bound the
# per-layer Python loops. A file that breaks one of these is refused before any weight is
# converted.
MAX_HIDDEN = 2048
MAX_LAYERS = 16
MAX_PARAMS = 20_000_000
# Every array in a file, before its recurrent part is picked: a 20 MB file of int8 holds 20 M
# values; twice MAX_PARAMS leaves room for an embedding and a head beside the recurrent layer.
MAX_FILE_ELEMENTS = 2 * MAX_PARAMS


def check_weights(values: np.ndarray, shown: str) -> None:
    """Refuse weights that are not finite or beyond ±MAX_ABS_WEIGHT, in one sentence naming
    them (``shown``: e.g. "Tensor 'lstm.weight_ih_l0'"). Every model reader calls this one."""
    bad = out_of_range(values, MAX_ABS_WEIGHT)   # no temporaries when every weight is fine
    if bad is None:
        return
    many = "s" if bad.count != 1 else ""
    if not bad.finite:
        raise InputError(
            f"{shown} contains {bad.count:,} non-finite value{many} (e.g. {bad.value}): the "
            "training diverged; upload weights from an earlier checkpoint."
        )
    raise InputError(
        f"{shown} has {bad.count:,} weight{many} beyond ±{MAX_ABS_WEIGHT:,.0f} (e.g. "
        f"{bad.value:.3g}): a trained LSTM's weights are far smaller, so the training likely "
        "diverged; upload an earlier checkpoint."
    )


def check_param_count(params: int, what: str) -> None:
    """Refuse a recurrent layer (or stack) of more than MAX_PARAMS parameters, in one sentence
    naming it (``what``: e.g. "This LSTM (8 inputs, 64 units, 2 layers)"). Every model reader
    calls this one."""
    if params > MAX_PARAMS:
        raise InputError(
            f"{what} has {params:,} parameters, more than the {MAX_PARAMS:,} allowed (each step "
            "must stay quick to compute): upload a smaller model."
        )


# All stored tensors/arrays of a file after decompression (zip bombs); 320 MB.
MAX_UNPACKED_BYTES = 16 * MAX_UPLOAD_BYTES

# Gate blocks per variant (SPEC §1): the number of hidden-size row blocks in weight_ih / weight_hh.
VARIANT_BLOCKS: dict[str, int] = {name: len(row.blocks) for name, row in TABLE.items()}
# The variants of each block count, the ones torch computes first: a file of that many blocks
# most likely comes from torch's own module (4 -> torch.nn.LSTM, 3 -> torch.nn.GRU).
VARIANTS_BY_BLOCKS: dict[int, tuple[str, ...]] = {
    n: tuple(sorted((v for v, b in VARIANT_BLOCKS.items() if b == n),
                    key=lambda v: TABLE[v].torch_class is None))
    for n in sorted(set(VARIANT_BLOCKS.values()), reverse=True)
}
_PEEPHOLE = tuple(name for name, row in TABLE.items() if row.peephole)

PARAM_RE = re.compile(
    r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d{1,6})(_reverse)?$"
)
_PARAM_ANYWHERE = re.compile(
    r"^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d{1,6})(_reverse)?$"
)
# No parameter name is longer (a module path of many nested submodules is ~200 characters);
# longer keys skip the regular expressions, which would scan them on every call.
MAX_PARAM_KEY = 1000


def _listed(names: list[str], last: str = "and") -> str:
    """"a, b and c" (``last`` between the last two)."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def match_anywhere(key: Any) -> re.Match[str] | None:
    """`_PARAM_ANYWHERE` on a key of sane length (else None)."""
    if not isinstance(key, str) or len(key) > MAX_PARAM_KEY:
        return None
    return _PARAM_ANYWHERE.match(key)


def check_layer_count(keys: Any) -> None:
    """Refuse more than MAX_LAYERS recurrent layers, from the names alone (linear time)."""
    top = -1
    for key in keys:
        m = match_anywhere(key)
        if m is not None:
            top = max(top, int(m.group(3)))
    if top + 1 > MAX_LAYERS:
        raise InputError(
            f"The weights name {top + 1:,} recurrent layers (up to '_l{top}'), more than the "
            f"{MAX_LAYERS} allowed: upload a model with at most {MAX_LAYERS} layers."
        )


def infer_config(state: Mapping[str, Any], variant: str | None = None) -> dict[str, Any]:
    """Read the configuration of a torch-named recurrent state_dict (SPEC §2).

    Returns {"variant_family", "variant", "input_size", "hidden_size", "num_layers",
    "bidirectional", "bias", "proj_size"}. `variant` fixes how many gate blocks the rows hold;
    without it the first of `VARIANTS_BY_BLOCKS` for the block count (the one torch computes: 4
    blocks -> torch.nn.LSTM's row, 3 -> torch.nn.GRU's, 1 -> torch.nn.RNN's), or the peephole row
    if peephole weights are present; the other rows with as many blocks have the same shapes, so
    for them pass `variant`. The expected shapes are the core's (`param_shapes`).
    Raises `InputError` naming the offending tensor when the set is inconsistent.
    """
    if variant is not None and variant not in VARIANT_BLOCKS:
        raise InputError(f"Unknown variant {variant!r}: choose one of {', '.join(VARIANT_BLOCKS)}.")
    if not isinstance(state, Mapping) or not state:
        raise InputError(f"The state_dict is empty: {SAVE_HINT}.")
    check_layer_count(state)  # first: everything below is linear in the number of tensors

    parsed: dict[tuple[str, int, int], str] = {}
    for key in state:
        m = PARAM_RE.match(key) if isinstance(key, str) and len(key) <= MAX_PARAM_KEY else None
        if m is None:
            raise InputError(
                f"Unknown tensor {quote(key, NAME_LIMIT)}: expected torch LSTM/GRU/RNN names "
                "such as weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (save only the "
                "recurrent layer's state_dict)."
            )
        parsed[(m.group(1), int(m.group(2)), 1 if m.group(3) else 0)] = key
    shapes = {key: shape_of(value) for key, value in state.items()}

    def name(kind: str, layer: int, d: int) -> str:
        return f"{kind}_l{layer}{'_reverse' if d else ''}"

    def require(kind: str, layer: int, d: int, why: str) -> tuple[int, ...]:
        key = name(kind, layer, d)
        if key not in state:
            raise InputError(f"Tensor '{key}' is missing: {why}.")
        return shapes[key]

    layers = {layer for (_, layer, _) in parsed}
    num_layers = max(layers) + 1
    for k in range(num_layers):
        if k not in layers:
            raise InputError(
                f"Layer {k} is missing (tensor '{name('weight_ih', k, 0)}' not found, but layer "
                f"{num_layers - 1} exists): upload the complete state_dict."
            )
    bidirectional = any(d == 1 for (_, _, d) in parsed)
    bias = ("bias_ih", 0, 0) in parsed or ("bias_hh", 0, 0) in parsed
    has_proj = ("weight_hr", 0, 0) in parsed
    has_peep = ("weight_peephole", 0, 0) in parsed

    complete = "every layer and direction needs the same set of tensors"
    w0 = require("weight_ih", 0, 0, "it holds the input weights of layer 0")
    if len(w0) != 2:
        raise InputError(
            f"Tensor 'weight_ih_l0' has shape {w0}, but it must be 2-D (gate rows, input size): "
            "upload a torch LSTM/GRU/RNN state_dict."
        )
    rows, input_size = w0
    hh0 = require("weight_hh", 0, 0, "it holds the recurrent weights of layer 0")
    if len(hh0) != 2:
        raise InputError(
            f"Tensor 'weight_hh_l0' has shape {hh0}, but it must be 2-D (gate rows, hidden size)."
        )
    real_hidden = hh0[1]
    proj_size = 0
    if has_proj:
        hr = shapes[name("weight_hr", 0, 0)]
        if len(hr) != 2:
            raise InputError(
                f"Tensor 'weight_hr_l0' has shape {hr}, but it must be 2-D (proj_size, "
                "hidden_size)."
            )
        proj_size, hidden_size = hr
        if proj_size != real_hidden:
            raise InputError(
                f"Tensor 'weight_hh_l0' has {real_hidden} columns but 'weight_hr_l0' projects to "
                f"{proj_size} units: with a projection the recurrent weights take proj_size "
                "columns."
            )
        if not 0 < proj_size < hidden_size:
            raise InputError(
                f"Tensor 'weight_hr_l0' has shape {hr}: proj_size ({proj_size}) must be smaller "
                f"than hidden_size ({hidden_size}), as in torch."
            )
    else:
        hidden_size = real_hidden
    if hidden_size > MAX_HIDDEN:
        raise InputError(
            f"Tensor 'weight_hh_l0' {hh0} means a hidden size of {hidden_size:,}, more than the "
            f"{MAX_HIDDEN:,} allowed (each step must stay quick to compute): upload a model with "
            f"at most {MAX_HIDDEN:,} hidden units."
        )
    if hidden_size < 1 or input_size < 1:
        raise InputError(
            f"Tensor 'weight_ih_l0' has shape {w0} and 'weight_hh_l0' {hh0}: the input and "
            "hidden sizes must be at least 1."
        )
    if hh0[0] != rows:
        raise InputError(
            f"Tensor 'weight_hh_l0' has {hh0[0]} rows but 'weight_ih_l0' has {rows}: both stack "
            "the same gate blocks, so their row counts must match."
        )
    if rows % hidden_size:
        source = "weight_hr_l0's columns" if has_proj else "weight_hh_l0's columns"
        raise InputError(
            f"Tensors 'weight_ih_l0' {w0} and 'weight_hh_l0' {hh0} do not fit together: the "
            f"{rows} gate rows are not whole blocks of the hidden size {hidden_size} "
            f"({source})."
        )
    blocks = rows // hidden_size

    same = VARIANTS_BY_BLOCKS.get(blocks, ())
    if variant is None:
        projecting = [v for v in same if TABLE[v].is_lstm and not TABLE[v].peephole]
        if has_peep and _PEEPHOLE:
            variant = _PEEPHOLE[0]
        elif has_proj and same and not TABLE[same[0]].is_lstm and projecting:
            raise InputError(
                f"These weights have {blocks} gate blocks and a projection (weight_hr_l0), which "
                f"fits the LSTM variants {_listed(projecting)}: choose which variant they belong "
                "to."
            )
        elif same:
            variant = same[0]
        else:
            raise InputError(
                f"Tensor 'weight_ih_l0' has {rows} rows = {blocks} blocks of hidden size "
                f"{hidden_size}, but an LSTM has 4 (or 3 for some variants), a GRU 3 and an RNN 1: "
                "upload a torch LSTM/GRU/RNN state_dict."
            )
    want = VARIANT_BLOCKS[variant]
    if blocks != want:
        fits = ", ".join(same) or "no known variant"
        raise InputError(
            f"Tensor 'weight_ih_l0' has {rows} rows = {blocks} gate blocks of {hidden_size}, but "
            f"variant {variant!r} needs {want}: choose a variant with {blocks} blocks ({fits})."
        )
    row = TABLE[variant]
    family = row.family
    if has_proj and family != "lstm":
        raise InputError(
            f"Tensor 'weight_hr_l0' is a projection, which only LSTMs have, but variant "
            f"{variant!r} is a {family.upper()}: remove it or choose an LSTM variant."
        )
    if has_peep and not row.peephole:
        peep = _listed([repr(v) for v in _PEEPHOLE], "or")
        raise InputError(
            f"Tensor 'weight_peephole_l0' belongs to the {peep} variant, not {variant!r}: "
            f"choose variant {peep} or remove the peephole weights."
        )
    if row.peephole and not has_peep:
        require("weight_peephole", 0, 0, f"variant {variant!r} needs peephole weights")

    # every (layer, direction) has the same tensors, with the shapes the configuration implies
    expected = param_shapes(Config(int(input_size), int(hidden_size), int(num_layers), bool(bias),
                                   bool(bidirectional), int(proj_size), variant))
    params = sum(int(np.prod(shape, dtype=np.int64)) for shape in expected.values())
    check_param_count(params, f"This {family.upper()} ({input_size:,} inputs, {hidden_size:,} "
                              f"units, {num_layers} layer{'s' if num_layers != 1 else ''})")
    for key, shape in expected.items():
        if key not in state:
            why = complete
            if key.endswith("_reverse"):
                why = "a bidirectional model needs reverse weights in every layer"
            elif key.startswith("bias"):
                why = "with bias=True every layer and direction needs bias_ih and bias_hh"
            elif key.startswith("weight_hr"):
                why = "a projection (weight_hr) must be in every layer and direction"
            raise InputError(f"Tensor '{key}' is missing: {why}.")
        if shapes[key] != shape:
            detail = ""
            if key.startswith("weight_ih") and not key.startswith("weight_ih_l0"):
                dir_note = "2 × " if bidirectional else ""
                detail = (
                    f" (layer {key.split('_l')[1].split('_')[0]} takes the {dir_note}"
                    f"{real_hidden} outputs of the layer below)"
                )
            raise InputError(
                f"Tensor '{key}' has shape {shapes[key]} but the rest of the model implies "
                f"{shape}{detail}: the tensors do not belong to one {family.upper()}."
            )
    for key in state:
        if key not in expected:
            kind = PARAM_RE.match(key).group(1)  # type: ignore[union-attr]
            why = {
                "bias_ih": "bias tensors must be in every layer and direction, or in none",
                "bias_hh": "bias tensors must be in every layer and direction, or in none",
                "weight_hr": "weight_hr must be in every layer and direction, or in none",
                "weight_peephole": "peephole weights must be in every layer and direction",
            }.get(kind, complete)
            raise InputError(f"Tensor '{key}' is unexpected here: {why}.")
    return {
        "variant_family": family,
        "variant": variant,
        "input_size": int(input_size),
        "hidden_size": int(hidden_size),
        "num_layers": int(num_layers),
        "bidirectional": bool(bidirectional),
        "bias": bool(bias),
        "proj_size": int(proj_size),
    }


def fitting_variants(state: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The inferred variant and every variant the tensors fit; `InputError` if none fits.

    The file cannot tell apart the variants of the table with the same parameters (a GRU from the
    3-block LSTM variants, torch.nn.LSTM from the ones that only change an activation): same
    names, same shapes. So the person picks among the ones that fit.
    Only messages are kept, never an exception: a caught exception's traceback would hold
    `state` alive in a reference cycle after the caller lets go of it.
    """
    inferred: str | None = None
    first_error = (
        "These tensors fit no known variant: save the recurrent module's state_dict with "
        "torch.save(lstm.state_dict(), 'lstm.pt')."
    )
    try:
        inferred = infer_config(state)["variant"]
    except InputError as exc:
        first_error = str(exc)
        if "allowed" in first_error:  # a limit: no variant can fit, and no need to try them all
            raise InputError(first_error) from None
    fits = []
    for variant in VARIANTS:
        try:
            infer_config(state, variant)
        except InputError:
            continue
        fits.append(variant)
    if not fits:
        raise InputError(first_error)
    inferred = inferred or fits[0]
    return inferred, [inferred] + [v for v in fits if v != inferred]
