"""The scale-out profile for real: PostgreSQL metadata DB, CeleryExecutor on Redis, two Celery workers.

Starts ``scripts/run_scale.sh`` exactly as ``make run PROFILE=scale`` does, but on a metadata database
and a Celery queue of its own (unique per run), a temp ``AIRFLOW_HOME`` and free ports, with the sample
feeds plus a lab feed tagged ``fast`` on a loopback server and a loopback fake Slack. Waits for the
asset chain poll -> classify -> alert and checks that Celery workers ran the tasks (each worker logs
the task-instance ids it executes; both workers must have run something). Then a flagship release
appears on the lab feed: the fast path (the ``FeedChangeTrigger`` watcher in the triggerer, then
``racewatch_fastpath`` on a worker) must bring it to Slack while the regular poll stays idle. Finally
the DuckDB rows and exactly one Slack root per release. Afterwards every process of the group is gone
and the test database is dropped.

Skipped, with the reason, when PostgreSQL or Redis is not reachable (``RACEWATCH_PG_URL``,
``RACEWATCH_REDIS_URL``; defaults are the loopback services).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from racewatch.store import db
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import sample_routes, write_sources
from tests.support.airflow_api import AirflowApi
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, Route
from tests.support.processes import stop_group

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]
PROJECT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("RACEWATCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/racewatch_airflow")
REDIS_URL = os.environ.get("RACEWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CHAIN = {"racewatch_poll": "poll_feeds", "racewatch_classify": "classify_entries", "racewatch_alert": "send_alerts"}
WORKERS = 2
FAST_ROUTE = "/fast-lab.xml"
WORKLOAD_LINE = re.compile(r"Executing workload in Celery: .*?ti=TaskInstanceDTO\(id=UUID\('([0-9a-f-]+)'\)")


def lab_feed(*titles: str) -> Route:
    """A small RSS lab blog; each title becomes an item published now (summary: the title, said again)."""
    items = "".join(
        f"<item><title>{t}</title><link>https://lab.example/{i}</link><guid>https://lab.example/{i}</guid>"
        f"<pubDate>{format_datetime(datetime.now(UTC), usegmt=True)}</pubDate><description>{t}, available today."
        "</description></item>" for i, t in enumerate(titles))
    body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Fast Lab</title><link>https://lab.example/'
            f"</link><description>Lab news</description>{items}</channel></rss>")
    return Route(body=body.encode(), last_modified=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def drop_database(admin_url: str, name: str) -> None:
    """DROP the run's metadata database, disconnecting whatever still holds it (PostgreSQL 13+)."""
    engine = create_engine(make_url(admin_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def database_exists(admin_url: str, name: str) -> bool:
    engine = create_engine(make_url(admin_url).set(database="postgres"))
    try:
        with engine.connect() as con:
            return bool(con.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar())
    finally:
        engine.dispose()


def drop_queue(redis_url: str, queue: str) -> None:
    """Remove this run's Celery queue and its binding from the shared Redis (nothing else is touched)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


@pytest.fixture
def scale_stack(tmp_path: Path, sample_server: FeedServer) -> Iterator[dict]:
    if not reachable(PG_URL, 5432):
        pytest.skip(f"scale profile needs PostgreSQL: nothing listens at {urlsplit(PG_URL).netloc} "
                    "(set RACEWATCH_PG_URL)")
    if not reachable(REDIS_URL, 6379):
        pytest.skip(f"scale profile needs Redis: nothing listens at {urlsplit(REDIS_URL).netloc} "
                    "(set RACEWATCH_REDIS_URL)")
    run_id = uuid.uuid4().hex[:10]
    db_name = f"racewatch_e2e_{run_id}"
    queue = f"racewatch_e2e_{run_id}"
    pg_url = make_url(PG_URL).set(database=db_name).render_as_string(hide_password=False)
    home = tmp_path / "airflow"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": "e2e-secret"}))
    port = free_port()
    slack = FakeSlack()
    slack.__enter__()
    sources = write_sources(tmp_path / "sources.yaml", sample_server, sample_routes())
    sample_server.add(FAST_ROUTE, lab_feed("Notes from our research offsite"))
    listed = yaml.safe_load(sources.read_text(encoding="utf-8"))
    listed["sources"].append({"id": "fast-lab", "url": sample_server.url(FAST_ROUTE), "name": "Fast Lab",
                              "tags": ["lab", "fast"], "allow_private": True})
    sources.write_text(yaml.safe_dump(listed), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RACEWATCH_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}),
        "AIRFLOW_VAR_RACEWATCH_SLACK_CHANNEL": "#ai-race",
        "RACEWATCH_PG_URL": pg_url,
        "RACEWATCH_REDIS_URL": REDIS_URL,
        "RACEWATCH_CELERY_WORKERS": str(WORKERS),
        "RACEWATCH_CELERY_CONCURRENCY": "1",
        "RACEWATCH_CELERY_QUEUE": queue,
        "RACEWATCH_HOME": str(tmp_path / "rw"),
        "RACEWATCH_SOURCES": str(sources),
        "RACEWATCH_ALERT_MAX_AGE_HOURS": "0",
        # The regular poll runs once at start (run_immediately) and not again during the test, so the
        # later lab release can only arrive through the fast path.
        "RACEWATCH_POLL_CRON": "0 0 1 1 *",
        "RACEWATCH_FAST_POLL_SECONDS": "2",
        "GX_ANALYTICS_ENABLED": "false",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    log_path = tmp_path / "run_scale.log"
    log = log_path.open("w")
    proc = subprocess.Popen(["bash", str(PROJECT / "scripts/run_scale.sh")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "slack": slack, "db": tmp_path / "rw" / "racewatch.duckdb",
               "log": log_path, "components": home / "logs" / "components", "proc": proc, "queue": queue,
               "feeds": sample_server}
    finally:
        try:
            survivors = stop_group(proc)
        finally:
            log.close()
            slack.__exit__(None, None, None)
            drop_database(PG_URL, db_name)
            drop_queue(REDIS_URL, queue)
        assert not database_exists(PG_URL, db_name), f"test database {db_name} was not dropped"
        assert not survivors, f"processes survived the profile's shutdown: {survivors}"


class Api(AirflowApi):
    """The REST calls this test makes, as the profile's admin."""

    def __init__(self, base: str) -> None:
        super().__init__(base, "e2e-secret")

    def task_instances(self) -> list[dict]:
        return self.get("/api/v2/dags/~/dagRuns/~/taskInstances", limit=100)["task_instances"]


def executed_by_worker(components: Path) -> dict[str, set[str]]:
    """Task-instance ids each Celery worker executed, read from the worker logs run_scale.sh writes."""
    return {f"worker{i}": set(WORKLOAD_LINE.findall((components / f"worker{i}.log").read_text(errors="replace")))
            for i in range(1, WORKERS + 1)}


def wait_for(what: str, check: object, stack: dict, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert stack["proc"].poll() is None, f"run_scale.sh exited:\n{stack['log'].read_text()[-4000:]}"
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    pytest.fail(f"{what} did not happen in {seconds:.0f}s; run_scale.sh output:\n{stack['log'].read_text()[-4000:]}")


def test_scale_profile_runs_the_asset_chain_on_celery_workers(scale_stack: dict) -> None:
    api = Api(scale_stack["base"])
    wait_for("the asset chain poll -> classify -> alert",
             lambda: any(r["state"] == "success" for r in api.runs("racewatch_alert")), scale_stack, 240)
    runs = {dag_id: api.runs(dag_id)[0] for dag_id in CHAIN}
    assert runs["racewatch_poll"]["state"] == "success" and runs["racewatch_poll"]["run_type"] == "scheduled"
    assert runs["racewatch_classify"]["run_type"] == "asset_triggered"
    assert runs["racewatch_alert"]["run_type"] == "asset_triggered"

    # The chain's task instances went through this run's Celery queue and were executed by the workers.
    chain_tis = [ti for ti in api.task_instances()
                 if CHAIN.get(ti["dag_id"]) == ti["task_id"] and ti["dag_run_id"] == runs[ti["dag_id"]]["dag_run_id"]]
    assert {ti["dag_id"] for ti in chain_tis} == set(CHAIN)
    assert all(ti["state"] == "success" and ti["queue"] == scale_stack["queue"] for ti in chain_tis), chain_tis
    executed = executed_by_worker(scale_stack["components"])
    assert {ti["id"] for ti in chain_tis} <= set().union(*executed.values()), executed

    # Both workers take work. Which idle worker gets the next task is up to the broker, so when one
    # worker happened to get everything, run the (cheap, Slack-free) maintenance DAG until both have.
    for _ in range(8):
        if all(executed.values()):
            break
        api.post("/api/v2/dags/racewatch_maintenance/dagRuns", {"logical_date": None})
        wait_for("a manual maintenance run", lambda: all(
            r["state"] in ("success", "failed") for r in api.runs("racewatch_maintenance")), scale_stack, 60)
        executed = executed_by_worker(scale_stack["components"])
    assert all(executed.values()), f"only one Celery worker executed tasks: {executed}"

    # The fast path: a release on the `fast` lab feed reaches Slack through the watcher, not the poll.
    # First the trigger must know the feed as it is (its conditional GETs carry the ETag it saw).
    feeds = scale_stack["feeds"]
    wait_for("the fast-path trigger's baseline", lambda: any(
        k.lower() == "if-none-match" for r in feeds.hits(FAST_ROUTE) for k in r.headers), scale_stack, 60)
    feeds.add(FAST_ROUTE, lab_feed("Moonshot AI releases Kimi K77", "Notes from our research offsite"))
    slack = scale_stack["slack"]
    wait_for("the fast-path release in Slack", lambda: any(
        "Kimi K77" in json.dumps(c) for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c),
        scale_stack, 120)
    fast_runs = api.runs("racewatch_fastpath")
    assert [r["run_type"] for r in fast_runs] == ["asset_triggered"] and fast_runs[0]["state"] == "success"
    assert len(api.runs("racewatch_poll")) == 1, "the regular poll ran again; the fast path was not needed"

    with db.connect(scale_stack["db"], read_only=True, retry_s=60) as con:
        entries, stories = con.execute(
            "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM stories)").fetchone()
        releases = {r[0] for r in con.execute("SELECT release_key FROM model_releases").fetchall()}
        roots = con.execute("SELECT release_key, count(*) FROM alerts WHERE kind = 'release_root' AND status = 'sent' "
                            "GROUP BY release_key").fetchall()
    assert entries >= 70 and stories == entries
    assert {"alibaba/qwen3-max", "moonshot-ai/kimi-k2.5", "moonshot-ai/kimi-k77"} <= releases
    assert dict(roots) == dict.fromkeys(releases, 1)
    posted_roots = [c for c in scale_stack["slack"].calls_to("chat.postMessage") if "thread_ts" not in c]
    assert len(posted_roots) == len(releases)
