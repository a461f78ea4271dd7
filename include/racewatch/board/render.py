"""The board as one self-contained HTML page: inline CSS, inline SVG charts, no script, no CDN.

Why this shape: the page opens inside the Airflow UI on machines that may have no internet access, so
nothing is fetched from elsewhere; and it shows text written by arbitrary feeds, so it carries no
JavaScript at all and the response sets a Content-Security-Policy without ``script-src``. Escaping
remains the primary defence: every value that came from the database goes through :func:`esc` (titles,
summaries, outlet and model names, error messages, even release keys), and links are emitted only for
http(s) URLs, so a ``javascript:`` link from a feed renders as plain text.

Pure functions of a :class:`~racewatch.board.queries.Board`: no I/O, no clock (``board.generated_at``
is "now"), so tests can assert on the output.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from racewatch.board.queries import (
    COUNTRY_GROUPS,
    Alert,
    Board,
    EventCount,
    FeedHealth,
    Release,
    Search,
)

RESPONSE_HEADERS: dict[str, str] = {
    # No script-src: even a missed escape cannot run code. Inline styles are the page's only styling.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Coverage links lead to news sites; they need not learn the Airflow host's URL.
    "Referrer-Policy": "no-referrer",
    # The page is per-user (behind login) and changes with every poll.
    "Cache-Control": "no-store",
}

GROUP_LABELS = {"US": "United States", "CN": "China", "ROW": "Rest of world"}
GROUP_COLORS = {"US": "#1c64c8", "CN": "#c8322d", "ROW": "#7b4bb7"}
OPEN_COLOR = "#1f8a3b"
EVENT_LABELS = {
    "model_release": "Model releases",
    "benchmark": "Benchmarks",
    "funding": "Funding",
    "policy_export_controls": "Policy & export controls",
    "chips_compute": "Chips & compute",
    "partnership_product": "Partnerships & products",
    "talent": "Talent",
    "legal": "Legal",
    "research": "Research",
    "other": "Other",
}
KIND_LABELS = {"release_root": "release", "followup": "follow-up", "root_update": "root update"}
STATUS_CLASSES = {
    "sent": "ok", "ok": "ok", "not_modified": "ok", "unchanged": "ok", "dry_run": "info",
    "pending": "warn", "skipped": "muted", "failed": "bad", "error": "bad", "gone": "bad",
}
SNIPPET_CHARS = 240
ERROR_CHARS = 160


# ---------------------------------------------------------------------------------------------------------
# primitives


def esc(value: object) -> str:
    """HTML-escape anything for element text and quoted attributes alike; None renders as nothing."""
    return "" if value is None else html.escape(str(value), quote=True)


def safe_href(url: str | None) -> str | None:
    """The URL when it is an absolute http(s) URL without whitespace or control characters, else None."""
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link(text: str, url: str | None, *, text_html: str | None = None) -> str:
    """``<a>`` to a feed-supplied URL when it is safe (new tab, no referrer, no opener), else plain text.

    ``text_html`` is already-escaped markup for the link body (search highlighting); ``text`` otherwise.
    """
    body = text_html if text_html is not None else esc(text)
    href = safe_href(url)
    if not href:
        return body
    return f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{body}</a>'


def truncate(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fmt_ts(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "—"


def fmt_relative(ts: datetime | None, now: datetime) -> str:
    """'5 min ago' / 'in 3 h': the age of a timestamp is what an operator scans for."""
    if ts is None:
        return "never"
    seconds = (now - ts).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "just now"
    if size < 3600:
        amount = f"{int(size // 60)} min"
    elif size < 2 * 86400:
        amount = f"{int(size // 3600)} h"
    else:
        amount = f"{int(size // 86400)} d"
    return f"{amount} ago" if seconds > 0 else f"in {amount}"


def time_tag(ts: datetime | None, now: datetime) -> str:
    if ts is None:
        return '<span class="muted">never</span>'
    return f'<time datetime="{ts.isoformat()}Z" title="{esc(fmt_ts(ts))}">{esc(fmt_relative(ts, now))}</time>'


def pill(status: str | None, label: str | None = None) -> str:
    css = STATUS_CLASSES.get(status or "", "muted")
    return f'<span class="pill {css}">{esc(label or status or "—")}</span>'


def anchor(release_key: str) -> str:
    """A stable element id for a release: release keys contain '/' and arbitrary text."""
    return "rel-" + hashlib.sha1(release_key.encode("utf-8")).hexdigest()[:12]


def highlight(text: str, terms: Sequence[str]) -> str:
    """Escape ``text`` and wrap each search-term match in <mark>; pieces are escaped separately."""
    if not terms:
        return esc(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    out, pos = [], 0
    for match in pattern.finditer(text):
        out.append(esc(text[pos:match.start()]))
        out.append(f"<mark>{esc(match.group())}</mark>")
        pos = match.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def snippet(text: str, terms: Sequence[str], limit: int = SNIPPET_CHARS) -> str:
    """A window of the summary around the first matching term (plain text, not yet escaped)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    lowered = text.lower()
    hits = [i for i in (lowered.find(t) for t in terms) if i >= 0]
    start = max(0, min(hits, default=0) - limit // 3)
    piece = text[start:start + limit]
    return ("…" if start else "") + piece + ("…" if start + limit < len(text) else "")


# ---------------------------------------------------------------------------------------------------------
# timeline (inline SVG)

_TICK_DAYS = (1, 2, 7, 14, 30, 61, 91, 182, 365, 730)
_W, _LEFT, _RIGHT, _TOP, _LANE_H, _AXIS_H = 960, 150, 24, 10, 84, 26
_SLOTS = (20, 42, 64)
_CHAR_W = 6.6


def _ticks(start: datetime, end: datetime) -> list[datetime]:
    span_days = max((end - start).total_seconds() / 86400, 1)
    step = next((d for d in _TICK_DAYS if span_days / d <= 8), _TICK_DAYS[-1])
    first = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return [first + timedelta(days=step * i) for i in range(int(span_days // step) + 2)
            if first + timedelta(days=step * i) <= end]


def timeline_svg(releases: Sequence[Release], now: datetime) -> str:
    """Three lanes (US, China, rest of world) on one time axis; each release links to its coverage card."""
    first = min(r.released_at for r in releases)
    last = max(max(r.released_at for r in releases), now)
    span = max(last - first, timedelta(days=7))
    pad = span * 0.04
    start, end = first - pad, first + span + pad
    inner = _W - _LEFT - _RIGHT
    height = _TOP + _LANE_H * len(COUNTRY_GROUPS) + _AXIS_H

    def x_of(ts: datetime) -> float:
        return _LEFT + inner * (ts - start).total_seconds() / (end - start).total_seconds()

    parts = [f'<svg class="timeline" viewBox="0 0 {_W} {height}" role="img" '
             f'aria-labelledby="timeline-title" xmlns="http://www.w3.org/2000/svg">',
             '<title id="timeline-title">Flagship model releases over time, by country</title>']
    axis_y = _TOP + _LANE_H * len(COUNTRY_GROUPS)
    for ts in _ticks(start, end):
        x = x_of(ts)
        label = ts.strftime("%b %d") if span < timedelta(days=300) else ts.strftime("%Y-%m")
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{axis_y}"/>'
                     f'<text class="tick" x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle">{esc(label)}</text>')
    for lane, group in enumerate(COUNTRY_GROUPS):
        top = _TOP + lane * _LANE_H
        mine = sorted((r for r in releases if r.group == group), key=lambda r: (r.released_at, r.release_key))
        opened = sum(1 for r in mine if r.open_weights)
        parts.append(f'<rect class="lane lane{lane % 2}" x="0" y="{top}" width="{_W}" height="{_LANE_H}"/>'
                     f'<text class="lane-label" x="10" y="{top + 34}" fill="{GROUP_COLORS[group]}">'
                     f'{esc(GROUP_LABELS[group])}</text>'
                     f'<text class="lane-sub" x="10" y="{top + 52}">{len(mine)} release{"" if len(mine) == 1 else "s"}'
                     f' · {opened} open</text>')
        slot_end = [float("-inf")] * len(_SLOTS)
        for release in mine:
            parts.append(_timeline_marker(release, x_of(release.released_at), top, slot_end))
    now_x = x_of(now)
    parts.append(f'<line class="now" x1="{now_x:.1f}" y1="{_TOP}" x2="{now_x:.1f}" y2="{axis_y}"/>'
                 f'<text class="tick now-label" x="{now_x:.1f}" y="{_TOP + 9}" text-anchor="end" dx="-3">now</text>'
                 "</svg>")
    return "".join(parts)


def _timeline_marker(release: Release, x: float, top: int, slot_end: list[float]) -> str:
    """One release: marker + label in the first of the lane's rows where it overlaps no earlier label.

    ``slot_end`` holds, per row, the x where the last label drawn there ends (updated in place).
    """
    label = release.model if release.group != "ROW" or not release.country else f"{release.model} ({release.country})"
    label = truncate(label, 40)
    width = 14 + _CHAR_W * len(label)
    flip = x + width > _W - _RIGHT  # near the right edge the label goes to the left of its marker
    starts_at = x - width if flip else x - 8
    slot = next((i for i, end in enumerate(slot_end) if end + 6 <= starts_at), None)
    if slot is None:
        # Every row is taken here (a burst of releases): draw the marker alone where it collides least;
        # its tooltip and its card below still name it.
        slot = min(range(len(slot_end)), key=slot_end.__getitem__)
        label = ""
    y = top + _SLOTS[slot]
    slot_end[slot] = x + (8 if flip or not label else width)
    color = GROUP_COLORS[release.group]
    if release.open_weights:
        marker = (f'<path class="mark open" d="M{x:.1f} {y - 7} l7 7 l-7 7 l-7 -7 z" fill="{OPEN_COLOR}" '
                  f'stroke="{color}"/>')
    elif release.open_weights is None:
        marker = f'<circle class="mark unknown" cx="{x:.1f}" cy="{y}" r="5.5" fill="none" stroke="{color}"/>'
    else:
        marker = f'<circle class="mark closed" cx="{x:.1f}" cy="{y}" r="5.5" fill="{color}"/>'
    text_x, anchor_attr = (x - 10, "end") if flip else (x + 10, "start")
    tip = " · ".join(filter(None, [
        release.model, release.org, release.country, fmt_ts(release.released_at),
        {True: "open weights", False: "closed weights", None: "weights unknown"}[release.open_weights],
        f"{release.outlets} outlet{'' if release.outlets == 1 else 's'}",
    ]))
    text = (f'<text class="release-label" x="{text_x:.1f}" y="{y + 4}" text-anchor="{anchor_attr}">{esc(label)}'
            "</text>" if label else "")
    return f'<a href="#{anchor(release.release_key)}" class="release-link"><title>{esc(tip)}</title>{marker}{text}</a>'


def timeline_legend() -> str:
    return ('<p class="legend"><svg viewBox="0 0 14 14" width="14" height="14" aria-hidden="true">'
            '<circle cx="7" cy="7" r="5.5" fill="#777"/></svg> closed weights '
            '<svg viewBox="0 0 14 14" width="14" height="14" aria-hidden="true">'
            f'<path d="M7 0 l7 7 l-7 7 l-7 -7 z" fill="{OPEN_COLOR}"/></svg> open weights '
            '<svg viewBox="0 0 14 14" width="14" height="14" aria-hidden="true">'
            '<circle cx="7" cy="7" r="5.5" fill="none" stroke="#777"/></svg> not yet known'
            " · select a release for its coverage</p>")


# ---------------------------------------------------------------------------------------------------------
# event-type bars (inline SVG)


def counts_svg(counts: Sequence[EventCount]) -> str:
    """Horizontal bars per event type: the 30-day bar with the 7-day share drawn over it."""
    label_w, bar_w, row_h, num_w = 200, 560, 24, 150
    width = label_w + bar_w + num_w
    height = row_h * len(counts) + 6
    top = max((c.last_30d for c in counts), default=0) or 1
    parts = [f'<svg class="counts" viewBox="0 0 {width} {height}" role="img" aria-labelledby="counts-title" '
             'xmlns="http://www.w3.org/2000/svg"><title id="counts-title">AI-race stories by event type, '
             "last 7 and 30 days</title>"]
    for i, count in enumerate(counts):
        y = 3 + i * row_h
        w30 = bar_w * count.last_30d / top
        w7 = bar_w * count.last_7d / top
        name = EVENT_LABELS.get(count.event_type, count.event_type.replace("_", " ").capitalize())
        parts.append(
            f'<g><title>{esc(name)}: {count.last_7d} in 7 days, {count.last_30d} in 30 days</title>'
            f'<text class="bar-label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">{esc(name)}</text>'
            f'<rect class="bar30" x="{label_w}" y="{y + 3}" width="{w30:.1f}" height="{row_h - 6}" rx="2"/>'
            f'<rect class="bar7" x="{label_w}" y="{y + 3}" width="{w7:.1f}" height="{row_h - 6}" rx="2"/>'
            f'<text class="bar-num" x="{label_w + bar_w + 8}" y="{y + 16}">{count.last_7d} · {count.last_30d}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------------
# sections


def _section_timeline(board: Board) -> str:
    head = '<section id="timeline"><h2>Flagship releases</h2>'
    if not board.releases:
        return head + '<p class="empty">No flagship releases recorded yet.</p></section>'
    return head + timeline_svg(board.releases, board.generated_at) + timeline_legend() + "</section>"


def _release_card(release: Release, now: datetime) -> str:
    weights = {True: '<span class="pill open">open weights</span>',
               False: '<span class="pill muted">closed weights</span>', None: ""}[release.open_weights]
    facts = " · ".join(filter(None, [
        esc(release.org), esc(GROUP_LABELS[release.group] if release.group != "ROW" else release.country or "unknown"),
        esc(release.parameters) if release.parameters else "",
        f"released {time_tag(release.released_at, now)}",
        f"{release.outlets} outlet{'' if release.outlets == 1 else 's'}",
    ]))
    items = "".join(
        f'<li>{link(c.title, c.link)} <span class="muted">{esc(c.source or "")} · {esc(fmt_ts(c.seen_at))}</span></li>'
        for c in release.coverage
    )
    more = release.coverage_total - len(release.coverage)
    if more > 0:
        items += f'<li class="muted">and {more} more</li>'
    alert = pill(release.alert_status, f"Slack: {release.alert_status}") if release.alert_status else ""
    return (f'<article class="release g-{release.group}" id="{anchor(release.release_key)}">'
            f'<h3>{link(release.model, release.announce_url)} {weights} {alert}</h3>'
            f'<p class="facts">{facts}</p>'
            f'<ul class="coverage">{items or "<li class=muted>no coverage linked</li>"}</ul></article>')


def _section_releases(board: Board) -> str:
    if not board.releases:
        return ""
    cards = "".join(_release_card(r, board.generated_at) for r in board.releases)
    return f'<section id="releases"><h2>Releases and their coverage</h2><div class="cards">{cards}</div></section>'


def _section_counts(board: Board) -> str:
    total7 = sum(c.last_7d for c in board.event_counts)
    total30 = sum(c.last_30d for c in board.event_counts)
    return ('<section id="counts"><h2>AI-race stories by event type</h2>'
            f'<p class="legend"><span class="swatch bar7"></span> last 7 days ({total7}) '
            f'<span class="swatch bar30"></span> last 30 days ({total30}) · numbers: 7 d · 30 d</p>'
            f"{counts_svg(board.event_counts)}</section>")


def _alert_row(alert: Alert, now: datetime) -> str:
    what = alert.model or alert.release_key or alert.alert_id
    error = (f'<span title="{esc(alert.last_error)}">{esc(truncate(alert.last_error, ERROR_CHARS))}</span>'
             if alert.last_error else "")
    return (f"<tr><td>{time_tag(alert.sent_at or alert.created_at, now)}</td>"
            f"<td>{esc(KIND_LABELS.get(alert.kind, alert.kind))}</td><td>{esc(what)}</td>"
            f"<td>{pill(alert.status)}</td><td><code>{esc(alert.slack_ts or '')}</code></td>"
            f'<td class="num">{alert.attempts}</td><td class="err">{error}</td></tr>')


def _section_alerts(board: Board) -> str:
    head = '<section id="alerts"><h2>Latest alerts</h2>'
    if not board.alerts:
        return head + '<p class="empty">No alerts yet.</p></section>'
    summary = " ".join(f"{pill(status)} {n}" for status, n in board.alert_status_counts)
    dry = (' <span class="muted">(dry run: no Slack token configured, nothing was sent)</span>'
           if any(s == "dry_run" for s, _ in board.alert_status_counts) else "")
    rows = "".join(_alert_row(a, board.generated_at) for a in board.alerts)
    return (f'{head}<p class="summary">{summary}{dry}</p><table><thead><tr><th>When</th><th>Kind</th>'
            "<th>Release</th><th>Slack status</th><th>Slack ts</th><th>Attempts</th><th>Last error</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></section>")


def _due(feed: FeedHealth, now: datetime) -> str:
    if not feed.active:
        return '<span class="muted">retired</span>'
    if feed.next_due_at is None:
        return '<span class="muted">next poll</span>'
    return time_tag(feed.next_due_at, now) if feed.next_due_at >= now else (
        f'<span class="overdue">{time_tag(feed.next_due_at, now)}</span>')


def _feed_row(feed: FeedHealth, now: datetime) -> str:
    status = pill(feed.status, feed.status) if feed.status else pill(None, "not fetched")
    problem = (f'<strong class="problem">{esc(feed.problem)}</strong>' if feed.problem
               else '<span class="muted">ok</span>')
    error = (f'<span title="{esc(feed.last_error)}">{esc(truncate(feed.last_error, ERROR_CHARS))}</span>'
             if feed.last_error else "")
    return (f'<tr class="sev{feed.severity}"><td>{link(feed.name, feed.url)}<br><code>{esc(feed.feed_id)}</code></td>'
            f"<td>{status}</td><td>{problem}</td><td>{time_tag(feed.last_success_at, now)}</td>"
            f'<td class="num">{feed.failures}</td><td>{_due(feed, now)}</td><td class="err">{error}</td></tr>')


def _section_feeds(board: Board) -> str:
    head = '<section id="feeds"><h2>Feed health</h2>'
    if not board.feeds:
        return head + '<p class="empty">No feeds registered yet.</p></section>'
    attention = sum(1 for f in board.feeds if f.problem and f.active)
    rows = "".join(_feed_row(f, board.generated_at) for f in board.feeds)
    return (f'{head}<p class="summary">{len(board.feeds)} feeds · {attention} need attention (listed first)</p>'
            "<table><thead><tr><th>Feed</th><th>Status</th><th>Problem</th><th>Last success</th><th>Failures</th>"
            f"<th>Next due</th><th>Last error</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _search_form(board: Board) -> str:
    value = esc(board.search.query) if board.search else ""
    return ('<form class="search" method="get" role="search">'
            f'<input type="search" name="q" value="{value}" maxlength="200" '
            'placeholder="Search stories (title and summary)" aria-label="Search stories">'
            '<button type="submit">Search</button></form>')


def _section_search(search: Search | None, now: datetime) -> str:
    if search is None:
        return ""
    head = (f'<section id="search"><h2>Stories matching “{esc(search.query)}”</h2>'
            f'<p class="summary">{len(search.hits)}{"+" if search.truncated else ""} found'
            f'{" (newest shown)" if search.truncated else ""} · <a href="?">clear</a></p>')
    if not search.hits:
        return head + '<p class="empty">No stories match.</p></section>'
    items = []
    for hit in search.hits:
        kind = EVENT_LABELS.get(hit.event_type, hit.event_type)
        race = "" if hit.is_ai_competition else ' · <span class="muted">not AI-race</span>'
        items.append(
            f'<li><div class="hit-title">{link(hit.title, hit.link, text_html=highlight(hit.title, search.terms))}'
            f'</div><div class="muted">{esc(hit.source or "")} · {time_tag(hit.published_at, now)} · {esc(kind)}'
            f'{race}</div><div class="hit-summary">{highlight(snippet(hit.summary, search.terms), search.terms)}'
            "</div></li>"
        )
    return f'{head}<ol class="hits">{"".join(items)}</ol></section>'


def _header(board: Board) -> str:
    if board.data_as_of is not None:
        source = (f"Data: {esc(board.data_source)}, as of {time_tag(board.data_as_of, board.generated_at)} · "
                  f"{board.stories_total:,} stories")
    else:
        source = "No data"
    note = f'<p class="note" role="status">{esc(board.note)}</p>' if board.note else ""
    return (f'<header><h1>racewatch <span class="muted">· the AI race</span></h1>{_search_form(board)}'
            f'<p class="meta">{source} · page generated {esc(fmt_ts(board.generated_at))}</p>{note}</header>')


_CSS = """
:root{color-scheme:light dark;--fg:#1d2330;--muted:#667085;--bg:#fff;--panel:#f6f7f9;--line:#e3e6eb;--bar30:#c9d6ea;
--bar7:#2f5fa8;--ok:#1f8a3b;--warn:#b26b00;--bad:#c8322d;--info:#1c64c8}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8ec;--muted:#9aa3b2;--bg:#12161c;--panel:#1b2129;--line:#2c3440;
--bar30:#33445e;--bar7:#6f9be0}}
*{box-sizing:border-box}body{margin:0;padding:16px 20px 40px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Noto Sans","Liberation Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 20px}h1{font-size:20px;margin:0}
h2{font-size:16px;margin:26px 0 8px}h3{font-size:14px;margin:0 0 2px}
.meta{flex-basis:100%;margin:0;color:var(--muted);font-size:12px}
.note{flex-basis:100%;margin:6px 0 0;padding:8px 12px;border-radius:6px;background:#fff4d6;color:#5c4200}
.muted{color:var(--muted)}a{color:var(--info)}code{font-size:11px;color:var(--muted)}
.search{display:flex;gap:6px;flex:1;min-width:260px;max-width:560px}
.search input{flex:1;padding:6px 10px;border:1px solid var(--line);border-radius:6px;background:var(--bg);
color:var(--fg)}
.search button{padding:6px 14px;border:0;border-radius:6px;background:var(--info);color:#fff;cursor:pointer}
svg.timeline,svg.counts{width:100%;height:auto;display:block;background:var(--panel);border-radius:8px}
svg.timeline{max-width:1240px}svg.counts{max-width:910px}
.lane0{fill:transparent}.lane1{fill:var(--line);opacity:.35}.grid{stroke:var(--line);stroke-width:1}
.now{stroke:var(--warn);stroke-dasharray:4 3}.tick,.lane-sub{font-size:11px;fill:var(--muted)}
.lane-label{font-size:13px;font-weight:600}.release-label{font-size:12px;fill:var(--fg)}
.release-link:hover .release-label,.release-link:focus .release-label{text-decoration:underline;font-weight:600}
.mark{stroke-width:2}.bar-label,.bar-num{font-size:12px;fill:var(--fg)}.bar30{fill:var(--bar30)}.bar7{fill:var(--bar7)}
.legend{font-size:12px;color:var(--muted);margin:6px 0}.legend svg{vertical-align:-2px}
.swatch{display:inline-block;width:12px;height:10px;border-radius:2px;vertical-align:-1px}
.swatch.bar7{background:var(--bar7)}.swatch.bar30{background:var(--bar30)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:10px}
.release{background:var(--panel);border-radius:8px;padding:10px 12px;border-left:4px solid var(--line)}
.release:target{outline:2px solid var(--warn)}.g-US{border-left-color:#1c64c8}.g-CN{border-left-color:#c8322d}
.g-ROW{border-left-color:#7b4bb7}.facts{margin:2px 0 6px;font-size:12px;color:var(--muted)}
.coverage{margin:0;padding-left:18px;font-size:12px}.coverage li{margin:2px 0}
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:11px;font-weight:600;line-height:18px;
background:var(--line);color:var(--fg);vertical-align:1px}.pill.ok{background:#dcf3e3;color:#14632b}
.pill.warn{background:#fdecc8;color:#7a4a00}.pill.bad{background:#fbdad8;color:#8c1f1b}
.pill.info{background:#dbe8fb;color:#174a94}.pill.open{background:#dcf3e3;color:#14632b}
table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;color:var(--muted)}
td.num{text-align:right}td.err{max-width:360px;color:var(--muted)}.problem{color:var(--bad)}
tr.sev1 .problem{color:var(--warn)}tr.sev2 .problem{color:var(--muted)}.overdue{color:var(--warn)}
.summary{margin:0 0 6px;font-size:12.5px}.empty{color:var(--muted)}
.hits{padding-left:22px}.hits li{margin:0 0 10px}.hit-title{font-weight:600}.hit-summary{font-size:12.5px}
mark{background:#ffe58a;color:inherit;padding:0 1px}
"""


def render_page(board: Board) -> str:
    """The whole board page for ``board`` (search results first when a search was made)."""
    body: Iterable[str] = (
        _header(board),
        _section_search(board.search, board.generated_at),
        _section_timeline(board),
        _section_counts(board),
        _section_alerts(board),
        _section_feeds(board),
        _section_releases(board),
    )
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>racewatch board</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
