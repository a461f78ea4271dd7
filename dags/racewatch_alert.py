"""
### racewatch_alert

Runs when `racewatch_classify` enqueued alerts (`racewatch://releases`) or `racewatch_poll` enqueued
a source down/recovered notice (`racewatch://notices`). Sends the `alerts` outbox
to Slack: one root message per new flagship release, later coverage as thread replies, the root
updated with a running outlet count.

Slack comes from the connection `slack_api_default` (its extras may set `base_url`) and the channel
from the Variable `racewatch_slack_channel`. Without the connection, alerts are rendered, logged and
recorded with status `dry_run`. Configuration errors (invalid_auth, channel_not_found,
not_in_channel) fail the task at once; transient errors leave alerts pending for the next run.
"""

from __future__ import annotations

from airflow.sdk import dag, task
from racewatch_common import DAG_DEFAULTS, NOTICES, RELEASES, settings, slack_poster


@dag(
    dag_id="racewatch_alert",
    schedule=(RELEASES | NOTICES),
    tags=["racewatch", "alerts"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def racewatch_alert() -> None:
    @task
    def send_alerts() -> dict:
        """Drain the outbox; fail (and retry) when Slack was unreachable so nothing waits silently."""
        from racewatch.pipeline.alert import send_pending

        conf = settings()
        summary = send_pending(conf, slack_poster(conf.slack_channel))
        if summary.errors:
            raise RuntimeError(f"{len(summary.errors)} alert(s) left pending: {summary.errors[0]}")
        return summary.as_dict()

    send_alerts()


racewatch_alert()
