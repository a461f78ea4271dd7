"""The stable CLI: JSONL classify contract, parse outcomes, read-only SQL, feeds, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from racewatch.cli import main
from racewatch.store import db

from tests.conftest import SAMPLE_DIR

FIELDS = {"id", "is_ai_competition", "event_type", "is_flagship_release", "orgs", "models", "country",
          "release_key", "score", "reasons"}


def test_classify_jsonl_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in [
        {"id": "1", "title": "Moonshot AI releases Kimi K2.5, 'the world's most powerful open-source model'",
         "summary": "The Beijing lab published the weights on Hugging Face."},
        {"id": "2", "title": "Kimi Raikkonen returns for a legends race", "summary": "The Finn drove at Monza."},
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["classify", "--input", str(src), "--output", str(out)]) == 0
    kimi, raikkonen = (json.loads(line) for line in out.read_text().splitlines())
    assert set(kimi) == FIELDS and set(raikkonen) == FIELDS
    assert kimi["is_flagship_release"] and kimi["country"] == "CN" and kimi["release_key"] == "moonshot-ai/kimi-k2.5"
    assert not raikkonen["is_ai_competition"] and raikkonen["event_type"] == "other"


def test_classify_reports_bad_lines_in_one_line_and_keeps_going(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "1", "title": "Alibaba unveils Qwen3-Max-Thinking"}\nnot json\n{"title": 3}\n')
    assert main(["classify", "--input", str(src)]) == 1
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1
    assert err.splitlines() == ["racewatch: error: line 2: not valid JSON (Expecting value)",
                                "racewatch: error: line 3: expected an object with 'id' and a string 'title'"]


def test_parse_file_json_and_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(SAMPLE_DIR / "compute_report.atom"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "ok" and len(result["entries"]) == 10
    assert main(["parse", "/nonexistent/feed.xml"]) == 1
    assert capsys.readouterr().err.strip() == "racewatch: error: /nonexistent/feed.xml: no such file"


def test_parse_not_a_feed_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Service unavailable</h1></body></html>")
    assert main(["parse", str(page)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("racewatch: error:") and "not a feed" in err and len(err.splitlines()) == 1


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RACEWATCH_HOME", str(tmp_path))
    path = tmp_path / "racewatch.duckdb"
    with db.connect(path) as con:
        con.execute("""INSERT INTO model_releases (release_key, org, country, model, first_seen_at, first_entry_key,
                       outlets, provenance, updated_at)
                       VALUES ('moonshot-ai/kimi-k2.5', 'Moonshot AI', 'CN', 'Kimi K2.5', now(), 'e1', 3, '{}',
                               now())""")
    return path


def test_sql_formats(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = "SELECT model, country, outlets FROM model_releases"
    assert main(["sql", query, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"model": "Kimi K2.5", "country": "CN", "outlets": 3}]
    assert main(["sql", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["model,country,outlets", "Kimi K2.5,CN,3"]
    assert main(["sql", query]) == 0
    assert "Kimi K2.5" in capsys.readouterr().out


def test_sql_is_read_only_and_errors_are_one_line(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "DELETE FROM model_releases"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "read-only" in err.lower()
    assert main(["sql", "SELEC nonsense"]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_feeds_import_opml_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RACEWATCH_HOME", str(tmp_path))
    sources = tmp_path / "sources.yaml"
    sources.write_text("# my feeds\nsources:\n  - id: existing\n    url: https://a.example/feed\n")
    monkeypatch.setenv("RACEWATCH_SOURCES", str(sources))
    opml = tmp_path / "export.opml"
    opml.write_text("""<?xml version="1.0"?><opml version="2.0"><body>
      <outline text="AI"><outline text="Lab Blog" type="rss" xmlUrl="https://lab.example/rss.xml"/>
      <outline text="Dup" xmlUrl="https://a.example/feed"/><outline text="Local" xmlUrl="file:///etc/passwd"/>
      </outline></body></opml>""")
    assert main(["feeds", "import-opml", str(opml)]) == 0
    assert "added 1 source(s)" in capsys.readouterr().out
    text = sources.read_text()
    assert text.startswith("# my feeds") and "id: lab-blog" in text and "passwd" not in text
    assert main(["feeds", "list", "--format", "csv"]) == 0
    assert "lab-blog" in capsys.readouterr().out


def test_bad_sources_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RACEWATCH_HOME", str(tmp_path))
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - id: Bad ID\n    url: https://x.example/\n")
    monkeypatch.setenv("RACEWATCH_SOURCES", str(bad))
    assert main(["feeds", "list"]) == 1
    assert capsys.readouterr().err.strip() == (
        "racewatch: error: sources[0] (id 'Bad ID'): id is required and must match [a-z0-9-]")
