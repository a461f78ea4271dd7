"""The classifier seam: one protocol that the CLI, ``make eval``, the benchmarks and the pipeline call.

A new kind of classifier is a module with a class that has ``version`` and ``label_many`` (and
``label_with_facts`` for the pipeline's ledger) plus one :func:`register` line; nothing that calls
classifiers changes. ``$RACEWATCH_CLASSIFIER`` picks one by name (default ``hybrid``: the rules as
evidence, the learned heads deciding).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from racewatch.errors import RacewatchError

__all__ = ["DEFAULT", "ENV_VAR", "Classifier", "ClassifierError", "get_classifier", "names", "register"]

ENV_VAR = "RACEWATCH_CLASSIFIER"
DEFAULT = "hybrid"


class ClassifierError(RacewatchError):
    """An unknown classifier name, or weights that cannot be loaded (the message says which)."""


@runtime_checkable
class Classifier(Protocol):
    """Labels stories with the ``racewatch classify`` JSON Lines contract (DESIGN.md)."""

    #: Stored with every story; a different version makes the pipeline relabel history.
    version: str

    def label_many(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One output object per input item, in order; bad input gets a label, never an exception."""
        ...

    def label_with_facts(self, items: Iterable[Mapping[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(label, ledger facts) per item from one reading; facts are empty for non-race stories."""
        ...


_FACTORIES: dict[str, Callable[[], Classifier]] = {}
_INSTANCES: dict[str, Classifier] = {}


def register(name: str, factory: Callable[[], Classifier]) -> None:
    """Make a classifier available under ``name`` (built on first use, then shared)."""
    _FACTORIES[name] = factory


def names() -> list[str]:
    """Registered classifier names."""
    _load_builtin()
    return sorted(_FACTORIES)


def get_classifier(name: str | None = None) -> Classifier:
    """The classifier called ``name`` (default: ``$RACEWATCH_CLASSIFIER`` or ``hybrid``), built once."""
    _load_builtin()
    chosen = name or os.environ.get(ENV_VAR, "").strip() or DEFAULT
    instance = _INSTANCES.get(chosen)
    if instance is None:
        factory = _FACTORIES.get(chosen)
        if factory is None:
            raise ClassifierError(f"unknown classifier {chosen!r} (known: {', '.join(sorted(_FACTORIES))})")
        instance = _INSTANCES[chosen] = factory()
    return instance


def _load_builtin() -> None:
    """Import the built-in classifiers, whose modules register themselves (a no-op once imported)."""
    from racewatch.classify import learned, rules  # noqa: F401  (registration side effect)
