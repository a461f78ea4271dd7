"""Shared wiring for the racewatch DAGs: assets, default arguments and Airflow-side configuration.

Kept tiny and free of heavy imports, because every DAG file imports it at parse time. The library
(``include/racewatch``) never imports Airflow; this module is where Airflow's Connections and
Variables are turned into the library's plain settings objects. Listed in ``.airflowignore`` so the
DAG processor does not parse it as a DAG file.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from racewatch.alerts.slack import SlackPoster
    from racewatch.settings import Settings

ENTRIES = Asset("racewatch://entries", extra={"table": "entries"})
"""Updated by racewatch_poll when new or edited entries were stored."""
RELEASES = Asset("racewatch://releases", extra={"table": "alerts"})
"""Updated by racewatch_classify when the alert outbox has something to send."""

WRITER_POOL = "duckdb_writer"
SLACK_CONN_ID = "slack_api_default"
CHANNEL_VARIABLE = "racewatch_slack_channel"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "racewatch",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "pool": WRITER_POOL,
    "execution_timeout": timedelta(minutes=20),
}
POLL_CRON = os.environ.get("RACEWATCH_POLL_CRON", "*/10 * * * *")


def settings() -> Settings:
    """Library settings from the environment plus the channel Variable (read at run time only)."""
    from dataclasses import replace

    from airflow.sdk import Variable
    from racewatch.settings import Settings

    base = Settings.from_env()
    return replace(base, slack_channel=Variable.get(CHANNEL_VARIABLE, default=base.slack_channel))


def slack_poster(channel: str) -> SlackPoster:
    """A poster on the Slack provider's own connection; dry-run when the connection is absent."""
    from airflow.sdk.exceptions import AirflowNotFoundException
    from racewatch.alerts.slack import SlackPoster, retry_handlers

    try:
        from airflow.providers.slack.hooks.slack import SlackHook

        hook = SlackHook(slack_conn_id=SLACK_CONN_ID, retry_handlers=retry_handlers())
        client = hook.client if hook.get_connection(SLACK_CONN_ID).password else None
    except AirflowNotFoundException:
        client = None
    return SlackPoster(client, channel)
