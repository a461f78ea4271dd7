"""The fast YAML loader keeps safe_load's semantics."""

from __future__ import annotations

import pytest
import yaml
from racewatch import yamlio

from tests.conftest import PROJECT_ROOT


def test_reads_the_project_files_exactly_like_safe_load() -> None:
    for name in ("sources.yaml", "sources.sample.yaml", "taxonomy.yaml"):
        text = (PROJECT_ROOT / "include" / "config" / name).read_text(encoding="utf-8")
        assert yamlio.safe_load(text) == yaml.safe_load(text)


def test_refuses_python_object_tags() -> None:
    with pytest.raises(yaml.YAMLError):
        yamlio.safe_load("!!python/object/apply:os.system ['true']")
