"""The stories gate in the pipeline: bad rows are quarantined with reasons, a broken batch stops cold.

The classifier cannot emit an invalid label, so the broken classifier here is injected on purpose
(the only stand-in in these tests): it is the failure the gate exists for, e.g. a bad taxonomy edit.
"""

from __future__ import annotations

import pytest
import racewatch.pipeline.classify as stage
from racewatch.classify import classify_with_facts
from racewatch.pipeline.classify import BatchRejected, classify_pending
from racewatch.pipeline.poll import poll
from racewatch.settings import Settings
from racewatch.store import db


def count(settings: Settings, sql: str) -> int:
    with db.connect(settings.db_path, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_a_few_bad_labels_are_quarantined_and_the_rest_proceeds(sample_settings: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def one_bad(items):
        labelled = classify_with_facts(items)
        labelled[0] = ({**labelled[0][0], "country": "XX"}, labelled[0][1])
        return labelled

    monkeypatch.setattr(stage, "classify_with_facts", one_bad)
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
    def broken(items):
        return [({**label, "event_type": "rumour_mill"}, facts) for label, facts in classify_with_facts(items)]

    monkeypatch.setattr(stage, "classify_with_facts", broken)
    poll(sample_settings)
    with pytest.raises(BatchRejected) as info:
        classify_pending(sample_settings)
    assert "event_type" in str(info.value) and "validations" in str(info.value)
    assert count(sample_settings, "SELECT count(*) FROM stories") == 0
    assert count(sample_settings, "SELECT count(*) FROM alerts") == 0
    assert count(sample_settings, "SELECT count(*) FROM validation_runs WHERE critical_failure IS NOT NULL") == 1
    monkeypatch.undo()  # the classifier is fixed: the same entries go through on the next run
    assert classify_pending(sample_settings).classified == count(sample_settings, "SELECT count(*) FROM entries")
