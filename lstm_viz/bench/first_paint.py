"""Time to the first figure of each page: ``python -m lstm_viz.bench.first_paint [--pages ...]``.

Targets (issue #15): the landing page's cell diagram visible within 1.5 s on a warm server and
5 s on a cold one, and no spinner alone on screen for more than 1 s.

For each page: start a fresh ``streamlit run app.py`` (``lstm_viz.bench.harness.Server``), open the
page in Chromium at 1280x720 (cold: the first visit on that server; the server imports and computes
everything for the first time), then ``--warm`` more times, each in a new browser context (warm: a
new visitor, with no HTTP cache, on the same server; the median is the warm figure). In the page,
from its first script on, a probe looks at every animation frame (just before the browser paints)
for the page's title (its first paint) and its first figure (the landing page: the SVG whose
aria-label starts "cell diagram", or the stepper component's iframe once shown; other pages: the
first plotly chart, component iframe or labelled SVG), and measures the longest stretch with a
spinner on screen and no figure yet. Times are seconds from navigation start (the page's
``performance.now()``), as a user who pressed Enter would count. Prints one line per visit;
exit status 1 when a visit timed out or a target was missed on the landing page (``--strict``).

The machine is shared and small: run it a few times, and read the numbers as noisy. Its speed
also drifts between hours (the same commit's warm median measured 1.72 s one day and 1.28 s
another), so a change is judged with ``--against CHECKOUT``: a second server from another
checkout (``git worktree add /tmp/base <commit>``) runs beside this one and the visits alternate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from lstm_viz.bench.harness import APP, Server, launch_chromium, wait_for_app

PAGES = {"landing": "/", "compare": "/Compare_variants", "units": "/Units", "learn": "/Learn",
         "gradient": "/Gradient_flow", "experiments": "/Experiments"}
DIAGRAM = 'svg[aria-label^="cell diagram"], iframe[title*="stepper"]'
FIGURE = (DIAGRAM + ', [data-testid="stPlotlyChart"], [data-testid="stCustomComponentV1"], '
          '[data-testid="stMainBlockContainer"] svg[aria-label]')
SPINNER = '[data-testid="stSpinner"]'
TITLE = '[data-testid="stMainBlockContainer"] h1'
# In the page from its first script on: at every animation frame (just before the browser
# paints), whether the title, a figure and a spinner are on screen, as ms since navigation start
# (performance.now()); the longest stretch with a spinner and no figure yet. Stops once the
# figure is seen. Read from Python every 50 ms: the polling no longer times anything.
PROBE_INIT = """(() => {
  const [figure, spinner, title] = %s;
  const seen = (el) => { const r = el.getBoundingClientRect();
                         return r.width > 0 && r.height > 0; };
  const any = (sel) => Array.from(document.querySelectorAll(sel)).some(seen);
  const fp = window.__firstPaint = { title: null, figure: null, lone: 0 };
  let since = null;
  const frame = (now) => {
    if (!document.documentElement) { requestAnimationFrame(frame); return; }
    const f = any(figure), s = any(spinner);
    if (fp.title === null && any(title)) fp.title = now;
    if (s && !f) { since = since === null ? now : since; fp.lone = Math.max(fp.lone, now - since); }
    else since = null;
    if (f) { fp.figure = now; if (fp.title === null) fp.title = now; return; }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();"""
TARGETS = {"warm": 1.5, "cold": 5.0, "spinner": 1.0}


def visit(browser, url: str, selector: str, timeout_s: float) -> dict:
    """One visit in a fresh context (no HTTP cache: a new visitor): seconds from navigation start
    to the title and to the first figure on screen, the longest lone spinner, and to the script
    run's end (read from Python)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        ctx.add_init_script(PROBE_INIT % json.dumps([selector, SPINNER, TITLE]))
        page = ctx.new_page()
        t0 = time.monotonic()
        page.goto(url, wait_until="commit")
        fp: dict = {}
        while time.monotonic() - t0 < timeout_s:      # bounded by timeout_s
            try:
                fp = page.evaluate("() => window.__firstPaint || {}")
            except Exception:                         # the document is being replaced
                fp = {}
            if fp.get("figure") is not None:
                break
            page.wait_for_timeout(50)
        else:
            return {"first_s": None, "spinner_s": (fp.get("lone") or 0) / 1e3, "done_s": None,
                    "title_s": None}
        wait_for_app(page, timeout_ms=int(timeout_s * 1000))
        return {"first_s": fp["figure"] / 1e3, "spinner_s": fp["lone"] / 1e3,
                "done_s": page.evaluate("() => performance.now()") / 1e3,
                "title_s": fp["title"] / 1e3}
    finally:
        ctx.close()


def _line(name: str, arm: str, kind: str, r: dict, timeout: float) -> str:
    if r["first_s"] is None:
        return f"{name:12s} {arm:8s} {kind:5s}  no figure within {timeout:.0f} s"
    return (f"{name:12s} {arm:8s} {kind:5s}  {r['title_s']:6.2f} s  {r['first_s']:9.2f} s  "
            f"{r['spinner_s']:9.2f} s  {r['done_s']:9.2f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", nargs="+", default=["landing", "compare", "units", "learn"],
                    choices=list(PAGES))
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per visit")
    ap.add_argument("--warm", type=int, default=5, help="warm visits per page (their median)")
    ap.add_argument("--against", type=Path, default=None, metavar="CHECKOUT",
                    help="another checkout of lstm-viz (e.g. a git worktree of an older commit): "
                         "its server runs beside this one and the visits alternate, so a change "
                         "is measured under the same load (this machine's speed drifts)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a landing target misses")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    arms = {"this": APP}
    if args.against is not None:
        arms["against"] = args.against.resolve() / "app.py"
        if not arms["against"].is_file():
            print(f"{arms['against']} not found: --against takes a checkout of lstm-viz")
            return 2
    failed = False
    print("page         server   visit  title      first figure  lone spinner  script done   "
          "(noisy: shared CPU)")
    with sync_playwright() as p:
        browser = launch_chromium(p.chromium)
        try:
            for name in args.pages:
                selector = DIAGRAM if name == "landing" else FIGURE
                with ExitStack() as stack:
                    servers = {arm: stack.enter_context(Server(app)) for arm, app in arms.items()}
                    warm: dict[str, list[float]] = {arm: [] for arm in arms}
                    for k, kind in enumerate(["cold"] + ["warm"] * args.warm):
                        order = list(arms) if k % 2 == 0 else list(arms)[::-1]
                        for arm in order:           # alternate: neither always goes first
                            r = visit(browser, servers[arm].base + PAGES[name], selector,
                                      args.timeout)
                            print(_line(name, arm, kind, r, args.timeout))
                            if r["first_s"] is None:
                                failed = True
                                continue
                            if kind == "warm":
                                warm[arm].append(r["first_s"])
                            if arm != "this" or name != "landing":
                                continue
                            if kind == "cold" and r["first_s"] > TARGETS["cold"]:
                                failed = failed or args.strict
                            if r["spinner_s"] > TARGETS["spinner"]:
                                failed = failed or args.strict
                    for arm, times in warm.items():
                        if not times:
                            continue
                        mid = statistics.median(times)
                        print(f"{name:12s} {arm:8s} warm median of {len(times)}: first figure "
                              f"{mid:.2f} s (min {min(times):.2f}, max {max(times):.2f})")
                        if arm == "this" and name == "landing" and mid > TARGETS["warm"]:
                            failed = failed or args.strict
        finally:
            browser.close()
    print(f"targets (landing): warm <= {TARGETS['warm']} s, cold <= {TARGETS['cold']} s, "
          f"no spinner alone > {TARGETS['spinner']} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
