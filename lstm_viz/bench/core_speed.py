"""Benchmark of the core: ``python -m lstm_viz.bench.core_speed``.

Times, side by side in one run, at batch 1, T = 1000, input 8, hidden 64, float32 (best of N):
- ``Recurrent.trace`` (NumPy, every gate kept),
- a torch loop that records the same gates step by step (``torch_loop_lstm_trace``),
- torch's fused ``nn.LSTM`` forward (records nothing),
and prints the ratios that issue #2 sets: trace / torch loop <= 0.5, trace / fused within 3.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed calls, in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--input", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)

    import torch

    from lstm_viz.core import Recurrent
    from lstm_viz.torchref.reference import torch_loop_lstm_trace

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    module = torch.nn.LSTM(args.input, args.hidden).eval()
    model = Recurrent.from_torch(module)
    x = np.random.default_rng(0).standard_normal((args.steps, 1, args.input)).astype(np.float32)
    xt = torch.from_numpy(x)

    def fused() -> None:
        with torch.no_grad():
            module(xt)

    def loop() -> None:
        with torch.no_grad():
            torch_loop_lstm_trace(module, xt)

    t_numpy = best_of(lambda: model.trace(x), args.repeat)
    t_loop = best_of(loop, args.repeat)
    t_fused = best_of(fused, args.repeat)
    r_loop, r_fused = t_numpy / t_loop, t_numpy / t_fused
    print(f"B=1 T={args.steps} I={args.input} H={args.hidden} float32, best of {args.repeat}, "
          f"torch threads={args.threads}")
    print(f"  numpy Recurrent.trace      {t_numpy * 1e3:8.2f} ms")
    print(f"  torch loop, gates recorded {t_loop * 1e3:8.2f} ms")
    print(f"  torch nn.LSTM fused        {t_fused * 1e3:8.2f} ms")
    print(f"  trace / torch loop  = {r_loop:.2f}   (target <= 0.5)  "
          f"{'OK' if r_loop <= 0.5 else 'MISSED'}")
    print(f"  trace / torch fused = {r_fused:.2f}   (goal <= 3)     "
          f"{'OK' if r_fused <= 3 else 'MISSED'}")
    return {"numpy": t_numpy, "loop": t_loop, "fused": t_fused}


if __name__ == "__main__":
    main()
