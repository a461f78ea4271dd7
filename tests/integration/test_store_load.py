"""Loading landed batches into a real DuckDB file: counts, in-batch duplicates, the lean connection."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from racewatch.landing import land_batch, new_batch_id
from racewatch.store import db
from racewatch.store.feeds import load_batch

SEEN = datetime(2026, 11, 28, 12, 0)


def entry(key: str, title: str, seen_at: datetime = SEEN) -> dict[str, Any]:
    return {
        "entry_key": key, "feed_id": "lab", "guid": key, "link": f"https://lab.example/{key}", "title": title,
        "summary_text": title, "summary_html": f"<p>{title}</p>", "published_at": SEEN, "updated_at": None,
        "content_hash": f"hash:{title}", "flags": [], "seen_at": seen_at,
    }


def land(tmp_path: Path, entries: list[dict[str, Any]]) -> Any:
    return land_batch(tmp_path / "landing", new_batch_id(), {"fetches": [], "entries": entries, "quarantine": []},
                      {"kind": "test"})


def test_load_counts_new_and_changed_and_the_last_copy_of_a_key_wins(tmp_path: Path) -> None:
    first = land(tmp_path, [
        entry("a", "Kimi K2.5 draft"),
        entry("a", "Kimi K2.5 released", SEEN + timedelta(seconds=1)),  # same key twice in one batch
        entry("b", "Qwen3-Max"),
    ])
    second = land(tmp_path, [entry("a", "Kimi K2.5 released"), entry("b", "Qwen3-Max-Thinking"), entry("c", "Gemini")])
    with db.connect(tmp_path / "rw.duckdb", lean=True) as con:
        loaded = load_batch(con, first)
        assert (loaded.new_entries, loaded.changed_entries) == (2, 0)
        assert con.execute("SELECT title, revision FROM entries WHERE entry_key = 'a'").fetchone() == (
            "Kimi K2.5 released", 1)
        again = load_batch(con, second)
        assert (again.new_entries, again.changed_entries) == (1, 1)
        assert con.execute("SELECT entry_key, revision FROM entries ORDER BY 1").fetchall() == [
            ("a", 1), ("b", 2), ("c", 1)]
        assert con.execute("SELECT entries FROM landed_batches ORDER BY loaded_at").fetchall() == [(2,), (3,)]
        assert load_batch(con, second).already_loaded


def test_lean_connection_uses_one_thread(tmp_path: Path) -> None:
    with db.connect(tmp_path / "rw.duckdb", lean=True) as con:
        assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)


def test_source_context_reaches_the_classifier_input(tmp_path) -> None:
    """`org`/`lang` of the sources file are stored in `feeds` and handed to the classifier with each entry."""
    from racewatch.sources import Source
    from racewatch.store import db as store_db
    from racewatch.store.feeds import sync_feeds
    from racewatch.store.stories import pending_entries

    path = tmp_path / "ctx.duckdb"
    with store_db.connect(path) as con:
        sync_feeds(con, [Source(id="qwen", url="https://qwen.example/feed", name="Qwen", org="Alibaba", lang="zh"),
                         Source(id="news", url="https://news.example/feed", name="News")])
        con.execute("INSERT INTO entries (entry_key, feed_id, title, summary_text, summary_html, published_at, "
                    "content_hash, first_seen_at, last_seen_at, batch_id) VALUES "
                    "('k1', 'qwen', 'Qwen3', '', '', now(), 'h', now(), now(), 'b'), "
                    "('k2', 'news', 'Other', '', '', now(), 'h', now(), now(), 'b')")
        rows = {r["entry_key"]: r for r in pending_entries(con, "v")}
        assert con.execute("SELECT org, lang FROM feeds WHERE feed_id = 'qwen'").fetchone() == ("Alibaba", "zh")
        sync_feeds(con, [Source(id="qwen", url="https://qwen.example/feed", name="Qwen", org="Alibaba", lang="en")])
        assert con.execute("SELECT lang FROM feeds WHERE feed_id = 'qwen'").fetchone() == ("en",)
    assert (rows["k1"]["source_org"], rows["k1"]["source_lang"]) == ("Alibaba", "zh")
    assert (rows["k2"]["source_org"], rows["k2"]["source_lang"]) == (None, None)
