"""Tests for the regression examples (tests/data/labeled_stories.jsonl) and the evaluator (racewatch.evaluate).

The written examples are a contract too: labels follow docs/classification.md and the classifier's
output invariants, cover every event type and many labs and countries, and the classifier must keep
getting them right. Quality on real data is measured on the corpus (tests/unit/test_corpus.py).
"""

from __future__ import annotations

import json
import string
from collections import Counter
from pathlib import Path

import pytest
from racewatch.classify import EVENT_TYPES
from racewatch.corpus import load_corpus
from racewatch.evaluate import DEFAULT_DATA, evaluate, format_report, load_labeled, main
from racewatch.quality import ISO_3166_ALPHA2

STORIES = load_labeled(DEFAULT_DATA)


def test_dev_set_is_large_varied_and_well_formed() -> None:
    assert len(STORIES) >= 400
    assert len({s["id"] for s in STORIES}) == len(STORIES)
    assert len({s["title"] for s in STORIES}) == len(STORIES)
    events = Counter(s["label"]["event_type"] for s in STORIES)
    assert set(events) == set(EVENT_TYPES) and min(events.values()) >= 10
    flagship_countries = Counter(s["label"]["country"] for s in STORIES if s["label"]["is_flagship_release"])
    assert flagship_countries["CN"] >= 25 and flagship_countries["US"] >= 25 and len(flagship_countries) >= 6
    assert all(s["label"]["release_state"] in {"released", "rumour_plan", "retrospective", "benchmark_research",
                                               "not_release"} for s in STORIES)
    negatives = [s for s in STORIES if not s["label"]["is_ai_competition"]]
    assert len(negatives) >= 80


@pytest.mark.parametrize("story", STORIES, ids=lambda s: s["id"])
def test_every_label_satisfies_the_output_invariants(story: dict) -> None:
    label = story["label"]
    assert {"id", "title", "summary", "source", "label"} <= set(story)
    assert label["event_type"] in EVENT_TYPES
    assert label["country"] is None or label["country"] in ISO_3166_ALPHA2
    if label["is_flagship_release"]:
        assert label["event_type"] == "model_release" and label["is_ai_competition"] and label["release_key"]
    if not label["is_ai_competition"]:
        assert label["event_type"] == "other" and not label["is_flagship_release"]
    if label["release_key"]:
        assert set(label["release_key"]) <= set(string.ascii_lowercase + string.digits + ".-/")


def test_classifier_keeps_the_regression_examples() -> None:
    metrics = evaluate()
    assert metrics["flagship"]["f1"] >= 0.95
    assert metrics["ai_competition"]["f1"] >= 0.98
    assert metrics["org_accuracy"] >= 0.97
    assert metrics["country_accuracy"] >= 0.97
    assert metrics["stories"] == len(STORIES) and metrics["stories_per_second"] > 0


def _write(tmp_path: Path, *stories: dict) -> Path:
    path = tmp_path / "stories.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in stories), encoding="utf-8")
    return path


def _labelled(id_: str, title: str, **label: object) -> dict:
    base = {"is_ai_competition": True, "event_type": "model_release", "is_flagship_release": True,
            "orgs": ["Moonshot AI"], "country": "CN", "release_key": "moonshot-ai/kimi-k2.5"}
    return {"id": id_, "title": title, "summary": "", "source": "test", "label": {**base, **label}}


def test_confusions_name_the_story_and_the_field(tmp_path: Path) -> None:
    good = _labelled("a", "Moonshot AI releases Kimi K2.5")
    wrong = _labelled("b", "Kimi Raikkonen wins in Monaco")  # labelled as a release on purpose
    metrics = evaluate(_write(tmp_path, good, wrong))
    fields = {(c["id"], c["field"]) for c in metrics["confusions"]}
    assert ("b", "is_flagship_release") in fields and ("b", "org") in fields
    assert not any(c["id"] == "a" for c in metrics["confusions"])
    assert metrics["flagship"]["tp"] == 1 and metrics["flagship"]["fn"] == 1
    report = format_report(metrics, reasons=True)
    assert "b [is_flagship_release]" in report and "Kimi Raikkonen wins in Monaco" in report


def test_org_labels_may_use_any_alias(tmp_path: Path) -> None:
    story = _labelled("a", "Google DeepMind releases Gemini 2.5 Pro", orgs=["Google DeepMind"], country="US",
                      release_key="google/gemini-2.5")
    assert evaluate(_write(tmp_path, story))["org_accuracy"] == 1.0


def test_cli_prints_metrics_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _labelled("a", "Moonshot AI releases Kimi K2.5", release_state="released")
    assert main(["--data", str(_write(tmp_path, good))]) == 0
    out = capsys.readouterr().out
    assert "flagship" in out and "F1=" in out and "targets: all met" in out
    assert main(["--data", str(_write(tmp_path, _labelled("b", "Kimi Raikkonen wins in Monaco")))]) == 1
    assert main(["--data", str(tmp_path / "missing.jsonl")]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    assert main(["--data", str(bad)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    code = main(["--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if all(report["slices"]["all"]["targets_met"].values()) else 1)
    assert {"all", "lab_feed", "news", "non_english"} <= set(report["slices"])
    assert report["regression"]["stories"] == len(STORIES)
    assert all(i.get("split") == "val" for i in load_corpus(split="val"))
    assert report["slices"]["all"]["stories"] == len(load_corpus(split="val"))
