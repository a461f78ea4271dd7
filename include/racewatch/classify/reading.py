"""Read a story: which labs, models, countries and cue phrases it mentions, homonyms settled.

Homonyms are the classifier's main trap, so the order matters: a lab's ``guards`` (Monet,
Raikkonen, zodiac) veto its common-word names first; then names that are safe alone (distinctive
aliases, versioned model names such as "Gemini 2.5", family names next to their lab's name) decide
whether the story is about AI at all; only then may ambiguous names ("Moonshot", a bare "Kimi")
count, and only in a story that is about AI.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from racewatch.classify.compiled import AliasRule, FamilyRule, RuleSet
from racewatch.classify.phrases import Hit
from racewatch.classify.release_key import canonical_model_name
from racewatch.classify.script import latin_view
from racewatch.classify.taxonomy import TIERS, Lab

__all__ = ["Model", "Org", "Reading", "SourceContext", "first_sentence_end", "hits_in", "read", "size_billions"]

# Long summaries (whole articles) add cost, not signal: the lede decides. 700 characters hold the
# lede's first two or three sentences in English and several in Chinese.
SUMMARY_CHARS = 700
# A cue in the headline counts this many times one in the lede: the headline says what the story is.
TITLE_WEIGHT = 3.0

_WS = re.compile(r"\s+")
_DASHES = re.compile(r"\s*[\u2013\u2014\u2015]\s*")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_BUSINESS_EVENTS = frozenset({"funding", "legal", "talent"})
_DATE = re.compile(r"^\d{4}(?:\d{4})?$")
# A sentence ends at . ! ? before a capital, but not after an initial ("U.S. officials", "J.D. Vance").
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])[.!?](?=\s+[\"'A-Z0-9])|[\u3002\uff01\uff1f]")
_VERSION_SUFFIX = re.compile(r"(?<=\d)[A-Za-z]+$")
_SIZE_B = re.compile(r"^(?:(?P<experts>\d+)X)?(?P<num>\d+(?:\.\d+)?)(?P<unit>[BT])")


@dataclass
class Org:
    """A company named in the story; ``lab`` is None for one the taxonomy does not know."""

    lab: Lab | None
    name: str
    start: int
    end: int
    via: str  # how it was found, for the reasons: "alias 'Moonshot'", "model Qwen3", ...


@dataclass
class Model:
    """A model named in the story; ``rule`` is None for a name inferred from the text."""

    rule: FamilyRule | None
    lab: Lab | None
    name: str
    start: int
    end: int
    version: str | None = None
    parts: tuple[str, ...] = ()
    variant: str | None = None
    specific: bool = True  # names one model (has a version or a part, or the family is versionless)
    snapshot: str | None = None  # a dated checkpoint of an existing model ("V3-0324", "2507")
    size: str | None = None  # "70B", "235B-A22B": an attribute, like the variant
    tier: str = "flagship"  # docs/classification.md section 6: the worst tier of family, words and size

    @property
    def product(self) -> bool:
        """An app, chip or service of a lab rather than a model."""
        return self.rule is not None and self.rule.family.product


@dataclass(frozen=True)
class SourceContext:
    """What the story's source says about it: whose own channel it is (``lab``) and its language.

    In a lab's own feed "we" and a bare model-name headline are that lab's announcement.
    """

    name: str | None = None
    lab: Lab | None = None
    lang: str | None = None
    kind: str | None = None  # "feed", "huggingface", "page" ...


@dataclass
class Reading:
    """Everything found in one story, positions relative to ``text`` (title, newline, lede)."""

    title: str
    summary: str
    text: str
    title_len: int
    cues: dict[str, list[Hit]]
    event_hits: list[Hit]
    countries: list[Hit]
    adjectives: list[Hit]
    ai_context: bool
    orgs: list[Org] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    source: SourceContext = field(default_factory=SourceContext)
    tier_words: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def lede_end(self) -> int:
        """End of the title plus the summary's first sentence: the part a headline reader sees."""
        if not self.summary:
            return self.title_len
        return self.title_len + 1 + first_sentence_end(self.summary)

    def in_title(self, pos: int) -> bool:
        return pos < self.title_len


def clean(value: Any) -> str:
    """Plain one-line text: NFC, straight quotes, spaced dashes, single spaces."""
    if value is None:
        return ""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", str(value)).translate(_QUOTES))
    return _WS.sub(" ", _DASHES.sub(" - ", text)).strip()


def first_sentence_end(summary: str) -> int:
    m = _SENTENCE_END.search(summary)
    return m.end() if m else len(summary)


def hits_in(hits: Iterable[Hit], start: int, end: int) -> list[Hit]:
    """The hits that start within ``start``..``end``."""
    return [h for h in hits if start <= h.start < end]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def source_context(item: Mapping[str, Any], rs: RuleSet) -> SourceContext:
    """The story's source as the classifier input gives it: ``source`` is a name or an object with
    ``name``, ``org`` (the lab whose own channel it is), ``lang`` and ``kind``; top-level
    ``source_org`` / ``lang`` are accepted too. An org the taxonomy does not know is ignored. With
    no org, the story's link on a lab's own channel (taxonomy ``channels``) or a feed name that is
    the lab's ("OpenAI News") says whose announcement it is."""
    raw = item.get("source")
    info: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {"name": raw}
    org = info.get("org") or item.get("source_org")
    lang = info.get("lang") or item.get("lang")
    lab = rs.lab_named(str(org)) if org else None
    name = info.get("name")
    link = item.get("link") or item.get("url")
    if lab is None and isinstance(link, str) and link:
        lab = rs.lab_for_url(link)  # a post on openai.com is OpenAI's own, whatever feed carried it
    if lab is None and isinstance(name, str) and name:
        lab = rs.lab_in_source_name(name)
    kind = info.get("kind") or info.get("type")
    return SourceContext(
        name=str(name) if name else None, lab=lab, lang=str(lang).lower()[:8] if lang else None,
        kind=str(kind) if kind else None,
    )


def read(item: Mapping[str, Any], rs: RuleSet) -> Reading:
    """Scan one story once and resolve its names (see the module docstring)."""
    title = clean(item.get("title"))
    summary = clean(item.get("summary"))[:SUMMARY_CHARS]
    text = f"{title}\n{summary}" if summary else title
    by_kind: dict[str, list[Hit]] = {}
    for hit in rs.index.scan(text):
        by_kind.setdefault(hit.phrase.kind, []).append(hit)
    cues: dict[str, list[Hit]] = {}
    for hit in by_kind.get("cue", []):
        cues.setdefault(hit.phrase.group, []).append(hit)
    r = Reading(
        title=title,
        summary=summary,
        text=text,
        title_len=len(title),
        cues=cues,
        event_hits=by_kind.get("event", []),
        countries=by_kind.get("country", []),
        adjectives=by_kind.get("adjective", []),
        ai_context=bool(cues.get("ai_context")),
        source=source_context(item, rs),
        tier_words=rs.taxonomy.tier_words,
    )
    guarded = {hit.phrase.group for hit in by_kind.get("guard", [])}
    if r.source.lab is not None:
        guarded.discard(r.source.lab.key)  # Meta's own "The Llama 4 herd" is no story about animals
    for key in sorted(guarded):
        r.reasons.append(f"homonym guard: {rs.labs[key].name} names ignored")
    # "Mistral raises EUR600 million": winds do not raise money; an ambiguous name that is the
    # subject of company news counts even without AI words.
    business = any(
        h.phrase.group in _BUSINESS_EVENTS and h.phrase.weight >= 2 and h.start < r.title_len for h in r.event_hits
    )
    _resolve(r, rs, by_kind.get("alias", []), by_kind.get("family", []), guarded, business)
    # Cue words inside a name are part of the name ("Azure AI Foundry" is not a chip foundry); chip
    # and product names keep theirs ("Blackwell" is chips news).
    spans = [(o.start, o.end) for o in r.orgs if o.via.startswith("alias")]
    spans += [(m.start, m.end) for m in r.models if not m.product]
    r.event_hits = [
        h for h in r.event_hits if not any(s <= h.start < e for s, e in spans) and not _compound_tail(text, h.start)
    ]
    return r


def _compound_tail(text: str, pos: int) -> bool:
    """The second half of a hyphenated word ("Ray-Ban", "long-term"): not a cue on its own."""
    return pos >= 2 and text[pos - 1] == "-" and text[pos - 2].isalpha()


def _longest_per_start(hits: list[Hit]) -> list[Hit]:
    """Overlapping matches of one kind: keep the longest, then drop those inside a kept one."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def _resolve(
    r: Reading, rs: RuleSet, alias_hits: list[Hit], family_hits: list[Hit], guarded: set[str], business: bool
) -> None:
    orgs: list[Org] = []
    ambiguous_aliases: list[tuple[Hit, AliasRule]] = []
    for hit in _longest_per_start(alias_hits):
        rule: AliasRule = hit.phrase.ref
        if rule.mode != "plain" and rule.lab.key in guarded:
            continue
        if rule.mode == "ambiguous":
            ambiguous_aliases.append((hit, rule))
        else:
            orgs.append(Org(rule.lab, rule.lab.name, hit.start, hit.end, f"alias '{hit.text}'"))
    named = {o.lab.key for o in orgs if o.lab is not None}
    own = r.source.lab
    if own is not None and own.key not in guarded:
        named.add(own.key)  # in Anthropic's own feed a bare "Claude" is the model
        r.ai_context = r.ai_context or own.kind == "lab"

    models: list[Model] = []
    deferred: list[Model] = []
    for hit in _longest_per_start(family_hits):
        fam_rule: FamilyRule = hit.phrase.ref
        fam = fam_rule.family
        if (fam.ambiguous or fam.cased) and fam_rule.lab.key in guarded:
            continue
        if fam.requires_lab and fam_rule.lab.key not in named:
            continue
        model = parse_model(fam_rule, hit.match)
        if model is None:
            continue
        # A bare ambiguous family name ("Gemini", "Claude") is safe next to its lab's own name.
        if fam.ambiguous and not model.version and fam_rule.lab.key not in named:
            deferred.append(model)
        else:
            models.append(model)
    r.ai_context = r.ai_context or bool(models) or any(o.lab is not None and o.lab.kind == "lab" for o in orgs)
    if r.ai_context:
        models.extend(deferred)
    if r.ai_context or business:
        why = "AI context" if r.ai_context else "company news"
        for hit, rule in ambiguous_aliases:
            orgs.append(Org(rule.lab, rule.lab.name, hit.start, hit.end, f"alias '{hit.text}' (ambiguous, {why})"))
    present = {o.lab.key for o in orgs if o.lab is not None} | {m.lab.key for m in models if m.lab is not None}
    latin = latin_view(r.text)  # bare versions are Latin-script words: "发布K2.5" holds "K2.5"
    for key in sorted(present):
        for fam_rule, bare in rs.bare.get(key, ()):
            for m in bare.finditer(latin):
                if not any(x.start <= m.start() < x.end for x in models):
                    parsed = parse_model(fam_rule, m)
                    if parsed is not None:
                        models.append(parsed)
    models.sort(key=lambda m: m.start)
    for model in models:
        if model.lab is not None:
            orgs.append(Org(model.lab, model.lab.name, model.start, model.end, f"model {model.name}"))
    orgs.sort(key=lambda o: o.start)
    r.orgs, r.models = orgs, models


def parse_model(rule: FamilyRule, m: re.Match[str]) -> Model | None:
    """A family match as a model: canonical name, version, name parts and the first variant."""
    fam = rule.family
    groups = m.groupdict()
    version = groups.get("version")
    if version and fam.version_upper:
        version = version.upper()
    pre_parts: list[str] = []
    variant: str | None = None
    pre = groups.get("pre")
    if pre:
        if pre.lower() in rule.parts:
            pre_parts.append(_canonical_word(pre, fam.parts))
        else:
            variant = _canonical_word(pre, fam.pre)
    parts: list[str] = []
    snapshot = size = None
    tiers = [fam.tier]
    if pre and pre.lower() not in fam.tier_exempt:
        tiers.append(rule.tier_words.get(pre.lower(), fam.tier))
    for word in (w for w in re.split(r"[\s-]+", groups.get("tail") or "") if w):
        low = word.lower()
        if low not in fam.tier_exempt:
            tiers.append(rule.tier_words.get(low, fam.tier))
        if low in rule.parts:
            parts.append(_canonical_word(word, fam.parts))
        elif low in rule.variants:
            variant = variant or (word.capitalize() if word.islower() else word)
        elif _DATE.match(word):
            snapshot = word
        elif size is None:
            size = word.upper()
    # "Jamba Reasoning 3B": a family name with a size names a model too ("EXAONE Deep", a family name
    # with a variant, only when the story calls it a model: see release.py).
    specific = not fam.product and bool(version or parts or pre_parts or fam.versionless or size)
    if not specific and len(m.group(0).strip()) < 3:
        return None  # a one- or two-letter family name alone ("o") is just a letter
    suffix = _VERSION_SUFFIX.search(version or "")
    if suffix is not None and suffix.group(0).lower() not in fam.tier_exempt:  # "GLM-4.5V": a vision model
        tiers.append(rule.tier_words.get(suffix.group(0).lower(), fam.tier))
    if size is not None:
        billions = size_billions(size)
        if billions is not None and billions <= rule.small_max_b:
            tiers.append("small")
    tier = max(tiers, key=TIERS.index)
    if specific:
        name = canonical_model_name(fam.name, version=version, pre_parts=pre_parts, parts=parts, sep=fam.sep,
                                    part_sep=fam.part_sep)
    else:
        name = fam.name
    return Model(rule, rule.lab, name, m.start(), m.end(), version, tuple(parts), variant, specific, snapshot, size,
                 tier)


def size_billions(size: str) -> float | None:
    """Total parameters of a size label in billions: "70B" 70, "235B-A22B" 235, "8X7B" 56, "1T" 1000."""
    m = _SIZE_B.match(size.upper())
    if m is None:
        return None
    value = float(m.group("num")) * (1000.0 if m.group("unit") == "T" else 1.0)
    return value * int(m.group("experts")) if m.group("experts") else value


def _canonical_word(word: str, listed: Iterable[str]) -> str:
    """The taxonomy's spelling of a word matched in any case ("max" -> "Max")."""
    for candidate in listed:
        if candidate.lower() == word.lower():
            return candidate
    return word
