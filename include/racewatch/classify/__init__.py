"""racewatch's classifier: is a story about the AI race, what happened, and is it a flagship release?

Public API (the pipeline, the CLI, ``make eval`` and the benchmarks code against exactly this)::

    from racewatch.classify import get_classifier, classify, classify_many, classify_with_facts

``get_classifier()`` returns the configured :class:`~racewatch.classify.base.Classifier`
(``$RACEWATCH_CLASSIFIER``: ``hybrid`` by default, or ``rules``); the functions below call it.
``classify(item)`` returns the ``racewatch classify`` JSON Lines object (see DESIGN.md);
``extract_facts(item)`` returns what the release ledger keeps (parameters, open weights, claim,
family, version, variant, org), kept out of ``classify()`` so the output contract stays fixed.

How it decides is written down in ``docs/classification.md``; the knowledge (labs, native-script
names, model families and tiers, cue phrases) is data in ``include/config/taxonomy.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from racewatch.classify.base import Classifier, ClassifierError, get_classifier, names, register
from racewatch.classify.rules import EVENT_TYPES, Classification
from racewatch.classify.taxonomy import TaxonomyError, load_taxonomy, taxonomy_path

__all__ = [
    "EVENT_TYPES",
    "Classification",
    "Classifier",
    "ClassifierError",
    "TaxonomyError",
    "classify",
    "classify_many",
    "classify_with_facts",
    "extract_facts",
    "get_classifier",
    "load_taxonomy",
    "names",
    "register",
    "taxonomy_path",
]


def classify(item: Mapping[str, Any]) -> dict[str, Any]:
    """Label one story with the configured classifier."""
    return get_classifier().label_many([item])[0]


def classify_many(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Label many stories with the configured classifier, in order."""
    return get_classifier().label_many(items)


def classify_with_facts(items: Iterable[Mapping[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(label, ledger facts) per story from one reading (facts are empty for non-race stories)."""
    return get_classifier().label_with_facts(items)


def extract_facts(item: Mapping[str, Any]) -> dict[str, Any]:
    """Ledger facts of one story as the rules read them (see :func:`racewatch.classify.rules.extract_facts`)."""
    from racewatch.classify.rules import extract_facts as rules_facts

    return rules_facts(item)
