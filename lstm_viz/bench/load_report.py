"""The printed report of ``python -m lstm_viz.bench.load`` (its numbers, one line each)."""

from __future__ import annotations

import os
import statistics

from lstm_viz.bench.clicks import CLICKS
from lstm_viz.bench.harness import APP


def pct(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` (nearest rank), 0 when empty."""
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def print_report(args, stats, report: dict, timed_out: bool, tail: str) -> None:
    """Print what ``bench.load`` measured: ``stats`` (its Stats), ``report`` (RSS, times)."""
    expected = args.rounds * args.sessions * (3 + args.steps)

    def mb(key: str) -> str:
        v = report.get(key)
        return "n/a" if v is None else f"{v:.0f} MB"

    how = "tabs of one browser context" if args.one_context else "one browser context each"
    print(f"load test: {args.sessions} concurrent sessions × (open, 'my file', upload, "
          f"{args.steps} × {args.click}) × {args.rounds} round(s), starts {args.stagger:g} s "
          f"apart, "
          f"at most {args.parallel} actions in flight, {how}, opening {args.path!r} of "
          f"{APP}; clicks timed "
          + ("as each session is set up (--interleave)" if args.interleave else
             "once all sessions are set up"))
    print(f"  actions served      {stats.served} of {expected}   (sessions complete: "
          f"{stats.sessions_done} of {args.sessions * args.rounds})")
    print(f"  errors              {len(stats.errors)}"
          + (f"   (and {stats.missed_clicks} client-side missed clicks, retried: the browser "
             "sent nothing)" if stats.missed_clicks else ""))
    for e in stats.errors[:15]:
        print(f"    - {e}")
    print(f"  HTTP responses ok   {stats.http_ok}   websockets opened {stats.ws_opened} "
          f"(closed early {stats.ws_closed_early}), messages sent {stats.ws_sent}, "
          f"received {stats.ws_received}")
    if stats.step_ms:
        print(f"  click -> drawn      median {statistics.median(stats.step_ms):.0f} ms, "
              f"p95 {pct(stats.step_ms, 0.95):.0f} ms, max {max(stats.step_ms):.0f} ms "
              f"({len(stats.step_ms)} clicks: {CLICKS[args.click].what}; target p95 ≤ 200 ms)")
    print(f"  live view           the stepper component in {stats.component} session(s), "
          f"the server-rendered view (component not mounted) in {stats.server_view}")
    if stats.key_ms:
        print(f"  key -> drawn (JS)   median {statistics.median(stats.key_ms):.1f} ms, "
              f"p95 {pct(stats.key_ms, 0.95):.1f} ms, max {max(stats.key_ms):.1f} ms "
              f"({len(stats.key_ms)} presses, measured in the component)")
    if CLICKS[args.click].browser_only:
        print(f"  sent to the server  {stats.sent_while_drawn} message(s) between a press and "
              f"its step drawn, over the {stats.checked_presses} presses seen drawn within "
              f"250 ms (when the component tells the server); browser only: expect 0")
    if stats.open_ms:
        print(f"  open (to rendered)  median {statistics.median(stats.open_ms):.0f} ms; "
              f"upload (to step 0) median {statistics.median(stats.upload_ms or [0]):.0f} ms")
    print(f"  server RSS          cold {mb('rss_cold')}, baseline (after a warm-up session) "
          f"{mb('rss_baseline')}, peak {mb('rss_peak')}, all open {mb('rss_all_open')}")
    print(f"                      after close: {mb('rss_closed_0s')} at once, "
          f"{mb('rss_after_close')} after {args.after_close:g} s, "
          f"{mb('rss_after_idle')} after a further {args.idle:g} s idle"
          + (f", {mb('rss_after_ttl')} after the session TTL" if args.wait_ttl else ""))
    base, idle = report.get("rss_baseline"), report.get("rss_after_idle")
    if base and idle:
        print(f"                      after idle - baseline = {idle - base:+.0f} MB "
              f"({(idle - base) / base:+.0%}); peak - baseline = "
              f"{report['rss_peak'] - base:+.0f} MB")
    if len(report.get("rounds", [])) > 1:
        for k, row in enumerate(report["rounds"]):
            print(f"    round {k + 1}: all open {row['rss_all_open']:.0f} MB, after idle "
                  f"{row['rss_after_idle']:.0f} MB"
                  + (f", after the TTL {row['rss_after_ttl']:.0f} MB" if args.wait_ttl else ""))
    print(f"  server CPU          {report.get('cpu_run', float('nan')):.1f} s for the sessions "
          f"(last round; load average at the end {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")
    print(f"  time                sessions {report.get('run_s', float('nan')):.1f} s (last "
          f"round), "
          f"total {report['total_s']:.1f} s (limit {args.timeout:g} s)"
          + ("  ABORTED: global timeout" if timed_out else ""))
    if not report["server_alive"]:
        print("  the server died:\n" + tail)
    elif stats.errors or timed_out:
        print("  server log (tail):\n    " + tail.replace("\n", "\n    "))
