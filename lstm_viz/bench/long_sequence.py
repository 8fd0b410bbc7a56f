"""Long sequences: ``python -m lstm_viz.bench.long_sequence [--steps N --hidden H] [--browser]``.

Issue #6: "a 100,000-step upload with hidden 128 is traced, shown (downsampled) and stepped
without the browser tab freezing; measure and record memory and times". Three parts:

(a) core: time and memory of tracing a (steps × 2) float32 sequence through a fresh
    ``Recurrent(2, hidden)``: ``trace.nbytes``, the estimate ``trace_nbytes``, and this process's
    RSS growth (VmRSS, VmHWM of /proc/self/status);
(b) the server side with AppTest (as ``bench_app``): the sequence set as an upload in the session
    state, a fresh model of ``hidden`` units; the first run (trace + heatmaps), a step (a click
    on "Next ▶"), the size of the heatmap figure JSON the page sends once
    (``session_state["_heatmaps"][1]``) and its width (downsampled columns); then with the
    "Zoom into a window" toggle on (full resolution around the step), a step again and its JSON;
(c) with ``--browser``: a real server and headless Chromium on 127.0.0.1. Fresh weights, hidden
    units set with the keyboard, then a CSV of the sequence (written to a temporary folder,
    checked to be under the 20 MB upload limit) uploaded through the uploader; the time until the
    step heading shows "Step 0 of T-1" (in a real browser the live view, its heading, input line
    and cell diagram, is the stepper component's iframe, ``lstm_viz/ui/stepper.py``); the
    heatmaps scrolled into view and the time until their iframe has a height and a drawn figure;
    a few steps in the component (``--press key``: the right arrow with its Next button focused;
    ``button``: a click on Next), each timed from the press to the frame's heading reading the
    new step (polled in the frame at every animation frame; the component's own key -> drawn
    times too), then to the server idle again (it hears the step 250 ms later and reruns); the
    zoom window checked against what the app promises (``ui.stepper.needs_window``): steps
    inside it keep it, and a jump past its edge (the component's slider, then End) moves it so
    that the step is inside, as captioned and as the heatmaps draw it; all along, the page is
    probed with ``page.evaluate("1+1")`` every 100 ms and the slowest answer is reported (a
    frozen tab would not answer); server RSS before and after.

Every wait is bounded (``--timeout`` for the whole browser part).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

APP = Path(__file__).resolve().parents[2] / "app.py"
UPLOAD_LIMIT_MB = 20


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":")[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def make_values(steps: int, seed: int = 0) -> np.ndarray:
    """A (steps, 2) float32 random walk and a sine: values a person might upload."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    walk = np.cumsum(rng.standard_normal(steps)) / np.sqrt(steps) * 3
    return np.stack([walk, np.sin(t / 50)], axis=1).astype(np.float32)


def figure_summary(spec: str) -> dict:
    """Heatmap rows and columns, and the title, of a heatmap figure JSON."""
    fig = json.loads(spec)
    cols, rows = set(), 0
    for trace in fig["data"]:
        if trace.get("type") != "heatmap":
            continue
        z = trace["z"]
        if isinstance(z, dict):                       # plotly's typed-array encoding
            shape = [int(s) for s in str(z.get("shape", "0")).split(",")]
        else:
            shape = [len(z), len(z[0]) if z else 0]
        rows += shape[0]
        cols.add(shape[-1])
    title = (fig.get("layout", {}).get("title") or {}).get("text", "")
    return {"rows": rows, "cols": sorted(cols), "title": title}


# --------------------------------------------------------------------------- (a) the core


def bench_core(values: np.ndarray, hidden: int) -> dict:
    from lstm_viz.core import Recurrent

    rec = Recurrent(values.shape[1], hidden, seed=0)
    gc.collect()
    before = proc_status()
    t0 = time.perf_counter()
    trace = rec.trace(values)
    dt = time.perf_counter() - t0
    after = proc_status()
    out = {"time_s": dt, "nbytes": trace.nbytes, "estimate": rec.trace_nbytes(len(values)),
           "rss_before": before.get("VmRSS"), "rss_after": after.get("VmRSS"),
           "hwm_after": after.get("VmHWM"), "finite": bool(np.isfinite(trace.output).all())}
    # what the page's torch badge runs on a first view (lstm_viz.ui.torch_badge): torch over a
    # bounded prefix, compared with the trace the page already holds
    from lstm_viz.torchref.check import trace_match

    t0 = time.perf_counter()
    match = trace_match(rec, trace, values)
    out["torch_match_s"] = time.perf_counter() - t0
    out["torch_match"] = match.message
    out["hwm_after_match"] = proc_status().get("VmHWM")
    del trace
    gc.collect()
    out["rss_freed"] = proc_status().get("VmRSS")
    return out


# --------------------------------------------------------------------------- (b) AppTest


def bench_apptest(values: np.ndarray, hidden: int, clicks: int) -> dict:
    from streamlit.testing.v1 import AppTest

    from lstm_viz.files.sequence import Sequence
    from lstm_viz.ui.trace_cache import TRACES

    seq = Sequence(values, name=f"long_{len(values)}.csv")
    at = AppTest.from_file(str(APP), default_timeout=900)
    at.query_params["step"] = "0"        # a link: a first visit without one starts playing
    at.session_state["uploaded_sequence"] = seq
    at.session_state["seq_source"] = "upload"
    at.session_state["model_kind"] = "fresh"
    at.session_state["hidden"] = hidden
    gc.collect()
    rss0 = proc_status().get("VmRSS")
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception[0].value}")
    out: dict = {"first_s": first, "rss_before": rss0, "rss_after_first": proc_status()["VmRSS"],
                 "cache_bytes": TRACES.nbytes}
    spec = at.session_state["_heatmaps"][1]
    out["json_bytes"] = len(spec)
    out["figure"] = figure_summary(spec)
    heading = [m.value for m in at.markdown if m.value.startswith("#### Step")]
    out["heading"] = heading[0] if heading else None

    def click(label: str) -> float:
        btn = next(b for b in at.button if b.label == label)
        t = time.perf_counter()
        btn.click().run()
        if at.exception:
            raise SystemExit(f"the app raised: {at.exception[0].value}")
        return time.perf_counter() - t

    out["step_s"] = [click("Next ▶") for _ in range(clicks)]
    assert int(at.session_state["step"]) == clicks, "the clicks did not step"
    # the zoom window: full resolution around the step; it follows the step
    t = time.perf_counter()
    at.toggle(key="zoom").set_value(True).run()
    out["zoom_first_s"] = time.perf_counter() - t
    zspec = at.session_state["_heatmaps"][1]
    out["zoom_json_bytes"] = len(zspec)
    out["zoom_figure"] = figure_summary(zspec)
    keys = {at.session_state["_heatmaps"][0]}

    def zoom_click() -> float:
        took = click("Next ▶")
        keys.add(at.session_state["_heatmaps"][0])
        return took

    out["zoom_step_s"] = [zoom_click() for _ in range(max(1, clicks // 2))]
    out["zoom_figures"] = len(keys) - 1         # new heatmap figures over those steps
    out["zoom_json_bytes_after"] = len(at.session_state["_heatmaps"][1])
    out["rss_end"] = proc_status()["VmRSS"]
    out["hwm_end"] = proc_status()["VmHWM"]
    return out


# --------------------------------------------------------------------------- (c) browser


async def bench_browser(values: np.ndarray, hidden: int, clicks: int, folder: Path,
                        timeout_s: float, press: str = "key") -> dict:
    from playwright.async_api import async_playwright, expect

    from lstm_viz.bench.harness import (
        HEATMAPS,
        STEPPER_PROBE_JS,
        Server,
        launch_chromium,
        stepper_frame_async,
        wait_step_text_async,
    )
    from lstm_viz.bench.harness import probe_page_async as probe
    from lstm_viz.bench.harness import set_sidebar_slider_async as set_slider
    from lstm_viz.bench.harness import wait_for_app_async as wait_for_app
    from lstm_viz.bench.harness import wait_heatmaps_drawn_async as wait_drawn
    from lstm_viz.bench.harness import zoom_window_shown_async as zoom_shown

    steps = len(values)
    csv = folder / f"long_{steps}.csv"
    with open(csv, "w") as f:
        f.write("walk,sine\n")
        np.savetxt(f, values, fmt="%.5g", delimiter=",")
    size_mb = csv.stat().st_size / 1024**2
    if size_mb >= UPLOAD_LIMIT_MB:
        raise SystemExit(f"the CSV is {size_mb:.1f} MB, over the {UPLOAD_LIMIT_MB} MB limit")
    out: dict = {"csv_mb": size_mb}
    server = Server(APP)
    probe_ms: list[float] = []
    errors: list[str] = []
    ws_bytes = [0]
    t_ms = timeout_s * 1000
    try:
        out["server_rss_start"] = server.rss
        async with async_playwright() as pw:
            browser = await launch_chromium(pw.chromium)
            try:
                ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
                ctx.set_default_timeout(t_ms)
                page = await ctx.new_page()
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("websocket", lambda ws: ws.on(
                    "framereceived", lambda p: ws_bytes.__setitem__(0, ws_bytes[0] + len(p))))
                await page.goto(server.base + "/?step=0")     # a link: not playing
                await wait_for_app(page, timeout_s)
                sidebar = page.locator('[data-testid="stSidebar"]')

                # fresh weights with `hidden` units, before the long upload (one trace only)
                await sidebar.get_by_text("fresh random weights", exact=True).click()
                await wait_for_app(page, timeout_s)
                await set_slider(page, sidebar, "Hidden units", hidden, timeout_s)
                await expect(sidebar).to_contain_text(f"{hidden} units", timeout=t_ms)
                await sidebar.get_by_text("my file", exact=True).click()
                await wait_for_app(page, timeout_s)
                out["server_rss_before_upload"] = server.rss

                stop = asyncio.Event()
                prober = asyncio.create_task(probe(page, probe_ms, stop))
                ws_bytes[0] = 0
                t0 = time.perf_counter()
                await page.set_input_files('[data-testid="stSidebar"] input[type=file]',
                                           str(csv))
                await expect(sidebar).to_contain_text(f"{steps:,} steps × 2 features",
                                                      timeout=t_ms)
                out["live_view"] = await wait_step_text_async(page, f"Step 0 of {steps - 1}",
                                                              timeout_s)
                out["upload_to_heading_s"] = time.perf_counter() - t0
                await wait_for_app(page, timeout_s)
                out["upload_to_idle_s"] = time.perf_counter() - t0
                out["ws_mb_upload"] = ws_bytes[0] / 1024**2
                out["server_rss_after_upload"] = server.rss

                # the heatmaps: lazy, drawn once scrolled into view
                t1 = time.perf_counter()
                frame_el = page.locator(HEATMAPS)
                await frame_el.scroll_into_view_if_needed(timeout=t_ms)
                out["heatmap_iframe_s"] = time.perf_counter() - t1
                drawn = await wait_drawn(page, frame_el, timeout_s, steps)
                out["heatmap_drawn_s"] = time.perf_counter() - t1
                out["upload_to_drawn_s"] = time.perf_counter() - t0
                out["heatmap_frame"] = drawn
                out["probe_max_ms_upload_draw"] = max(probe_ms) if probe_ms else None
                n_probe = len(probe_ms)

                frame = await stepper_frame_async(page, 10.0)
                if frame is None:
                    raise RuntimeError("the stepper component was not shown after the upload")

                async def step_to(i: int) -> tuple[float, float]:
                    """One step in the component: (press -> drawn, press -> server idle), s."""
                    nxt = frame.locator("#next")
                    want = f"Step {i} of {steps - 1}"
                    t0 = time.perf_counter()
                    await (nxt.press("ArrowRight") if press == "key" else nxt.click())
                    await frame.wait_for_function(
                        "w => document.getElementById('where').textContent === w", arg=want,
                        polling="raf", timeout=t_ms)
                    drawn_s = time.perf_counter() - t0
                    await asyncio.sleep(0.35)          # the component tells the server at 250 ms
                    await wait_for_app(page, timeout_s, settle_s=0.1)
                    return drawn_s, time.perf_counter() - t0

                step_s, server_s = [], []
                ws_bytes[0] = 0
                for i in range(1, clicks + 1):
                    a, b = await step_to(i)
                    step_s.append(a)
                    server_s.append(b)
                out["step_s"] = step_s
                out["step_server_s"] = server_s
                out["ws_kb_per_step"] = ws_bytes[0] / 1024 / clicks
                out["probe_max_ms_steps"] = max(probe_ms[n_probe:]) if probe_ms[n_probe:] else None

                # The zoom window (app.py): full resolution around the step. What the app
                # promises (ui.stepper.needs_window): a step inside the window keeps it; a step
                # that leaves it (a jump past its edge) moves it, by a whole-page rerun, so that
                # the step is inside. Each check is bounded.
                n_probe = len(probe_ms)
                await page.get_by_text("Zoom into a window at full resolution").click()
                await wait_for_app(page, timeout_s)
                wait_s = min(timeout_s, 20.0)
                first = await zoom_shown(page, wait_s, steps)
                zoom_s, zoom_server_s = [], []
                ws_bytes[0] = 0
                inside = list(range(clicks + 1, clicks + 3))
                for i in inside:
                    a, b = await step_to(i)
                    zoom_s.append(a)
                    zoom_server_s.append(b)
                out["zoom_server_s"] = zoom_server_s
                out["zoom_step_s"] = zoom_s
                out["zoom_ws_kb_per_step"] = ws_bytes[0] / 1024 / len(inside)
                out["key_ms"] = ((await frame.evaluate(STEPPER_PROBE_JS)) or {}).get(
                    "latencies", [])
                kept = await zoom_shown(page, wait_s, steps)
                kept.update(steps=inside, before=first["window"],
                            ok=first["window"] is not None and kept["window"] == first["window"]
                            and all(first["window"][0] <= i <= first["window"][1] for i in inside))
                out["zoom_kept"] = kept

                async def jump(target: int, how: str) -> dict:
                    """A jump in the component to ``target``, past the zoom window's edge."""
                    before = (await zoom_shown(page, wait_s, steps))["window"]
                    t0 = time.perf_counter()
                    if how == "End":
                        await frame.locator("#lastb").click()
                    else:                              # the component's step slider
                        await frame.locator("#slider").evaluate(
                            "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }",
                            target)
                    await frame.wait_for_function(
                        "w => document.getElementById('where').textContent === w",
                        arg=f"Step {target} of {steps - 1}", timeout=t_ms)
                    got = await zoom_shown(page, wait_s, steps, away_from=before)
                    got.update(step=target, how=how, before=before,
                               after_s=time.perf_counter() - t0)
                    got["ok"] = bool(got["drawn"] and got["drawn"][0] <= target <= got["drawn"][1])
                    await wait_for_app(page, timeout_s)
                    return got

                edge = kept["window"][1] if kept["window"] else clicks + 500
                out["zoom_jumps"] = [await jump(min(steps - 1, edge + 20), "slider"),
                                     await jump(steps - 1, "End")]
                out["zoom_followed"] = kept["ok"] and all(j["ok"] for j in out["zoom_jumps"])
                out["probe_max_ms_zoom"] = max(probe_ms[n_probe:]) if probe_ms[n_probe:] else None
                stop.set()
                await prober
                out["probes"] = len(probe_ms)
                out["probe_median_ms"] = statistics.median(probe_ms) if probe_ms else None
                out["exceptions"] = await page.locator('[data-testid="stException"]').count()
                out["server_rss_end"] = server.rss
                await ctx.close()
            finally:
                await browser.close()
    finally:
        server.stop()
    out["console_errors"] = errors
    return out


def zoom_lines(kept: dict, jumps: list[dict]) -> list[str]:
    """What the browser part saw of the zoom window: kept over steps inside it, moved by jumps
    past its edge so that the step is inside (drawn in the heatmaps)."""
    def span(w: tuple[int, int] | None) -> str:
        return f"{w[0]}–{w[1]}" if w else "none"

    out = [f"zoom window over steps {', '.join(map(str, kept['steps']))} (inside it): "
           f"{span(kept['before'])} before, {span(kept['window'])} after, heatmaps draw "
           f"{span(kept['drawn'])}: " + ("KEPT" if kept["ok"] else
                                          "MOVED (a step inside it should keep it)")]
    for j in jumps:
        seen = (f"window {span(j['before'])} -> {span(j['window'])}, heatmaps draw "
                f"{span(j['drawn'])}, {j['after_s']:.1f} s after the jump")
        verdict = ("FOLLOWED: the step is inside" if j["ok"] else
                   f"NOT FOLLOWED: {j['error']}" if j.get("error") else
                   f"MOVED, but step {j['step']} is not among the steps drawn")
        out.append(f"jump to step {j['step']} ({j['how']}, past the edge): {seen}: {verdict}")
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--clicks", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="also (c), in a real browser")
    parser.add_argument("--timeout", type=float, default=300.0, help="browser part, s")
    parser.add_argument("--skip-apptest", action="store_true")
    parser.add_argument("--press", choices=["key", "button"], default="key",
                        help="how the browser part steps the component: the right arrow (its "
                             "Next button focused) or a click on Next")
    args = parser.parse_args(argv)
    values = make_values(args.steps)
    report: dict = {}
    mb = 1024**2

    a = report["core"] = bench_core(values, args.hidden)
    print(f"(a) core: trace of {args.steps:,} × 2 through Recurrent(2, {args.hidden}), float32")
    print(f"    time {a['time_s']:.2f} s; trace.nbytes {a['nbytes'] / mb:.0f} MB "
          f"(trace_nbytes estimate {a['estimate'] / mb:.0f} MB); RSS {a['rss_before']:.0f} -> "
          f"{a['rss_after']:.0f} MB (+{a['rss_after'] - a['rss_before']:.0f} MB), peak "
          f"{a['hwm_after']:.0f} MB; after del {a['rss_freed']:.0f} MB; finite {a['finite']}")
    if "torch_match_s" in a:
        print(f"    torch_check.trace_match on the same trace (the page's torch badge, first "
              f"view): {a['torch_match_s']:.2f} s, peak RSS then {a['hwm_after_match']:.0f} MB: "
              f"{a['torch_match']}")

    if not args.skip_apptest:
        b = report["apptest"] = bench_apptest(values, args.hidden, args.clicks)
        f, zf = b["figure"], b["zoom_figure"]
        print(f"(b) server side (AppTest), upload of {args.steps:,} steps, fresh "
              f"{args.hidden} units")
        print(f"    first run {b['first_s']:.2f} s (trace + heatmaps); RSS "
              f"{b['rss_before']:.0f} -> {b['rss_after_first']:.0f} MB; trace cache "
              f"{b['cache_bytes'] / mb:.0f} MB; {b['heading']!r}")
        print(f"    heatmap JSON {b['json_bytes'] / mb:.2f} MB: {f['rows']} unit rows × "
              f"{f['cols']} columns (downsampled from {args.steps:,})")
        print(f"    a step: median {statistics.median(b['step_s']) * 1e3:.0f} ms, max "
              f"{max(b['step_s']) * 1e3:.0f} ms over {len(b['step_s'])} clicks")
        print(f"    zoom window on: {b['zoom_first_s'] * 1e3:.0f} ms, JSON "
              f"{b['zoom_json_bytes'] / mb:.2f} MB ({zf['rows']} rows × {zf['cols']} columns); "
              f"a step with zoom: median {statistics.median(b['zoom_step_s']) * 1e3:.0f} ms; "
              f"new heatmap figures: {b['zoom_figures']} over {len(b['zoom_step_s'])} steps "
              f"(AppTest runs the whole page at each click)")
        print(f"    RSS at the end {b['rss_end']:.0f} MB, peak {b['hwm_end']:.0f} MB")

    if args.browser:
        folder = Path(tempfile.mkdtemp(prefix="lstm-viz-long-"))
        try:
            c = report["browser"] = asyncio.run(asyncio.wait_for(
                bench_browser(values, args.hidden, args.clicks, folder, args.timeout,
                              args.press),
                args.timeout * 2))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"(c) browser: {args.steps:,}-step CSV ({c['csv_mb']:.1f} MB) uploaded, fresh "
              f"{args.hidden} units")
        print(f"    upload -> heading 'Step 0 of {args.steps - 1}': "
              f"{c['upload_to_heading_s']:.1f} s (idle after {c['upload_to_idle_s']:.1f} s); "
              f"websocket {c['ws_mb_upload']:.2f} MB to the page")
        print(f"    heatmaps: iframe in view after {c['heatmap_iframe_s']:.1f} s, drawn "
              f"{c['heatmap_drawn_s']:.1f} s later ({c['upload_to_drawn_s']:.1f} s after the "
              f"upload started): {c['heatmap_frame']}")
        how = "right arrow" if args.press == "key" else "Next click"
        ms = ", ".join(f"{s * 1e3:.0f}" for s in c["step_s"])
        print(f"    live view: {c['live_view']}; {how} in the component -> its heading drawn: "
              f"{ms} ms; -> server idle again: "
              f"{', '.join(f'{s:.2f}' for s in c['step_server_s'])} s; websocket "
              f"{c['ws_kb_per_step']:.0f} kB per step")
        if c["key_ms"]:
            print(f"    key -> step drawn, measured in the component: "
                  f"{', '.join(f'{x:.1f}' for x in c['key_ms'])} ms")
        print(f"    zoom window on: {how} -> heading drawn "
              f"{', '.join(f'{s * 1e3:.0f}' for s in c['zoom_step_s'])} ms, -> server idle "
              f"{', '.join(f'{s:.2f}' for s in c['zoom_server_s'])} s; websocket "
              f"{c['zoom_ws_kb_per_step']:.0f} kB per step")
        for line in zoom_lines(c["zoom_kept"], c["zoom_jumps"]):
            print(f"    {line}")
        print(f"    page responsiveness (evaluate('1+1') every 100 ms, {c['probes']} probes): "
              f"median {c['probe_median_ms']:.0f} ms, slowest during upload + draw "
              f"{c['probe_max_ms_upload_draw']:.0f} ms, during steps "
              f"{c['probe_max_ms_steps']:.0f} ms, during zoomed steps "
              f"{c['probe_max_ms_zoom']:.0f} ms")
        print(f"    server RSS: start {c['server_rss_start']:.0f} MB, before upload "
              f"{c['server_rss_before_upload']:.0f} MB, after {c['server_rss_after_upload']:.0f} "
              f"MB, end {c['server_rss_end']:.0f} MB; exceptions {c['exceptions']}; console "
              f"errors {len(c['console_errors'])} {c['console_errors'][:3]}")
    return report


if __name__ == "__main__":
    main()
