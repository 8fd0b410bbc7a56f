"""The load benchmark's phase barrier (``lstm_viz.bench.load.Ready``): timed clicks start only once
every session is set up, and a session that failed early never holds the others."""

from __future__ import annotations

import asyncio

import pytest

from lstm_viz.bench.load import Ready
from lstm_viz.bench.load_report import pct


def test_clicks_wait_for_every_session_and_a_failed_one_still_arrives():
    async def run() -> list[str]:
        ready, log = Ready(3, settle_s=0.01), []

        async def session(k: int, fail: bool = False) -> None:
            try:
                await asyncio.sleep(0.01 * k)
                if fail:
                    raise RuntimeError("upload failed")
                log.append(f"set up {k}")
                await ready.arrive_and_wait(5)
                log.append(f"clicks {k}")
            except RuntimeError:
                log.append(f"failed {k}")
            finally:
                ready.arrive()          # as run_session does: idempotent for one task

        await asyncio.gather(session(0), session(1), session(2, fail=True))
        return log

    log = asyncio.run(run())
    first_click = min(i for i, e in enumerate(log) if e.startswith("clicks"))
    assert {"set up 0", "set up 1", "failed 2"} <= set(log[:first_click])
    assert sorted(e for e in log if e.startswith("clicks")) == ["clicks 0", "clicks 1"]


def test_a_missing_session_times_the_wait_out():
    async def run() -> None:
        await Ready(2, settle_s=0.0).arrive_and_wait(0.05)

    with pytest.raises(TimeoutError):
        asyncio.run(run())


def test_pct_is_the_nearest_rank():
    assert pct([], 0.95) == 0.0
    assert pct(list(range(1, 101)), 0.95) == 96 and pct([5.0], 0.5) == 5.0
