"""Opening the DuckDB file safely and keeping its schema current.

DuckDB allows one writing process per file, and any second process (even read-only) fails at once
with "Could not set lock". So every connection here is short-lived and opened through
:func:`connect`, which retries lock errors with backoff and jitter for a bounded time and then
raises :class:`StoreLockedError`, which callers treat as "leave the batch landed, fail loudly".
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from racewatch.errors import StoreError, StoreLockedError

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Naive UTC 'now': the store's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("could not set lock" in text or "conflicting lock" in text)


@contextmanager
def connect(
    path: Path,
    *,
    read_only: bool = False,
    retry_s: float = 30.0,
    migrate: bool = True,
    lean: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; lock errors are retried for up to ``retry_s`` seconds.

    ``lean`` is for small loads in a process that is already big (the poll, with GX imported): one
    DuckDB thread, and freed memory handed back at once instead of cached per thread. A 25k-entry
    batch then adds ~45 MB to the task's peak instead of ~100 MB (docs/performance.md).
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise StoreError(f"database {path} does not exist yet (run a poll first)")
    deadline = time.monotonic() + retry_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open {path}: {str(exc).splitlines()[0]}") from exc
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"{path} is locked by another process (gave up after {retry_s:g}s): "
                    f"{str(exc).splitlines()[0]}"
                ) from exc
            log.info("DuckDB file locked; retrying in %.2fs", delay)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if lean:
            con.execute("SET threads = 1")
            con.execute("SET allocator_bulk_deallocation_flush_threshold = '1MB'")
        if migrate and not read_only:
            apply_migrations(con)
        yield con
    finally:
        con.close()


def _migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("racewatch.store") / "migrations"
    found = []
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, item.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; safe to run twice."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in _migration_files():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
        log.info("applied migration %s", name)
    return applied
