"""Benchmark: one whole cycle (poll + classify + validate + store + alert) for 500 sources x 50 entries.

Generates 500 RSS feeds of 50 distinct entries each (25,000 entries; about 2% are flagship model
releases, the rest ordinary AI and tech news) on a loopback feed server, then runs
``racewatch.pipeline.cycle.run_once`` in-process, exactly as ``racewatch run-once --all`` does, with
Slack in dry-run. Reported per stage: the stage's wall time (from the moment each stage logs its
summary line, so ``run_once`` itself is timed unmodified), the poll's own per-step seconds when its
summary carries them, and the counts from the returned summaries. Peak memory is the peak RSS of this
process plus its children (sampled every 50 ms with psutil), and ``getrusage`` max RSS as a check.

Cycles then repeat on the now-known feeds (every feed answers 304 Not Modified) until one has nothing
left to do (a classify run takes at most ``store.stories.pending_entries``' cap, so a batch above it
needs more than one cycle); the last cycle is the steady-state cost of 500 sources with no news.

500 real sources live on ~500 hosts; here they share one loopback server, so the per-host politeness
limit (2 connections) is raised to the overall limit for the run, or the bench would measure that limit.

Run: ``.venv/bin/python bench/bench_cycle.py [--sources 500] [--entries 50] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import psutil
import yaml
from racewatch.alerts.slack import SlackPoster
from racewatch.pipeline.cycle import run_once
from racewatch.settings import PROJECT_ROOT, Settings

sys.path.insert(0, str(PROJECT_ROOT))  # tests.support: the loopback feed server the tests use
from tests.support.feed_server import FeedServer, Route

LABS = [("Moonshot AI", "Kimi K"), ("DeepSeek", "DeepSeek-V"), ("Mistral AI", "Mistral Large "),
        ("Alibaba", "Qwen"), ("Google DeepMind", "Gemini "), ("OpenAI", "GPT-")]
NEWS = ["{org} expands data center capacity in {place}", "Startup raises funding to build AI chips in {place}",
        "Regulators in {place} publish draft AI rules", "{org} hires a new head of research",
        "Benchmark results: open models close the gap on reasoning tasks", "Court weighs AI copyright case in {place}"]
PLACES = ["Texas", "Shanghai", "Paris", "Bangalore", "Seoul", "Dublin", "Shenzhen", "Toronto"]
MAX_CYCLES = 4
STAGE_LOGS = {"racewatch.pipeline.poll": "poll", "racewatch.pipeline.classify": "classify",
              "racewatch.pipeline.alert": "alert"}


def feed_body(feed: int, entries: int, now: datetime) -> bytes:
    """One RSS 2.0 feed; entry ``i`` of feed ``feed`` is unique across the whole run."""
    items = []
    for i in range(entries):
        n = feed * entries + i
        when = format_datetime(now - timedelta(minutes=n % 600), usegmt=True)
        if n % 50 == 7:  # ~2%: a flagship release, each with its own model name
            org, prefix = LABS[n % len(LABS)]
            title = f"{org} releases {prefix}{1000 + n}"
            summary = f"{org} today released {prefix}{1000 + n}, its new flagship model, available via API."
        else:
            org = LABS[n % len(LABS)][0]
            title = NEWS[n % len(NEWS)].format(org=org, place=PLACES[n % len(PLACES)]) + f" (report {n})"
            summary = f"{title}. Analysts expect the move to shape the AI race in {PLACES[(n + 3) % len(PLACES)]}."
        link = f"https://news{feed}.example/{n}"
        items.append(f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
                     f"<pubDate>{when}</pubDate><description>{escape(summary)}</description></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {feed}</title><link>https://news{feed}.example/</link><description>News</description>"
            f"{''.join(items)}</channel></rss>").encode()


class StageClock(logging.Handler):
    """Records when each pipeline stage logs its closing summary line (the stage boundaries of run_once)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.marks: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        stage = STAGE_LOGS.get(record.name)
        message = record.getMessage()
        if stage and message.startswith(("poll ", "classify (", "alerts:")):
            self.marks[stage] = record.created


class PeakRss:
    """Peak RSS of this process plus all its children (the poll's parse workers), sampled in a thread."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval_s)


def cycle(settings: Settings, clock: StageClock) -> dict[str, Any]:
    clock.marks.clear()
    started = time.time()
    summary = run_once(settings, SlackPoster(None, settings.slack_channel), force_all=True)
    ended = time.time()
    poll_end = clock.marks.get("poll", started)
    classify_end = clock.marks.get("classify", poll_end)
    stages = {"poll": poll_end - started, "classify_validate_store": classify_end - poll_end,
              "alert": ended - classify_end}
    result = summary.as_dict()
    return {
        "wall_s": round(ended - started, 2),
        "stage_s": {k: round(v, 2) for k, v in stages.items()},
        "poll_steps_s": result["poll"].get("seconds"),
        "summaries": {stage: {k: v for k, v in values.items() if k not in ("errors", "seconds")}
                      for stage, values in result.items()},
        "feed_errors": len(result["poll"]["errors"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--json", type=Path, help="results file (default bench/results/cycle.json)")
    args = parser.parse_args(argv)

    clock = StageClock()
    logging.getLogger("racewatch").addHandler(clock)
    logging.getLogger("racewatch").setLevel(logging.INFO)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="racewatch-cycle-") as tmpdir, FeedServer() as server:
        tmp = Path(tmpdir)
        sources = []
        for feed in range(args.sources):
            url = server.add(f"/feed{feed}.xml", Route(body=feed_body(feed, args.entries, now)))
            sources.append({"id": f"outlet-{feed}", "url": url, "name": f"Outlet {feed}", "allow_private": True})
        (tmp / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
        base = Settings.from_env({"RACEWATCH_HOME": str(tmp / "home"), "RACEWATCH_SOURCES": str(tmp / "sources.yaml"),
                                  "RACEWATCH_ALERT_MAX_AGE_HOURS": "24"})
        settings = dataclasses.replace(base, per_host_concurrency=base.max_concurrency)
        print(f"racewatch cycle bench: {args.sources} sources x {args.entries} entries", flush=True)
        cycles: list[dict[str, Any]] = []
        with PeakRss() as peak:
            while len(cycles) < MAX_CYCLES:
                cycles.append(cycle(settings, clock))
                done = cycles[-1]["summaries"]
                print(f"  cycle {len(cycles)}: {cycles[-1]['wall_s']}s {cycles[-1]['stage_s']} "
                      f"(new {done['poll']['new_entries']}, classified {done['classify']['classified']})", flush=True)
                if len(cycles) > 1 and not done["poll"]["new_entries"] and not done["classify"]["classified"]:
                    break
        db_mb = round(settings.db_path.stat().st_size / 2**20, 1)
    through = cycles[:-1] if len(cycles) > 1 else cycles
    classified = sum(c["summaries"]["classify"]["classified"] for c in through)
    results = {
        "sources": args.sources,
        "entries_per_source": args.entries,
        "all_entries_through_s": round(sum(c["wall_s"] for c in through), 2),
        "entries_classified": classified,
        "entries_per_s_end_to_end": round(classified / sum(c["wall_s"] for c in through), 1),
        "cycles": cycles,
        "peak_rss_mb": round(peak.peak / 2**20, 1),
        "maxrss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "maxrss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "duckdb_file_mb": db_mb,
    }
    out = args.json or PROJECT_ROOT / "bench" / "results" / "cycle.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
