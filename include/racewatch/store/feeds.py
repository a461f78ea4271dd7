"""Feeds, their health, fetch attempts and entries: loading landed poll batches.

A landed batch is loaded in one transaction: fetch rows, feed health (including the conditional-GET
validators, so they are saved only together with the entries they describe), entry upserts and
quarantined rows, plus the ``landed_batches`` marker. Either all of it is in the database or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from racewatch.fetch import Validators
from racewatch.landing import LandedBatch, landed_batches, to_json
from racewatch.sources import Source
from racewatch.store.db import utcnow

FETCH_COLUMNS = {
    "fetch_id": "VARCHAR", "batch_id": "VARCHAR", "feed_id": "VARCHAR", "url": "VARCHAR",
    "final_url": "VARCHAR", "started_at": "TIMESTAMP", "elapsed_ms": "INTEGER", "status": "VARCHAR",
    "http_status": "INTEGER", "bytes": "BIGINT", "entries": "INTEGER", "error": "VARCHAR",
    "warning": "VARCHAR", "etag": "VARCHAR", "last_modified": "VARCHAR", "body_hash": "VARCHAR",
    "next_due_at": "TIMESTAMP", "consecutive_failures": "INTEGER", "fetch_count": "INTEGER",
    "not_modified_count": "INTEGER", "last_success_at": "TIMESTAMP", "new_url": "VARCHAR",
    "retire": "BOOLEAN",
}
ENTRY_COLUMNS = {
    "entry_key": "VARCHAR", "feed_id": "VARCHAR", "guid": "VARCHAR", "link": "VARCHAR",
    "title": "VARCHAR", "summary_text": "VARCHAR", "summary_html": "VARCHAR",
    "published_at": "TIMESTAMP", "updated_at": "TIMESTAMP", "content_hash": "VARCHAR",
    "flags": "VARCHAR[]", "seen_at": "TIMESTAMP",
}
QUARANTINE_COLUMNS = {
    "quarantine_id": "VARCHAR", "suite": "VARCHAR", "row_key": "VARCHAR", "expectation": "VARCHAR",
    "reason": "VARCHAR", "raw_row": "JSON", "batch_id": "VARCHAR", "quarantined_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class FeedState:
    """What the poller needs to know about a feed before fetching it."""

    validators: Validators
    next_due_at: datetime | None
    consecutive_failures: int
    fetch_count: int
    not_modified_count: int
    last_success_at: datetime | None
    url: str
    active: bool
    last_entries: int | None = None


@dataclass(frozen=True)
class LoadResult:
    batch_id: str
    fetches: int
    new_entries: int
    changed_entries: int
    quarantined: int
    already_loaded: bool = False


def sync_feeds(con: duckdb.DuckDBPyConnection, sources: list[Source], *, complete: bool = True) -> None:
    """Mirror the sources file into ``feeds`` in one statement; a changed configured URL resets the
    effective URL (and un-retires the feed). With ``complete`` (the whole sources file, not a subset such
    as the fast path's), sources no longer in the file become inactive."""
    now = utcnow()
    columns = {
        "feed_id": [s.id for s in sources], "url": [s.url for s in sources], "name": [s.name for s in sources],
        "tags": [list(s.tags) for s in sources], "poll_minutes": [s.poll_minutes for s in sources],
        "allow_private": [s.allow_private for s in sources],
        "org": [s.org for s in sources], "lang": [s.lang for s in sources],
    }
    con.execute("BEGIN TRANSACTION")
    try:
        if sources:
            con.execute(
                """
                INSERT INTO feeds (feed_id, url, config_url, name, tags, poll_minutes, allow_private,
                                   active, added_at, updated_at, org, lang)
                SELECT feed_id, url, url, name, tags, poll_minutes, allow_private, TRUE, $now, $now, org, lang
                FROM (SELECT unnest($feed_id::VARCHAR[]) AS feed_id, unnest($url::VARCHAR[]) AS url,
                             unnest($name::VARCHAR[]) AS name, unnest($tags::VARCHAR[][]) AS tags,
                             unnest($poll_minutes::INTEGER[]) AS poll_minutes,
                             unnest($allow_private::BOOLEAN[]) AS allow_private,
                             unnest($org::VARCHAR[]) AS org, unnest($lang::VARCHAR[]) AS lang)
                ON CONFLICT (feed_id) DO UPDATE SET
                    url = CASE WHEN feeds.config_url <> excluded.config_url THEN excluded.url ELSE feeds.url END,
                    active = CASE WHEN feeds.config_url <> excluded.config_url THEN TRUE
                                  ELSE feeds.retired_reason IS NULL END,
                    retired_reason = CASE WHEN feeds.config_url <> excluded.config_url THEN NULL
                                          ELSE feeds.retired_reason END,
                    config_url = excluded.config_url, name = excluded.name, tags = excluded.tags,
                    poll_minutes = excluded.poll_minutes, allow_private = excluded.allow_private,
                    org = excluded.org, lang = excluded.lang, updated_at = excluded.updated_at
                """,
                {"now": now, **columns},
            )
        if complete:
            con.execute(
                "UPDATE feeds SET active = FALSE, updated_at = $now WHERE active AND NOT list_contains($ids, feed_id)",
                {"now": now, "ids": columns["feed_id"]},
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def feed_states(con: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    rows = con.execute(
        """
        SELECT f.feed_id, h.etag, h.last_modified, h.body_hash, h.next_due_at,
               coalesce(h.consecutive_failures, 0), coalesce(h.fetch_count, 0),
               coalesce(h.not_modified_count, 0), h.last_success_at, f.url, f.active, h.last_entries
        FROM feeds f LEFT JOIN feed_health h USING (feed_id)
        """
    ).fetchall()
    return {
        r[0]: FeedState(Validators(r[1], r[2], r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11])
        for r in rows
    }


def _columns(spec: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in spec.items()) + "}"


def _read(batch: LandedBatch, part: str, spec: dict[str, str]) -> str:
    path = str(batch.part(part)).replace("'", "''")
    return f"read_json('{path}', format='newline_delimited', columns={_columns(spec)})"


def load_batch(con: duckdb.DuckDBPyConnection, batch: LandedBatch) -> LoadResult:
    """Load one landed batch in a single transaction; loading it twice is a no-op."""
    if con.execute("SELECT 1 FROM landed_batches WHERE batch_id = ?", [batch.batch_id]).fetchone():
        return LoadResult(batch.batch_id, 0, 0, 0, 0, already_loaded=True)
    now = utcnow()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _fetches AS SELECT * FROM {_read(batch, 'fetches', FETCH_COLUMNS)}")
        # Within one batch the last copy of a key wins: DuckDB would otherwise keep an arbitrary one.
        # The entries file is read twice (count, then upsert) rather than copied into a temp table:
        # streaming it costs ~0.1 s per 25k rows, a temp table ~40 MB of peak memory.
        batch_entries = f"""(SELECT * FROM {_read(batch, 'entries', ENTRY_COLUMNS)}
                QUALIFY row_number() OVER (PARTITION BY entry_key ORDER BY seen_at DESC) = 1)"""
        entries, new, changed = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE e.entry_key IS NULL),
                      count(*) FILTER (WHERE e.entry_key IS NOT NULL AND e.content_hash <> b.content_hash)
               FROM {batch_entries} b LEFT JOIN entries e USING (entry_key)"""
        ).fetchone()
        con.execute(
            """
            INSERT INTO fetches SELECT fetch_id, batch_id, feed_id, url, final_url, started_at, elapsed_ms,
                   status, http_status, bytes, entries, error, warning FROM _fetches
            ON CONFLICT (fetch_id) DO NOTHING
            """
        )
        con.execute(
            """
            INSERT INTO feed_health
            SELECT feed_id, status, http_status, started_at, last_success_at, consecutive_failures, error,
                   next_due_at, etag, last_modified, body_hash, fetch_count, not_modified_count, entries, warning
            FROM _fetches
            QUALIFY row_number() OVER (PARTITION BY feed_id ORDER BY started_at DESC) = 1
            ON CONFLICT (feed_id) DO UPDATE SET
                last_status = excluded.last_status, last_http_status = excluded.last_http_status,
                last_fetch_at = excluded.last_fetch_at, last_success_at = excluded.last_success_at,
                consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error,
                next_due_at = excluded.next_due_at, etag = excluded.etag,
                last_modified = excluded.last_modified, body_hash = excluded.body_hash,
                fetch_count = excluded.fetch_count, not_modified_count = excluded.not_modified_count,
                last_entries = coalesce(excluded.last_entries, feed_health.last_entries),
                last_warning = excluded.last_warning
            """
        )
        con.execute(
            """UPDATE feeds SET url = f.new_url, updated_at = ?
               FROM _fetches f WHERE f.feed_id = feeds.feed_id AND f.new_url IS NOT NULL""",
            [now],
        )
        con.execute(
            """UPDATE feeds SET active = FALSE, retired_reason = 'HTTP 410 Gone', updated_at = ?
               FROM _fetches f WHERE f.feed_id = feeds.feed_id AND f.retire""",
            [now],
        )
        con.execute(
            f"""
            INSERT INTO entries (entry_key, feed_id, guid, link, title, summary_text, summary_html,
                                 published_at, updated_at, content_hash, flags, first_seen_at, last_seen_at,
                                 revision, batch_id, classified_version)
            SELECT entry_key, feed_id, guid, link, title, coalesce(summary_text, ''),
                   coalesce(summary_html, ''), published_at, updated_at, content_hash,
                   coalesce(flags, []), seen_at, seen_at, 1, ?, NULL
            FROM {batch_entries}
            ON CONFLICT (entry_key) DO UPDATE SET
                revision = CASE WHEN entries.content_hash <> excluded.content_hash
                                THEN entries.revision + 1 ELSE entries.revision END,
                classified_version = CASE WHEN entries.content_hash <> excluded.content_hash
                                          THEN NULL ELSE entries.classified_version END,
                title = excluded.title, summary_text = excluded.summary_text,
                summary_html = excluded.summary_html, link = excluded.link, guid = excluded.guid,
                published_at = excluded.published_at, updated_at = excluded.updated_at,
                content_hash = excluded.content_hash, flags = excluded.flags,
                last_seen_at = excluded.last_seen_at
            """,
            [batch.batch_id],
        )
        quarantined = con.execute(
            f"""INSERT INTO quarantine SELECT * FROM {_read(batch, 'quarantine', QUARANTINE_COLUMNS)}
                ON CONFLICT (quarantine_id) DO NOTHING"""
        ).fetchone()[0]
        fetches = con.execute("SELECT count(*) FROM _fetches").fetchone()[0]
        con.execute(
            "INSERT INTO landed_batches VALUES (?, ?, ?, ?, ?)",
            [batch.batch_id, str(batch.path), fetches, entries, now],
        )
        con.execute("DROP TABLE _fetches")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return LoadResult(batch.batch_id, fetches, new, changed, quarantined)


def pending_batches(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> list[LandedBatch]:
    """Landed batches the database has not loaded yet (oldest first)."""
    loaded = {r[0] for r in con.execute("SELECT batch_id FROM landed_batches").fetchall()}
    return [b for b in landed_batches(landing_dir) if b.batch_id not in loaded]


def record_validation(
    con: duckdb.DuckDBPyConnection, outcome: Any, batch_id: str | None, results_path: Path | None
) -> None:
    """Keep one row per GX run so quality over time is a query, and the JSON report is one click away."""
    failed = len(outcome.quarantined)
    evaluated = outcome.stats["evaluated"]  # outcome.valid may be cleared once the rows are landed
    con.execute(
        "INSERT INTO validation_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [f"{batch_id}:{outcome.suite}", outcome.suite, batch_id, evaluated, failed,
         outcome.success, outcome.critical_failure, str(results_path) if results_path else None,
         to_json(outcome.stats), utcnow()],
    )
