"""Train a small recurrent model on a built-in task with torch, reproducibly from a seed.

    python -m lstm_viz.training.train TASK --variant V [--hidden N --layers N --steps N --seed S
                                      --out DIR]
    python -m lstm_viz.training.train --all --out lstm_viz/models     # rebuild every shipped model

The recurrent part comes from :func:`lstm_viz.torchref.reference.make_torch_model` (torch's own
LSTM / GRU / RNN, or a reference module for the other variants), with a linear readout on h;
Adam with a cosine-decayed learning rate and gradient clipping. The result is a
:class:`lstm_viz.training.zoo.TrainedModel` whose held-out metric (torch forward pass, fresh
seed) is recorded in its ``meta``.

torch is imported at the top here: the app imports this module lazily, only to train.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_viz.core.variants import BLOCKS, is_lstm
from lstm_viz.core.variants import variant as variant_row
from lstm_viz.torchref.reference import make_torch_model
from lstm_viz.training.tasks import TASKS, Task, get_task
from lstm_viz.training.zoo import SHIPPED_VARIANTS, TrainedModel, eval_size, held_out

Callback = Callable[[int, int, float], bool]

CLIP_NORM = 1.0
FINAL_LR_FRACTION = 0.05


class Net(nn.Module):
    """Recurrent module (batch_first) + linear head on its output h."""

    def __init__(self, rec: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.rec = rec
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rec(x)
        return self.head(out)


def build(task: Task, variant: str, hidden_size: int, num_layers: int, seed: int,
          forget_bias: float = 0.0) -> Net:
    """A freshly initialised network; the seed fixes every weight (torch's global RNG untouched).

    ``forget_bias`` is added to the forget gate's bias (``bias_hh``) of every LSTM layer, so the
    cell starts out remembering (Gers et al. 2000; Jozefowicz et al. 2015); for a coupled
    variant (cifg), where f = 1 − i, it is subtracted from the input gate's bias instead; gru
    and rnn keep theirs.
    """
    rec = make_torch_model(variant, task.input_size, hidden_size, num_layers=num_layers,
                           batch_first=True, seed=seed)
    blocks = BLOCKS[variant]
    gate, sign = ("i", -1.0) if variant_row(variant).coupled else ("f", 1.0)
    if forget_bias and is_lstm(variant) and gate in blocks:
        k = blocks.index(gate)
        with torch.no_grad():
            for name, param in rec.named_parameters():
                if name.startswith("bias_hh"):
                    param[k * hidden_size:(k + 1) * hidden_size] += sign * forget_bias
    head = nn.Linear(hidden_size, task.output_size)
    gen = torch.Generator().manual_seed(seed + 7919)
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        head.weight.uniform_(-bound, bound, generator=gen)
        head.bias.uniform_(-bound, bound, generator=gen)
    return Net(rec, head)


def loss_fn(task: Task, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The task's loss on head outputs ``pred`` (B, T, O) and targets ``y``."""
    if not task.per_step:
        pred = pred[:, -1]
    if task.loss == "ce":
        return nn.functional.cross_entropy(pred.reshape(-1, pred.shape[-1]), y.reshape(-1))
    return nn.functional.mse_loss(pred, y)


def _targets(task: Task, y: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(y.astype(np.int64) if task.loss == "ce" else y.astype(np.float32))


def to_trained(net: Net, task: Task, variant: str, hidden_size: int, num_layers: int,
               meta: dict) -> TrainedModel:
    """Copy the torch weights out into a :class:`TrainedModel`."""
    state = {k: v.detach().cpu().numpy().astype(np.float32).copy()
             for k, v in net.rec.state_dict().items()}
    return TrainedModel(
        task=task.name,
        variant=variant,
        config={"input_size": task.input_size, "hidden_size": hidden_size,
                "num_layers": num_layers, "bidirectional": False, "proj_size": 0, "bias": True},
        state=state,
        head_weight=net.head.weight.detach().cpu().numpy().astype(np.float32).copy(),
        head_bias=net.head.bias.detach().cpu().numpy().astype(np.float32).copy(),
        vocab=task.vocab,
        meta=meta,
    )


@torch.no_grad()
def evaluate_torch(net: Net, task: Task, seed: int) -> float:
    """The task metric of ``net`` on the held-out sequences for ``seed`` (torch forward pass)."""
    x, y = held_out(task, seed)
    net.eval()
    pred = net(torch.from_numpy(x)).numpy()
    net.train()
    return task.metric(pred, y)


def train(
    task: str,
    variant: str,
    *,
    hidden_size: int | None = None,
    num_layers: int = 1,
    steps: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    lr: float | None = None,
    forget_bias: float = 1.0,
    time_budget_s: float | None = None,
    callback: Callback | None = None,
) -> TrainedModel:
    """Train ``variant`` on ``task``; ``None`` arguments take the task's defaults.

    Everything is drawn from ``seed`` (weights, batches, lengths), and torch runs on one thread,
    so a run repeats exactly. ``callback(step, total_steps, loss)`` is called after every step;
    returning ``False`` stops training (as does running past ``time_budget_s``), and the model
    trained so far is returned.
    """
    t = get_task(task)
    hidden_size = t.default_hidden if hidden_size is None else int(hidden_size)
    steps = t.default_steps if steps is None else int(steps)
    batch_size = t.default_batch if batch_size is None else int(batch_size)
    lr = t.default_lr if lr is None else float(lr)
    if hidden_size < 1 or num_layers < 1 or steps < 1 or batch_size < 1 or not lr > 0:
        raise ValueError("hidden_size, num_layers, steps, batch_size and lr must be positive")

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        cpu_start = time.process_time()
        net = build(t, variant, hidden_size, num_layers, seed, forget_bias)
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt,
            lambda k: FINAL_LR_FRACTION
            + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps)),
        )
        rng = np.random.default_rng(seed)
        losses: list[float] = []
        stopped = None
        done = 0
        for step in range(1, steps + 1):
            lo, hi = t.train_range(step - 1, steps)
            length = int(rng.integers(lo, hi + 1))
            x, y = t.generate(batch_size, length, rng)
            loss = loss_fn(t, net(torch.from_numpy(x)), _targets(t, y))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), CLIP_NORM)
            opt.step()
            sched.step()
            losses.append(float(loss.item()))
            done = step
            if callback is not None:
                keep_going = callback(step, steps, losses[-1])
                if keep_going is not None and not keep_going:
                    stopped = "callback"
                    break
            if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
                stopped = "time budget"
                break
        train_seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
        value = evaluate_torch(net, t, seed)
    finally:
        torch.set_num_threads(threads)

    tail = losses[-max(1, min(20, len(losses) // 5)):]
    meta = {
        "seed": seed,
        "steps": done,
        "steps_planned": steps,
        "stopped_early": stopped,
        "batch_size": batch_size,
        "lr": lr,
        "forget_bias": forget_bias,
        "train_length": list(t.train_length),
        "curriculum": list(t.curriculum) if t.curriculum else None,
        "loss": t.loss,
        "final_loss": float(np.mean(tail)) if tail else None,
        "loss_curve": [round(v, 5) for v in losses[:: max(1, len(losses) // 100)]],
        "metric": t.metric_name,
        "metric_value": float(value),
        "higher_is_better": t.higher_is_better,
        "eval": {"seed": seed, "n": eval_size(t), "length": t.eval_length,
                 "rng": "numpy.random.default_rng([seed, 1])", "what": t.eval_note},
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(cpu_seconds, 2),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
    }
    return to_trained(net, t, variant, hidden_size, num_layers, meta)


# --------------------------------------------------------------------------------------------------
# command line


def _report(m: TrainedModel) -> str:
    meta = m.meta
    return (f"{m.task:9s} {m.variant:9s} {meta['metric']} = {meta['metric_value']:.4f}  "
            f"loss {meta['final_loss']:.4f}  {meta['steps']} steps  "
            f"{meta['train_seconds']:.1f} s ({meta['train_cpu_seconds']:.1f} s CPU)")


def train_all(out: Path, seed: int = 0, tasks: list[str] | None = None,
              variants: list[str] | None = None) -> dict:
    """Train and save every task x shipped variant with the default configs; write a manifest."""
    start = time.perf_counter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = []
    for task in tasks or list(TASKS):
        for variant in variants or list(SHIPPED_VARIANTS):
            m = train(task, variant, seed=seed)
            m.save(out / m.name)
            print(_report(m), flush=True)
            rows.append({"task": task, "variant": variant, "metric": m.meta["metric"],
                         "metric_value": m.meta["metric_value"],
                         "final_loss": m.meta["final_loss"],
                         "train_seconds": m.meta["train_seconds"],
                         "train_cpu_seconds": m.meta["train_cpu_seconds"],
                         "hidden_size": m.config["hidden_size"], "steps": m.meta["steps"]})
    total = time.perf_counter() - start
    manifest = {"command": "python -m lstm_viz.training.train --all --out " + str(out),
                "seed": seed, "total_seconds": round(total, 1),
                "cpu_count": os.cpu_count(), "load_average_1min_at_start": load_before,
                "load_average_1min_at_end": os.getloadavg()[0] if load_before is not None else None,
                "torch_version": torch.__version__, "models": rows}
    if tasks is None and variants is None:
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"total {total:.1f} s", flush=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lstm_viz.training.train",
                                description=__doc__.split("\n")[0])
    p.add_argument("task", nargs="?", choices=list(TASKS), help="the task to train on")
    p.add_argument("--all", action="store_true",
                   help="train every task x variant (" + ", ".join(SHIPPED_VARIANTS) + ")")
    p.add_argument("--variant", default="vanilla")
    p.add_argument("--hidden", type=int, default=None, help="hidden size (task default)")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="training steps (task default)")
    p.add_argument("--batch", type=int, default=None, help="batch size (task default)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (task default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--out", type=Path, default=None, help="folder for <task>_<variant>.npz/.json")
    args = p.parse_args(argv)
    if args.all:
        train_all(args.out or Path(__file__).resolve().parents[1] / "models", seed=args.seed)
        return 0
    if args.task is None:
        p.error("give a TASK or --all")
    m = train(args.task, args.variant, hidden_size=args.hidden, num_layers=args.layers,
              steps=args.steps, seed=args.seed, batch_size=args.batch, lr=args.lr,
              time_budget_s=args.time_budget)
    print(_report(m))
    if args.out is not None:
        npz, js = m.save(args.out / m.name)
        print(f"saved {npz} and {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
