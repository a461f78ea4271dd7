"""Shared fixtures: temp racewatch homes, the bundled sample feeds served over loopback, fake Slack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from racewatch.settings import PROJECT_ROOT, Settings

from tests.support.feed_server import FeedServer, Route

SAMPLE_DIR = PROJECT_ROOT / "include" / "sample_feeds"
SAMPLE_SOURCES = PROJECT_ROOT / "include" / "config" / "sources.sample.yaml"
# feedparser's own corpus lives beside the checkout (../shared); RACEWATCH_FEEDPARSER_CORPUS points elsewhere.
FEEDPARSER_CORPUS = Path(os.environ.get("RACEWATCH_FEEDPARSER_CORPUS")
                         or PROJECT_ROOT.parent / "shared" / "corpus" / "feedparser")

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def make_settings(home: Path, sources: Path, **env: str) -> Settings:
    """Settings for a temp home; everything else from explicit env, never the developer's shell."""
    base = {"RACEWATCH_HOME": str(home), "RACEWATCH_SOURCES": str(sources), "RACEWATCH_LOCK_RETRY_SECONDS": "5",
            "RACEWATCH_ALERT_MAX_AGE_HOURS": "0"}
    return Settings.from_env({**base, **env})


def sample_routes() -> dict[str, tuple[str, Path]]:
    """source id -> (path on the loopback server, local file) for every bundled sample source."""
    data = yaml.safe_load(SAMPLE_SOURCES.read_text(encoding="utf-8"))
    return {s["id"]: ("/" + Path(s["url"]).name, PROJECT_ROOT / s["url"]) for s in data["sources"]}


def content_type_for(path: Path) -> str:
    head = path.read_bytes()[:200].lower()
    charset = "gb18030" if b"gb18030" in head else "iso-8859-1" if b"iso-8859-1" in head else "utf-8"
    kind = "application/atom+xml" if path.suffix == ".atom" else "application/rss+xml"
    return f"{kind}; charset={charset}"


def write_sources(path: Path, server: FeedServer, routes: dict[str, tuple[str, Path]]) -> Path:
    sources = [{"id": sid, "url": server.url(route), "name": sid, "allow_private": True}
               for sid, (route, _) in routes.items()]
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return path


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def sample_server(feed_server: FeedServer) -> FeedServer:
    """The bundled sample feeds served over loopback HTTP with realistic content types."""
    for route, file in sample_routes().values():
        feed_server.add(route, Route(body=file.read_bytes(), content_type=content_type_for(file)))
    return feed_server


@pytest.fixture
def sample_settings(tmp_path: Path, sample_server: FeedServer) -> Settings:
    sources = write_sources(tmp_path / "sources.yaml", sample_server, sample_routes())
    return make_settings(tmp_path / "home", sources)
