"""YAML reading through libyaml when PyYAML was built with it.

PyYAML's pure-Python ``safe_load`` is slow: a 500-source ``sources.yaml`` took ~0.3 s of every poll
and the taxonomy ~0.2 s of every classify start. The C loader does the same safe subset in a
fraction of that; PyYAML's wheels ship it, and the pure loader stays as the fallback.
"""

from __future__ import annotations

from typing import Any

import yaml

_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` semantics (plain data only, no Python objects), faster when libyaml exists."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # both candidates are safe loaders
