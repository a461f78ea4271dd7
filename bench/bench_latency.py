"""Benchmark: end-to-end alert latency with the real scheduler, per profile.

A flagship story appears on a loopback feed at time T; the latency is the time until the fake Slack Web
API receives its root message. Airflow runs exactly as ``make run`` starts it (``scripts/run.sh``:
``airflow standalone``, SQLite, LocalExecutor) or as ``make run PROFILE=scale`` does
(``scripts/run_scale.sh``: PostgreSQL, CeleryExecutor, 2 workers), in a temp ``AIRFLOW_HOME`` on free
ports, with the bundled sample feeds plus one lab feed on a loopback server.

Profiles:

* ``default`` / ``scale``: the regular chain ``racewatch_poll`` -> ``racewatch_classify`` ->
  ``racewatch_alert``. To keep the benchmark affordable the poll runs every minute
  (``RACEWATCH_POLL_CRON='* * * * *'``, per-feed interval ``RACEWATCH_POLL_MINUTES=0`` so every feed is
  due at every tick); the target is p95 < poll interval + 60 s = 120 s.
* ``fastpath``: the lab feed is tagged ``fast``; the regular poll keeps its 10-minute cron, and
  ``racewatch_fastpath`` (an AssetWatcher whose trigger polls the fast feeds every
  ``RACEWATCH_FAST_POLL_SECONDS``) starts the chain. Target: about 60 s.

Trials publish at stratified phases of the wall-clock minute (shuffled), so the wait for the next cron
tick is sampled evenly rather than by luck. After each trial the budget is split from Airflow's own
task-instance timestamps (REST API v2): wait for the poll (or the trigger), scheduling and task start
(queued -> running) per task, each task's run time (the GX cost inside it is measured separately by
``bench/bench_airflow.py``), and alert task start -> Slack receipt.

Run: ``.venv/bin/python bench/bench_latency.py --trials 10 --profile default|scale|fastpath [--json FILE]``
(scale needs PostgreSQL and Redis: ``RACEWATCH_PG_URL``, ``RACEWATCH_REDIS_URL``; it uses and drops a
database and a Celery queue of its own). Exits 1 when the p95 misses the target or a trial times out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import yaml
from racewatch.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT))  # tests.support: the same loopback servers the tests use
from tests.conftest import content_type_for, sample_routes
from tests.support.airflow_api import AirflowApi
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, Route
from tests.support.processes import stop_group

PASSWORD = "bench-secret"
LAB_ROUTE = "/bench-lab.xml"
PG_URL = os.environ.get("RACEWATCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/racewatch_airflow")
REDIS_URL = os.environ.get("RACEWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CHAIN_DAGS = ("racewatch_poll", "racewatch_fastpath", "racewatch_classify", "racewatch_alert")
INGEST = {"racewatch_poll": "poll_feeds", "racewatch_fastpath": "poll_fast_feeds"}
PHASES = ("detect", "ingest_sched", "ingest_start", "ingest_run", "classify_sched", "classify_start",
          "classify_run", "alert_sched", "alert_start", "alert_to_slack")
"""Consecutive slices of one trial's latency; they add up to the total by construction."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ts(value: str | None) -> float | None:
    """Airflow's ISO timestamps -> epoch seconds (the same machine clock as ``time.time()``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so p95 of 10 trials is not just the max."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# ---------------------------------------------------------------------------------------------------
# The lab feed
# ---------------------------------------------------------------------------------------------------


@dataclass
class LabFeed:
    """An RSS 2.0 lab blog on the loopback server; :meth:`publish` prepends one flagship story."""

    server: FeedServer
    items: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items.append(self._item("Notes from our research offsite", "A recap of talks and posters.",
                                     "offsite", datetime(2026, 1, 5, tzinfo=UTC)))
        self._serve()

    @staticmethod
    def _item(title: str, summary: str, slug: str, when: datetime) -> dict[str, str]:
        return {"title": title, "summary": summary, "link": f"https://lab.example/news/{slug}",
                "date": format_datetime(when, usegmt=True)}

    def publish(self, trial: int) -> str:
        """Add 'Moonshot AI releases Kimi K<n>' (a new flagship release) and return the model name."""
        model = f"Kimi K{100 + trial}"
        summary = f"Moonshot AI today released {model}, its new flagship open-weights model, available now."
        self.items.insert(0, self._item(f"Moonshot AI releases {model}", summary, f"kimi-k{100 + trial}",
                                        datetime.now(UTC)))
        self._serve()
        return model

    def _serve(self) -> None:
        entries = "".join(
            f"<item><title>{escape(i['title'])}</title><link>{i['link']}</link><guid>{i['link']}</guid>"
            f"<pubDate>{i['date']}</pubDate><description>{escape(i['summary'])}</description></item>"
            for i in self.items)
        body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench Lab</title>'
                f"<link>https://lab.example/</link><description>Lab news</description>{entries}</channel></rss>")
        self.server.add(LAB_ROUTE, Route(body=body.encode(), last_modified=None))


def write_sources(path: Path, server: FeedServer, fast: bool) -> Path:
    """The sample feeds plus the lab feed (tagged ``fast`` only for the fast-path profile)."""
    sources = [{"id": sid, "url": server.url(route), "name": sid, "allow_private": True}
               for sid, (route, _) in sample_routes().items()]
    sources.append({"id": "bench-lab", "url": server.url(LAB_ROUTE), "name": "Bench Lab",
                    "tags": ["lab", "fast"] if fast else ["lab"], "allow_private": True})
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------
# Airflow, as the project's own scripts start it
# ---------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    proc: subprocess.Popen
    base: str
    log: Path
    profile: str
    cleanup: list[Any] = field(default_factory=list)
    rest: AirflowApi = field(init=False)

    def __post_init__(self) -> None:
        self.rest = AirflowApi(self.base, PASSWORD, timeout_s=20)

    def api(self, path: str, **params: Any) -> Any:
        return self.rest.get(path, **params)

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"Airflow exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")


def launch(profile: str, tmp: Path, sources: Path, slack: FakeSlack, fast_interval: float) -> Stack:
    home = tmp / "airflow"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": PASSWORD}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RACEWATCH_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}),
        "AIRFLOW_VAR_RACEWATCH_SLACK_CHANNEL": "#ai-race",
        "RACEWATCH_HOME": str(tmp / "rw"),
        "RACEWATCH_SOURCES": str(sources),
        "RACEWATCH_FAST_POLL_SECONDS": f"{fast_interval:g}",
        "GX_ANALYTICS_ENABLED": "false",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    if profile != "fastpath":  # the fast path keeps the regular 10-minute poll: that is its point
        env.update({"RACEWATCH_POLL_CRON": "* * * * *", "RACEWATCH_POLL_MINUTES": "0"})
    cleanup: list[Any] = []
    script = "scripts/run.sh"
    if profile == "scale":
        from sqlalchemy.engine import make_url

        run_id = uuid.uuid4().hex[:10]
        db_name = queue = f"racewatch_bench_{run_id}"
        env.update({"RACEWATCH_PG_URL": make_url(PG_URL).set(database=db_name).render_as_string(hide_password=False),
                    "RACEWATCH_REDIS_URL": REDIS_URL, "RACEWATCH_CELERY_QUEUE": queue})
        cleanup += [lambda: drop_database(db_name), lambda: drop_queue(queue)]
        script = "scripts/run_scale.sh"
    log = tmp / "airflow.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", str(PROJECT_ROOT / script)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=PROJECT_ROOT)
    return Stack(proc, f"http://127.0.0.1:{port}", log, profile, cleanup)


def stop(stack: Stack) -> None:
    """TERM the process group, KILL leftovers (task processes have groups of their own), then clean up."""
    stop_group(stack.proc)
    for step in stack.cleanup:
        step()


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def drop_queue(queue: str) -> None:
    import redis

    with contextlib.closing(redis.Redis.from_url(REDIS_URL)) as client:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def active_runs(stack: Stack) -> int:
    runs = stack.api("/api/v2/dags/~/dagRuns", limit=100, state=["queued", "running"])["dag_runs"]
    return sum(1 for r in runs if r["dag_id"] in CHAIN_DAGS)


def warm_up(stack: Stack, timeout_s: float) -> float:
    """Wait until the first poll stored the sample feeds and the chain it started has finished."""
    started = time.monotonic()
    deadline = started + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        stack.alive()
        try:
            polled = any(r["state"] == "success" for r in stack.api("/api/v2/dags/racewatch_poll/dagRuns")["dag_runs"])
            quiet = quiet + 1 if polled and active_runs(stack) == 0 else 0
        except httpx.HTTPError:
            quiet = 0
        if quiet >= 3:  # three calm looks 3 s apart: nothing in flight
            return time.monotonic() - started
        time.sleep(3)
    raise RuntimeError(f"warm-up did not finish in {timeout_s:.0f}s:\n{stack.log.read_text()[-3000:]}")


# ---------------------------------------------------------------------------------------------------
# Trials
# ---------------------------------------------------------------------------------------------------


def slack_root_time(slack: FakeSlack, model: str) -> float | None:
    """``time.monotonic()`` at which the fake Slack received the root message naming ``model``."""
    for (method, payload), at in zip(list(slack.calls), list(slack.call_times), strict=False):
        if method == "chat.postMessage" and "thread_ts" not in payload and model in json.dumps(payload):
            return at
    return None


def first_after(tis: list[dict], dag_ids: tuple[str, ...], after: float, field_name: str = "start_date") -> dict:
    """The earliest successful task instance of ``dag_ids`` whose ``field_name`` is at or after ``after``."""
    found = [ti for ti in tis if ti["dag_id"] in dag_ids and ti["state"] == "success"
             and (ts(ti[field_name]) or 0) >= after - 0.001]
    if not found:
        raise LookupError(f"no successful {dag_ids} task after {after}")
    return min(found, key=lambda ti: ts(ti[field_name]) or 0)


def breakdown(stack: Stack, published: float, slack_at: float) -> dict[str, Any]:
    """Split one trial's latency (wall-clock seconds) with the task instances' own timestamps."""
    since = datetime.fromtimestamp(published - 600, UTC).isoformat()
    tis = stack.api("/api/v2/dags/~/dagRuns/~/taskInstances", limit=200, start_date_gte=since)["task_instances"]
    ingest = first_after(tis, tuple(INGEST), published, "end_date")
    run = stack.api(f"/api/v2/dags/{ingest['dag_id']}/dagRuns/{ingest['dag_run_id']}")
    classify = first_after(tis, ("racewatch_classify",), ts(ingest["end_date"]) or 0)
    alert = first_after(tis, ("racewatch_alert",), ts(classify["end_date"]) or 0)
    marks = [published, ts(run["run_after"]), ts(ingest["queued_when"]), ts(ingest["start_date"]),
             ts(ingest["end_date"]), ts(classify["queued_when"]), ts(classify["start_date"]), ts(classify["end_date"]),
             ts(alert["queued_when"]), ts(alert["start_date"]), slack_at]
    # A scheduled poll that started before T still saw the story only at its own fetch: 'detect' is then
    # negative and its 'ingest_*' slices longer; the sum stays the true latency.
    phases = {name: round(b - a, 3)  # type: ignore[operator]
              for name, a, b in zip(PHASES, marks[:-1], marks[1:], strict=True)}
    return {"ingest_dag": ingest["dag_id"], "ingest_run_type": run["run_type"], "phases": phases}


def run_trials(stack: Stack, slack: FakeSlack, lab: LabFeed, trials: int, timeout_s: float, seed: int) -> list[dict]:
    phases = [(i + 0.5) * 60 / trials for i in range(trials)]
    random.Random(seed).shuffle(phases)
    results = []
    for trial, phase in enumerate(phases):
        wait = (phase - time.time() % 60) % 60
        time.sleep(wait)
        model = lab.publish(trial)
        published_wall, published_mono = time.time(), time.monotonic()
        deadline = published_mono + timeout_s
        slack_mono = None
        while slack_mono is None and time.monotonic() < deadline:
            stack.alive()
            time.sleep(0.2)
            slack_mono = slack_root_time(slack, model)
        if slack_mono is None:
            results.append({"trial": trial, "model": model, "phase_s": round(phase, 1), "latency_s": None})
            print(f"  trial {trial}: {model} not in Slack after {timeout_s:.0f}s", flush=True)
            continue
        latency = slack_mono - published_mono
        result = {"trial": trial, "model": model, "phase_s": round(phase, 1), "latency_s": round(latency, 3)}
        time.sleep(2)  # let the alert task finish so its end_date is in
        try:
            result.update(breakdown(stack, published_wall, published_wall + latency))
        except (LookupError, httpx.HTTPError) as exc:
            result["breakdown_error"] = str(exc)
        results.append(result)
        print(f"  trial {trial}: {model} in Slack after {latency:.1f}s (published at :{phase:04.1f}) "
              f"{result.get('phases', result.get('breakdown_error'))}", flush=True)
    return results


def summarize(profile: str, results: list[dict], target_s: float, warm_up_s: float, fast_interval: float) -> dict:
    latencies = [r["latency_s"] for r in results if r["latency_s"] is not None]
    split = [r["phases"] for r in results if "phases" in r]
    summary: dict[str, Any] = {
        "profile": profile,
        "trials": len(results),
        "timeouts": len(results) - len(latencies),
        "target_p95_s": target_s,
        "warm_up_s": round(warm_up_s, 1),
        "fast_poll_seconds": fast_interval if profile == "fastpath" else None,
        "poll_cron": "*/10 * * * *" if profile == "fastpath" else "* * * * *",
    }
    if latencies:
        summary.update({
            "p50_s": round(percentile(latencies, 0.50), 1),
            "p95_s": round(percentile(latencies, 0.95), 1),
            "min_s": round(min(latencies), 1),
            "max_s": round(max(latencies), 1),
            "phase_median_s": {p: round(statistics.median(s[p] for s in split), 1) for p in PHASES} if split else {},
            "ingested_by": sorted({r["ingest_dag"] for r in results if "ingest_dag" in r}),
        })
    summary["ok"] = bool(latencies) and not summary["timeouts"] and summary["p95_s"] < target_s
    summary["results"] = results
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("default", "scale", "fastpath"), default="default")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--fast-interval", type=float, default=15.0, help="fast-path trigger interval (s)")
    parser.add_argument("--trial-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--json", type=Path, help="results file (default bench/results/latency_<profile>.json)")
    args = parser.parse_args(argv)
    target = 60.0 if args.profile == "fastpath" else 60.0 + 60.0  # poll interval (1 min) + 60 s

    with tempfile.TemporaryDirectory(prefix="racewatch-latency-") as tmpdir, FeedServer() as server, \
            FakeSlack() as slack:
        tmp = Path(tmpdir)
        for route, file in sample_routes().values():
            server.add(route, Route(body=file.read_bytes(), content_type=content_type_for(file)))
        lab = LabFeed(server)
        sources = write_sources(tmp / "sources.yaml", server, fast=args.profile == "fastpath")
        print(f"racewatch latency bench: profile {args.profile}, {args.trials} trials", flush=True)
        stack = launch(args.profile, tmp, sources, slack, args.fast_interval)
        try:
            warm = warm_up(stack, 420)
            print(f"  warm-up (start, first poll, chain) {warm:.0f}s", flush=True)
            results = run_trials(stack, slack, lab, args.trials, args.trial_timeout, args.seed)
        finally:
            stop(stack)
    summary = summarize(args.profile, results, target, warm, args.fast_interval)
    out = args.json or PROJECT_ROOT / "bench" / "results" / f"latency_{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}, indent=2))
    print(f"results: {out}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
