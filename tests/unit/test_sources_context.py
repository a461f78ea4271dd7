"""Sources carry classifier context: `org` (whose own channel) and `lang`, validated with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from racewatch.classify.compiled import rules
from racewatch.errors import SourcesError
from racewatch.settings import PROJECT_ROOT
from racewatch.sources import load_sources, parse_source


def test_org_and_lang_are_read_and_optional(tmp_path: Path) -> None:
    src = parse_source({"id": "kimi", "url": "https://moonshot.example/feed", "org": " Moonshot AI ", "lang": "ZH"},
                       tmp_path, 0)
    assert src.org == "Moonshot AI" and src.lang == "zh"
    plain = parse_source({"id": "x", "url": "https://x.example/feed"}, tmp_path, 1)
    assert plain.org is None and plain.lang is None


@pytest.mark.parametrize(("extra", "message"), [({"lang": "chinese language"}, "lang must be a language code"),
                                                ({"lang": 7}, "lang must be a language code"),
                                                ({"org": ""}, "org must be a lab's name"),
                                                ({"org": ["OpenAI"]}, "org must be a lab's name")])
def test_bad_context_is_a_one_line_error_naming_the_entry(tmp_path: Path, extra: dict, message: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_source({"id": "bad", "url": "https://x.example/feed", **extra}, tmp_path, 3)
    text = str(info.value)
    assert "sources[3] (id 'bad')" in text and message in text and "\n" not in text


def test_the_default_lab_feeds_name_a_lab_the_taxonomy_knows() -> None:
    sources = {s.id: s for s in load_sources(PROJECT_ROOT / "include" / "config" / "sources.yaml")}
    labs = [s for s in sources.values() if "lab" in s.tags and s.org]
    assert {"openai-news", "google-deepmind", "mistral-news", "qwen-blog"} <= {s.id for s in labs}
    rs = rules()
    assert all(rs.lab_named(s.org) is not None for s in labs), [s.org for s in labs if rs.lab_named(s.org) is None]
    assert sources["36kr"].lang == "zh"
