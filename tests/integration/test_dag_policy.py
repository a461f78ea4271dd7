"""DAG integrity and policy: import cleanly, parse fast, no heavy imports at top level, sane defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from racewatch.settings import PROJECT_ROOT

DAGS = PROJECT_ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("racewatch_*.py") if p.name != "racewatch_common.py")
HEAVY = ["great_expectations", "duckdb", "feedparser", "slack_sdk", "pandas", "httpx", "racewatch.pipeline"]

PROBE = r"""
import json, sys, time, runpy
import airflow.sdk  # paid once by every DAG file; not what we measure
before = set(sys.modules)
t = time.perf_counter()
runpy.run_path(sys.argv[1])
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "heavy": [m for m in sys.argv[2:] if m in sys.modules and m not in before]}))
"""


def airflow_env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "PYTHONPATH": f"{DAGS}:{PROJECT_ROOT}"}
    return env


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_without_heavy_imports(dag_file: Path, tmp_path: Path) -> None:
    """What makes parsing fast is what a DAG file imports; that is checked here, exactly.

    The parse-time target itself (< 0.5 s per file) is a benchmark (bench/bench_airflow.py): a timed
    assertion would fail on a busy CI machine. Here only Airflow's own limit applies, the
    ``dagbag_import_timeout`` (30 s) past which the dag-processor gives up on a file.
    """
    out = subprocess.run([sys.executable, "-c", PROBE, str(dag_file), *HEAVY], env=airflow_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{dag_file.name} imports {result['heavy']} at parse time"
    assert result["seconds"] < 30, f"{dag_file.name} took {result['seconds']:.2f}s to parse"


DAGBAG_PROBE = r"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag()
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "tags": sorted(dag.tags), "catchup": dag.catchup, "doc_md": bool(dag.doc_md),
        "max_active_runs": dag.max_active_runs,
        "schedule": type(dag.timetable).__name__,
        "tasks": {t.task_id: {"retries": t.retries, "pool": t.pool, "outlets": [a.name for a in t.outlets]}
                  for t in dag.tasks},
    }
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("airflow_home")
    out = subprocess.run([sys.executable, "-c", DAGBAG_PROBE], env=airflow_env(tmp), capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dagbag_has_no_import_errors(dagbag: dict) -> None:
    assert dagbag["errors"] == {}
    assert {"racewatch_poll", "racewatch_classify", "racewatch_alert"} <= set(dagbag["dags"])


def test_every_dag_follows_policy(dagbag: dict) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert "racewatch" in dag["tags"], dag_id
        assert dag["catchup"] is False, dag_id
        assert dag["doc_md"], dag_id
        assert dag["max_active_runs"] == 1, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, f"{dag_id}.{task_id} has no retries"
            assert task["pool"] == "duckdb_writer", f"{dag_id}.{task_id} writes DuckDB outside the writer pool"


def test_assets_chain_the_three_dags(dagbag: dict) -> None:
    dags = dagbag["dags"]
    assert dags["racewatch_poll"]["tasks"]["poll_feeds"]["outlets"] == ["racewatch://entries"]
    assert dags["racewatch_classify"]["tasks"]["classify_entries"]["outlets"] == ["racewatch://releases"]
    assert dags["racewatch_poll"]["schedule"] == "CronTriggerTimetable"
    assert dags["racewatch_classify"]["schedule"] == "AssetTriggeredTimetable"
    assert dags["racewatch_alert"]["schedule"] == "AssetTriggeredTimetable"
