"""Classifier v2: CJK matching, native-script names, tiers, source context, the seam, the learned layer.

Rule behaviours are tested on the rules classifier (their grammar is exact); the seam and the
learned layer on the hybrid one, the default.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any

import pytest
from racewatch.classify import ClassifierError, classify, get_classifier, names
from racewatch.classify.base import Classifier
from racewatch.classify.learned import HYBRID_VERSION, load_heads
from racewatch.classify.reading import size_billions
from racewatch.classify.rules import classify as rules_classify

CONTRACT = {"id", "is_ai_competition", "event_type", "is_flagship_release", "orgs", "models", "country",
            "release_key", "score", "reasons"}


def rules(title: str, summary: str = "", **source: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": "t", "title": title, "summary": summary}
    if source:
        item["source"] = source
    return rules_classify(item)


# ------------------------------------------------------------------------------------------------
# CJK text and native-script names


@pytest.mark.parametrize(
    ("title", "org", "model"),
    [
        ("阿里发布Qwen3-Max，性能超越GPT-5", "Alibaba", "Qwen3-Max"),
        ("月之暗面正式发布Kimi K2.5", "Moonshot AI", "Kimi K2.5"),
        ("深度求索开源DeepSeek-V3.2", "DeepSeek", "DeepSeek-V3.2"),
        ("智谱推出GLM-4.5大模型", "Zhipu AI", "GLM-4.5"),
    ],
)
def test_chinese_release_headlines_are_read_inside_running_text(title: str, org: str, model: str) -> None:
    out = rules(title)
    assert out["is_ai_competition"] and out["event_type"] == "model_release"
    assert out["orgs"][0] == org and out["models"][0] == model and out["country"] == "CN"
    assert out["is_flagship_release"], out["reasons"]


@pytest.mark.parametrize(
    ("title", "org"),
    [
        ("字节跳动豆包大模型降价", "ByteDance"),
        ("腾讯混元大模型升级", "Tencent"),
        ("百度文心大模型发布会", "Baidu"),
        ("英伟达H20芯片出口管制", "Nvidia"),
        ("네이버, 하이퍼클로바X 새 모델 공개", "Naver"),
    ],
)
def test_native_script_names_map_to_canonical_orgs(title: str, org: str) -> None:
    out = rules(title)
    assert org in out["orgs"], out["reasons"]


def test_chinese_rumours_and_plans_are_not_flagships() -> None:
    for title in ("传OpenAI下周发布GPT-5", "据悉DeepSeek将于下个月发布DeepSeek-V4"):
        out = rules(title)
        assert out["event_type"] == "model_release" and not out["is_flagship_release"], out["reasons"]
        assert any(r.startswith("hedge") for r in out["reasons"]), out["reasons"]


def test_latin_word_boundaries_still_hold() -> None:
    assert rules("The maiden voyage of MAIstro")["orgs"] == []
    assert "Qwen3" not in rules("Alibaba Qwen3x beta")["models"]
    assert rules("传统行业的数字化")["reasons"] == []  # 传 of 传统 is no rumour, and nothing else fires


# ------------------------------------------------------------------------------------------------
# Tiers


def test_listed_models_keep_the_best_tier() -> None:
    for title in ("OpenAI releases o3 and o4-mini", "OpenAI releases o4-mini and o3"):
        out = rules(title)
        assert out["is_flagship_release"] and out["release_key"] == "openai/o3", (title, out["reasons"])


@pytest.mark.parametrize(("size", "billions"), [("70B", 70), ("235B-A22B", 235), ("8X7B", 56), ("1T", 1000),
                                                 ("1.5B", 1.5), ("A22B", None)])
def test_size_labels(size: str, billions: float | None) -> None:
    assert size_billions(size) == billions


def test_sizes_make_small_models() -> None:
    assert not rules("Google releases Gemma 3 4B")["is_flagship_release"]
    assert rules("Google releases Gemma 3 27B")["is_flagship_release"]


# ------------------------------------------------------------------------------------------------
# Source context


def test_a_lab_feed_headline_without_a_verb_is_the_labs_release() -> None:
    out = rules("Hello GPT-4o", "Our new flagship model reasons across audio, vision and text.", org="OpenAI")
    assert out["is_flagship_release"] and out["release_key"] == "openai/gpt-4o"
    assert "own headline: OpenAI names GPT-4o" in out["reasons"]
    assert not rules("Hello GPT-4o", "Our new flagship model reasons across audio, vision and text.")[
        "is_flagship_release"]


def test_we_in_a_lab_feed_is_the_lab() -> None:
    out = rules("We're releasing Foo-2, our most capable model", org="Mistral AI")
    assert out["orgs"][0] == "Mistral AI" and out["country"] == "FR" and out["release_key"] == "mistral/foo-2"
    assert rules("We're releasing Foo-2, our most capable model")["release_key"] is None


def test_a_lab_feed_post_about_a_system_card_or_another_labs_model_is_no_release() -> None:
    assert not rules("GPT-4o System Card", "This report outlines the safety work.", org="OpenAI")[
        "is_flagship_release"]
    assert not rules("Claude Opus 4 on our platform", org="Amazon")["is_flagship_release"]


def test_source_may_be_a_name_or_an_object_and_unknown_orgs_are_ignored() -> None:
    for source in ("TechCrunch", {"name": "X", "org": "No Such Lab", "lang": "en"}, None, 42):
        out = classify({"id": 1, "title": "Hello GPT-4o", "source": source})
        assert set(out) == CONTRACT


# ------------------------------------------------------------------------------------------------
# The seam and the learned layer


def test_both_classifiers_are_registered_and_follow_the_protocol() -> None:
    assert {"hybrid", "rules"} <= set(names())
    for name in ("hybrid", "rules"):
        clf = get_classifier(name)
        assert isinstance(clf, Classifier) and clf.version
        out = clf.label_many([{"id": "a", "title": "Moonshot AI releases Kimi K2.5"}])
        assert set(out[0]) == CONTRACT
    assert get_classifier("hybrid").version == HYBRID_VERSION != get_classifier("rules").version
    with pytest.raises(ClassifierError, match="unknown classifier 'nope'"):
        get_classifier("nope")


def test_the_environment_picks_the_classifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACEWATCH_CLASSIFIER", "rules")
    assert get_classifier().version.startswith("rules-")
    monkeypatch.delenv("RACEWATCH_CLASSIFIER")
    assert get_classifier().version == HYBRID_VERSION


def test_shipped_weights_match_the_code() -> None:
    heads = load_heads()
    assert heads.meta["version"] == HYBRID_VERSION
    assert 0.0 < heads.ai_threshold < 1.0 and 0.0 < heads.flag_threshold < 1.0
    assert heads.meta["train_items"] >= 3000  # trained on the real corpus, not the written examples only


def test_hybrid_reasons_name_the_evidence_and_the_heads() -> None:
    out = get_classifier("hybrid").label_many([{"id": 1, "title": "Alibaba releases Qwen3-Max"}])[0]
    assert "release verb: 'releases'" in out["reasons"]
    assert any(r.startswith("learned: race p=") for r in out["reasons"])


def test_hybrid_never_calls_a_small_tier_model_a_flagship() -> None:
    out = get_classifier("hybrid").label_many([{"id": 1, "title": "OpenAI launches o4-mini, its best small model"}])[0]
    assert not out["is_flagship_release"]


@pytest.mark.parametrize(
    "item",
    [
        {"id": 1, "title": "", "summary": ""},
        {"id": 2, "title": "x" * 300, "summary": "y " * 500_000},
        {"id": 3, "title": "OpenAI\x00 releases\x07 GPT-5\x1b", "summary": "\u200b\ufeff"},
        {"id": 4, "title": "阿里 Qwen3-Max 출시 リリース Выпуск", "summary": "混合 scripts ✓ 🚀"},
        {"id": 5, "title": "<p>OpenAI &amp; <b>GPT-5</b></p>", "summary": "<script>x</script>"},
        {"id": 6, "title": 12345, "summary": ["not", "text"]},
        {"id": 7},
    ],
)
def test_bad_input_gets_a_label_never_an_exception(item: dict[str, Any]) -> None:
    for name in ("hybrid", "rules"):
        out = get_classifier(name).label_many([item])[0]
        assert set(out) == CONTRACT and 0.0 <= out["score"] <= 1.0
        json.dumps(out)


def test_the_classifier_needs_no_network() -> None:
    """Load and run in a fresh process where every socket fails: nothing is downloaded at run time."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network disabled by the test')\n"
        "socket.socket = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from racewatch.classify import classify\n"
        "out = classify({'id': 1, 'title': 'Moonshot AI releases Kimi K2.5'})\n"
        "assert out['is_flagship_release'], out\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    assert socket.socket is not None  # this process's sockets are untouched


# ------------------------------------------------------------------------------------------------
# Whose channel: links and feed names


@pytest.mark.parametrize(
    ("url", "lab"),
    [
        ("https://openai.com/index/hello-gpt-4o/", "OpenAI"),
        ("https://blogs.nvidia.com/blog/nemotron/", "Nvidia"),
        ("https://huggingface.co/Qwen/Qwen3-235B-A22B", "Alibaba"),
        ("https://github.com/PaddlePaddle/ERNIE/blob/develop/README.md", "Baidu"),
        ("http://www.anthropic.com/news/claude-4", "Anthropic"),
        ("https://z.ai/blog/glm-4.5", "Zhipu AI"),
        ("https://techcrunch.com/2025/08/07/openai-gpt-5/", None),
        ("not a url at all", None),
    ],
)
def test_a_link_on_a_labs_own_channel_names_the_lab(url: str, lab: str | None) -> None:
    from racewatch.classify.compiled import rules as compiled

    found = compiled().lab_for_url(url)
    assert (found.name if found else None) == lab


@pytest.mark.parametrize(
    ("name", "lab"),
    [("OpenAI News", "OpenAI"), ("Qwen Blog", "Alibaba"), ("Google DeepMind Blog", "Google"),
     ("Anthropic", "Anthropic"), ("TechCrunch AI", None), ("The Verge", None), ("MIT Technology Review", None),
     ("OpenAI and Anthropic watch: a weekly roundup of news", None)],
)
def test_a_feed_named_after_a_lab_is_the_labs_own(name: str, lab: str | None) -> None:
    from racewatch.classify.compiled import rules as compiled

    found = compiled().lab_in_source_name(name)
    assert (found.name if found else None) == lab


def test_a_labs_own_post_is_read_as_its_announcement_from_its_link_or_feed_name() -> None:
    by_link = rules_classify({"id": 1, "title": "Hello GPT-4o", "link": "https://openai.com/index/hello-gpt-4o/"})
    by_name = rules_classify({"id": 2, "title": "Hello GPT-4o", "source": "OpenAI News"})
    elsewhere = rules_classify({"id": 3, "title": "Hello GPT-4o", "link": "https://example.com/hello-gpt-4o"})
    assert by_link["is_flagship_release"] and by_name["is_flagship_release"]
    assert not elsewhere["is_flagship_release"]
