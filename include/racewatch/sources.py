"""The sources file: which feeds to poll.

The file format is the stable one from DESIGN.md. Validation happens here, once, so a typo in
``sources.yaml`` is a one-line error naming the entry instead of a crash deep inside a poll.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from racewatch import yamlio
from racewatch.errors import SourcesError
from racewatch.settings import PROJECT_ROOT

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class Source:
    """One feed to poll. ``url`` is either http(s) or an absolute file path."""

    id: str
    url: str
    name: str
    tags: tuple[str, ...] = ()
    poll_minutes: int | None = None
    allow_private: bool = False
    org: str | None = None  # the lab whose own channel this is ("Moonshot AI"): classifier context
    lang: str | None = None  # main language (en, zh, ...)

    @property
    def is_file(self) -> bool:
        return not self.url.startswith(("http://", "https://"))


def _resolve_url(raw: str, base_dir: Path) -> str:
    """Keep http(s) URLs; turn file paths into absolute paths (project root first, then the file's dir)."""
    if raw.startswith(("http://", "https://")):
        if not urlsplit(raw).hostname:
            raise ValueError(f"url {raw!r} has no host")
        return raw
    if "://" in raw:
        raise ValueError(f"url {raw!r} must be http(s) or a file path")
    path = Path(raw.removeprefix("file:")).expanduser()
    if not path.is_absolute():
        candidates = [PROJECT_ROOT / path, base_dir / path]
        path = next((c for c in candidates if c.exists()), candidates[0])
    return str(path.resolve())


def parse_source(item: Any, base_dir: Path, position: int) -> Source:
    """Validate one entry of the ``sources:`` list."""
    where = f"sources[{position}]"
    if not isinstance(item, dict):
        raise SourcesError(f"{where}: expected a mapping with id and url, got {type(item).__name__}")
    sid = str(item.get("id", "")).strip()
    where = f"sources[{position}] (id {sid!r})" if sid else where
    if not _ID_RE.match(sid):
        raise SourcesError(f"{where}: id is required and must match [a-z0-9-]")
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SourcesError(f"{where}: url is required")
    try:
        resolved = _resolve_url(url.strip(), base_dir)
    except ValueError as exc:
        raise SourcesError(f"{where}: {exc}") from exc
    tags = item.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise SourcesError(f"{where}: tags must be a list of strings")
    poll = item.get("poll_minutes")
    if poll is not None and (not isinstance(poll, int) or isinstance(poll, bool) or poll < 1):
        raise SourcesError(f"{where}: poll_minutes must be a positive integer")
    allow_private = item.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise SourcesError(f"{where}: allow_private must be true or false")
    org, lang = item.get("org"), item.get("lang")
    if org is not None and (not isinstance(org, str) or not org.strip()):
        raise SourcesError(f"{where}: org must be a lab's name")
    if lang is not None and (not isinstance(lang, str) or not _LANG_RE.match(lang)):
        raise SourcesError(f"{where}: lang must be a language code such as en or zh")
    return Source(
        id=sid,
        url=resolved,
        name=str(item.get("name") or sid),
        tags=tuple(tags),
        poll_minutes=poll,
        allow_private=allow_private,
        org=org.strip() if org else None,
        lang=lang.lower() if lang else None,
    )


def load_sources(path: Path) -> list[Source]:
    """Read and validate a sources file; raises :class:`SourcesError` with a one-line reason."""
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourcesError(f"sources file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise SourcesError(f"{path}: expected a top-level 'sources:' list")
    sources = [parse_source(item, path.parent, i) for i, item in enumerate(data["sources"])]
    seen: set[str] = set()
    for src in sources:
        if src.id in seen:
            raise SourcesError(f"{path}: duplicate source id {src.id!r}")
        seen.add(src.id)
    return sources
