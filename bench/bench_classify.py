"""Benchmark: classifier throughput on one core, and the Great Expectations cost per batch.

* classifier: ``classify_many`` over the labelled dev set repeated to 20,000 stories, single process
  (pin it to one core with ``taskset -c 0`` for the issue's "one core" figure); target >= 2,000/s;
* GX: ``validate_entries`` and ``validate_stories`` on 50 and 25,000 rows with a warm context, plus
  the one-off import + context cost a fresh worker pays.

Run: ``.venv/bin/python bench/bench_classify.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def classifier(n: int = 20_000) -> dict:
    from racewatch.classify import classify_many

    items = [json.loads(line) for line in (PROJECT / "tests/data/labeled_stories.jsonl").read_text().splitlines()]
    batch = [{"id": f"{i}", "title": it["title"], "summary": it.get("summary", "")}
             for i, it in enumerate(items * (n // len(items) + 1))][:n]
    classify_many(batch[:100])  # taxonomy load and regex compilation are not per-story costs
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        classify_many(batch)
        runs.append(n / (time.perf_counter() - started))
    return {"stories": n, "stories_per_second": round(statistics.median(runs)), "target": 2000,
            "met": statistics.median(runs) >= 2000}


def gx_cost() -> dict:
    started = time.perf_counter()
    from racewatch import quality

    quality.warm_up()
    out: dict = {"import_and_context_s": round(time.perf_counter() - started, 2)}
    now = datetime.now(UTC)
    for rows in (50, 25_000):
        entries = [{"entry_key": f"f:{i}", "feed_id": "f", "title": f"Story {i}", "link": f"https://x.example/{i}",
                    "published_at": now - timedelta(minutes=i), "summary_text": "text " * 40} for i in range(rows)]
        stories = [{"id": f"f:{i}", "is_ai_competition": True, "event_type": "model_release",
                    "is_flagship_release": False, "orgs": ["OpenAI"], "models": [], "country": "US",
                    "release_key": None, "score": 0.5, "reasons": []} for i in range(rows)]
        for name, fn, data in (("entries", quality.validate_entries, entries),
                               ("stories", quality.validate_stories, stories)):
            times = []
            for _ in range(3):
                t = time.perf_counter()
                fn(data)
                times.append(time.perf_counter() - t)
            out[f"{name}_{rows}_rows_s"] = round(statistics.median(times), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = {"classifier": classifier(), "great_expectations": gx_cost()}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["classifier"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
