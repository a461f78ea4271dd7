"""Classified stories, the model-release ledger, event clusters and the alert outbox rows they imply.

:func:`save_classified` writes one classification batch in a single transaction so that a story, its
ledger effect and the alert it deserves appear together or not at all. Alert ids are deterministic
(``root:<release_key>``, ``followup:<release_key>:<entry_key>``) and inserted with ON CONFLICT DO
NOTHING: replaying a batch, clearing a DAG run or reclassifying history can never enqueue a second
root for the same release.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from racewatch.landing import to_json
from racewatch.store.db import utcnow

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
EVENT_WINDOW = timedelta(hours=48)
EVENT_SIMILARITY = 0.5


@dataclass(frozen=True)
class ClassifiedStory:
    """A classifier output joined with the entry facts the ledger and alerts need."""

    entry_key: str
    feed_id: str
    title: str
    link: str | None
    published_at: datetime
    first_seen_at: datetime
    label: dict[str, Any]
    facts: dict[str, Any]


@dataclass(frozen=True)
class SaveResult:
    stories: int
    new_releases: int
    coverage_added: int
    alerts_enqueued: int
    alerts_skipped_old: int


def pending_entries(con: duckdb.DuckDBPyConnection, version: str, limit: int = 20_000) -> list[dict[str, Any]]:
    """Entries not yet classified by this classifier version, oldest first."""
    cur = con.execute(
        """SELECT entry_key, feed_id, title, summary_text, link, published_at, first_seen_at, f.name
           FROM entries e LEFT JOIN feeds f USING (feed_id)
           WHERE classified_version IS DISTINCT FROM ?
           ORDER BY published_at, entry_key LIMIT ?""",
        [version, limit],
    )
    cols = ["entry_key", "feed_id", "title", "summary_text", "link", "published_at", "first_seen_at", "source"]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _tokens(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2)


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _assign_event(con: duckdb.DuckDBPyConnection, story: ClassifiedStory) -> None:
    """Cluster coverage of one happening: by release key, else by title overlap within 48 hours."""
    label = story.label
    if not label["is_ai_competition"]:
        return
    if con.execute("SELECT 1 FROM event_stories WHERE entry_key = ?", [story.entry_key]).fetchone():
        return
    event_id: str | None = None
    if label.get("release_key"):
        event_id = "release:" + label["release_key"]
    else:
        mine = _tokens(story.title)
        candidates = con.execute(
            """SELECT event_id, title FROM events
               WHERE release_key IS NULL AND event_type = ? AND last_seen_at >= ?""",
            [label["event_type"], story.first_seen_at - EVENT_WINDOW],
        ).fetchall()
        best = max(candidates, key=lambda c: _similar(mine, _tokens(c[1])), default=None)
        if best and _similar(mine, _tokens(best[1])) >= EVENT_SIMILARITY:
            event_id = best[0]
        else:
            event_id = "story:" + hashlib.sha256(story.entry_key.encode()).hexdigest()[:16]
    con.execute(
        """INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, 1)
           ON CONFLICT (event_id) DO UPDATE SET stories = events.stories + 1,
               last_seen_at = greatest(events.last_seen_at, excluded.last_seen_at)""",
        [event_id, label["event_type"], story.title, label.get("release_key"), story.first_seen_at,
         story.first_seen_at],
    )
    con.execute("INSERT INTO event_stories VALUES (?, ?) ON CONFLICT DO NOTHING", [event_id, story.entry_key])


def _upsert_release(con: duckdb.DuckDBPyConnection, story: ClassifiedStory) -> bool:
    """Create the release on first sight; later coverage only fills gaps. Returns True when new."""
    label, facts = story.label, story.facts
    key = label["release_key"]
    row = con.execute(
        "SELECT parameters, open_weights, claims, variants, provenance FROM model_releases WHERE release_key = ?",
        [key],
    ).fetchone()
    claim = facts.get("claim")
    variant = facts.get("variant")
    if row is None:
        provenance = {"release": story.entry_key}
        for name in ("parameters", "open_weights", "claim"):
            if facts.get(name) is not None:
                provenance[name] = story.entry_key
        con.execute(
            """INSERT INTO model_releases (release_key, org, country, model, family, version, variants,
                   parameters, open_weights, claims, first_seen_at, first_entry_key, announce_url, outlets,
                   provenance, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)""",
            [key, (label["orgs"] or [None])[0], label.get("country"), (label["models"] or [None])[0],
             facts.get("family"), facts.get("version"), [variant] if variant else [], facts.get("parameters"),
             facts.get("open_weights"), [claim] if claim else [], story.first_seen_at, story.entry_key,
             story.link, to_json(provenance), utcnow()],
        )
        return True
    parameters, open_weights, claims, variants, provenance_json = row
    provenance = _loads(provenance_json)
    if parameters is None and facts.get("parameters"):
        parameters, provenance["parameters"] = facts["parameters"], story.entry_key
    if open_weights is None and facts.get("open_weights") is not None:
        open_weights, provenance["open_weights"] = facts["open_weights"], story.entry_key
    if claim and claim not in claims:
        claims = [*claims, claim]
        provenance.setdefault("claim", story.entry_key)
    if variant and variant not in variants:
        variants = [*variants, variant]
    con.execute(
        """UPDATE model_releases SET parameters = ?, open_weights = ?, claims = ?, variants = ?, provenance = ?,
               updated_at = ? WHERE release_key = ?""",
        [parameters, open_weights, claims, variants, to_json(provenance), utcnow(), key],
    )
    return False


def _loads(value: Any) -> dict[str, Any]:
    return dict(json.loads(value)) if isinstance(value, str) else dict(value or {})


def save_classified(
    con: duckdb.DuckDBPyConnection,
    stories: Sequence[ClassifiedStory],
    processed_keys: Sequence[str],
    version: str,
    *,
    channel: str,
    alert_max_age: timedelta | None,
    min_score: float = 0.0,
    quarantine_rows: Sequence[tuple[Any, ...]] = (),
) -> SaveResult:
    """Store a validated batch, update ledger/events and enqueue alerts, all in one transaction.

    ``processed_keys`` also covers quarantined entries, so they are not re-classified in a loop.
    """
    now = utcnow()
    new_releases = coverage = enqueued = skipped_old = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for story in sorted(stories, key=lambda s: (s.first_seen_at, s.published_at, s.entry_key)):
            lab, facts = story.label, story.facts
            con.execute(
                """INSERT OR REPLACE INTO stories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [story.entry_key, lab["is_ai_competition"], lab["event_type"], lab["is_flagship_release"],
                 lab["orgs"], lab["models"], lab["country"], lab["release_key"], lab["score"], lab["reasons"],
                 facts.get("parameters"), facts.get("open_weights"), facts.get("claim"), version, now],
            )
            _assign_event(con, story)
            key = lab["release_key"]
            if not key:
                continue
            if lab["is_flagship_release"] and lab["score"] >= min_score:
                is_new = _upsert_release(con, story)
            else:
                is_new = False
                if not con.execute("SELECT 1 FROM model_releases WHERE release_key = ?", [key]).fetchone():
                    continue  # not a release we track (yet): no coverage without a flagship story
            added = con.execute(
                "INSERT INTO release_coverage VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
                [key, story.entry_key, story.feed_id, story.first_seen_at],
            ).fetchall()
            if not added:
                continue
            coverage += 1
            con.execute(
                """UPDATE model_releases SET outlets = (SELECT count(DISTINCT feed_id) FROM release_coverage
                   WHERE release_key = ?), updated_at = ? WHERE release_key = ?""",
                [key, now, key],
            )
            if is_new:
                new_releases += 1
                fresh = alert_max_age is None or story.published_at >= now - alert_max_age
                status = "pending" if fresh else "skipped"
                skipped_old += 0 if fresh else 1
                inserted = con.execute(
                    """INSERT INTO alerts (alert_id, kind, release_key, entry_key, channel, status, last_error,
                                           created_at)
                       VALUES (?, 'release_root', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1""",
                    [f"root:{key}", key, story.entry_key, channel, status,
                     None if fresh else f"older than {alert_max_age}: stored, not alerted", now],
                ).fetchall()
                enqueued += len(inserted) if fresh else 0
            else:
                inserted = con.execute(
                    """INSERT INTO alerts (alert_id, kind, release_key, entry_key, channel, status, created_at)
                       VALUES (?, 'followup', ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING RETURNING 1""",
                    [f"followup:{key}:{story.entry_key}", key, story.entry_key, channel, now],
                ).fetchall()
                enqueued += len(inserted)
        if quarantine_rows:
            con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            list(quarantine_rows))
        if processed_keys:
            con.execute(
                """UPDATE entries SET classified_version = $1
                   FROM (SELECT unnest($2::VARCHAR[]) AS k) done WHERE entries.entry_key = done.k""",
                [version, list(processed_keys)],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return SaveResult(len(stories), new_releases, coverage, enqueued, skipped_old)
