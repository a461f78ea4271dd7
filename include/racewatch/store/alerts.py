"""The alert outbox: rows in ``alerts`` that move pending -> sent / dry_run / failed / skipped.

The row exists (pending, with its rendered payload and an attempt counted) before Slack is called,
and the Slack ``ts`` is recorded right after. A row with ``attempts > 0`` that is still pending means
an earlier attempt may have reached Slack; the sender reconciles it by looking the alert id up in
the channel before posting again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from racewatch.landing import to_json
from racewatch.store.db import utcnow


@dataclass(frozen=True)
class OutboxRow:
    alert_id: str
    kind: str
    release_key: str | None
    entry_key: str | None
    status: str
    attempts: int
    slack_ts: str | None
    created_at: datetime


def pending_alerts(con: duckdb.DuckDBPyConnection, limit: int = 500) -> list[OutboxRow]:
    """Pending alerts, roots before their follow-ups, oldest first."""
    rows = con.execute(
        """SELECT alert_id, kind, release_key, entry_key, status, attempts, slack_ts, created_at
           FROM alerts WHERE status = 'pending'
           ORDER BY CASE kind WHEN 'release_root' THEN 0 ELSE 1 END, created_at, alert_id LIMIT ?""",
        [limit],
    ).fetchall()
    return [OutboxRow(*r) for r in rows]


def root_of(con: duckdb.DuckDBPyConnection, release_key: str) -> OutboxRow | None:
    row = con.execute(
        """SELECT alert_id, kind, release_key, entry_key, status, attempts, slack_ts, created_at
           FROM alerts WHERE alert_id = ?""",
        [f"root:{release_key}"],
    ).fetchone()
    return OutboxRow(*row) if row else None


def release_view(con: duckdb.DuckDBPyConnection, release_key: str) -> dict[str, Any]:
    """Everything the root message shows: ledger facts plus the first story's headline and reasons."""
    row = con.execute(
        """SELECT r.release_key, r.org, r.model, r.country, r.parameters, r.open_weights, r.claims,
                  r.first_seen_at, r.outlets, r.announce_url, e.title, f.name, s.reasons
           FROM model_releases r
           LEFT JOIN entries e ON e.entry_key = r.first_entry_key
           LEFT JOIN feeds f ON f.feed_id = e.feed_id
           LEFT JOIN stories s ON s.entry_key = r.first_entry_key
           WHERE r.release_key = ?""",
        [release_key],
    ).fetchone()
    if row is None:
        raise KeyError(release_key)
    (key, org, model, country, params, open_w, claims, first_seen, outlets, url, title, source, reasons) = row
    return {
        "release_key": key, "org": org or "Unknown lab", "model": model or key, "country": country,
        "parameters": params, "open_weights": open_w, "claim": claims[0] if claims else None,
        "first_seen_at": first_seen, "outlets": outlets, "url": url, "title": title, "source": source,
        "reasons": list(reasons or []),
    }


def story_view(con: duckdb.DuckDBPyConnection, entry_key: str) -> dict[str, Any]:
    row = con.execute(
        """SELECT e.title, e.link, f.name, e.first_seen_at FROM entries e
           LEFT JOIN feeds f USING (feed_id) WHERE e.entry_key = ?""",
        [entry_key],
    ).fetchone()
    if row is None:
        raise KeyError(entry_key)
    return {"title": row[0], "url": row[1], "source": row[2], "first_seen_at": row[3]}


def begin_attempt(con: duckdb.DuckDBPyConnection, alert_id: str, payload: dict[str, Any]) -> None:
    """Record the payload and count the attempt *before* calling Slack."""
    con.execute(
        "UPDATE alerts SET attempts = attempts + 1, payload = ? WHERE alert_id = ?",
        [to_json(payload), alert_id],
    )


def finish(
    con: duckdb.DuckDBPyConnection,
    alert_id: str,
    status: str,
    *,
    channel: str | None = None,
    slack_ts: str | None = None,
    thread_ts: str | None = None,
    payload: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    con.execute(
        """UPDATE alerts SET status = ?, channel = coalesce(?, channel), slack_ts = coalesce(?, slack_ts),
               thread_ts = coalesce(?, thread_ts), payload = coalesce(?, payload), last_error = ?,
               sent_at = CASE WHEN ? IN ('sent', 'dry_run') THEN ? ELSE sent_at END
           WHERE alert_id = ?""",
        [status, channel, slack_ts, thread_ts, to_json(payload) if payload is not None else None, error,
         status, utcnow(), alert_id],
    )


def record_error(con: duckdb.DuckDBPyConnection, alert_id: str, error: str) -> None:
    """Keep the alert pending (it goes out next run) but say why it did not go out now."""
    con.execute("UPDATE alerts SET last_error = ? WHERE alert_id = ?", [error[:500], alert_id])


def enqueue(
    con: duckdb.DuckDBPyConnection,
    alert_id: str,
    kind: str,
    payload: dict[str, Any],
    channel: str,
    *,
    release_key: str | None = None,
) -> bool:
    """Add a pre-rendered message (digest, ops notice, summary) to the outbox; False if already there."""
    return bool(con.execute(
        """INSERT INTO alerts (alert_id, kind, release_key, channel, status, payload, created_at)
           VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING RETURNING 1""",
        [alert_id, kind, release_key, channel, to_json(payload), utcnow()],
    ).fetchall())


def stored_payload(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict[str, Any]:
    (payload,) = con.execute("SELECT payload FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
    return json.loads(payload)


def roots_sent_since(con: duckdb.DuckDBPyConnection, since: datetime) -> int:
    """Root alerts already sent in the budget window (dry-run counts too: it would have been sent)."""
    return con.execute(
        """SELECT count(*) FROM alerts WHERE kind = 'release_root' AND status IN ('sent', 'dry_run')
           AND sent_at >= ?""",
        [since],
    ).fetchone()[0]
