"""The one feedparser adapter: bytes in, frozen dataclasses out.

feedparser is forgiving to a fault: it returns a result for anything, including an HTML error page.
This module states the bozo policy explicitly (after lemon24/reader):

* survivable problems (a wrong declared charset, a non-XML content type, minor markup errors with
  entries recovered) are kept as a warning on the result;
* a document that failed to parse and yielded no entries is an error, never "the feed is empty";
* an entry without anything to identify or show is skipped with a warning.

Entries get a stable key (guid, else the canonical link, else a content hash), UTC dates, and a plain
text rendering of the sanitized HTML for the classifier.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|mc_cid|mc_eid|igshid|ref_src|cmpid|ocid)$", re.I)


class FeedParseError(Exception):
    """The bytes are not a feed we can read (with feedparser's reason)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A normalized feed entry; ``entry_key`` is stable across fetches and edits."""

    entry_key: str
    feed_id: str
    guid: str | None
    link: str | None
    title: str
    summary_text: str
    summary_html: str
    published_at: datetime
    updated_at: datetime | None
    content_hash: str
    flags: tuple[str, ...] = ()

    def as_row(self, **extra: Any) -> dict[str, Any]:
        """A plain dict for validation and landing (``extra`` adds columns such as ``seen_at``)."""
        return {
            "entry_key": self.entry_key,
            "feed_id": self.feed_id,
            "guid": self.guid,
            "link": self.link,
            "title": self.title,
            "summary_text": self.summary_text,
            "summary_html": self.summary_html,
            "published_at": self.published_at,
            "updated_at": self.updated_at,
            "content_hash": self.content_hash,
            "flags": list(self.flags),
            **extra,
        }


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document said, plus the warnings the bozo policy let through."""

    feed_id: str
    title: str | None
    link: str | None
    version: str
    entries: tuple[Entry, ...]
    ttl_minutes: int | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


class _TextExtractor(HTMLParser):
    """HTML -> readable plain text; block elements become spaces so words never glue together."""

    _BLOCK = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
                        "blockquote", "pre", "section", "article", "figure", "figcaption", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text from an HTML fragment, whitespace collapsed."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return " ".join(html.unescape("".join(parser.parts)).split())


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Absolute http(s) URL with tracking parameters and fragment removed, host lowercased."""
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not TRACKING_PARAMS.match(k)])
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") and parts.scheme == "http":
        netloc = netloc[:-3]
    elif netloc.endswith(":443") and parts.scheme == "https":
        netloc = netloc[:-4]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def _utc(struct: Any) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def make_entry_key(feed_id: str, identity: str) -> str:
    """``<feed_id>:<16 hex>``: readable in SQL, stable, and unique per feed."""
    return f"{feed_id}:{_sha(feed_id, identity)[:16]}"


def _content_html(raw: Any) -> str:
    contents = raw.get("content") or []
    for item in contents:
        if item.get("value"):
            return str(item["value"])
    return str(raw.get("summary") or "")


def _bozo_reason(result: Any) -> str:
    exc = result.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if exc else "unknown parse problem"


def parse_feed(
    body: bytes,
    feed_id: str,
    *,
    base_url: str | None = None,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
    future_tolerance: timedelta = timedelta(hours=6),
) -> ParsedFeed:
    """Parse feed bytes; raises :class:`FeedParseError` when nothing usable came out."""
    import feedparser  # lazy: keeps DAG parsing and `racewatch --help` fast

    fetched_at = fetched_at or datetime.now(UTC)
    headers = {}
    if base_url:
        headers["content-location"] = base_url
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    raw_entries = result.get("entries") or []
    warnings: list[str] = []
    if result.get("bozo"):
        reason = _bozo_reason(result)
        if not raw_entries:
            if not result.get("version"):
                raise FeedParseError(f"not a feed: {reason}")
            if isinstance(result.get("bozo_exception"), Exception) and not _survivable(result):
                raise FeedParseError(f"feed failed to parse with no entries: {reason}")
        warnings.append(reason)
    elif not result.get("version") and not raw_entries:
        raise FeedParseError("not a feed: no RSS/Atom/RDF root element")

    feed = result.get("feed") or {}
    base = feed.get("link") or base_url
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries):
        entry = _normalize_entry(raw, feed_id, base, fetched_at, future_tolerance, seen)
        if entry is None:
            warnings.append(f"entry {index} skipped: no title, link or content")
            continue
        entries.append(entry)
    ttl = feed.get("ttl")
    return ParsedFeed(
        feed_id=feed_id,
        title=html_to_text(str(feed.get("title") or "")) or None,
        link=canonical_url(feed.get("link"), base_url),
        version=str(result.get("version") or ""),
        entries=tuple(entries),
        ttl_minutes=int(ttl) if isinstance(ttl, str) and ttl.strip().isdigit() else None,
        warnings=tuple(warnings),
    )


def _survivable(result: Any) -> bool:
    """Charset and content-type complaints are survivable; broken XML with no entries is not."""
    import feedparser

    survivable = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    return isinstance(result.get("bozo_exception"), survivable)


def _normalize_entry(
    raw: Any,
    feed_id: str,
    base: str | None,
    fetched_at: datetime,
    future_tolerance: timedelta,
    seen: set[str],
) -> Entry | None:
    flags: list[str] = []
    title = html_to_text(str(raw.get("title") or ""))
    summary_html = _content_html(raw)
    summary_text = html_to_text(summary_html)
    link = canonical_url(raw.get("link"), base)
    if not (title or link or summary_text):
        return None
    if not title:
        title = (summary_text[:120] + "…") if len(summary_text) > 120 else summary_text or (link or "")
        flags.append("untitled")
    guid = str(raw.get("id") or "").strip() or None
    content_hash = _sha(title, summary_text)
    identity = f"guid:{guid}" if guid else (f"link:{link}" if link else f"hash:{content_hash}")
    if identity in seen:
        # Duplicate guid (or link) inside one document: keep both, told apart by their content.
        identity = f"{identity}#{link or ''}#{content_hash[:12]}"
        flags.append("duplicate_id")
    seen.add(identity)
    published = _utc(raw.get("published_parsed")) or _utc(raw.get("updated_parsed"))
    updated = _utc(raw.get("updated_parsed"))
    if published is None:
        published = fetched_at
        flags.append("undated")
    elif published > fetched_at + future_tolerance:
        published = fetched_at
        flags.append("future_date_clamped")
    return Entry(
        entry_key=make_entry_key(feed_id, identity),
        feed_id=feed_id,
        guid=guid,
        link=link,
        title=title,
        summary_text=summary_text,
        summary_html=summary_html,
        published_at=published,
        updated_at=updated,
        content_hash=content_hash,
        flags=tuple(flags),
    )


def parse_job(
    body: bytes, feed_id: str, base_url: str | None, content_type: str | None, future_tolerance: timedelta
) -> tuple[ParsedFeed | None, str | None]:
    """:func:`parse_feed` for worker processes: the error comes back as text, which always pickles.

    It lives here, not in the pipeline, so a spawned worker imports only this module and feedparser.
    """
    try:
        return parse_feed(body, feed_id, base_url=base_url, content_type=content_type,
                          fetched_at=datetime.now(UTC), future_tolerance=future_tolerance), None
    except FeedParseError as exc:
        return None, str(exc)
