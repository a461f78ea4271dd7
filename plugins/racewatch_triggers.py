"""Event triggers for racewatch: the fast path that watches the feeds that matter most.

``FeedChangeTrigger`` runs in the Airflow triggerer as an ``AssetWatcher`` (see
``dags/racewatch_fastpath.py``). Every ``poke_interval`` seconds it sends one conditional GET per source
tagged ``fast`` in the sources file, all concurrently on one asyncio ``httpx.AsyncClient``, and yields
a ``TriggerEvent`` naming the sources whose feed changed. Airflow turns each event into an asset event
that starts the fast-path DAG, so a lab's release reaches Slack within about a minute while every other
feed keeps its normal poll interval.

Why these choices:

* A trigger rather than a short cron: a 15 s cron would start a worker process every 15 s; a trigger
  costs one coroutine and a 304 per feed per interval, inside a process that already runs.
* Conditional GET with the validators the feed gave us (ETag / Last-Modified), plus a body hash for
  servers that ignore them, so an unchanged feed costs a 304 and never fires.
* The validators live in the trigger's memory and are also saved in Airflow's asset state store (3.3+)
  on the watched asset, so a triggerer restart neither re-fires every feed nor misses a change made
  while it was down. With no saved state, a feed's first observation is a baseline, not an event: what
  is already there is the regular poll's business.
* The same network rules as ``racewatch.fetch``: http(s) only, no loopback/private addresses unless the
  source says ``allow_private`` (its own host only) or ``RACEWATCH_ALLOW_PRIVATE_NETWORKS=1``, checked
  on every redirect hop; a wall-clock deadline and a body-size cap per check.
* Polite when a feed fails: that feed alone backs off exponentially (up to 10 minutes, longer if the
  server sends Retry-After) while the others keep their interval.
* Never a traceback: a failing feed is one warning line when it starts failing and one info line when
  it recovers; it simply does not fire. The real poll records the error in ``feed_health``.

Import weight: this module is imported at DAG parse time and by the plugin manager in every Airflow
process, so httpx and the racewatch library are imported inside :meth:`FeedChangeTrigger.run` only.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    import httpx
    from racewatch.settings import Settings
    from racewatch.sources import Source

STATE_KEY = "feed_validators"
"""Asset-state-store key holding ``{source_id: {"etag", "last_modified", "hash"}}``."""
MAX_CONCURRENT_CHECKS = 8
MAX_BACKOFF_S = 600.0
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class FeedChangeError(Exception):
    """One check of one feed failed; the reason is logged as a single line."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class FeedChangeTrigger(BaseEventTrigger):
    """Fire when any feed tagged ``tag`` in the sources file changed since it was last seen.

    :param tag: the sources-file tag selecting the watched feeds.
    :param poke_interval: seconds between two rounds of conditional GETs.
    """

    def __init__(self, tag: str = "fast", poke_interval: float = 15.0) -> None:
        super().__init__()
        self.tag = tag
        self.poke_interval = poke_interval
        self._seen: dict[str, dict[str, str | None]] = {}
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        self._sources: list[Source] = []
        self._sources_mtime: float | None = None
        self._sources_error: str | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and kwargs: the triggerer imports this module from the plugins folder."""
        return ("racewatch_triggers.FeedChangeTrigger", {"tag": self.tag, "poke_interval": self.poke_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll forever; each round that finds changed feeds yields one event naming them."""
        import httpx
        from racewatch.settings import USER_AGENT, Settings

        settings = Settings.from_env()
        self._seen = await self._load_state()
        limits = httpx.Limits(max_connections=MAX_CONCURRENT_CHECKS * 2)
        async with httpx.AsyncClient(follow_redirects=False, limits=limits,
                                     headers={"User-Agent": USER_AGENT}) as client:
            while True:
                changed = await self.check_once(client, settings)
                if changed:
                    self.log.info("fast feeds changed: %s", ", ".join(changed))
                    yield TriggerEvent({"changed": changed, "detected_at": datetime.now(UTC).isoformat()})
                await asyncio.sleep(self.poke_interval)

    async def check_once(self, client: httpx.AsyncClient, settings: Settings) -> list[str]:
        """One round over the watched feeds; returns the ids of those that changed (sorted)."""
        sources = await self._watched(settings)
        gate = asyncio.Semaphore(MAX_CONCURRENT_CHECKS)

        async def one(src: Source) -> tuple[str, str]:
            async with gate:
                return src.id, await self._check(client, src, settings)

        results = await asyncio.gather(*(one(s) for s in sources))
        if any(outcome in ("changed", "baseline") for _, outcome in results):
            await self._save_state()
        return sorted(sid for sid, outcome in results if outcome == "changed")

    async def _watched(self, settings: Settings) -> list[Source]:
        """The sources carrying the tag, re-read when the sources file changes (no triggerer restart)."""
        from racewatch.errors import SourcesError
        from racewatch.sources import load_sources

        path = settings.sources_path
        try:
            mtime = path.stat().st_mtime
            if mtime != self._sources_mtime:
                loaded = await asyncio.to_thread(load_sources, path)
                self._sources = [s for s in loaded if self.tag in s.tags]
                self._sources_mtime, self._sources_error = mtime, None
                self.log.info("watching %d source(s) tagged %r in %s", len(self._sources), self.tag, path)
        except (OSError, SourcesError) as exc:
            if str(exc) != self._sources_error:  # once per broken edit; keep the last good list meanwhile
                self.log.warning("cannot read sources file, keeping %d watched source(s): %s",
                                 len(self._sources), exc)
            self._sources_error = str(exc)
        return self._sources

    async def _check(self, client: httpx.AsyncClient, src: Source, settings: Settings) -> str:
        """``changed``, ``same``, ``baseline`` (first sighting: recorded, not an event), ``error`` or
        ``waiting`` (backing off after errors)."""
        import httpx

        if time.monotonic() < self._not_before.get(src.id, 0.0):
            return "waiting"
        previous = self._seen.get(src.id)
        try:
            async with asyncio.timeout(settings.fetch_timeout_s):
                current = await (_file_state(src) if src.is_file else _http_state(client, src, previous, settings))
        except (TimeoutError, httpx.HTTPError, OSError, FeedChangeError) as exc:
            if isinstance(exc, TimeoutError):
                reason = f"timed out after {settings.fetch_timeout_s:g}s"
            elif isinstance(exc, FeedChangeError):
                reason = str(exc)
            else:
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            failures = self._failures[src.id] = self._failures.get(src.id, 0) + 1
            delay = min(self.poke_interval * 2 ** (failures - 1), MAX_BACKOFF_S)
            if isinstance(exc, FeedChangeError) and exc.retry_after_s:
                delay = max(delay, exc.retry_after_s)
            self._not_before[src.id] = time.monotonic() + delay
            if failures == 1:
                self.log.warning("fast feed %s: %s (backing off)", src.id, reason)
            return "error"
        if self._failures.pop(src.id, 0):
            self.log.info("fast feed %s answers again", src.id)
            self._not_before.pop(src.id, None)
        if current is None:  # 304 Not Modified
            return "same"
        self._seen[src.id] = current
        if previous is None:
            return "baseline"
        return "changed" if current["hash"] != previous.get("hash") else "same"

    async def _load_state(self) -> dict[str, dict[str, str | None]]:
        """Validators saved by an earlier triggerer, if Airflow gave this trigger a state store."""
        if self.asset_state_store is None:
            return {}
        try:
            saved = await self.asset_state_store.aget(STATE_KEY, default={})
        except Exception as exc:  # the store is an optimisation: never let it stop the watch
            self.log.warning("asset state store unavailable, starting without saved validators: %s", exc)
            return {}
        return dict(saved) if isinstance(saved, dict) else {}

    async def _save_state(self) -> None:
        if self.asset_state_store is None:
            return
        try:
            await self.asset_state_store.aset(STATE_KEY, self._seen)
        except Exception as exc:  # see _load_state
            self.log.warning("cannot save validators to the asset state store: %s", exc)


async def _file_state(src: Source) -> dict[str, str | None]:
    """Local feed files (the offline sample set) have no validators: their content hash is the state."""
    body = await asyncio.to_thread(Path(src.url).read_bytes)
    return {"etag": None, "last_modified": None, "hash": hashlib.sha256(body).hexdigest()}


async def _http_state(
    client: httpx.AsyncClient, src: Source, previous: dict[str, str | None] | None, settings: Settings
) -> dict[str, str | None] | None:
    """Conditional GET (redirects followed by hand, each hop checked); None means 304 Not Modified."""
    from racewatch.fetch import ACCEPT, MAX_REDIRECTS, parse_retry_after

    headers = {"Accept": ACCEPT}
    if previous and previous.get("etag"):
        headers["If-None-Match"] = str(previous["etag"])
    if previous and previous.get("last_modified"):
        headers["If-Modified-Since"] = str(previous["last_modified"])
    own_host = urlsplit(src.url).hostname if src.allow_private else None
    url = src.url
    for _hop in range(MAX_REDIRECTS + 1):
        await _refuse_private(url, own_host, settings)
        async with client.stream("GET", url, headers=headers) as resp:
            if resp.status_code in REDIRECT_CODES and resp.headers.get("location"):
                url = urljoin(url, resp.headers["location"])
                continue
            if resp.status_code == 304:
                return None
            if resp.status_code >= 400:
                raise FeedChangeError(f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                                      parse_retry_after(resp.headers.get("retry-after")))
            digest = hashlib.sha256()
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > settings.max_body_bytes:
                    raise FeedChangeError(f"body larger than the {settings.max_body_bytes}-byte limit")
                digest.update(chunk)
            return {"etag": resp.headers.get("etag"), "last_modified": resp.headers.get("last-modified"),
                    "hash": digest.hexdigest()}
    raise FeedChangeError(f"more than {MAX_REDIRECTS} redirects")


async def _refuse_private(url: str, own_host: str | None, settings: Settings) -> None:
    """The poller's address rule, applied before each hop; DNS runs off the event loop.

    Reuses ``racewatch.fetch``'s own check (and its Retry-After parser above) rather than a second copy
    of security-relevant code that could drift.
    """
    from racewatch.fetch import FetchError, is_private_host

    host = urlsplit(url).hostname
    if urlsplit(url).scheme not in ("http", "https") or not host:
        raise FeedChangeError(f"refusing non-http(s) URL {url!r}")
    if settings.allow_private_networks or host == own_host:
        return
    try:
        private = await asyncio.to_thread(is_private_host, host)
    except FetchError as exc:
        raise FeedChangeError(str(exc)) from exc
    if private:
        raise FeedChangeError(f"refusing private/loopback address {host!r} (set allow_private)")
