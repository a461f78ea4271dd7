"""The three DAGs run for real (dag.test()) against loopback feeds and the fake Slack Web API.

The Slack side goes through the Slack provider's connection `slack_api_default` (its extras set
`base_url` to the fake) and the real slack-sdk client; the channel comes from the Airflow Variable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from racewatch.alerts.render import render_followup, render_release_root
from racewatch.store import alerts as outbox
from racewatch.store import db

from tests.conftest import sample_routes, write_sources
from tests.e2e.conftest import run_dags
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHAIN = ["racewatch_poll", "racewatch_classify", "racewatch_alert"]


def test_three_dags_store_stories_and_post_exact_payloads(airflow_home: Path, tmp_path: Path,
                                                          sample_server: FeedServer) -> None:
    sources = write_sources(tmp_path / "sources.yaml", sample_server, sample_routes())
    rw_home = tmp_path / "rw"
    with FakeSlack() as slack:
        env = {
            "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps(
                {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}),
            "AIRFLOW_VAR_RACEWATCH_SLACK_CHANNEL": "#ai-race",
            "RACEWATCH_HOME": str(rw_home),
            "RACEWATCH_SOURCES": str(sources),
            "RACEWATCH_ALERT_MAX_AGE_HOURS": "0",
        }
        result = run_dags(airflow_home, CHAIN, **env)
        assert {d: r["state"] for d, r in result.items()} == dict.fromkeys(CHAIN, "success")
        calls = list(slack.calls)

        with db.connect(rw_home / "racewatch.duckdb", read_only=True) as con:
            entries, stories = con.execute(
                "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM stories)").fetchone()
            keys = [r[0] for r in con.execute(
                "SELECT release_key FROM model_releases ORDER BY first_seen_at").fetchall()]
            views = {k: outbox.release_view(con, k) for k in keys}
            replies = con.execute(
                """SELECT a.release_key, a.entry_key, a.slack_ts, a.thread_ts FROM alerts a
                   WHERE kind = 'followup' ORDER BY created_at, alert_id""").fetchall()
            stories_by_key = {r[1]: outbox.story_view(con, r[1]) for r in replies}
            statuses = {r[0] for r in con.execute("SELECT DISTINCT status FROM alerts").fetchall()}

        assert entries >= 70 and stories == entries
        assert {"alibaba/qwen3-max", "moonshot-ai/kimi-k2.5"} <= set(keys)
        assert statuses == {"sent"}

        posts = [p for m, p in calls if m == "chat.postMessage"]
        roots = [p for p in posts if "thread_ts" not in p]
        threaded = [p for p in posts if "thread_ts" in p]
        # Exactly one root per release, with exactly the payload racewatch renders from the ledger.
        assert len(roots) == len(keys)
        by_alert = {p["metadata"]["event_payload"]["alert_id"]: p for p in posts}
        for key in keys:
            root = by_alert[f"root:{key}"]
            assert root == {"channel": "#ai-race", **render_release_root(views[key]), "unfurl_links": False,
                            "unfurl_media": False,
                            "metadata": {"event_type": "racewatch_alert", "event_payload": {"alert_id": f"root:{key}"}}}
        kimi = by_alert["root:moonshot-ai/kimi-k2.5"]
        header = {"type": "plain_text", "text": "Kimi K2.5 by Moonshot AI", "emoji": True}
        assert kimi["blocks"][0] == {"type": "header", "text": header}
        # Every later outlet is a reply in its release's thread.
        assert len(threaded) == len(replies)
        for release_key, entry_key, _ts, thread_ts in replies:
            reply = by_alert[f"followup:{release_key}:{entry_key}"]
            assert reply["thread_ts"] == thread_ts
            assert {k: reply[k] for k in ("text", "blocks")} == render_followup(stories_by_key[entry_key])
        updates = [p for m, p in calls if m == "chat.update"]
        assert len(updates) == len({r[0] for r in replies})
