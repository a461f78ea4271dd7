"""The ``racewatch`` command: the stable CLI from DESIGN.md.

Every failure a user can cause (bad file, bad feed, locked database, bad SQL) ends as one line on
stderr and a non-zero exit code, never a traceback. Heavy modules are imported inside commands so
``racewatch --help`` stays instant.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from racewatch.errors import RacewatchError
from racewatch.settings import Settings


def _err(message: str) -> None:
    print(f"racewatch: error: {message}", file=sys.stderr)


def _open_in(path: str | None) -> IO[str]:
    return sys.stdin if path in (None, "-") else open(path, encoding="utf-8")


def _open_out(path: str | None) -> IO[str]:
    return sys.stdout if path in (None, "-") else open(path, "w", encoding="utf-8")


def cmd_classify(args: argparse.Namespace) -> int:
    """JSON Lines in, JSON Lines out; a bad line is reported (line number) and skipped."""
    from racewatch.classify import classify

    bad = 0
    src, dst = _open_in(args.input), _open_out(args.output)
    try:
        for lineno, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                _err(f"line {lineno}: not valid JSON ({exc.msg})")
                bad += 1
                continue
            if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("title"), str):
                _err(f"line {lineno}: expected an object with 'id' and a string 'title'")
                bad += 1
                continue
            item.setdefault("summary", "")
            dst.write(json.dumps(classify(item), ensure_ascii=False) + "\n")
    finally:
        if src is not sys.stdin:
            src.close()
        if dst is not sys.stdout:
            dst.close()
    return 1 if bad else 0


def cmd_parse(args: argparse.Namespace) -> int:
    """Fetch (URL) or read (file) one feed and print its normalized entries and outcome."""
    from racewatch.fetch import FetchOptions, fetch_all
    from racewatch.parse import FeedParseError, parse_feed
    from racewatch.sources import Source

    settings = Settings.from_env()
    target = args.source
    is_url = target.startswith(("http://", "https://"))
    if not is_url and not Path(target).is_file():
        _err(f"{target}: no such file")
        return 1
    source = Source(id="cli", url=target if is_url else str(Path(target).resolve()), name=target,
                    allow_private=args.allow_private)
    options = FetchOptions(timeout_s=settings.fetch_timeout_s, max_body_bytes=settings.max_body_bytes,
                           allow_private_networks=settings.allow_private_networks)
    result = fetch_all([source], {}, options)[0]
    outcome: dict[str, Any] = {"source": target, "http_status": result.http_status, "final_url": result.final_url}
    if result.status != "ok" or result.body is None:
        outcome.update(outcome="error", error=result.error or result.status)
    else:
        try:
            parsed = parse_feed(result.body, "cli", base_url=result.final_url if is_url else None,
                                content_type=result.content_type)
        except FeedParseError as exc:
            outcome.update(outcome="error", error=str(exc))
        else:
            outcome.update(outcome="ok", version=parsed.version, title=parsed.title,
                           bozo=list(parsed.warnings), entries=[e.as_row() for e in parsed.entries])
    if args.json:
        print(json.dumps(outcome, default=str, ensure_ascii=False, indent=2))
    elif outcome["outcome"] == "ok":
        print(f"ok: {outcome['title'] or target} ({outcome['version']}, {len(outcome['entries'])} entries)")
        for warning in outcome["bozo"]:
            print(f"  bozo: {warning}")
        for e in outcome["entries"]:
            print(f"- {e['published_at']:%Y-%m-%d %H:%M}  {e['title']}\n    {e['link'] or '(no link)'}")
    if outcome["outcome"] != "ok":
        _err(f"{target}: {outcome['error']}")
        return 1
    return 0


def cmd_run_once(args: argparse.Namespace) -> int:
    from racewatch.alerts.slack import poster_from_env
    from racewatch.pipeline.cycle import run_once

    settings = Settings.from_env()
    if args.sources:
        settings = Settings.from_env({**os.environ, "RACEWATCH_SOURCES": str(Path(args.sources).resolve())})
    summary = run_once(settings, poster_from_env(), force_all=args.all)
    print(json.dumps(summary.as_dict(), default=str, indent=2))
    return 0


def cmd_reclassify(args: argparse.Namespace) -> int:
    """Relabel stored entries from their stored text (no refetch): pending ones, or all with --all."""
    from racewatch.pipeline.classify import classify_pending
    from racewatch.store import db

    settings = Settings.from_env()
    if args.all:
        with db.connect(settings.db_path, retry_s=settings.lock_retry_s) as con:
            con.execute("UPDATE entries SET classified_version = NULL")
    total = 0
    while True:
        summary = classify_pending(settings)
        total += summary.classified
        if not summary.classified:
            break
    print(f"reclassified {total} entr{'y' if total == 1 else 'ies'}")
    return 0


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, ensure_ascii=False,
                         indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        text = [[("" if v is None else str(v)).replace("\n", " ") for v in r] for r in rows]
        widths = [min(60, max([len(c), *(len(r[i]) for r in text)])) for i, c in enumerate(columns)]
        print(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        print("-+-".join("-" * w for w in widths))
        for r in text:
            print(" | ".join((v if len(v) <= w else v[: w - 1] + "…").ljust(w)
                             for v, w in zip(r, widths, strict=True)))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def cmd_sql(args: argparse.Namespace) -> int:
    """Read-only query; retries briefly while a writer holds the file."""
    import duckdb

    from racewatch.store import db

    settings = Settings.from_env()
    with db.connect(settings.db_path, read_only=True, retry_s=settings.lock_retry_s) as con:
        try:
            cur = con.execute(args.query)
        except duckdb.Error as exc:
            _err(str(exc).splitlines()[0])
            return 1
        columns = [d[0] for d in cur.description or []]
        _print_rows(columns, cur.fetchall(), args.format)
    return 0


def cmd_feeds_list(args: argparse.Namespace) -> int:
    from racewatch.sources import load_sources
    from racewatch.store import db

    settings = Settings.from_env()
    if settings.db_path.exists():
        with db.connect(settings.db_path, read_only=True, retry_s=settings.lock_retry_s) as con:
            cur = con.execute(
                """SELECT feed_id, name, active, last_status, consecutive_failures AS failures,
                          last_success_at, next_due_at, last_error, url FROM v_feed_health"""
            )
            _print_rows([d[0] for d in cur.description], cur.fetchall(), args.format)
        return 0
    rows = [(s.id, s.name, ",".join(s.tags), s.url) for s in load_sources(settings.sources_path)]
    _print_rows(["feed_id", "name", "tags", "url"], rows, args.format)
    return 0


def cmd_feeds_import(args: argparse.Namespace) -> int:
    from racewatch.opml import import_opml

    settings = Settings.from_env()
    target = Path(args.sources) if args.sources else settings.sources_path
    added = import_opml(Path(args.file), target)
    print(f"added {len(added)} source(s) to {target}: {', '.join(s.id for s in added) or '-'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="racewatch", description="News monitor for the AI race.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("classify", help="classify JSON Lines stories (stdin -> stdout by default)")
    p.add_argument("--input", help="JSONL file (default: stdin)")
    p.add_argument("--output", help="JSONL file (default: stdout)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("parse", help="fetch or read one feed and print its normalized entries")
    p.add_argument("source", help="http(s) URL or file path")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--allow-private", action="store_true", help="allow loopback/private addresses")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("run-once", help="one full cycle: poll, classify, validate, store, alert")
    p.add_argument("--sources", help="sources YAML (default: $RACEWATCH_SOURCES)")
    p.add_argument("--all", action="store_true", help="poll every source now, ignoring next-due times")
    p.set_defaults(func=cmd_run_once)

    p = sub.add_parser("reclassify", help="relabel stored entries with the current classifier (no refetch)")
    p.add_argument("--all", action="store_true", help="relabel every entry, not only those of older versions")
    p.set_defaults(func=cmd_reclassify)

    p = sub.add_parser("sql", help="read-only SQL on the racewatch database")
    p.add_argument("query")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_sql)

    feeds = sub.add_parser("feeds", help="list feeds or import an OPML file").add_subparsers(
        dest="feeds_command", required=True)
    p = feeds.add_parser("list", help="feeds with their health")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_feeds_list)
    p = feeds.add_parser("import-opml", help="add the http(s) feeds of an OPML file to the sources file")
    p.add_argument("file")
    p.add_argument("--sources", help="sources YAML to append to (default: $RACEWATCH_SOURCES)")
    p.set_defaults(func=cmd_feeds_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except RacewatchError as exc:
        _err(str(exc))
        return 1
    except OSError as exc:
        _err(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: one line, the traceback only with -v
        if args.verbose:
            logging.exception("unexpected failure")
        _err(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return 1

