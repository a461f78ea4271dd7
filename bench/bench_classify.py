"""Benchmark: classifier throughput, load time and memory, and the Great Expectations cost per batch.

* classifier: the default (hybrid) classifier and the rules alone over real corpus items repeated to
  20,000 stories, in the same run, single process (pin it to one core with ``taskset -c 0`` for the
  issue's "one core" figure); target >= 2,000/s for the hybrid;
* classifier load: a fresh interpreter imports the classifier, loads taxonomy and weights and labels
  one story; targets < 1 s and < 150 MB of added resident memory;
* GX: ``validate_entries`` and ``validate_stories`` on 50 and 25,000 rows with a warm context, plus
  the one-off import + context cost a fresh worker pays.

Run: ``.venv/bin/python bench/bench_classify.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _corpus_batch(n: int) -> list[dict]:
    from racewatch.corpus import load_corpus

    items = load_corpus()
    return [{"id": f"{i}", "title": it["title"], "summary": it.get("summary") or "", "source": it["source"]}
            for i, it in enumerate(items * (n // len(items) + 1))][:n]


def classifier(n: int = 20_000) -> dict:
    from racewatch.classify import get_classifier

    batch = _corpus_batch(n)
    out: dict = {"stories": n, "input": "real corpus items (title, summary, source)"}
    for name in ("hybrid", "rules"):
        clf = get_classifier(name)
        clf.label_many(batch[:100])  # taxonomy load, regex compilation and weights are not per-story costs
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            clf.label_many(batch)
            runs.append(n / (time.perf_counter() - started))
        out[f"{name}_stories_per_second"] = round(statistics.median(runs))
    out["hybrid_vs_rules"] = round(out["hybrid_stories_per_second"] / out["rules_stories_per_second"], 2)
    out["target"] = 2000
    out["met"] = out["hybrid_stories_per_second"] >= 2000
    return out


_LOAD_PROBE = """
import json, resource, time
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize()
before = rss()
t = time.perf_counter()
from racewatch.classify import get_classifier
get_classifier().label_many([{"id": 1, "title": "Moonshot AI releases Kimi K2.5"}])
elapsed = time.perf_counter() - t
print(json.dumps({"load_s": round(elapsed, 3), "added_rss_mb": round((rss() - before) / 2**20, 1)}))
"""


def classifier_load(runs: int = 5) -> dict:
    """Import + taxonomy + weights + first label in a fresh interpreter, median of ``runs``."""
    results = [json.loads(subprocess.run([sys.executable, "-c", _LOAD_PROBE], capture_output=True, text=True,
                                         check=True).stdout) for _ in range(runs)]
    load = statistics.median(r["load_s"] for r in results)
    mem = statistics.median(r["added_rss_mb"] for r in results)
    return {"load_s": load, "added_rss_mb": mem, "targets": {"load_s": 1.0, "added_rss_mb": 150},
            "met": load < 1.0 and mem < 150}


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
    result = {"classifier": classifier(), "classifier_load": classifier_load(), "great_expectations": gx_cost()}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["classifier"]["met"] and result["classifier_load"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
