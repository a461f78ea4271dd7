"""The classifier's output contract (DESIGN.md), shared by the classifier, the quality gate and the board."""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "model_release",
    "benchmark",
    "funding",
    "policy_export_controls",
    "chips_compute",
    "partnership_product",
    "talent",
    "legal",
    "research",
    "other",
)
"""The allowed ``event_type`` values, in the order people read them (the board lists them so)."""

RELEASE_STATES: tuple[str, ...] = ("released", "rumour_plan", "retrospective", "benchmark_research", "not_release")
"""What a story says about a release (docs/classification.md section 4): labelled in the corpus and
predicted by the learned layer; not part of the JSON Lines output."""
