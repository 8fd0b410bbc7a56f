"""The model zoo: every shipped model loads, reaches its recorded metric with the NumPy core on
fresh held-out sequences, matches its torch module, and survives a save/load round trip."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lstm_viz.errors import InputError
from lstm_viz.training import zoo
from lstm_viz.training.tasks import TASKS

SHIPPED = zoo.list_shipped()
FRESH_SEED = 2024  # a held-out stream the recorded metric (seed 0 -> default_rng([0, 1])) never saw


def _ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{t}_{v}" for t, v in pairs]


def test_every_task_and_variant_ships() -> None:
    expected = {(t, v) for t in TASKS for v in zoo.SHIPPED_VARIANTS}
    assert set(SHIPPED) == expected
    assert len(SHIPPED) == 25


def test_shipped_models_are_small() -> None:
    total = sum(p.stat().st_size for p in zoo.MODELS_DIR.iterdir() if p.is_file())
    assert total < 5 * 2**20


@pytest.mark.parametrize(("task", "variant"), SHIPPED, ids=_ids(SHIPPED))
def test_shipped_model_loads_with_its_record(task: str, variant: str) -> None:
    m = zoo.load_shipped(task, variant)
    assert zoo.load_shipped(task, variant) is m  # cached
    assert (m.task, m.variant, m.name) == (task, variant, f"{task}_{variant}")
    t = TASKS[task]
    assert m.config["input_size"] == t.input_size
    assert m.head_weight.shape == (t.output_size, m.config["hidden_size"])
    assert m.head_bias.shape == (t.output_size,)
    assert all(a.dtype == np.float32 for a in m.state.values())
    assert m.vocab == t.vocab  # the characters of the one-hot input (brackets, text)
    meta = m.meta
    assert meta["metric"] == t.metric_name
    for key in ("seed", "steps", "final_loss", "metric_value", "train_seconds", "torch_version"):
        assert key in meta, key
    assert math.isfinite(meta["metric_value"]) and math.isfinite(meta["final_loss"])
    assert 0 < meta["train_seconds"] < 120
    assert set(m.recurrent().state_dict()) == set(m.state)


def _tolerance(task: str, recorded: float, pred: np.ndarray, y: np.ndarray) -> float:
    """Four standard errors of the difference of two independent estimates, plus a little."""
    t = TASKS[task]
    if t.metric_name == "accuracy":
        count = y.size if t.loss == "ce" else y[..., 0].size
        p = min(max(recorded, 0.01), 0.99)
        return 4 * math.sqrt(2 * p * (1 - p) / count) + 0.005
    if t.metric_name == "mean abs error":
        err = np.abs(t.last(pred) - y)
        return 4 * math.sqrt(2) * float(err.std()) / math.sqrt(err.size) + 0.002
    return 0.01  # R² over thousands of steps moves in the third decimal


@pytest.mark.slow
@pytest.mark.parametrize(("task", "variant"), SHIPPED, ids=_ids(SHIPPED))
def test_numpy_core_reaches_the_recorded_metric_on_fresh_data(task: str, variant: str) -> None:
    m = zoo.load_shipped(task, variant)
    t = TASKS[task]
    assert m.meta["eval"]["seed"] != FRESH_SEED
    x, y = zoo.held_out(t, FRESH_SEED)
    pred = m.predict(x)
    value = t.metric(pred, y)
    recorded = m.meta["metric_value"]
    assert abs(value - recorded) <= _tolerance(task, recorded, pred, y), (value, recorded)
    # and with the recorded protocol itself, the NumPy core gives the recorded number
    assert m.evaluate() == pytest.approx(recorded, abs=2e-3)


def _baseline(task: str) -> float:
    """The metric of a model that ignores the input (chance / the mean / the commonest class)."""
    t = TASKS[task]
    x, y = zoo.held_out(t, FRESH_SEED)
    if t.loss == "ce":
        counts = np.bincount(y.ravel(), minlength=t.output_size)
        return float(counts.max() / counts.sum())
    if t.metric_name == "accuracy":  # brackets: the commonest depth
        return float(np.bincount(y.astype(int).ravel()).max() / y.size)
    return t.metric(np.broadcast_to(y.mean(axis=0), y.shape), y)


# The plain RNN is allowed to fail the long-memory tasks (the vanishing gradient the app shows);
# its honest score is in its JSON and checked above.
LEARNERS = [(t, v) for t, v in SHIPPED if not (v == "rnn" and t in ("remember", "adding"))]


@pytest.mark.parametrize(("task", "variant"), LEARNERS, ids=_ids(LEARNERS))
def test_shipped_models_learned_something(task: str, variant: str) -> None:
    """Each model beats a model that ignores its input by a clear margin."""
    m = zoo.load_shipped(task, variant)
    t = TASKS[task]
    base = _baseline(task)
    value = m.meta["metric_value"]
    margin = 0.5 * abs(base) if not t.higher_is_better else 0.1
    if t.higher_is_better:
        assert value > base + margin, (value, base)
    else:
        assert value < base - margin, (value, base)


@pytest.mark.slow
@pytest.mark.parametrize(("task", "variant"), SHIPPED, ids=_ids(SHIPPED))
def test_numpy_core_equals_torch_on_shipped_weights(task: str, variant: str) -> None:
    torch = pytest.importorskip("torch")
    m = zoo.load_shipped(task, variant)
    rec, head = m.torch_module()
    x, _ = TASKS[task].generate(4, 40, np.random.default_rng(11))
    with torch.no_grad():
        out_t, h_t = rec(torch.from_numpy(x))
        logits_t = head(out_t).numpy()
    out_n, h_n = m.recurrent()(x.transpose(1, 0, 2))
    ref = out_t.numpy().transpose(1, 0, 2)
    assert np.abs(out_n - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())
    if isinstance(h_n, tuple):
        for mine, theirs in zip(h_n, h_t, strict=True):
            assert np.abs(mine - theirs.numpy()).max() <= 1e-5 * max(1.0, theirs.abs().max())
    else:
        assert np.abs(h_n - h_t.numpy()).max() <= 1e-5 * max(1.0, h_t.abs().max().item())
    pred = m.predict(x)
    assert np.abs(pred - logits_t).max() <= 1e-5 * max(1.0, np.abs(logits_t).max())


def test_predict_batched_and_unbatched_agree() -> None:
    m = zoo.load_shipped("sine", "vanilla")
    x, _ = TASKS["sine"].generate(3, 15, np.random.default_rng(0))
    batched = m.predict(x)
    assert batched.shape == (3, 15, 1)
    np.testing.assert_allclose(m.predict(x[1]), batched[1], atol=1e-6)
    with pytest.raises(InputError):
        m.predict(np.zeros((5, 3), dtype=np.float32))
    text = zoo.load_shipped("text", "gru")
    p = text.probabilities(TASKS["text"].example(length=12).values)
    assert p.shape == (12, len(TASKS["text"].vocab or ()))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-5)


def test_save_load_round_trip(tmp_path: Path) -> None:
    m = zoo.load_shipped("text", "cifg")
    npz, js = m.save(tmp_path / "sub" / "copy")
    assert npz.name == "copy.npz" and js.name == "copy.json"
    with zipfile.ZipFile(npz) as zf:  # arrays only: every member is a plain .npy
        assert all(name.endswith(".npy") for name in zf.namelist())
    with np.load(npz, allow_pickle=False) as data:
        assert all(data[k].dtype == np.float32 for k in data.files)
    info = json.loads(js.read_text(encoding="utf-8"))
    assert info["task"] == "text" and info["variant"] == "cifg"
    assert info["vocab"] == list(m.vocab or ())
    assert info["meta"]["metric_value"] == m.meta["metric_value"]
    for path in (tmp_path / "sub" / "copy", npz, js):
        back = zoo.load(path)
        assert (back.task, back.variant, back.config, back.vocab) == (
            m.task, m.variant, m.config, m.vocab)
        assert back.state.keys() == m.state.keys()
        for k in m.state:
            np.testing.assert_array_equal(back.state[k], m.state[k])
        np.testing.assert_array_equal(back.head_weight, m.head_weight)
        np.testing.assert_array_equal(back.head_bias, m.head_bias)
        assert back.meta == m.meta
    x = TASKS["text"].example(length=30).values
    np.testing.assert_array_equal(zoo.load(npz).predict(x), m.predict(x))


def test_load_errors_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        zoo.load(tmp_path / "missing")
    m = zoo.load_shipped("brackets", "rnn")
    m.save(tmp_path / "m")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(InputError, match="JSON"):
        zoo.load(tmp_path / "m")
    (tmp_path / "m.json").write_text(json.dumps({"task": "brackets"}))
    with pytest.raises(InputError, match="format"):
        zoo.load(tmp_path / "m")
    with pytest.raises(InputError, match="shipped"):
        zoo.load_shipped("brackets", "nope")


def test_list_shipped_ignores_other_files(tmp_path: Path) -> None:
    m = zoo.load_shipped("adding", "gru")
    m.save(tmp_path / "adding_gru")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "sine_vanilla.json").write_text("{}")  # no .npz beside it
    assert zoo.list_shipped(tmp_path) == [("adding", "gru")]


def test_manifest_records_the_rebuild() -> None:
    info = json.loads((zoo.MODELS_DIR / "manifest.json").read_text())
    assert info["command"].startswith("python -m lstm_viz.training.train --all")
    assert len(info["models"]) == 25
    total = sum(row["train_seconds"] for row in info["models"])
    assert total <= info["total_seconds"]
    for row in info["models"]:
        m = zoo.load_shipped(row["task"], row["variant"])
        assert row["metric_value"] == m.meta["metric_value"]


# -- what the task descriptions tell a person to look for, checked on the shipped models ----------


@pytest.mark.parametrize("variant", ["vanilla", "peephole", "cifg"])
def test_brackets_lstms_have_a_counting_unit(variant: str) -> None:
    m = zoo.load_shipped("brackets", variant)
    x, y = TASKS["brackets"].generate(64, 60, np.random.default_rng(FRESH_SEED))
    c = m.recurrent().trace(x.transpose(1, 0, 2)).get("c")  # (T, B, units)
    depth = y[..., 0].T.ravel()
    cells = c.reshape(-1, c.shape[-1])
    best = max(abs(np.corrcoef(cells[:, k], depth)[0, 1]) for k in range(cells.shape[1]))
    assert best > 0.9


@pytest.mark.parametrize("variant", ["vanilla", "peephole", "cifg"])
def test_adding_lstms_have_a_gated_accumulator(variant: str) -> None:
    m = zoo.load_shipped("adding", variant)
    x, _ = TASKS["adding"].generate(200, 50, np.random.default_rng(FRESH_SEED))
    trace = m.recurrent().trace(x.transpose(1, 0, 2))
    i, f = trace.get("i"), trace.get("f")
    marked = x[..., 1].T.astype(bool)  # (T, B)
    opens = i[marked].mean(axis=0) - i[~marked].mean(axis=0)
    holds = f[~marked].mean(axis=0)
    assert ((opens > 0.25) & (holds > 0.9)).any(), (opens, holds)
