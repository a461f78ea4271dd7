"""Benchmark: how fast the board renders and paints with 100k stories in the database.

Builds a synthetic store (default 100,000 stories over a year, 60 feeds, 400 releases with coverage,
alerts), publishes it as the analyst snapshot, then measures

1. server side, in-process: ``read_board`` + ``render_page`` (the whole request minus Airflow's JWT check),
   cold (first call) and warm (median / p95), with and without a search;
2. first contentful paint in headless Chromium (when /usr/bin/chromium exists), loading the board from a
   fresh loopback server process that runs the same library code per request: the first (cold) load and
   the median of warm loads. The budget (default 1000 ms) applies to the cold first paint.

Run: ``.venv/bin/python bench/bench_board.py [--stories N] [--json FILE]``; exits 1 when over budget.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from racewatch.board import RESPONSE_HEADERS, read_board, render_page
from racewatch.settings import Settings
from racewatch.store import db
from racewatch.store.snapshot import publish_snapshot

CHROMIUM = Path(os.environ.get("RACEWATCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FEEDS = 60
RELEASES = 400


def build_store(settings: Settings, stories: int, now: datetime) -> None:
    """Synthetic but shaped like production: stories spread over a year, coverage and alerts per release."""
    spacing_s = max(1, 365 * 86400 // stories)
    with db.connect(settings.db_path) as con:
        con.execute(
            """INSERT INTO feeds (feed_id, url, config_url, name, added_at, updated_at)
               SELECT 'feed-' || i, 'https://news' || i || '.example/rss', 'https://news' || i || '.example/rss',
                      'News Outlet ' || i, $now, $now FROM range($feeds) t(i)""",
            {"now": now, "feeds": FEEDS},
        )
        con.execute(
            """INSERT INTO feed_health (feed_id, last_status, last_fetch_at, last_success_at, consecutive_failures,
                   last_error, next_due_at)
               SELECT 'feed-' || i, CASE WHEN i % 15 = 0 THEN 'error' ELSE 'ok' END, $now - INTERVAL 3 MINUTE,
                      $now - to_seconds(CASE WHEN i % 15 = 0 THEN 86400 ELSE 180 END),
                      CASE WHEN i % 15 = 0 THEN 4 ELSE 0 END,
                      CASE WHEN i % 15 = 0 THEN 'HTTP 503 Service Unavailable' END, $now + INTERVAL 7 MINUTE
               FROM range($feeds) t(i)""",
            {"now": now, "feeds": FEEDS},
        )
        con.execute(
            """INSERT INTO entries (entry_key, feed_id, guid, link, title, summary_text, summary_html, published_at,
                   content_hash, first_seen_at, last_seen_at, batch_id, classified_version)
               SELECT 'e' || i, 'feed-' || (i % $feeds), 'e' || i, 'https://news' || (i % $feeds) || '.example/s/' || i,
                      ['Alibaba', 'OpenAI', 'Moonshot AI', 'Google DeepMind', 'DeepSeek', 'Anthropic', 'Mistral AI',
                       'Zhipu AI', 'Meta', 'ByteDance'][1 + i % 10] || ' ' ||
                      ['unveils', 'ships', 'teases', 'benchmarks', 'prices', 'open-sources', 'delays', 'raises'][
                          1 + (i // 10) % 8] || ' ' ||
                      ['a reasoning model', 'an open-weights LLM', 'new AI chips', 'a data centre', 'agent tools',
                       'a coding model', 'export-control plans', 'a funding round', 'a research paper',
                       'a video model', 'an API price cut', 'a safety report'][1 + (i // 80) % 12] || ' #' || i,
                      repeat('Analysts say the move intensifies the AI race between US and Chinese labs. ', 4)
                          || md5(i::VARCHAR),
                      '', ts, md5(i::VARCHAR), ts, ts, 'bench', 'bench'
               FROM (SELECT i, $now - to_seconds(i * $spacing) AS ts FROM range($n) t(i))""",
            {"now": now, "feeds": FEEDS, "spacing": spacing_s, "n": stories},
        )
        con.execute(
            """INSERT INTO stories
               SELECT 'e' || i, i % 3 <> 0,
                      ['model_release', 'benchmark', 'funding', 'policy_export_controls', 'chips_compute',
                       'partnership_product', 'talent', 'legal', 'research', 'other'][1 + i % 10],
                      FALSE, [], [], NULL, NULL, 0.8, ['bench'], NULL, NULL, NULL, 'bench', $now
               FROM range($n) t(i)""",
            {"now": now, "n": stories},
        )
        con.execute(
            """INSERT INTO model_releases (release_key, org, country, model, parameters, open_weights, claims,
                   first_seen_at, first_entry_key, announce_url, outlets, provenance, updated_at)
               SELECT 'lab-' || (r % 25) || '/model-' || r, 'Lab ' || (r % 25),
                      ['US', 'CN', 'FR', 'US', 'CN', 'GB', 'JP'][1 + r % 7], 'Model ' || r, NULL, r % 3 = 0, [],
                      $now - to_seconds(r * 78000), 'e' || (r * 250), 'https://lab' || (r % 25) || '.example/',
                      1 + r % 30, '{}', $now
               FROM range($releases) t(r)""",
            {"now": now, "releases": RELEASES},
        )
        con.execute(
            """INSERT INTO release_coverage
               SELECT 'lab-' || (r % 25) || '/model-' || r, 'e' || (r * 250 + k), 'feed-' || ((r * 250 + k) % $feeds),
                      $now - to_seconds(r * 78000 - k * 600)
               FROM range($releases) t(r), range(30) c(k) WHERE k <= r % 30 AND r * 250 + k < $n""",
            {"now": now, "releases": RELEASES, "feeds": FEEDS, "n": stories},
        )
        con.execute(
            """INSERT INTO alerts (alert_id, kind, release_key, entry_key, channel, status, slack_ts, attempts,
                   created_at, sent_at)
               SELECT CASE WHEN k = 0 THEN 'root:' ELSE 'followup:' END || release_key || ':' || entry_key,
                      CASE WHEN k = 0 THEN 'release_root' ELSE 'followup' END, release_key, entry_key, '#ai-race',
                      CASE WHEN k % 17 = 5 THEN 'failed' ELSE 'sent' END, '1764300000.' || k, 1, seen_at, seen_at
               FROM (SELECT *, row_number() OVER (PARTITION BY release_key ORDER BY seen_at) - 1 AS k
                     FROM release_coverage)""",
        )
        publish_snapshot(con, settings.db_path, settings.snapshot_path)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure_render(settings: Settings, runs: int) -> dict[str, Any]:
    """Server-side time per request: open the snapshot, run every query, render the HTML."""

    def once(query: str | None) -> tuple[float, int]:
        start = time.perf_counter()
        page = render_page(read_board(settings, query=query))
        return time.perf_counter() - start, len(page)

    cold, size = once(None)
    warm = [once(None)[0] for _ in range(runs)]
    search = [once("ai race chinese")[0] for _ in range(runs)]
    return {
        "cold_ms": _ms(cold), "warm_median_ms": _ms(statistics.median(warm)),
        "warm_p95_ms": _ms(sorted(warm)[int(0.95 * (len(warm) - 1))]),
        "search_median_ms": _ms(statistics.median(search)), "page_bytes": size,
    }


class _BoardHandler(BaseHTTPRequestHandler):
    """Serves the board the way the plugin route does (same library calls), minus Airflow's auth."""

    settings: Settings

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/":  # the browser's favicon request must not cost a board render
            self.send_error(404)
            return
        query = parse_qs(url.query).get("q", [""])[0]
        body = render_page(read_board(self.settings, query=query)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in RESPONSE_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(home: Path) -> None:
    """Child-process mode: a fresh server (cold DuckDB, cold caches) that prints its port and serves."""
    _BoardHandler.settings = Settings.from_env({"RACEWATCH_HOME": str(home)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BoardHandler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


# Milliseconds since navigation start; waits for the paint entry, which can land after the load event.
_PAINT_JS = """() => new Promise(resolve => {
  const check = () => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    if (!fcp) { requestAnimationFrame(check); return; }
    resolve({ttfb: performance.getEntriesByType('navigation')[0].responseStart, fcp: fcp.startTime});
  };
  check();
})"""


def measure_paint(home: Path, loads: int) -> dict[str, Any]:
    """First contentful paint in Chromium: the cold first load of a fresh server, then warm reloads."""
    from playwright.sync_api import sync_playwright

    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = f"http://127.0.0.1:{proc.stdout.readline().strip()}/"
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            timings = []
            for _ in range(loads + 1):
                page.goto(url, wait_until="load")
                timings.append(page.evaluate(_PAINT_JS))
            context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    warm = timings[1:]
    return {
        "cold_first_paint_ms": round(timings[0]["fcp"], 1), "cold_ttfb_ms": round(timings[0]["ttfb"], 1),
        "warm_first_paint_median_ms": round(statistics.median(t["fcp"] for t in warm), 1),
        "warm_ttfb_median_ms": round(statistics.median(t["ttfb"] for t in warm), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="warm in-process renders to time")
    parser.add_argument("--loads", type=int, default=5, help="warm browser loads to time")
    parser.add_argument("--budget-ms", type=float, default=1000.0, help="limit for the cold first paint")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_board_") as tmp:
        settings = Settings.from_env({"RACEWATCH_HOME": tmp})
        start = time.perf_counter()
        build_store(settings, args.stories, db.utcnow())
        results: dict[str, Any] = {"stories": args.stories, "build_s": round(time.perf_counter() - start, 1),
                                   "snapshot_mb": round(settings.snapshot_path.stat().st_size / 2**20, 1)}
        results["render"] = measure_render(settings, args.runs)
        if CHROMIUM.exists():
            results["browser"] = measure_paint(settings.home, args.loads)
        else:
            results["browser"] = f"skipped: {CHROMIUM} missing (bash scripts/install_browser.sh)"
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    browser = results["browser"]
    cold = browser["cold_first_paint_ms"] if isinstance(browser, dict) else results["render"]["cold_ms"]
    if cold > args.budget_ms:
        print(f"over budget: cold first paint {cold} ms > {args.budget_ms:g} ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
