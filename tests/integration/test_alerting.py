"""Alerting end to end in-process: one root per release, threaded follow-ups, every duplicate case,
rate limits and errors, the hourly budget, ops notices and the digest, against the fake Slack API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import yaml
from racewatch.alerts.render import render_release_root
from racewatch.alerts.slack import SlackConfigError, SlackPoster, SlackTransientError, build_client
from racewatch.classify import classify
from racewatch.notices import build_digest, render_digest
from racewatch.pipeline.alert import send_pending
from racewatch.pipeline.classify import classify_pending
from racewatch.pipeline.cycle import run_once
from racewatch.pipeline.maintenance import enqueue_digest
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
from racewatch.store import alerts as outbox
from racewatch.store import db

from tests.conftest import make_settings
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, Route

KEY = "moonshot-ai/kimi-k2.5"
VERBS = ["releases", "launches", "unveils", "open-sources", "rolls out", "debuts", "releases", "launches",
         "unveils", "releases"]


def feed(items: list[tuple[str, str, str]]) -> bytes:
    now = format_datetime(datetime.now(UTC) - timedelta(minutes=5))
    body = "".join(f"<item><guid>{g}</guid><title>{t}</title><description>{d}</description>"
                   f"<link>https://news.example/{g}</link><pubDate>{now}</pubDate></item>" for g, t, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{body}</channel></rss>'.encode()


def story(i: int) -> tuple[str, str, str]:
    return (f"kimi-{i}", f"Moonshot AI {VERBS[i]} Kimi K2.5, its new open-source flagship model",
            "The Beijing-based lab says Kimi K2.5 is the world's most powerful open-source model.")


@pytest.fixture
def slack() -> FakeSlack:
    with FakeSlack() as fake:
        yield fake


def poster(fake: FakeSlack) -> SlackPoster:
    return SlackPoster(build_client(fake.token, base_url=fake.base_url, max_retries=2), "#ai-race", min_interval=0)


def roots(fake: FakeSlack) -> list[dict]:
    return [c for c in fake.calls_to("chat.postMessage") if "thread_ts" not in c]


def replies(fake: FakeSlack) -> list[dict]:
    return [c for c in fake.calls_to("chat.postMessage") if "thread_ts" in c]


def ten_outlets(tmp_path: Path, server: FeedServer) -> Settings:
    sources = [{"id": f"outlet-{i}", "url": server.url(f"/o{i}"), "allow_private": True} for i in range(10)]
    for i in range(10):
        server.add(f"/o{i}", Route(feed([])))
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}))
    return make_settings(tmp_path / "home", path, RACEWATCH_ALERT_MAX_AGE_HOURS="24")


def test_headline_variants_are_one_release() -> None:
    for i in range(10):
        guid, title, summary = story(i)
        label = classify({"id": guid, "title": title, "summary": summary})
        assert label["is_flagship_release"] and label["release_key"] == KEY, (title, label)


def test_ten_outlets_over_three_cycles_make_one_root_and_nine_replies(tmp_path: Path, feed_server: FeedServer,
                                                                      slack: FakeSlack) -> None:
    settings = ten_outlets(tmp_path, feed_server)
    for cycle in ((0, 1, 2), (3, 4, 5, 6), (7, 8, 9)):
        for i in cycle:
            feed_server.add(f"/o{i}", Route(feed([story(i)])))
        run_once(settings, poster(slack), force_all=True)
    assert len(roots(slack)) == 1
    thread = replies(slack)
    assert len(thread) == 9 and {r["thread_ts"] for r in thread} == {slack_ts(settings)}
    updates = slack.calls_to("chat.update")
    assert updates and all(u["ts"] == slack_ts(settings) for u in updates)
    assert "10 outlets" in str(updates[-1]["blocks"])


def slack_ts(settings: Settings) -> str:
    with db.connect(settings.db_path, read_only=True) as con:
        return con.execute("SELECT slack_ts FROM alerts WHERE alert_id = ?", [f"root:{KEY}"]).fetchone()[0]


def one_release(tmp_path: Path, server: FeedServer) -> Settings:
    settings = ten_outlets(tmp_path, server)
    server.add("/o0", Route(feed([story(0)])))
    poll(settings, force_all=True)
    classify_pending(settings)
    return settings


def test_retried_task_and_cleared_run_never_repost(tmp_path: Path, feed_server: FeedServer, slack: FakeSlack) -> None:
    settings = one_release(tmp_path, feed_server)
    send_pending(settings, poster(slack))
    send_pending(settings, poster(slack))  # task retry
    with db.connect(settings.db_path) as con:  # cleared DAG runs: relabel everything, then alert again
        con.execute("UPDATE entries SET classified_version = NULL")
    classify_pending(settings)
    send_pending(settings, poster(slack))
    assert len(roots(slack)) == 1


def test_connection_dropped_after_slack_accepted_is_reconciled(tmp_path: Path, feed_server: FeedServer,
                                                               slack: FakeSlack) -> None:
    settings = one_release(tmp_path, feed_server)
    slack.inject(("drop_after_accept",))
    first = send_pending(settings, poster(slack))
    assert first.errors and len(roots(slack)) == 1  # Slack has it; we don't know yet
    second = send_pending(settings, poster(slack))
    assert second.reconciled == 1 and len(roots(slack)) == 1
    with db.connect(settings.db_path, read_only=True) as con:
        status, ts, attempts = con.execute("SELECT status, slack_ts, attempts FROM alerts").fetchone()
    assert status == "sent" and ts and attempts == 2


def test_crash_between_post_and_record_is_reconciled(tmp_path: Path, feed_server: FeedServer,
                                                     slack: FakeSlack) -> None:
    settings = one_release(tmp_path, feed_server)
    # What a crashed run leaves behind: attempt counted, message in Slack, no ts recorded.
    with db.connect(settings.db_path) as con:
        payload = render_release_root(outbox.release_view(con, KEY))
        outbox.begin_attempt(con, f"root:{KEY}", payload)
    poster(slack).post(payload, client_msg_id=f"root:{KEY}")
    summary = send_pending(settings, poster(slack))
    assert summary.reconciled == 1 and len(roots(slack)) == 1


def test_rate_limit_is_honoured_and_server_errors_retried(tmp_path: Path, feed_server: FeedServer,
                                                          slack: FakeSlack) -> None:
    settings = one_release(tmp_path, feed_server)
    slack.inject(("rate_limited", 1), ("server_error",))
    summary = send_pending(settings, poster(slack))
    assert summary.sent == 1 and len(roots(slack)) == 3  # two refused attempts, then the accepted one
    assert sum(len(m) for m in slack.messages.values()) == 1  # ...and Slack holds exactly one message
    times = slack.call_times
    assert times[-1] - times[0] >= 1.0  # waited for Retry-After


def test_invalid_auth_fails_fast_and_the_alert_waits(tmp_path: Path, feed_server: FeedServer,
                                                     slack: FakeSlack) -> None:
    settings = one_release(tmp_path, feed_server)
    slack.inject(("api_error", "invalid_auth"))
    with pytest.raises(SlackConfigError) as info:
        send_pending(settings, poster(slack))
    assert "invalid_auth" in str(info.value) and "\n" not in str(info.value)
    assert len(slack.calls_to("chat.postMessage")) == 1  # no retries
    with db.connect(settings.db_path, read_only=True) as con:
        assert con.execute("SELECT status, last_error IS NOT NULL FROM alerts").fetchone() == ("pending", True)
    assert send_pending(settings, poster(slack)).sent == 1  # token fixed: it goes out now


def test_persistent_server_errors_leave_the_alert_pending(tmp_path: Path, feed_server: FeedServer,
                                                          slack: FakeSlack) -> None:
    settings = one_release(tmp_path, feed_server)
    slack.inject(*[("server_error",)] * 3)
    summary = send_pending(settings, poster(slack))
    assert summary.errors and summary.sent == 0
    with db.connect(settings.db_path, read_only=True) as con:
        assert con.execute("SELECT status FROM alerts").fetchone() == ("pending",)
    assert send_pending(settings, poster(slack)).sent == 1
    assert issubclass(SlackTransientError, Exception)


def test_hourly_budget_collapses_the_rest_into_one_summary(sample_settings: Settings, slack: FakeSlack) -> None:
    settings = replace(sample_settings, alert_budget_per_hour=1)
    summary = run_once(settings, poster(slack))
    assert summary.alerts.collapsed >= 2
    posted = roots(slack)
    assert len(posted) == 2  # one release root + one summary
    assert "more model releases" in posted[1]["text"]
    with db.connect(settings.db_path, read_only=True) as con:
        statuses = dict(con.execute(
            "SELECT status, count(*) FROM alerts WHERE kind = 'release_root' GROUP BY ALL").fetchall())
    assert statuses["sent"] == 1 and statuses["collapsed"] == summary.alerts.collapsed


def test_source_down_and_recovered_notices_once_each(tmp_path: Path, feed_server: FeedServer,
                                                     slack: FakeSlack) -> None:
    settings = ten_outlets(tmp_path, feed_server)
    feed_server.add("/o3", Route(b"down", status=503))
    for _ in range(5):
        poll(settings, force_all=True)
    send_pending(settings, poster(slack))
    feed_server.add("/o3", Route(feed([])))
    poll(settings, force_all=True)
    poll(settings, force_all=True)
    send_pending(settings, poster(slack))
    texts = [c["text"] for c in slack.calls_to("chat.postMessage")]
    assert texts == ["Source outlet-3 is down", "Source outlet-3 recovered"]


def test_digest_and_scoreboard_numbers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "unused.yaml")
    now = datetime(2026, 11, 28, 8, 0)
    day = datetime(2026, 11, 27, 12, 0)
    with db.connect(settings.db_path) as con:
        rows = [  # entry_key, event_id, event_type, days ago (relative to `day`)
            ("e1", "release:moonshot-ai/kimi-k2.5", "model_release"), ("e2", "release:moonshot-ai/kimi-k2.5",
                                                                         "model_release"),
            ("e3", "story:chips", "chips_compute"), ("e4", "story:chips", "chips_compute"),
            ("e5", "story:funding", "funding"),
        ]
        for key, event, etype in rows:
            con.execute("""INSERT INTO entries (entry_key, feed_id, title, summary_text, summary_html, published_at,
                           content_hash, first_seen_at, last_seen_at, batch_id)
                           VALUES (?, 'f', ?, '', '', ?, 'h', ?, ?, 'b')""", [key, f"title {key}", day, day, day])
            con.execute("""INSERT INTO stories VALUES (?, TRUE, ?, FALSE, [], [], NULL, NULL, 0.9, [], NULL, NULL,
                           NULL, 'v', ?)""", [key, etype, day])
            con.execute("INSERT INTO event_stories VALUES (?, ?)", [event, key])
        releases = [("a/us-1", "US", True, 2), ("b/us-2", "US", False, 20), ("c/cn-1", "CN", True, 3),
                    ("d/cn-2", "CN", True, 25), ("e/fr-1", "FR", False, 40)]
        for key, country, open_w, age in releases:
            con.execute("""INSERT INTO model_releases (release_key, org, country, model, open_weights, first_seen_at,
                           first_entry_key, provenance, updated_at) VALUES (?, 'o', ?, ?, ?, ?, 'e', '{}', ?)""",
                        [key, country, key, open_w, now - timedelta(days=age), now])
        digest = build_digest(con, day.date(), now)
    assert digest.events_by_type == {"model_release": 1, "chips_compute": 1, "funding": 1}
    assert digest.headlines["chips_compute"] == [("title e3", None, 2)]
    week = {s.bloc: (s.releases, s.open_weights) for s in digest.scoreboard[7]}
    month = {s.bloc: (s.releases, s.open_weights) for s in digest.scoreboard[30]}
    assert week == {"US": (1, 1), "CN": (1, 1), "ROW": (0, 0)}
    assert month == {"US": (2, 1), "CN": (2, 2), "ROW": (0, 0)}
    payload = render_digest(digest)
    text = str(payload["blocks"])
    assert "AI race digest — 2026-11-27" in text and "30 days: 🇺🇸 United States 2 (50% open)" in text
    assert "🇨🇳 China 2 (100% open)" in text
    assert enqueue_digest(settings, now) == "digest:2026-11-27"
    assert enqueue_digest(settings, now) is None  # once per day
