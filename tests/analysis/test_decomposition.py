"""Contextual decomposition (Murdoch, Liu & Yu 2018): exactness on every LSTM-family variant and
layout, an independent reference of the authors' algorithm, the per-step strip, the refusals, and
what it says about the shipped brackets model."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_viz.analysis import contextual_decomposition, decomposition_strip
from lstm_viz.analysis.decomposition import strip_parts
from lstm_viz.core import LSTM_VARIANTS, TABLE, Recurrent
from lstm_viz.errors import InputError

LAYOUTS = {"1 layer": (1, False, 0), "2 layers": (2, False, 0), "bidirectional": (1, True, 0),
           "2 layers, bidirectional, proj_size 2": (2, True, 2), "proj_size 2": (1, False, 2)}
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}


def make(variant: str, layout: str, dtype=np.float64, seed: int = 0, scale: float = 1.0):
    """A model with weights drawn at ``scale`` (larger than torch's init, so the gates bend)."""
    layers, bidirectional, proj = LAYOUTS[layout]
    model = Recurrent(3, 5, num_layers=layers, bidirectional=bidirectional, proj_size=proj,
                      variant=variant, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    model.load_state_dict({k: rng.normal(scale=scale, size=v.shape).astype(dtype)
                           for k, v in model.state_dict().items()})
    x = rng.normal(size=(8, 3))
    weight = rng.normal(size=model.trace(x).output.shape[1])
    return model, x, weight


def score(model, x, step, weight):
    return float(model.trace(x).output[step] @ weight.astype(model.dtype))


def close(total: float, expected: float, parts: tuple[float, ...], tol: float) -> bool:
    """Equal within ``tol`` relative to the largest of the score and its parts."""
    return abs(total - expected) <= tol * max(abs(expected), *map(abs, parts), 1e-30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("variant", LSTM_VARIANTS)
def test_the_parts_add_up_to_the_score(variant, layout, dtype):
    model, x, weight = make(variant, layout, dtype)
    tol = TOLERANCE[dtype]
    for step, (start, stop) in ((5, (2, 4)), (7, (0, 0)), (3, (3, 7)), (0, (1, 6))):
        beta, gamma = contextual_decomposition(model, x, start, stop, step, weight)
        assert close(beta + gamma, score(model, x, step, weight), (beta, gamma), tol)
    beta, gamma = strip_parts(model, x, 4, weight)
    s = score(model, x, 4, weight)
    for b, g in zip(beta, gamma, strict=True):
        assert close(float(b + g), s, (float(b), float(g)), tol)


@pytest.mark.parametrize("variant", LSTM_VARIANTS)
def test_the_strip_is_each_single_step_phrase(variant):
    model, x, weight = make(variant, "2 layers, bidirectional, proj_size 2", seed=3)
    strip = decomposition_strip(model, x, 5, weight)
    assert strip.shape == (8,)
    one_by_one = [contextual_decomposition(model, x, t, t, 5, weight)[0] for t in range(8)]
    np.testing.assert_allclose(strip, one_by_one, rtol=1e-12, atol=1e-14)
    assert np.abs(strip).min() > 0                    # bidirectional: every step is seen


def test_later_steps_have_no_part_in_a_one_way_model():
    model, x, weight = make("vanilla", "2 layers", seed=4)
    strip = decomposition_strip(model, x, 4, weight)
    assert np.abs(strip[:5]).min() > 0 and not strip[5:].any()
    beta, gamma = contextual_decomposition(model, x, 6, 7, 4, weight)
    assert beta == 0 and gamma == pytest.approx(score(model, x, 4, weight), rel=1e-12)


@pytest.mark.parametrize("variant", LSTM_VARIANTS)
def test_the_whole_sequence_as_the_phrase(variant):
    """With the zero initial state, the rest's input is zero everywhere, so every irrelevant part
    stays zero; the bias·bias terms go to the phrase (Murdoch's rule: inside the phrase), so the
    phrase carries the whole score, bias-only part included, and gamma is 0."""
    model, x, weight = make(variant, "2 layers, bidirectional, proj_size 2", seed=5)
    for step in (0, 4, 7):
        beta, gamma = contextual_decomposition(model, x, 0, 7, step, weight)
        assert gamma == 0
        assert beta == pytest.approx(score(model, x, step, weight), rel=1e-10)


def test_the_bias_only_part_of_a_phrase_at_step_zero():
    """Phrase = step 0 of a zero input at step 0: the relevant input is zero, so the phrase gets
    only the bias·bias product of step 0 carried forward: at step 0 itself it is exactly
    o ⊙ tanh(σ(b_i) tanh(b_g)) (o from the full pre-activation) read through the weight."""
    model, x, weight = make("vanilla", "1 layer", seed=6)
    x[0] = 0.0
    beta, gamma = contextual_decomposition(model, x, 0, 0, 0, weight)
    sd = model.state_dict()
    b = sd["bias_ih_l0"] + sd["bias_hh_l0"]
    b_i, _, b_g, b_o = np.split(b, 4)
    sig = 1 / (1 + np.exp(-b_i))
    c = sig * np.tanh(b_g)
    direct = (1 / (1 + np.exp(-b_o))) * np.tanh(c) @ weight
    assert beta == pytest.approx(direct, rel=1e-12)
    assert gamma == pytest.approx(0.0, abs=1e-15)


def murdoch_reference(sd: dict, x: np.ndarray, start: int, stop: int, step: int,
                      weight: np.ndarray) -> tuple[float, float]:
    """Murdoch et al.'s algorithm for a one-layer torch.nn.LSTM, written from the paper's
    equations (Shapley split of each gate over relevant / irrelevant / bias, the cell's products
    assigned by their rule, h = o · the two-way split of tanh(c))."""
    def sig(z):
        return 1 / (1 + np.exp(-z))

    def three(a, b, c, f):
        return (0.5 * (f(a + c) - f(c) + f(a + b + c) - f(b + c)),
                0.5 * (f(b + c) - f(c) + f(a + b + c) - f(a + c)), f(c))

    W_ii, W_if, W_ig, W_io = np.split(sd["weight_ih_l0"], 4)
    W_hi, W_hf, W_hg, W_ho = np.split(sd["weight_hh_l0"], 4)
    b_i, b_f, b_g, b_o = np.split(sd["bias_ih_l0"] + sd["bias_hh_l0"], 4)
    H = b_i.shape[0]
    rel_c, irr_c, rel_h, irr_h = (np.zeros(H) for _ in range(4))
    for t in range(step + 1):
        inside = start <= t <= stop
        zr = {k: W @ rel_h for k, W in zip("ifgo", (W_hi, W_hf, W_hg, W_ho), strict=True)}
        zi = {k: W @ irr_h for k, W in zip("ifgo", (W_hi, W_hf, W_hg, W_ho), strict=True)}
        into = zr if inside else zi
        for k, W in zip("ifgo", (W_ii, W_if, W_ig, W_io), strict=True):
            into[k] = into[k] + W @ x[t]
        ri, ii, bi = three(zr["i"], zi["i"], b_i, sig)
        rg, ig, bg = three(zr["g"], zi["g"], b_g, np.tanh)
        rf, if_, bf = three(zr["f"], zi["f"], b_f, sig)
        new_rel = ri * (rg + bg) + bi * rg + (rf + bf) * rel_c
        new_irr = ii * (rg + ig + bg) + (ri + bi) * ig + (rf + if_ + bf) * irr_c + if_ * rel_c
        if inside:
            new_rel = new_rel + bi * bg
        else:
            new_irr = new_irr + bi * bg
        rel_c, irr_c = new_rel, new_irr
        o = sig(W_io @ x[t] + W_ho @ (rel_h + irr_h) + b_o)
        ta, tb, tab = np.tanh(rel_c), np.tanh(irr_c), np.tanh(rel_c + irr_c)
        rel_h = o * 0.5 * (ta + tab - tb)
        irr_h = o * 0.5 * (tb + tab - ta)
    return float(weight @ rel_h), float(weight @ irr_h)


@pytest.mark.parametrize("seed", range(4))
def test_against_a_reference_of_murdochs_algorithm(seed):
    model, x, weight = make("vanilla", "1 layer", seed=seed, scale=1.5)
    sd = model.state_dict()
    for start, stop, step in ((2, 4, 6), (0, 0, 7), (5, 5, 5), (1, 6, 3), (0, 7, 7)):
        ours = contextual_decomposition(model, x, start, stop, step, weight)
        ref = murdoch_reference(sd, x, start, stop, step, weight)
        np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-8)
    ref_strip = [murdoch_reference(sd, x, t, t, 6, weight)[0] for t in range(8)]
    np.testing.assert_allclose(decomposition_strip(model, x, 6, weight), ref_strip,
                               rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("variant", [v for v, row in TABLE.items() if not row.is_lstm])
def test_gru_and_rnn_are_refused_in_one_sentence(variant):
    model = Recurrent(3, 4, variant=variant, dtype=np.float64, seed=0)
    x, weight = np.ones((5, 3)), np.ones(4)
    for call in (lambda: contextual_decomposition(model, x, 0, 1, 4, weight),
                 lambda: decomposition_strip(model, x, 4, weight)):
        with pytest.raises(InputError) as info:
            call()
        msg = str(info.value)
        assert msg.startswith("Contextual decomposition is defined for the LSTM family")
        assert msg.endswith("use integrated gradients.") and msg.count(". ") == 0
        assert ("a GRU" if variant == "gru" else "a plain RNN") in msg


def test_bad_arguments_are_refused():
    model, x, weight = make("vanilla", "1 layer")
    with pytest.raises(InputError, match="phrase 4..2"):
        contextual_decomposition(model, x, 4, 2, 5, weight)
    with pytest.raises(InputError, match="outside the sequence"):
        contextual_decomposition(model, x, 0, 1, 8, weight)
    with pytest.raises(InputError, match="output's size"):
        decomposition_strip(model, x, 3, weight[:-1])
    with pytest.raises(InputError, match="one sequence"):
        decomposition_strip(model, x[None], 3, weight)


def test_a_too_long_strip_is_refused(monkeypatch):
    from lstm_viz.analysis import decomposition
    model, x, weight = make("vanilla", "1 layer")
    monkeypatch.setattr(decomposition, "MAX_STRIP_WORK", decomposition.strip_work(model, 5))
    decomposition_strip(model, x, 4, weight)                      # 5 steps: fits
    with pytest.raises(InputError, match="at most 5 steps"):
        decomposition_strip(model, x, 7, weight)


def test_the_strip_runs_in_chunks(monkeypatch):
    from lstm_viz.analysis import decomposition
    model, x, weight = make("peephole", "bidirectional", seed=2)
    whole = decomposition_strip(model, x, 3, weight)
    monkeypatch.setattr(decomposition, "MAX_CHUNK_VALUES", 1)     # one phrase per chunk
    np.testing.assert_allclose(decomposition_strip(model, x, 3, weight), whole, rtol=1e-12)


@pytest.mark.parametrize("variant", ["vanilla", "cifg"])
def test_shipped_brackets_model_credits_open_brackets(variant):
    """The shipped brackets models predict the depth after each character: on 30 random strings
    of 40, at step 30, CD gives every ``(`` up to there a positive part (measured: all, for both)
    and almost every ``)`` a negative one (measured: 96% vanilla, 100% cifg)."""
    from lstm_viz.training.tasks import get_task
    from lstm_viz.training.zoo import load_shipped

    tm = load_shipped("brackets", variant)
    model, weight = tm.recurrent(), tm.head_weight[0]
    task = get_task("brackets")
    opens, closes = [], []
    for seed in range(30):
        x = task.generate(1, 40, np.random.default_rng(seed))[0][0]
        strip = decomposition_strip(model, x, 30, weight)
        assert not strip[31:].any()
        is_open = x[:31, 0] > 0.5
        opens.extend(strip[:31][is_open])
        closes.extend(strip[:31][~is_open])
    assert min(opens) > 0
    assert np.mean(np.array(closes) < 0) >= 0.9
