"""
### racewatch_maintenance

Daily housekeeping: applies the retention policy (fetch history, loaded landing batches and
validation reports age out; stories, entries and the release ledger are kept forever) and refreshes
the analyst copies (`racewatch_ro.duckdb` and the Parquet export under `RACEWATCH_HOME/export`).
Retention is set with `RACEWATCH_RETENTION_FETCHES_DAYS`, `RACEWATCH_RETENTION_LANDING_DAYS` and
`RACEWATCH_RETENTION_VALIDATIONS_DAYS` (0 keeps forever).
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task
from racewatch_common import DAG_DEFAULTS, settings


@dag(
    dag_id="racewatch_maintenance",
    schedule=CronTriggerTimetable("30 3 * * *", timezone="UTC"),
    tags=["racewatch", "maintenance"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def racewatch_maintenance() -> None:
    @task
    def housekeeping() -> dict:
        """Retention and analyst snapshot refresh."""
        from datetime import UTC, datetime

        from racewatch.pipeline.maintenance import Retention, apply_retention

        return apply_retention(settings(), Retention.from_env(), datetime.now(UTC).replace(tzinfo=None))

    housekeeping()


racewatch_maintenance()
