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
import math
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


def pending_entries(con: duckdb.DuckDBPyConnection, version: str, limit: int = 50_000) -> list[dict[str, Any]]:
    """Entries not yet classified by this classifier version, oldest first."""
    cur = con.execute(
        """SELECT entry_key, feed_id, title, summary_text, link, published_at, first_seen_at, f.name, f.org, f.lang
           FROM entries e LEFT JOIN feeds f USING (feed_id)
           WHERE classified_version IS DISTINCT FROM ?
           ORDER BY published_at, entry_key LIMIT ?""",
        [version, limit],
    )
    cols = ["entry_key", "feed_id", "title", "summary_text", "link", "published_at", "first_seen_at", "source",
            "source_org", "source_lang"]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _tokens(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2)


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class _EventIndex:
    """Recent non-release events of the same type, indexed by title token for fast similarity lookups.

    A candidate must share at least half of a title's tokens to reach the Jaccard threshold of 0.5, so
    probing the inverted index with the title's rarest ``len - ceil(len/2) + 1`` tokens finds every
    candidate (prefix filtering) without comparing against all recent events.
    """

    def __init__(self) -> None:
        self.events: dict[str, tuple[str, frozenset[str], datetime]] = {}
        self.by_token: dict[tuple[str, str], set[str]] = {}

    def add(self, event_id: str, event_type: str, tokens: frozenset[str], last_seen: datetime) -> None:
        self.events[event_id] = (event_type, tokens, last_seen)
        for token in tokens:
            self.by_token.setdefault((event_type, token), set()).add(event_id)

    def best(self, event_type: str, tokens: frozenset[str], since: datetime) -> str | None:
        if not tokens:
            return None
        ranked = sorted(tokens, key=lambda t: (len(self.by_token.get((event_type, t), ())), t))
        probes = ranked[: len(ranked) - math.ceil(len(ranked) * EVENT_SIMILARITY) + 1]
        candidates = set().union(*(self.by_token.get((event_type, t), set()) for t in probes))
        best_id, best_score = None, EVENT_SIMILARITY
        for event_id in sorted(candidates):
            _, other, last_seen = self.events[event_id]
            score = _similar(tokens, other)
            if last_seen >= since and score >= best_score:
                best_id, best_score = event_id, score
        return best_id


def _assign_events(con: duckdb.DuckDBPyConnection, stories: Sequence[ClassifiedStory]) -> None:
    """Cluster coverage of one happening: by release key, else by title overlap within 48 hours.

    Done in memory for the whole batch, then written with two bulk statements.
    """
    race = [s for s in stories if s.label["is_ai_competition"]]
    if not race:
        return
    keys = [s.entry_key for s in race]
    assigned = {r[0] for r in con.execute(
        """SELECT es.entry_key FROM event_stories es JOIN (SELECT unnest($keys::VARCHAR[]) AS k) b
           ON es.entry_key = b.k""", {"keys": keys}).fetchall()}
    todo = [s for s in race if s.entry_key not in assigned]
    if not todo:
        return
    index = _EventIndex()
    oldest = min(s.first_seen_at for s in todo) - EVENT_WINDOW
    for event_id, event_type, title, last_seen in con.execute(
        "SELECT event_id, event_type, title, last_seen_at FROM events WHERE release_key IS NULL AND last_seen_at >= ?",
        [oldest],
    ).fetchall():
        index.add(event_id, event_type, _tokens(title), last_seen)
    events: dict[str, list[Any]] = {}  # event_id -> [type, title, release_key, first, last, count]
    links: list[tuple[str, str]] = []
    for story in todo:
        label = story.label
        if label.get("release_key"):
            event_id = "release:" + label["release_key"]
        else:
            tokens = _tokens(story.title)
            event_id = index.best(label["event_type"], tokens, story.first_seen_at - EVENT_WINDOW) or (
                "story:" + hashlib.sha256(story.entry_key.encode()).hexdigest()[:16])
            if event_id not in index.events:
                index.add(event_id, label["event_type"], tokens, story.first_seen_at)
        row = events.setdefault(event_id, [label["event_type"], story.title, label.get("release_key"),
                                           story.first_seen_at, story.first_seen_at, 0])
        row[4] = max(row[4], story.first_seen_at)
        row[5] += 1
        links.append((event_id, story.entry_key))
    ids = list(events)
    con.execute(
        """INSERT INTO events
           SELECT * FROM (SELECT unnest($id::VARCHAR[]), unnest($type::VARCHAR[]), unnest($title::VARCHAR[]),
                                 unnest($release::VARCHAR[]), unnest($first::TIMESTAMP[]), unnest($last::TIMESTAMP[]),
                                 unnest($n::INTEGER[]))
           ON CONFLICT (event_id) DO UPDATE SET stories = events.stories + excluded.stories,
               last_seen_at = greatest(events.last_seen_at, excluded.last_seen_at)""",
        {"id": ids, "type": [events[i][0] for i in ids], "title": [events[i][1] for i in ids],
         "release": [events[i][2] for i in ids], "first": [events[i][3] for i in ids],
         "last": [events[i][4] for i in ids], "n": [events[i][5] for i in ids]},
    )
    con.execute(
        """INSERT INTO event_stories SELECT unnest($event::VARCHAR[]), unnest($entry::VARCHAR[])
           ON CONFLICT DO NOTHING""",
        {"event": [e for e, _ in links], "entry": [k for _, k in links]},
    )


def _upsert_stories(con: duckdb.DuckDBPyConnection, stories: Sequence[ClassifiedStory], version: str,
                    now: datetime) -> None:
    """All of a batch's labels in one statement (a relabel replaces the previous label)."""
    if not stories:
        return
    labels = [s.label for s in stories]
    facts = [s.facts for s in stories]
    con.execute(
        """INSERT OR REPLACE INTO stories
           SELECT *, $version, $now FROM (
               SELECT unnest($key::VARCHAR[]), unnest($ai::BOOLEAN[]), unnest($etype::VARCHAR[]),
                      unnest($flag::BOOLEAN[]), unnest($orgs::VARCHAR[][]), unnest($models::VARCHAR[][]),
                      unnest($country::VARCHAR[]), unnest($release::VARCHAR[]), unnest($score::DOUBLE[]),
                      unnest($reasons::VARCHAR[][]), unnest($params::VARCHAR[]), unnest($open::BOOLEAN[]),
                      unnest($claim::VARCHAR[]))""",
        {"version": version, "now": now, "key": [s.entry_key for s in stories],
         "ai": [lab["is_ai_competition"] for lab in labels], "etype": [lab["event_type"] for lab in labels],
         "flag": [lab["is_flagship_release"] for lab in labels], "orgs": [lab["orgs"] for lab in labels],
         "models": [lab["models"] for lab in labels], "country": [lab["country"] for lab in labels],
         "release": [lab["release_key"] for lab in labels], "score": [float(lab["score"]) for lab in labels],
         "reasons": [lab["reasons"] for lab in labels], "params": [f.get("parameters") for f in facts],
         "open": [f.get("open_weights") for f in facts], "claim": [f.get("claim") for f in facts]},
    )


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
        ordered = sorted(stories, key=lambda s: (s.first_seen_at, s.published_at, s.entry_key))
        _upsert_stories(con, ordered, version, now)
        _assign_events(con, ordered)
        for story in ordered:
            lab = story.label
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
