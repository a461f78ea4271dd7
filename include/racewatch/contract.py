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
