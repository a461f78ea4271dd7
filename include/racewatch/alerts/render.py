"""Block Kit rendering for racewatch alerts: pure functions, no I/O, no clock.

Everything that comes from a feed (titles, outlet names, claims, reasons, even model and org names) is
untrusted: it is escaped for Slack mrkdwn (``&``, ``<``, ``>``), so "<!channel> GPT-6 is out" renders
literally and pings nobody, and links are kept only when they are http(s).

Slack limits honoured here: header ``plain_text`` 150 chars, section/context text 3000, section field 2000,
10 fields per section, 50 blocks per message; the top-level fallback ``text`` is kept under 3000 chars
(it is what notifications and screen readers show).

Output is deterministic (no current time, no randomness) so tests can assert exact payloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CONTEXT_TEXT_LIMIT",
    "ELLIPSIS",
    "FALLBACK_TEXT_LIMIT",
    "FIELD_TEXT_LIMIT",
    "HEADER_TEXT_LIMIT",
    "MAX_BLOCKS",
    "SECTION_TEXT_LIMIT",
    "country_flag",
    "escape_mrkdwn",
    "format_utc",
    "limit_blocks",
    "mrkdwn_link",
    "render_followup",
    "render_release_root",
    "safe_link",
    "truncate",
    "truncate_mrkdwn",
]

ELLIPSIS = "…"
HEADER_TEXT_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
FALLBACK_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
MAX_FIELDS = 10

# Per-component budgets (in characters of raw, unescaped text) so that assembled texts stay well inside
# Slack's limits by construction; a final mrkdwn-aware truncation is only a backstop.
_TITLE_LIMIT = 300
_SOURCE_LIMIT = 100
_CLAIM_LIMIT = 600
_FACT_LIMIT = 100
_REASON_LIMIT = 200
_MAX_REASONS = 10
_KEY_LIMIT = 200

_ALPHA2 = re.compile(r"[A-Z]{2}")
_WHITESPACE = re.compile(r"\s+")
# Characters that would break Slack's <url|label> syntax or are never valid raw in a URL.
_URL_UNSAFE = frozenset('<>|"` \\^{}')


# ---------------------------------------------------------------------------------------------------------
# primitives


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's three control characters so feed text renders literally in mrkdwn.

    ``&`` first, so existing entities are escaped too ("&amp;" shows as "&amp;", not "&").
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with "…" when something was cut."""
    if limit < 1:
        raise ValueError(f"truncate limit must be >= 1, got {limit}")
    text = str(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def truncate_mrkdwn(text: str, limit: int) -> str:
    """Like :func:`truncate`, but never cuts inside an entity (``&amp;``) or a ``<...>`` token.

    A cut inside a link or a ``<!date...>`` token would leave an unbalanced ``<`` that Slack renders
    as garbage (or, worse, misparses); the cut backs off to before the token instead.
    """
    text = str(text)
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    lt, gt = head.rfind("<"), head.rfind(">")
    if lt > gt:
        head = head[:lt]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + ELLIPSIS


def _clean(value: Any) -> str:
    """Feed text to one tidy line: str, whitespace (newlines included) collapsed, stripped."""
    if value is None:
        return ""
    return _WHITESPACE.sub(" ", str(value)).strip()


def safe_link(url: Any) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL with a host, else None.

    Characters that would break Slack's ``<url|label>`` syntax (``<``, ``>``, ``|``, spaces, quotes...)
    and control characters are percent-encoded; the rest of the URL is left exactly as given.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    if not host or host.startswith(":") or any(c in _URL_UNSAFE or ord(c) <= 0x20 for c in host):
        return None
    out = []
    for ch in url:
        if ch in _URL_UNSAFE or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return scheme.lower() + "".join(out)[len(scheme) :]


def mrkdwn_link(url: Any, label: str) -> str:
    """``<url|label>`` when the URL is safe, else just the escaped label. ``label`` is raw text."""
    label_md = escape_mrkdwn(label)
    link = safe_link(url)
    if link is None:
        return label_md
    return f"<{escape_mrkdwn(link)}|{label_md}>"


def country_flag(code: Any) -> str:
    """Flag emoji for an ISO 3166 alpha-2 code ("CN" -> 🇨🇳) built from regional indicator symbols."""
    code = _clean(code).upper()
    if not _ALPHA2.fullmatch(code):
        return ""
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code)


def _as_utc(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def format_utc(value: Any) -> str | None:
    """``datetime`` or ISO string -> "2026-01-26 14:05 UTC" (naive values are taken as UTC)."""
    dt = _as_utc(value)
    return None if dt is None else dt.strftime("%Y-%m-%d %H:%M UTC")


def _slack_date(value: Any) -> str | None:
    """A Slack date token: shown in each reader's own time zone, with a UTC fallback text."""
    dt = _as_utc(value)
    if dt is None:
        return None
    fallback = dt.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(dt.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _required(mapping: Mapping[str, Any], key: str, what: str) -> str:
    value = _clean(mapping.get(key))
    if not value:
        raise ValueError(f"{what} is missing required key {key!r} (got keys: {sorted(mapping)})")
    return value


def limit_blocks(blocks: Sequence[Mapping[str, Any]], max_blocks: int = MAX_BLOCKS) -> list[dict]:
    """Cap a block list at Slack's 50: keep the first ``max_blocks - 1`` and say how many were left out."""
    blocks = [dict(b) for b in blocks]
    if len(blocks) <= max_blocks:
        return blocks
    kept = blocks[: max_blocks - 1]
    omitted = len(blocks) - len(kept)
    kept.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"{ELLIPSIS} and {omitted} more not shown"}],
        }
    )
    return kept


def _context(text: str) -> dict:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate_mrkdwn(text, CONTEXT_TEXT_LIMIT)}],
    }


def _field(label: str, value_md: str) -> dict:
    return {"type": "mrkdwn", "text": truncate_mrkdwn(f"*{label}*\n{value_md}", FIELD_TEXT_LIMIT)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _headline(story: Mapping[str, Any]) -> str | None:
    """``*<url|title>* — Source`` (mrkdwn), or None when the story has no title and no link."""
    title = truncate(_clean(story.get("title")), _TITLE_LIMIT)
    link = safe_link(story.get("url"))
    if not title and link is None:
        return None
    line = f"*{mrkdwn_link(link, title or link)}*"
    source = truncate(_clean(story.get("source")), _SOURCE_LIMIT)
    if source:
        line += f" — {escape_mrkdwn(source)}"
    return line


# ---------------------------------------------------------------------------------------------------------
# messages


def render_release_root(release: Mapping[str, Any]) -> dict:
    """The root message for one model release: ``{"text": fallback, "blocks": [...]}``.

    Required keys: ``release_key``, ``org``, ``model``. Optional: ``country`` (ISO alpha-2), ``parameters``,
    ``open_weights`` (bool or None), ``claim``, ``title``, ``url``, ``source``, ``first_seen_at`` (datetime or
    ISO string, UTC), ``reasons`` (list of str), ``outlets`` (running count of outlets covering it).
    Call it again with a new ``outlets`` count to get the payload for ``chat.update``.
    """
    release_key = _required(release, "release_key", "release")
    org = _required(release, "org", "release")
    model = _required(release, "model", "release")

    country = _clean(release.get("country")).upper()
    flag = country_flag(country)
    parameters = truncate(_clean(release.get("parameters")), _FACT_LIMIT)
    open_weights = release.get("open_weights")
    claim = truncate(_clean(release.get("claim")), _CLAIM_LIMIT)
    title = truncate(_clean(release.get("title")), _TITLE_LIMIT)

    # header: plain_text is not parsed for mentions, links or entities, so it is not escaped
    header = {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": truncate(f"{model} by {org}", HEADER_TEXT_LIMIT),
            "emoji": True,
        },
    }

    lines = [_headline(release) or f"*{escape_mrkdwn(model)}* by {escape_mrkdwn(org)}"]
    if claim:
        lines.append(f"> {escape_mrkdwn(claim)}")
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate_mrkdwn("\n".join(lines), SECTION_TEXT_LIMIT)},
    }
    fields = []
    if country:
        country_md = escape_mrkdwn(truncate(country, _FACT_LIMIT))
        fields.append(_field("Country", f"{flag} {country_md}" if flag else country_md))
    if parameters:
        fields.append(_field("Parameters", escape_mrkdwn(parameters)))
    if open_weights is not None:
        fields.append(_field("Open weights", "Yes" if open_weights else "No"))
    if fields:
        section["fields"] = fields[:MAX_FIELDS]

    blocks: list[dict] = [header, section]

    seen_parts = []
    first_seen = _slack_date(release.get("first_seen_at"))
    if first_seen:
        seen_parts.append(f"First seen {first_seen}")
    outlets = release.get("outlets")
    if isinstance(outlets, int) and not isinstance(outlets, bool) and outlets >= 0:
        seen_parts.append(_plural(outlets, "outlet"))
    seen_parts.append(f"`{escape_mrkdwn(truncate(release_key, _KEY_LIMIT))}`")
    blocks.append(_context(" · ".join(seen_parts)))

    reasons = [truncate(_clean(r), _REASON_LIMIT) for r in _as_list(release.get("reasons"))]
    reasons = [r for r in reasons if r][:_MAX_REASONS]
    if reasons:
        blocks.append(_context("Why: " + " · ".join(escape_mrkdwn(r) for r in reasons)))

    fallback = f"New model release: {model} by {org}"
    if country:
        fallback += f" ({country})"
    if title:
        fallback += f" — {title}"
    return {
        "text": truncate_mrkdwn(escape_mrkdwn(fallback), FALLBACK_TEXT_LIMIT),
        "blocks": limit_blocks(blocks),
    }


def render_followup(story: Mapping[str, Any]) -> dict:
    """A thread reply for later coverage of a release: ``{"text": fallback, "blocks": [...]}``.

    Keys (all optional, but a title or a link is expected): ``title``, ``url``, ``source``,
    ``published_at`` (datetime or ISO string, UTC).
    """
    title = truncate(_clean(story.get("title")), _TITLE_LIMIT)
    source = truncate(_clean(story.get("source")), _SOURCE_LIMIT)
    headline = _headline(story) or "*(untitled story)*"
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate_mrkdwn(headline, SECTION_TEXT_LIMIT)}}
    ]
    published = _slack_date(story.get("published_at"))
    if published:
        blocks.append(_context(f"Published {published}"))

    fallback = "More coverage: " + (title or safe_link(story.get("url")) or "(untitled story)")
    if source:
        fallback += f" ({source})"
    return {
        "text": truncate_mrkdwn(escape_mrkdwn(fallback), FALLBACK_TEXT_LIMIT),
        "blocks": limit_blocks(blocks),
    }


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]
