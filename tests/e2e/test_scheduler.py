"""The real scheduler: `airflow standalone` in a temp home runs the asset chain on its own.

Starts Airflow (api-server, scheduler, dag-processor, triggerer) exactly as `make run` does, with the
sample feeds on a loopback server and a loopback fake Slack, waits for the chain poll -> classify ->
alert to finish, then checks the result through the REST API and the DuckDB file. Every process it
started is killed at the end (they share one process group).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from racewatch.store import db

from tests.conftest import write_sources
from tests.e2e.conftest import airflow_env
from tests.support.airflow_api import AirflowApi
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer
from tests.support.processes import stop_group

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]
PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def standalone(airflow_home: Path, tmp_path: Path, sample_server: FeedServer) -> Iterator[dict]:
    from tests.conftest import sample_routes

    port = free_port()
    slack = FakeSlack()
    slack.__enter__()
    rw_home = tmp_path / "rw"
    sources = write_sources(tmp_path / "sources.yaml", sample_server, sample_routes())
    (airflow_home / "passwords.json").write_text(json.dumps({"admin": "e2e-secret"}))
    env = airflow_env(
        airflow_home,
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PROJECT / "plugins"),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(airflow_home / "passwords.json"),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        AIRFLOW_CONN_SLACK_API_DEFAULT=json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}),
        AIRFLOW_VAR_RACEWATCH_SLACK_CHANNEL="#ai-race",
        RACEWATCH_HOME=str(rw_home),
        RACEWATCH_SOURCES=str(sources),
        RACEWATCH_ALERT_MAX_AGE_HOURS="0",
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",  # standalone spawns `airflow`
    )
    subprocess.run([sys.executable, str(PROJECT / "scripts/apply_airflow_settings.py"),
                    str(PROJECT / "airflow_settings.yaml")], env=env, check=True, capture_output=True, timeout=120)
    log = (tmp_path / "standalone.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "standalone"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    try:
        yield {"port": port, "slack": slack, "db": rw_home / "racewatch.duckdb", "log": tmp_path / "standalone.log",
               "proc": proc}
    finally:
        children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        stop_group(proc, grace_s=30)
        log.close()
        slack.__exit__(None, None, None)
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_scheduler_runs_the_asset_chain(standalone: dict) -> None:
    api = AirflowApi(f"http://127.0.0.1:{standalone['port']}", "e2e-secret")
    deadline = time.monotonic() + 420
    alert_runs: list[dict] = []
    while time.monotonic() < deadline:
        log_text = standalone["log"].read_text()
        assert standalone["proc"].poll() is None and "Traceback" not in log_text, log_text[-3000:]
        try:
            alert_runs = api.runs("racewatch_alert")
        except httpx.HTTPError:
            alert_runs = []
        if any(r["state"] == "success" for r in alert_runs):
            break
        time.sleep(3)
    else:
        pytest.fail(f"asset chain did not finish; log tail:\n{standalone['log'].read_text()[-4000:]}")

    poll_runs = api.runs("racewatch_poll")
    classify_runs = api.runs("racewatch_classify")
    assert poll_runs[0]["state"] == "success" and poll_runs[0]["run_type"] == "scheduled"
    assert classify_runs[0]["run_type"] == "asset_triggered" and classify_runs[0]["state"] == "success"
    assert alert_runs[0]["run_type"] == "asset_triggered"

    with db.connect(standalone["db"], read_only=True, retry_s=60) as con:
        entries = con.execute("SELECT count(*) FROM entries").fetchone()[0]
        stories = con.execute("SELECT count(*) FROM stories").fetchone()[0]
        releases = {r[0] for r in con.execute("SELECT release_key FROM model_releases").fetchall()}
        roots = con.execute("SELECT count(*) FROM alerts WHERE kind = 'release_root' AND status = 'sent'").fetchone()[0]
    assert entries >= 70 and stories == entries
    assert {"alibaba/qwen3-max", "moonshot-ai/kimi-k2.5"} <= releases
    posted_roots = [c for c in standalone["slack"].calls_to("chat.postMessage") if "thread_ts" not in c]
    assert roots == len(releases) == len(posted_roots)
