"""Benchmark of the stepper, server side: ``python -m lstm_viz.bench.app_step``.

Issue #3's target: one step (a click on "Next", the rerun it causes) at T = 1000, hidden 64
takes at most 50 ms on the server. Measured with Streamlit's AppTest, best and median of N clicks,
after a first run that traces and builds the heatmaps. Two numbers: the script run itself (the
server's work for a step, timed around the page's code) and the AppTest round trip (which adds
AppTest's own polling and element-tree parsing).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from pathlib import Path

import numpy as np

APP = Path(__file__).resolve().parents[2] / "app.py"
SCRIPT_TIMES: list[float] = []       # filled by the timed wrapper script, same process


def _timed_app() -> None:
    """The wrapper AppTest runs: the real page, timed (AppTest.from_function needs no imports
    from outside the function)."""
    import runpy
    import time as _time

    from lstm_viz.bench import app_step as bench_app

    t0 = _time.perf_counter()
    try:
        runpy.run_path(str(bench_app.APP), run_name="__main__")
    finally:
        bench_app.SCRIPT_TIMES.append(_time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--clicks", type=int, default=20)
    args = parser.parse_args(argv)

    from streamlit.testing.v1 import AppTest

    from lstm_viz.files.sequence import Sequence

    rng = np.random.default_rng(0)
    seq = Sequence(rng.standard_normal((args.steps, 2)).astype(np.float32), name="bench")
    at = AppTest.from_function(_timed_app, default_timeout=120)
    at.session_state["uploaded_sequence"] = seq
    at.session_state["seq_source"] = "upload"
    at.session_state["model_kind"] = "fresh"
    at.session_state["hidden"] = args.hidden
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception[0].value}")
    nxt = next(b for b in at.button if b.label.startswith("Next"))
    # run as ``python -m``, this module is __main__: the wrapper fills the importable one's list
    script_times = importlib.import_module("lstm_viz.bench.app_step").SCRIPT_TIMES
    times = []
    script_times.clear()
    for _ in range(args.clicks):
        t0 = time.perf_counter()
        nxt.click().run()
        times.append(time.perf_counter() - t0)
        nxt = next(b for b in at.button if b.label.startswith("Next"))
    assert int(at.session_state["step"]) == args.clicks, "the clicks did not step"
    runs = script_times[-args.clicks:]
    med, rt = statistics.median(runs), statistics.median(times)
    print(f"stepper, T={args.steps}, hidden={args.hidden}: first run {first * 1e3:.0f} ms "
          f"(trace + heatmaps)")
    print(f"  a step, the script run (server side): best {min(runs) * 1e3:.1f} ms, median "
          f"{med * 1e3:.1f} ms over {args.clicks} clicks (target <= 50 ms) "
          f"{'OK' if med <= 0.05 else 'MISSED'}")
    print(f"  a step, AppTest round trip:           best {min(times) * 1e3:.1f} ms, median "
          f"{rt * 1e3:.1f} ms")
    return {"first": first, "script_median": med, "roundtrip_median": rt}


if __name__ == "__main__":
    main()
