"""One full cycle in-process (``racewatch run-once``): the same stage functions the DAGs call."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from racewatch.alerts.slack import SlackPoster
from racewatch.pipeline.alert import AlertSummary, send_pending
from racewatch.pipeline.classify import ClassifySummary, classify_pending
from racewatch.pipeline.poll import PollSummary, poll
from racewatch.settings import Settings


@dataclass
class CycleSummary:
    poll: PollSummary
    classify: ClassifySummary
    alerts: AlertSummary

    def as_dict(self) -> dict[str, Any]:
        return {"poll": self.poll.as_dict(), "classify": self.classify.as_dict(), "alerts": self.alerts.as_dict()}


def run_once(settings: Settings, poster: SlackPoster, *, force_all: bool = False) -> CycleSummary:
    """One full cycle in-process: poll, classify + validate + store, alert."""
    polled = poll(settings, force_all=force_all)
    classified = classify_pending(settings)
    sent = send_pending(settings, poster)
    return CycleSummary(polled, classified, sent)


