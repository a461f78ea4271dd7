"""classify_with_facts gives exactly classify_many's labels and extract_facts' facts, from one reading."""

from __future__ import annotations

import json

from racewatch.classify.rules import classify_many, classify_with_facts, extract_facts
from racewatch.settings import PROJECT_ROOT


def test_same_labels_and_facts_as_the_separate_calls() -> None:
    items = [json.loads(line) for line in
             (PROJECT_ROOT / "tests/data/labeled_stories.jsonl").read_text(encoding="utf-8").splitlines()[:200]]
    pairs = classify_with_facts(items)
    assert [label for label, _ in pairs] == classify_many(items)
    for item, (label, facts) in zip(items, pairs, strict=True):
        assert facts == (extract_facts(item) if label["is_ai_competition"] else {})
