"""The whole cycle in-process against loopback feeds, a real DuckDB file and the fake Slack API."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from dataclasses import replace
from datetime import timedelta

import duckdb
import pytest
from racewatch.alerts.slack import SlackPoster, build_client
from racewatch.errors import StoreLockedError
from racewatch.landing import landed_batches
from racewatch.parse import parse_feed
from racewatch.pipeline.alert import send_pending
from racewatch.pipeline.classify import classify_pending
from racewatch.pipeline.cycle import run_once
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
from racewatch.store import db

from tests.conftest import sample_routes
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, Route

SEED_RELEASES = {"alibaba/qwen3-max", "moonshot-ai/kimi-k2.5"}


def expected_entries() -> int:
    return sum(len(parse_feed(file.read_bytes(), sid).entries) for sid, (_, file) in sample_routes().items())


def query(settings: Settings, sql: str) -> list[tuple]:
    with db.connect(settings.db_path, read_only=True, retry_s=5) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def slack() -> FakeSlack:
    with FakeSlack() as fake:
        yield fake


def poster_for(fake: FakeSlack) -> SlackPoster:
    return SlackPoster(build_client(fake.token, base_url=fake.base_url), "#ai-race", min_interval=0)


def test_full_cycle_stores_everything_and_alerts_each_release_once(sample_settings: Settings, slack: FakeSlack) -> None:
    summary = run_once(sample_settings, poster_for(slack))
    assert summary.poll.feeds_failed == 0
    (entries,), = query(sample_settings, "SELECT count(*) FROM entries")
    (stories,), = query(sample_settings, "SELECT count(*) FROM stories")
    assert entries == expected_entries() and stories == entries
    releases = dict(query(sample_settings, "SELECT release_key, outlets FROM model_releases"))
    assert set(releases) >= SEED_RELEASES
    assert releases["moonshot-ai/kimi-k2.5"] >= 3 and releases["alibaba/qwen3-max"] >= 3
    roots = [c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c]
    replies = [c for c in slack.calls_to("chat.postMessage") if "thread_ts" in c]
    assert len(roots) == len(releases)
    coverage = query(sample_settings, "SELECT count(*) - count(DISTINCT release_key) FROM release_coverage")[0][0]
    assert len(replies) == coverage
    assert len(slack.calls_to("chat.update")) == len({c["thread_ts"] for c in replies})
    statuses = dict(query(sample_settings, "SELECT status, count(*) FROM alerts GROUP BY ALL"))
    assert statuses == {"sent": len(roots) + len(replies)}
    # the exact payload recorded in the outbox is what Slack received
    (payload,), = query(sample_settings, "SELECT payload FROM alerts WHERE alert_id = 'root:moonshot-ai/kimi-k2.5'")
    kimi = next(c for c in roots if "Kimi" in c["text"])
    assert kimi["blocks"] == json.loads(payload)["blocks"]
    assert kimi["channel"] == "#ai-race" and kimi["metadata"]["event_payload"]["alert_id"].startswith("root:")
    assert sample_settings.snapshot_path.exists() and (sample_settings.export_dir / "stories.parquet").exists()


def test_rerun_changes_nothing_and_sends_nothing(sample_settings: Settings, slack: FakeSlack) -> None:
    run_once(sample_settings, poster_for(slack))
    before = {t: query(sample_settings, f"SELECT count(*) FROM {t}")[0][0]
              for t in ("entries", "stories", "model_releases", "alerts", "release_coverage", "events")}
    calls = len(slack.calls)
    again = run_once(sample_settings, poster_for(slack), force_all=True)
    assert again.poll.new_entries == 0 and again.poll.feeds_not_modified == len(sample_routes())
    after = {t: query(sample_settings, f"SELECT count(*) FROM {t}")[0][0] for t in before}
    assert after == before and len(slack.calls) == calls


def test_edited_entry_updates_in_place_and_never_realerts(sample_settings: Settings, sample_server: FeedServer,
                                                          slack: FakeSlack) -> None:
    run_once(sample_settings, poster_for(slack))
    route, file = sample_routes()["asiatech-daily"]
    body = file.read_bytes().replace(b"Kimi K2.5", b"Kimi K2.5 (updated)", 1)
    assert body != file.read_bytes()
    sample_server.add(route, Route(body=body, content_type="application/rss+xml; charset=gb18030"))
    roots_before = len([c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c])
    summary = run_once(sample_settings, poster_for(slack), force_all=True)
    assert summary.poll.new_entries == 0 and summary.poll.changed_entries == 1
    assert summary.classify.classified == 1
    roots_after = len([c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c])
    assert roots_after == roots_before
    (revisions,), = query(sample_settings, "SELECT count(*) FROM entries WHERE revision = 2")
    assert revisions == 1


def test_dry_run_renders_and_records_without_sending(sample_settings: Settings) -> None:
    run_once(sample_settings, SlackPoster(None, "#ai-race"))
    rows = query(sample_settings, "SELECT status, payload IS NOT NULL FROM alerts")
    assert rows and all(status == "dry_run" and has_payload for status, has_payload in rows)


def test_old_stories_are_stored_but_not_alerted(sample_settings: Settings, slack: FakeSlack) -> None:
    settings = replace(sample_settings, alert_max_age=timedelta(hours=1))
    run_once(settings, poster_for(slack))
    assert slack.calls_to("chat.postMessage") == []
    statuses = {r[0] for r in query(settings, "SELECT status FROM alerts WHERE kind = 'release_root'")}
    assert statuses == {"skipped"}


def _hold_lock(path: str, go: multiprocessing.Event, ready: multiprocessing.Event,
               release: multiprocessing.Event) -> None:
    go.wait(60)
    con = duckdb.connect(path)
    ready.set()
    release.wait(60)
    con.close()


def test_locked_store_keeps_the_batch_landed_and_the_next_run_loads_it(
    sample_settings: Settings, sample_server: FeedServer
) -> None:
    """A real second process takes the write lock while the poll is fetching (a slow feed)."""
    settings = replace(sample_settings, lock_retry_s=1.0)
    slow_path, slow_file = sample_routes()["general-news-desk"]
    sample_server.add(slow_path, Route(body=slow_file.read_bytes(), latency_s=2.0))
    ctx = multiprocessing.get_context("spawn")
    go, ready, release = ctx.Event(), ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(settings.db_path), go, ready, release))
    holder.start()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            poll(settings)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    try:
        worker.start()
        deadline = time.monotonic() + 30
        while not sample_server.hits(slow_path) and time.monotonic() < deadline:
            time.sleep(0.02)
        go.set()  # the poll is fetching: its first connection is closed, take the lock now
        assert ready.wait(30)
        worker.join(60)
    finally:
        release.set()
        holder.join(30)
    assert len(errors) == 1 and isinstance(errors[0], StoreLockedError), errors
    assert len(list(landed_batches(settings.landing_dir))) == 1
    assert query(settings, "SELECT count(*) FROM entries")[0][0] == 0
    recovered = poll(settings)
    assert recovered.recovered_batches == 1
    assert query(settings, "SELECT count(*) FROM entries")[0][0] == expected_entries()
    classify_pending(settings)
    send_pending(settings, SlackPoster(None, "#ai-race"))
    assert query(settings, "SELECT count(*) FROM stories")[0][0] == expected_entries()


def test_reclassify_relabels_from_stored_text_without_refetching(sample_settings: Settings, sample_server: FeedServer,
                                                                 slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from racewatch.cli import main

    run_once(sample_settings, poster_for(slack))
    before = query(sample_settings, "SELECT entry_key, event_type, release_key FROM stories ORDER BY ALL")
    hits = len(sample_server.requests)
    with db.connect(sample_settings.db_path) as con:  # what a classifier upgrade looks like to the store
        con.execute("UPDATE entries SET classified_version = 'rules-0'")
    monkeypatch.setenv("RACEWATCH_HOME", str(sample_settings.home))
    monkeypatch.setenv("RACEWATCH_SOURCES", str(sample_settings.sources_path))
    monkeypatch.setenv("RACEWATCH_ALERT_MAX_AGE_HOURS", "0")
    assert main(["reclassify"]) == 0
    assert f"reclassified {expected_entries()} entries" in capsys.readouterr().out
    assert len(sample_server.requests) == hits  # nothing refetched
    assert query(sample_settings, "SELECT entry_key, event_type, release_key FROM stories ORDER BY ALL") == before
    assert query(sample_settings, "SELECT count(*) FROM alerts WHERE status = 'pending'") == [(0,)]


def test_polling_a_subset_keeps_the_other_feeds_active(sample_settings: Settings) -> None:
    from racewatch.sources import load_sources

    poll(sample_settings)
    fast = [s for s in load_sources(sample_settings.sources_path)][:2]  # what the fast path polls
    poll(sample_settings, sources=fast, force_all=True)
    assert query(sample_settings, "SELECT count(*) FROM feeds WHERE NOT active") == [(0,)]


def test_a_classifier_change_relabels_history_and_never_realerts(sample_settings: Settings, slack: FakeSlack,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Switching classifiers (a new version) relabels every stored entry; no release gets a second root."""
    monkeypatch.setenv("RACEWATCH_CLASSIFIER", "rules")
    run_once(sample_settings, poster_for(slack))
    roots_before = [c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c]
    alerted = {k for (k,) in query(sample_settings, "SELECT release_key FROM model_releases")}
    monkeypatch.setenv("RACEWATCH_CLASSIFIER", "hybrid")
    summary = run_once(sample_settings, poster_for(slack))
    from racewatch.classify import get_classifier

    assert summary.classify.classified == expected_entries()  # every entry, none refetched as new
    assert query(sample_settings, "SELECT DISTINCT classified_version FROM entries") == [(get_classifier().version,)]
    roots = [c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c]
    root_ids = [c["metadata"]["event_payload"]["alert_id"] for c in roots]
    assert len(root_ids) == len(set(root_ids))  # one root per release, ever
    assert {f"root:{k}" for k in alerted} <= set(root_ids[: len(roots_before)])
    assert query(sample_settings, "SELECT count(*) FROM alerts WHERE status = 'pending'") == [(0,)]
