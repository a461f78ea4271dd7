"""racewatch alerting: Block Kit rendering (:mod:`.render`, pure) and the Slack client (:mod:`.slack`).

``racewatch.alerts.slack`` (and with it slack-sdk) is imported only when one of its names is first used,
so importing the renderers stays cheap (DAG files parse fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from racewatch.alerts.render import (
    escape_mrkdwn,
    limit_blocks,
    render_followup,
    render_release_root,
    safe_link,
    truncate,
)

if TYPE_CHECKING:
    from racewatch.alerts.slack import (
        PostResult,
        SlackAlertError,
        SlackConfigError,
        SlackPoster,
        SlackTransientError,
        build_client,
        client_from_env,
        poster_from_env,
    )

_SLACK_NAMES = frozenset(
    {
        "PostResult",
        "SlackAlertError",
        "SlackConfigError",
        "SlackPoster",
        "SlackTransientError",
        "build_client",
        "client_from_env",
        "poster_from_env",
    }
)

__all__ = [
    "PostResult",
    "SlackAlertError",
    "SlackConfigError",
    "SlackPoster",
    "SlackTransientError",
    "build_client",
    "client_from_env",
    "escape_mrkdwn",
    "limit_blocks",
    "poster_from_env",
    "render_followup",
    "render_release_root",
    "safe_link",
    "truncate",
]


def __getattr__(name: str) -> Any:
    if name in _SLACK_NAMES:
        from racewatch.alerts import slack

        return getattr(slack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
