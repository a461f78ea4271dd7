"""The taxonomy compiled for matching: one phrase index plus a few regexes, built once per file.

Compilation turns every alias, family trigger, country name and cue phrase into an entry of a
:class:`~racewatch.classify.phrases.PhraseIndex`, and every model family into a regex that parses
the name as written in a story ("Qwen3-235B-A22B-Instruct-2507", "Claude Opus 4", "Kimi-K2.5").
Building it takes a few milliseconds; :func:`rules` caches it for the life of the taxonomy file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from racewatch.classify.phrases import Phrase, PhraseIndex, compile_phrase
from racewatch.classify.script import END, START, ends_in_cjk
from racewatch.classify.taxonomy import Family, Lab, Taxonomy, load_taxonomy
from racewatch.contract import EVENT_TYPES

__all__ = ["EVENT_TYPES", "AliasRule", "FamilyRule", "RuleSet", "rules"]



_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?P<host>[^/?#:]+)(?::\d+)?(?P<path>/[^?#]*)?")
# Words a lab's own feed adds to its name ("OpenAI News", "Anthropic Engineering", "Qwen 博客").
_CHANNEL_WORDS = frozenset({"", "blog", "news", "newsroom", "research", "engineering", "announcements", "updates",
                            "ai", "official", "the", "feed", "rss", "labs", "lab", "team",
                            "博客", "官方", "动态", "新闻"})

# Cue lists matched next to a company name (see RuleSet.__init__), not scanned as phrases.
_JOINED_CUES = frozenset({"backer_after", "backer_before", "funded_before"})


@dataclass(frozen=True)
class FamilyRule:
    """A model family with its lab and lowercased word lists, ready for parsing matches."""

    family: Family
    lab: Lab
    parts: frozenset[str]
    variants: frozenset[str]
    tier_words: Mapping[str, str]
    small_max_b: float


@dataclass(frozen=True)
class AliasRule:
    """One way of writing a lab's name; ``mode`` is "plain", "cased" or "ambiguous" (see the YAML)."""

    lab: Lab
    alias: str
    mode: str


def escape_name(literal: str) -> str:
    """A literal name as a regex; a space and a hyphen match each other ("Kimi-K2" / "Kimi K2")."""
    return "".join(r"[\s-]" if ch in " -" else re.escape(ch) for ch in literal)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(escape_name(w) for w in sorted(set(words), key=len, reverse=True))


def _tail_regex(fam: Family, global_variants: tuple[str, ...]) -> str:
    """Suffix words after the version: parts, variants, sizes ("-235B-A22B"), dates ("-0905").

    After a hyphen any case ("gpt-4o-mini", "Doubao-1.5-pro"); after a space only as listed, so
    prose words that happen to follow a model name are not swallowed. Parts may also be glued to
    the family name ("HunyuanVideo").
    """
    words = _alternation((*fam.parts, *fam.variants, *global_variants))
    size = r"\d+(?:\.\d+)?[BbTt](?:-[Aa]\d+(?:\.\d+)?[Bb])?|\d+x\d+[Bb]|[Aa]\d+[Bb]|\d{4}(?:\d{4})?"
    glued = rf"|(?<=[^\W\d])(?:{_alternation(fam.parts)})" if fam.parts else ""
    return rf"(?P<tail>(?:(?:-(?i:{words}|{size})|\s(?:{words}|{size}){glued}){END})*)"


def _family_regex(fam: Family, trigger: str, tail: str) -> re.Pattern[str]:
    source = escape_name(trigger)
    head = source if (fam.cased or fam.ambiguous) else f"(?i:{source})"
    if fam.product:  # "Trainium2", "Ascend 910C": a product name may carry a generation number
        return re.compile(head + r"(?:[\s-]?\d+(?:\.\d+)?[A-Za-z]?)?" + END)
    sep = r"[\s-]" if fam.sep in ("", " ", "-") else rf"(?:[\s-]|{re.escape(fam.sep)})"
    if fam.pre:
        head += rf"(?:{sep}?(?P<pre>{_alternation(fam.pre)}))?"
    head += rf"(?:{sep}?(?P<version>{fam.version}){END})?" + tail
    # A whole word: "MAI" is not in "maiden"; a CJK name ("混元") may be followed by anything.
    return re.compile(head + ("" if ends_in_cjk(trigger) else END))


class RuleSet:
    """Everything :func:`racewatch.classify.rules.classify` matches, compiled from one taxonomy."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._by_name: dict[str, Lab] | None = None
        self._channels = {c: lab for lab in taxonomy.labs for c in lab.channels}
        self._source_names: dict[str, Lab | None] = {}
        self.index = PhraseIndex()
        self.labs = {lab.key: lab for lab in taxonomy.labs}
        self.bare: dict[str, list[tuple[FamilyRule, re.Pattern[str]]]] = {}
        global_variants = tuple(taxonomy.variants)
        for lab in taxonomy.labs:
            for mode, names in (("plain", lab.aliases), ("cased", lab.cased_aliases), ("ambiguous", lab.ambiguous)):
                for alias in names:
                    self._add("alias", lab.key, escape_name(alias), AliasRule(lab, alias, mode),
                              cased=mode != "plain", order=len(alias))
            for guard in lab.guards:
                self._add("guard", lab.key, guard, None)
            for fam in lab.families:
                rule = FamilyRule(
                    fam,
                    lab,
                    frozenset(p.lower() for p in fam.parts),
                    frozenset(v.lower() for v in (*fam.variants, *global_variants)),
                    taxonomy.tier_words,
                    taxonomy.small_max_b,
                )
                tail = _tail_regex(fam, global_variants)
                for trigger in fam.triggers:
                    regex = _family_regex(fam, trigger, tail)
                    self.index.add(Phrase("family", lab.key, regex, ref=rule, order=len(trigger)), escape_name(trigger))
                if fam.bare_version:
                    bare = re.compile(rf"{START}(?P<version>{fam.version}){END}" + tail)
                    self.bare.setdefault(lab.key, []).append((rule, bare))
        for country in taxonomy.countries:  # group "" stands for a body with no ISO code (the EU)
            for name in country.names:
                self._add("country", country.code or "", escape_name(name), "name", cased=True)
            for adjective in country.adjectives:
                self._add("adjective", country.code or "", escape_name(adjective), "adjective", cased=True)
        for group, cues in taxonomy.cues.items():
            if group in _JOINED_CUES:
                continue
            for cue in cues:
                self._add("cue", group, cue.pattern, None, weight=cue.weight, cased=cue.cased)
        for event, cues in taxonomy.events.items():
            if event not in EVENT_TYPES or event == "other":
                continue
            for cue in cues:
                self._add("event", event, cue.pattern, None, weight=cue.weight, cased=cue.cased)
        self.backer_after = self._joined("backer_after", r"(?:'s)?(?:{})\b")
        self.backer_before = self._joined("backer_before", r"\b(?:{})\s*$")
        # "invests in Abu Dhabi's G42": allow a possessive place between the cue and the company.
        self.funded_before = self._joined("funded_before", r"\b(?:{})(?:\s+[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)?'s)?\s*$")

    def lab_for_url(self, url: str) -> Lab | None:
        """The lab whose own channel ``url`` is on ("https://openai.com/index/...", "huggingface.co/Qwen/..")."""
        m = _URL.match(url.strip().lower())
        if m is None:
            return None
        host, path = m.group("host").removeprefix("www."), m.group("path") or ""
        parts = host.split(".")
        for i in range(len(parts) - 1):  # "blogs.nvidia.com" -> "blogs.nvidia.com", "nvidia.com"
            lab = self._channels.get(".".join(parts[i:]))
            if lab is not None:
                return lab
        segments = [seg for seg in path.split("/") if seg]
        for n in (2, 1):  # "github.com/PaddlePaddle/ERNIE" before "github.com/openai"
            if len(segments) >= n:
                lab = self._channels.get("/".join([host, *segments[:n]]))
                if lab is not None:
                    return lab
        return None

    def lab_in_source_name(self, name: str) -> Lab | None:
        """The lab a feed's name says it is ("OpenAI News", "Qwen Blog"), not an outlet's ("TechCrunch AI").

        Cached per name: a batch holds many stories of few feeds, and this scans the name.
        """
        if name not in self._source_names:
            if len(self._source_names) > 10_000:
                self._source_names.clear()
            self._source_names[name] = self._lab_in_source_name(name)
        return self._source_names[name]

    def _lab_in_source_name(self, name: str) -> Lab | None:
        if len(name.split()) > 5:
            return None
        hits = [h for h in self.index.scan(name) if (h.phrase.kind == "alias" and h.phrase.ref.mode != "ambiguous")
                or (h.phrase.kind == "family" and not h.phrase.ref.family.ambiguous)]
        labs = {h.phrase.ref.lab.key: h.phrase.ref.lab for h in hits}
        if len(labs) != 1:
            return None
        rest = name
        for h in sorted(hits, key=lambda h: -h.start):
            rest = rest[: h.start] + " " + rest[h.end :]
        return next(iter(labs.values())) if {w.lower().strip(":|-") for w in rest.split()} <= _CHANNEL_WORDS else None

    def lab_named(self, name: str) -> Lab | None:
        """The lab a name or alias stands for ("Google DeepMind", "Qwen Team", "moonshot-ai"), else None."""
        if self._by_name is None:
            self._by_name = self.taxonomy.lab_by_name()
        low = name.strip().lower()
        return self._by_name.get(low) or self.labs.get(low)

    def _joined(self, group: str, template: str) -> re.Pattern[str] | None:
        cues = self.taxonomy.cues.get(group, ())
        if not cues:
            return None
        return re.compile(template.format("|".join(c.pattern for c in cues)), re.IGNORECASE)

    def _add(
        self,
        kind: str,
        group: str,
        source: str,
        ref: Any,
        *,
        weight: float = 1.0,
        cased: bool = False,
        order: int = 0,
    ) -> None:
        phrase = Phrase(kind, group, compile_phrase(source, cased=cased), weight=weight, ref=ref, order=order)
        self.index.add(phrase, source)


_RULES: dict[int, RuleSet] = {}


def rules() -> RuleSet:
    """The compiled rules for the current taxonomy (``$RACEWATCH_TAXONOMY`` or the repository's)."""
    taxonomy = load_taxonomy()
    compiled = _RULES.get(id(taxonomy))
    if compiled is None or compiled.taxonomy is not taxonomy:
        _RULES.clear()
        compiled = _RULES[id(taxonomy)] = RuleSet(taxonomy)
    return compiled
