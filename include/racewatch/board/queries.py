"""Read-side queries behind the board page.

The board reads the analyst snapshot (``racewatch_ro.duckdb``), a copy the pipeline republishes by atomic
rename, so a page view never takes a lock the writer needs. Only when no snapshot exists yet (a fresh
install before the first maintenance run) does it fall back to the live file, read-only, through the
store's bounded-retry :func:`racewatch.store.db.connect`, holding the connection for one page only.

Every value that reaches SQL from a request (the search box) is a bound parameter; the SQL text is
fixed. Every query is bounded (LIMIT, or aggregates over a time window) so a page stays fast at 100k+
stories; ``bench/bench_board.py`` measures that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from racewatch.contract import EVENT_TYPES
from racewatch.errors import StoreError, StoreLockedError
from racewatch.settings import Settings
from racewatch.store import db

COUNTRY_GROUPS: tuple[str, ...] = ("US", "CN", "ROW")
"""Timeline lanes: the two leading countries get their own lane, everyone else shares one."""

RELEASE_LIMIT = 40
COVERAGE_PER_RELEASE = 6
ALERT_LIMIT = 12
SEARCH_LIMIT = 50
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 8
OVERDUE_GRACE = timedelta(minutes=30)
"""A feed whose next poll is this late means the poll DAG is not running (paused, scheduler down)."""


def country_group(country: str | None) -> str:
    """US and CN keep their lane; any other (or unknown) country is 'ROW', rest of world."""
    code = (country or "").upper()
    return code if code in ("US", "CN") else "ROW"


@dataclass(frozen=True)
class Coverage:
    title: str
    link: str | None
    source: str | None
    seen_at: datetime


@dataclass(frozen=True)
class Release:
    release_key: str
    model: str
    org: str | None
    country: str | None
    parameters: str | None
    open_weights: bool | None
    released_at: datetime
    """When the story that founded the release was published (else when racewatch first saw it)."""
    announce_url: str | None
    outlets: int
    alert_status: str | None
    coverage: tuple[Coverage, ...]
    coverage_total: int

    @property
    def group(self) -> str:
        return country_group(self.country)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str
    release_key: str | None
    model: str | None
    status: str
    slack_ts: str | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class EventCount:
    event_type: str
    last_7d: int
    last_30d: int


@dataclass(frozen=True)
class FeedHealth:
    feed_id: str
    name: str
    url: str
    active: bool
    status: str | None
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    failures: int
    next_due_at: datetime | None
    last_error: str | None
    problem: str | None
    """Why this feed needs a look (None when healthy); problems sort first."""
    severity: int
    """0 failing, 1 stalled (overdue / never fetched), 2 retired, 3 healthy: the sort key."""


@dataclass(frozen=True)
class StoryHit:
    title: str
    summary: str
    link: str | None
    source: str | None
    published_at: datetime
    event_type: str
    is_ai_competition: bool


@dataclass(frozen=True)
class Search:
    query: str
    terms: tuple[str, ...]
    hits: tuple[StoryHit, ...]
    truncated: bool


@dataclass(frozen=True)
class Board:
    """Everything one page shows; ``note`` explains an empty or partial board to the reader."""

    generated_at: datetime
    data_source: str
    data_as_of: datetime | None
    stories_total: int = 0
    releases: tuple[Release, ...] = ()
    alerts: tuple[Alert, ...] = ()
    alert_status_counts: tuple[tuple[str, int], ...] = ()
    event_counts: tuple[EventCount, ...] = ()
    feeds: tuple[FeedHealth, ...] = ()
    search: Search | None = None
    note: str | None = None


def _utc_mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)


@contextmanager
def open_store(settings: Settings, *,
               retry_s: float = 5.0) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, datetime]]:
    """Yield ``(connection, source label, data as-of)``: the snapshot when published, else the live file.

    Raises :class:`StoreError` when neither exists, :class:`StoreLockedError` when the live file stays
    locked by the writer for ``retry_s``.
    """
    snapshot = settings.snapshot_path
    if snapshot.exists():
        path, label = snapshot, "analyst snapshot"
    else:
        path, label = settings.db_path, "live database (read-only; no snapshot published yet)"
    with db.connect(path, read_only=True, retry_s=retry_s) as con:
        yield con, label, _utc_mtime(path)


def parse_query(raw: str | None) -> tuple[str, tuple[str, ...]]:
    """Normalise the search box: collapse whitespace, cap the length, split into lower-case terms."""
    query = " ".join((raw or "").split())[:MAX_QUERY_CHARS]
    terms = tuple(dict.fromkeys(t.lower() for t in query.split()))[:MAX_QUERY_TERMS]
    return query, terms


def _search_sql(term_count: int) -> str:
    # One fixed clause per term (every term must appear in the title or the summary); the user's text
    # only ever arrives as bound parameters, so it cannot change the statement.
    clause = "(contains(lower(e.title), ?) OR contains(lower(e.summary_text), ?))"
    where = " AND ".join([clause] * term_count)
    return f"""SELECT e.title, e.summary_text, e.link, f.name, e.published_at, s.event_type, s.is_ai_competition
               FROM entries e JOIN stories s USING (entry_key) LEFT JOIN feeds f USING (feed_id)
               WHERE {where}
               ORDER BY e.published_at DESC, e.entry_key LIMIT ?"""


def search_stories(con: duckdb.DuckDBPyConnection, raw_query: str | None, *,
                   limit: int = SEARCH_LIMIT) -> Search | None:
    """Stories whose title or summary contains every term (case-insensitive), newest first."""
    query, terms = parse_query(raw_query)
    if not terms:
        return None
    params: list[object] = [t for term in terms for t in (term, term)]
    rows = con.execute(_search_sql(len(terms)), [*params, limit + 1]).fetchall()
    hits = tuple(StoryHit(title, summary or "", link, source, published, event_type, bool(ai))
                 for title, summary, link, source, published, event_type, ai in rows[:limit])
    return Search(query, terms, hits, truncated=len(rows) > limit)


def latest_releases(con: duckdb.DuckDBPyConnection, *, limit: int = RELEASE_LIMIT,
                    coverage_per_release: int = COVERAGE_PER_RELEASE) -> tuple[Release, ...]:
    """The most recent flagship releases with their root alert status and first few coverage stories.

    Placed by publication time, not first-seen time: the first poll of a new install (or a backfill)
    sees weeks of releases at once, and the timeline must still show when each one happened.
    """
    rows = con.execute(
        """SELECT r.release_key, coalesce(r.model, r.release_key), r.org, r.country, r.parameters,
                  r.open_weights, coalesce(least(e.published_at, r.first_seen_at), r.first_seen_at) AS released_at,
                  r.announce_url, r.outlets, a.status
           FROM model_releases r
           LEFT JOIN entries e ON e.entry_key = r.first_entry_key
           LEFT JOIN alerts a ON a.release_key = r.release_key AND a.kind = 'release_root'
           ORDER BY released_at DESC, r.release_key LIMIT ?""",
        [limit],
    ).fetchall()
    keys = [row[0] for row in rows]
    coverage: dict[str, list[Coverage]] = {k: [] for k in keys}
    totals: dict[str, int] = dict.fromkeys(keys, 0)
    if keys:
        for key, title, link, source, seen_at, total in con.execute(
            """SELECT c.release_key, e.title, e.link, f.name, c.seen_at,
                      count(*) OVER (PARTITION BY c.release_key)
               FROM release_coverage c
               JOIN entries e ON e.entry_key = c.entry_key
               LEFT JOIN feeds f ON f.feed_id = c.feed_id
               WHERE c.release_key IN (SELECT unnest(?::VARCHAR[]))
               QUALIFY row_number() OVER (PARTITION BY c.release_key ORDER BY c.seen_at, c.entry_key) <= ?
               ORDER BY c.release_key, c.seen_at, c.entry_key""",
            [keys, coverage_per_release],
        ).fetchall():
            coverage[key].append(Coverage(title, link, source, seen_at))
            totals[key] = total
    return tuple(
        Release(key, model, org, country, params, open_w, released, url, outlets or 0, status,
                tuple(coverage[key]), totals[key])
        for key, model, org, country, params, open_w, released, url, outlets, status in rows
    )


def latest_alerts(con: duckdb.DuckDBPyConnection, *, limit: int = ALERT_LIMIT) -> tuple[Alert, ...]:
    rows = con.execute(
        """SELECT a.alert_id, a.kind, a.release_key, r.model, a.status, a.slack_ts, a.attempts, a.created_at,
                  a.sent_at, a.last_error
           FROM alerts a LEFT JOIN model_releases r ON r.release_key = a.release_key
           ORDER BY coalesce(a.sent_at, a.created_at) DESC, a.alert_id LIMIT ?""",
        [limit],
    ).fetchall()
    return tuple(Alert(*row) for row in rows)


def alert_status_counts(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, int], ...]:
    rows = con.execute("SELECT status, count(*) FROM alerts GROUP BY status ORDER BY count(*) DESC, status")
    return tuple((status, n) for status, n in rows.fetchall())


def event_counts(con: duckdb.DuckDBPyConnection, now: datetime) -> tuple[EventCount, ...]:
    """AI-race stories per event type published in the last 7 and 30 days (every known type, zeros too).

    Publication time rather than first-seen time: a first start or a backfill loads weeks of history in
    one poll, which would otherwise all count as "this week".
    """
    found = {
        event_type: (d7, d30)
        for event_type, d7, d30 in con.execute(
            """SELECT s.event_type, count(*) FILTER (WHERE e.published_at >= ?), count(*)
               FROM stories s JOIN entries e USING (entry_key)
               WHERE s.is_ai_competition AND e.published_at >= ?
               GROUP BY s.event_type""",
            [now - timedelta(days=7), now - timedelta(days=30)],
        ).fetchall()
    }
    ordered = [*EVENT_TYPES, *sorted(set(found) - set(EVENT_TYPES))]
    return tuple(EventCount(t, *found.get(t, (0, 0))) for t in ordered)


def _feed_problem(active: bool, status: str | None, failures: int, last_fetch_at: datetime | None,
                  next_due_at: datetime | None, retired_reason: str | None, now: datetime) -> tuple[int, str | None]:
    if not active:
        return 2, f"retired: {retired_reason}" if retired_reason else "retired"
    if status in ("error", "gone") or failures > 0:
        return 0, f"failing ({failures} in a row)" if failures > 1 else "failing"
    if last_fetch_at is None:
        return 1, "never fetched"
    if next_due_at is not None and next_due_at < now - OVERDUE_GRACE:
        return 1, "overdue (is the poll DAG running?)"
    return 3, None


def feed_health(con: duckdb.DuckDBPyConnection, now: datetime) -> tuple[FeedHealth, ...]:
    """Every feed with a plain-language problem; failing first, then stalled, retired, healthy."""
    rows = con.execute(
        """SELECT f.feed_id, f.name, f.url, f.active, f.retired_reason, h.last_status, h.last_fetch_at,
                  h.last_success_at, coalesce(h.consecutive_failures, 0), h.next_due_at, h.last_error
           FROM feeds f LEFT JOIN feed_health h USING (feed_id)"""
    ).fetchall()
    feeds = []
    for feed_id, name, url, active, reason, status, fetched, success, failures, due, error in rows:
        severity, problem = _feed_problem(active, status, failures, fetched, due, reason, now)
        feeds.append(FeedHealth(feed_id, name, url, active, status, fetched, success, failures, due, error,
                                problem, severity))
    return tuple(sorted(feeds, key=lambda f: (f.severity, -f.failures, f.name.lower(), f.feed_id)))


def load_board(con: duckdb.DuckDBPyConnection, *, now: datetime, data_source: str,
               data_as_of: datetime | None = None, query: str | None = None) -> Board:
    """All sections of the page from one open connection."""
    (stories_total,) = con.execute("SELECT count(*) FROM stories").fetchone() or (0,)
    return Board(
        generated_at=now,
        data_source=data_source,
        data_as_of=data_as_of,
        stories_total=stories_total,
        releases=latest_releases(con),
        alerts=latest_alerts(con),
        alert_status_counts=alert_status_counts(con),
        event_counts=event_counts(con, now),
        feeds=feed_health(con, now),
        search=search_stories(con, query),
    )


def read_board(settings: Settings, *, query: str | None = None, now: datetime | None = None) -> Board:
    """The board for ``settings``; a missing, locked or unreadable store gives an empty board with a note."""
    now = now or db.utcnow()
    try:
        with open_store(settings) as (con, label, as_of):
            return load_board(con, now=now, data_source=label, data_as_of=as_of, query=query)
    except StoreLockedError:
        note = "The pipeline is writing to the database right now; refresh in a few seconds."
    except StoreError as exc:
        if settings.db_path.exists() or settings.snapshot_path.exists():
            note = f"The racewatch database could not be opened: {exc}"
        else:
            note = (f"No racewatch data yet: {settings.db_path} does not exist. Start the pipeline "
                    "(make run) and refresh once the first poll has finished.")
    except duckdb.Error as exc:
        # A half-migrated or foreign file: say so on the page instead of failing it.
        note = "The racewatch database could not be read: " + (str(exc).splitlines() or [""])[0]
    return Board(generated_at=now, data_source="none", data_as_of=None, note=note,
                 event_counts=tuple(EventCount(t, 0, 0) for t in EVENT_TYPES))

