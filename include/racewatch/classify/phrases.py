"""A phrase index: hundreds of small regexes matched against a story in one pass.

Why not one big alternation per cue list: Python's ``re`` tries every branch at every position, so
fifteen lists of thirty phrases cost ~0.3 ms on a typical lede, most of the time budget for the
whole classifier. Instead, every phrase is filed under the first (up to) three letters of the
literal word it starts with; the story is tokenized once, and only the phrases filed under a
token's first letters are tried, anchored at that token. Phrases that do not start with a literal
word (``\\$\\d+ billion``) go to a short fallback list searched the ordinary way.

Phrases match whole words: a token starts a match only where no letter or digit precedes it, and
:func:`compile_phrase` adds a trailing boundary (model-family regexes, built elsewhere, end with
their own boundary after the version: ``Qwen3``). Boundaries follow :mod:`.script`: a CJK character
never glues onto a word, so "发布Qwen3了" holds "发布" and "Qwen3". Chinese, Japanese and Korean
text is tokenized one character at a time, and a phrase starting with a CJK character is filed
under that character, so CJK phrases match anywhere inside running text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from racewatch.classify.script import CJK, END, ends_in_cjk, has_cjk, is_cjk, latin_view

__all__ = ["Hit", "Phrase", "PhraseIndex"]

_TOKEN = re.compile(rf"[^\W\d_{CJK}]+|\d+|[{CJK}]")
_KEY_LEN = 3
_QUANTIFIERS = frozenset("?*+{")
_SPACE_OR_HYPHEN = "[\\s-]"


@dataclass(frozen=True, eq=False)
class Phrase:
    """One pattern and what it means: ``kind`` (alias, family, cue...), ``group``, ``weight``, ``ref``."""

    kind: str
    group: str
    regex: re.Pattern[str]
    weight: float = 1.0
    ref: Any = None
    order: int = 0  # tie-break between phrases matching at the same position: longer literal first
    cjk: bool = False  # written with CJK characters: matched on the original text, not the Latin view


@dataclass(frozen=True, eq=False)
class Hit:
    """A phrase matched at ``start``..``end`` of the text."""

    phrase: Phrase
    start: int
    end: int
    match: re.Match[str]

    @property
    def text(self) -> str:
        """The matched text as written in the story."""
        return self.match.group(0)


def _key(pattern: str) -> str | None:
    """Bucket key of a regex: its leading literal letters (or digits), lowercased, at most 3.

    ``None`` when the pattern does not start with a literal word, or starts with a literal shorter
    than three characters that a group, class or quantifier may extend (then no fixed key exists).
    """
    if not pattern or not pattern[0].isalnum():
        return None
    if is_cjk(pattern[0]):
        return pattern[0]  # CJK text is tokenized one character at a time
    is_digit = pattern[0].isdigit()
    i = 0
    while i < len(pattern) and pattern[i].isalnum() and pattern[i].isdigit() == is_digit:
        i += 1
    prefix, rest = pattern[:i], pattern[i:]
    complete = True
    if rest[:1] in _QUANTIFIERS:  # "LLMs?": the last letter is optional
        prefix, complete = prefix[:-1], False
    elif rest.startswith(_SPACE_OR_HYPHEN):  # a name's "[\s-]" never continues the word
        complete = True
    elif rest[:1] in ("(", "[", ".") or rest[:2] in ("\\w", "\\S") or rest[:2] == ("\\d" if is_digit else "\\D"):
        complete = False  # "rais(?:e|ed)": the word may continue
    if len(prefix) >= _KEY_LEN:
        return prefix[:_KEY_LEN].lower()
    return prefix.lower() if complete and prefix else None


def _scan(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(index, char, group depth after it) for each char outside escapes and character classes."""
    depth, in_class, i = 0, False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _split_top(pattern: str) -> list[str]:
    """Split a regex at its top-level ``|`` (not inside groups, classes or escapes)."""
    parts, start = [], 0
    for i, ch, depth in _scan(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _group_end(pattern: str) -> int:
    """Index of the ``)`` closing the group that opens ``pattern`` (-1 if unbalanced)."""
    return next((i for i, ch, depth in _scan(pattern) if ch == ")" and depth == 0), -1)


def _keys(pattern: str) -> list[str] | None:
    """Bucket keys of a regex: one per top-level branch, and one per branch of a leading group
    ("(?:is|are) set to"). ``None`` when some branch has no key (the phrase is then searched)."""
    branches = _split_top(pattern)
    if len(branches) > 1:
        keys = [_keys(b) for b in branches]
        return None if any(k is None for k in keys) else sorted({k for ks in keys if ks for k in ks})
    if pattern.startswith("(?:"):
        end = _group_end(pattern)
        alternatives, rest = _split_top(pattern[3:end]), pattern[end + 1 :]
        if end < 0 or rest[:1] in _QUANTIFIERS or any(ch in alt for alt in alternatives for ch in "()[\\"):
            return None
        keys = [_key(alt + rest) for alt in alternatives]
        return None if any(k is None for k in keys) else sorted({k for k in keys if k is not None})
    key = _key(pattern)
    return None if key is None else [key]


def compile_phrase(pattern: str, *, cased: bool = False) -> re.Pattern[str]:
    """Compile a phrase regex the way the index expects it: a whole word, case-insensitive unless ``cased``."""
    end = "" if ends_in_cjk(pattern) else END
    return re.compile(f"(?:{pattern}){end}", 0 if cased else re.IGNORECASE)


class PhraseIndex:
    """All phrases of a rule set, filed by key; :meth:`scan` returns every hit in a text."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[Phrase]] = {}
        self._fallback: list[Phrase] = []

    def add(self, phrase: Phrase, source: str) -> None:
        """File ``phrase`` (compiled from regex text ``source``) under the key of ``source``."""
        if has_cjk(source) and not phrase.cjk:
            phrase = replace(phrase, cjk=True)
        keys = _keys(source)
        if keys is None:
            self._fallback.append(phrase)
            return
        for key in keys:
            bucket = self._buckets.setdefault(key, [])
            bucket.append(phrase)
            bucket.sort(key=lambda p: -p.order)

    @property
    def fallback(self) -> tuple[Phrase, ...]:
        """Phrases searched the slow way (no literal first word): keep this list short."""
        return tuple(self._fallback)

    def scan(self, text: str) -> list[Hit]:
        """Every (phrase, position) match in ``text``, in text order."""
        latin = latin_view(text)
        hits = list(self._scan_keyed(text, latin))
        for phrase in self._fallback:
            for m in phrase.regex.finditer(text if phrase.cjk else latin):
                if m.start() == 0 or not latin[m.start() - 1].isalnum():
                    hits.append(Hit(phrase, m.start(), m.end(), m))
        hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
        return hits

    def _scan_keyed(self, text: str, latin: str) -> Iterator[Hit]:
        buckets = self._buckets
        for tok in _TOKEN.finditer(text):
            start = tok.start()
            word = tok.group()
            cjk_token = is_cjk(word[0])
            if start and not cjk_token and latin[start - 1].isalnum():
                continue  # inside a word ("3" of "Qwen3"): no phrase starts here
            bucket = buckets.get(word[:_KEY_LEN].lower())
            if not bucket:
                continue
            for phrase in bucket:
                m = phrase.regex.match(text if phrase.cjk else latin, start)
                if m is not None and m.end() > start:
                    yield Hit(phrase, start, m.end(), m)
