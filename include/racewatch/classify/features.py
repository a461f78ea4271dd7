"""Features of a story for the learned layer: hashed words, CJK character n-grams and the rules' evidence.

Why hashing: no vocabulary file to keep in step with the weights, any language works (a Chinese
headline becomes character unigrams and bigrams, since it has no spaces), and the same functions
serve training (``scripts/train_classifier.py``) and run time. CRC-32 is the hash because it is
stable across processes and Python versions (``hash()`` is salted per process) and cheap in C.

The rules' evidence ("a release verb fired", "hedge before the verb", "the model is a small tier",
"the lab's own feed") enters as named features, so the linear heads learn how far to trust each rule
from real labelled data instead of hand-set weights.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

import numpy as np

from racewatch.classify.script import CJK, is_cjk

__all__ = ["DIM", "LEDE_CHARS", "named_indices", "source_features", "text_indices"]

#: Hash space (2**18): collisions are rare at the corpus's ~60k distinct features.
DIM = 1 << 18
#: Only the opening of the summary carries signal; long bodies add noise and cost.
LEDE_CHARS = 400

#: Token caps per field: beyond them a story adds cost, not signal.
TITLE_TOKENS, LEDE_TOKENS = 40, 90
_MASK = np.uint64(DIM - 1)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # 64-bit golden-ratio multiplier: spreads CRC-32 values
_PAIR = np.uint64(1_000_003)
_SALT_TITLE, _SALT_BIGRAM, _SALT_FIRST, _SALT_LEDE = (
    np.uint64((0x5BD1E995 * k << 32) & 0xFFFFFFFFFFFFFFFF) for k in (1, 2, 3, 4)
)
#: Token and feature hashes are cached; the caches are dropped when they grow past this many keys.
_CACHE_MAX = 200_000
_TOKEN_HASHES: dict[str, int] = {}
_NAMED: dict[str, int] = {}
_TOKEN = re.compile(rf"[^\W_{CJK}]+(?:[.\-'][^\W_{CJK}]+)*|[{CJK}]+")
_DIGITS = re.compile(r"\d")


def _tokens(text: str) -> list[str]:
    """Lowercased words; a CJK run becomes its characters and character bigrams."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if is_cjk(tok[0]):
            out.extend(tok)
            out.extend(tok[i : i + 2] for i in range(len(tok) - 1))
        else:
            out.append(_DIGITS.sub("0", tok) if len(tok) > 12 else tok)
    return out


def _token_hash(tok: str) -> int:
    h = _TOKEN_HASHES.get(tok)
    if h is None:
        if len(_TOKEN_HASHES) > _CACHE_MAX:
            _TOKEN_HASHES.clear()
        h = _TOKEN_HASHES[tok] = zlib.crc32(tok.encode("utf-8"))
    return h


def text_indices(title: str, summary: str) -> np.ndarray:
    """Hashed title words, title word bigrams, the first title word and lede words (uint64 indices).

    Tokens are hashed once with CRC-32 (cached) and combined per field with vectorised integer
    arithmetic, several times cheaper than hashing a formatted string per feature. The lede is
    capped at :data:`LEDE_TOKENS` tokens (a Chinese lede yields two per character).
    """
    title_h = np.fromiter((_token_hash(t) for t in _tokens(title)[:TITLE_TOKENS]), dtype=np.uint64)
    lede_h = np.fromiter((_token_hash(t) for t in _tokens(summary[:LEDE_CHARS])[:LEDE_TOKENS]), dtype=np.uint64)
    parts = [title_h ^ _SALT_TITLE, lede_h ^ _SALT_LEDE]
    if title_h.size:
        parts.append(title_h[:1] ^ _SALT_FIRST)
        parts.append((title_h[:-1] * _PAIR) ^ title_h[1:] ^ _SALT_BIGRAM)
    mixed = np.concatenate(parts) * _MIX  # uint64 arithmetic wraps: that is the mixing
    return (mixed >> np.uint64(40)) & _MASK


def named_indices(features: Iterable[str]) -> list[int]:
    """Hashed indices of named features (the rules' evidence, the source): a small, repeating set."""
    out = []
    for f in features:
        i = _NAMED.get(f)
        if i is None:
            if len(_NAMED) > _CACHE_MAX:
                _NAMED.clear()
            i = _NAMED[f] = zlib.crc32(f.encode("utf-8")) & (DIM - 1)
        out.append(i)
    return out


def source_features(own_lab: bool, lang: str | None) -> list[str]:
    """Whether the story comes from a lab's own channel, and the source's language."""
    out = ["src|own"] if own_lab else []
    if lang:
        out.append(f"lang|{lang[:5]}")
    return out
