"""Score a classifier against labelled items: ``python -m racewatch.evaluate`` (``make eval``).

Why this exists: every change to the rules, the taxonomy or the weights must be judged on the same
real items, with the mistakes listed by id and title so a regression is a concrete story, not a number.
By default it scores the frozen validation split of the real corpus (``tests/data/corpus``, see
:mod:`racewatch.corpus`), broken down by source type (lab feeds, news, non-English), and then the
written regression examples (``tests/data/labeled_stories.jsonl``) separately. Nothing is tuned on
the validation split: ``scripts/train_classifier.py`` reads only ``train``.

Input: JSON Lines, one item per line with ``id``, ``title``, ``summary``, ``source`` (a name, or an
object with ``type``, ``org`` and ``lang``) and ``label`` with ``is_ai_competition``, ``event_type``,
``is_flagship_release``, ``orgs`` (main org first), ``country`` and, for flagships, ``release_key``.
Org names in labels may be any alias the taxonomy knows ("Google DeepMind" counts as "Google").

Metrics: precision/recall/F1 for ``is_ai_competition`` and ``is_flagship_release``; accuracy of
``event_type`` (all items, and race items alone), of the main org (items with a labelled org), of
``country`` (race items or items with a labelled org) and of ``release_key`` (labelled flagships).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from racewatch.classify import get_classifier, load_taxonomy
from racewatch.classify.base import Classifier
from racewatch.corpus import CORPUS, load_corpus
from racewatch.corpus import load_labelled as load_labeled
from racewatch.errors import RacewatchError

__all__ = ["DEFAULT_DATA", "TARGETS", "evaluate", "format_report", "load_labeled", "main", "slices"]

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "labeled_stories.jsonl"

#: Targets on the frozen validation split (``make eval`` exits 1 when one is missed).
TARGETS: dict[str, float] = {
    "flagship_f1": 0.95,
    "ai_competition_f1": 0.95,
    "event_type_accuracy": 0.90,
    "org_accuracy": 0.97,
    "country_accuracy": 0.97,
}


def _prf(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float]:
    tp = fp = fn = 0
    for expected, got in pairs:
        tp += expected and got
        fp += got and not expected
        fn += expected and not got
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def _accuracy(pairs: Sequence[tuple[Any, Any]]) -> float:
    return round(sum(1 for e, g in pairs if e == g) / len(pairs), 4) if pairs else 1.0


def evaluate(
    data: Path | None = None,
    items: Sequence[dict[str, Any]] | None = None,
    classifier: Classifier | None = None,
) -> dict[str, Any]:
    """Classify the labelled items and return the metrics, with every disagreement listed."""
    stories = list(items) if items is not None else load_labeled(data or DEFAULT_DATA)
    canonical = {name: lab.name for name, lab in load_taxonomy().lab_by_name().items()}
    clf = classifier or get_classifier()

    def org(name: str | None) -> str | None:
        return canonical.get(name.lower(), name.lower()) if name else None

    clf.label_many([{"id": 0, "title": "warm-up"}])  # compile the rules first: the rate is the steady-state one
    started = time.perf_counter()
    outputs = clf.label_many(stories)
    elapsed = time.perf_counter() - started

    comp, flag, events, race_events, orgs, countries, keys = [], [], [], [], [], [], []
    confusions: list[dict[str, Any]] = []
    for story, out in zip(stories, outputs, strict=True):
        label = story["label"]

        def record(field: str, expected: Any, got: Any, story: dict[str, Any] = story, out: dict = out) -> None:
            if expected != got:
                confusions.append({"id": story.get("id"), "title": story.get("title"), "field": field,
                                   "expected": expected, "got": got, "reasons": out["reasons"]})

        comp.append((bool(label["is_ai_competition"]), out["is_ai_competition"]))
        record("is_ai_competition", bool(label["is_ai_competition"]), out["is_ai_competition"])
        flag.append((bool(label["is_flagship_release"]), out["is_flagship_release"]))
        record("is_flagship_release", bool(label["is_flagship_release"]), out["is_flagship_release"])
        events.append((label["event_type"], out["event_type"]))
        if label["is_ai_competition"]:
            race_events.append((label["event_type"], out["event_type"]))
        record("event_type", label["event_type"], out["event_type"])
        if label.get("orgs"):
            expected_org, got_org = org(label["orgs"][0]), org(out["orgs"][0] if out["orgs"] else None)
            orgs.append((expected_org, got_org))
            record("org", expected_org, got_org)
        if label.get("orgs") or label["is_ai_competition"]:
            countries.append((label.get("country"), out["country"]))
            record("country", label.get("country"), out["country"])
        if label["is_flagship_release"] and label.get("release_key"):
            keys.append((label["release_key"], out["release_key"]))
            record("release_key", label["release_key"], out["release_key"])

    flagship, ai = _prf(flag), _prf(comp)
    return {
        "classifier": clf.version,
        "stories": len(stories),
        "ai_competition": ai,
        "flagship": flagship,
        "event_type_accuracy": _accuracy(events),
        "race_event_type_accuracy": _accuracy(race_events),
        "org_accuracy": _accuracy(orgs),
        "org_n": len(orgs),
        "country_accuracy": _accuracy(countries),
        "country_n": len(countries),
        "release_key_accuracy": _accuracy(keys),
        "release_key_n": len(keys),
        "stories_per_second": round(len(stories) / elapsed, 1) if elapsed > 0 else float("inf"),
        "targets_met": {
            "flagship_f1": flagship["f1"] >= TARGETS["flagship_f1"],
            "ai_competition_f1": ai["f1"] >= TARGETS["ai_competition_f1"],
            "event_type_accuracy": _accuracy(events) >= TARGETS["event_type_accuracy"],
            "org_accuracy": _accuracy(orgs) >= TARGETS["org_accuracy"],
            "country_accuracy": _accuracy(countries) >= TARGETS["country_accuracy"],
        },
        "confusions": confusions,
    }


def format_report(metrics: dict[str, Any], *, max_confusions: int | None = None, reasons: bool = False) -> str:
    """The metrics as a short human-readable report, then the disagreements."""
    lines = [f"items: {metrics['stories']}  ({metrics['classifier']}, {metrics['stories_per_second']:.0f} stories/s)"]
    for name in ("ai_competition", "flagship"):
        m = metrics[name]
        lines.append(f"{name:<16} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f}  "
                     f"(tp={m['tp']} fp={m['fp']} fn={m['fn']})")
    lines.append(f"event_type       accuracy={metrics['event_type_accuracy']:.3f}  "
                 f"(race items only: {metrics['race_event_type_accuracy']:.3f})")
    lines.append(f"org (main)       accuracy={metrics['org_accuracy']:.3f}  (n={metrics['org_n']})")
    lines.append(f"country          accuracy={metrics['country_accuracy']:.3f}  (n={metrics['country_n']})")
    lines.append(f"release_key      accuracy={metrics['release_key_accuracy']:.3f}  (n={metrics['release_key_n']})")
    missed = [name for name, ok in metrics["targets_met"].items() if not ok]
    lines.append("targets: all met" if not missed else f"targets missed: {', '.join(missed)}")
    confusions = metrics["confusions"]
    shown = confusions if max_confusions is None else confusions[:max_confusions]
    lines.append(f"\nconfusions ({len(confusions)}):")
    for c in shown:
        lines.append(f"  {c['id']} [{c['field']}] expected={c['expected']!r} got={c['got']!r}  {c['title']}")
        if reasons:
            lines.append(f"      reasons: {'; '.join(c['reasons'])}")
    if len(shown) < len(confusions):
        lines.append(f"  ... {len(confusions) - len(shown)} more (use --all)")
    return "\n".join(lines)


def slices(items: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The validation split broken down: every item, lab feeds, news, and non-English items."""
    out: dict[str, list[dict[str, Any]]] = {"all": [], "lab_feed": [], "news": [], "non_english": []}
    for item in items:
        source = item.get("source") if isinstance(item.get("source"), dict) else {}
        out["all"].append(item)
        kind = source.get("type")
        if kind == "lab_feed":
            out["lab_feed"].append(item)
        elif kind == "news":
            out["news"].append(item)
        if (source.get("lang") or "en") != "en":
            out["non_english"].append(item)
    return out


def _summary_line(name: str, m: dict[str, Any]) -> str:
    return (f"  {name:<12} n={m['stories']:<5} race F1={m['ai_competition']['f1']:.3f}  "
            f"flagship P={m['flagship']['precision']:.3f} R={m['flagship']['recall']:.3f} "
            f"F1={m['flagship']['f1']:.3f} (n={m['flagship']['tp'] + m['flagship']['fn']})  "
            f"event={m['event_type_accuracy']:.3f}  org={m['org_accuracy']:.3f}  country={m['country_accuracy']:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; exit 1 when a validation target is missed, 2 when the data cannot be read."""
    parser = argparse.ArgumentParser(prog="python -m racewatch.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="score this labelled JSON Lines file instead of the corpus")
    parser.add_argument("--split", choices=("val", "train"), default="val", help="corpus split (default: val)")
    parser.add_argument("--classifier", help="registered classifier name (default: $RACEWATCH_CLASSIFIER or hybrid)")
    parser.add_argument("--all", action="store_true", help="list every confusion (default: first 50)")
    parser.add_argument("--reasons", action="store_true", help="show the classifier's reasons for each confusion")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    args = parser.parse_args(argv)
    try:
        clf = get_classifier(args.classifier)
        if args.data is not None:
            metrics = evaluate(args.data, classifier=clf)
            parts = {"all": metrics}
            regression = None
        else:
            parts = {name: evaluate(items=chunk, classifier=clf)
                     for name, chunk in slices(load_corpus(CORPUS, split=args.split)).items() if chunk}
            metrics = parts["all"]
            regression = evaluate(DEFAULT_DATA, classifier=clf)
    except (OSError, ValueError, KeyError, RacewatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"slices": parts, "regression": regression}, indent=2, ensure_ascii=False))
    else:
        where = str(args.data) if args.data else f"corpus {args.split} split ({CORPUS.name})"
        print(f"== {where}")
        print(format_report(metrics, max_confusions=None if args.all else 50, reasons=args.reasons))
        if len(parts) > 1:
            print("\nby source:")
            print("\n".join(_summary_line(name, m) for name, m in parts.items()))
        if regression is not None:
            print(f"\n== regression examples ({DEFAULT_DATA.name}, written by us; not a measure of quality)")
            print(_summary_line("regression", regression))
    return 0 if all(metrics["targets_met"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
