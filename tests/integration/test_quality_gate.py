"""The stories gate in the pipeline: bad rows are quarantined with reasons, a broken batch stops cold.

The classifier cannot emit an invalid label, so the broken classifiers here are registered through
the classifier seam on purpose (the only stand-ins in these tests): they wrap the real classifier
and break its output the way a bad taxonomy edit or bad weights would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from racewatch.classify import get_classifier, register
from racewatch.pipeline.classify import BatchRejected, classify_pending
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
from racewatch.store import db


def count(settings: Settings, sql: str) -> int:
    with db.connect(settings.db_path, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


Labelled = list[tuple[dict[str, Any], dict[str, Any]]]


class _Broken:
    """The real classifier with its output passed through ``breaker``."""

    def __init__(self, name: str, breaker: Callable[[Labelled], Labelled]) -> None:
        self.inner = get_classifier("hybrid")
        self.version = f"{self.inner.version}+{name}"
        self.breaker = breaker

    def label_many(self, items: Any) -> list[dict[str, Any]]:
        return [label for label, _ in self.label_with_facts(items)]

    def label_with_facts(self, items: Any) -> Labelled:
        return self.breaker(self.inner.label_with_facts(items))


def _use(monkeypatch: pytest.MonkeyPatch, name: str, breaker: Callable[[Labelled], Labelled]) -> None:
    register(name, lambda: _Broken(name, breaker))
    monkeypatch.setenv("RACEWATCH_CLASSIFIER", name)


def test_a_few_bad_labels_are_quarantined_and_the_rest_proceeds(sample_settings: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def one_bad(labelled: Labelled) -> Labelled:
        labelled[0] = ({**labelled[0][0], "country": "XX"}, labelled[0][1])
        return labelled

    _use(monkeypatch, "test-one-bad", one_bad)
    poll(sample_settings)
    summary = classify_pending(sample_settings)
    assert summary.quarantined == 1
    entries = count(sample_settings, "SELECT count(*) FROM entries")
    assert count(sample_settings, "SELECT count(*) FROM stories") == entries - 1
    with db.connect(sample_settings.db_path, read_only=True) as con:
        suite, expectation, reason = con.execute("SELECT suite, expectation, reason FROM quarantine").fetchone()
    assert suite == "stories" and "country" in expectation and "XX" in reason
    assert count(sample_settings, "SELECT count(*) FROM entries WHERE classified_version IS NULL") == 0


def test_a_mostly_broken_batch_stops_before_anything_is_stored_or_alerted(sample_settings: Settings,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(labelled: Labelled) -> Labelled:
        return [({**label, "event_type": "rumour_mill"}, facts) for label, facts in labelled]

    _use(monkeypatch, "test-broken", broken)
    poll(sample_settings)
    with pytest.raises(BatchRejected) as info:
        classify_pending(sample_settings)
    assert "event_type" in str(info.value) and "validations" in str(info.value)
    assert count(sample_settings, "SELECT count(*) FROM stories") == 0
    assert count(sample_settings, "SELECT count(*) FROM alerts") == 0
    assert count(sample_settings, "SELECT count(*) FROM validation_runs WHERE critical_failure IS NOT NULL") == 1
    monkeypatch.delenv("RACEWATCH_CLASSIFIER")  # the classifier is fixed: the same entries go through next run
    assert classify_pending(sample_settings).classified == count(sample_settings, "SELECT count(*) FROM entries")
