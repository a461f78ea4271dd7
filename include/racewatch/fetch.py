"""Fetching feed bytes politely and within bounds.

racewatch owns its HTTP client instead of letting feedparser fetch URLs, because only here can we
guarantee the things a poller running unattended needs: a wall-clock deadline per fetch (a server
that drips one byte a second cannot hang a poll), a body-size cap applied after decompression
(gzip bombs), conditional GET with the stored validators, per-hop private-address checks on
redirects, and an outcome that never confuses an error with an empty feed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from threading import BoundedSemaphore, Lock
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from racewatch.settings import USER_AGENT
from racewatch.sources import Source

FetchStatus = Literal["ok", "not_modified", "unchanged", "error", "gone"]
MAX_REDIRECTS = 5
ACCEPT = "application/atom+xml, application/rss+xml, application/rdf+xml, application/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class Validators:
    """What we remember about a feed between fetches to make the next one cheap."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one fetch attempt; ``status`` is never 'ok' unless we hold a complete body."""

    source_id: str
    url: str
    status: FetchStatus
    final_url: str | None = None
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    validators: Validators = field(default_factory=Validators)
    error: str | None = None
    elapsed_ms: int = 0
    permanent_redirect: str | None = None
    retry_after_s: float | None = None
    max_age_s: float | None = None


class FetchError(Exception):
    """A fetch failed for a reason worth one line in ``feed_health.last_error``."""


@dataclass(frozen=True)
class FetchOptions:
    timeout_s: float = 20.0
    max_body_bytes: int = 10 * 1024 * 1024
    allow_private_networks: bool = False
    user_agent: str = USER_AGENT


def is_private_host(host: str) -> bool:
    """True when any address the host resolves to is loopback, private, link-local or reserved."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_reserved or (
            addr.is_unspecified or addr.is_multicast
        ):
            return True
    return False


def parse_retry_after(value: str | None) -> float | None:
    """Parse Retry-After as seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _max_age(cache_control: str | None) -> float | None:
    for part in (cache_control or "").split(","):
        name, _, val = part.strip().partition("=")
        if name.lower() == "max-age" and val.strip().isdigit():
            return float(val)
    return None


def _read_file(source: Source, previous: Validators, started: float) -> FetchResult:
    """Local files behave like a server that ignores validators: unchanged bytes are 'unchanged'."""
    try:
        body = Path(source.url).read_bytes()
    except OSError as exc:
        return FetchResult(source.id, source.url, "error", error=f"cannot read file: {exc.strerror or exc}")
    digest = hashlib.sha256(body).hexdigest()
    status: FetchStatus = "unchanged" if digest == previous.body_hash else "ok"
    return FetchResult(
        source.id,
        source.url,
        status,
        final_url=Path(source.url).as_uri(),
        body=body if status == "ok" else None,
        validators=Validators(body_hash=digest),
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )


def fetch(
    source: Source,
    previous: Validators,
    options: FetchOptions,
    client: httpx.Client,
) -> FetchResult:
    """Fetch one source, following at most 5 redirects, never raising for network or HTTP errors."""
    started = time.monotonic()
    if source.is_file:
        return _read_file(source, previous, started)
    deadline = started + options.timeout_s
    # allow_private covers the source's own host only: a redirect to another private host is refused.
    private_ok_host = urlsplit(source.url).hostname if source.allow_private else None
    url = source.url
    permanent: str | None = None
    all_permanent = True
    headers = {"User-Agent": options.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate, br"}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified

    def result(status: FetchStatus, **kw: object) -> FetchResult:
        return FetchResult(
            source.id,
            source.url,
            status,
            permanent_redirect=permanent,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            **kw,  # type: ignore[arg-type]
        )

    try:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(f"refusing non-http(s) URL {url!r}")
            if (not options.allow_private_networks and parts.hostname != private_ok_host
                    and is_private_host(parts.hostname)):
                raise FetchError(f"refusing private/loopback address {parts.hostname!r} (set allow_private)")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"deadline of {options.timeout_s:g}s exceeded")
            timeout = httpx.Timeout(min(remaining, options.timeout_s))
            with client.stream("GET", url, headers=headers, timeout=timeout) as resp:
                if resp.status_code in (301, 302, 303, 307, 308):
                    location = resp.headers.get("location")
                    if not location:
                        raise FetchError(f"HTTP {resp.status_code} redirect without Location")
                    url = urljoin(url, location)
                    # Only an unbroken chain of permanent redirects may move the stored URL.
                    all_permanent = all_permanent and resp.status_code in (301, 308)
                    if all_permanent:
                        permanent = url
                    continue
                code = resp.status_code
                common = {"final_url": str(resp.url), "http_status": code}
                if code == 304:
                    return result("not_modified", validators=previous, max_age_s=_max_age(
                        resp.headers.get("cache-control")), **common)
                if code == 410:
                    return result("gone", error="HTTP 410 Gone: source retired", **common)
                if code >= 400:
                    return result(
                        "error",
                        error=f"HTTP {code} {resp.reason_phrase}".strip(),
                        retry_after_s=parse_retry_after(resp.headers.get("retry-after")),
                        **common,
                    )
                body = _read_capped(resp.iter_bytes(), options.max_body_bytes, deadline, options.timeout_s)
                digest = hashlib.sha256(body).hexdigest()
                validators = Validators(
                    etag=resp.headers.get("etag"),
                    last_modified=resp.headers.get("last-modified"),
                    body_hash=digest,
                )
                status: FetchStatus = "unchanged" if digest == previous.body_hash else "ok"
                return result(
                    status,
                    body=body if status == "ok" else None,
                    content_type=resp.headers.get("content-type"),
                    validators=validators,
                    max_age_s=_max_age(resp.headers.get("cache-control")),
                    **common,
                )
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")
    except FetchError as exc:
        return result("error", error=str(exc))
    except httpx.TimeoutException:
        return result("error", error=f"timed out after {options.timeout_s:g}s")
    except httpx.HTTPError as exc:
        return result("error", error=f"{type(exc).__name__}: {exc}".splitlines()[0][:300])


def _read_capped(chunks: Iterable[bytes], cap: int, deadline: float, timeout_s: float) -> bytes:
    """Collect decoded bytes, failing past ``cap`` (after decompression) or past the deadline."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) > cap:
            raise FetchError(f"body larger than the {cap}-byte limit")
        if time.monotonic() > deadline:
            raise FetchError(f"deadline of {timeout_s:g}s exceeded while reading body")
    return bytes(buf)


def fetch_all(
    sources: list[Source],
    previous: dict[str, Validators],
    options: FetchOptions,
    *,
    max_workers: int = 16,
    per_host: int = 2,
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch many sources concurrently, bounded overall and per host, in input order.

    Threads (not asyncio) keep the library simple to call from a task; one slow host only ties up
    its own per-host slots, never the whole pool beyond them.
    """
    host_locks: dict[str, BoundedSemaphore] = {}
    guard = Lock()

    def host_slot(src: Source) -> BoundedSemaphore:
        host = "file" if src.is_file else (urlsplit(src.url).hostname or "")
        with guard:
            return host_locks.setdefault(host, BoundedSemaphore(per_host))

    limits = httpx.Limits(max_connections=max_workers * 2, max_keepalive_connections=max_workers)
    with httpx.Client(limits=limits, follow_redirects=False, http2=False) as client:

        def one(src: Source) -> FetchResult:
            with host_slot(src):
                res = fetch(src, previous.get(src.id, Validators()), options, client)
            if on_result:
                on_result(res)
            return res

        if len(sources) <= 1:
            return [one(s) for s in sources]
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="racewatch-fetch") as pool:
            return list(pool.map(one, sources))
