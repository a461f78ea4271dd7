"""Shared wiring for the racewatch DAGs: assets, default arguments and Airflow-side configuration.

Kept tiny and free of heavy imports, because every DAG file imports it at parse time. The library
(``include/racewatch``) never imports Airflow; this module is where Airflow's Connections and
Variables are turned into the library's plain settings objects. Listed in ``.airflowignore`` so the
DAG processor does not parse it as a DAG file.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias

if TYPE_CHECKING:
    from racewatch.alerts.slack import SlackPoster
    from racewatch.settings import Settings

ENTRIES = Asset("racewatch://entries", extra={"table": "entries"})
"""Updated by racewatch_poll when new or edited entries were stored."""
RELEASES = Asset("racewatch://releases", extra={"table": "alerts"})
"""Updated by racewatch_classify when the alert outbox has something to send."""
NOTICES = Asset("racewatch://notices", extra={"table": "alerts"})
"""Updated by racewatch_poll when a source went down or recovered (an ops notice is in the outbox)."""
POLL_EVENTS = AssetAlias("racewatch-poll-events")
"""The poll task emits ENTRIES and/or NOTICES through this alias, only for what actually happened."""

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


VARIABLES = {
    # Airflow Variable -> (Settings field, type); defaults come from the environment (Settings.from_env).
    CHANNEL_VARIABLE: ("slack_channel", str),
    "racewatch_digest_hour_utc": ("digest_hour_utc", int),
    "racewatch_alert_budget_per_hour": ("alert_budget_per_hour", int),
    "racewatch_min_score": ("min_score", float),
    "racewatch_down_after_failures": ("down_after_failures", int),
}


def settings() -> Settings:
    """Library settings from the environment, overridden by the racewatch Variables (read at run time only)."""
    from dataclasses import replace

    from airflow.sdk import Variable
    from racewatch.settings import Settings

    base = Settings.from_env()
    overrides: dict[str, Any] = {}
    for name, (field, kind) in VARIABLES.items():
        value = Variable.get(name, default=None)
        if value not in (None, ""):
            try:
                overrides[field] = kind(value)
            except ValueError as exc:
                raise ValueError(f"Airflow Variable {name}={value!r} is not a valid {kind.__name__}") from exc
    return replace(base, **overrides)


def notify_failure(context: Any) -> None:
    """``on_failure_callback``: tell the channel a racewatch DAG run failed (the Slack provider's notifier).

    Without the Slack connection this only logs, like every other racewatch message in dry-run.
    """
    import logging

    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    dag_run = context.get("dag_run")
    run = f"{getattr(dag_run, 'dag_id', '?')} {getattr(dag_run, 'run_id', '')}"
    text = f":rotating_light: racewatch DAG run failed: {run}"
    try:
        BaseHook.get_connection(SLACK_CONN_ID)
    except AirflowNotFoundException:
        logging.getLogger("racewatch").warning("dry-run (no %s connection): %s", SLACK_CONN_ID, text)
        return
    from airflow.providers.slack.notifications.slack import SlackNotifier

    SlackNotifier(slack_conn_id=SLACK_CONN_ID, text=text, channel=settings().slack_channel)(context)


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


DAG_DEFAULTS: dict[str, Any] = {
    # Every racewatch DAG: no backfills, one run at a time, retries, and a Slack notice when a run fails.
    "start_date": datetime(2026, 1, 1),
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
    "on_failure_callback": notify_failure,
}
