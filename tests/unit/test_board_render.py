"""The board's library side: queries against a real (temp) DuckDB store and the HTML they render.

``seed_board`` writes a small, realistic store (the sample releases, a hostile story, feeds in every
health state, alerts in every Slack state); the route and browser tests reuse it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from racewatch.board import queries, render
from racewatch.board.queries import country_group, parse_query, read_board
from racewatch.settings import Settings
from racewatch.store import db

NOW = datetime(2026, 11, 28, 12, 0)
XSS_TITLE = "<script>alert(1)</script>"

# (release_key, model, org, country, parameters, open_weights, days before now)
SAMPLE_RELEASES = [
    ("alibaba/qwen3-max", "Qwen3-Max", "Alibaba", "CN", "1T", False, 4),
    ("moonshot-ai/kimi-k2.5", "Kimi K2.5", "Moonshot AI", "CN", "1T (32B active)", True, 2),
    ("google-deepmind/gemini-3-ultra", "Gemini 3 Ultra", "Google DeepMind", "US", None, False, 6),
    ("mistral-ai/mistral-large-3", "Mistral Large 3", "Mistral AI", "FR", None, None, 1),
]
FEEDS = [  # feed_id, name, status, failures, last success (days ago), next due (minutes from now), error
    ("asiatech-daily", "AsiaTech Daily", "ok", 0, 0.01, 8, None),
    ("silicon-ledger", "Silicon Ledger", "not_modified", 0, 0.02, 5, None),
    ("euro-ai-wire", "Euro AI Wire", "error", 3, 1.5, 20, "HTTP 503 from <b>upstream</b>"),
    ("frontier-lab-notes", "Frontier Lab Notes", "ok", 0, 0.9, -600, None),
    ("pacific-markets", "Pacific Markets Review", None, 0, None, None, None),
]


def _entry(con: duckdb.DuckDBPyConnection, key: str, feed_id: str, title: str, summary: str, link: str | None,
           at: datetime, *, event_type: str = "other", ai: bool = True, release: tuple | None = None) -> None:
    con.execute(
        """INSERT INTO entries (entry_key, feed_id, guid, link, title, summary_text, summary_html, published_at,
               content_hash, first_seen_at, last_seen_at, batch_id, classified_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'b1', 'test')""",
        [key, feed_id, key, link, title, summary, summary, at, key, at, at],
    )
    key_, model, org, country = release[:4] if release else (None, None, None, None)
    con.execute(
        "INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0.9, ['test'], NULL, NULL, NULL, 'test', ?)",
        [key, ai, event_type, release is not None, [org] if org else [], [model] if model else [], country, key_,
         at],
    )


def seed_board(con: duckdb.DuckDBPyConnection, now: datetime = NOW) -> None:
    """The sample store every board test reads; ``now`` anchors all relative timestamps."""
    for feed_id, name, status, failures, success_days, due_min, error in FEEDS:
        url = f"https://{feed_id}.example/feed"
        con.execute("INSERT INTO feeds (feed_id, url, config_url, name, added_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [feed_id, url, url, name, now, now])
        if status is not None:
            con.execute(
                """INSERT INTO feed_health (feed_id, last_status, last_fetch_at, last_success_at,
                       consecutive_failures, last_error, next_due_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [feed_id, status, now - timedelta(minutes=5), now - timedelta(days=success_days), failures, error,
                 now + timedelta(minutes=due_min)],
            )
    con.execute("INSERT INTO feeds (feed_id, url, config_url, name, active, retired_reason, added_at, updated_at) "
                "VALUES ('old-blog', 'https://old.example/rss', 'https://old.example/rss', 'Old Blog', FALSE, "
                "'HTTP 410 Gone', ?, ?)", [now, now])
    for n, release in enumerate(SAMPLE_RELEASES):
        key, model, org, country, params, open_w, days = release
        seen = now - timedelta(days=days)
        con.execute(
            """INSERT INTO model_releases (release_key, org, country, model, parameters, open_weights, claims,
                   first_seen_at, first_entry_key, announce_url, outlets, provenance, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, [], ?, ?, ?, ?, '{}', ?)""",
            [key, org, country, model, params, open_w, seen, f"{key}#0", f"https://{org.split()[0].lower()}.example/"
             f"{model.lower().replace(' ', '-')}", 2, seen],
        )
        for i, feed_id in enumerate(("asiatech-daily", "silicon-ledger")):
            entry = f"{key}#{i}"
            _entry(con, entry, feed_id, f"{org} releases {model}" + (" — hands-on" if i else ""),
                   f"{org} has released {model}, its new flagship model.", f"https://{feed_id}.example/{n}/{i}",
                   seen + timedelta(hours=i), event_type="model_release", release=release)
            con.execute("INSERT INTO release_coverage VALUES (?, ?, ?, ?)",
                        [key, entry, feed_id, seen + timedelta(hours=i)])
    alerts = [  # alert_id, kind, release_key, status, slack_ts, minutes ago, error
        ("root:alibaba/qwen3-max", "release_root", "alibaba/qwen3-max", "sent", "1764300000.000100", 300, None),
        ("root:moonshot-ai/kimi-k2.5", "release_root", "moonshot-ai/kimi-k2.5", "dry_run", None, 200, None),
        ("root:google-deepmind/gemini-3-ultra", "release_root", "google-deepmind/gemini-3-ultra", "failed", None, 100,
         "channel_not_found <#C123>"),
        ("followup:alibaba/qwen3-max:x", "followup", "alibaba/qwen3-max", "pending", None, 10, None),
    ]
    for alert_id, kind, key, status, ts, minutes, error in alerts:
        at = now - timedelta(minutes=minutes)
        con.execute(
            """INSERT INTO alerts (alert_id, kind, release_key, channel, status, slack_ts, attempts, last_error,
                   created_at, sent_at) VALUES (?, ?, ?, '#ai-race', ?, ?, 1, ?, ?, ?)""",
            [alert_id, kind, key, status, ts, error, at, at if status == "sent" else None],
        )
    _entry(con, "xss", "silicon-ledger", XSS_TITLE, 'Click <img src=x onerror="alert(2)"> 100% of_the time',
           "javascript:alert(3)", now - timedelta(days=1), event_type="benchmark")
    _entry(con, "chips-old", "silicon-ledger", "Export curbs widen to more AI chips", "Commerce widens curbs.",
           "https://silicon-ledger.example/chips", now - timedelta(days=20), event_type="policy_export_controls")
    _entry(con, "llama-farm", "pacific-markets", "The llama farm that became a wedding hotspot", "Not AI at all.",
           "https://pacific.example/llama", now - timedelta(days=3), ai=False)


def make_store(home: Path, now: datetime = NOW) -> Settings:
    """A racewatch home whose live database holds :func:`seed_board`'s rows."""
    settings = Settings.from_env({"RACEWATCH_HOME": str(home)})
    with db.connect(settings.db_path) as con:
        seed_board(con, now)
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_store(tmp_path / "home")


class _Tags(HTMLParser):
    """Collects every start tag with its attributes, the way a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_timeline_shows_releases_in_country_lanes(settings: Settings) -> None:
    board = read_board(settings, now=NOW)
    assert [r.model for r in board.releases] == ["Mistral Large 3", "Kimi K2.5", "Qwen3-Max", "Gemini 3 Ultra"]
    assert {r.model: r.group for r in board.releases} == {
        "Qwen3-Max": "CN", "Kimi K2.5": "CN", "Gemini 3 Ultra": "US", "Mistral Large 3": "ROW"}
    page = render.render_page(board)
    svg = page[page.index('<svg class="timeline"'):page.index("</svg>", page.index('<svg class="timeline"'))]
    for label in ("Qwen3-Max", "Kimi K2.5", "Gemini 3 Ultra", "Mistral Large 3 (FR)", "United States", "China",
                  "Rest of world"):
        assert label in svg
    # Kimi K2.5 is open weights: drawn as the open (diamond) marker; Qwen3-Max as a closed one.
    def marker_of(key: str) -> str:
        start = svg.index(f'href="#{render.anchor(key)}"')
        return svg[start:svg.index("</a>", start)]

    assert 'class="mark open"' in marker_of("moonshot-ai/kimi-k2.5")
    assert 'class="mark closed"' in marker_of("alibaba/qwen3-max")
    assert 'class="mark unknown"' in marker_of("mistral-ai/mistral-large-3")


def test_releases_are_placed_by_publication_not_first_sight(settings: Settings) -> None:
    with db.connect(settings.db_path) as con:  # a first poll sees a week of releases at once
        con.execute("UPDATE model_releases SET first_seen_at = ?", [NOW])
    released = {r.model: r.released_at for r in read_board(settings, now=NOW).releases}
    assert released == {model: NOW - timedelta(days=days) for _, model, *_, days in SAMPLE_RELEASES}


def test_a_burst_of_releases_keeps_every_marker_and_drops_colliding_labels() -> None:
    burst = [queries.Release(f"lab/m{i}", f"Model number {i}", "Lab", "US", None, i % 2 == 0,
                             NOW - timedelta(hours=i), None, 1, None, (), 0) for i in range(10)]
    svg = render.timeline_svg(burst, NOW)
    assert svg.count('class="release-link"') == 10 and svg.count('class="mark ') == 10
    assert 1 <= svg.count('class="release-label"') <= 3  # three label rows per lane, no overlaps


def test_each_release_links_to_its_coverage(settings: Settings) -> None:
    page = render.render_page(read_board(settings, now=NOW))
    card_id = render.anchor("alibaba/qwen3-max")
    assert f'href="#{card_id}"' in page and f'id="{card_id}"' in page
    card = page[page.index(f'id="{card_id}"'):]
    card = card[:card.index("</article>")]
    assert 'href="https://asiatech-daily.example/0/0"' in card and 'href="https://silicon-ledger.example/0/1"' in card
    assert "Slack: sent" in card


def test_hostile_feed_text_renders_inert(settings: Settings) -> None:
    board = read_board(settings, now=NOW, query="alert")
    page = render.render_page(board)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.replace("<mark>", "").replace("</mark>", "")
    for tag, attrs in _tags(page):
        assert tag not in ("script", "iframe", "object", "embed", "img"), tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("#", "?", "https://", "http://")), href
    # Feed errors and Slack errors are escaped too.
    assert "HTTP 503 from &lt;b&gt;upstream&lt;/b&gt;" in page
    assert "channel_not_found &lt;#C123&gt;" in page


def test_search_matches_title_and_summary_with_bound_parameters(settings: Settings) -> None:
    with queries.open_store(settings) as (con, _, _):
        by_title = queries.search_stories(con, "EXPORT curbs")
        by_summary = queries.search_stories(con, "flagship kimi")
        literal = queries.search_stories(con, "100% of_the")
        wildcard = queries.search_stories(con, "%")
        injection = queries.search_stories(con, "x'); DROP TABLE stories; --")
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 11
    assert by_title and [h.title for h in by_title.hits] == ["Export curbs widen to more AI chips"]
    assert by_summary and {h.title for h in by_summary.hits} == {"Moonshot AI releases Kimi K2.5",
                                                                 "Moonshot AI releases Kimi K2.5 — hands-on"}
    assert literal and [h.title for h in literal.hits] == [XSS_TITLE]
    assert wildcard and [h.title for h in wildcard.hits] == [XSS_TITLE]  # '%' is a character, not a wildcard
    assert injection is not None and injection.hits == ()


def test_search_limit_and_query_normalisation(settings: Settings) -> None:
    assert parse_query("  Kimi   kimi\tK2.5 ") == ("Kimi kimi K2.5", ("kimi", "k2.5"))
    assert parse_query("x" * 500)[0] == "x" * queries.MAX_QUERY_CHARS
    assert parse_query("   ") == ("", ())
    with queries.open_store(settings) as (con, _, _):
        assert queries.search_stories(con, "") is None
        result = queries.search_stories(con, "releases", limit=3)
    assert result is not None and len(result.hits) == 3 and result.truncated
    assert [h.published_at for h in result.hits] == sorted((h.published_at for h in result.hits), reverse=True)


def test_search_results_are_highlighted_and_escaped(settings: Settings) -> None:
    page = render.render_page(read_board(settings, now=NOW, query="script"))
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in page
    assert 'value="script"' in page
    hostile = render.render_page(read_board(settings, now=NOW, query='"><script>x</script>'))
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in hostile and "<script>x" not in hostile


def test_event_counts_over_7_and_30_days(settings: Settings) -> None:
    counts = {c.event_type: (c.last_7d, c.last_30d) for c in read_board(settings, now=NOW).event_counts}
    assert list(counts)[:3] == ["model_release", "benchmark", "funding"]
    assert counts["model_release"] == (8, 8)
    assert counts["benchmark"] == (1, 1)
    assert counts["policy_export_controls"] == (0, 1)
    assert counts["other"] == (0, 0)  # the llama farm is not an AI-race story


def test_feed_health_lists_problems_first(settings: Settings) -> None:
    feeds = read_board(settings, now=NOW).feeds
    assert [(f.feed_id, f.problem) for f in feeds] == [
        ("euro-ai-wire", "failing (3 in a row)"),
        ("frontier-lab-notes", "overdue (is the poll DAG running?)"),
        ("pacific-markets", "never fetched"),
        ("old-blog", "retired: HTTP 410 Gone"),
        ("asiatech-daily", None),
        ("silicon-ledger", None),
    ]
    page = render.render_page(read_board(settings, now=NOW))
    assert page.index("Euro AI Wire") < page.index("AsiaTech Daily")
    assert "4 need attention" not in page and "3 need attention" in page


def test_alerts_show_slack_status(settings: Settings) -> None:
    board = read_board(settings, now=NOW)
    assert [a.status for a in board.alerts] == ["pending", "failed", "dry_run", "sent"]
    assert dict(board.alert_status_counts) == {"dry_run": 1, "failed": 1, "pending": 1, "sent": 1}
    page = render.render_page(board)
    assert "1764300000.000100" in page and "dry run: no Slack token configured" in page


def test_snapshot_is_preferred_over_the_live_file(settings: Settings) -> None:
    assert read_board(settings, now=NOW).data_source.startswith("live database")
    settings.snapshot_path.write_bytes(settings.db_path.read_bytes())
    with db.connect(settings.db_path) as con:  # the writer moves on; the board shows the published copy
        con.execute("DELETE FROM model_releases")
    board = read_board(settings, now=NOW)
    assert board.data_source == "analyst snapshot" and len(board.releases) == 4


def test_missing_store_renders_an_empty_board_with_a_note(tmp_path: Path) -> None:
    settings = Settings.from_env({"RACEWATCH_HOME": str(tmp_path / "nowhere")})
    board = read_board(settings, now=NOW, query="kimi")
    assert board.note and "No racewatch data yet" in board.note and board.releases == ()
    page = render.render_page(board)
    assert "No flagship releases recorded yet." in page and "No alerts yet." in page
    assert 'role="status"' in page


def test_unreadable_store_renders_a_note(tmp_path: Path) -> None:
    settings = Settings.from_env({"RACEWATCH_HOME": str(tmp_path)})
    settings.db_path.write_text("not a database")
    board = read_board(settings, now=NOW)
    assert board.note and "could not be opened" in board.note


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/a?b=1", True), ("http://example.com", True), ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False), ("data:text/html,x", False), ("//evil.example/x", False), ("", False),
    (None, False), ("https://exa mple.com", False), ("https:///nohost", False), ("https://x.example/\n", False),
])
def test_safe_href(url: str | None, expected: bool) -> None:
    assert (render.safe_href(url) is not None) is expected


def test_country_groups_and_relative_times() -> None:
    assert [country_group(c) for c in ("US", "cn", "FR", None, "")] == ["US", "CN", "ROW", "ROW", "ROW"]
    assert render.fmt_relative(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert render.fmt_relative(NOW + timedelta(hours=3), NOW) == "in 3 h"
    assert render.fmt_relative(NOW - timedelta(days=3), NOW) == "3 d ago"
    assert render.fmt_relative(None, NOW) == "never"


def test_library_never_imports_airflow() -> None:
    probe = ("import json, sys, racewatch.board\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('airflow'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []
