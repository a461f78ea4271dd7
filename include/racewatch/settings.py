"""Runtime settings, read once from the environment.

Everything that differs between a laptop, CI and a deployment comes from environment variables with
defaults that work offline, so the CLI, the DAGs and the tests share one source of truth.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The project checkout (``include/racewatch/settings.py`` -> project root)."""

USER_AGENT = "racewatch/0.1 (+https://github.com/racewatch/racewatch; AI-race news monitor)"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _max_age(hours: float) -> timedelta | None:
    """0 (or less) disables the age limit: the offline demo's sample stories are days old."""
    return timedelta(hours=hours) if hours > 0 else None


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; build it with :meth:`from_env` rather than by hand."""

    home: Path
    db_path: Path
    sources_path: Path
    allow_private_networks: bool = False
    slack_token: str | None = None
    slack_channel: str = "#ai-race"
    slack_base_url: str | None = None
    default_poll_minutes: int = 10
    fetch_timeout_s: float = 20.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_concurrency: int = 48
    per_host_concurrency: int = 2
    future_tolerance: timedelta = timedelta(hours=6)
    alert_max_age: timedelta | None = timedelta(hours=24)
    """Stories older than this are stored but never alerted (first start, backfills); None = no limit."""
    lock_retry_s: float = 30.0
    alert_budget_per_hour: int = 20
    """Root alerts per hour before the rest collapse into one summary message (no floods)."""
    min_score: float = 0.0
    """Flagship stories scoring below this are stored but do not create releases or alerts."""
    digest_hour_utc: int = 8
    down_after_failures: int = 3
    """Consecutive failures before a 'source down' notice (and, later, one 'recovered' notice)."""

    @property
    def landing_dir(self) -> Path:
        """Append-only raw batches, written before any database load so a run can be replayed."""
        return self.home / "landing"

    @property
    def snapshot_path(self) -> Path:
        """Read-only analyst copy of the database, republished atomically after each load."""
        return self.db_path.with_name(self.db_path.stem + "_ro" + self.db_path.suffix)

    @property
    def export_dir(self) -> Path:
        """Parquet export of the main tables (one file per table), swapped in atomically."""
        return self.home / "export"

    @property
    def validations_dir(self) -> Path:
        return self.home / "validations"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("RACEWATCH_HOME") or PROJECT_ROOT / "data").expanduser()
        db_path = Path(env.get("RACEWATCH_DB") or home / "racewatch.duckdb").expanduser()
        sources = Path(env.get("RACEWATCH_SOURCES") or PROJECT_ROOT / "include/config/sources.yaml")
        if not sources.is_absolute():
            sources = (PROJECT_ROOT / sources) if not sources.exists() else sources.resolve()
        return cls(
            home=home,
            db_path=db_path,
            sources_path=sources,
            allow_private_networks=_flag(env.get("RACEWATCH_ALLOW_PRIVATE_NETWORKS")),
            slack_token=env.get("RACEWATCH_SLACK_TOKEN") or None,
            slack_channel=env.get("RACEWATCH_SLACK_CHANNEL") or "#ai-race",
            slack_base_url=env.get("RACEWATCH_SLACK_BASE_URL") or None,
            default_poll_minutes=int(_float(env, "RACEWATCH_POLL_MINUTES", 10)),
            fetch_timeout_s=_float(env, "RACEWATCH_FETCH_TIMEOUT", 20.0),
            max_body_bytes=int(_float(env, "RACEWATCH_MAX_BODY_MB", 10) * 1024 * 1024),
            alert_max_age=_max_age(_float(env, "RACEWATCH_ALERT_MAX_AGE_HOURS", 24)),
            lock_retry_s=_float(env, "RACEWATCH_LOCK_RETRY_SECONDS", 30.0),
            alert_budget_per_hour=int(_float(env, "RACEWATCH_ALERT_BUDGET_PER_HOUR", 20)),
            min_score=_float(env, "RACEWATCH_MIN_SCORE", 0.0),
            digest_hour_utc=int(_float(env, "RACEWATCH_DIGEST_HOUR_UTC", 8)),
            down_after_failures=int(_float(env, "RACEWATCH_DOWN_AFTER_FAILURES", 3)),
        )
