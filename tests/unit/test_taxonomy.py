"""Tests for the taxonomy file and its loader (racewatch.classify.taxonomy).

The file is data other people will edit: every lab and family in it must actually be found in a
story, and a malformed edit must fail at load time with a message that says where.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from racewatch.classify import classify, load_taxonomy, taxonomy_path
from racewatch.classify.taxonomy import Lab, TaxonomyError, default_taxonomy_path
from racewatch.quality import ISO_3166_ALPHA2

REQUIRED_LABS = {
    "OpenAI", "Google", "Anthropic", "Meta", "xAI", "Microsoft", "Amazon", "Nvidia", "Apple", "Alibaba", "DeepSeek",
    "Moonshot AI", "Baidu", "Tencent", "ByteDance", "Zhipu AI", "MiniMax", "01.AI", "StepFun", "iFlytek", "Mistral AI",
    "Cohere", "AI21 Labs", "TII", "Sakana AI", "LG", "Naver", "Samsung", "Reka AI", "Upstage", "G42", "Perplexity",
    "SenseTime", "Huawei", "Kuaishou", "Xiaomi", "Meituan",
}


def lab_names(title: str) -> list[str]:
    return classify({"id": "t", "title": title, "summary": ""})["orgs"]


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_default_taxonomy_loads_with_every_required_lab() -> None:
    taxonomy = load_taxonomy(default_taxonomy_path())
    names = {lab.name for lab in taxonomy.labs}
    assert names >= REQUIRED_LABS
    assert len({lab.key for lab in taxonomy.labs}) == len(taxonomy.labs)
    assert all(lab.country is None or lab.country in ISO_3166_ALPHA2 for lab in taxonomy.labs)
    assert {"release", "hedge", "ai_context", "finetune"} <= set(taxonomy.cues)
    assert set(taxonomy.events) == {
        "model_release", "benchmark", "funding", "policy_export_controls", "chips_compute", "partnership_product",
        "talent", "legal", "research",
    }


@pytest.mark.parametrize("lab", load_taxonomy(default_taxonomy_path()).labs, ids=lambda lab: lab.key)
def test_every_lab_is_found_by_its_first_name(lab: Lab) -> None:
    name = (lab.aliases or lab.cased_aliases or lab.ambiguous)[0]
    assert lab.name in lab_names(f"{name} unveils a new AI model")


@pytest.mark.parametrize(
    ("lab", "trigger"),
    [
        (lab, trigger)
        for lab in load_taxonomy(default_taxonomy_path()).labs
        for fam in lab.families
        if not fam.requires_lab
        for trigger in fam.triggers
        if len(trigger) >= 3
    ],
    ids=lambda value: getattr(value, "key", value),
)
def test_every_family_name_points_to_its_lab(lab: Lab, trigger: str) -> None:
    assert lab.name in lab_names(f"The new {trigger} AI model is here")


def test_aliases_canonicalize_labels() -> None:
    by_name = load_taxonomy().lab_by_name()
    assert by_name["google deepmind"].name == "Google"
    assert by_name["z.ai"].name == "Zhipu AI"
    assert by_name["moonshot-ai"].name == "Moonshot AI"


def test_env_var_overrides_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RACEWATCH_TAXONOMY", raising=False)
    assert taxonomy_path() == default_taxonomy_path()
    monkeypatch.setenv("RACEWATCH_TAXONOMY", str(tmp_path / "t.yaml"))
    assert taxonomy_path() == tmp_path / "t.yaml"


def test_loading_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    data = yaml.safe_load(default_taxonomy_path().read_text(encoding="utf-8"))
    path = write(tmp_path, data)
    first = load_taxonomy(path)
    assert load_taxonomy(path) is first
    data["version"] = "99"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    stat = path.stat()  # same-second rewrites: make sure the modification time moves
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_taxonomy(path).version == "99"


def _minimal(**lab: object) -> dict[str, object]:
    return {"labs": [{"name": "Foo", "aliases": ["Foo"], **lab}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("labs: [", "not valid YAML"),
        ({"labs": []}, "`labs` must be a non-empty list"),
        ({"labs": [{"aliases": ["X"]}]}, "each lab needs a `name`"),
        (_minimal(country="UK"), "not an ISO 3166-1 alpha-2 code"),
        (_minimal(kind="startup"), "kind 'startup'"),
        (_minimal(guards=["(unclosed"]), "bad regex"),
        (_minimal(families=[{"name": "Bar", "version": "(\\d)"}]), "use (?:...) groups only"),
        (_minimal(families=[{"name": "Bar", "verison": "1"}]), "unknown keys ['verison']"),
        ({"labs": [{"name": "Foo", "aliases": ["Foo"]}, {"name": "foo", "aliases": ["F"]}]}, "lab key 'foo'"),
        ({"labs": [{"name": "Foo"}]}, "at least one of aliases"),
        ({**_minimal(), "events": {"funding": [{"cue": "raise", "weight": "lots"}]}}, "weight must be a number"),
        (_minimal(families=[{"name": "Bar", "tier": "huge"}]), "(Bar).tier: 'huge' is not one of"),
        ({**_minimal(), "tiers": {"tiny": ["mini"]}}, "tiers.tiny is not one of"),
        ({**_minimal(), "tiers": {"small_max_b": "big"}}, "tiers.small_max_b must be a number"),
        (_minimal(channels=[""]), "channels: must be a list of non-empty strings"),
    ],
)
def test_malformed_taxonomy_fails_with_a_useful_message(tmp_path: Path, data: object, message: str) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(TaxonomyError, match=re.escape(message)):
        load_taxonomy(path)


def test_missing_file_is_a_taxonomy_error(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot be read"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_almost_every_phrase_is_indexed_by_its_first_word() -> None:
    """Phrases without a literal first word are searched across the whole text: keep them rare (speed)."""
    from racewatch.classify.compiled import RuleSet

    assert len(RuleSet(load_taxonomy()).index.fallback) <= 3
