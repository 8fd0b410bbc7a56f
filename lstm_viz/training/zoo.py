"""The model zoo: trained recurrent models (weights + a linear readout) and the ones that ship.

A :class:`TrainedModel` is the recurrent part (torch / SPEC parameter names, run by the NumPy core)
plus a linear head on h, and what it was trained on. On disk it is two files side by side:

* ``<name>.npz``: the arrays only (``state.<torch name>``, ``head.weight``, ``head.bias``), loaded
  with ``allow_pickle=False``;
* ``<name>.json``: config, task, variant, vocabulary and the training record (seed, steps, final
  loss, the metric on held-out sequences, seconds, torch version).

The shipped models live in ``lstm_viz/models/{task}_{variant}.npz/.json`` and are rebuilt with
``python -m lstm_viz.training.train --all --out lstm_viz/models``.

No torch at import time: :meth:`TrainedModel.torch_module` imports it when called.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.training.tasks import TASKS, Task, get_task

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from lstm_viz.core import Recurrent

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
FORMAT = "lstm-viz-model"
FORMAT_VERSION = 1
SHIPPED_VARIANTS: tuple[str, ...] = ("vanilla", "peephole", "cifg", "gru", "rnn")
CONFIG_KEYS: tuple[str, ...] = (
    "input_size", "hidden_size", "num_layers", "bidirectional", "proj_size", "bias",
)


# --------------------------------------------------------------------------------------------------
# held-out evaluation protocol (the same for the number recorded at training and for the tests)


def eval_size(task: Task) -> int:
    """How many held-out sequences the recorded metric averages over."""
    return 256 if task.per_step else 1000


def held_out(
    task: Task, seed: int, n: int | None = None, length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out sequences: a random stream that training (``default_rng(seed)``) never draws from.

    ``np.random.default_rng([seed, 1])`` seeds a stream independent of ``default_rng(seed)``.
    """
    rng = np.random.default_rng([int(seed), 1])
    return task.generate(
        eval_size(task) if n is None else int(n),
        task.eval_length if length is None else int(length),
        rng,
    )


# --------------------------------------------------------------------------------------------------
# the model


@dataclass
class TrainedModel:
    """A trained recurrent model with a linear readout.

    ``state`` holds the recurrent part under torch / SPEC names (float32), ``head_weight`` is
    (outputs, real hidden · directions) and ``head_bias`` (outputs,). ``predict`` runs the NumPy
    core and the head: one output per step (logits for ``ce`` tasks). ``vocab`` is the characters
    of a one-hot input in feature order (text, brackets), else None. ``recurrent()`` is built once
    and kept: treat ``state`` as read-only after that.
    """

    task: str
    variant: str
    config: dict[str, Any]
    state: dict[str, np.ndarray]
    head_weight: np.ndarray
    head_bias: np.ndarray
    vocab: tuple[str, ...] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _recurrent: Recurrent | None = field(default=None, init=False, repr=False, compare=False)

    # -- views ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``{task}_{variant}``, the shipped file name."""
        return f"{self.task}_{self.variant}"

    @property
    def task_obj(self) -> Task:
        return get_task(self.task)

    @property
    def metric_name(self) -> str | None:
        return self.meta.get("metric")

    @property
    def metric_value(self) -> float | None:
        value = self.meta.get("metric_value")
        return None if value is None else float(value)

    def recurrent(self) -> Recurrent:
        """The recurrent part as a NumPy-core :class:`~lstm_viz.core.Recurrent` (time-major)."""
        if self._recurrent is None:
            from lstm_viz.core import Recurrent

            c = self.config
            model = Recurrent(
                c["input_size"], c["hidden_size"], num_layers=c.get("num_layers", 1),
                bias=c.get("bias", True), bidirectional=c.get("bidirectional", False),
                proj_size=c.get("proj_size", 0), variant=self.variant,
            )
            model.load_state_dict(self.state)
            self._recurrent = model
        return self._recurrent

    def readout(self, h: np.ndarray) -> np.ndarray:
        """The head applied to hidden states ``h (..., hidden)``: ``h @ W.T + b``."""
        return np.asarray(h, dtype=np.float32) @ self.head_weight.T + self.head_bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Head outputs for every step: x (T, I) -> (T, O); x (B, T, I) -> (B, T, O)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim not in (2, 3) or x.shape[-1] != self.config["input_size"]:
            raise InputError(
                f"expected input of shape (T, {self.config['input_size']}) or "
                f"(B, T, {self.config['input_size']}), got {x.shape}"
            )
        rec = self.recurrent()
        if x.ndim == 2:
            out, _ = rec(x)
            return self.readout(out)
        out, _ = rec(np.ascontiguousarray(x.transpose(1, 0, 2)))
        return self.readout(out).transpose(1, 0, 2)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Softmax of :meth:`predict` (for ``ce`` tasks): per step, a distribution over classes."""
        z = self.predict(x)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def evaluate(self, seed: int | None = None, n: int | None = None,
                 length: int | None = None) -> float:
        """The task metric with the NumPy core on held-out sequences (see :func:`held_out`).

        ``seed`` defaults to the one the recorded metric used.
        """
        task = self.task_obj
        if seed is None:
            seed = int(self.meta.get("eval", {}).get("seed", self.meta.get("seed", 0)))
        x, y = held_out(task, seed, n, length)
        return task.metric(self.predict(x), y)

    def torch_module(self) -> tuple[nn.Module, nn.Module]:
        """``(recurrent, head)`` as torch modules (batch_first) with these weights."""
        import torch
        from torch import nn

        from lstm_viz.torchref.reference import make_torch_model

        c = self.config
        rec = make_torch_model(
            self.variant, c["input_size"], c["hidden_size"], num_layers=c.get("num_layers", 1),
            bias=c.get("bias", True), batch_first=True,
            bidirectional=c.get("bidirectional", False), proj_size=c.get("proj_size", 0),
        )
        rec.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.state.items()})
        head = nn.Linear(self.head_weight.shape[1], self.head_weight.shape[0])
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(np.array(self.head_weight)))
            head.bias.copy_(torch.from_numpy(np.array(self.head_bias)))
        return rec.eval(), head.eval()

    # -- files ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "task": self.task,
            "variant": self.variant,
            "config": {k: self.config[k] for k in CONFIG_KEYS if k in self.config},
            "output_size": int(self.head_weight.shape[0]),
            "vocab": list(self.vocab) if self.vocab is not None else None,
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``<path>.npz`` (arrays) and ``<path>.json`` (the rest); returns both paths."""
        base = _base(path)
        base.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"state.{k}": np.asarray(v, dtype=np.float32) for k, v in self.state.items()}
        arrays["head.weight"] = np.asarray(self.head_weight, dtype=np.float32)
        arrays["head.bias"] = np.asarray(self.head_bias, dtype=np.float32)
        npz, js = base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")
        with open(npz, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        js.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n",
                      encoding="utf-8")
        return npz, js


def _base(path: str | Path) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".npz", ".json") else p


def load(path: str | Path) -> TrainedModel:
    """Read a model written by :meth:`TrainedModel.save` (``path`` with or without extension)."""
    base = _base(path)
    npz, js = base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")
    for p in (npz, js):
        if not p.is_file():
            raise InputError(f"model file {p} not found (a model is a .npz and a .json pair)")
    try:
        info = json.loads(js.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{js.name} is not valid JSON: {exc}") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise InputError(f"{js.name} is not an lstm-viz model file (no \"format\": \"{FORMAT}\")")
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: np.array(data[k]) for k in data.files}
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {npz.name}: {exc}") from None
    if "head.weight" not in arrays or "head.bias" not in arrays:
        raise InputError(f"{npz.name} has no head.weight / head.bias")
    state = {k[len("state."):]: v for k, v in arrays.items() if k.startswith("state.")}
    vocab = info.get("vocab")
    return TrainedModel(
        task=str(info["task"]),
        variant=str(info["variant"]),
        config=dict(info["config"]),
        state=state,
        head_weight=arrays["head.weight"],
        head_bias=arrays["head.bias"],
        vocab=tuple(vocab) if vocab is not None else None,
        meta=dict(info.get("meta", {})),
    )


# --------------------------------------------------------------------------------------------------
# the shipped models


def list_shipped(models_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """``(task, variant)`` of every shipped model, in task then variant order."""
    folder = MODELS_DIR if models_dir is None else Path(models_dir)
    found = set()
    for js in folder.glob("*_*.json"):
        task, _, variant = js.stem.partition("_")
        if task in TASKS and js.with_suffix(".npz").is_file():
            found.add((task, variant))
    order = {v: k for k, v in enumerate(SHIPPED_VARIANTS)}
    tasks = list(TASKS)
    return sorted(found, key=lambda tv: (tasks.index(tv[0]), order.get(tv[1], 99), tv[1]))


@lru_cache(maxsize=64)
def load_shipped(task: str, variant: str) -> TrainedModel:
    """The shipped model for ``task`` and ``variant`` (cached: treat it as read-only)."""
    base = MODELS_DIR / f"{task}_{variant}"
    if not base.with_name(base.name + ".json").is_file():
        have = ", ".join(f"{t}/{v}" for t, v in list_shipped()) or "none"
        raise InputError(f"no shipped model for task {task!r} and variant {variant!r}; "
                         f"shipped: {have}")
    return load(base)
