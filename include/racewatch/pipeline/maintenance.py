"""Daily and periodic chores: the digest, retention, and refreshing the analyst copies.

Retention defaults keep every story forever; only operational history (fetch attempts, loaded landing
batches, validation reports) ages out, and only what is safely in the database.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from racewatch.notices import build_digest, render_digest
from racewatch.settings import Settings
from racewatch.store import alerts as outbox
from racewatch.store import db, snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """Days to keep each kind of operational history; None keeps it forever."""

    fetches_days: int | None = 90
    landing_days: int | None = 30
    validations_days: int | None = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Retention:
        """``RACEWATCH_RETENTION_<KIND>_DAYS``; 0 (or less) keeps that kind forever."""
        env = os.environ if env is None else env
        values: dict[str, int | None] = {}
        for name in ("fetches", "landing", "validations"):
            raw = env.get(f"RACEWATCH_RETENTION_{name.upper()}_DAYS")
            if raw not in (None, ""):
                days = int(raw)
                values[f"{name}_days"] = days if days > 0 else None
        return cls(**values)


def enqueue_digest(settings: Settings, now: datetime) -> str | None:
    """Enqueue the digest of the previous UTC day once; returns its alert id when newly enqueued."""
    day: date = (now - timedelta(days=1)).date()
    alert_id = f"digest:{day.isoformat()}"
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        payload = render_digest(build_digest(con, day, now))
        return alert_id if outbox.enqueue(con, alert_id, "digest", payload, settings.slack_channel) else None


def apply_retention(settings: Settings, policy: Retention, now: datetime) -> dict[str, int]:
    """Delete aged fetch rows and loaded landing batches; stories, entries and releases are never touched."""
    removed = {"fetches": 0, "landing_batches": 0, "validation_reports": 0}
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
        if policy.fetches_days is not None:
            removed["fetches"] = len(con.execute(
                "DELETE FROM fetches WHERE started_at < ? RETURNING 1", [now - timedelta(days=policy.fetches_days)]
            ).fetchall())
        if policy.landing_days is not None:
            cutoff = now - timedelta(days=policy.landing_days)
            for batch_id, path in con.execute(
                "SELECT batch_id, path FROM landed_batches WHERE loaded_at < ?", [cutoff]
            ).fetchall():
                shutil.rmtree(path, ignore_errors=True)
                removed["landing_batches"] += 1
                log.info("retention: removed landed batch %s", batch_id)
    if policy.validations_days is not None and settings.validations_dir.exists():
        cutoff_ts = (now - timedelta(days=policy.validations_days)).timestamp()
        for report in settings.validations_dir.rglob("*.json"):
            if report.stat().st_mtime < cutoff_ts:
                report.unlink()
                removed["validation_reports"] += 1
    snapshot.publish(settings.db_path, settings.snapshot_path, settings.export_dir, retry_s=settings.lock_retry_s)
    return removed
