"""SPEC §5: interventions against a torch reference written here from the SPEC's equations.

The reference runs every cell of the table step by step with autograd; an intervention replaces
the chosen cells of a quantity right after it is computed with a constant (``torch.where`` with a
value that needs no gradient), so downstream uses the new value and nothing flows back through
it: exactly SPEC §5. The core must agree within SPEC §4's tolerances, forward (output, h_n and
every traced quantity) and backward (every parameter and the input).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz.core import TABLE, Intervention, Recurrent
from lstm_viz.core.interventions import settable

LAYOUTS = {"1 layer": dict(num_layers=1), "2 layers, bidirectional":
           dict(num_layers=2, bidirectional=True), "proj_size 2": dict(proj_size=2)}
CASES = [(v, name) for v, row in TABLE.items() for name, kw in LAYOUTS.items()
         if row.is_lstm or "proj_size" not in kw]
T, B, I, H = 6, 2, 3, 4


def reference(model: Recurrent, x: np.ndarray, ivs: list[Intervention], d_out: np.ndarray):
    """(output, {(name, layer, d): (T, B, units)}, grads of params, grad of x) by torch."""
    cfg, row = model.config, TABLE[model.variant]
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.state_dict().items()}
    xt = torch.tensor(x, requires_grad=True)
    rec: dict = {}

    def setv(name, layer, d, t, value):
        for iv in ivs:
            if (iv.name, iv.layer, iv.direction) != (name, layer, d):
                continue
            steps = range(T) if iv.steps is None else (range(T)[iv.steps]
                                                       if isinstance(iv.steps, slice)
                                                       else list(iv.steps))
            if t not in steps:
                continue
            units = np.atleast_1d(iv.units)
            val = np.broadcast_to(np.asarray(iv.value, dtype=float),
                                  (len(steps), B, len(units)))[list(steps).index(t)]
            mask = torch.zeros(value.shape, dtype=torch.bool)
            full = torch.zeros(value.shape, dtype=value.dtype)
            mask[:, units] = True
            full[:, units] = torch.tensor(val)
            value = torch.where(mask, full, value)
        rec[(name, layer, d)] = rec.get((name, layer, d), {}) | {t: value}
        return value

    sig, act = torch.sigmoid, {"tanh": torch.tanh, "identity": lambda z: z}
    layer_in = xt
    for layer in range(cfg.num_layers):
        outs = []
        for d in range(cfg.num_directions):
            s = f"_l{layer}" + ("_reverse" if d else "")
            p = {k[: -len(s)]: v for k, v in params.items() if k.endswith(s)}
            h = torch.zeros(B, cfg.real_hidden_size, dtype=torch.float64)
            c = torch.zeros(B, H, dtype=torch.float64)
            hs = [None] * T
            for t in (range(T - 1, -1, -1) if d else range(T)):
                z = layer_in[t] @ p["weight_ih"].T + h @ p["weight_hh"].T
                if cfg.bias:
                    z = z + p["bias_ih"] + p["bias_hh"]
                part = {k: z[:, j * H:(j + 1) * H] for j, k in enumerate(row.blocks)}
                if row.family == "rnn":
                    h = setv("h", layer, d, t, torch.tanh(z))
                elif row.family == "gru":
                    zh = h @ p["weight_hh"].T + (p["bias_hh"] if cfg.bias else 0)
                    r = setv("r", layer, d, t, sig(part["r"]))
                    zz = setv("z", layer, d, t, sig(part["z"]))
                    xn = (layer_in[t] @ p["weight_ih"].T + (p["bias_ih"] if cfg.bias else 0))
                    n = setv("n", layer, d, t, torch.tanh(xn[:, 2 * H:] + r * zh[:, 2 * H:]))
                    h = setv("h", layer, d, t, (1 - zz) * n + zz * h)
                else:
                    pre = dict(part)
                    if row.peephole:
                        pre["i"] = pre["i"] + p["weight_peephole"][0] * c
                        pre["f"] = pre["f"] + p["weight_peephole"][1] * c
                    one = torch.ones_like(c)
                    i = setv("i", layer, d, t, sig(pre["i"])) if "i" in pre else one
                    f = (1 - i if row.coupled else
                         setv("f", layer, d, t, sig(pre["f"])) if "f" in pre else one)
                    g = setv("g", layer, d, t, act[row.input_activation](pre["g"]))
                    c = setv("c", layer, d, t, f * c + i * g)
                    if row.peephole:
                        pre["o"] = pre["o"] + p["weight_peephole"][2] * c
                    o = setv("o", layer, d, t, sig(pre["o"])) if "o" in pre else one
                    m = o * act[row.output_activation](c)
                    if cfg.proj_size:
                        m = setv("m", layer, d, t, m)
                        m = m @ p["weight_hr"].T
                    h = setv("h", layer, d, t, m)
                hs[t] = h
            outs.append(torch.stack(hs))
        layer_in = torch.cat(outs, dim=2)
    (layer_in * torch.tensor(d_out)).sum().backward()
    quantities = {k: torch.stack([v[t] for t in range(T)]).detach().numpy()
                  for k, v in rec.items()}
    grads = {k: v.grad.numpy() for k, v in params.items()}
    return layer_in.detach().numpy(), quantities, grads, xt.grad.numpy()


def some_interventions(model: Recurrent) -> list[Intervention]:
    """One intervention per settable quantity, in every layer and direction, varied."""
    cfg, out = model.config, []
    rng = np.random.default_rng(3)
    for layer in range(cfg.num_layers):
        for d in range(cfg.num_directions):
            for j, (name, units) in enumerate(settable(cfg).items()):
                steps = [None, slice(1, 4), [0, 5, 2]][j % 3]
                chosen = [j % units] if j % 2 else list(range(0, units, 2))
                value = (0.5 if name != "c" else rng.normal(size=(1, B, len(chosen))))
                out.append(Intervention(name, chosen, value, steps, layer, d))
    return out


@pytest.mark.parametrize("variant,layout", CASES)
def test_forward_and_backward_match_the_torch_reference(variant, layout):
    model = Recurrent(I, H, variant=variant, dtype=np.float64, seed=4, **LAYOUTS[layout])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, B, I))
    ivs = some_interventions(model)
    trace = model.trace(x, interventions=ivs)
    d_out = rng.normal(size=trace.output.shape)
    want_out, quantities, want_params, want_x = reference(model, x, ivs, d_out)
    np.testing.assert_allclose(trace.output, want_out, atol=1e-10, rtol=0)
    for (name, layer, d), values in quantities.items():
        np.testing.assert_allclose(trace.get(name, layer, d), values, atol=1e-10, rtol=0,
                                   err_msg=f"{name} layer {layer} direction {d}")
    grads = model.backward(trace, d_out)
    for name, g in want_params.items():
        np.testing.assert_allclose(grads.params[name], g, atol=1e-8, rtol=0, err_msg=name)
    np.testing.assert_allclose(grads.input, want_x, atol=1e-8, rtol=0)


@pytest.mark.parametrize("variant", list(TABLE))
def test_float32_matches_within_spec(variant):
    model64 = Recurrent(I, H, variant=variant, dtype=np.float64, seed=5, num_layers=2)
    model32 = Recurrent.from_state_dict(model64.state_dict(), I, H, num_layers=2,
                                        variant=variant, dtype=np.float32)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(T, B, I))
    ivs = some_interventions(model64)
    d_out = rng.normal(size=(T, B, H))
    want_out, _, want_params, want_x = reference(model64, x, ivs, d_out)
    trace = model32.trace(x, interventions=ivs)
    assert np.abs(trace.output - want_out).max() <= 1e-5 * max(1, np.abs(want_out).max())
    grads = model32.backward(trace, d_out)
    for name, g in want_params.items():
        assert np.abs(grads.params[name] - g).max() <= 1e-4 * max(np.abs(g).max(), 1e-12), name
    assert np.abs(grads.input - want_x).max() <= 1e-4 * np.abs(want_x).max()


@pytest.mark.parametrize("variant", list(TABLE))
def test_without_interventions_nothing_changes_bit_for_bit(variant):
    model = Recurrent(I, H, variant=variant, seed=2, num_layers=2, bidirectional=True)
    x = np.random.default_rng(0).normal(size=(T, I)).astype(np.float32)
    a, b = model.trace(x), model.trace(x, interventions=[])
    for key, q in a.steps.items():
        for name, value in q.items():
            assert np.array_equal(value, b.steps[key][name]), name
    d = np.ones_like(a.output)
    ga, gb = model.backward(a, d), model.backward(b, d)
    assert all(np.array_equal(ga.params[k], gb.params[k]) for k in ga.params)


def test_the_trace_holds_the_set_values_and_z_as_computed():
    model = Recurrent(I, H, seed=0)
    x = np.random.default_rng(0).normal(size=(T, I)).astype(np.float32)
    plain = model.trace(x)
    trace = model.trace(x, interventions=[Intervention("f", [1, 3], 0.0, slice(2, 5))])
    assert np.all(trace.get("f")[2:5, 0, [1, 3]] == 0)
    np.testing.assert_array_equal(trace.get("f")[:2], plain.get("f")[:2])
    np.testing.assert_array_equal(trace.get("z_f")[:3], plain.get("z_f")[:3])
    assert not np.array_equal(trace.get("c")[4:], plain.get("c")[4:])


def test_setting_cifg_i_moves_its_f():
    model = Recurrent(I, H, variant="cifg", seed=0)
    x = np.zeros((T, I), dtype=np.float32)
    trace = model.trace(x, interventions=[Intervention("i", 0, 0.25)])
    assert np.all(trace.get("f")[:, 0, 0] == 0.75)


@pytest.mark.parametrize("variant,name,words", [
    ("cifg", "f", "fixes it"), ("nig", "i", "fixes it"), ("nfg", "f", "fixes it"),
    ("nog", "o", "fixes it"), ("gru", "c", "cannot set"), ("vanilla", "m", "cannot set"),
    ("vanilla", "z_f", "cannot set"),
])
def test_a_quantity_the_variant_fixes_or_lacks_cannot_be_set(variant, name, words):
    model = Recurrent(I, H, variant=variant, seed=0)
    with pytest.raises(ValueError, match=words):
        model.trace(np.zeros((T, I)), interventions=[Intervention(name, 0)])


@pytest.mark.parametrize("kwargs,words", [
    ({"units": H}, "unit 4"), ({"units": [-1]}, "unit -1"), ({"units": []}, "units must"),
    ({"steps": [T]}, "outside the sequence"), ({"steps": slice(7, 9)}, "select no step"),
    ({"layer": 1}, "layer 1 does not exist"), ({"direction": 1}, "direction 1 does not exist"),
    ({"value": np.zeros(5)}, "does not broadcast"),
])
def test_bad_interventions_say_what_is_wrong(kwargs, words):
    model = Recurrent(I, H, seed=0)
    iv = Intervention(**{"name": "c", "units": 0} | kwargs)
    with pytest.raises(ValueError, match=words):
        model.trace(np.zeros((T, I)), interventions=[iv])


def test_nan_leaves_a_cell_as_computed_so_each_batch_row_sets_its_own_unit():
    model = Recurrent(I, H, seed=0)
    x = np.random.default_rng(0).normal(size=(T, I)).astype(np.float32)
    value = np.full((1, H, H), np.nan, dtype=np.float32)
    value[0, np.arange(H), np.arange(H)] = 0.0          # row b sets unit b to 0
    batched = model.trace(np.repeat(x[:, None], H, axis=1),
                          interventions=[Intervention("c", list(range(H)), value)])
    for b in range(H):
        alone = model.trace(x, interventions=[Intervention("c", b, 0.0)])
        np.testing.assert_allclose(batched.get("h")[:, b], alone.get("h")[:, 0], atol=1e-6)
