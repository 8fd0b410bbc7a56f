"""Time to the first figure of each page: ``python -m lstm_viz.bench.first_paint [--pages ...]``.

Targets (issue #15): the landing page's cell diagram visible within 1.5 s on a warm server and
5 s on a cold one, and no spinner alone on screen for more than 1 s.

For each page: start a fresh ``streamlit run app.py`` (``lstm_viz.bench.harness.Server``), open the
page in Chromium at 1280x720 (cold: the first visit on that server; the server imports and computes
everything for the first time), then open it again in a new browser context (warm: a new session on
the same server). Each visit polls the page every 50 ms from the moment the request leaves until
the page's title (its first paint) and then its first figure are visible (the landing page: the SVG
whose aria-label starts "cell diagram", or the stepper component's iframe; other pages: the first
plotly chart, component iframe or labelled SVG), and meanwhile measures the longest stretch with a
spinner on screen and no figure yet. Prints one line per visit; exit status 1 when a visit timed
out or a target was missed on the landing page (``--strict``).

The machine is shared and small: run it a few times, and read the numbers as noisy.
"""

from __future__ import annotations

import argparse
import sys
import time

from lstm_viz.bench.harness import APP, Server, launch_chromium, wait_for_app

PAGES = {"landing": "/", "compare": "/Compare_variants", "units": "/Units", "learn": "/Learn",
         "gradient": "/Gradient_flow", "experiments": "/Experiments"}
DIAGRAM = 'svg[aria-label^="cell diagram"], iframe[title*="stepper"]'
FIGURE = (DIAGRAM + ', [data-testid="stPlotlyChart"], [data-testid="stCustomComponentV1"], '
          '[data-testid="stMainBlockContainer"] svg[aria-label]')
SPINNER = '[data-testid="stSpinner"]'
TITLE = '[data-testid="stMainBlockContainer"] h1'
PROBE_JS = """([figure, spinner, title]) => {
  const seen = (el) => { const r = el.getBoundingClientRect();
                         return r.width > 0 && r.height > 0; };
  const any = (sel) => Array.from(document.querySelectorAll(sel)).some(seen);
  return [any(figure), any(spinner), any(title)];
}"""
TARGETS = {"warm": 1.5, "cold": 5.0, "spinner": 1.0}


def visit(browser, url: str, selector: str, timeout_s: float) -> dict:
    """One visit in a fresh context: seconds to the first figure, the longest lone spinner."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = ctx.new_page()
        t0 = time.monotonic()
        page.goto(url, wait_until="commit")
        spinner_since: float | None = None
        lone_spinner = 0.0
        titled: float | None = None
        while True:                                 # bounded by timeout_s
            now = time.monotonic()
            try:
                figure, spinner, title = page.evaluate(PROBE_JS, [selector, SPINNER, TITLE])
            except Exception:                      # the document is being replaced
                figure, spinner, title = False, False, False
            if title and titled is None:
                titled = now - t0
            if spinner and not figure:
                spinner_since = now if spinner_since is None else spinner_since
                lone_spinner = max(lone_spinner, now - spinner_since)
            else:
                spinner_since = None
            if figure:
                first = now - t0
                break
            if now - t0 > timeout_s:
                return {"first_s": None, "spinner_s": lone_spinner, "done_s": None,
                        "title_s": titled}
            page.wait_for_timeout(50)
        wait_for_app(page, timeout_ms=int(timeout_s * 1000))
        return {"first_s": first, "spinner_s": lone_spinner, "done_s": time.monotonic() - t0,
                "title_s": first if titled is None else titled}
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", nargs="+", default=["landing", "compare", "units", "learn"],
                    choices=list(PAGES))
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per visit")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a landing target misses")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    failed = False
    print("page         visit  title      first figure  lone spinner  script done   "
          "(noisy: shared CPU)")
    with sync_playwright() as p:
        browser = launch_chromium(p.chromium)
        try:
            for name in args.pages:
                selector = DIAGRAM if name == "landing" else FIGURE
                with Server(APP) as server:
                    for kind in ("cold", "warm"):
                        r = visit(browser, server.base + PAGES[name], selector, args.timeout)
                        if r["first_s"] is None:
                            print(f"{name:12s} {kind:5s}  no figure within {args.timeout:.0f} s")
                            failed = True
                            continue
                        print(f"{name:12s} {kind:5s}  {r['title_s']:6.2f} s  "
                              f"{r['first_s']:9.2f} s  "
                              f"{r['spinner_s']:9.2f} s  {r['done_s']:9.2f} s")
                        if name == "landing" and (r["first_s"] > TARGETS[kind]
                                                  or r["spinner_s"] > TARGETS["spinner"]):
                            failed = failed or args.strict
        finally:
            browser.close()
    print(f"targets (landing): warm <= {TARGETS['warm']} s, cold <= {TARGETS['cold']} s, "
          f"no spinner alone > {TARGETS['spinner']} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
