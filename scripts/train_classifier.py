"""Train the hybrid classifier's linear heads on the corpus's train split; write the shipped weights.

    .venv/bin/python scripts/train_classifier.py [--check]

Only ``train`` items of ``tests/data/corpus/corpus.jsonl.gz`` and the written regression examples
(``tests/data/labeled_stories.jsonl``) are read; the regularisation strength and both decision
thresholds are chosen by grouped 5-fold cross-validation *inside* train, so the frozen ``val`` split
stays unseen until ``make eval``. Output: ``include/racewatch/classify/weights/hybrid.npz`` (the
non-zero rows of the weight matrix, biases, thresholds and a metadata record). ``--check`` trains
and compares with the shipped file instead of writing it (exit 1 when they differ).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from racewatch.classify import rules as rules_mod
from racewatch.classify.features import DIM
from racewatch.classify.learned import (
    COL_AI,
    COL_EVENT,
    COL_FLAG,
    COL_STATE,
    HYBRID_VERSION,
    N_COLS,
    RACE_EVENTS,
    RELEASE_STATES,
    WEIGHTS_FILE,
    feature_indices,
)
from racewatch.classify.taxonomy import FLAGSHIP_TIERS
from racewatch.corpus import CORPUS, group_of, load_corpus
from racewatch.evaluate import DEFAULT_DATA, load_labeled
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

OUT = Path(__file__).resolve().parents[1] / "include" / "racewatch" / "classify" / "weights" / WEIGHTS_FILE
C_GRID = (0.5, 1.0, 2.0, 4.0)
#: The written regression examples are one journalistic style: they count half as much as real items.
REGRESSION_WEIGHT = 0.5


def _matrix(items: list[dict[str, Any]]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Feature matrix and, per item, whether the knowledge layer allows a flagship at all."""
    rs = rules_mod.rules()
    indptr, indices, allowed = [0], [], []
    for item in items:
        d = rules_mod.decide(item, rs)
        idx = feature_indices(item, d)
        indices.extend(idx.tolist())
        indptr.append(len(indices))
        primary = d.primary
        ok_tier = primary is None or primary.rule is None or primary.tier in FLAGSHIP_TIERS
        allowed.append(ok_tier and d.key_candidate is not None)
    data = np.ones(len(indices), dtype=np.float32)
    x = sparse.csr_matrix((data, np.array(indices, dtype=np.int32), np.array(indptr)), shape=(len(items), DIM))
    x.sum_duplicates()  # a feature seen twice counts twice, as Heads.scores counts it
    return x, np.array(allowed)


def _fit_binary(x: Any, y: np.ndarray, w: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=2000, random_state=0)
    return model.fit(x, y, sample_weight=w)


def _fit_multi(x: Any, y: np.ndarray, w: np.ndarray, c: float, classes: tuple[str, ...]) -> np.ndarray:
    """(coef for every class in ``classes`` order, bias) of a multinomial head; absent classes get -inf-ish bias."""
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, y, sample_weight=w)
    coef = np.zeros((len(classes), x.shape[1]), dtype=np.float32)
    bias = np.full(len(classes), -20.0, dtype=np.float32)
    for i, cls in enumerate(model.classes_):
        j = classes.index(cls)
        coef[j] = model.coef_[i] if len(model.classes_) > 2 else (model.coef_[0] if i == 1 else -model.coef_[0])
        bias[j] = model.intercept_[i] if len(model.classes_) > 2 else (model.intercept_[0] if i == 1 else 0.0)
    return np.vstack([coef.T, bias[None, :]])


def _best_threshold(p: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
    """The threshold with the best F1 on out-of-fold probabilities (ties: the lower threshold)."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.2, 0.86, 0.02):
        pred = p >= t
        if mask is not None:
            pred &= mask
        tp = int((pred & y).sum())
        fp = int((pred & ~y).sum())
        fn = int((~pred & y).sum())
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(round(t, 2)), f1
    return best_t, best_f1


def _oof(x: Any, y: np.ndarray, w: np.ndarray, groups: list[str], c: float) -> np.ndarray:
    p = np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=5).split(x, y, groups):
        p[te] = _fit_binary(x[tr], y[tr], w[tr], c).predict_proba(x[te])[:, 1]
    return p


def train(items: list[dict[str, Any]], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    x, allowed = _matrix(items)
    labels = [i["label"] for i in items]
    groups = [group_of(i) for i in items]
    y_ai = np.array([bool(lb["is_ai_competition"]) for lb in labels])
    y_flag = np.array([bool(lb["is_flagship_release"]) for lb in labels])
    report: dict[str, Any] = {}
    best: dict[str, tuple[float, float, float]] = {}
    for name, y, mask in (("ai", y_ai, None), ("flagship", y_flag, allowed)):
        for c in C_GRID:
            p = _oof(x, y, weights, groups, c)
            t, f1 = _best_threshold(p, y, mask)
            report[f"cv_{name}_C{c}"] = round(f1, 4)
            if name not in best or f1 > best[name][2]:
                best[name] = (c, t, f1)
    c_ai, t_ai, _ = best["ai"]
    c_flag, t_flag, _ = best["flagship"]
    w_matrix = np.zeros((DIM, N_COLS), dtype=np.float32)
    bias = np.zeros(N_COLS, dtype=np.float32)
    for col, y, c in ((COL_AI, y_ai, c_ai), (COL_FLAG, y_flag, c_flag)):
        model = _fit_binary(x, y, weights, c)
        w_matrix[:, col] = model.coef_[0]
        bias[col] = model.intercept_[0]
    ai_rows = np.flatnonzero(y_ai)
    events = np.array([labels[i]["event_type"] for i in ai_rows])
    keep = events != "other"
    ev = _fit_multi(x[ai_rows[keep]], events[keep], weights[ai_rows[keep]], 1.0, RACE_EVENTS)
    w_matrix[:, COL_EVENT], bias[COL_EVENT] = ev[:-1], ev[-1]
    states = np.array([lb.get("release_state") or "not_release" for lb in labels])
    st = _fit_multi(x, states, weights, 1.0, RELEASE_STATES)
    w_matrix[:, COL_STATE], bias[COL_STATE] = st[:-1], st[-1]
    meta = {
        "version": HYBRID_VERSION, "dim": DIM, "ai_threshold": t_ai, "flag_threshold": t_flag,
        "C_ai": c_ai, "C_flagship": c_flag, "train_items": len(items), "cv": report,
    }
    return w_matrix, bias, meta


def serialise(w_matrix: np.ndarray, bias: np.ndarray, meta: dict[str, Any]) -> bytes:
    rows = np.flatnonzero(np.abs(w_matrix).max(axis=1) > 1e-6).astype(np.int32)
    buf = io.BytesIO()
    np.savez_compressed(buf, rows=rows, values=w_matrix[rows].astype(np.float16), bias=bias,
                        meta=np.array(json.dumps(meta, sort_keys=True)))
    return buf.getvalue()


def _same_weights(path: Path, blob: bytes) -> bool:
    """The shipped file holds the same rows, values (float16) and metadata as a fresh training."""
    if not path.exists():
        return False
    with np.load(path) as old, np.load(io.BytesIO(blob)) as new:
        return (
            np.array_equal(old["rows"], new["rows"]) and np.allclose(old["values"], new["values"], atol=1e-3)
            and np.allclose(old["bias"], new["bias"], atol=1e-4)
            and json.loads(str(old["meta"])) == json.loads(str(new["meta"]))
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped weights, write nothing")
    args = parser.parse_args(argv)
    corpus = load_corpus(CORPUS, split="train")
    regression = load_labeled(DEFAULT_DATA)
    items = corpus + regression
    weights = np.array([1.0] * len(corpus) + [REGRESSION_WEIGHT] * len(regression))
    w_matrix, bias, meta = train(items, weights)
    meta["corpus_sha256"] = hashlib.sha256(CORPUS.read_bytes()).hexdigest()
    meta["regression_items"] = len(regression)
    blob = serialise(w_matrix, bias, meta)
    print(json.dumps({k: v for k, v in meta.items() if k != "cv"}, indent=1), json.dumps(meta["cv"]))
    if args.check:
        same = _same_weights(OUT, blob)
        print("shipped weights are " + ("reproduced" if same else "DIFFERENT from a fresh training"))
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(blob)
    print(f"wrote {OUT} ({len(blob)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
