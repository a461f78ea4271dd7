"""
### racewatch_poll

Polls every due RSS/Atom source (sources file: `RACEWATCH_SOURCES`), parses and normalizes the
entries, validates them with Great Expectations, lands the raw batch under `RACEWATCH_HOME/landing`
and upserts `entries`, `feeds`, `feed_health` and `fetches` in DuckDB.

* One bad feed never fails the run: its error is recorded in `feed_health` / `fetches`.
* The task fails only when the store cannot be written; the landed batch is then loaded by the
  next run, so nothing is lost.
* When new or edited entries were stored, the `racewatch://entries` asset is updated (with
  new/changed counts as metadata) and `racewatch_classify` runs; when a source went down or
  recovered, `racewatch://notices` is updated and `racewatch_alert` sends the notice. Both go
  through the asset alias `racewatch-poll-events`, so a quiet poll triggers nothing.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, Metadata, dag, task
from racewatch_common import DAG_DEFAULTS, ENTRIES, POLL_CRON, settings


@dag(
    dag_id="racewatch_poll",
    schedule=CronTriggerTimetable(POLL_CRON, timezone="UTC", run_immediately=True),
    tags=["racewatch", "ingest"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def racewatch_poll() -> None:
    @task(outlets=[ENTRIES])
    def poll_feeds():
        """Fetch due feeds and store their entries; skip downstream when nothing changed."""
        from airflow.sdk.exceptions import AirflowSkipException
        from racewatch.pipeline.poll import poll

        summary = poll(settings())
        if not summary.has_news:
            raise AirflowSkipException(f"nothing new: {summary.as_dict()}")
        yield Metadata(ENTRIES, extra={"new": summary.new_entries, "changed": summary.changed_entries,
                                        "batch_id": summary.batch_id})

    poll_feeds()


racewatch_poll()
