"""The alert stage: drain the outbox to Slack, one root per release and follow-ups in its thread.

How duplicates are prevented (each case has a test):

* retried task / cleared DAG run: only ``pending`` rows are sent, and a sent row records its ``ts``;
* an SDK retry after Slack accepted the post: slack-sdk retries connection errors only when the
  request provably was not sent (see ``alerts.slack``), and a dropped response leaves the row pending
  with ``attempts > 0``;
* a crash between post and record: the same state; before posting again, a row with earlier attempts
  is looked up in the channel by its alert id (message metadata) and recorded instead of re-posted;
* the same release seen again (other outlets, edits, reclassification): the classify stage can only
  ever insert one ``root:<release_key>`` row.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from racewatch.alerts.render import render_followup, render_release_root
from racewatch.alerts.slack import SlackConfigError, SlackPoster, SlackTransientError
from racewatch.notices import render_budget_summary
from racewatch.settings import Settings
from racewatch.store import alerts as outbox
from racewatch.store import db, snapshot

log = logging.getLogger(__name__)
RECONCILE_SLACK_S = 120  # look this far before the alert's creation when searching channel history


@dataclass
class AlertSummary:
    sent: int = 0
    dry_run: int = 0
    skipped: int = 0
    deferred: int = 0
    reconciled: int = 0
    collapsed: int = 0
    roots_updated: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _oldest(row: outbox.OutboxRow) -> float:
    return (row.created_at.replace(tzinfo=UTC) - timedelta(seconds=RECONCILE_SLACK_S)).timestamp()


def _deliver(
    settings: Settings,
    poster: SlackPoster,
    row: outbox.OutboxRow,
    payload: dict[str, Any],
    summary: AlertSummary,
    thread_ts: str | None = None,
) -> None:
    """Count the attempt, reconcile if an earlier one may have landed, then post and record."""
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        outbox.begin_attempt(con, row.alert_id, payload)
    found = None
    if row.attempts > 0 and not poster.dry_run:
        found = poster.find_posted(row.alert_id, _oldest(row), thread_ts=thread_ts)
    if found:
        with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
            outbox.finish(con, row.alert_id, "sent", channel=poster.channel, slack_ts=found, thread_ts=thread_ts)
        summary.reconciled += 1
        log.info("alert %s was already in Slack (ts %s); recorded, not re-posted", row.alert_id, found)
        return
    result = poster.post(payload, thread_ts=thread_ts, client_msg_id=row.alert_id)
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        outbox.finish(con, row.alert_id, result.status, channel=result.channel, slack_ts=result.ts,
                      thread_ts=thread_ts, payload=result.payload)
    if result.status == "sent":
        summary.sent += 1
    else:
        summary.dry_run += 1


def _collapse(settings: Settings, poster: SlackPoster, rows: list[outbox.OutboxRow], summary: AlertSummary) -> None:
    """Beyond the hourly budget: one summary message instead of many roots (their replies are skipped)."""
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        views = [outbox.release_view(con, r.release_key or "") for r in rows]
        payload = render_budget_summary([(v["model"], v["org"], v["country"]) for v in views],
                                        settings.alert_budget_per_hour)
        summary_id = "summary:" + hashlib.sha256(",".join(r.alert_id for r in rows).encode()).hexdigest()[:16]
        outbox.enqueue(con, summary_id, "budget_summary", payload, poster.channel)
        for r in rows:
            outbox.finish(con, r.alert_id, "collapsed", error=f"hourly budget reached; listed in {summary_id}")
        summary_row = next(a for a in outbox.pending_alerts(con) if a.alert_id == summary_id)
    summary.collapsed += len(rows)
    _deliver(settings, poster, summary_row, payload, summary)


def send_pending(settings: Settings, poster: SlackPoster) -> AlertSummary:
    """Send every pending alert; configuration errors fail fast, transient ones leave rows pending."""
    summary = AlertSummary()
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        pending = outbox.pending_alerts(con)
        budget_left = settings.alert_budget_per_hour - outbox.roots_sent_since(
            con, db.utcnow() - timedelta(hours=1))
    to_update: set[str] = set()
    over_budget: list[outbox.OutboxRow] = []
    for row in pending:
        try:
            if row.kind == "release_root":
                if budget_left <= 0:
                    over_budget.append(row)
                    continue
                with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
                    payload = render_release_root(outbox.release_view(con, row.release_key or ""))
                _deliver(settings, poster, row, payload, summary)
                budget_left -= 1
                continue
            if row.kind != "followup":  # digest, ops notice, budget summary: rendered when enqueued
                with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
                    payload = outbox.stored_payload(con, row.alert_id)
                _deliver(settings, poster, row, payload, summary)
                continue
            with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
                root = outbox.root_of(con, row.release_key or "")
                if root is None or root.status in ("skipped", "failed", "collapsed"):
                    outbox.finish(con, row.alert_id, "skipped", error="release root was not alerted")
                    summary.skipped += 1
                    continue
                if root.status == "pending":
                    summary.deferred += 1  # the root goes first; this reply waits for the next run
                    continue
                payload = render_followup(outbox.story_view(con, row.entry_key or ""))
            _deliver(settings, poster, row, payload, summary, thread_ts=root.slack_ts)
            if root.slack_ts:
                to_update.add(row.release_key or "")
        except SlackConfigError as exc:
            with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
                outbox.record_error(con, row.alert_id, str(exc))
            raise
        except SlackTransientError as exc:
            with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
                outbox.record_error(con, row.alert_id, str(exc))
            summary.errors.append(f"{row.alert_id}: {exc}")
            log.warning("alert %s stays pending: %s", row.alert_id, exc)
    if over_budget:
        _collapse(settings, poster, over_budget, summary)
    for key in sorted(to_update):
        with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
            root = outbox.root_of(con, key)
            view = outbox.release_view(con, key)
        if root and root.slack_ts:
            try:
                poster.update(root.slack_ts, render_release_root(view))
                summary.roots_updated += 1
            except SlackTransientError as exc:
                summary.errors.append(f"update {key}: {exc}")
    if pending:
        snapshot.publish(settings.db_path, settings.snapshot_path, settings.export_dir, retry_s=settings.lock_retry_s)
    log.info("alerts: %s", summary.as_dict())
    return summary
