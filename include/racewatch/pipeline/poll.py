"""The poll stage: due feeds -> fetch -> parse -> validate -> land -> load.

Read top to bottom, :func:`poll` is the whole refresh handler (Miniflux's habit). The database is
touched twice and briefly: once to read feed state, once to load the landed batch. Network I/O
never happens while the DuckDB file is held, and a batch that cannot be loaded stays on disk and
is loaded by the next run.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from racewatch.fetch import FetchOptions, FetchResult, Validators, fetch_all
from racewatch.landing import land_batch, new_batch_id, to_json
from racewatch.notices import render_feed_notice
from racewatch.parse import ParsedFeed, parse_job
from racewatch.settings import Settings
from racewatch.sources import Source, load_sources
from racewatch.store import alerts as outbox
from racewatch.store import db, snapshot
from racewatch.store.feeds import (
    FeedState,
    feed_states,
    load_batch,
    pending_batches,
    record_validation,
    sync_feeds,
)

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=24)


@dataclass
class PollSummary:
    """What a poll did, in numbers the DAG passes on as asset-event metadata."""

    batch_id: str | None = None
    feeds_due: int = 0
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    new_entries: int = 0
    changed_entries: int = 0
    quarantined: int = 0
    recovered_batches: int = 0
    notices: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time per step (fetch, parse, validate, land, load, publish): where a slow poll spends it."""

    @property
    def has_notices(self) -> bool:
        return self.notices > 0

    @property
    def has_news(self) -> bool:
        return bool(self.new_entries or self.changed_entries)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


PARALLEL_PARSE_MIN_FEEDS = 20
"""Below this many due feeds, parsing inline beats starting worker processes."""


class FeedParser:
    """Parses fetched bodies as they arrive: in 2 worker processes for big polls, inline for small ones.

    feedparser is pure Python and holds the GIL, so threads would not help; worker processes put the
    second core to work while the fetch threads still wait on slow hosts.
    """

    def __init__(self, settings: Settings, *, processes: bool) -> None:
        self.tolerance = settings.future_tolerance
        self.pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) \
            if processes else None
        self.pending: dict[str, tuple[Future[tuple[ParsedFeed | None, str | None]], tuple[Any, ...]]] = {}
        self.done: dict[str, tuple[ParsedFeed | None, str | None]] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> FeedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, res: FetchResult) -> None:
        """``fetch_all``'s per-result callback (called from fetch threads)."""
        if res.status != "ok" or res.body is None:
            return
        args = (res.body, res.source_id, res.final_url, res.content_type, self.tolerance)
        if self.pool is None:
            outcome = parse_job(*args)
            with self.lock:
                self.done[res.source_id] = outcome
            return
        try:
            future = self.pool.submit(parse_job, *args)
        except BrokenProcessPool:
            with self.lock:
                self.done[res.source_id] = parse_job(*args)
            return
        with self.lock:
            self.pending[res.source_id] = (future, args)

    def results(self) -> dict[str, tuple[ParsedFeed | None, str | None]]:
        """Every parse outcome; if the worker pool broke (e.g. a worker was killed), parse inline instead."""
        with self.lock:
            pending, self.pending = self.pending, {}
        out = dict(self.done)
        for feed_id, (future, args) in pending.items():
            try:
                out[feed_id] = future.result()
            except BrokenProcessPool:
                log.warning("parser worker pool broke; parsing %s in-process", feed_id)
                out[feed_id] = parse_job(*args)
        return out


class _Background:
    """Runs ``target`` once in a daemon thread, started on demand from any thread.

    The poll warms GX this way: a run where every feed answers 304 never needs GX, so it never pays
    the import (~2-5 s of CPU, ~200 MB), which is most runs of a steady-state poller.
    """

    def __init__(self, target: Callable[[], object]) -> None:
        self.target = target
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.target, daemon=True)
                self.thread.start()

    def join(self) -> None:
        with self.lock:
            thread = self.thread
        if thread is not None:
            thread.join()


class _Stopwatch:
    """Records the seconds since the previous lap under a step name."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.last, 3)
        self.last = now


def _is_due(state: FeedState | None, now: datetime) -> bool:
    if state is None:
        return True
    if not state.active:
        return False
    return state.next_due_at is None or state.next_due_at <= now


def next_due(
    result: FetchResult,
    failures: int,
    poll_minutes: int,
    now: datetime,
    ttl_minutes: int | None = None,
) -> datetime:
    """When to poll again: the feed's own hints on success, capped exponential backoff on failure."""
    base = timedelta(minutes=poll_minutes)
    if result.status == "error":
        backoff = min(base * (2 ** min(failures - 1, 16)), MAX_BACKOFF) * random.uniform(0.8, 1.2)
        if result.retry_after_s:
            backoff = max(backoff, timedelta(seconds=result.retry_after_s))
        return now + min(backoff, MAX_BACKOFF)
    hints = [base]
    if ttl_minutes:
        hints.append(timedelta(minutes=ttl_minutes))
    if result.max_age_s:
        hints.append(timedelta(seconds=result.max_age_s))
    return now + min(max(hints), MAX_BACKOFF)


def _fetch_record(
    batch_id: str,
    src: Source,
    res: FetchResult,
    parsed: ParsedFeed | None,
    parse_error: str | None,
    state: FeedState | None,
    settings: Settings,
    started: datetime,
) -> dict[str, Any]:
    """One ``fetches`` row carrying the feed's next health state (applied when the batch loads)."""
    status = "error" if parse_error else res.status
    failed = status == "error"
    failures = (state.consecutive_failures + 1 if state else 1) if failed else 0
    # Validators are kept only with a body we understood; after an error the old ones stay.
    keep = state.validators if state else Validators()
    validators = keep if failed else res.validators
    poll_minutes = src.poll_minutes or settings.default_poll_minutes
    ttl = parsed.ttl_minutes if parsed else None
    return {
        "fetch_id": f"{batch_id}:{src.id}",
        "batch_id": batch_id,
        "feed_id": src.id,
        "url": res.url,
        "final_url": res.final_url,
        "started_at": started,
        "elapsed_ms": res.elapsed_ms,
        "status": status,
        "http_status": res.http_status,
        "bytes": len(res.body) if res.body is not None else None,
        "entries": len(parsed.entries) if parsed else None,
        "error": parse_error or res.error,
        "warning": "; ".join(parsed.warnings)[:500] if parsed and parsed.warnings else None,
        "etag": validators.etag,
        "last_modified": validators.last_modified,
        "body_hash": validators.body_hash,
        "next_due_at": next_due(res, failures, poll_minutes, started, ttl),
        "consecutive_failures": failures,
        "fetch_count": (state.fetch_count if state else 0) + 1,
        "not_modified_count": (state.not_modified_count if state else 0)
        + (1 if status in ("not_modified", "unchanged") else 0),
        "last_success_at": started if not failed else (state.last_success_at if state else None),
        "new_url": res.permanent_redirect,
        "retire": status == "gone",
    }


def feed_notices(
    sources: list[Source], states: dict[str, FeedState], fetch_rows: list[dict[str, Any]], threshold: int
) -> list[tuple[str, dict[str, Any]]]:
    """One 'down' notice when a feed reaches ``threshold`` consecutive failures, one 'recovered' after."""
    by_id = {s.id: s for s in sources}
    notices = []
    for row in fetch_rows:
        before = states.get(row["feed_id"])
        src = by_id[row["feed_id"]]
        if row["consecutive_failures"] == threshold:
            payload = render_feed_notice(src.name, src.url, down=True, failures=threshold, error=row["error"])
            notices.append((f"ops:down:{row['fetch_id']}", payload))
        elif row["consecutive_failures"] == 0 and before and before.consecutive_failures >= threshold:
            payload = render_feed_notice(src.name, src.url, down=False, failures=0, error=None)
            notices.append((f"ops:up:{row['fetch_id']}", payload))
    return notices


def poll(settings: Settings, *, force_all: bool = False, sources: list[Source] | None = None) -> PollSummary:
    """Poll every due source once and load the result; one bad feed never fails the run.

    Raises only when the store itself cannot be read or written (the batch then stays landed).
    """
    from racewatch import quality  # GX stays out of import time

    complete = sources is None  # a subset (the fast path) must not deactivate the other feeds
    sources = load_sources(settings.sources_path) if sources is None else sources
    summary = PollSummary()
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s, lean=True) as con:
        sync_feeds(con, sources, complete=complete)
        for batch in pending_batches(con, settings.landing_dir):
            res = load_batch(con, batch)
            summary.recovered_batches += 1
            summary.new_entries += res.new_entries
            summary.changed_entries += res.changed_entries
            log.warning("loaded batch %s left over from an earlier run", batch.batch_id)
        states = feed_states(con)

    now = db.utcnow()
    def wanted(src: Source) -> bool:
        state = states.get(src.id)
        if force_all:  # --all ignores next-due times, but never revives a retired (410) feed
            return state is None or state.active
        return _is_due(state, now)

    due = [s for s in sources if wanted(s)]
    summary.feeds_due = len(due)
    if not due:
        return summary
    effective = [
        Source(s.id, states[s.id].url if s.id in states and not s.is_file else s.url, s.name, s.tags,
               s.poll_minutes, s.allow_private)
        for s in due
    ]
    options = FetchOptions(
        timeout_s=settings.fetch_timeout_s,
        max_body_bytes=settings.max_body_bytes,
        allow_private_networks=settings.allow_private_networks,
    )
    previous = {s.id: states[s.id].validators for s in due if s.id in states}
    clock = _Stopwatch(summary.seconds)
    gx_warmup = _Background(quality.warm_up)
    with FeedParser(settings, processes=len(due) >= PARALLEL_PARSE_MIN_FEEDS) as parser:

        def on_result(res: FetchResult) -> None:
            # Parsing starts as soon as each body arrives, on the second core, overlapping the network
            # wait; GX is imported meanwhile, but only once there is a new body that it will validate.
            if res.status == "ok":
                gx_warmup.start()
            parser.submit(res)

        results = fetch_all(effective, previous, options, max_workers=settings.max_concurrency,
                            per_host=settings.per_host_concurrency, on_result=on_result)
        clock.lap("fetch")
        parsed_by_id = parser.results()
    clock.lap("parse")

    batch_id = new_batch_id()
    fetch_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    for src, res in zip(effective, results, strict=True):
        parsed, parse_error = parsed_by_id.get(src.id, (None, None))
        row = _fetch_record(batch_id, src, res, parsed, parse_error, states.get(src.id), settings, now)
        fetch_rows.append(row)
        if row["status"] == "error" or row["status"] == "gone":
            summary.feeds_failed += 1
            summary.errors[src.id] = row["error"] or row["status"]
            log.warning("feed %s: %s", src.id, row["error"])
        elif row["status"] in ("not_modified", "unchanged"):
            summary.feeds_not_modified += 1
        else:
            summary.feeds_ok += 1
        if parsed:
            entry_rows.extend(e.as_row(seen_at=now) for e in parsed.entries)
    del parsed_by_id, results  # the bodies and parse trees are no longer needed: keep the peak down
    gx_warmup.join()
    outcome = quality.validate_entries(entry_rows, now=datetime.now(UTC),
                                       future_tolerance=settings.future_tolerance)
    # Volume check against what the same feeds delivered last time (only when all of them have history).
    parsed_feeds = [r for r in fetch_rows if r["entries"] is not None]
    history = [states[r["feed_id"]].last_entries for r in parsed_feeds if r["feed_id"] in states]
    previous_rows = sum(history) if history and len(history) == len(parsed_feeds) and all(history) else None
    outcome.stats["batch_warnings"] = quality.batch_warnings(outcome, previous_rows=previous_rows)
    for warning in outcome.stats["batch_warnings"]:
        log.warning("batch %s: %s", batch_id, warning)
    if outcome.critical_failure:
        log.error("entries batch %s: %s", batch_id, outcome.critical_failure)
    quarantine_rows = [
        {
            "quarantine_id": hashlib.sha256(to_json([q.key, q.expectation, q.row]).encode()).hexdigest()[:32],
            "suite": "entries",
            "row_key": q.key,
            "expectation": q.expectation,
            "reason": q.reason,
            "raw_row": q.row,
            "batch_id": batch_id,
            "quarantined_at": now,
        }
        for q in outcome.quarantined
    ]
    results_path = quality.write_results(outcome, settings.home) if entry_rows else None
    if results_path:
        log.info("entries validation: %s (GX Data Docs: %s)", results_path, quality.build_docs(settings.home))
    clock.lap("validate")
    batch = land_batch(
        settings.landing_dir,
        batch_id,
        {"fetches": fetch_rows, "entries": outcome.valid, "quarantine": quarantine_rows},
        {"created_at": now, "kind": "poll", "validation": str(results_path) if results_path else None},
    )
    summary.batch_id = batch_id
    clock.lap("land")
    # The rows live on disk now: drop them before DuckDB's load, the poll's memory peak.
    del entry_rows, quarantine_rows
    outcome.valid.clear()
    with db.connect(settings.db_path, retry_s=settings.lock_retry_s, lean=True) as con:
        loaded = load_batch(con, batch)
        if outcome.stats["evaluated"]:
            record_validation(con, outcome, batch_id, results_path)
        for alert_id, payload in feed_notices(effective, states, fetch_rows, settings.down_after_failures):
            summary.notices += outbox.enqueue(con, alert_id, "ops", payload, settings.slack_channel)
    clock.lap("load")
    snapshot.publish(settings.db_path, settings.snapshot_path, settings.export_dir, retry_s=settings.lock_retry_s)
    clock.lap("publish")
    summary.new_entries += loaded.new_entries
    summary.changed_entries += loaded.changed_entries
    summary.quarantined = loaded.quarantined
    log.info("poll %s: %s", batch_id, summary.as_dict())
    return summary
