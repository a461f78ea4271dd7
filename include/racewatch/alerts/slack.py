"""Slack Web API side of racewatch alerting (slack-sdk's ``WebClient``; never imports Airflow).

* :func:`build_client` / :func:`client_from_env`: a ``WebClient`` with slack-sdk's own retry handlers
  (rate limits honour ``Retry-After``; 500/503 and connection errors are retried a couple of times).
* :class:`SlackPoster`: posts, updates and reconciles alerts in one channel, paces posts to about one a
  second, and turns Slack failures into two exceptions callers can act on:
  :class:`SlackConfigError` (fix the setup; retrying will not help) and :class:`SlackTransientError`
  (retry later).

Idempotency. ``chat.postMessage`` is not idempotent, so a post is never retried blindly after the request
may have reached Slack: the connection-error retry handler only retries it when the request provably was
not sent (connect/send failed). When the connection drops after sending, :class:`SlackTransientError` is
raised with ``delivery_unknown=True``; every post carries message metadata
``{"event_type": "racewatch_alert", "event_payload": {"alert_id": ...}}`` so :meth:`SlackPoster.find_posted`
can look the message up before anyone posts it again. (A 500/503 is retried by the SDK as asked of it;
Slack answers those before accepting a message in practice, but it is the one remaining duplicate window.)
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from racewatch.errors import RacewatchError

__all__ = [
    "ALERT_EVENT_TYPE",
    "CONFIG_ERRORS",
    "DEFAULT_BASE_URL",
    "PostResult",
    "SlackAlertError",
    "SlackConfigError",
    "SlackPoster",
    "SlackTransientError",
    "build_client",
    "client_from_env",
    "poster_from_env",
    "retry_handlers",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://slack.com/api/"
ALERT_EVENT_TYPE = "racewatch_alert"
ENV_TOKEN = "RACEWATCH_SLACK_TOKEN"
ENV_CHANNEL = "RACEWATCH_SLACK_CHANNEL"
ENV_BASE_URL = "RACEWATCH_SLACK_BASE_URL"
DRY_RUN_CHANNEL = "(dry-run)"

# Slack error codes that mean "the setup is wrong": retrying cannot help, a human must act.
_CONFIG_HINTS = {
    "invalid_auth": "bad bot token; check RACEWATCH_SLACK_TOKEN / the slack_api_default connection",
    "not_authed": "no bot token was sent; check RACEWATCH_SLACK_TOKEN / the slack_api_default connection",
    "token_revoked": "the bot token was revoked; reinstall the app and update the token",
    "token_expired": "the bot token expired; refresh it and update the token",
    "account_inactive": "the bot's Slack account or workspace is deactivated",
    "not_allowed_token_type": "use a bot token (xoxb-...)",
    "missing_scope": "the app lacks an OAuth scope (chat:write, channels:history; channels:read for names)",
    "channel_not_found": "no such channel visible to the bot; check the channel ID or name",
    "not_in_channel": "the bot is not a member of the channel; /invite it there",
    "is_archived": "the channel is archived; unarchive it or configure another",
    "restricted_action": "workspace settings forbid the bot to post in this channel",
}
CONFIG_ERRORS = frozenset(_CONFIG_HINTS)

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_NON_IDEMPOTENT_METHODS = frozenset({"chat.postMessage"})
_MAX_PAGES = 20


# ---------------------------------------------------------------------------------------------------------
# errors


class SlackAlertError(RacewatchError):
    """Base class: a Slack call for racewatch failed. The SDK/transport error is chained as ``__cause__``."""

    def __init__(self, message: str, *, method: str, channel: str | None, error: str | None) -> None:
        super().__init__(message)
        self.method = method
        self.channel = channel
        self.error = error  # Slack's error code ("invalid_auth", "ratelimited", ...) or the exception type


class SlackConfigError(SlackAlertError):
    """The Slack setup is wrong (token, scopes, channel). Not retried; a human has to fix it."""


class SlackTransientError(SlackAlertError):
    """Slack or the network failed after the SDK's retries; try again later.

    ``retry_after``: seconds Slack asked us to wait (429), when known.
    ``delivery_unknown``: a post may have reached Slack (the connection dropped after the request was
    sent); call :meth:`SlackPoster.find_posted` before posting it again.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        channel: str | None,
        error: str | None,
        status: int | None = None,
        retry_after: float | None = None,
        delivery_unknown: bool = False,
    ) -> None:
        super().__init__(message, method=method, channel=channel, error=error)
        self.status = status
        self.retry_after = retry_after
        self.delivery_unknown = delivery_unknown


# ---------------------------------------------------------------------------------------------------------
# client


def _api_method(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


class _PostSafeConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """slack-sdk's connection-error handler, minus blind retries of non-idempotent posts.

    urllib wraps failures while connecting or sending in ``URLError``, so the request never fully reached
    the server and a retry is safe. A reset or disconnect while waiting for the response
    (``RemoteDisconnected``, ``ConnectionResetError``) may come after Slack accepted the message: retrying
    ``chat.postMessage`` then could post it twice, so that case is left to the caller (reconcile first).
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        if _api_method(request.url) in _NON_IDEMPOTENT_METHODS:
            return isinstance(error, URLError)
        return True


class _BoundedRateLimitErrorRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler (sleeps for Retry-After), but gives up when Slack asks for a long wait.

    Sleeping minutes inside a task helps nobody; the caller gets ``SlackTransientError.retry_after``.
    """

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        assert response is not None  # guaranteed by the parent's 429 check
        raw = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        if raw is None:
            return True  # the SDK waits ~1-2 s
        try:
            # the SDK parses it with int(); anything else would raise inside its retry loop
            return int(raw) <= self.max_wait
        except ValueError:
            return False


def _normalize_base_url(base_url: str | None) -> str:
    if base_url is None or not base_url.strip():
        return DEFAULT_BASE_URL
    base_url = base_url.strip()
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Slack base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}")
    return base_url if base_url.endswith("/") else base_url + "/"


def retry_handlers(
    max_retries: int = 2,
    max_rate_limit_wait: float = 30.0,
    retry_interval: RetryIntervalCalculator | None = None,
) -> list[RetryHandler]:
    """racewatch's retry policy for any ``WebClient`` (ours or the Airflow SlackHook's).

    429 honours Retry-After (up to ``max_rate_limit_wait``), 500/503 are retried, and connection errors
    only when the request provably never reached Slack, so a post is never sent twice blindly.
    """
    interval_kw: dict[str, Any] = {} if retry_interval is None else {"interval_calculator": retry_interval}
    return [
        _BoundedRateLimitErrorRetryHandler(max_retry_count=max_retries, max_wait=max_rate_limit_wait),
        ServerErrorRetryHandler(max_retry_count=max_retries, **interval_kw),
        _PostSafeConnectionErrorRetryHandler(max_retry_count=max_retries, **interval_kw),
    ]


def build_client(
    token: str,
    base_url: str | None = None,
    timeout: float = 10,
    *,
    max_retries: int = 2,
    max_rate_limit_wait: float = 30.0,
    retry_interval: RetryIntervalCalculator | None = None,
    logger: logging.Logger | None = None,
) -> WebClient:
    """A ``WebClient`` with slack-sdk's retry handlers for 429 (honouring Retry-After), 500/503 and
    connection errors, each retried at most ``max_retries`` times in total per call.

    ``base_url`` (e.g. a loopback fake in tests) is normalized to end with "/". ``retry_interval`` sets the
    back-off for 5xx/connection retries (slack-sdk's exponential back-off with jitter by default).
    """
    if not token or not token.strip():
        raise ValueError("a Slack token is required (None/empty means dry-run: do not build a client)")
    base_url = _normalize_base_url(base_url)
    handlers = retry_handlers(max_retries, max_rate_limit_wait, retry_interval)
    client = WebClient(
        token=token.strip(),
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # used as a float by urllib
        retry_handlers=handlers,
        logger=logger,
    )
    # slack-sdk takes HTTP(S)_PROXY from the environment but ignores NO_PROXY; honour it (loopback fakes).
    host = urlsplit(base_url).hostname or ""
    if client.proxy and urllib.request.proxy_bypass(host):
        client.proxy = None
    return client


def client_from_env(env: Mapping[str, str] = os.environ) -> WebClient | None:
    """``RACEWATCH_SLACK_TOKEN`` (+ ``RACEWATCH_SLACK_BASE_URL``) -> client; None (dry-run) if no token."""
    token = (env.get(ENV_TOKEN) or "").strip()
    if not token:
        return None
    return build_client(token, base_url=env.get(ENV_BASE_URL) or None)


def poster_from_env(env: Mapping[str, str] = os.environ, **poster_kwargs: Any) -> SlackPoster:
    """A :class:`SlackPoster` from ``RACEWATCH_SLACK_TOKEN/_CHANNEL/_BASE_URL``; dry-run without a token."""
    client = client_from_env(env)
    channel = (env.get(ENV_CHANNEL) or "").strip()
    if client is not None and not channel:
        raise SlackConfigError(
            f"{ENV_TOKEN} is set but {ENV_CHANNEL} is not; set it to the alert channel's ID (C...) or #name",
            method="config",
            channel=None,
            error="channel_not_configured",
        )
    return SlackPoster(client, channel or DRY_RUN_CHANNEL, **poster_kwargs)


# ---------------------------------------------------------------------------------------------------------
# poster


@dataclass(frozen=True)
class PostResult:
    """What happened to one post/update. ``payload`` is the exact JSON sent (or that would have been)."""

    status: Literal["sent", "dry_run"]
    ts: str | None
    channel: str
    payload: dict[str, Any] = field(repr=False)


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    if not headers:
        return None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            if isinstance(v, list | tuple):
                v = v[0] if v else None
            try:
                return float(v)
            except (TypeError, ValueError):
                return None
    return None


def _json_copy(value: Any) -> Any:
    """A deep copy that is also proof the value is plain JSON (what slack-sdk will ``json.dumps``)."""
    return json.loads(json.dumps(value, ensure_ascii=False))


class SlackPoster:
    """Posts racewatch alerts to one channel.

    ``client=None`` is dry-run: nothing is sent, the Block Kit JSON is logged and results say "dry_run".
    Posts are paced to one per ``min_interval`` seconds (Slack allows about one message a second per
    channel); ``clock``/``sleep`` are injectable so tests need not wait.

    ``channel`` may be an ID ("C0123...") or a name ("#ai-race"). ``chat.update`` and history need the ID:
    it is taken from the last post's response or, failing that, looked up once with ``conversations.list``.
    """

    def __init__(
        self,
        client: WebClient | None,
        channel: str,
        *,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        if not channel or not channel.strip():
            raise ValueError("a Slack channel (ID or #name) is required")
        self.client = client
        self.channel = channel.strip()
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._log = logger or log
        self._lock = threading.Lock()
        self._last_post_at: float | None = None
        self._channel_id: str | None = self.channel if _CHANNEL_ID.fullmatch(self.channel) else None

    @property
    def dry_run(self) -> bool:
        return self.client is None

    # -- public API --------------------------------------------------------------------------------------

    def post(
        self,
        payload: Mapping[str, Any],
        *,
        thread_ts: str | None = None,
        client_msg_id: str | None = None,
    ) -> PostResult:
        """``chat.postMessage`` of a rendered ``{"text", "blocks"}`` payload (a reply with ``thread_ts``).

        ``client_msg_id`` (racewatch's alert id) is attached as message metadata so the message can be
        found again by :meth:`find_posted` if we crash or lose the response after Slack accepted it.
        """
        body: dict[str, Any] = {"channel": self.channel, **_json_copy(_message_fields(payload))}
        if thread_ts:
            body["thread_ts"] = thread_ts
        body["unfurl_links"] = False
        body["unfurl_media"] = False
        if client_msg_id:
            body["metadata"] = {"event_type": ALERT_EVENT_TYPE, "event_payload": {"alert_id": client_msg_id}}

        if self.client is None:
            self._log_dry_run("chat.postMessage", body)
            return PostResult("dry_run", None, self.channel, body)

        self._pace()
        client = self.client
        resp = self._call("chat.postMessage", self.channel, lambda: client.chat_postMessage(**body))
        channel_id = resp.get("channel") or self.channel
        if _CHANNEL_ID.fullmatch(channel_id):
            self._channel_id = channel_id
        return PostResult("sent", resp.get("ts"), channel_id, body)

    def update(self, ts: str, payload: Mapping[str, Any], *, channel: str | None = None) -> PostResult:
        """``chat.update`` of the message at ``ts`` (e.g. the root with a new outlet count).

        Message metadata is left as it was (Slack keeps it when ``metadata`` is not sent).
        """
        if not ts:
            raise ValueError("update() needs the ts of the message to update")
        if self.client is None:
            body = {"channel": channel or self.channel, "ts": ts, **_json_copy(_message_fields(payload))}
            self._log_dry_run("chat.update", body)
            return PostResult("dry_run", ts, body["channel"], body)
        channel_id = channel or self._resolve_channel_id()
        body = {"channel": channel_id, "ts": ts, **_json_copy(_message_fields(payload))}
        client = self.client
        resp = self._call("chat.update", channel_id, lambda: client.chat_update(**body))
        return PostResult("sent", resp.get("ts") or ts, resp.get("channel") or channel_id, body)

    def find_posted(self, alert_id: str, oldest: float, *, thread_ts: str | None = None) -> str | None:
        """The ts of the message posted with ``client_msg_id=alert_id`` since ``oldest`` (epoch seconds).

        Top-level messages are searched with ``conversations.history``; pass ``thread_ts`` to search the
        replies of one thread (``conversations.replies``) instead. None in dry-run or when not found.
        """
        if self.client is None:
            return None
        channel_id = self._resolve_channel_id()
        client = self.client
        method = "conversations.replies" if thread_ts else "conversations.history"
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            kwargs: dict[str, Any] = {
                "channel": channel_id,
                "oldest": f"{float(oldest):.6f}",
                "inclusive": True,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                kwargs["cursor"] = cursor
            if thread_ts:
                resp = self._call(
                    method, channel_id, lambda kw=kwargs: client.conversations_replies(ts=thread_ts, **kw)
                )
            else:
                resp = self._call(method, channel_id, lambda kw=kwargs: client.conversations_history(**kw))
            for message in resp.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == ALERT_EVENT_TYPE
                    and (metadata.get("event_payload") or {}).get("alert_id") == alert_id
                ):
                    return message.get("ts")
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        self._log.warning("find_posted(%s): gave up after %d pages of %s", alert_id, _MAX_PAGES, method)
        return None

    # -- internals ---------------------------------------------------------------------------------------

    def _log_dry_run(self, method: str, body: dict[str, Any]) -> None:
        self._log.info(
            "Slack dry-run (no token): %s not sent: %s",
            method,
            json.dumps(body, ensure_ascii=False, sort_keys=True),
        )

    def _pace(self) -> None:
        if self.min_interval <= 0:
            return
        with self._lock:
            now = self._clock()
            if self._last_post_at is not None:
                wait = self._last_post_at + self.min_interval - now
                if wait > 0:
                    self._sleep(wait)
                    now = max(self._clock(), self._last_post_at + self.min_interval)
            self._last_post_at = now

    def _resolve_channel_id(self) -> str:
        if self._channel_id:
            return self._channel_id
        assert self.client is not None
        client = self.client
        name = self.channel.lstrip("#")
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            kwargs: dict[str, Any] = {"types": "public_channel,private_channel", "limit": 1000}
            if cursor:
                kwargs["cursor"] = cursor
            resp = self._call("conversations.list", self.channel, lambda kw=kwargs: client.conversations_list(**kw))
            for ch in resp.get("channels") or []:
                if ch.get("name") == name:
                    self._channel_id = ch["id"]
                    return ch["id"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        raise SlackConfigError(
            f"Slack channel {self.channel!r} not found by name (conversations.list); "
            "configure its ID (C...) instead, or check the name and the bot's membership",
            method="conversations.list",
            channel=self.channel,
            error="channel_not_found",
        )

    def _call(self, method: str, channel: str, fn: Callable[[], Any]) -> Any:
        """Run one SDK call (retries happen inside it) and translate failures."""
        shown = channel if channel == self.channel else f"{self.channel} ({channel})"
        try:
            return fn()
        except SlackApiError as exc:
            resp = exc.response
            data = resp.data if isinstance(getattr(resp, "data", None), dict) else {}
            status = getattr(resp, "status_code", None)
            code = data.get("error") or (f"http_{status}" if status else "unknown_error")
            if code in CONFIG_ERRORS:
                hint = _CONFIG_HINTS[code]
                if code == "missing_scope" and data.get("needed"):
                    hint += f" (needed: {data['needed']})"
                raise SlackConfigError(
                    f"Slack {method} for channel {shown} failed: {code}: {hint}",
                    method=method,
                    channel=channel,
                    error=code,
                ) from exc
            retry_after = _retry_after(getattr(resp, "headers", None)) if status == 429 else None
            wait = f", retry after {retry_after:g}s" if retry_after is not None else ""
            raise SlackTransientError(
                f"Slack {method} for channel {shown} failed: {code} (HTTP {status}{wait}) after SDK retries",
                method=method,
                channel=channel,
                error=code,
                status=status,
                retry_after=retry_after,
            ) from exc
        except (OSError, http.client.HTTPException, SlackClientError) as exc:
            # URLError: the request was not (fully) sent. Anything else (disconnect/reset/timeout while
            # waiting for the answer) may come after Slack accepted the post.
            unknown = method in _NON_IDEMPOTENT_METHODS and not isinstance(exc, URLError)
            what = "; it may have been delivered: reconcile with find_posted() before re-posting" if unknown else ""
            raise SlackTransientError(
                f"Slack {method} for channel {shown} failed: {type(exc).__name__}: {_one_line(exc)}{what}",
                method=method,
                channel=channel,
                error=type(exc).__name__,
                delivery_unknown=unknown,
            ) from exc


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _message_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The message part of a rendered payload (``text``/``blocks``, plus any other chat.* fields given)."""
    fields = {k: v for k, v in payload.items() if v is not None and k not in ("channel", "ts", "thread_ts")}
    if not fields.get("text") and not fields.get("blocks"):
        raise ValueError("a Slack message payload needs 'text' and/or 'blocks'")
    return fields
