"""End-to-end fixtures: a migrated temp Airflow home and a runner for dag.test() in a subprocess.

Airflow reads its configuration at import time, so every Airflow run happens in a child process with
an explicit environment; the pytest process itself never imports Airflow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from racewatch.settings import PROJECT_ROOT

DAGS = PROJECT_ROOT / "dags"

RUNNER = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag()
out = {}
for dag_id in sys.argv[1:]:
    run = bag.get_dag(dag_id).test()
    out[dag_id] = {"state": str(run.state), "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
print("DAGTEST " + json.dumps(out))
"""


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RACEWATCH_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # as scripts/airflow_env.sh: a busy 2-core CI machine answers task starts slower than the 5 s default
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "PYTHONPATH": f"{DAGS}:{PROJECT_ROOT}",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "GX_ANALYTICS_ENABLED": "false",
    })
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow home with a migrated SQLite metadata DB, copied per test (migrating once is enough)."""
    home = tmp_path_factory.mktemp("airflow_template")
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=airflow_env(home),
                   check=True, capture_output=True, timeout=300)
    return home


@pytest.fixture
def airflow_home(migrated_home: Path, tmp_path: Path) -> Path:
    home = tmp_path / "airflow"
    home.mkdir()
    (home / "airflow.db").write_bytes((migrated_home / "airflow.db").read_bytes())
    return home


def run_dags(home: Path, dag_ids: list[str], **env: str) -> dict[str, Any]:
    """Run each DAG once with dag.test() in a child process; returns states per DAG and task."""
    proc = subprocess.run([sys.executable, "-c", RUNNER, *dag_ids], env=airflow_env(home, **env),
                          capture_output=True, text=True, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("DAGTEST ")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"dag.test() failed (rc={proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1].removeprefix("DAGTEST "))
