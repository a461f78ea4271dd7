"""The HTTP client against a loopback server: validators, errors, limits and private-address rules."""

from __future__ import annotations

import time

import pytest
from racewatch.fetch import FetchOptions, Validators, fetch_all
from racewatch.sources import Source

from tests.support.feed_server import FeedServer, Route

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>1</guid><title>Hello</title><link>https://example.com/1</link></item></channel></rss>"""
OPTS = FetchOptions(timeout_s=3, max_body_bytes=1024 * 1024, allow_private_networks=True)


def one(server: FeedServer, path: str, route: Route | None = None, previous: Validators | None = None,
        options: FetchOptions = OPTS, allow_private: bool = True):
    if route is not None:
        server.add(path, route)
    src = Source(id="s", url=server.url(path), name="s", allow_private=allow_private)
    return fetch_all([src], {"s": previous} if previous else {}, options)[0]


def test_ok_then_304_with_stored_validators(feed_server: FeedServer) -> None:
    first = one(feed_server, "/a", Route(RSS))
    assert first.status == "ok" and first.body == RSS and first.validators.etag
    second = one(feed_server, "/a", previous=first.validators)
    assert second.status == "not_modified" and second.body is None
    sent = feed_server.hits("/a")[-1].headers
    assert sent["If-None-Match"] == first.validators.etag
    assert sent["If-Modified-Since"] == first.validators.last_modified
    assert "racewatch" in sent["User-Agent"]


def test_server_ignoring_validators_gives_unchanged(feed_server: FeedServer) -> None:
    first = one(feed_server, "/a", Route(RSS, etag=False, last_modified=None))
    again = one(feed_server, "/a", previous=first.validators)
    assert again.status == "unchanged" and again.body is None


@pytest.mark.parametrize(("status", "expected"), [(404, "error"), (500, "error"), (410, "gone")])
def test_http_errors_are_never_an_empty_feed(feed_server: FeedServer, status: int, expected: str) -> None:
    res = one(feed_server, "/x", Route(b"oops", status=status))
    assert res.status == expected and res.body is None
    assert str(status) in (res.error or "")


def test_retry_after_is_reported(feed_server: FeedServer) -> None:
    res = one(feed_server, "/x", Route(b"slow down", status=429, headers={"Retry-After": "120"}))
    assert res.status == "error" and res.retry_after_s == 120


def test_private_addresses_refused_unless_allowed(feed_server: FeedServer) -> None:
    feed_server.add("/a", Route(RSS))
    refused = one(feed_server, "/a", options=FetchOptions(timeout_s=3), allow_private=False)
    assert refused.status == "error" and "private" in (refused.error or "")
    assert feed_server.hits("/a") == []


def test_permanent_redirect_reported_and_followed(feed_server: FeedServer) -> None:
    feed_server.add("/new", Route(RSS))
    res = one(feed_server, "/old", Route(b"", status=301, headers={"Location": "/new"}))
    assert res.status == "ok" and res.permanent_redirect == feed_server.url("/new")


def test_redirect_loop_is_an_error(feed_server: FeedServer) -> None:
    res = one(feed_server, "/loop", Route(b"", status=302, headers={"Location": "/loop"}))
    assert res.status == "error" and "redirects" in (res.error or "")


def test_gzip_decoded_and_bomb_capped(feed_server: FeedServer) -> None:
    assert one(feed_server, "/gz", Route(RSS, fault="gzip")).body == RSS
    bomb = one(feed_server, "/bomb", Route(RSS, fault="gzip_bomb"))
    assert bomb.status == "error" and "limit" in (bomb.error or "")


def test_slow_drip_hits_the_deadline(feed_server: FeedServer) -> None:
    started = time.monotonic()
    res = one(feed_server, "/drip", Route(RSS, fault="drip"), options=FetchOptions(timeout_s=1.5,
                                                                                  allow_private_networks=True))
    assert res.status == "error" and ("deadline" in (res.error or "") or "timed out" in (res.error or ""))
    assert time.monotonic() - started < 4


def test_one_bad_feed_does_not_block_the_others(feed_server: FeedServer) -> None:
    feed_server.add("/good", Route(RSS))
    feed_server.add("/stall", Route(RSS, fault="stall"))
    sources = [Source(id=n, url=feed_server.url("/" + n), name=n, allow_private=True) for n in ("stall", "good")]
    started = time.monotonic()
    stall, good = fetch_all(sources, {}, FetchOptions(timeout_s=1.5, allow_private_networks=True))
    assert good.status == "ok" and stall.status == "error"
    assert time.monotonic() - started < 4
