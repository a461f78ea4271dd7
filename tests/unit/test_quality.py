"""Tests for the Great Expectations gate (racewatch.quality).

Every expectation gets a violating row next to a valid one, so a test fails both when GX stops
flagging the bad row and when the mapping back to rows catches the wrong one. GX is real here: the
first test to validate pays the GX import (a few seconds), the rest reuse the cached context.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from racewatch import quality
from racewatch.quality import Quarantined, ValidationOutcome, validate_entries, validate_stories

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
INCLUDE = Path(__file__).resolve().parents[2] / "include"


def entry(key: str = "e1", **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "entry_key": key,
        "feed_id": "techcrunch-ai",
        "title": f"Lab ships model {key}",
        "link": f"https://example.com/{key}",
        "published_at": NOW - timedelta(hours=1),
        "summary_text": "A new frontier model was released today.",
        "guid": f"urn:{key}",  # an extra key: must be carried through untouched
    }
    row.update(overrides)
    return row


def story(story_id: str = "s1", **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": story_id,
        "is_ai_competition": True,
        "event_type": "model_release",
        "is_flagship_release": True,
        "orgs": ["OpenAI"],
        "models": ["GPT-5"],
        "country": "US",
        "release_key": "openai/gpt-5",
        "score": 0.92,
        "reasons": ["release verb", "flagship model name"],
    }
    row.update(overrides)
    return row


def only_quarantined(outcome: ValidationOutcome) -> Quarantined:
    assert len(outcome.quarantined) == 1, outcome.quarantined
    return outcome.quarantined[0]


@pytest.fixture(scope="module", autouse=True)
def warm_gx() -> None:
    """Pay the GX import once for the module so per-test timings mean something."""
    quality.warm_up()


# ---------------------------------------------------------------------------------------------
# Entries: one violating row per expectation, next to a valid row
# ---------------------------------------------------------------------------------------------

ENTRY_VIOLATIONS = [
    pytest.param(
        {"entry_key": None},
        "expect_column_values_to_not_be_null(entry_key)",
        "entry_key missing",
        id="entry_key-null",
    ),
    pytest.param({"title": None}, "expect_column_values_to_not_be_null(title)", "title missing", id="title-null"),
    pytest.param({"title": ""}, "expect_column_value_lengths_to_be_between(title)", "title is empty", id="title-empty"),
    pytest.param(
        {"title": "x" * 1001},
        "expect_column_value_lengths_to_be_between(title)",
        "title too long (1001 chars > 1000)",
        id="title-too-long",
    ),
    pytest.param({"link": None}, "expect_column_values_to_not_be_null(link)", "link missing", id="link-null"),
    pytest.param(
        {"link": "ftp://example.com/x"},
        "expect_column_values_to_match_regex(link)",
        "link is not http(s): 'ftp://example.com/x'",
        id="link-ftp",
    ),
    pytest.param(
        {"link": "javascript:alert(1)"},
        "expect_column_values_to_match_regex(link)",
        "link is not http(s)",
        id="link-javascript",
    ),
    pytest.param(
        {"link": "/relative/path"},
        "expect_column_values_to_match_regex(link)",
        "link is not http(s)",
        id="link-relative",
    ),
    pytest.param(
        {"published_at": datetime(1989, 12, 31, 23, 59, tzinfo=UTC)},
        "expect_column_values_to_be_between(published_at)",
        "is before 1990-01-01",
        id="published-too-old",
    ),
    pytest.param(
        {"published_at": NOW + timedelta(days=2, minutes=1)},
        "expect_column_values_to_be_between(published_at)",
        "too far in the future",
        id="published-future",
    ),
    pytest.param(
        {"published_at": "not a date"},
        "expect_column_values_to_be_between(published_at)",
        "published_at is not a timestamp: 'not a date'",
        id="published-garbage",
    ),
    pytest.param(
        {"summary_text": "s" * 100_001},
        "expect_column_value_lengths_to_be_between(summary_text)",
        "summary_text too long (100001 chars > 100000)",
        id="summary-too-long",
    ),
]


@pytest.mark.parametrize(("bad", "expectation", "reason"), ENTRY_VIOLATIONS)
def test_entries_violation_is_quarantined_next_to_valid_row(bad: dict[str, Any], expectation: str, reason: str) -> None:
    good = entry("good")
    wrong = entry("bad", **bad)
    outcome = validate_entries([good, wrong], now=NOW)

    assert outcome.suite == "entries"
    assert outcome.valid == [good]
    assert outcome.valid[0] is good  # the original dict, not a copy
    q = only_quarantined(outcome)
    assert q.key == ("" if wrong["entry_key"] is None else "bad")
    assert q.expectation == expectation
    assert reason in q.reason
    assert "\n" not in q.reason
    assert outcome.success is False
    assert outcome.critical_failure is None  # 1 of 2 rows is not "more than half"
    assert outcome.stats["failed"][expectation] == 1


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"title": "x"}, id="title-1-char"),
        pytest.param({"title": "x" * 1000}, id="title-1000-chars"),
        pytest.param({"published_at": None}, id="published-missing"),
        pytest.param({"published_at": datetime(1990, 1, 1, tzinfo=UTC)}, id="published-lower-bound"),
        pytest.param({"published_at": NOW + timedelta(days=2)}, id="published-upper-bound"),
        pytest.param({"published_at": datetime(2025, 5, 1, 8, 0)}, id="published-naive-is-utc"),
        pytest.param({"link": "http://example.com/plain"}, id="link-http"),
        pytest.param({"summary_text": "s" * 100_000}, id="summary-at-limit"),
        pytest.param({"summary_text": ""}, id="summary-empty"),
    ],
)
def test_entries_boundaries_pass(overrides: dict[str, Any]) -> None:
    row = entry("edge", **overrides)
    outcome = validate_entries([row], now=NOW)
    assert outcome.quarantined == []
    assert outcome.valid == [row]
    assert outcome.success is True


def test_future_tolerance_is_configurable() -> None:
    row = entry("ahead", published_at=NOW + timedelta(days=3))
    assert validate_entries([row], now=NOW).success is False
    assert validate_entries([row], now=NOW, future_tolerance=timedelta(days=5)).success is True


def test_duplicate_entry_keys_keep_first_and_quarantine_the_rest() -> None:
    first = entry("dup", title="first")
    other = entry("other")
    second = entry("dup", title="second")
    third = entry("dup", title="third")
    outcome = validate_entries([first, other, second, third], now=NOW)

    assert outcome.valid == [first, other]
    assert [q.row["title"] for q in outcome.quarantined] == ["second", "third"]
    assert {q.expectation for q in outcome.quarantined} == {"expect_column_values_to_be_unique(entry_key)"}
    assert all("duplicate entry_key 'dup'" in q.reason for q in outcome.quarantined)
    # GX flags every occurrence; the gate keeps the first one.
    assert outcome.stats["gx_unexpected"]["expect_column_values_to_be_unique(entry_key)"] == 3
    assert outcome.stats["failed"]["expect_column_values_to_be_unique(entry_key)"] == 2


def test_all_failures_of_a_row_are_joined_first_one_named() -> None:
    bad = entry("multi", title="", link="ftp://x", summary_text="s" * 100_001)
    q = only_quarantined(validate_entries([entry("ok"), bad], now=NOW))
    assert q.expectation == "expect_column_value_lengths_to_be_between(title)"
    assert q.reason == ("title is empty; link is not http(s): 'ftp://x'; summary_text too long (100001 chars > 100000)")


def test_quarantined_row_is_json_serializable_and_unchanged() -> None:
    published = datetime(2025, 5, 31, 9, 30, tzinfo=UTC)
    bad = entry("bad", link=None, published_at=published, tags={"ai"}, score=float("nan"))
    q = only_quarantined(validate_entries([bad], now=NOW))
    json.dumps(q.row)
    assert q.row["published_at"] == published.isoformat()
    assert q.row["guid"] == "urn:bad"
    assert q.row["tags"] == ["ai"]
    assert q.row["score"] is None
    assert bad["published_at"] is published  # the input row was not modified


def test_missing_keys_count_as_null_not_as_errors() -> None:
    rows = [{"entry_key": "a", "title": "t"}, {"entry_key": "b", "title": "u"}]
    outcome = validate_entries(rows, now=NOW)
    assert outcome.stats["errors"] == []
    assert outcome.critical_failure is None  # link is not critical
    assert [q.reason for q in outcome.quarantined] == ["link missing", "link missing"]


def test_critical_failure_when_most_rows_lack_titles() -> None:
    rows = [entry(f"e{i}", title=None) for i in range(3)] + [entry("ok")]
    outcome = validate_entries(rows, now=NOW)
    assert outcome.critical_failure is not None
    assert "expect_column_values_to_not_be_null(title)" in outcome.critical_failure
    assert "3 of 4 rows" in outcome.critical_failure
    assert "\n" not in outcome.critical_failure
    assert len(outcome.quarantined) == 3
    assert outcome.valid == [rows[-1]]


def test_critical_failure_when_most_rows_lack_keys() -> None:
    rows = [entry(f"e{i}", entry_key=None) for i in range(2)] + [entry("ok")]
    outcome = validate_entries(rows, now=NOW)
    assert outcome.critical_failure is not None
    assert "entry_key" in outcome.critical_failure


def test_no_critical_failure_at_exactly_half_or_for_non_critical_checks() -> None:
    half = validate_entries([entry("a", title=None), entry("b")], now=NOW)
    assert half.critical_failure is None
    links = validate_entries([entry(f"e{i}", link=None) for i in range(4)], now=NOW)
    assert links.critical_failure is None
    assert len(links.quarantined) == 4


# ---------------------------------------------------------------------------------------------
# Stories
# ---------------------------------------------------------------------------------------------

STORY_VIOLATIONS = [
    pytest.param({"id": None}, "expect_column_values_to_not_be_null(id)", "id missing", id="id-null"),
    pytest.param(
        {"event_type": "product_launch", "is_flagship_release": False},
        "expect_column_values_to_be_in_set(event_type)",
        "event_type 'product_launch' is not in the taxonomy",
        id="event-type-unknown",
    ),
    pytest.param(
        {"event_type": None, "is_flagship_release": False},
        "expect_column_values_to_not_be_null(event_type)",
        "event_type missing",
        id="event-type-null",
    ),
    pytest.param({"score": 1.5}, "expect_column_values_to_be_between(score)", "score 1.5 outside 0..1", id="score-1.5"),
    pytest.param({"score": -0.01}, "expect_column_values_to_be_between(score)", "outside 0..1", id="score-negative"),
    pytest.param(
        {"score": "high"},
        "expect_column_values_to_not_be_null(score)",
        "score is not a number: 'high'",
        id="score-not-number",
    ),
    pytest.param({"score": None}, "expect_column_values_to_not_be_null(score)", "score missing", id="score-null"),
    pytest.param(
        {"country": "XX"},
        "expect_column_values_to_be_in_set(country)",
        "country 'XX' is not an ISO 3166-1 alpha-2 code",
        id="country-XX",
    ),
    pytest.param(
        {"country": "us"},
        "expect_column_values_to_be_in_set(country)",
        "country 'us'",
        id="country-lowercase",
    ),
    pytest.param(
        {"country": "USA"}, "expect_column_values_to_be_in_set(country)", "country 'USA'", id="country-alpha3"
    ),
    pytest.param(
        {"event_type": "benchmark"},
        "expect_column_values_to_be_in_set(event_type) if is_flagship_release",
        "flagship release but event_type is 'benchmark', not 'model_release'",
        id="flagship-not-release",
    ),
    pytest.param(
        {"release_key": None},
        "expect_column_values_to_not_be_null(release_key) if is_flagship_release",
        "flagship release without release_key",
        id="flagship-without-release-key",
    ),
]


@pytest.mark.parametrize(("bad", "expectation", "reason"), STORY_VIOLATIONS)
def test_stories_violation_is_quarantined_next_to_valid_row(bad: dict[str, Any], expectation: str, reason: str) -> None:
    good = story("good")
    wrong = story("bad", **bad)
    outcome = validate_stories([good, wrong])

    assert outcome.suite == "stories"
    assert outcome.valid == [good]
    assert outcome.valid[0] is good
    q = only_quarantined(outcome)
    assert q.key == ("" if wrong["id"] is None else "bad")
    assert q.expectation == expectation
    assert reason in q.reason
    assert outcome.success is False
    assert outcome.critical_failure is None


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"country": None}, id="country-null"),
        pytest.param({"country": "CN"}, id="country-CN"),
        pytest.param({"score": 0}, id="score-0"),
        pytest.param({"score": 1}, id="score-1"),
        pytest.param(
            {"is_flagship_release": False, "event_type": "funding", "release_key": None},
            id="not-flagship-needs-no-release-key",
        ),
        pytest.param({"is_flagship_release": False, "event_type": "other"}, id="not-flagship-any-type"),
        pytest.param({"is_ai_competition": False, "orgs": [], "models": [], "reasons": []}, id="empty-lists"),
    ],
)
def test_stories_valid_variants_pass(overrides: dict[str, Any]) -> None:
    row = story("ok", **overrides)
    outcome = validate_stories([row])
    assert outcome.quarantined == [], outcome.quarantined
    assert outcome.valid == [row]


def test_every_taxonomy_event_type_passes() -> None:
    rows = [
        story(f"s-{event}", event_type=event, is_flagship_release=False, release_key=None)
        for event in sorted(quality.EVENT_TYPES)
    ]
    assert validate_stories(rows).success is True


def test_flagship_without_release_key_and_wrong_type_reports_both() -> None:
    q = only_quarantined(validate_stories([story("ok"), story("bad", event_type="funding", release_key=None)]))
    assert q.expectation == "expect_column_values_to_be_in_set(event_type) if is_flagship_release"
    assert "flagship release without release_key" in q.reason


def test_duplicate_story_ids_keep_first() -> None:
    rows = [story("a", score=0.1), story("b"), story("a", score=0.2)]
    outcome = validate_stories(rows)
    assert outcome.valid == rows[:2]
    q = only_quarantined(outcome)
    assert q.row["score"] == 0.2
    assert q.expectation == "expect_column_values_to_be_unique(id)"


def test_stories_critical_failure_on_scores() -> None:
    rows = [story(f"s{i}", score=1.5) for i in range(3)] + [story("ok")]
    outcome = validate_stories(rows)
    assert outcome.critical_failure is not None
    assert "expect_column_values_to_be_between(score)" in outcome.critical_failure


def test_stories_critical_failure_on_event_types() -> None:
    rows = [story(f"s{i}", event_type="launch", is_flagship_release=False) for i in range(3)]
    outcome = validate_stories(rows)
    assert outcome.critical_failure is not None
    assert "expect_column_values_to_be_in_set(event_type)" in outcome.critical_failure


def test_country_list_is_iso_alpha2() -> None:
    codes = quality.ISO_3166_ALPHA2
    assert len(codes) == 249
    assert {"US", "CN", "GB", "FR", "JP", "KR", "TW", "AE", "IL", "IN"} <= codes
    assert not ({"XX", "EU", "UK", "XK", "ZZ"} & codes)
    assert all(len(c) == 2 and c.isupper() for c in codes)


# ---------------------------------------------------------------------------------------------
# Outcome plumbing
# ---------------------------------------------------------------------------------------------


def test_empty_input_returns_empty_success_without_gx(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise AssertionError("GX must not be touched for an empty batch")

    monkeypatch.setattr(quality, "_gx", boom)
    for outcome in (validate_entries([], now=NOW), validate_stories([])):
        assert outcome.valid == []
        assert outcome.quarantined == []
        assert outcome.success is True
        assert outcome.critical_failure is None
        assert outcome.stats["evaluated"] == 0


def test_stats_report_counts_time_and_version() -> None:
    import great_expectations

    outcome = validate_entries([entry("a"), entry("b", link=None)], now=NOW)
    stats = outcome.stats
    assert stats["evaluated"] == 2
    assert stats["valid"] == 1
    assert stats["quarantined"] == 1
    assert stats["failed"] == {"expect_column_values_to_not_be_null(link)": 1}
    assert stats["gx_version"] == great_expectations.__version__
    assert 0 < stats["seconds"] < 30
    json.dumps(stats)


def test_validated_rows_are_not_pinned_by_gx_after_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """GX's pandas engine caches the last batch; the gate drops it so a batch's rows can be freed."""
    import gc
    import weakref

    frames: list[weakref.ref[Any]] = []
    build = quality._frame

    def tracked(*args: Any) -> Any:
        frame = build(*args)
        frames.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(quality, "_frame", tracked)
    validate_entries([entry("a"), entry("b")], now=NOW)
    validate_stories([story("s")])
    gc.collect()
    assert len(frames) == 2
    assert [ref() for ref in frames] == [None, None]
    engine = quality._gx().context.data_sources.get(quality.DATASOURCE).get_execution_engine()
    assert engine.batch_manager.batch_data_cache == {}


def test_exception_info_is_read_in_both_shapes() -> None:
    class Result:
        def __init__(self, info: dict[str, Any]) -> None:
            self.exception_info = info

    flat = {"raised_exception": True, "exception_message": "boom\nline two", "exception_traceback": ""}
    nested = {"MetricConfigurationID(...)": {"raised_exception": True, "exception_message": "bad"}}
    clean = {"raised_exception": False, "exception_message": None, "exception_traceback": None}
    assert quality._exception_message(Result(flat)) == "boom line two"
    assert quality._exception_message(Result(nested)) == "bad"
    assert quality._exception_message(Result(clean)) is None


def test_write_results_writes_json(tmp_path: Path) -> None:
    outcome = validate_stories([story("ok"), story("bad", country="XX")])
    path = quality.write_results(outcome, tmp_path)

    assert path.parent == tmp_path / "validations"
    assert path.name.startswith("stories-") and path.suffix == ".json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["suite"] == "stories"
    assert data["success"] is False
    assert data["critical_failure"] is None
    assert data["stats"]["evaluated"] == 2
    assert data["quarantined"] == [
        {
            "key": "bad",
            "expectation": "expect_column_values_to_be_in_set(country)",
            "reason": "country 'XX' is not an ISO 3166-1 alpha-2 code",
        }
    ]
    again = quality.write_results(outcome, tmp_path)
    assert again != path and again.exists()
    assert not list((tmp_path / "validations").glob(".*.tmp"))


def test_build_docs_renders_recent_validations(tmp_path: Path) -> None:
    validate_entries([entry("a"), entry("b", link="ftp://x")], now=NOW)
    index = quality.build_docs(tmp_path)
    assert index == tmp_path.resolve() / "data_docs" / "index.html"
    assert index.exists()
    assert list((tmp_path / "data_docs" / "validations" / "entries").rglob("*.html"))
    assert quality.build_docs(tmp_path) == index  # rebuild into the same site


# ---------------------------------------------------------------------------------------------
# Import cost, logging, network
# ---------------------------------------------------------------------------------------------


def test_import_does_not_import_great_expectations_or_pandas() -> None:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import racewatch.quality\n"
        "print(time.perf_counter() - t)\n"
        "heavy = sorted(m for m in ('great_expectations', 'pandas') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(INCLUDE), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.strip()) < 1.0


def test_gx_info_logging_is_silenced() -> None:
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING


def test_context_build_and_validation_use_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(quality, "_gx_state", None)  # force a fresh context under the guard
    outcome = validate_entries([entry("a"), entry("b", link=None)], now=NOW)
    stories = validate_stories([story("a")])
    assert attempts == []
    assert len(outcome.quarantined) == 1 and stories.success
    import os

    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    assert quality._gx_state is not None
    assert quality._gx_state.context.config.analytics_enabled is False


def test_context_is_cached() -> None:
    first = quality._gx()
    validate_stories([story("a")])
    assert quality._gx() is first


# ---------------------------------------------------------------------------------------------
# Cost per batch (warm context)
# ---------------------------------------------------------------------------------------------


def _mixed_entries(n: int) -> list[dict[str, Any]]:
    rows = [entry(f"e{i}") for i in range(n)]
    for i in range(0, n, 10):  # ~10% bad rows, so the mapping path is exercised too
        rows[i]["link"] = None
    return rows


@pytest.mark.parametrize("n", [50, 2000])
def test_cost_per_batch_warm(n: int, capsys: pytest.CaptureFixture[str]) -> None:
    entries = _mixed_entries(n)
    stories = [story(f"s{i}", score=(i % 10) / 10) for i in range(n)]
    validate_entries(entries, now=NOW)  # warm caches for this size
    timings: dict[str, float] = {}
    for name, call in (
        ("entries", lambda: validate_entries(entries, now=NOW)),
        ("stories", lambda: validate_stories(stories)),
    ):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            outcome = call()
            best = min(best, time.perf_counter() - started)
        timings[name] = best
        assert outcome.stats["evaluated"] == n
    assert len(validate_entries(entries, now=NOW).quarantined) == len(range(0, n, 10))
    with capsys.disabled():
        print(f"\n[quality cost] {n} rows: entries {timings['entries']:.3f}s, stories {timings['stories']:.3f}s")
    # Generous bounds: this is a smoke alarm for pathological slowdowns, not a benchmark.
    assert timings["entries"] < 10
    assert timings["stories"] < 10
