"""The feedparser adapter: bozo policy, stable keys, URL canonicalization, dates, plain text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from racewatch.parse import FeedParseError, canonical_url, html_to_text, make_entry_key, parse_feed

from tests.conftest import SAMPLE_DIR

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def rss(items: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"<link>https://news.example/</link>{extra}{items}</channel></rss>").encode()


@pytest.mark.parametrize("path", sorted(SAMPLE_DIR.glob("*.xml")) + sorted(SAMPLE_DIR.glob("*.atom")),
                         ids=lambda p: p.name)
def test_every_sample_feed_parses_with_unique_keys(path) -> None:
    parsed = parse_feed(path.read_bytes(), "s", fetched_at=NOW)
    keys = [e.entry_key for e in parsed.entries]
    assert len(keys) >= 8 and len(set(keys)) == len(keys)
    assert all(e.title and e.published_at.tzinfo is UTC for e in parsed.entries)


def test_non_utf8_feeds_decode_to_the_right_characters() -> None:
    gb = parse_feed((SAMPLE_DIR / "asiatech_daily.xml").read_bytes(), "a", fetched_at=NOW)
    assert any("阿里巴巴" in e.title + e.summary_text for e in gb.entries)
    latin = parse_feed((SAMPLE_DIR / "euro_ai_wire.xml").read_bytes(), "e", fetched_at=NOW)
    assert any("é" in e.title + e.summary_text for e in latin.entries)


def test_broken_markup_is_survivable_with_a_warning() -> None:
    parsed = parse_feed((SAMPLE_DIR / "pacific_markets_review.xml").read_bytes(), "p", fetched_at=NOW)
    assert parsed.entries and parsed.warnings


@pytest.mark.parametrize("body", [b"<html><body><h1>502 Bad Gateway</h1></body></html>", b"", b"\x00\x01garbage",
                                  b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</ti"])
def test_documents_that_are_not_feeds_are_errors_not_empty_feeds(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, "x", fetched_at=NOW)


def test_a_valid_empty_feed_is_empty_not_an_error() -> None:
    assert parse_feed(rss(""), "x", fetched_at=NOW).entries == ()


def test_entry_key_prefers_guid_then_link_then_content() -> None:
    items = ("<item><guid>g1</guid><title>A</title><link>https://x.example/a?utm_source=rss</link></item>"
             "<item><title>B</title><link>https://x.example/b?utm_medium=x&amp;id=2</link></item>"
             "<item><title>C</title><description>only text</description></item>")
    a, b, c = parse_feed(rss(items), "f", fetched_at=NOW).entries
    assert a.entry_key == make_entry_key("f", "guid:g1")
    assert b.entry_key == make_entry_key("f", "link:https://x.example/b?id=2")
    assert b.link == "https://x.example/b?id=2"
    assert c.entry_key.startswith("f:") and c.link is None


def test_edited_entry_keeps_its_key_and_changes_its_hash() -> None:
    before = parse_feed(rss("<item><guid>g</guid><title>Old</title></item>"), "f", fetched_at=NOW).entries[0]
    after = parse_feed(rss("<item><guid>g</guid><title>New</title></item>"), "f", fetched_at=NOW).entries[0]
    assert before.entry_key == after.entry_key and before.content_hash != after.content_hash


def test_duplicate_guids_are_disambiguated() -> None:
    items = "<item><guid>same</guid><title>One</title></item><item><guid>same</guid><title>Two</title></item>"
    one, two = parse_feed(rss(items), "f", fetched_at=NOW).entries
    assert one.entry_key != two.entry_key and "duplicate_id" in two.flags


def test_undated_and_future_entries_are_flagged() -> None:
    future = (NOW + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = (f"<item><guid>1</guid><title>Undated</title></item>"
             f"<item><guid>2</guid><title>Future</title><pubDate>{future}</pubDate></item>")
    undated, fut = parse_feed(rss(items), "f", fetched_at=NOW).entries
    assert undated.published_at == NOW and "undated" in undated.flags
    assert fut.published_at == NOW and "future_date_clamped" in fut.flags


def test_relative_links_resolve_against_the_feed() -> None:
    body = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://lab.example/blog/">'
            b"<title>L</title><entry><id>1</id><title>Post</title><link href='posts/1'/>"
            b"<updated>2026-11-27T10:00:00Z</updated></entry></feed>")
    (entry,) = parse_feed(body, "l", fetched_at=NOW).entries
    assert entry.link == "https://lab.example/blog/posts/1"


def test_html_is_stripped_for_text_and_kept_sanitized() -> None:
    items = ("<item><guid>1</guid><title>T</title><description><![CDATA[<p>Hello&nbsp;<b>world</b></p>"
             "<script>alert(1)</script><p>Next</p>]]></description></item>")
    (entry,) = parse_feed(rss(items), "f", fetched_at=NOW).entries
    assert entry.summary_text == "Hello world Next"
    assert "<script" not in entry.summary_html and "<b>world</b>" in entry.summary_html
    assert html_to_text("a<br>b") == "a b"


def test_ttl_is_read() -> None:
    assert parse_feed(rss("", "<ttl>45</ttl>"), "f", fetched_at=NOW).ttl_minutes == 45


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/.", max_size=20),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_=&.", max_size=30))
def test_canonical_url_is_idempotent_and_drops_tracking(path: str, query: str) -> None:
    url = canonical_url(f"https://Example.COM/{path}?{query}&utm_source=x#frag")
    assert url is not None and "utm_" not in url
    assert canonical_url(url) == url
    assert url.startswith("https://example.com/")


@given(st.text(max_size=30), st.text(max_size=30))
def test_entry_keys_are_deterministic_and_feed_scoped(feed: str, identity: str) -> None:
    assert make_entry_key(feed, identity) == make_entry_key(feed, identity)
    assert make_entry_key(feed + "x", identity) != make_entry_key(feed, identity)
