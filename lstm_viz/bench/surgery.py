"""Ranking every unit by ablation: ``python -m lstm_viz.bench.surgery [--hidden 128 --steps 1000]``.

Issue #14's target: all units of an H=128, T=1,000 model ranked by ablation in ≤ 2 s. One batched
run holds one unit per batch row (``lstm_viz.analysis.surgery.ablate_each_unit``), in chunks of
bounded memory; this prints the best of ``--repeat`` runs, and the chunking it used.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lstm_viz.analysis import surgery
from lstm_viz.core import Recurrent


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m lstm_viz.bench.surgery",
                                description=__doc__.split("\n")[0])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--inputs", type=int, default=8)
    p.add_argument("--variant", default="vanilla")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    model = Recurrent(args.inputs, args.hidden, variant=args.variant, seed=0)
    x = np.random.default_rng(0).normal(size=(args.steps, args.inputs)).astype(np.float32)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ab = surgery.ablate_each_unit(model, x, "c", "mean")
        times.append(time.perf_counter() - t0)
    per_row = model.trace_nbytes(args.steps)
    chunk = max(1, min(args.hidden, surgery.MAX_CHUNK_BYTES // per_row))
    report = {"hidden": args.hidden, "steps": args.steps, "best_s": min(times),
              "runs_s": times, "chunk_rows": chunk, "top_units": ab.ranking[:5].tolist()}
    print(f"{args.variant}, hidden {args.hidden}, {args.steps} steps: all {args.hidden} units "
          f"ranked in {min(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}; "
          f"{chunk} units a batch); most damaging: {report['top_units']}")
    return report


if __name__ == "__main__":
    main()
