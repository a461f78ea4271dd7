"""Messages other than release alerts: the daily digest with its US-vs-China scoreboard, source
down/recovered notices, and the summary that replaces alerts beyond the hourly budget.

Builders query DuckDB and return plain data (easy to test on a fixture database); renderers turn that
data into Block Kit with the same escaping and limits as release alerts. All of them are enqueued in
the ``alerts`` outbox with deterministic ids (``digest:<day>``, ``ops:down:<feed>:<fetch>``...), so a
rerun never sends one twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from racewatch.alerts.render import (
    HEADER_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    escape_mrkdwn,
    limit_blocks,
    mrkdwn_link,
    truncate,
    truncate_mrkdwn,
)

BLOCS = ("US", "CN", "ROW")
BLOC_LABEL = {"US": "🇺🇸 United States", "CN": "🇨🇳 China", "ROW": "🌍 Rest of world"}
EVENT_LABEL = {
    "model_release": "Model releases", "benchmark": "Benchmarks & leaderboards", "funding": "Funding & valuations",
    "policy_export_controls": "Policy & export controls", "chips_compute": "Chips & compute",
    "partnership_product": "Partnerships & products", "talent": "Talent moves", "legal": "Legal",
    "research": "Research", "other": "Other",
}
HEADLINES_PER_TYPE = 5


@dataclass(frozen=True)
class Scoreline:
    bloc: str
    releases: int
    open_weights: int

    @property
    def open_share(self) -> float:
        return self.open_weights / self.releases if self.releases else 0.0


@dataclass
class Digest:
    day: date
    events_by_type: dict[str, int] = field(default_factory=dict)
    headlines: dict[str, list[tuple[str, str | None, int]]] = field(default_factory=dict)
    scoreboard: dict[int, list[Scoreline]] = field(default_factory=dict)


def build_digest(con: duckdb.DuckDBPyConnection, day: date, now: datetime) -> Digest:
    """The day's AI-race stories counted once per event, and the 7/30-day release scoreboard."""
    start = datetime(day.year, day.month, day.day)
    rows = con.execute(
        """
        WITH day_stories AS (
            SELECT s.event_type, coalesce(es.event_id, 'story:' || e.entry_key) AS event_id,
                   e.title, e.link, e.first_seen_at
            FROM stories s JOIN entries e USING (entry_key)
            LEFT JOIN event_stories es USING (entry_key)
            WHERE s.is_ai_competition AND e.first_seen_at >= ? AND e.first_seen_at < ?
        )
        SELECT event_type, event_id, arg_min(title, first_seen_at), arg_min(link, first_seen_at), count(*)
        FROM day_stories GROUP BY ALL ORDER BY event_type, count(*) DESC, min(first_seen_at)
        """,
        [start, start + timedelta(days=1)],
    ).fetchall()
    digest = Digest(day)
    for event_type, _event, title, link, stories in rows:
        digest.events_by_type[event_type] = digest.events_by_type.get(event_type, 0) + 1
        items = digest.headlines.setdefault(event_type, [])
        if len(items) < HEADLINES_PER_TYPE:
            items.append((title, link, stories))
    for window in (7, 30):
        counts = dict.fromkeys(BLOCS, (0, 0))
        for bloc, releases, open_w in con.execute(
            """SELECT CASE WHEN country IN ('US', 'CN') THEN country ELSE 'ROW' END, count(*),
                      count(*) FILTER (WHERE open_weights)
               FROM model_releases WHERE first_seen_at >= ? GROUP BY ALL""",
            [now - timedelta(days=window)],
        ).fetchall():
            counts[bloc] = (releases, open_w)
        digest.scoreboard[window] = [Scoreline(b, *counts[b]) for b in BLOCS]
    return digest


def render_digest(digest: Digest) -> dict[str, Any]:
    total = sum(digest.events_by_type.values())
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": truncate(f"AI race digest — {digest.day.isoformat()}", HEADER_TEXT_LIMIT)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{total} AI-race event(s), each counted once"}]},
    ]
    for event_type in sorted(digest.events_by_type, key=lambda t: (-digest.events_by_type[t], t)):
        lines = [f"*{EVENT_LABEL.get(event_type, event_type)}* ({digest.events_by_type[event_type]})"]
        for title, link, stories in digest.headlines.get(event_type, []):
            label = escape_mrkdwn(truncate(title or "(untitled)", 200))
            outlet = f" · {stories} outlets" if stories > 1 else ""
            lines.append(f"• {mrkdwn_link(link, title or '(untitled)') if link else label}{outlet}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": truncate_mrkdwn("\n".join(lines), SECTION_TEXT_LIMIT)}})
    blocks.append({"type": "divider"})
    board = ["*Flagship releases scoreboard*"]
    for window, lines in sorted(digest.scoreboard.items()):
        cells = " · ".join(f"{BLOC_LABEL[s.bloc]} {s.releases} ({s.open_share:.0%} open)" for s in lines)
        board.append(f"{window} days: {cells}")
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(board)}})
    return {"text": f"AI race digest {digest.day.isoformat()}: {total} event(s)", "blocks": limit_blocks(blocks)}


def render_feed_notice(feed: str, url: str, *, down: bool, failures: int, error: str | None) -> dict[str, Any]:
    """One 'source down' (after N failures) or 'source recovered' message."""
    name = escape_mrkdwn(truncate(feed, 150))
    if down:
        text = (f":warning: Source *{name}* is down after {failures} consecutive failures: "
                f"`{escape_mrkdwn(truncate(error or 'unknown error', 300))}`")
    else:
        text = f":white_check_mark: Source *{name}* has recovered."
    text += f"\n{mrkdwn_link(url, url)}" if url.startswith(("http://", "https://")) else ""
    fallback = f"Source {feed} {'is down' if down else 'recovered'}"
    return {"text": escape_mrkdwn(fallback), "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def render_budget_summary(models: list[tuple[str, str, str | None]], budget: int) -> dict[str, Any]:
    """Replaces root alerts beyond the hourly budget with one message listing them."""
    lines = [f"*{len(models)} more model releases* (hourly alert budget of {budget} reached):"]
    lines += [f"• {escape_mrkdwn(truncate(model, 120))} by {escape_mrkdwn(truncate(org, 80))}"
              + (f" ({escape_mrkdwn(country)})" if country else "") for model, org, country in models[:40]]
    if len(models) > 40:
        lines.append(f"… and {len(models) - 40} more")
    return {"text": f"{len(models)} more model releases",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                    "text": truncate_mrkdwn("\n".join(lines), SECTION_TEXT_LIMIT)}}]}
