"""Training with torch: the loss goes down, the callback can stop it, a seed repeats a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lstm_viz.training import zoo  # noqa: E402
from lstm_viz.training.tasks import TASKS  # noqa: E402
from lstm_viz.training.train import build, main, train  # noqa: E402


def _losses_of(task: str, variant: str, steps: int, **kw) -> tuple[list[float], zoo.TrainedModel]:
    losses: list[float] = []

    def record(step: int, total: int, loss: float) -> bool:
        assert total == steps and step == len(losses) + 1
        losses.append(loss)
        return True

    model = train(task, variant, steps=steps, callback=record, **kw)
    return losses, model


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["vanilla", "peephole"])
def test_a_short_run_lowers_the_loss(variant: str) -> None:
    losses, model = _losses_of("brackets", variant, 40, hidden_size=8, batch_size=16, seed=1)
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-8:]) < 0.5 * np.mean(losses[:5])
    assert model.meta["steps"] == 40 and model.meta["stopped_early"] is None
    assert model.meta["final_loss"] == pytest.approx(np.mean(losses[-8:]))


def test_callback_returning_false_stops_early() -> None:
    seen: list[int] = []

    def stop_at_5(step: int, total: int, loss: float) -> bool:
        seen.append(step)
        return step < 5

    model = train("sine", "gru", steps=200, hidden_size=4, batch_size=4, callback=stop_at_5)
    assert seen == [1, 2, 3, 4, 5]
    assert model.meta["steps"] == 5 and model.meta["steps_planned"] == 200
    assert model.meta["stopped_early"] == "callback"
    assert model.variant == "gru" and model.config["hidden_size"] == 4
    # the model trained so far is complete and usable
    x, _ = TASKS["sine"].generate(2, 7, np.random.default_rng(0))
    assert model.predict(x).shape == (2, 7, 1)


def test_time_budget_stops_after_the_first_step() -> None:
    model = train("brackets", "rnn", steps=500, hidden_size=4, time_budget_s=0.0)
    assert model.meta["steps"] == 1 and model.meta["stopped_early"] == "time budget"


def test_same_seed_same_model_other_seed_other_model() -> None:
    kw = dict(steps=4, hidden_size=6, batch_size=8)
    a = train("remember", "cifg", seed=3, **kw)
    b = train("remember", "cifg", seed=3, **kw)
    c = train("remember", "cifg", seed=4, **kw)
    for name in a.state:
        np.testing.assert_array_equal(a.state[name], b.state[name])
    np.testing.assert_array_equal(a.head_weight, b.head_weight)
    assert a.meta["final_loss"] == b.meta["final_loss"]
    assert any(not np.array_equal(a.state[n], c.state[n]) for n in a.state)


def test_training_leaves_torch_threads_alone() -> None:
    before = torch.get_num_threads()
    train("sine", "vanilla", steps=2, hidden_size=4, batch_size=2)
    assert torch.get_num_threads() == before


def test_forget_bias_shifts_the_right_gate() -> None:
    task = TASKS["remember"]
    h = 5
    for variant, gate in (("vanilla", 1), ("peephole", 1), ("cifg", 0)):
        plain = build(task, variant, h, 1, seed=0, forget_bias=0.0).rec.bias_hh_l0.detach()
        biased = build(task, variant, h, 1, seed=0, forget_bias=1.0).rec.bias_hh_l0.detach()
        diff = (biased - plain).numpy()
        expected = np.zeros_like(diff)
        expected[gate * h:(gate + 1) * h] = -1.0 if variant == "cifg" else 1.0
        np.testing.assert_allclose(diff, expected, atol=1e-6)
    gru0 = build(task, "gru", h, 1, seed=0, forget_bias=0.0).rec.bias_hh_l0.detach()
    gru1 = build(task, "gru", h, 1, seed=0, forget_bias=1.0).rec.bias_hh_l0.detach()
    assert torch.equal(gru0, gru1)


def test_trained_model_matches_its_torch_net() -> None:
    model = train("text", "vanilla", steps=3, hidden_size=8, batch_size=4, seed=2)
    assert model.vocab == TASKS["text"].vocab
    rec, head = model.torch_module()
    x, _ = TASKS["text"].generate(3, 20, np.random.default_rng(0))
    with torch.no_grad():
        ref = head(rec(torch.from_numpy(x))[0]).numpy()
    np.testing.assert_allclose(model.predict(x), ref, atol=1e-5, rtol=0)


def test_meta_records_the_run() -> None:
    model = train("adding", "rnn", steps=6, hidden_size=4, batch_size=8, seed=5)
    meta = model.meta
    assert meta["seed"] == 5 and meta["steps"] == 6 and meta["batch_size"] == 8
    assert meta["metric"] == "mean abs error" and meta["higher_is_better"] is False
    assert np.isfinite(meta["metric_value"]) and meta["metric_value"] > 0
    assert meta["torch_version"] == torch.__version__
    assert meta["train_seconds"] >= 0
    assert meta["eval"]["n"] == zoo.eval_size(TASKS["adding"])
    # the recorded metric is the NumPy core's on the same held-out sequences
    assert model.evaluate() == pytest.approx(meta["metric_value"], abs=1e-5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        train("brackets", "vanilla", steps=0)
    with pytest.raises(ValueError):
        train("nope", "vanilla", steps=1)
    with pytest.raises(ValueError):
        train("brackets", "lstm", steps=1)


def test_command_line_trains_and_saves(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["sine", "--variant", "cifg", "--hidden", "5", "--steps", "3", "--seed", "7",
                 "--batch", "4", "--out", str(tmp_path)])
    assert code == 0
    assert "saved" in capsys.readouterr().out
    info = json.loads((tmp_path / "sine_cifg.json").read_text())
    assert info["config"]["hidden_size"] == 5 and info["meta"]["seed"] == 7
    model = zoo.load(tmp_path / "sine_cifg")
    assert model.variant == "cifg" and model.state["weight_ih_l0"].shape == (15, 1)
    with pytest.raises(SystemExit):
        main([])
