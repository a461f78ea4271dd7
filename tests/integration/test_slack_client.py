"""SlackPoster + the real slack-sdk WebClient against the loopback FakeSlack: exact payloads, retries,
error classification, reconciliation after a lost response, dry-run and pacing."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from racewatch.alerts.render import render_followup, render_release_root
from racewatch.alerts.slack import (
    ALERT_EVENT_TYPE,
    PostResult,
    SlackConfigError,
    SlackPoster,
    SlackTransientError,
    build_client,
    client_from_env,
    poster_from_env,
)
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

try:
    from tests.support.fake_slack import FakeSlack
except ModuleNotFoundError:  # pytest's rootdir is not on sys.path in every invocation
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.fake_slack import FakeSlack

CHANNEL_ID = FakeSlack.DEFAULT_CHANNEL_ID

RELEASE = {
    "release_key": "alibaba/qwen3-max-thinking",
    "org": "Alibaba",
    "model": "Qwen3-Max-Thinking",
    "country": "CN",
    "parameters": "1T",
    "open_weights": False,
    "claim": "Rivals GPT-5.2 and Gemini 3 Pro on reasoning benchmarks",
    "title": "Alibaba launches Qwen3-Max-Thinking, its most capable reasoning model",
    "url": "https://www.reuters.com/technology/alibaba-launches-qwen3-max-thinking-2026-01-26/",
    "source": "Reuters",
    "first_seen_at": datetime(2026, 1, 26, 14, 5, tzinfo=UTC),
    "reasons": ["org:Alibaba", "model:Qwen3-Max-Thinking"],
    "outlets": 1,
}
FOLLOWUP = {
    "title": "Qwen3-Max-Thinking tops Humanity's Last Exam with tools",
    "url": "https://www.scmp.com/tech/article/3340800/qwen3-max-thinking",
    "source": "SCMP",
}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake):
    # no trailing slash on purpose: build_client normalizes it
    return build_client(
        fake.token, fake.base_url.rstrip("/"), timeout=5, retry_interval=FixedValueRetryIntervalCalculator(0.01)
    )


@pytest.fixture
def poster(client):
    return SlackPoster(client, "#ai-race", min_interval=0)


def _alert_metadata(alert_id: str) -> dict:
    return {"event_type": ALERT_EVENT_TYPE, "event_payload": {"alert_id": alert_id}}


# ---------------------------------------------------------------------------------------------------------
# happy path


def test_post_update_and_threaded_reply_exact_payloads(fake, poster):
    root = render_release_root(RELEASE)
    posted = poster.post(root, client_msg_id="alert-1")

    expected_post = {
        "channel": "#ai-race",
        "text": root["text"],
        "blocks": root["blocks"],
        "unfurl_links": False,
        "unfurl_media": False,
        "metadata": _alert_metadata("alert-1"),
    }
    assert fake.calls == [("chat.postMessage", expected_post)]
    assert posted == PostResult("sent", fake.messages[CHANNEL_ID][0]["ts"], CHANNEL_ID, expected_post)
    assert posted.payload == expected_post
    stored = fake.messages[CHANNEL_ID][0]
    assert stored["blocks"] == root["blocks"] and stored["metadata"] == _alert_metadata("alert-1")

    # root updated with the running outlet count; chat.update needs the channel ID learned from the post
    updated_payload = render_release_root({**RELEASE, "outlets": 2})
    updated = poster.update(posted.ts, updated_payload)
    expected_update = {
        "channel": CHANNEL_ID,
        "ts": posted.ts,
        "text": updated_payload["text"],
        "blocks": updated_payload["blocks"],
    }
    assert fake.calls[-1] == ("chat.update", expected_update)
    assert updated == PostResult("sent", posted.ts, CHANNEL_ID, expected_update)
    assert "2 outlets" in fake.messages[CHANNEL_ID][0]["blocks"][2]["elements"][0]["text"]
    assert fake.messages[CHANNEL_ID][0]["metadata"] == _alert_metadata("alert-1")  # kept by update

    reply_payload = render_followup(FOLLOWUP)
    reply = poster.post(reply_payload, thread_ts=posted.ts, client_msg_id="alert-2")
    expected_reply = {
        "channel": "#ai-race",
        "text": reply_payload["text"],
        "blocks": reply_payload["blocks"],
        "thread_ts": posted.ts,
        "unfurl_links": False,
        "unfurl_media": False,
        "metadata": _alert_metadata("alert-2"),
    }
    assert fake.calls[-1] == ("chat.postMessage", expected_reply)
    assert reply.status == "sent" and reply.payload == expected_reply
    assert [m["ts"] for m in fake.thread(CHANNEL_ID, posted.ts)] == [reply.ts]
    assert len(fake.messages[CHANNEL_ID]) == 1  # the reply is in the thread, not the channel
    assert [m for m, _ in fake.calls] == ["chat.postMessage", "chat.update", "chat.postMessage"]


def test_auth_test_and_form_encoded_bodies(fake, client):
    assert client.auth_test()["user_id"] == "U0RACEWATCH"
    # slack-sdk sends form bodies when no blocks are involved; the fake takes both
    resp = client.api_call("chat.postMessage", data={"channel": CHANNEL_ID, "text": "form body"})
    assert resp["ok"] and fake.calls[-1] == ("chat.postMessage", {"channel": CHANNEL_ID, "text": "form body"})
    assert fake.messages[CHANNEL_ID][-1]["text"] == "form body"


# ---------------------------------------------------------------------------------------------------------
# retries


def test_rate_limit_retry_after_is_honoured_then_success(fake, poster):
    fake.inject(("rate_limited", 1))
    result = poster.post(render_release_root(RELEASE), client_msg_id="alert-429")

    assert result.status == "sent"
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages[CHANNEL_ID]) == 1  # one message only
    assert fake.call_times[1] - fake.call_times[0] >= 1.0


def test_server_error_is_retried(fake, poster):
    fake.inject(("server_error",))
    result = poster.post(render_release_root(RELEASE))

    assert result.status == "sent"
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages[CHANNEL_ID]) == 1


def test_server_errors_beyond_the_retry_budget_raise_transient(fake, poster):
    fake.inject(("server_error",), ("server_error",), ("server_error",))
    with pytest.raises(SlackTransientError) as info:
        poster.post(render_release_root(RELEASE))

    err = info.value
    assert err.status == 500 and err.method == "chat.postMessage" and not err.delivery_unknown
    assert isinstance(err.__cause__, SlackApiError)
    assert len(fake.calls) == 3  # first try + max_retries=2
    assert fake.messages[CHANNEL_ID] == []


def test_long_rate_limit_is_not_slept_in_process(fake, client):
    poster = SlackPoster(client, CHANNEL_ID, min_interval=0)
    fake.inject(("rate_limited", 120))
    started = time.monotonic()
    with pytest.raises(SlackTransientError) as info:
        poster.post({"text": "hello"})
    assert time.monotonic() - started < 1.0
    assert info.value.retry_after == 120 and info.value.error == "ratelimited"
    assert len(fake.calls) == 1


def test_connection_drop_is_retried_for_idempotent_update(fake, poster):
    posted = poster.post({"text": "v1"})
    fake.inject(("drop_after_accept",))
    poster.update(posted.ts, {"text": "v2"})
    assert len(fake.calls_to("chat.update")) == 2
    assert fake.messages[CHANNEL_ID][0]["text"] == "v2"


# ---------------------------------------------------------------------------------------------------------
# configuration errors


def test_invalid_auth_raises_config_error_quickly_without_retries(fake, poster):
    fake.inject(("api_error", "invalid_auth"))
    started = time.monotonic()
    with pytest.raises(SlackConfigError) as info:
        poster.post(render_release_root(RELEASE))

    assert time.monotonic() - started < 1.0
    assert len(fake.calls) == 1
    err = info.value
    assert err.error == "invalid_auth" and err.channel == "#ai-race"
    assert isinstance(err.__cause__, SlackApiError)
    message = str(err)
    assert "\n" not in message and "#ai-race" in message and "invalid_auth" in message
    assert fake.token not in message


def test_wrong_token_is_a_config_error(fake):
    poster = SlackPoster(build_client("xoxb-wrong", fake.base_url), "#ai-race", min_interval=0)
    with pytest.raises(SlackConfigError, match="invalid_auth"):
        poster.post({"text": "hello"})
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda f: None, "channel_not_found"),
        (lambda f: f.add_channel("alerts", member=False), "not_in_channel"),
        (lambda f: f.add_channel("alerts", archived=True), "is_archived"),
    ],
)
def test_channel_problems_are_config_errors(fake, client, setup, code):
    setup(fake)
    poster = SlackPoster(client, "#alerts", min_interval=0)
    with pytest.raises(SlackConfigError) as info:
        poster.post({"text": "hello"})
    assert info.value.error == code
    assert "#alerts" in str(info.value)
    assert len(fake.calls) == 1


# ---------------------------------------------------------------------------------------------------------
# reconciliation


def test_drop_after_accept_then_find_posted(fake, client):
    oldest = time.time() - 5
    poster = SlackPoster(client, "#ai-race", min_interval=0)
    fake.inject(("drop_after_accept",))
    with pytest.raises(SlackTransientError) as info:
        poster.post(render_release_root(RELEASE), client_msg_id="alert-7")

    err = info.value
    assert err.delivery_unknown and "find_posted" in str(err)
    assert err.__cause__ is not None
    # Slack accepted it, and the SDK did not post it a second time
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(fake.messages[CHANNEL_ID]) == 1

    # a fresh poster (say, the retried task) finds it by alert id; the channel name is resolved once
    again = SlackPoster(client, "#ai-race", min_interval=0)
    assert again.find_posted("alert-7", oldest) == fake.messages[CHANNEL_ID][0]["ts"]
    assert again.find_posted("alert-unknown", oldest) is None
    assert again.find_posted("alert-7", time.time() + 60) is None
    history = fake.calls_to("conversations.history")
    assert history[0]["include_all_metadata"] == "1" and history[0]["channel"] == CHANNEL_ID
    assert len(fake.calls_to("conversations.list")) == 1


def test_find_posted_pages_and_searches_threads():
    with FakeSlack(page_size=2) as fake:
        client = build_client(fake.token, fake.base_url)
        poster = SlackPoster(client, CHANNEL_ID, min_interval=0)
        oldest = time.time() - 5
        root = poster.post({"text": "root"}, client_msg_id="alert-root")
        for i in range(5):
            poster.post({"text": f"other {i}"}, client_msg_id=f"noise-{i}")
        fake.inject(("drop_after_accept",))
        with pytest.raises(SlackTransientError):
            poster.post({"text": "reply"}, thread_ts=root.ts, client_msg_id="alert-reply")

        assert poster.find_posted("alert-root", oldest) == root.ts  # oldest message: on the last page
        assert len(fake.calls_to("conversations.history")) == 3
        reply_ts = fake.thread(CHANNEL_ID, root.ts)[0]["ts"]
        assert poster.find_posted("alert-reply", oldest) is None  # replies are not in history
        assert poster.find_posted("alert-reply", oldest, thread_ts=root.ts) == reply_ts


# ---------------------------------------------------------------------------------------------------------
# dry-run, env, pacing


def test_dry_run_sends_nothing_and_logs_block_kit(fake, caplog):
    poster = SlackPoster(None, "#ai-race")
    payload = render_release_root(RELEASE)
    with caplog.at_level(logging.INFO, logger="racewatch.alerts.slack"):
        result = poster.post(payload, client_msg_id="alert-dry")
        updated = poster.update("1769436300.000100", payload)

    assert result.status == "dry_run" and result.ts is None and result.channel == "#ai-race"
    assert result.payload["blocks"] == payload["blocks"]
    assert result.payload["metadata"] == _alert_metadata("alert-dry")
    assert updated.status == "dry_run"
    assert poster.find_posted("alert-dry", 0) is None
    assert fake.calls == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "dry-run" in logged and '"type": "header"' in logged and "Qwen3-Max-Thinking by Alibaba" in logged


def test_client_from_env(fake):
    assert client_from_env({}) is None
    assert client_from_env({"RACEWATCH_SLACK_TOKEN": "  "}) is None
    client = client_from_env(
        {"RACEWATCH_SLACK_TOKEN": fake.token, "RACEWATCH_SLACK_BASE_URL": fake.base_url.rstrip("/")}
    )
    assert client is not None and client.base_url == fake.base_url
    assert client.auth_test()["ok"]
    assert build_client("xoxb-x").base_url == "https://slack.com/api/"
    with pytest.raises(ValueError):
        build_client("xoxb-x", base_url="ftp://example.com/api")


def test_poster_from_env(fake):
    dry = poster_from_env({})
    assert dry.dry_run and dry.post({"text": "x"}).status == "dry_run"
    with pytest.raises(SlackConfigError, match="RACEWATCH_SLACK_CHANNEL"):
        poster_from_env({"RACEWATCH_SLACK_TOKEN": fake.token})
    live = poster_from_env(
        {
            "RACEWATCH_SLACK_TOKEN": fake.token,
            "RACEWATCH_SLACK_BASE_URL": fake.base_url,
            "RACEWATCH_SLACK_CHANNEL": CHANNEL_ID,
        },
        min_interval=0,
    )
    assert live.post({"text": "x"}).status == "sent"


def test_posts_are_paced_about_one_per_second(fake, client):
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    poster = SlackPoster(client, CHANNEL_ID, clock=lambda: now[0], sleep=sleep)
    poster.post({"text": "one"})
    poster.post({"text": "two"})  # immediately after: waits a full second
    now[0] += 0.4
    poster.post({"text": "three"})  # 0.4 s later: waits the remaining 0.6 s
    now[0] += 5
    poster.post({"text": "four"})  # long after: no wait
    poster.update(fake.messages[CHANNEL_ID][0]["ts"], {"text": "edited"})  # updates are not paced

    assert sleeps == [pytest.approx(1.0), pytest.approx(0.6)]
    assert [m["text"] for m in fake.messages[CHANNEL_ID]] == ["edited", "two", "three", "four"]
