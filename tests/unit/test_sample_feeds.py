"""The bundled sample feeds and the sources files keep the promises the demo and other tests rely on.

See include/sample_feeds/README.md for what each feed is meant to exercise.
"""

from __future__ import annotations

import calendar
import email.utils
import functools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = ROOT / "include" / "sample_feeds"
SAMPLE_SOURCES = ROOT / "include" / "config" / "sources.sample.yaml"
REAL_SOURCES = ROOT / "include" / "config" / "sources.yaml"
REAL_OPML = ROOT / "include" / "config" / "sources.opml"

ID_RE = re.compile(r"^[a-z0-9-]+$")
WINDOW = (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC))
BROKEN = "pacific-markets-review"
NO_GUIDS = "general-news-desk"


def _load_sources(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("sources"), list), f"{path}: no 'sources' list"
    return data["sources"]


SAMPLES = _load_sources(SAMPLE_SOURCES)
SAMPLE_IDS = [s["id"] for s in SAMPLES]


def _sample(source_id: str) -> dict:
    return next(s for s in SAMPLES if s["id"] == source_id)


@functools.cache
def _raw(source_id: str) -> bytes:
    return (ROOT / _sample(source_id)["url"]).read_bytes()


@functools.cache
def _parsed(source_id: str) -> feedparser.FeedParserDict:
    return feedparser.parse(_raw(source_id))


def _entry_text(entry) -> str:
    parts = [entry.get("title", ""), entry.get("summary", "")]
    parts += [c.get("value", "") for c in entry.get("content", [])]
    return " ".join(parts)


def _entry_dates(entry) -> list[datetime]:
    return [
        datetime.fromtimestamp(calendar.timegm(entry[key]), UTC)
        for key in ("published_parsed", "updated_parsed")
        if entry.get(key)
    ]


# --- sources.sample.yaml ----------------------------------------------------------------------------


def test_sample_sources_ids_are_unique_and_well_formed():
    assert len(SAMPLES) >= 7
    assert len(SAMPLE_IDS) == len(set(SAMPLE_IDS))
    for source in SAMPLES:
        assert ID_RE.match(source["id"]), source["id"]
        assert source.get("name")
        assert source.get("tags")
        assert source.get("poll_minutes") == 10


def test_sample_sources_point_at_existing_relative_files():
    for source in SAMPLES:
        url = source["url"]
        assert not Path(url).is_absolute() and "://" not in url, url
        assert (ROOT / url).is_file(), f"{source['id']}: {url} does not exist"


def test_every_sample_feed_file_is_listed():
    listed = {(ROOT / s["url"]).resolve() for s in SAMPLES}
    on_disk = {p.resolve() for p in SAMPLE_DIR.iterdir() if p.is_file() and p.suffix != ".md"}
    assert on_disk == listed


# --- each sample feed -------------------------------------------------------------------------------


@pytest.mark.parametrize("source_id", SAMPLE_IDS)
def test_sample_feed_parses_with_8_to_15_entries(source_id):
    parsed = _parsed(source_id)
    if source_id == BROKEN:
        assert parsed.bozo, "the broken feed should be flagged bozo"
        assert len(parsed.entries) > 0
    else:
        assert not parsed.bozo, f"{source_id}: {parsed.get('bozo_exception')!r}"
    assert 8 <= len(parsed.entries) <= 15, len(parsed.entries)
    assert parsed.version in {"rss20", "atom10"}
    for entry in parsed.entries:
        assert entry.get("title"), entry
        assert entry.get("link", "").startswith("https://"), entry.get("link")


@pytest.mark.parametrize("source_id", SAMPLE_IDS)
def test_sample_feed_keys_are_unique(source_id):
    entries = _parsed(source_id).entries
    links = [e.link for e in entries]
    assert len(links) == len(set(links))
    if source_id == NO_GUIDS:
        assert all(not e.get("id") for e in entries), "this feed has no guids on purpose"
        assert b"<guid" not in _raw(source_id)
    else:
        ids = [e.get("id") for e in entries]
        assert all(ids), "every entry should carry a guid/id"
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("source_id", SAMPLE_IDS)
def test_sample_feed_dates_are_in_the_window(source_id):
    for entry in _parsed(source_id).entries:
        for when in _entry_dates(entry):
            assert WINDOW[0] <= when < WINDOW[1], (entry.title, when)


def test_exactly_one_undated_item():
    undated = [
        (source_id, e.title) for source_id in SAMPLE_IDS for e in _parsed(source_id).entries if not _entry_dates(e)
    ]
    assert len(undated) == 1, undated


@pytest.mark.parametrize("source_id", [s for s in SAMPLE_IDS if _sample(s)["url"].endswith(".xml")])
def test_rfc822_weekdays_match_dates(source_id):
    text = _raw(source_id).decode("latin-1")  # dates are ASCII in every encoding used here
    dates = re.findall(r"<(?:pubDate|lastBuildDate)>([^<]+)</", text)
    assert dates
    for value in dates:
        parsed = email.utils.parsedate_to_datetime(value)
        assert parsed.strftime("%a") == value[:3], value


def test_some_links_carry_utm_parameters():
    tracked = [e.link for source_id in SAMPLE_IDS for e in _parsed(source_id).entries if "utm_" in e.link]
    assert len(tracked) >= 2


# --- encodings --------------------------------------------------------------------------------------


def test_gb18030_feed_is_not_utf8_and_decodes_to_chinese():
    raw = _raw("asiatech-daily")
    assert raw.startswith(b'<?xml version="1.0" encoding="GB18030"?>')
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    for word in ("阿里巴巴", "月之暗面", "通义千问"):
        assert word in text
    parsed = _parsed("asiatech-daily")
    assert parsed.encoding.lower() == "gb18030"
    body = " ".join(_entry_text(e) for e in parsed.entries)
    assert "阿里巴巴" in body and "月之暗面" in body


def test_latin1_feed_is_not_utf8_and_decodes_to_accents():
    raw = _raw("euro-ai-wire")
    assert raw.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("iso-8859-1")
    for word in ("Zürich", "Köln", "Hélène", "modèle"):
        assert word in text
    parsed = _parsed("euro-ai-wire")
    assert parsed.encoding.lower() == "iso-8859-1"
    body = " ".join(_entry_text(e) for e in parsed.entries)
    assert "Zürich" in body and "écosystème" in body
    assert "€" in body  # written as &#8364;, which Latin-1 cannot hold


def test_broken_feed_keeps_the_truncated_last_item():
    raw = _raw(BROKEN)
    assert not raw.rstrip().endswith(b"</rss>")
    assert b"S&P" in raw
    assert _parsed(BROKEN).entries[-1].title.startswith("Week ahead")


# --- story mix ----------------------------------------------------------------------------------


def _feeds_mentioning(predicate) -> set[str]:
    return {source_id for source_id in SAMPLE_IDS if any(predicate(_entry_text(e)) for e in _parsed(source_id).entries)}


def test_qwen3_max_thinking_is_covered_by_at_least_three_feeds():
    feeds = _feeds_mentioning(lambda t: "qwen3-max-thinking" in t.lower())
    assert len(feeds) >= 3, feeds


def test_kimi_k2_5_is_covered_by_at_least_three_feeds():
    feeds = _feeds_mentioning(lambda t: "moonshot" in t.lower() and re.search(r"\bk2\.5\b", t, re.I))
    assert len(feeds) >= 3, feeds


@pytest.mark.parametrize("model", ["Gemini 3 Ultra", "Mistral Large 3"])
def test_other_flagships_are_covered_by_several_feeds(model):
    feeds = _feeds_mentioning(lambda t: model in t)
    assert len(feeds) >= 3, feeds


@pytest.mark.parametrize(
    "trap",
    ["Räikkönen", "Claude Monet", "Gemini, ", "llama farm", "moonshot", "Alibaba quarterly", "Apple growers"],
)
def test_general_news_carries_homonym_traps(trap):
    titles = [e.title for e in _parsed(NO_GUIDS).entries]
    assert any(trap in title for title in titles), trap


# --- sources.yaml and sources.opml --------------------------------------------------------------


def test_real_sources_are_well_formed():
    sources = _load_sources(REAL_SOURCES)
    assert 30 <= len(sources) <= 50
    ids = [s["id"] for s in sources]
    assert len(ids) == len(set(ids))
    urls = [s["url"] for s in sources]
    assert len(urls) == len(set(urls))
    for source in sources:
        assert ID_RE.match(source["id"]), source["id"]
        parts = urlsplit(source["url"])
        assert parts.scheme in {"http", "https"} and parts.netloc, source["url"]
        assert source.get("name")
        assert isinstance(source.get("poll_minutes"), int) and source["poll_minutes"] > 0
        assert not source.get("allow_private", False)
        if "rss.arxiv.org" in source["url"]:
            assert source["poll_minutes"] == 60


def test_opml_lists_the_same_urls_as_sources_yaml():
    root = ET.parse(REAL_OPML).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.find("head/title") is not None
    opml_urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert len(opml_urls) == len(set(opml_urls))
    assert set(opml_urls) == {s["url"] for s in _load_sources(REAL_SOURCES)}
