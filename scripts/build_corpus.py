"""Merge labelled parts into ``tests/data/corpus/corpus.jsonl.gz``: check, dedupe, guard, split.

    .venv/bin/python scripts/build_corpus.py tests/data/corpus/corpus.jsonl.gz NEW_PART.jsonl [...]

Each part is one labeller's file (plain or gzipped JSON Lines) in the format of
docs/classification.md section 8; the existing corpus is simply the first part. Every item is
checked against the spec's invariants (a flagship is race news and a model release; a non-race item
is ``other`` and ``not_release``), duplicates by normalized title are dropped (the first part wins),
the acceptance guard (``../shared/acceptance-guard/guard.py --filter``) drops hidden-set items unread,
and every item gets its frozen split (:func:`racewatch.corpus.split_of`). Run it again after adding
a part: existing items keep their split.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from racewatch.corpus import CORPUS, norm_title, problems, read_jsonl, split_of

GUARD = Path(__file__).resolve().parents[2] / "shared" / "acceptance-guard" / "guard.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    seen: set[str] = set()
    merged: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    for part in args.parts:
        for n, item in read_jsonl(part):
            bad = problems(item)
            if bad:
                print(f"{part}:{n}: {item.get('id')}: {'; '.join(bad)}", file=sys.stderr)
                dropped["invalid"] += 1
                continue
            key = norm_title(item["title"])
            if key in seen:
                dropped["duplicate title"] += 1
                continue
            seen.add(key)
            item["split"] = split_of(item)  # a pure function of the group: existing items keep theirs
            merged.append(item)
    with tempfile.TemporaryDirectory() as tmp:
        raw, kept = Path(tmp, "raw.jsonl"), Path(tmp, "kept.jsonl")
        raw.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in merged), encoding="utf-8")
        if not GUARD.exists():
            print(f"acceptance guard not found at {GUARD}; refusing to build the corpus", file=sys.stderr)
            return 1
        subprocess.run([sys.executable, str(GUARD), "--filter", str(raw), str(kept)], check=True)
        data = kept.read_bytes()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(gzip.compress(data, mtime=0))
    items = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    splits = Counter(i["split"] for i in items)
    print(f"{args.output}: {len(items)} items ({dict(splits)}); dropped {dict(dropped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
