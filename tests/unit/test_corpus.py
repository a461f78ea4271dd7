"""The real labelled corpus: size and mix as issue 12 asks, well-formed, guarded, frozen split, measured.

The quality floors at the end are the numbers docs/classification.md reports for the frozen
validation split, less a small margin: a change that makes the classifier worse on real items it
was never tuned on fails here, whatever it does to the written regression examples.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from racewatch.classify import get_classifier
from racewatch.corpus import (
    CORPUS,
    SECOND_LABELS,
    agreement,
    group_of,
    load_corpus,
    load_second_labels,
    norm_title,
    problems,
    split_of,
)
from racewatch.evaluate import evaluate

ITEMS = load_corpus()
GUARD = Path(__file__).resolve().parents[3] / "shared" / "acceptance-guard" / "guard.py"
_AI_WORDS = re.compile(r"\b(?:AI|LLMs?|GPT|Claude|Gemini|models?|agents?|chatbots?|machine learning|neural)\b|"
                       r"人工智能|大模型|模型|智能体|인공지능|모델|生成AI", re.IGNORECASE)


def test_the_corpus_has_the_size_and_mix_the_issue_asks_for() -> None:
    kinds = Counter(i["source"]["type"] for i in ITEMS)
    release_stories = [i for i in ITEMS if i["label"]["release_state"] != "not_release"]
    hard_negatives = [i for i in release_stories if not i["label"]["is_flagship_release"]]
    ai_not_race = [i for i in ITEMS if not i["label"]["is_ai_competition"]
                   and _AI_WORDS.search(f"{i['title']} {i.get('summary') or ''}")]
    non_english = [i for i in ITEMS if (i["source"].get("lang") or "en") != "en"]
    assert len(ITEMS) >= 3000
    assert kinds["lab_feed"] >= 600
    assert len(release_stories) >= 500 and len(hard_negatives) >= 300
    assert len(ai_not_race) >= 500
    assert len(non_english) >= 300 and sum(i["source"].get("lang") == "zh" for i in ITEMS) >= 300
    labs = {i["source"].get("org") for i in ITEMS if i["source"]["type"] == "lab_feed"}
    assert {"OpenAI", "Anthropic", "Google", "Meta", "Mistral AI", "xAI", "DeepSeek", "Alibaba", "Moonshot AI",
            "Zhipu AI", "MiniMax", "ByteDance", "Baidu", "Tencent"} <= labs


def test_every_item_is_well_formed_has_provenance_and_its_frozen_split() -> None:
    assert len({i["id"] for i in ITEMS}) == len(ITEMS)
    assert len({norm_title(i["title"]) for i in ITEMS}) == len(ITEMS)
    for item in ITEMS:
        assert problems(item) == [], item["id"]
        prov = item["provenance"]
        assert prov.get("url") or (prov.get("repo") and prov.get("path") and re.fullmatch(r"[0-9a-f]{40}",
                                                                                            prov.get("commit", "")))
        assert item["split"] == split_of(item), item["id"]


def test_a_release_never_straddles_the_split() -> None:
    sides: dict[str, set[str]] = {}
    for item in ITEMS:
        sides.setdefault(group_of(item), set()).add(item["split"])
    assert all(len(s) == 1 for s in sides.values())
    share = sum(i["split"] == "val" for i in ITEMS) / len(ITEMS)
    assert 0.2 < share < 0.4


def test_split_of_is_stable_and_depends_only_on_the_group() -> None:
    a = {"title": "Moonshot AI releases Kimi K2.5", "label": {"models": ["Kimi K2.5"]}}
    b = {"title": "Kimi K2.5 is here", "label": {"models": ["Kimi K2.5"]}}
    assert split_of(a) == split_of(b) == split_of(dict(a))


@pytest.mark.skipif(not GUARD.exists(), reason="the acceptance guard lives in ../shared, absent in this checkout")
def test_no_item_of_the_hidden_acceptance_set_is_in_the_corpus() -> None:
    result = subprocess.run([sys.executable, str(GUARD), str(CORPUS), str(SECOND_LABELS)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-500:]


def test_a_tenth_of_the_corpus_is_labelled_twice_and_agreement_is_reported() -> None:
    second = load_second_labels()
    assert len(second) >= 0.1 * len(ITEMS)
    ids = {i["id"] for i in ITEMS}
    assert all(s["id"] in ids for s in second)
    stats = agreement(ITEMS, second)
    assert stats["items"] == len(second)
    assert stats["is_ai_competition"] >= 0.85 and stats["is_flagship_release"] >= 0.95


@pytest.mark.slow
def test_hybrid_beats_the_rules_and_keeps_its_measured_quality_on_the_frozen_split() -> None:
    val = [i for i in ITEMS if i["split"] == "val"]
    hybrid = evaluate(items=val, classifier=get_classifier("hybrid"))
    rules = evaluate(items=val, classifier=get_classifier("rules"))
    assert hybrid["ai_competition"]["f1"] > rules["ai_competition"]["f1"]
    assert hybrid["flagship"]["f1"] > rules["flagship"]["f1"]
    assert hybrid["event_type_accuracy"] > rules["event_type_accuracy"]
    # docs/classification.md "Measured" reports these on the frozen split; the floors are 0.02 below.
    assert hybrid["ai_competition"]["f1"] >= FLOORS["ai_competition_f1"]
    assert hybrid["flagship"]["f1"] >= FLOORS["flagship_f1"]
    assert hybrid["event_type_accuracy"] >= FLOORS["event_type_accuracy"]
    assert hybrid["org_accuracy"] >= FLOORS["org_accuracy"]
    assert hybrid["country_accuracy"] >= FLOORS["country_accuracy"]


FLOORS = {  # measured 2026-12-01 with hybrid-1: 0.850, 0.694, 0.777, 0.908, 0.929
    "ai_competition_f1": 0.83,
    "flagship_f1": 0.67,
    "event_type_accuracy": 0.75,
    "org_accuracy": 0.89,
    "country_accuracy": 0.91,
}
