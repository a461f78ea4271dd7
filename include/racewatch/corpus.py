"""The labelled corpus of real items (``tests/data/corpus/corpus.jsonl.gz``): loading and the frozen split.

Why a frozen split: a classifier tuned until its own set scores 0.99 proves nothing. Every item is
assigned to ``train`` or ``val`` by a salted hash of its *group* (the first labelled model, so every
story about one release lands on the same side; else its normalized title), and the assignment is
stored in the file. Training, rule edits and thresholds may look only at ``train``; ``make eval``
reports ``val``. New items fall on a side by the same rule, so adding data never moves old items.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from racewatch.contract import EVENT_TYPES, RELEASE_STATES

__all__ = [
    "CORPUS",
    "SECOND_LABELS",
    "SOURCE_TYPES",
    "VAL_SHARE",
    "agreement",
    "group_of",
    "load_corpus",
    "load_labelled",
    "load_second_labels",
    "norm_title",
    "problems",
    "read_jsonl",
    "split_of",
]

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "data" / "corpus" / "corpus.jsonl.gz"
SOURCE_TYPES = ("lab_feed", "news", "hf")
#: Share of groups in the frozen validation split.
VAL_SHARE = 0.3
_SALT = "racewatch-corpus-split-v1:"
_NON_WORD = re.compile(r"[\W_]+")


def norm_title(title: str) -> str:
    """Lowercased title without punctuation or spaces: the corpus's duplicate key."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", title or "").lower())


def group_of(item: dict[str, Any]) -> str:
    """Items about one release share a group: its first labelled model, else the normalized title."""
    models = (item.get("label") or {}).get("models") or []
    if models and isinstance(models[0], str) and models[0].strip():
        return "model:" + norm_title(models[0])
    return "title:" + norm_title(item.get("title") or "")


def split_of(item: dict[str, Any]) -> str:
    """``val`` for a fixed 30% of groups, else ``train`` (a pure function of the group)."""
    digest = hashlib.sha256((_SALT + group_of(item)).encode("utf-8")).digest()
    return "val" if int.from_bytes(digest[:4], "big") / 2**32 < VAL_SHARE else "train"


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, object) of each non-blank line of a plain or gzipped JSON Lines file."""
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode("utf-8") if raw[:2] == b"\x1f\x8b" else raw.decode("utf-8")
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON: {exc.msg}") from exc


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """Labelled items (objects with a ``label`` object); a malformed line fails with its line number."""
    items = []
    for n, item in read_jsonl(path):
        if not isinstance(item, dict) or not isinstance(item.get("label"), dict):
            raise ValueError(f"{path}:{n}: each line needs an object with a `label` object")
        items.append(item)
    return items


def load_corpus(path: Path = CORPUS, split: str | None = None) -> list[dict[str, Any]]:
    """Items of the corpus (optionally one split); a malformed line fails with its line number."""
    return [item for item in load_labelled(path) if split is None or item.get("split") == split]


def problems(item: dict[str, Any]) -> list[str]:
    """What is wrong with one corpus item against the spec and section 8's format (empty: fine)."""
    out = []
    label, source = item.get("label"), item.get("source")
    if not isinstance(item.get("title"), str) or not item["title"].strip():
        out.append("no title")
    if not isinstance(label, dict):
        return [*out, "no label"]
    if not isinstance(source, dict) or source.get("type") not in SOURCE_TYPES:
        out.append("source.type must be one of " + ", ".join(SOURCE_TYPES))
    if not item.get("provenance"):
        out.append("no provenance")
    if label.get("event_type") not in EVENT_TYPES:
        out.append(f"event_type {label.get('event_type')!r}")
    if label.get("release_state") not in RELEASE_STATES:
        out.append(f"release_state {label.get('release_state')!r}")
    ai, flag = label.get("is_ai_competition"), label.get("is_flagship_release")
    if not isinstance(ai, bool) or not isinstance(flag, bool):
        out.append("is_ai_competition and is_flagship_release must be booleans")
    if flag and (not ai or label.get("event_type") != "model_release" or label.get("release_state") != "released"):
        out.append("a flagship is race news, a model_release, released")
    if ai is False and label.get("event_type") != "other":
        out.append("a non-race item has event_type other")
    return out


SECOND_LABELS = CORPUS.parent / "second_labels.jsonl"


def agreement(items: list[dict[str, Any]], second: list[dict[str, Any]]) -> dict[str, Any]:
    """How often an independent second labeller agrees with the corpus label, field by field.

    Binary fields also get Cohen's kappa (agreement beyond chance). This is the ceiling any
    classifier's scores on the corpus should be read against.
    """
    first = {i["id"]: i["label"] for i in items}
    pairs = [(first[s["id"]], s["label"]) for s in second if s["id"] in first]
    out: dict[str, Any] = {"items": len(pairs)}
    if not pairs:
        return out
    for field in ("is_ai_competition", "is_flagship_release", "event_type", "release_state"):
        out[field] = round(sum(a.get(field) == b.get(field) for a, b in pairs) / len(pairs), 3)
    for field in ("is_ai_competition", "is_flagship_release"):
        a = [bool(x.get(field)) for x, _ in pairs]
        b = [bool(y.get(field)) for _, y in pairs]
        po = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
        pa, pb = sum(a) / len(a), sum(b) / len(b)
        pe = pa * pb + (1 - pa) * (1 - pb)
        out[f"{field}_kappa"] = round((po - pe) / (1 - pe), 3) if pe < 1 else 1.0
    with_org = [(a, b) for a, b in pairs if a.get("orgs") and b.get("orgs")]
    if with_org:
        out["main_org"] = round(sum(a["orgs"][0] == b["orgs"][0] for a, b in with_org) / len(with_org), 3)
    return out


def load_second_labels(path: Path = SECOND_LABELS) -> list[dict[str, Any]]:
    """The independent second labels (``id``, ``label``) of about a tenth of the corpus."""
    return [item for _, item in read_jsonl(path)] if path.exists() else []
