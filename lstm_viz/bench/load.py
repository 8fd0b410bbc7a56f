"""Load test of the app: ``python -m lstm_viz.bench.load [--sessions 30 --steps 10]``.

Issue #6: at least 20 concurrent sessions, each uploading and stepping, with zero errors, and
server memory that returns near its baseline after they close. Issue #15: 30 sessions, 0 errors,
a click's p95 from the click to its result drawn ≤ 200 ms. The timed click is ``--click``
(:mod:`lstm_viz.bench.clicks`): by default the sidebar's "Unit in focus" +/- (a server-side
control: a rerun, then the cell diagram redrawn for that unit), ``next`` for the stepper's
"Next" button, ``step`` for the right arrow in the stepper component (browser only: the count of
messages sent between the press and the step drawn is printed, and the component's own key ->
drawn times). In a real browser the live view (step heading, input line, cell diagram) is the
stepper component's iframe (``lstm_viz/ui/stepper.py``): the waits read it when it is shown.
This script:

1. starts ``streamlit run app.py`` itself on a free 127.0.0.1 port (nothing else is contacted);
2. reads the server's RSS from ``/proc/<pid>/status`` (VmRSS): cold, then after one warm-up
   session (that imports and loads what every session uses: the baseline);
3. runs N sessions at once in one headless Chromium (playwright's async API, one browser context
   per session, starts staggered). Each: open "/", wait for the app, pick "my file", upload its
   own small CSV (distinct name, length and values); once all N are set up (``Ready``; or at
   once with ``--interleave``), click k times, waiting each time for the click's result to be
   drawn; after each action, no ``stException`` on the page. Console
   errors, page errors and HTTP errors are collected. Every session stays open until all are
   done, so all N are connected together. On 2 cores, 20 Chromium pages that all load the
   frontend and plotly.js at once starve each other (and time out in the browser, not in the
   server), so at most ``--parallel`` actions (default 5) are in flight at a time: the server
   still holds N live sessions and serves overlapping reruns;
4. closes every context and samples the RSS after a few seconds and after a further idle
   ~10 s (no gc is forced: the server is left alone), and optionally after the server's
   disconnected-session TTL (``--wait-ttl``; Streamlit keeps a closed tab's session, its state
   and uploads, for ``server.disconnectedSessionTTL`` seconds, default 120, so that a
   reconnecting tab can resume it).

Prints sessions, actions served, errors, RSS cold / baseline / peak / after close / after idle
(/ after TTL), step latencies and the total time. Everything is bounded: a global timeout
(``--timeout``, default 420 s: 20 sessions take about 4 minutes on 2 shared cores, most of
it in Chromium) aborts cleanly (contexts, browser and server are closed, the
partial numbers printed, exit status 2). Exit status 1 when any error was counted.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lstm_viz.bench.clicks import CLICKS, Click
from lstm_viz.bench.harness import (
    APP,
    CHROMIUM,
    STEPPER,
    STEPPER_PROBE_JS,
    Server,
    cpu_s,
    launch_chromium,
    one_probe,
    sample_rss,
    stepper_frame_async,
    wait_for_app_async,
    wait_step_text_async,
)
from lstm_viz.bench.load_report import print_report

_STATE_JS = ("() => { const a = document.querySelector('[data-testid=\"stApp\"]'); "
             "const h = Array.from(document.querySelectorAll('h4')).map(e => e.innerText)"
             ".filter(t => t.startsWith('Step')); "
             "return a ? [a.dataset.testScriptState, a.dataset.testConnectionState, h[0] || null,"
             " new URLSearchParams(location.search).get('step'),"
             " Array.from(document.querySelectorAll('[data-testid=stSidebar] input[type=radio]'))"
             ".filter(r => r.checked).map(r => r.closest('label').innerText).join('|'),"
             " document.querySelectorAll('[data-testid=stSidebar] input[type=file]').length]"
             " : null; }")


# --------------------------------------------------------------------------- one session


@dataclass
class Ready:
    """The phase barrier: the timed clicks start once every session has opened the page and
    uploaded its file (and the pages had ``settle_s`` to finish drawing), so they are timed with
    all N sessions connected and none of them loading (``--interleave`` times them while later
    sessions still open: mostly Chromium's own page loads on the same 2 cores)."""

    n: int
    settle_s: float = 3.0
    arrived: set = field(default_factory=set)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def arrive(self) -> None:
        self.arrived.add(asyncio.current_task())
        if len(self.arrived) >= self.n and not self.event.is_set():
            asyncio.get_running_loop().call_later(self.settle_s, self.event.set)

    async def arrive_and_wait(self, timeout_s: float) -> None:
        self.arrive()
        await asyncio.wait_for(self.event.wait(), timeout_s)


@dataclass
class Stats:
    served: int = 0                                   # actions that completed as expected
    errors: list[str] = field(default_factory=list)
    http_ok: int = 0
    ws_opened: int = 0                                # websockets: > sessions = reconnects
    ws_closed_early: int = 0                          # closed before the session ended
    ws_sent: int = 0                                  # messages the browsers sent (reruns, ...)
    ws_received: int = 0
    step_ms: list[float] = field(default_factory=list)   # a timed click -> its result drawn
    key_ms: list[float] = field(default_factory=list)    # the component's key -> step drawn
    sent_while_drawn: int = 0    # messages sent between a browser-only click and its drawing
    checked_presses: int = 0     # browser-only clicks seen drawn within 250 ms (checked)
    component: int = 0           # sessions whose live view was the stepper component
    server_view: int = 0         # ... and the server-rendered view (not mounted)
    open_ms: list[float] = field(default_factory=list)
    upload_ms: list[float] = field(default_factory=list)
    missed_clicks: int = 0       # a click that sent nothing to the server (retried once)
    sessions_done: int = 0                            # every action went as expected
    finished: int = 0                                 # done or failed: no more actions


def write_csv(folder: Path, k: int) -> tuple[Path, int]:
    """Session k's own CSV: 40 + k % 100 steps, 2 features, values that name the session."""
    steps = 40 + k % 100
    path = folder / f"load_{k:03d}.csv"
    rows = [f"s{k}_a,s{k}_b"] + [f"{k + t / 100:.4f},{(-1) ** t * 0.5:.1f}" for t in range(steps)]
    path.write_text("\n".join(rows) + "\n")
    return path, steps


async def run_session(k: int, browser, base: str, csv: Path, steps: int, clicks: int,
                      stats: Stats, all_done: asyncio.Event, action_timeout_s: float,
                      gate: asyncio.Semaphore, shared_context=None, path: str = "/",
                      click: Click = CLICKS["next"], ready: Ready | None = None) -> None:
    """One session's actions; each action holds ``gate`` (a bound on actions in flight).

    A new browser context per session, or a new page (tab) of ``shared_context``: each tab is
    its own Streamlit session either way; a shared context only shares the HTTP cache.
    """
    from playwright.async_api import expect

    if shared_context is None:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(action_timeout_s * 1000)
        page = await context.new_page()
    else:
        context = None
        page = await shared_context.new_page()
    tag = f"session {k}"

    def on_console(msg) -> None:
        if msg.type == "error":
            stats.errors.append(f"{tag}: console.error: {msg.text}")

    def on_response(resp) -> None:
        if resp.status >= 400:
            stats.errors.append(f"{tag}: HTTP {resp.status} {resp.request.method} {resp.url}")
        else:
            stats.http_ok += 1

    closing = [False]
    sent_here = [0]                                   # messages this page sent

    def on_ws(ws) -> None:
        stats.ws_opened += 1

        def closed(_ws) -> None:
            if not closing[0]:
                stats.ws_closed_early += 1
                stats.errors.append(f"{tag}: websocket closed while in use ({ws.url})")

        ws.on("close", closed)

        def sent(_payload) -> None:
            stats.ws_sent += 1
            sent_here[0] += 1

        def received(_payload) -> None:
            stats.ws_received += 1

        ws.on("framesent", sent)
        ws.on("framereceived", received)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: stats.errors.append(f"{tag}: pageerror: {exc}"))
    page.on("response", on_response)
    page.on("websocket", on_ws)
    t_ms = action_timeout_s * 1000

    async def no_exception(what: str) -> None:
        n = await page.locator('[data-testid="stException"]').count()
        if n:
            text = await page.locator('[data-testid="stException"]').first.inner_text()
            raise AssertionError(f"stException after {what}: {text[:300]}")

    sidebar = page.locator('[data-testid="stSidebar"]')
    try:
        async with gate:
            t0 = time.perf_counter()
            await page.goto(base + path, timeout=t_ms)
            await wait_for_app_async(page, action_timeout_s)
            await no_exception("open")
            stats.open_ms.append((time.perf_counter() - t0) * 1e3)
            stats.served += 1

        async with gate:
            await sidebar.get_by_text("my file", exact=True).click()
            await wait_for_app_async(page, action_timeout_s)
            await no_exception("my file")
            stats.served += 1

        async with gate:
            t0 = time.perf_counter()
            await page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(csv))
            await expect(sidebar).to_contain_text(f"{csv.name}: {steps:,} steps × 2 features",
                                                  timeout=t_ms)
            await wait_step_text_async(page, f"Step 0 of {steps - 1}", action_timeout_s)
            await wait_for_app_async(page, action_timeout_s)
            await no_exception("upload")
            stats.upload_ms.append((time.perf_counter() - t0) * 1e3)
            stats.served += 1

        if ready is not None:          # every session set up before any timed click
            await ready.arrive_and_wait(action_timeout_s * 4)
        # the live view: the stepper component once mounted (a real browser), else the server's
        shown_frame = await stepper_frame_async(page, 5.0)
        frame = page.frame_locator(STEPPER) if shown_frame is not None else None
        stats.component += frame is not None
        stats.server_view += frame is None
        origin = await click.origin(page) if click.origin else 0
        for i in range(1, clicks + 1):
            async with gate:
                target, want = click.drawn(page, i, steps, frame, origin)

                async def shown(timeout: float, target=target, want=want) -> None:
                    if click.attribute is None:
                        await expect(target).to_have_text(want, timeout=timeout)
                    else:
                        await expect(target).to_have_attribute(click.attribute, want,
                                                               timeout=timeout)

                async def act(i: int = i) -> None:
                    loc = click.press(page, i, frame, origin)
                    await (loc.press(click.key, timeout=t_ms) if click.key else
                           loc.click(timeout=t_ms))

                t0 = time.perf_counter()
                before = sent_here[0]
                await act()
                try:
                    await shown(min(t_ms, 20_000))
                except AssertionError:
                    if sent_here[0] != before or click.browser_only:   # a real error
                        raise
                    # The click never left the browser (it landed while the page was still
                    # laying out): a client-side miss, counted apart, clicked again once.
                    stats.missed_clicks += 1
                    await act()
                    await shown(t_ms)
                stats.step_ms.append((time.perf_counter() - t0) * 1e3)
                if click.browser_only and stats.step_ms[-1] < 250:
                    # the component tells the server 250 ms after the step: a press seen drawn
                    # sooner must have sent nothing yet
                    stats.sent_while_drawn += sent_here[0] - before
                    stats.checked_presses += 1
                if click.settle_s:
                    await asyncio.sleep(click.settle_s)
                await wait_for_app_async(page, action_timeout_s, settle_s=0.1)
                await no_exception(f"click #{i}")
                stats.served += 1

        # Still our own file and our own values (no other session's state leaked in).
        await expect(sidebar).to_contain_text(f"{csv.name}: {steps:,} steps", timeout=t_ms)
        main_text = await page.locator('[data-testid="stMain"]').inner_text()
        if frame is not None:                         # the input line is the component's
            main_text += "\n" + await frame.locator("#root").inner_text()
            if click.key:
                stats.key_ms += (await shown_frame.evaluate(STEPPER_PROBE_JS))["latencies"]
        if f"s{k}_a " not in main_text:
            raise AssertionError(f"{tag} does not show its own feature s{k}_a")
        stats.sessions_done += 1
    except Exception as exc:                          # counted and reported
        lines = str(exc).splitlines() or [""]
        detail = " ".join(ln.strip() for ln in lines[1:] if ln.strip().startswith("Actual"))
        try:
            state = await page.evaluate(_STATE_JS)
        except Exception:                             # the page itself is gone
            state = None
        stats.errors.append(f"{tag}: {type(exc).__name__}: {lines[0][:300]} {detail} "
                            f"[app state {state}]".strip())
    finally:
        if ready is not None:
            ready.arrive()               # a session that failed early does not hold the others
        stats.finished += 1
        try:
            await asyncio.wait_for(all_done.wait(), timeout=action_timeout_s * 4)
        except TimeoutError:
            pass
        closing[0] = True
        await (page.close() if context is None else context.close())


# --------------------------------------------------------------------------- the run


async def one_round(args, rnd: int, browser, server: Server, folder: Path, stats: Stats,
                    report: dict) -> None:
    """N sessions at once, then closed; the RSS after close, after idle (and after the TTL)."""
    all_done = asyncio.Event()
    gate = asyncio.Semaphore(args.parallel)
    shared = None
    if args.one_context:
        shared = await browser.new_context(viewport={"width": 1280, "height": 800})
        shared.set_default_timeout(args.action_timeout * 1000)
    t_run = time.perf_counter()
    cpu0 = cpu_s(server.proc.pid)
    target = (rnd + 1) * args.sessions
    ready = None if args.interleave else Ready(args.sessions)

    async def staggered(k: int) -> None:
        await asyncio.sleep(k * args.stagger)
        csv, steps = write_csv(folder, rnd * 1000 + k)
        await run_session(rnd * 1000 + k, browser, server.base, csv, steps, args.steps, stats,
                          all_done, args.action_timeout, gate, shared, args.path,
                          CLICKS[args.click], ready)

    tasks = [asyncio.create_task(staggered(k)) for k in range(args.sessions)]
    # all N stay connected until every one has finished its actions (or failed)
    while stats.finished < target and not all(t.done() for t in tasks):
        await asyncio.sleep(0.2)                      # bounded by the global timeout
    row = {"run_s": time.perf_counter() - t_run, "cpu_run": cpu_s(server.proc.pid) - cpu0,
           "rss_all_open": server.rss}
    all_done.set()                                    # now close every context
    await asyncio.gather(*tasks)
    if shared is not None:
        await shared.close()
    row["rss_closed_0s"] = server.rss
    await asyncio.sleep(args.after_close)
    row["rss_after_close"] = server.rss
    await asyncio.sleep(args.idle)
    row["rss_after_idle"] = server.rss
    if args.wait_ttl:
        ttl = args.session_ttl if args.session_ttl is not None else 120
        await asyncio.sleep(ttl + 2)
        await one_probe(browser, server.base, args.action_timeout)   # lets the server reap
        await asyncio.sleep(3)
        row["rss_after_ttl"] = server.rss
    report["rounds"].append(row)
    report.update(row)


async def bench(args, server: Server, folder: Path, report: dict) -> Stats:
    from playwright.async_api import async_playwright

    stats = Stats()
    report["stats"] = stats
    async with async_playwright() as pw:
        browser = await launch_chromium(pw.chromium)
        try:
            # warm-up: one full session (imports, the trained model, plotly), then idle
            warm = Stats()
            csv, steps = write_csv(folder, 999)
            done = asyncio.Event()
            done.set()
            await run_session(999, browser, server.base, csv, steps, 1, warm, done,
                              args.action_timeout, asyncio.Semaphore(1), path=args.path,
                              click=CLICKS[args.click])
            if warm.errors:
                raise RuntimeError("the warm-up session failed: " + "; ".join(warm.errors))
            await asyncio.sleep(3)
            report["rss_baseline"] = server.rss

            peak = report["peak"]
            peak[0] = server.rss
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(server, peak, stop))
            report["rounds"] = []
            for rnd in range(args.rounds):
                await one_round(args, rnd, browser, server, folder, stats, report)
            stop.set()
            await sampler
        finally:
            await browser.close()
    return stats


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--steps", type=int, default=10, help="timed clicks per session")
    parser.add_argument("--click", choices=list(CLICKS), default="unit",
                        help="the control each timed click presses (bench.clicks)")
    parser.add_argument("--path", default="/?step=0",
                        help='the URL each session opens ("/": a first visit, which starts '
                             'playing; "/?step=0": a link, paused)')
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat: N sessions, close, idle (growth per round = a leak)")
    parser.add_argument("--stagger", type=float, default=1.0, help="s between session starts")
    parser.add_argument("--interleave", action="store_true",
                        help="time each session's clicks as soon as it is set up, while later "
                             "sessions still open (default: once all N are set up)")
    parser.add_argument("--timeout", type=float, default=420.0, help="global limit, s")
    parser.add_argument("--parallel", type=int, default=5,
                        help="actions in flight at once (all sessions stay connected)")
    parser.add_argument("--one-context", action="store_true",
                        help="the sessions as tabs of one browser context (shared HTTP cache: "
                             "much less browser CPU) instead of one context each")
    parser.add_argument("--action-timeout", type=float, default=90.0, help="one action, s")
    parser.add_argument("--after-close", type=float, default=5.0)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--session-ttl", type=int, default=None,
                        help="pass server.disconnectedSessionTTL (s) to the server")
    parser.add_argument("--wait-ttl", action="store_true",
                        help="also measure after the disconnected-session TTL has passed")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing")

    t_total = time.perf_counter()
    extra = ([] if args.session_ttl is None
             else ["--server.disconnectedSessionTTL", str(args.session_ttl)])
    server = Server(APP, extra)
    folder = Path(tempfile.mkdtemp(prefix="lstm-viz-load-"))
    report: dict = {"rss_cold": server.rss, "peak": [float("nan")]}
    timed_out = False
    try:
        asyncio.run(asyncio.wait_for(bench(args, server, folder, report), args.timeout))
    except TimeoutError:
        timed_out = True
    finally:
        report["server_alive"] = server.proc.poll() is None
        report["rss_end"] = server.rss
        report["rss_peak"] = report["peak"][0]
        tail = server.log_tail()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report["total_s"] = time.perf_counter() - t_total

    stats: Stats = report.get("stats", Stats())
    print_report(args, stats, report, timed_out, tail)
    report["errors"] = len(stats.errors)
    report["served"] = stats.served
    if timed_out:
        raise SystemExit(2)
    if stats.errors:
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
