"""A loopback fake of the Slack Web API for tests (stdlib only).

    with FakeSlack() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        client.chat_postMessage(channel="#ai-race", text="hi")
        assert slack.calls == [("chat.postMessage", {"channel": "#ai-race", "text": "hi"})]

Implements ``auth.test``, ``chat.postMessage``, ``chat.update``, ``conversations.history``,
``conversations.replies`` and ``conversations.list`` closely enough for racewatch: Bearer-token auth
(``not_authed`` / ``invalid_auth``), channel IDs vs names (``chat.postMessage`` accepts ``#name``; the other
methods need the ID, like Slack), ``channel_not_found`` / ``not_in_channel`` / ``is_archived``, message
metadata returned only with ``include_all_metadata``, ``oldest``/``latest``/``inclusive`` and cursor paging.
Bodies may be JSON (what slack-sdk sends for blocks) or form-encoded (slack-sdk's default for the rest).

State, all guarded by one lock and safe to read after a call returns:

* ``calls``: ``[(method, payload)]`` for every request received, faulted ones included; ``payload`` is the
  parsed JSON body, or the form/query fields as ``{name: str}``. ``call_times``: ``time.monotonic()`` of each.
* ``messages``: ``{channel_id: [message, ...]}`` top-level messages in post order.
* ``threads``: ``{(channel_id, parent_ts): [reply, ...]}``.

Faults, consumed one per request in order (whatever the method): ``inject(("rate_limited", 1))``,
``("server_error",)``, ``("api_error", "invalid_auth")``, ``("drop_after_accept",)`` (handle the call, then
close the connection without answering: the client sees a disconnect although Slack accepted the post).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FAULT_KINDS", "FakeSlack", "SlackFault"]

FAULT_KINDS = frozenset({"rate_limited", "server_error", "api_error", "drop_after_accept"})

TEAM_ID = "T0RACEWATCH"
BOT_USER_ID = "U0RACEWATCH"
BOT_ID = "B0RACEWATCH"


class SlackFault(Exception):
    """Raised inside a method implementation to answer ``{"ok": false, "error": code}``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


class FakeSlack:
    """Context manager running a fake Slack Web API on ``127.0.0.1`` (random port) in a thread."""

    DEFAULT_CHANNEL_ID = "C0RACEWATCH"
    DEFAULT_CHANNEL_NAME = "ai-race"

    def __init__(self, token: str = "xoxb-racewatch-test", *, page_size: int | None = None) -> None:
        self.token = token
        self.page_size = page_size  # caps "limit" to force cursor paging in tests
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.faults: deque[tuple[Any, ...]] = deque()
        self.channels: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._last_ts = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_channel(self.DEFAULT_CHANNEL_NAME, self.DEFAULT_CHANNEL_ID)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeSlack is not running (use it as a context manager)"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    # -- test helpers ------------------------------------------------------------------------------------

    def add_channel(
        self, name: str, channel_id: str | None = None, *, archived: bool = False, member: bool = True
    ) -> str:
        with self._lock:
            channel_id = channel_id or f"C{len(self.channels) + 1:08d}"
            self.channels[channel_id] = {
                "name": name.lstrip("#"),
                "is_archived": archived,
                "is_member": member,
            }
            self.messages.setdefault(channel_id, [])
            return channel_id

    def inject(self, *faults: tuple[Any, ...]) -> None:
        """Queue faults for the next requests, one per request."""
        for fault in faults:
            if not fault or fault[0] not in FAULT_KINDS:
                raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self.faults.extend(faults)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [payload for m, payload in self.calls if m == method]

    def thread(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.threads.get((channel_id, ts), []))

    def all_messages(self, channel_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Top-level messages and replies (of one channel, or all)."""
        with self._lock:
            for ch, msgs in self.messages.items():
                if channel_id in (None, ch):
                    yield from msgs
            for (ch, _), replies in self.threads.items():
                if channel_id in (None, ch):
                    yield from replies

    # -- request handling (called from server threads) ---------------------------------------------------

    def _record(self, method: str, payload: dict[str, Any]) -> tuple[Any, ...] | None:
        with self._lock:
            self.calls.append((method, payload))
            self.call_times.append(time.monotonic())
            return self.faults.popleft() if self.faults else None

    def _dispatch(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        impl = _METHODS.get(method)
        if impl is None:
            raise SlackFault("unknown_method")
        if not token:
            raise SlackFault("not_authed")
        if token != self.token:
            raise SlackFault("invalid_auth")
        with self._lock:
            return {"ok": True, **impl(self, args)}

    def _next_ts(self) -> str:
        ts = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = ts
        return f"{ts:.6f}"

    def _channel(self, ref: Any, *, allow_name: bool, write: bool) -> str:
        ref = str(ref or "")
        if ref in self.channels:
            channel_id = ref
        elif allow_name and ref:
            name = ref.lstrip("#")
            channel_id = next((cid for cid, c in self.channels.items() if c["name"] == name), "")
        else:
            channel_id = ""
        if not channel_id:
            raise SlackFault("channel_not_found")
        info = self.channels[channel_id]
        if write and info["is_archived"]:
            raise SlackFault("is_archived")
        if not info["is_member"]:
            raise SlackFault("not_in_channel")
        return channel_id

    def _find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        for msg in self.messages.get(channel_id, []):
            if msg["ts"] == ts:
                return msg
        for (ch, _), replies in self.threads.items():
            if ch == channel_id:
                for msg in replies:
                    if msg["ts"] == ts:
                        return msg
        return None


def _json_field(args: dict[str, Any], key: str) -> Any:
    """Form-encoded bodies carry blocks/metadata as JSON strings; JSON bodies carry them as objects."""
    value = args.get(key)
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackFault(f"invalid_{key}") from None
    return value


def _public(message: dict[str, Any], *, with_metadata: bool) -> dict[str, Any]:
    out = {k: v for k, v in message.items() if not k.startswith("_")}
    if not with_metadata:
        out.pop("metadata", None)
    return out


def _auth_test(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://racewatch-test.slack.com/",
        "team": "racewatch-test",
        "user": "racewatch",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
    }


def _post_message(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel_id = fake._channel(args.get("channel"), allow_name=True, write=True)
    text = args.get("text")
    blocks = _json_field(args, "blocks")
    if not text and not blocks:
        raise SlackFault("no_text")
    thread_ts = args.get("thread_ts") or None
    parent = None
    if thread_ts:
        parent = next((m for m in fake.messages[channel_id] if m["ts"] == thread_ts), None)
        if parent is None:  # the fake's choice: be strict so a bad thread_ts shows up in tests
            raise SlackFault("thread_not_found")
    message: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "team": TEAM_ID,
        "text": text or "",
        "ts": fake._next_ts(),
    }
    if blocks:
        message["blocks"] = blocks
    metadata = _json_field(args, "metadata")
    if metadata:
        if not isinstance(metadata, dict) or "event_type" not in metadata or "event_payload" not in metadata:
            raise SlackFault("invalid_metadata_format")
        message["metadata"] = metadata
    if parent is not None:
        message["thread_ts"] = thread_ts
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        parent["latest_reply"] = message["ts"]
        fake.threads.setdefault((channel_id, thread_ts), []).append(message)
    else:
        fake.messages[channel_id].append(message)
    return {"channel": channel_id, "ts": message["ts"], "message": _public(message, with_metadata=False)}


def _update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel_id = fake._channel(args.get("channel"), allow_name=False, write=True)
    ts = str(args.get("ts") or "")
    message = fake._find(channel_id, ts)
    if message is None:
        raise SlackFault("message_not_found")
    text = args.get("text")
    blocks = _json_field(args, "blocks")
    if not text and not blocks:
        raise SlackFault("no_text")
    message["text"] = text or ""
    if blocks is not None:
        message["blocks"] = blocks
    metadata = _json_field(args, "metadata")
    if metadata:
        message["metadata"] = metadata
    message["edited"] = {"user": BOT_USER_ID, "ts": fake._next_ts()}
    return {
        "channel": channel_id,
        "ts": ts,
        "text": message["text"],
        "message": _public(message, with_metadata=False),
    }


def _window(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    inclusive = _truthy(args.get("inclusive"))
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or "inf")

    def inside(msg: dict[str, Any]) -> bool:
        ts = float(msg["ts"])
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in messages if inside(m)]


def _page(fake: FakeSlack, items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    limit = int(args.get("limit") or 100)
    if fake.page_size:
        limit = min(limit, fake.page_size)
    start = int(args.get("cursor") or 0)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return {
        "page": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _history(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel_id = fake._channel(args.get("channel"), allow_name=False, write=False)
    with_metadata = _truthy(args.get("include_all_metadata"))
    newest_first = list(reversed(_window(fake.messages[channel_id], args)))
    paged = _page(fake, newest_first, args)
    return {
        "messages": [_public(m, with_metadata=with_metadata) for m in paged["page"]],
        "has_more": paged["has_more"],
        "response_metadata": paged["response_metadata"],
    }


def _replies(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel_id = fake._channel(args.get("channel"), allow_name=False, write=False)
    ts = str(args.get("ts") or "")
    parent = next((m for m in fake.messages[channel_id] if m["ts"] == ts), None)
    if parent is None:
        raise SlackFault("thread_not_found")
    with_metadata = _truthy(args.get("include_all_metadata"))
    thread = [parent, *_window(fake.threads.get((channel_id, ts), []), args)]
    paged = _page(fake, thread, args)
    return {
        "messages": [_public(m, with_metadata=with_metadata) for m in paged["page"]],
        "has_more": paged["has_more"],
        "response_metadata": paged["response_metadata"],
    }


def _conversations_list(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channels = [
        {
            "id": cid,
            "name": c["name"],
            "is_channel": True,
            "is_archived": c["is_archived"],
            "is_member": c["is_member"],
        }
        for cid, c in fake.channels.items()
        if not (_truthy(args.get("exclude_archived")) and c["is_archived"])
    ]
    paged = _page(fake, channels, args)
    return {"channels": paged["page"], "response_metadata": paged["response_metadata"]}


_METHODS = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "conversations.history": _history,
    "conversations.replies": _replies,
    "conversations.list": _conversations_list,
}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake: FakeSlack = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        method = url.path.rstrip("/").rsplit("/", 1)[-1]
        if not url.path.startswith("/api/"):
            self._send(404, {"ok": False, "error": "unknown_method"})
            return
        try:
            payload = self._payload(url.query)
        except ValueError as exc:
            self._send(400, {"ok": False, "error": "invalid_request", "detail": str(exc)})
            return

        fault = fake._record(method, payload)
        kind = fault[0] if fault else None
        if kind == "rate_limited":
            retry_after = fault[1] if len(fault) > 1 else 1
            self._send(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": str(retry_after)})
            return
        if kind == "server_error":
            self._send(500, None, raw=b"<html><body>500 Internal Server Error</body></html>", ctype="text/html")
            return
        if kind == "api_error":
            self._send(200, {"ok": False, "error": fault[1] if len(fault) > 1 else "internal_error"})
            return

        token = self._token(payload)
        try:
            result = fake._dispatch(method, payload, token)
        except SlackFault as err:
            result = {"ok": False, "error": err.code, **err.extra}
        if kind == "drop_after_accept":
            self.close_connection = True  # handled; now hang up without a status line
            return
        self._send(200, result)

    def _payload(self, query: str) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        payload: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if not raw:
            return payload
        if ctype == "application/json":
            body = json.loads(raw.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            payload.update(body)
        elif ctype in ("application/x-www-form-urlencoded", ""):
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
            payload.update({k: v[-1] for k, v in form.items()})
        else:
            raise ValueError(f"unsupported Content-Type {ctype!r}")
        return payload

    def _token(self, payload: dict[str, Any]) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        token = payload.get("token")
        return str(token) if token else None

    def _send(
        self,
        status: int,
        body: dict[str, Any] | None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        ctype: str = "application/json; charset=utf-8",
    ) -> None:
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
