"""feedparser's own test corpus (../shared/corpus/feedparser) through racewatch.

Every file goes through `racewatch parse` (in-process: exit code 0 or 1, one-line error, never a
traceback); the files under http/ and compression/ are served over loopback with the headers listed
in INDEX.csv and fetched by racewatch's own client. Skipped cleanly when the corpus is absent.
"""

from __future__ import annotations

import csv
import json

import pytest
from racewatch.cli import main
from racewatch.fetch import FetchOptions, fetch_all
from racewatch.parse import FeedParseError, parse_feed
from racewatch.sources import Source

from tests.conftest import FEEDPARSER_CORPUS
from tests.support.feed_server import FeedServer, Route

pytestmark = pytest.mark.skipif(not (FEEDPARSER_CORPUS / "INDEX.csv").exists(),
                                reason=f"feedparser corpus not found at {FEEDPARSER_CORPUS}")


def index() -> list[dict[str, str]]:
    if not (FEEDPARSER_CORPUS / "INDEX.csv").exists():
        return []
    with (FEEDPARSER_CORPUS / "INDEX.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_corpus_file_parses_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    rows = index()
    assert len(rows) > 700
    outcomes = {"ok": 0, "error": 0}
    for row in rows:
        code = main(["parse", str(FEEDPARSER_CORPUS / row["path"]), "--json"])
        out, err = capsys.readouterr()
        assert code in (0, 1), row["path"]
        assert "Traceback" not in out + err, row["path"]
        result = json.loads(out)
        outcomes[result["outcome"]] += 1
        if code == 1:
            assert len(err.strip().splitlines()) == 1, f"{row['path']}: {err}"
        expected = int(row["fp6014_entries"] or 0)
        if result["outcome"] == "ok":
            # feedparser found these entries; racewatch keeps them all (unless nothing identifies them)
            assert len(result["entries"]) <= expected, row["path"]
    assert outcomes["ok"] > 0.8 * len(rows), outcomes


def _headers(spec: str) -> tuple[int, dict[str, str]]:
    status, headers = 200, {}
    for part in filter(None, (p.strip() for p in spec.split("; "))):
        name, _, value = part.partition(":")
        if name == "Status":
            status = int(value)
        else:
            headers[name] = value
    return status, headers


HTTP_ROWS = [r for r in index() if r["path"].startswith(("http/", "compression/"))]


@pytest.fixture(scope="module")
def corpus_server() -> FeedServer:
    with FeedServer() as server:
        for row in HTTP_ROWS:
            status, headers = _headers(row["http_headers"])
            headers = {k: v.replace("http://localhost:8097", server.base_url) for k, v in headers.items()}
            ctype = headers.pop("Content-Type", "application/xml")
            server.add(f"/tests/{row['path']}", Route(body=(FEEDPARSER_CORPUS / row["path"]).read_bytes(),
                                                    status=status, headers=headers, content_type=ctype,
                                                    etag=False, last_modified=None))
        server.add("/-/return-304.xml", Route(body=b"", status=304, etag=False, last_modified=None))
        yield server


@pytest.mark.parametrize("row", HTTP_ROWS, ids=lambda r: r["path"])
def test_http_and_compression_files_over_loopback(corpus_server: FeedServer, row: dict[str, str]) -> None:
    src = Source(id="c", url=corpus_server.url(f"/tests/{row['path']}"), name="c", allow_private=True)
    res = fetch_all([src], {}, FetchOptions(timeout_s=5, allow_private_networks=True))[0]
    status, _ = _headers(row["http_headers"])
    expected_entries = int(row["fp6014_entries"] or 0)
    if status == 404:
        assert res.status == "error" and "404" in (res.error or "")
        return
    if status in (301, 302, 303, 307) and "Location" in row["http_headers"]:
        if "return-304" in row["http_headers"]:
            assert res.status == "not_modified"  # a redirect to a 304 is not a parse error
            return
        assert res.status == "ok" and res.final_url.endswith("/tests/http/target.xml")
        assert (res.permanent_redirect is not None) == (status == 301)
    if res.status != "ok":
        assert res.error and "\n" not in res.error  # e.g. a body that claims gzip but is not: one line
        return
    try:
        parsed = parse_feed(res.body, "c", base_url=res.final_url, content_type=res.content_type)
    except FeedParseError as exc:
        assert expected_entries == 0, f"{row['path']}: {exc}"
        return
    assert len(parsed.entries) == expected_entries, row["path"]
