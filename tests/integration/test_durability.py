"""Durability of the store: kill -9 mid-write, lock contention from another process, replays.

These use real processes and a real DuckDB file: the writer is a child process killed with SIGKILL
while it loads a batch; the lock holder is a child process holding a read-only, then a read-write
connection while a cycle runs.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from racewatch.errors import StoreLockedError
from racewatch.landing import landed_batches
from racewatch.pipeline.classify import classify_pending
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
from racewatch.store import db
from racewatch.store.feeds import load_batch

from tests.conftest import make_settings
from tests.support.feed_server import FeedServer, Route

FEEDS, ITEMS = 20, 150


def big_feed(n: int) -> bytes:
    date = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    items = "".join(
        f"<item><guid>f{n}-{i}</guid><title>Lab {n} ships model {i} with {i}B parameters</title>"
        f"<link>https://n{n}.example/{i}</link><description>{'Detailed coverage. ' * 40}</description>"
        f"<pubDate>{date}</pubDate></item>" for i in range(ITEMS))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>{items}</channel></rss>'.encode()


@pytest.fixture
def big_settings(tmp_path: Path, feed_server: FeedServer) -> Settings:
    sources = []
    for n in range(FEEDS):
        feed_server.add(f"/f{n}", Route(big_feed(n)))
        sources.append({"id": f"feed-{n}", "url": feed_server.url(f"/f{n}"), "allow_private": True})
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    return make_settings(tmp_path / "home", path)


CHILD = """
import sys
from racewatch.settings import Settings
from racewatch.pipeline.poll import poll
poll(Settings.from_env(), force_all=True)
"""


def counts(settings: Settings) -> tuple[int, int, int]:
    with db.connect(settings.db_path) as con:  # a read-write open also replays/validates the WAL
        return con.execute("""SELECT (SELECT count(*) FROM entries), (SELECT count(DISTINCT entry_key) FROM entries),
                                     (SELECT count(*) FROM landed_batches)""").fetchone()


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15])
def test_kill_9_during_a_write_loses_and_duplicates_nothing(big_settings: Settings, delay: float) -> None:
    env = {**os.environ, "RACEWATCH_HOME": str(big_settings.home), "RACEWATCH_SOURCES": str(big_settings.sources_path),
           "GX_ANALYTICS_ENABLED": "false"}
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env)
    deadline = time.monotonic() + 120
    # Wait until the batch has landed: from here on the child is loading it into DuckDB.
    while not list(landed_batches(big_settings.landing_dir)) and time.monotonic() < deadline:
        if child.poll() is not None:
            break
        time.sleep(0.005)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    entries, distinct, _ = counts(big_settings)  # reopening works: no corruption
    assert entries == distinct and entries in (0, FEEDS * ITEMS)  # all of the batch or none of it
    poll(big_settings)  # the next run loads whatever the killed one left landed
    entries, distinct, batches = counts(big_settings)
    assert entries == distinct == FEEDS * ITEMS
    assert batches == len(list(landed_batches(big_settings.landing_dir)))


def _hold(path: str, read_only: bool, ready: multiprocessing.Event, release: multiprocessing.Event) -> None:
    con = duckdb.connect(path, read_only=read_only)
    con.execute("SELECT count(*) FROM entries").fetchall()
    ready.set()
    release.wait(60)
    con.close()


@pytest.mark.slow
@pytest.mark.parametrize("read_only", [True, False], ids=["read-only holder", "read-write holder"])
def test_lock_contention_retries_then_fails_loudly_and_recovers(big_settings: Settings, read_only: bool) -> None:
    settings = replace(big_settings, lock_retry_s=1.5)
    with db.connect(settings.db_path):
        pass
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(settings.db_path), read_only, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as info:
            poll(settings)
        assert time.monotonic() - started >= 1.4  # it retried before giving up
        assert "locked" in str(info.value)
    finally:
        release.set()
        holder.join(30)
    # This time the holder lets go within the retry budget: the same cycle waits and succeeds.
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(settings.db_path), read_only, ready, release))
    holder.start()
    assert ready.wait(30)
    threading.Timer(1.0, release.set).start()
    summary = poll(replace(settings, lock_retry_s=30))
    holder.join(30)
    assert summary.new_entries == FEEDS * ITEMS
    with db.connect(settings.db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM entries").fetchone()[0] == FEEDS * ITEMS


def table_dump(settings: Settings) -> dict[str, list]:
    volatile = {"first_seen_at", "last_seen_at", "classified_at", "updated_at", "loaded_at", "validated_at",
                "quarantined_at", "created_at", "sent_at"}
    out = {}
    with db.connect(settings.db_path, read_only=True) as con:
        for table in ("entries", "stories", "model_releases", "release_coverage", "events", "event_stories",
                      "alerts", "quarantine", "feeds"):
            cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] not in volatile]
            out[table] = con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()
    return out


def test_replaying_batches_and_relabelling_leave_identical_tables(sample_settings: Settings) -> None:
    poll(sample_settings)
    classify_pending(sample_settings)
    before = table_dump(sample_settings)
    with db.connect(sample_settings.db_path) as con:
        for batch in landed_batches(sample_settings.landing_dir):  # replaying a loaded batch is a no-op
            assert load_batch(con, batch).already_loaded
        con.execute("DELETE FROM landed_batches")  # ...and even a forced reload of the same rows changes nothing
        for batch in landed_batches(sample_settings.landing_dir):
            assert load_batch(con, batch).new_entries == 0
        con.execute("UPDATE entries SET classified_version = NULL")  # clear + rerun the classify DAG run
    classify_pending(sample_settings)
    assert table_dump(sample_settings) == before
