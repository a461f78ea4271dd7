"""
### racewatch_fastpath

The fast path for the sources that matter most (lab blogs): their releases reach Slack within about a
minute of appearing, while every other feed keeps its normal poll interval (`RACEWATCH_POLL_CRON`).

Event-driven, not scheduled: the asset `racewatch://fast-feeds` has an `AssetWatcher` whose trigger
(`FeedChangeTrigger` in `plugins/racewatch_triggers.py`) runs in the triggerer and sends a conditional
GET to every source tagged `fast` in the sources file every `RACEWATCH_FAST_POLL_SECONDS` (default 15).
When a feed changed, the trigger fires, the asset is updated and this DAG runs: it polls the `fast`
sources now (the same `racewatch.pipeline.poll.poll` as `racewatch_poll`, ignoring next-due times),
stores what is new and, like `racewatch_poll`, updates `racewatch://entries` (and `racewatch://notices`
when a source went down or recovered) through the alias `racewatch-poll-events`, so
`racewatch_classify` and `racewatch_alert` follow as usual. Nothing is alerted twice: the regular poll
may see the same entry later, and entries, stories and alerts are keyed so that it is a no-op.

Tag a source for the fast path in the sources file: `tags: [lab, us, fast]`. With no `fast` source the
trigger idles and this DAG never runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from airflow.sdk import Asset, AssetWatcher, Metadata, dag, task
from racewatch_common import DAG_DEFAULTS, ENTRIES, NOTICES, POLL_EVENTS, settings

# Airflow puts its plugins folder on sys.path; harnesses that parse dags/ with another AIRFLOW_HOME
# (DagBag tests, `dag.test()`) do not, so fall back to the project's plugins folder next to dags/.
_PLUGINS = str(Path(__file__).resolve().parents[1] / "plugins")
if _PLUGINS not in sys.path:
    sys.path.append(_PLUGINS)

from racewatch_triggers import FeedChangeTrigger  # noqa: E402  (needs the path above)

FAST_TAG = "fast"
FAST_FEEDS = Asset(
    "racewatch://fast-feeds",
    extra={"tag": FAST_TAG},
    watchers=[AssetWatcher(
        name="racewatch_fast_feeds",
        trigger=FeedChangeTrigger(tag=FAST_TAG, poke_interval=float(os.environ.get("RACEWATCH_FAST_POLL_SECONDS",
                                                                                   "15"))),
    )],
)
"""Updated by the triggerer whenever a feed tagged `fast` changed (event extra: the changed source ids)."""


@dag(
    dag_id="racewatch_fastpath",
    schedule=[FAST_FEEDS],
    tags=["racewatch", "ingest", "fastpath"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def racewatch_fastpath() -> None:
    @task(outlets=[POLL_EVENTS])
    def poll_fast_feeds():
        """Poll the `fast` sources now; emit entries/notices events only for what actually happened."""
        from airflow.sdk.exceptions import AirflowSkipException
        from racewatch.pipeline.poll import poll
        from racewatch.sources import load_sources

        conf = settings()
        fast = [s for s in load_sources(conf.sources_path) if FAST_TAG in s.tags]
        if not fast:
            raise AirflowSkipException(f"no source in {conf.sources_path} is tagged {FAST_TAG!r}")
        summary = poll(conf, sources=fast, force_all=True)
        if not (summary.has_news or summary.has_notices):
            raise AirflowSkipException(f"nothing new: {summary.as_dict()}")
        if summary.has_news:
            yield Metadata(ENTRIES, extra={"new": summary.new_entries, "changed": summary.changed_entries,
                                           "batch_id": summary.batch_id, "fastpath": True}, alias=POLL_EVENTS)
        if summary.has_notices:
            yield Metadata(NOTICES, extra={"notices": summary.notices, "batch_id": summary.batch_id},
                           alias=POLL_EVENTS)

    poll_fast_feeds()


racewatch_fastpath()
