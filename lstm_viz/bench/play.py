"""Stepping and playing in real browsers: ``python -m lstm_viz.bench.play [--tabs 1 5]``.

Issue #15's targets: a step drawn at most 50 ms after the key press; play at 30 steps a second
or more in one tab and at 10 or more in each of five tabs, on 2 cores. Both run in the browser
(``lstm_viz/ui/stepper.py``): the server hears the step only after play pauses or 250 ms after
the last key.

1. Key press -> diagram drawn: one tab on ``/?task=TASK&step=0``, the page focused, ``--presses``
   presses of the right arrow (left past the end), ``--gap`` ms apart. The component records,
   per press, the time from the key event to the frame after it drew the step
   (``window.lstmVizStepper.latencies``): median, p95, max.
2. Play: for each tab count N, N tabs (separate browser contexts: separate sessions) at step 0,
   the play speed set to ``--speed``, Play pressed in each at about the same time; each tab's
   rate is its steps played over the time between its first and last step (timestamps the
   component keeps), and the server's CPU seconds meanwhile.

Exit status 1 when a tab did not play to its end within ``--timeout`` s or any error was seen
(console, page). A shared machine's numbers are noisy: run it twice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from lstm_viz.bench.harness import APP, Server, cpu_s, launch_chromium, wait_for_app

PROBE = "() => window.lstmVizStepper ? Object.assign({}, window.lstmVizStepper) : null"
SHOWN = "() => document.getElementById('root').style.display === 'block'"


def stepper_frame(page, timeout_s: float = 90.0):
    """The stepper component's frame once it is shown."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if "lstm_viz_stepper" in f.url), None)
        if frame is not None and frame.evaluate(SHOWN):
            return frame
        page.wait_for_timeout(100)
    raise TimeoutError("the stepper component was not shown")


def open_tab(browser, base: str, task: str, errors: list[str], k: int):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(
        f"tab {k}: console.error {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"tab {k}: {e}"))
    page.goto(f"{base}/?task={task}&step=0")
    wait_for_app(page, timeout_ms=90_000)
    frame = stepper_frame(page)
    wait_for_app(page, timeout_ms=90_000)
    return ctx, page, frame


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(browser, base: str, task: str, presses: int, gap_ms: int) -> dict:
    errors: list[str] = []
    ctx, page, frame = open_tab(browser, base, task, errors, 0)
    try:
        page.locator("h1").click()
        last = int(frame.evaluate("() => document.getElementById('slider').max"))
        forward = True
        for _ in range(presses):
            step = frame.evaluate(PROBE)["step"]
            if step >= last:
                forward = False
            elif step <= 0:
                forward = True
            page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
            page.wait_for_timeout(gap_ms)
        page.wait_for_timeout(300)
        lat = frame.evaluate(PROBE)["latencies"]
        return {"latencies": lat, "errors": errors}
    finally:
        ctx.close()


def play(browser, base: str, tabs: int, task: str, speed: int, timeout_s: float,
         server: Server) -> dict:
    errors: list[str] = []
    opened = [open_tab(browser, base, task, errors, k) for k in range(tabs)]
    try:
        frames = [frame for _, _, frame in opened]
        for frame in frames:
            frame.locator("#speed").select_option(str(speed))
        cpu0 = cpu_s(server.proc.pid)
        for frame in frames:
            frame.get_by_role("button", name="Play", exact=True).click()
        deadline = time.monotonic() + timeout_s
        done = [False] * tabs
        while not all(done) and time.monotonic() < deadline:
            time.sleep(0.2)
            for k, frame in enumerate(frames):
                if not done[k]:
                    p = frame.evaluate(PROBE)
                    done[k] = not p["playing"] and p["played"] > 0
        rates, draw_ms = [], []
        for frame in frames:
            p = frame.evaluate(PROBE)
            times = p["times"]
            rates.append((len(times) - 1) / ((times[-1] - times[0]) / 1000)
                         if len(times) > 1 and times[-1] > times[0] else 0.0)
            draw_ms.append(p["drawMs"] / max(1, p["drawn"]))
        return {"tabs": tabs, "rates": rates, "finished": sum(done), "draw_ms": draw_ms,
                "server_cpu_s": cpu_s(server.proc.pid) - cpu0, "errors": errors}
    finally:
        for ctx, _, _ in opened:
            ctx.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tabs", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--task", default="text", help="whose example is played (text: 200 steps)")
    ap.add_argument("--speed", type=int, default=30, help="play speed asked for (steps/s)")
    ap.add_argument("--presses", type=int, default=60)
    ap.add_argument("--gap", type=int, default=80, help="ms between key presses")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    bad = False
    with sync_playwright() as pw, Server(APP) as server:
        browser = launch_chromium(pw.chromium)
        try:
            r = latency(browser, server.base, args.task, args.presses, args.gap)
            lat = r["latencies"]
            if lat:
                print(f"key press -> step drawn, {len(lat)} presses: median "
                      f"{statistics.median(lat):.1f} ms, p95 {pct(lat, 0.95):.1f} ms, max "
                      f"{max(lat):.1f} ms; errors {len(r['errors'])}", flush=True)
            else:
                print("key press -> step drawn: no latency recorded", flush=True)
            bad |= not lat or bool(r["errors"])
            for e in r["errors"][:5]:
                print("   ", e)
            for n in args.tabs:
                r = play(browser, server.base, n, args.task, args.speed, args.timeout, server)
                rates = r["rates"]
                print(f"play at {args.speed} steps/s, {n} tab(s): {r['finished']}/{n} reached "
                      f"the end; steps a second: median {statistics.median(rates):.1f}, min "
                      f"{min(rates):.1f} ({', '.join(f'{x:.1f}' for x in rates)}); server CPU "
                      f"{r['server_cpu_s']:.1f} s; a step's drawing (JS) "
                      f"{statistics.mean(r['draw_ms']):.1f} ms; errors {len(r['errors'])}",
                      flush=True)
                for e in r["errors"][:5]:
                    print("   ", e)
                bad |= r["finished"] < n or bool(r["errors"])
        finally:
            browser.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
