"""Append-only landing of poll batches, written before anything touches the database.

A batch is a folder ``<home>/landing/YYYY-MM-DD/<batch_id>/`` holding gzipped JSON Lines
(``fetches``, ``entries``, ``quarantine``) and a ``batch.json`` manifest. It is written under a
temporary name and renamed into place, so a reader never sees half a batch. The database records
which batches it has loaded (``landed_batches``) in the same transaction as their rows; any landed
batch missing there (because the store was locked or the process died) is loaded by the next run.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

PARTS = ("fetches", "entries", "quarantine")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def to_json(value: Any) -> str:
    """JSON with UTC timestamps as 'YYYY-MM-DD HH:MM:SS' (what DuckDB reads as TIMESTAMP)."""
    return json.dumps(value, default=_default, ensure_ascii=False)


@dataclass(frozen=True)
class LandedBatch:
    batch_id: str
    path: Path

    def part(self, name: str) -> Path:
        return self.path / f"{name}.jsonl.gz"

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "batch.json").read_text(encoding="utf-8"))


def new_batch_id(now: datetime | None = None) -> str:
    """Sortable and unique: ``20261128T231500Z-<8 hex>``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def land_batch(
    landing_dir: Path,
    batch_id: str,
    parts: dict[str, Iterable[dict[str, Any]]],
    manifest: dict[str, Any],
) -> LandedBatch:
    """Write all parts under a temp folder, fsync, then rename into place atomically."""
    day = batch_id[:4] + "-" + batch_id[4:6] + "-" + batch_id[6:8]
    final = landing_dir / day / batch_id
    tmp = landing_dir / day / f".{batch_id}.tmp"
    tmp.mkdir(parents=True, exist_ok=False)
    counts: dict[str, int] = {}
    try:
        for name in PARTS:
            n = 0
            with gzip.open(tmp / f"{name}.jsonl.gz", "wt", encoding="utf-8", compresslevel=3) as fh:
                for row in parts.get(name, ()):
                    fh.write(to_json(row))
                    fh.write("\n")
                    n += 1
            counts[name] = n
        (tmp / "batch.json").write_text(
            to_json({"batch_id": batch_id, "counts": counts, **manifest}), encoding="utf-8"
        )
        for child in tmp.iterdir():
            with child.open("rb") as fh:
                os.fsync(fh.fileno())
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return LandedBatch(batch_id, final)


def landed_batches(landing_dir: Path) -> Iterator[LandedBatch]:
    """Every complete batch on disk, oldest first (temp folders are ignored)."""
    if not landing_dir.exists():
        return
    for day in sorted(p for p in landing_dir.iterdir() if p.is_dir()):
        for folder in sorted(p for p in day.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if (folder / "batch.json").exists():
                yield LandedBatch(folder.name, folder)


def read_part(batch: LandedBatch, name: str) -> Iterator[dict[str, Any]]:
    path = batch.part(name)
    if not path.exists():
        return
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
