"""Benchmark: a cold and a warm poll of 500 sources x 50 entries against a naive baseline.

Sources are spread over 50 loopback hosts (127.0.0.2 ... 127.0.0.51, ten feeds each, every request
delayed by 20-200 ms) so per-host politeness limits behave as on the real web. Measured in one run:

* racewatch cold poll (first fetch of everything: fetch, parse, GX, land, load);
* racewatch warm poll (`--all` again: every server answers 304 to the stored validators), in a
  fresh process like every Airflow task run, so it pays what a steady-state poll pays;
* the naive baseline: sequential ``feedparser.parse(url)`` + one INSERT per entry into DuckDB;
* peak memory of the racewatch polls, measured in a child process: its RSS high-water mark, and the
  highest summed PSS of it and its parse workers.

Run: ``.venv/bin/python bench/bench_poll.py [--sources 500] [--entries 50] [--json FILE]``.
Targets (issue 3): cold <= baseline / 5, warm < 3 s, peak memory < 400 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import psutil
import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.support.feed_server import FeedServer, Route  # noqa: E402

HOSTS = 50


def feed_body(feed: int, entries: int) -> bytes:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><guid>bench-{feed}-{i}</guid><title>Outlet {feed}: lab {i % 37} news item {i}</title>"
        f"<link>https://outlet{feed}.example/story/{i}?utm_source=rss</link>"
        f"<description>&lt;p&gt;Story {i} from outlet {feed} about chips, models and funding.&lt;/p&gt;"
        f"</description><pubDate>{format_datetime(now - timedelta(minutes=i))}</pubDate></item>"
        for i in range(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet {feed}</title>'
            f"<link>https://outlet{feed}.example/</link>{items}</channel></rss>").encode()


def start_servers(sources: int, entries: int, seed: int = 7) -> tuple[list[FeedServer], list[str]]:
    rng = random.Random(seed)
    servers = [FeedServer(host=f"127.0.0.{2 + h}") for h in range(HOSTS)]
    for server in servers:
        server.__enter__()
    urls = []
    for feed in range(sources):
        server = servers[feed % HOSTS]
        urls.append(server.add(f"/feed{feed}.xml", Route(feed_body(feed, entries), latency_s=rng.uniform(0.02, 0.2))))
    return servers, urls


CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from racewatch.settings import Settings
from racewatch.pipeline.poll import poll
imported = time.perf_counter()
summary = poll(Settings.from_env(), force_all=True)
print("RESULT " + json.dumps({
    "seconds": time.perf_counter() - imported, "import_seconds": imported - started,
    "new": summary.new_entries, "ok": summary.feeds_ok, "not_modified": summary.feeds_not_modified,
    "failed": summary.feeds_failed, "steps": summary.seconds,
    "gx_imported": "great_expectations" in sys.modules,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def racewatch_polls(urls: list[str], workdir: Path) -> dict:
    """A cold poll, then a warm one, each in a fresh process as every Airflow task run is."""
    sources = [{"id": f"bench-{i}", "url": u, "allow_private": True} for i, u in enumerate(urls)]
    (workdir / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
    env = {"RACEWATCH_HOME": str(workdir / "home"), "RACEWATCH_SOURCES": str(workdir / "sources.yaml"),
           "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin", "NO_PROXY": "*"}
    out: dict = {}
    for name in ("cold", "warm"):
        proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True)
        tree_peak = _watch_tree(proc)
        stdout = proc.stdout.read() if proc.stdout else ""
        if proc.wait() != 0:
            raise SystemExit(f"racewatch {name} poll child failed with exit code {proc.returncode}")
        out[name] = json.loads(next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))[7:])
        out[name]["tree_pss_mb"] = tree_peak
    out["peak_rss_mb"] = max(out["cold"]["rss_mb"], out["warm"]["rss_mb"])
    out["peak_tree_pss_mb"] = max(out["cold"]["tree_pss_mb"], out["warm"]["tree_pss_mb"])
    return out


def _watch_tree(proc: subprocess.Popen[str]) -> float:
    """Highest summed PSS of the poll process and its children (parse workers, resource tracker).

    ``ru_maxrss`` covers the polling process alone; the parse workers are separate processes, so
    the whole tree is sampled every 50 ms as well (sparse enough not to slow the poll down). PSS
    splits shared pages (the interpreter, libc) between the processes that map them, so the sum
    counts each page once.
    """
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
            total = 0
            for member in members:
                try:
                    total += member.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            peak = max(peak, total)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    return peak / 2**20


def naive_baseline(urls: list[str], workdir: Path) -> dict:
    """What a hand-rolled poller does: one URL after another, one INSERT per entry."""
    import duckdb
    import feedparser

    con = duckdb.connect(str(workdir / "naive.duckdb"))
    con.execute("CREATE TABLE entries (id VARCHAR PRIMARY KEY, title VARCHAR, link VARCHAR, summary VARCHAR)")
    started = time.perf_counter()
    rows = 0
    for url in urls:
        parsed = feedparser.parse(url)
        for e in parsed.entries:
            con.execute("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?)",
                        [e.get("id"), e.get("title"), e.get("link"), e.get("summary")])
            rows += 1
    con.close()
    return {"seconds": time.perf_counter() - started, "entries": rows,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    servers, urls = start_servers(args.sources, args.entries)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = {"sources": args.sources, "entries_per_source": args.entries,
                      "racewatch": racewatch_polls(urls, Path(tmp))}
            if not args.skip_baseline:
                result["baseline"] = naive_baseline(urls, Path(tmp))
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    rw = result["racewatch"]
    checks = {"warm_under_3s": rw["warm"]["seconds"] < 3, "peak_under_400mb": rw["peak_rss_mb"] < 400,
              "tree_peak_under_400mb": rw["peak_tree_pss_mb"] < 400}
    if "baseline" in result:
        result["speedup_cold_vs_baseline"] = result["baseline"]["seconds"] / rw["cold"]["seconds"]
        checks["cold_at_most_fifth_of_baseline"] = result["speedup_cold_vs_baseline"] >= 5
    result["targets_met"] = checks
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
