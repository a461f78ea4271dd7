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

import duckdb

from racewatch.errors import StoreError
from racewatch.store import db

log = logging.getLogger(__name__)

EXPORT_TABLES = ("feeds", "feed_health", "entries", "stories", "model_releases", "release_coverage", "events",
                 "alerts", "quarantine")


def publish_snapshot(con: duckdb.DuckDBPyConnection, db_path: Path, snapshot_path: Path) -> Path:
    """Checkpoint through ``con`` (a read-write connection to ``db_path``), then copy the file atomically.

    Holding the connection keeps any other writer out while the file is copied, and the checkpoint
    leaves nothing in the WAL, so the copy is a complete database.
    """
    con.execute("CHECKPOINT")
    tmp = snapshot_path.with_name(f".{snapshot_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    shutil.copyfile(db_path, tmp)
    os.replace(tmp, snapshot_path)
    return snapshot_path


def export_parquet(con: duckdb.DuckDBPyConnection, export_dir: Path) -> Path:
    """Write each main table to ``export_dir/<table>.parquet`` (zstd), swapping the folder atomically."""
    tmp = export_dir.with_name(f".{export_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
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
    """Refresh both analyst copies over one connection; a failure is logged, never fatal: the live data is safe."""
    try:
        with db.connect(db_path, retry_s=retry_s, migrate=False) as con:
            publish_snapshot(con, db_path, snapshot_path)
            export_parquet(con, export_dir)
    except (OSError, StoreError) as exc:
        log.warning("analyst snapshot not refreshed: %s", exc)
