"""The poll stage against a misbehaving loopback server: every fault is recorded, the rest still lands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
from racewatch.store import db

from tests.conftest import SAMPLE_DIR, make_settings
from tests.support.feed_server import FeedServer, Route

GOOD = (SAMPLE_DIR / "silicon_ledger.xml").read_bytes()
TRUNCATED_EARLY = GOOD[: GOOD.index(b"<item")]  # cut before the first item: nothing usable
TRUNCATED_LATE = GOOD[: len(GOOD) // 2]  # cut mid-feed: the items before the cut survive, with a warning
LATIN1 = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Caf\xe9</title><item><guid>1</guid>'
          "<title>R\xe9sum\xe9 of the week</title></item></channel></rss>").encode("latin-1")

FAULTS: dict[str, Route] = {
    "good": Route(GOOD),
    "drip": Route(GOOD, fault="drip"),
    "stall": Route(GOOD, fault="stall"),
    "huge": Route(GOOD, fault="huge"),
    "gzip-bomb": Route(GOOD, fault="gzip_bomb"),
    "redirect-loop": Route(b"", status=302, headers={"Location": "/redirect-loop"}),
    "not-found": Route(b"nope", status=404),
    "gone": Route(b"bye", status=410),
    "rate-limited": Route(b"slow down", status=429, headers={"Retry-After": "7200"}),
    "server-error": Route(b"oops", status=500),
    "truncated": Route(TRUNCATED_EARLY),
    "truncated-late": Route(TRUNCATED_LATE),
    "wrong-charset": Route(LATIN1, content_type="application/rss+xml; charset=utf-8"),
}


def setup(tmp_path: Path, server: FeedServer) -> Settings:
    for name, route in FAULTS.items():
        server.add(f"/{name}", route)
    # a redirect to another private host (link-local metadata address) from an allowed loopback source
    server.add("/to-private", Route(b"", status=302, headers={"Location": "http://169.254.169.254/latest/"}))
    sources = [{"id": n, "url": server.url(f"/{n}"), "allow_private": True} for n in [*FAULTS, "to-private"]]
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    return replace(make_settings(tmp_path / "home", path), fetch_timeout_s=2.0, max_body_bytes=10 * 1024 * 1024)


def health(settings: Settings) -> dict[str, tuple]:
    with db.connect(settings.db_path, read_only=True) as con:
        rows = con.execute("""SELECT feed_id, last_status, last_http_status, last_error, consecutive_failures,
                                     next_due_at - last_fetch_at FROM feed_health""").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_every_fault_is_recorded_and_good_feeds_still_land(tmp_path: Path, feed_server: FeedServer) -> None:
    settings = setup(tmp_path, feed_server)
    summary = poll(settings)
    state = health(settings)
    expect_error = {
        "drip": "deadline", "stall": "timed out", "huge": "limit", "gzip-bomb": "limit",
        "redirect-loop": "redirects", "not-found": "404", "rate-limited": "429", "server-error": "500",
        "truncated": "parse", "to-private": "private",
    }
    for feed, needle in expect_error.items():
        status, _, error, failures, _ = state[feed]
        assert status == "error" and failures == 1, (feed, state[feed])
        assert needle in error.lower(), (feed, error)
    assert state["gone"][0] == "gone"
    assert state["good"][0] == "ok" and state["wrong-charset"][0] == "ok" and state["truncated-late"][0] == "ok"
    assert state["rate-limited"][4] >= timedelta(seconds=7200)  # Retry-After sets the next due time
    assert state["good"][4] >= timedelta(minutes=15)  # the sample feed's <ttl>15</ttl>
    assert summary.feeds_failed == len(expect_error) + 1
    with db.connect(settings.db_path, read_only=True) as con:
        per_feed = dict(con.execute("SELECT feed_id, count(*) FROM entries GROUP BY ALL").fetchall())
        (active,), = con.execute("SELECT active FROM feeds WHERE feed_id = 'gone'").fetchall()
        (warning,), = con.execute("SELECT last_warning FROM feed_health WHERE feed_id = 'truncated-late'").fetchall()
    assert per_feed.pop("good") == 13 and per_feed.pop("wrong-charset") == 1
    assert 0 < per_feed.pop("truncated-late") < 13 and per_feed == {}
    assert warning  # the bozo reason is kept
    assert active is False  # 410 retires the source

    # --all polls again, ignoring next-due times: validators make the good feed a 304, the retired feed
    # is never fetched again, and errors keep counting.
    hits_gone = len(feed_server.hits("/gone"))
    again = poll(settings, force_all=True)
    state = health(settings)
    assert state["good"][0] == "not_modified" and state["good"][1] == 304
    assert state["server-error"][3] == 2
    assert len(feed_server.hits("/gone")) == hits_gone
    assert again.new_entries == 0
    good_hits = feed_server.hits("/good")
    assert good_hits[-1].headers.get("If-None-Match")


NO_NEWS_POLL = """
import json, sys
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
summary = poll(Settings.from_env(), force_all=True)
print(json.dumps({"not_modified": summary.feeds_not_modified, "ok": summary.feeds_ok,
                  "gx_imported": "great_expectations" in sys.modules}))
"""


def test_a_poll_with_nothing_new_never_imports_gx(tmp_path: Path, feed_server: FeedServer) -> None:
    """Most polls of a steady-state poller get 304s only; they must not pay GX's import (seconds, ~200 MB)."""
    sources = [{"id": f"lab{i}", "url": feed_server.add(f"/lab{i}", Route(GOOD)), "allow_private": True}
               for i in range(3)]
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    env = {"RACEWATCH_HOME": str(tmp_path / "home"), "RACEWATCH_SOURCES": str(path), "PATH": os.environ["PATH"],
           "GX_ANALYTICS_ENABLED": "false", "NO_PROXY": "*"}

    def fresh_process_poll() -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-c", NO_NEWS_POLL], env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    assert fresh_process_poll() == {"not_modified": 0, "ok": 3, "gx_imported": True}
    assert fresh_process_poll() == {"not_modified": 3, "ok": 0, "gx_imported": False}
