"""The model_releases suite and the batch-level checks (each with a row or batch that violates it)."""

from __future__ import annotations

from racewatch import quality

OK = {"release_key": "moonshot-ai/kimi-k2.5", "open_weights": True, "announce_url": "https://moonshot.example/k2.5"}


def test_releases_suite_passes_a_good_ledger_row() -> None:
    outcome = quality.validate_releases([OK, {**OK, "release_key": "x/y", "open_weights": None, "announce_url": None}])
    assert outcome.success and len(outcome.valid) == 2


def test_open_weights_without_a_link_is_flagged() -> None:
    outcome = quality.validate_releases([OK, {**OK, "release_key": "a/b", "announce_url": None},
                                         {**OK, "release_key": "c/d", "announce_url": "ftp://weights.example/"}])
    assert [q.key for q in outcome.quarantined] == ["a/b", "c/d"]
    assert "without a weights or announcement link" in outcome.quarantined[0].reason
    assert "not http(s)" in outcome.quarantined[1].reason


def test_one_row_per_release_key() -> None:
    outcome = quality.validate_releases([OK, dict(OK)])
    assert len(outcome.valid) == 1 and "second row for release" in outcome.quarantined[0].reason


def test_missing_release_key_is_critical_for_most_rows() -> None:
    outcome = quality.validate_releases([{**OK, "release_key": None}] * 3)
    assert outcome.critical_failure and "release_key" in outcome.critical_failure


def test_batch_warnings_for_quarantine_share_and_volume_drop() -> None:
    good = quality.ValidationOutcome("entries", [{}] * 8, [], True, {}, None)
    assert quality.batch_warnings(good, previous_rows=10) == []
    bad = quality.ValidationOutcome("entries", [{}] * 7, [quality.Quarantined("k", "e", "r", {})] * 3, False, {}, None)
    assert quality.batch_warnings(bad) == ["entries: 3 of 10 rows quarantined (30% > 20%)"]
    assert quality.batch_warnings(good, previous_rows=50) == ["entries: volume dropped to 8 rows from 50 (< 50%)"]
