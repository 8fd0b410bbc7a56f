"""Hostile weights files through the real app: ``python -m lstm_viz.bench.hostile_app``.

Issue #11's bar: each file "ends in one sentence within 15 s, the server's RSS grows ≤ 1 GB
during it and returns within 300 MB of where it was; no traceback under a 6 GB cap". This starts
``streamlit run app.py`` with a 6 GB address-space cap (``--cap``), opens the "Your model" page
in headless Chromium, uploads each file of ``lstm_viz.bench.hostile`` (the issue's sizes;
``--small`` for the tests' sizes) in turn, and prints for each: seconds from upload to the
page's error, the server's peak RSS growth during it (sampled every 20 ms from /proc), its RSS
3 s later against the start, whether an exception box or a console error showed, and the sentence.
Exit status 1 when any file breaks the bar.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from lstm_viz.bench.harness import (
    Server,
    assert_no_exception,
    launch_chromium,
    rss_mb,
    wait_for_app,
)
from lstm_viz.bench.hostile import HOSTILE, build

MAIN = '[data-testid="stMain"]'


class PeakRSS:
    """The highest RSS of a process while the ``with`` block runs (sampled every 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> PeakRSS:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_file(page, server: Server, folder: Path, key: str, small: bool) -> dict:
    filename, data = build(key, small=small)
    path = folder / filename
    path.write_bytes(data)
    del data
    page.goto(server.base + "/Your_model?step=0")
    wait_for_app(page, timeout_ms=120_000)
    errors_before = len(page.console_errors)
    before = server.rss
    t0 = time.monotonic()
    with PeakRSS(server.proc.pid) as peak:
        page.locator(f'{MAIN} input[type="file"]').set_input_files(str(path))
        page.locator(f'{MAIN} [data-testid="stAlertContentError"]').first.wait_for(
            timeout=120_000)
        seconds = time.monotonic() - t0
        wait_for_app(page, timeout_ms=120_000)
    time.sleep(3)
    after = server.rss
    path.unlink()
    try:
        assert_no_exception(page)
        exception = ""
    except AssertionError as exc:
        exception = str(exc)[:200]
    message = page.locator(f'{MAIN} [data-testid="stAlertContentError"]').first.inner_text()
    return {"file": key, "seconds": seconds, "before_mb": before,
            "peak_growth_mb": peak.peak - before, "after_mb": after, "message": message,
            "exception": exception, "console_errors": page.console_errors[errors_before:]}


def warm_up(page, server: Server, folder: Path) -> None:
    """Load what every upload uses (torch, the page) with one valid file: nn.LSTM(2, 8)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(torch.nn.LSTM(2, 8).state_dict(), buf)
    path = folder / "valid.pt"
    path.write_bytes(buf.getvalue())
    page.goto(server.base + "/Your_model?step=0")
    wait_for_app(page, timeout_ms=120_000)
    page.locator(f'{MAIN} input[type="file"]').set_input_files(str(path))
    page.get_by_text("What valid.pt holds").wait_for(timeout=120_000)
    wait_for_app(page, timeout_ms=120_000)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lstm_viz.bench.hostile_app",
                                description=__doc__.split("\n")[0])
    p.add_argument("--small", action="store_true", help="the tests' reduced sizes")
    p.add_argument("--cap", type=float, default=6.0, help="the server's memory cap, GB")
    p.add_argument("names", nargs="*", help="only these files (default: all)")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    bad = 0
    with Server(memory_cap=int(args.cap * 1e9)) as server, sync_playwright() as pw, \
            tempfile.TemporaryDirectory() as tmp:
        browser = launch_chromium(pw.chromium)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        print(f"server RSS cold {server.rss:.0f} MB, cap {args.cap:g} GB")
        warm_up(page, server, Path(tmp))
        start = server.rss
        print(f"server RSS after a valid upload (the baseline) {start:.0f} MB")
        print(f"{'file':24} {'seconds':>7} {'peak +MB':>9} {'after-start MB':>14}  sentence")
        for key in args.names or list(HOSTILE):
            r = one_file(page, server, Path(tmp), key, args.small)
            ok = (r["seconds"] <= 15 and r["peak_growth_mb"] <= 1024
                  and r["after_mb"] - start <= 300 and not r["exception"]
                  and not r["console_errors"])
            bad += not ok
            msg = r["message"].replace("\n", " ")
            print(f"{key:24} {r['seconds']:>7.2f} {r['peak_growth_mb']:>9.0f} "
                  f"{r['after_mb'] - start:>14.0f}  {'' if ok else 'FAIL '}{msg[:110]}"
                  + (f" [{r['exception']}]" if r["exception"] else "")
                  + (f" console: {r['console_errors']}" if r["console_errors"] else ""),
                  flush=True)
        browser.close()
    print(f"{bad} of {len(args.names or HOSTILE)} files broke the bar")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
