"""OPML import: add the http(s) feeds of a reader's export to the sources file.

New sources are appended as YAML text so the file's comments and order survive; feeds already
present (same URL) are skipped, and ids are derived from titles and made unique.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from racewatch.errors import SourcesError
from racewatch.sources import Source, load_sources


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:48].strip("-") or "feed"


def read_opml(path: Path) -> list[tuple[str, str]]:
    """(title, url) for every outline with an http(s) ``xmlUrl``, in document order."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SourcesError(f"{path}: not valid OPML ({exc})") from exc
    except FileNotFoundError as exc:
        raise SourcesError(f"OPML file not found: {path}") from exc
    found = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if url.startswith(("http://", "https://")):
            found.append(((outline.get("title") or outline.get("text") or url).strip(), url))
    return found


def import_opml(opml: Path, sources_file: Path) -> list[Source]:
    """Append the OPML's new feeds to ``sources_file``; returns the sources added."""
    existing = load_sources(sources_file) if sources_file.exists() else []
    urls = {s.url for s in existing}
    ids = {s.id for s in existing}
    added: list[Source] = []
    for title, url in read_opml(opml):
        if url in urls:
            continue
        base = _slug(title)
        sid, n = base, 2
        while sid in ids:
            sid, n = f"{base}-{n}", n + 1
        ids.add(sid)
        urls.add(url)
        added.append(Source(id=sid, url=url, name=title))
    if added:
        block = yaml.safe_dump([{"id": s.id, "url": s.url, "name": s.name} for s in added],
                               allow_unicode=True, sort_keys=False)
        text = sources_file.read_text(encoding="utf-8") if sources_file.exists() else "sources:\n"
        indented = "".join(f"  {line}\n" for line in block.splitlines())
        sources_file.write_text(text.rstrip("\n") + f"\n  # imported from {opml.name}\n" + indented,
                                encoding="utf-8")
        load_sources(sources_file)  # fail now, not at the next poll, if the result is invalid
    return added
