"""racewatch's classifier: is a story about the AI race, what happened, and is it a flagship release?

Public API (the pipeline, the CLI and the GX suite code against exactly this)::

    from racewatch.classify import classify, classify_many, extract_facts, CLASSIFIER_VERSION, Classification

``classify(item)`` returns the ``racewatch classify`` JSON Lines object (see DESIGN.md);
``extract_facts(item)`` returns what the release ledger keeps (parameters, open weights, claim,
family, version, variant, org), kept out of ``classify()`` so the output contract stays fixed.

Rule-based and deterministic on purpose: no network, no model weights, thousands of stories per
second, and every label comes with the reasons that fired, so a wrong label is a data fix in
``include/config/taxonomy.yaml`` (override with ``$RACEWATCH_TAXONOMY``) rather than a retraining.
"""

from racewatch.classify.rules import (
    CLASSIFIER_VERSION,
    EVENT_TYPES,
    Classification,
    classify,
    classify_many,
    classify_with_facts,
    extract_facts,
)
from racewatch.classify.taxonomy import TaxonomyError, load_taxonomy, taxonomy_path

__all__ = [
    "CLASSIFIER_VERSION",
    "EVENT_TYPES",
    "Classification",
    "TaxonomyError",
    "classify",
    "classify_many",
    "classify_with_facts",
    "extract_facts",
    "load_taxonomy",
    "taxonomy_path",
]
