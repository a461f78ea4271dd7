"""FeedChangeTrigger on its own: rounds of conditional GETs against a loopback server.

The end-to-end tests run the trigger inside a real triggerer; this one pins down its rules round by
round. Airflow reads its configuration at import time, so the rounds run in a child process with an
explicit environment; the child drives the loopback feed server itself and reports what each round
returned and what the server saw.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from racewatch.settings import PROJECT_ROOT

from tests.e2e.conftest import airflow_env

ROUNDS = r"""
import asyncio, json, sys
from pathlib import Path
import httpx, yaml
sys.path.insert(0, sys.argv[1])  # plugins/
from racewatch_triggers import FeedChangeTrigger
from racewatch.settings import Settings
from tests.support.feed_server import FeedServer, Route

FEED = b'<rss version="2.0"><channel><title>Lab</title><item><guid>1</guid><title>%s</title></item></channel></rss>'

async def main(server, settings):
    trigger = FeedChangeTrigger(tag="fast", poke_interval=15.0)
    rounds = []
    async with httpx.AsyncClient(follow_redirects=False) as client:
        for step in range(4):
            if step == 2:  # both labs publish: one with validators, one that only a body hash can tell
                server.routes["/lab-a"] = Route(FEED % b"Kimi K2.5")
                server.routes["/lab-b"] = Route(FEED % b"Qwen3-Max-Thinking", etag=False, last_modified=None)
            rounds.append(await trigger.check_once(client, settings))
    return rounds

with FeedServer() as server, FeedServer(host="127.0.0.2") as internal:
    internal_feed = internal.add("/admin", Route(FEED % b"internal"))
    server.add("/lab-a", Route(FEED % b"old"))
    server.add("/lab-b", Route(FEED % b"old", etag=False, last_modified=None))
    server.add("/broken", Route(b"oops", status=500))
    server.add("/slow-news", Route(FEED % b"weekly"))
    server.add("/sneaky", Route(b"", status=302, headers={"Location": internal_feed}))
    sources = [
        {"id": "lab-a", "url": server.url("/lab-a"), "tags": ["fast"], "allow_private": True},
        {"id": "lab-b", "url": server.url("/lab-b"), "tags": ["fast"], "allow_private": True},
        {"id": "broken", "url": server.url("/broken"), "tags": ["fast"], "allow_private": True},
        {"id": "sneaky", "url": server.url("/sneaky"), "tags": ["fast"], "allow_private": True},
        {"id": "slow-news", "url": server.url("/slow-news"), "allow_private": True},
    ]
    path = Path(sys.argv[2])
    path.write_text(yaml.safe_dump({"sources": sources}))
    rounds = asyncio.run(main(server, Settings.from_env()))
    hits = {p: len(server.hits(p)) for p in ("/lab-a", "/lab-b", "/broken", "/sneaky", "/slow-news")}
    hits["internal"] = len(internal.hits("/admin"))
    conditional = [r.headers.get("If-None-Match") is not None for r in server.hits("/lab-a")]
    print(json.dumps({"rounds": rounds, "hits": hits, "conditional": conditional}))
"""


def test_trigger_fires_once_per_change_and_never_for_baseline_errors_or_untagged_feeds(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    env = airflow_env(tmp_path / "airflow", RACEWATCH_HOME=str(tmp_path / "home"), RACEWATCH_SOURCES=str(sources),
                      NO_PROXY="*", no_proxy="*")  # the second loopback host, 127.0.0.2, too
    proc = subprocess.run([sys.executable, "-c", ROUNDS, str(PROJECT_ROOT / "plugins"), str(sources)],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    # round 1 records a baseline, round 2 sees nothing new, round 3 sees both labs publish, round 4 is quiet
    assert out["rounds"] == [[], [], ["lab-a", "lab-b"], []]
    assert out["hits"]["/lab-a"] == 4 and out["hits"]["/lab-b"] == 4
    assert out["conditional"] == [False, True, True, True]  # validators sent from the second round on
    assert out["hits"]["/broken"] == 1  # a failing feed backs off (15 s and more) instead of being hammered
    # allow_private covers the source's own host only: its redirect to another private host is refused
    assert out["hits"]["/sneaky"] == 1 and out["hits"]["internal"] == 0
    assert out["hits"]["/slow-news"] == 0  # untagged feeds are the regular poll's business
