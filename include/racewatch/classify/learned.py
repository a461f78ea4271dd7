"""The hybrid classifier: the rules read the story and find the evidence, linear heads decide.

Why both: the rules know the world (labs, native-script names, model tiers, release grammar) and say
why, but hand-set thresholds do not survive real feeds; a linear model over hashed words plus the
rules' evidence, trained on real labelled items (``tests/data/corpus``), learns how much each piece of
evidence is worth and reads languages the rules have no grammar for. Four heads share one feature
vector: AI competition (binary), flagship release (binary), event type (9 race types) and release
state (``released``, ``rumour_plan``, ``retrospective``, ``benchmark_research``, ``not_release``).

Knowledge stays authoritative where it is knowledge: a model the taxonomy places in a small or
specialised tier is never a flagship, a flagship needs a release key, and the entities, country and
key come from the rules. ``reasons`` keep the rules' evidence and add the heads' probabilities.

The weights (``include/racewatch/classify/weights/hybrid.npz``) are trained offline by
``scripts/train_classifier.py`` with scikit-learn; run time needs only numpy, and nothing is fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from racewatch.classify import rules as rules_mod
from racewatch.classify.base import ClassifierError, register
from racewatch.classify.features import DIM, named_indices, source_features, text_indices
from racewatch.classify.taxonomy import FLAGSHIP_TIERS
from racewatch.contract import EVENT_TYPES, RELEASE_STATES

__all__ = [
    "HYBRID_VERSION",
    "RACE_EVENTS",
    "RELEASE_STATES",
    "Heads",
    "HybridClassifier",
    "feature_indices",
    "load_heads",
]

#: Bump together with a retraining: the weights file records the version it was trained for.
HYBRID_VERSION = "hybrid-1"
RACE_EVENTS: tuple[str, ...] = tuple(e for e in EVENT_TYPES if e != "other")
#: Column layout of the weight matrix: ai, flagship, then the event and state classes.
COL_AI, COL_FLAG = 0, 1
COL_EVENT = slice(2, 2 + len(RACE_EVENTS))
COL_STATE = slice(2 + len(RACE_EVENTS), 2 + len(RACE_EVENTS) + len(RELEASE_STATES))
N_COLS = 2 + len(RACE_EVENTS) + len(RELEASE_STATES)
WEIGHTS_FILE = "hybrid.npz"


@dataclass(frozen=True)
class Heads:
    """Linear heads over hashed features: ``weights`` (DIM x N_COLS), ``bias`` and thresholds."""

    weights: np.ndarray
    bias: np.ndarray
    ai_threshold: float
    flag_threshold: float
    meta: Mapping[str, Any]

    def scores(self, indices: np.ndarray) -> np.ndarray:
        """Raw scores of every column for one story's feature indices (a repeat counts again)."""
        if not indices.size:
            return self.bias.copy()
        return self.weights[indices].sum(axis=0, dtype=np.float32) + self.bias


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def load_heads() -> Heads:
    """Load the shipped weights; a missing or mismatched file is a :class:`ClassifierError`."""
    ref = resources.files("racewatch.classify") / "weights" / WEIGHTS_FILE
    try:
        with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as data:
            rows, values = data["rows"], data["values"].astype(np.float32)
            bias = data["bias"].astype(np.float32)
            meta = json.loads(str(data["meta"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ClassifierError(f"classifier weights {ref} cannot be loaded: {exc}") from exc
    if meta.get("version") != HYBRID_VERSION or values.shape[1:] != (N_COLS,) or meta.get("dim") != DIM:
        raise ClassifierError(
            f"classifier weights {ref} were trained for {meta.get('version')!r} (dim {meta.get('dim')}, "
            f"{values.shape[1:]} columns), this code is {HYBRID_VERSION!r}: retrain with scripts/train_classifier.py"
        )
    weights = np.zeros((DIM, N_COLS), dtype=np.float32)
    weights[rows] = values
    return Heads(weights, bias, float(meta["ai_threshold"]), float(meta["flag_threshold"]), meta)


def feature_indices(item: Mapping[str, Any], decision: Any) -> np.ndarray:
    """Hashed features of one story: its words, its source, and the rules' evidence about it."""
    source = decision.reading.source
    named = np.array(named_indices([*source_features(source.lab is not None, source.lang),
                                    *rules_mod.evidence(decision)]), dtype=np.uint64)
    # A repeated index counts twice, in training (the sparse matrix sums duplicates) as here.
    return np.concatenate([text_indices(decision.reading.title, decision.reading.summary), named])


class HybridClassifier:
    """Rules for evidence and entities, learned heads for the decisions (see the module docstring)."""

    def __init__(self, heads: Heads | None = None) -> None:
        self.heads = heads or load_heads()
        self.version = HYBRID_VERSION

    def label_many(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [label for label, _ in self._run(items, facts=False)]

    def label_with_facts(self, items: Iterable[Mapping[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return self._run(items, facts=True)

    def _run(self, items: Iterable[Mapping[str, Any]], *, facts: bool) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        rs = rules_mod.rules()
        out = []
        for item in items:
            d = rules_mod.decide(item, rs)
            self._apply(d, self.heads.scores(feature_indices(item, d)))
            label = rules_mod.render(d, item)
            out.append((label, rules_mod.facts_of(d) if facts and d.is_ai else {}))
        return out

    def _apply(self, d: Any, s: np.ndarray) -> None:
        """Overwrite the rules' decisions with the heads' (knowledge constraints still hold)."""
        heads = self.heads
        p_ai, p_flag = _sigmoid(float(s[COL_AI])), _sigmoid(float(s[COL_FLAG]))
        events = _softmax(s[COL_EVENT])
        states = _softmax(s[COL_STATE])
        state = RELEASE_STATES[int(states.argmax())]
        is_ai = p_ai >= heads.ai_threshold
        flagship = is_ai and p_flag >= heads.flag_threshold
        reasons = d.reading.reasons
        primary = d.primary
        if flagship and primary is not None and primary.rule is not None and primary.tier not in FLAGSHIP_TIERS:
            flagship = False
            reasons.append(f"not flagship: {primary.name} is a {primary.tier} model")
        key = d.key_candidate if is_ai and (flagship or (primary is not None and primary.lab is not None)) else None
        if flagship and key is None:
            flagship = False
            reasons.append("no release key: the model or its lab is unknown")
        event = "model_release" if flagship else (RACE_EVENTS[int(events.argmax())] if is_ai else "other")
        reasons.append(f"learned: race p={p_ai:.2f}, flagship p={p_flag:.2f}, release state {state}")
        if d.flagship and not flagship:
            reasons.append("learned: rules' flagship overruled")
        d.is_ai, d.flagship, d.event, d.key = is_ai, flagship, event, key
        if not is_ai and d.main is not None and d.main.lab is None:
            d.main = None
        if is_ai and d.country is None:
            d.country = d.government
        d.score = round(p_flag if flagship else (p_ai if is_ai else min(p_ai, 0.49)), 3)


register("hybrid", HybridClassifier)
