"""The classify stage: unclassified entries -> classifier -> GX gate -> stories, ledger, outbox.

Reads the pending entries with a short connection, classifies and validates without holding the
DuckDB file, then writes everything in one transaction. If the stories suite finds a critical
problem in most of the batch, the stage stops before anything is written or alerted and says why.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from racewatch.classify import get_classifier
from racewatch.errors import RacewatchError
from racewatch.landing import to_json
from racewatch.settings import Settings
from racewatch.store import db, snapshot
from racewatch.store.feeds import record_validation
from racewatch.store.stories import ClassifiedStory, pending_entries, save_classified

log = logging.getLogger(__name__)


class BatchRejected(RacewatchError):
    """The stories suite failed a critical expectation for most rows; nothing was stored or alerted."""


@dataclass
class ClassifySummary:
    classified: int = 0
    ai_race: int = 0
    flagship: int = 0
    quarantined: int = 0
    new_releases: int = 0
    alerts_enqueued: int = 0
    alerts_skipped_old: int = 0
    validation: str | None = None
    by_event_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_ledger(con: Any, run_id: str, since: Any) -> None:
    """Validate the ledger rows this batch created or changed; violations are flagged in quarantine.

    The rows stay in the ledger (alerts and coverage depend on them); the quarantine record and the
    validation run make the problem visible to analysts and the board.
    """
    from racewatch import quality

    cur = con.execute("SELECT release_key, open_weights, announce_url, model, org FROM model_releases "
                      "WHERE updated_at >= ?", [since])
    rows = [dict(zip(["release_key", "open_weights", "announce_url", "model", "org"], r, strict=True))
            for r in cur.fetchall()]
    outcome = quality.validate_releases(rows)
    if rows:
        record_validation(con, outcome, run_id, None)
    for q in outcome.quarantined:
        con.execute("INSERT INTO quarantine VALUES (?, 'model_releases', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [hashlib.sha256(to_json(["model_releases", q.key, q.expectation]).encode()).hexdigest()[:32],
                     q.key, q.expectation, q.reason, to_json(q.row), run_id, db.utcnow()])


def classify_pending(settings: Settings) -> ClassifySummary:
    """Classify every entry the current classifier version has not labelled yet."""
    from racewatch import quality

    summary = ClassifySummary()
    classifier = get_classifier()
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        pending = pending_entries(con, classifier.version)
    if not pending:
        return summary
    items = [  # the source's org and lang are the classifier's context (docs/classification.md)
        {"id": e["entry_key"], "title": e["title"], "summary": e["summary_text"], "link": e["link"],
         "published": e["published_at"].isoformat() if e["published_at"] else None,
         "source": {"name": e["source"], "org": e["source_org"], "lang": e["source_lang"]}}
        for e in pending
    ]
    labelled = classifier.label_with_facts(items)
    labels = [label for label, _ in labelled]
    facts_by_id = {label["id"]: facts for label, facts in labelled}
    outcome = quality.validate_stories(labels)
    results_path = quality.write_results(outcome, settings.home)
    summary.validation = str(results_path)
    log.info("stories validation: %s (GX Data Docs: %s)", results_path, quality.build_docs(settings.home))
    run_id = "classify-" + hashlib.sha256(to_json([e["entry_key"] for e in pending]).encode()).hexdigest()[:16]
    if outcome.critical_failure:
        with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
            record_validation(con, outcome, run_id, results_path)
        raise BatchRejected(f"stories batch rejected before alerting: {outcome.critical_failure} "
                            f"(details: {results_path})")
    by_key = {e["entry_key"]: e for e in pending}
    stories = []
    for label in outcome.valid:
        entry = by_key[label["id"]]
        stories.append(ClassifiedStory(
            entry_key=entry["entry_key"], feed_id=entry["feed_id"], title=entry["title"], link=entry["link"],
            published_at=entry["published_at"], first_seen_at=entry["first_seen_at"], label=label,
            facts=facts_by_id[label["id"]],
        ))
        summary.by_event_type[label["event_type"]] = summary.by_event_type.get(label["event_type"], 0) + 1
    quarantine_rows = [
        (hashlib.sha256(to_json(["stories", q.key, q.expectation, q.row]).encode()).hexdigest()[:32],
         "stories", q.key, q.expectation, q.reason, to_json(q.row), run_id, db.utcnow())
        for q in outcome.quarantined
    ]
    outcome.stats["batch_warnings"] = quality.batch_warnings(outcome)
    started = db.utcnow()
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        saved = save_classified(
            con, stories, [e["entry_key"] for e in pending], classifier.version,
            channel=settings.slack_channel, alert_max_age=settings.alert_max_age, min_score=settings.min_score,
            quarantine_rows=quarantine_rows,
        )
        record_validation(con, outcome, run_id, results_path)
        _check_ledger(con, run_id, started)
    snapshot.publish(settings.db_path, settings.snapshot_path, settings.export_dir, retry_s=settings.lock_retry_s)
    summary.classified = len(pending)
    summary.ai_race = sum(1 for s in stories if s.label["is_ai_competition"])
    summary.flagship = sum(1 for s in stories if s.label["is_flagship_release"])
    summary.quarantined = len(outcome.quarantined)
    summary.new_releases = saved.new_releases
    summary.alerts_enqueued = saved.alerts_enqueued
    summary.alerts_skipped_old = saved.alerts_skipped_old
    log.info("classify (%s): %s", classifier.version, summary.as_dict())
    return summary
