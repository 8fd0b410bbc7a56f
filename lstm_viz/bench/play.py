"""How fast play runs in real browsers: ``python -m lstm_viz.bench.play [--tabs 1 3 5]``.

DESIGN asks for at least 10 steps a second while playing. Play is paced by the browser (see
``lstm_viz/ui/player.py``): each tab asks for the next step when the last one has arrived, so
the rate is min(10 a second, 1 / round trip), and several tabs share the server's CPU.

For each tab count N: start ``streamlit run app.py`` on a free 127.0.0.1 port, open N tabs
(separate browser contexts, so separate sessions) on ``/?task=TASK&step=0``, press Play in each
at about the same time and poll each tab's "Step t of T" heading until every tab shows its last
step. Prints, per N, each tab's steps a second (steps played / wall time from its Play click
to its last step), the server's CPU seconds and the errors seen (console, page, HTTP). Exit
status 1 when a tab did not finish within ``--timeout`` seconds or any error was seen.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from lstm_viz.bench.harness import APP, HEADING, Server, cpu_s, launch_chromium

STEP_JS = ("() => { const h = Array.from(document.querySelectorAll('h4'))"
           ".map(e => e.innerText).filter(t => t.startsWith('Step')); return h[0] || null; }")


def heading(page) -> tuple[int, int] | None:
    m = HEADING.search(page.evaluate(STEP_JS) or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def run(tabs: int, task: str, timeout_s: float, browser) -> dict:
    server = Server(APP)
    errors: list[str] = []
    contexts = []
    try:
        pages = []
        for k in range(tabs):
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            contexts.append(ctx)
            page = ctx.new_page()
            page.on("console", lambda m, k=k: m.type == "error" and errors.append(
                f"tab {k}: console.error {m.text}"))
            page.on("pageerror", lambda e, k=k: errors.append(f"tab {k}: {e}"))
            page.goto(f"{server.base}/?task={task}&step=0")
            page.get_by_role("button").filter(has_text="Play").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            pages.append(page)
        cpu0 = cpu_s(server.proc.pid)
        started, ended = [], [None] * tabs
        for page in pages:
            page.get_by_role("button").filter(has_text="Play").click()
            started.append(time.monotonic())
        last = None
        deadline = time.monotonic() + timeout_s
        while None in ended and time.monotonic() < deadline:
            for k, page in enumerate(pages):
                if ended[k] is None:
                    seen = heading(page)
                    if seen and seen[0] == seen[1]:
                        ended[k], last = time.monotonic(), seen[1]
            time.sleep(0.05)
        rates = [last / (e - s) if e else 0.0 for s, e in zip(started, ended, strict=True)]
        return {"tabs": tabs, "steps": last, "rates": rates, "finished": sum(e is not None
                for e in ended), "server_cpu_s": cpu_s(server.proc.pid) - cpu0,
                "errors": errors}
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tabs", type=int, nargs="+", default=[1, 3, 5])
    ap.add_argument("--task", default="sine", help="whose example is played (sine: 80 steps)")
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    bad = False
    with sync_playwright() as pw:
        browser = launch_chromium(pw.chromium)
        try:
            for n in args.tabs:
                r = run(n, args.task, args.timeout, browser)
                rates = r["rates"]
                print(f"{n} tab(s), {r['steps']} steps: {r['finished']}/{n} reached the end; "
                      f"steps a second: median {statistics.median(rates):.1f}, min "
                      f"{min(rates):.1f} ({', '.join(f'{x:.1f}' for x in rates)}); server CPU "
                      f"{r['server_cpu_s']:.1f} s; errors {len(r['errors'])}", flush=True)
                for e in r["errors"][:5]:
                    print("   ", e)
                bad |= r["finished"] < n or bool(r["errors"])
        finally:
            browser.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
