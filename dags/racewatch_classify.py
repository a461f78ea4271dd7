"""
### racewatch_classify

Runs when `racewatch_poll` stored new or edited entries (`racewatch://entries`). Classifies every
entry the current classifier version has not labelled, validates the stories with Great
Expectations (failing rows go to `quarantine` with the reason), stores `stories`, updates the
`model_releases` ledger and `events`, and enqueues alerts in the `alerts` outbox.

If a critical expectation fails for most of the batch, the task fails before anything is stored or
alerted, with the reason and the validation report path in the log.
"""

from __future__ import annotations

from airflow.sdk import Metadata, dag, task
from racewatch_common import DAG_DEFAULTS, ENTRIES, RELEASES, settings


@dag(
    dag_id="racewatch_classify",
    schedule=[ENTRIES],
    tags=["racewatch", "classify"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def racewatch_classify() -> None:
    @task(outlets=[RELEASES])
    def classify_entries():
        """Classify, validate, store; update the ledger; fill the outbox."""
        from airflow.sdk.exceptions import AirflowSkipException
        from racewatch.pipeline.classify import classify_pending

        summary = classify_pending(settings())
        if not summary.alerts_enqueued:
            raise AirflowSkipException(f"no alerts to send: {summary.as_dict()}")
        yield Metadata(RELEASES, extra={"alerts": summary.alerts_enqueued, "new_releases": summary.new_releases})

    classify_entries()


racewatch_classify()
