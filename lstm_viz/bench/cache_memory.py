"""Memory of the shared result cache: ``python -m lstm_viz.bench.cache_memory [--texts 4]``.

Issue #11: Compare variants kept its runs in a cache with no byte bound (~1.1 GB more RSS per
200,000-step text). This opens the Compare variants page (AppTest, one session per text) on N
different random texts of ``--steps`` characters over the text task's vocabulary and prints,
after each, the seconds the run took, the process's RSS and what the shared cache
(``lstm_viz.ui.trace_cache.RESULTS``, bounded by ``MAX_CACHE_BYTES``) holds.
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np
from streamlit.testing.v1 import AppTest

from lstm_viz.bench.harness import APP, rss_mb
from lstm_viz.files import loaders
from lstm_viz.training.zoo import load_shipped
from lstm_viz.ui import trace_cache


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m lstm_viz.bench.cache_memory",
                                description=__doc__.split("\n")[0])
    p.add_argument("--texts", type=int, default=4, help="how many different texts (sessions)")
    p.add_argument("--steps", type=int, default=200_000, help="characters per text")
    args = p.parse_args(argv)
    vocab = load_shipped("text", "vanilla").vocab
    cache = trace_cache.RESULTS
    rows = []
    print(f"RSS at start: {rss_mb(os.getpid()) / 1024:.2f} GB; cache bound "
          f"{trace_cache.MAX_CACHE_BYTES / 1024**3:.1f} GB", flush=True)
    for k in range(args.texts):
        rng = np.random.default_rng(k)
        text = "".join(rng.choice(list(vocab), size=args.steps))   # a different text each time
        seq = loaders.load_sequence(f"text{k}.txt", text.encode(), vocab=vocab)
        at = AppTest.from_file(str(APP), default_timeout=900)
        at.query_params["task"] = "text"
        at.query_params["step"] = "0"
        at.session_state["uploaded_sequence"] = seq
        at.session_state["seq_source"] = "upload"
        at.switch_page("pages/1_Compare_variants.py")
        t0 = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - t0
        if at.exception:
            raise SystemExit(f"text {k + 1}: the page raised {[e.value for e in at.exception]}")
        del at
        gc.collect()
        row = {"text": k + 1, "seconds": seconds, "rss_gb": rss_mb(os.getpid()) / 1024,
               "cache_gb": cache.nbytes / 1024**3, "entries": len(cache)}
        rows.append(row)
        print(f"text {row['text']}: {seconds:.1f} s, RSS {row['rss_gb']:.2f} GB, shared cache "
              f"{row['cache_gb']:.2f} GB ({row['entries']} entries)", flush=True)
    return rows


if __name__ == "__main__":
    main()
