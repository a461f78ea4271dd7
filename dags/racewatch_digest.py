"""
### racewatch_digest

Once a day (at the hour in the Variable `racewatch_digest_hour_utc`, default 08 UTC) posts a digest of
the previous UTC day's AI-race stories, grouped by event type and counted once per event, plus a
US-vs-China (and rest of world) scoreboard of flagship releases and their open-weights share over 7 and
30 days. The DAG runs hourly and does nothing outside the digest hour; the digest's outbox id
(`digest:<day>`) makes a rerun or a cleared run harmless.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, dag, task
from racewatch_common import DAG_DEFAULTS, settings, slack_poster


@dag(
    dag_id="racewatch_digest",
    schedule=CronTriggerTimetable("5 * * * *", timezone="UTC"),
    tags=["racewatch", "digest"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def racewatch_digest() -> None:
    @task
    def post_digest(data_interval_end=None) -> dict:
        """Enqueue yesterday's digest at the digest hour, then drain the outbox."""
        from datetime import UTC, datetime

        from airflow.sdk.exceptions import AirflowSkipException
        from racewatch.pipeline.alert import send_pending
        from racewatch.pipeline.maintenance import enqueue_digest

        conf = settings()
        now = (data_interval_end or datetime.now(UTC)).astimezone(UTC)
        if now.hour != conf.digest_hour_utc:
            raise AirflowSkipException(f"digest goes out at {conf.digest_hour_utc:02d}:00 UTC")
        enqueued = enqueue_digest(conf, now.replace(tzinfo=None))
        return {"digest": enqueued, **send_pending(conf, slack_poster(conf.slack_channel)).as_dict()}

    post_digest()


racewatch_digest()
