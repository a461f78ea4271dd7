"""Analyst copies: a read-only DuckDB snapshot and a Parquet export, both published atomically.

Analysts (the DuckDB CLI, notebooks, BI tools, the board) read these instead of the live file, so an
open session never blocks the pipeline and the pipeline never waits for an analyst. Each copy is
written under a temporary name and renamed into place; readers holding the old file keep a
consistent view (POSIX keeps the old inode alive) and the next open sees the new one.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from racewatch.errors import StoreError
from racewatch.store import db

log = logging.getLogger(__name__)

EXPORT_TABLES = ("feeds", "feed_health", "entries", "stories", "model_releases", "release_coverage", "events",
                 "alerts", "quarantine")


def publish_snapshot(db_path: Path, snapshot_path: Path, *, retry_s: float = 30.0) -> Path:
    """Copy the (closed, checkpointed) database file to ``snapshot_path`` atomically.

    A short read-only open first makes sure no writer is mid-transaction and the WAL is checkpointed.
    """
    with db.connect(db_path, retry_s=retry_s, migrate=False) as con:
        con.execute("CHECKPOINT")
        tmp = snapshot_path.with_name(f".{snapshot_path.name}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(db_path, tmp)
    os.replace(tmp, snapshot_path)
    return snapshot_path


def export_parquet(db_path: Path, export_dir: Path, *, retry_s: float = 30.0) -> Path:
    """Write each main table to ``export_dir/<table>.parquet`` (zstd), swapping the folder atomically."""
    tmp = export_dir.with_name(f".{export_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        with db.connect(db_path, read_only=True, retry_s=retry_s) as con:
            for table in EXPORT_TABLES:
                target = str(tmp / f"{table}.parquet").replace("'", "''")
                con.execute(f"COPY {table} TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        old = export_dir.with_name(f".{export_dir.name}.old")
        if export_dir.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(export_dir, old)
        os.replace(tmp, export_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return export_dir


def publish(db_path: Path, snapshot_path: Path, export_dir: Path, *, retry_s: float = 30.0) -> None:
    """Refresh both analyst copies; a failure here is logged, never fatal: the live data is safe."""
    try:
        publish_snapshot(db_path, snapshot_path, retry_s=retry_s)
        export_parquet(db_path, export_dir, retry_s=retry_s)
    except (OSError, StoreError) as exc:
        log.warning("analyst snapshot not refreshed: %s", exc)
