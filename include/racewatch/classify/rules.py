"""The rule-based classifier: one story in, labels and the evidence behind them out.

How a story is read, in order:

1. **Mentions.** One scan of title + lede (``phrases.PhraseIndex``) finds lab aliases, model-family
   names, country names and every cue phrase of the taxonomy. Homonyms are settled next: a lab's
   ``guards`` veto its common-word names (Claude *Monet*, Kimi *Raikkonen*), and ambiguous names
   count only when the story is about AI at all.
2. **Release.** A release verb in the headline ("unveils", "open-sources", "is now generally
   available") linked to a model name right after it (or right before it: "Kimi K2.5 launches"),
   and to the subject before it. A model the taxonomy does not know is read from the text itself
   ("Foo-2 70B", "T1 reasoning model"); an unknown company from the words before the verb.
3. **Flagship.** The release is the lab's own, now, and new: no hedge before the verb ("reportedly
   plans to launch"), not a minor update, not somebody else's model fine-tuned or integrated, not a
   paper or a price cut, not a subordinate clause ("after DeepSeek released R1...").
4. **Event type** from weighted cues (headline hits count triple), a found release overriding them.
5. **AI competition** needs an anchor (a lab, a model, a chip maker or government with AI context,
   a release read from the text) and no sign of a how-to, an op-ed or AI applied in another field.

Everything the rules know about the world comes from the taxonomy; this module is grammar.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from racewatch.classify.facts import extract_claim, extract_open_weights, extract_parameters
from racewatch.classify.phrases import Hit, Phrase, PhraseIndex, compile_phrase
from racewatch.classify.release_key import canonical_model_name, release_key
from racewatch.classify.taxonomy import Family, Lab, Taxonomy, load_taxonomy, slugify

__all__ = [
    "CLASSIFIER_VERSION",
    "EVENT_TYPES",
    "Classification",
    "RuleSet",
    "classify",
    "classify_many",
    "extract_facts",
    "rules",
]

#: Bump when the rules or the taxonomy change what stories come out as: the pipeline relabels
#: every entry whose stored version differs.
CLASSIFIER_VERSION = "rules-1"

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

# Ties between event cues go to the more specific, rarer type.
_EVENT_PRIORITY: tuple[str, ...] = (
    "policy_export_controls",
    "legal",
    "funding",
    "talent",
    "chips_compute",
    "benchmark",
    "research",
    "partnership_product",
    "model_release",
)
_TITLE_WEIGHT = 3.0
_EVENT_MIN_SCORE = 2.0
_SPECIFIC_MODEL_IN_TITLE = 2.0
# Long summaries (whole articles) add cost, not signal: the lede decides.
_SUMMARY_CHARS = 1500
# How far after a release verb its object may start ("unveils its most powerful model yet, Qwen3-Max").
_OBJECT_WINDOW = 70
_SUBJECT_WINDOW = 30
# Base forms that are nouns when they follow the model ("the GPT-5 launch", "Llama 4 release").
_NOUN_FORMS = frozenset({"launch", "release", "debut", "drop", "rollout", "roll out", "unveil", "ship", "update"})

_WS = re.compile(r"\s+")
_DASHES = re.compile(r"\s*[\u2013\u2014\u2015]\s*")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\b[A-Z]\.[A-Z])[.!?](?=\s+[\"'A-Z0-9])")
# Between a release verb and its object: a new clause or a comparison starts, the object is gone.
_BREAKER = re.compile(
    r"(?:\b(?:after|as|amid|despite|following|while|because|since|but|than|over|against|vs\.?|versus|beats?|"
    r"rivals?|outperforms?|challenges?|takes? on|like|unlike|without|using|via|to|into|from|says|said|"
    r"and then)\b|[;:|?!()\[\]]| - )",
    re.IGNORECASE,
)
# A model-like name the taxonomy does not know: a capitalized word (with -/. segments) carrying a
# digit, optionally followed by a version or size: "Zamba2-7B", "Foo-2 70B", "InternLM3", "T1".
_INFERRED_MODEL = re.compile(
    r"(?<![\w.-])(?P<name>[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*(?:[ -](?:[Vv]?\d+(?:\.\d+)*[A-Za-z]?|"
    r"\d+(?:\.\d+)?[BT]))*)(?![\w-])"
)
_MODEL_NOUN_AFTER = re.compile(
    r"\s+(?:(?:AI|open[- ]source|open[- ]weights?|reasoning|language|video|image|coding|multimodal|"
    r"foundation|frontier|agentic|small|large)\s+)*(?:models?|LLMs?)\b",
    re.IGNORECASE,
)
# Capitalized words that are not model names even when they carry a digit.
_NOT_MODELS = frozenset(
    {
        "series", "windows", "iphone", "ipad", "pixel", "galaxy", "model", "covid", "f-35", "q1", "q2", "q3", "q4",
        "h1", "h2", "fy", "ceo", "cto", "us", "uk", "eu", "ai", "gpu", "gpus", "api", "ces", "wwdc", "i/o", "top",
        "version", "the", "its", "new", "with", "for", "and", "in", "on", "at", "by", "of", "a", "an",
    }
)
_MONTHS = re.compile(
    r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*$|^(?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday|Today|Tonight)$"
)
# Words that describe an unknown company without being its name ("Chinese AI startup Foo").
_DESCRIPTORS = frozenset(
    {
        "ai", "startup", "start-up", "lab", "labs", "company", "firm", "unicorn", "giant", "rival", "upstart",
        "developer", "maker", "group", "the", "a", "an", "tech", "chatbot", "research", "researchers", "team",
        "open-source", "new", "little-known", "stealth", "chinese", "american", "french", "european", "us",
        "japanese", "korean", "indian", "german", "british", "israeli", "canadian", "emirati", "saudi",
        "exclusive", "breaking", "watch", "report", "update", "video", "analysis", "sources",
    }
)
_INFERRED_ORG = re.compile(
    r"(?P<org>(?:[A-Z0-9][\w.&'-]*)(?:\s+(?:[A-Z0-9][\w.&'-]*|AI|Labs?|Research|of|for|and))*)\s*,?\s*$"
)


class Classification(TypedDict):
    """One ``racewatch classify`` output object (the JSON Lines contract in DESIGN.md)."""

    id: Any
    is_ai_competition: bool
    event_type: str
    is_flagship_release: bool
    orgs: list[str]
    models: list[str]
    country: str | None
    release_key: str | None
    score: float
    reasons: list[str]


# ------------------------------------------------------------------------------------------------
# Compiled rules


@dataclass(frozen=True)
class _FamilyRule:
    """A model family with its lab and its word lists, ready for parsing matches."""

    family: Family
    lab: Lab
    parts: frozenset[str]
    variants: frozenset[str]


@dataclass(frozen=True)
class _AliasRule:
    lab: Lab
    alias: str
    mode: str  # "plain" (distinctive, any case), "cased" or "ambiguous"


class RuleSet:
    """The taxonomy compiled for matching: built once per taxonomy file (see :func:`rules`)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.index = PhraseIndex()
        self.labs = {lab.key: lab for lab in taxonomy.labs}
        self.bare: dict[str, list[tuple[_FamilyRule, re.Pattern[str]]]] = {}
        global_variants = tuple(taxonomy.variants)
        for lab in taxonomy.labs:
            for mode, names in (("plain", lab.aliases), ("cased", lab.cased_aliases), ("ambiguous", lab.ambiguous)):
                for alias in names:
                    self._add("alias", lab.key, _escape(alias), _AliasRule(lab, alias, mode),
                              cased=mode != "plain", order=len(alias))
            for guard in lab.guards:
                self._add("guard", lab.key, guard, None)
            for fam in lab.families:
                rule = _FamilyRule(
                    fam,
                    lab,
                    frozenset(p.lower() for p in fam.parts),
                    frozenset(v.lower() for v in (*fam.variants, *global_variants)),
                )
                tail = _tail_regex(fam, global_variants)
                for trigger in fam.triggers:
                    source = _escape(trigger)
                    trig = source if (fam.cased or fam.ambiguous) else f"(?i:{source})"
                    head = trig
                    if fam.pre:
                        head += rf"(?:[\s-]?(?P<pre>{_alternation(fam.pre)}))?"
                    if not fam.product:
                        head += rf"(?:[\s-]?(?P<version>{fam.version})(?!\w))?" + tail
                    regex = re.compile(head + (r"(?!\w)" if fam.product else ""))
                    self.index.add(Phrase("family", lab.key, regex, ref=rule, order=len(trigger)), source)
                if fam.bare_version:
                    bare = re.compile(rf"(?<![\w.-])(?P<version>{fam.version})(?!\w)" + tail)
                    self.bare.setdefault(lab.key, []).append((rule, bare))
        for country in taxonomy.countries:
            for name in country.names:
                self._add("country", country.code, _escape(name), "name", cased=True)
            for adjective in country.adjectives:
                self._add("adjective", country.code, _escape(adjective), "adjective", cased=True)
        for group, cues in taxonomy.cues.items():
            for cue in cues:
                self._add("cue", group, cue.pattern, None, weight=cue.weight, cased=cue.cased)
        for event, cues in taxonomy.events.items():
            if event not in EVENT_TYPES or event == "other":
                continue
            for cue in cues:
                self._add("event", event, cue.pattern, None, weight=cue.weight, cased=cue.cased)
        backer_after = "|".join(c.pattern for c in taxonomy.cues.get("backer_after", ()))
        backer_before = "|".join(c.pattern for c in taxonomy.cues.get("backer_before", ()))
        funded_before = "|".join(c.pattern for c in taxonomy.cues.get("funded_before", ()))
        self.backer_after = re.compile(rf"(?:'s)?(?:{backer_after})\b", re.IGNORECASE) if backer_after else None
        self.backer_before = re.compile(rf"\b(?:{backer_before})\s*$", re.IGNORECASE) if backer_before else None
        self.funded_before = re.compile(rf"\b(?:{funded_before})\s*$", re.IGNORECASE) if funded_before else None

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


def _escape(literal: str) -> str:
    """A literal name as a regex; spaces and hyphens match each other ("Kimi-K2" / "Kimi K2")."""
    return "".join(r"[\s-]" if ch in " -" else re.escape(ch) for ch in literal)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(_escape(w) for w in sorted(set(words), key=len, reverse=True))


def _tail_regex(fam: Family, global_variants: tuple[str, ...]) -> str:
    """Suffix words after the version: parts, variants, sizes ("-235B-A22B"), dates ("-0905").

    After a hyphen any case ("gpt-4o-mini", "Doubao-1.5-pro"); after a space only as listed, so
    prose words that happen to follow a model name are not swallowed.
    """
    words = _alternation((*fam.parts, *fam.variants, *global_variants))
    size = r"\d+(?:\.\d+)?[BbTt](?:-[Aa]\d+(?:\.\d+)?[Bb])?|\d+x\d+[Bb]|[Aa]\d+[Bb]|\d{4}(?:\d{4})?"
    glued = rf"|(?<=[^\W\d])(?:{_alternation(fam.parts)})" if fam.parts else ""
    return rf"(?P<tail>(?:(?:-(?i:{words}|{size})|\s(?:{words}|{size}){glued})(?!\w))*)"


_RULES: dict[int, RuleSet] = {}


def rules() -> RuleSet:
    """The compiled rules for the current taxonomy (``$RACEWATCH_TAXONOMY`` or the repository's)."""
    taxonomy = load_taxonomy()
    compiled = _RULES.get(id(taxonomy))
    if compiled is None or compiled.taxonomy is not taxonomy:
        _RULES.clear()
        compiled = _RULES[id(taxonomy)] = RuleSet(taxonomy)
    return compiled


# ------------------------------------------------------------------------------------------------
# What a story says


@dataclass
class _Org:
    lab: Lab | None  # None for a company the taxonomy does not know
    name: str
    start: int
    end: int
    via: str  # how it was found: "alias 'X'", "model Qwen3", "inferred"


@dataclass
class _Model:
    rule: _FamilyRule | None  # None: inferred from the text
    lab: Lab | None
    name: str
    start: int
    end: int
    version: str | None = None
    parts: tuple[str, ...] = ()
    variant: str | None = None
    specific: bool = True

    @property
    def product(self) -> bool:
        return self.rule is not None and self.rule.family.product


@dataclass
class _Release:
    verb: Hit
    model: _Model
    subject: _Org | None
    blockers: list[str] = field(default_factory=list)
    in_title: bool = True


@dataclass
class _Reading:
    """Everything the rules found in one story; classify() and extract_facts() render from it."""

    title: str
    summary: str
    text: str
    title_len: int
    orgs: list[_Org]
    models: list[_Model]
    cues: dict[str, list[Hit]]
    events: dict[str, float]
    countries: list[Hit]
    adjectives: list[Hit]
    ai_context: bool
    release: _Release | None = None
    inferred_org: _Org | None = None
    reasons: list[str] = field(default_factory=list)


def _clean(value: Any) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_QUOTES)
    return _WS.sub(" ", _DASHES.sub(" - ", text)).strip()


def _first_sentence_end(summary: str) -> int:
    m = _SENTENCE_END.search(summary)
    return m.end() if m else len(summary)


def _read(item: Mapping[str, Any], rs: RuleSet) -> _Reading:
    title = _clean(item.get("title"))
    summary = _clean(item.get("summary"))[:_SUMMARY_CHARS]
    text = f"{title}\n{summary}" if summary else title
    hits = rs.index.scan(text)
    by_kind: dict[str, list[Hit]] = {}
    for hit in hits:
        by_kind.setdefault(hit.phrase.kind, []).append(hit)
    cues: dict[str, list[Hit]] = {}
    for hit in by_kind.get("cue", []):
        cues.setdefault(hit.phrase.group, []).append(hit)
    tlen = len(title)
    events: dict[str, float] = {}
    for hit in by_kind.get("event", []):
        weight = hit.phrase.weight * (_TITLE_WEIGHT if hit.start < tlen else 1.0)
        events[hit.phrase.group] = events.get(hit.phrase.group, 0.0) + weight
    reading = _Reading(
        title=title,
        summary=summary,
        text=text,
        title_len=tlen,
        orgs=[],
        models=[],
        cues=cues,
        events=events,
        countries=by_kind.get("country", []),
        adjectives=by_kind.get("adjective", []),
        ai_context=bool(cues.get("ai_context")),
    )
    guarded = {hit.phrase.group for hit in by_kind.get("guard", [])}
    for key in sorted(guarded):
        reading.reasons.append(f"homonym guard: {rs.labs[key].name} names ignored")
    _resolve_mentions(reading, rs, by_kind.get("alias", []), by_kind.get("family", []), guarded)
    return reading


def _longest_per_start(hits: list[Hit]) -> list[Hit]:
    """Overlapping matches of one kind: keep the longest, then drop those inside a kept one."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def _resolve_mentions(
    r: _Reading, rs: RuleSet, alias_hits: list[Hit], family_hits: list[Hit], guarded: set[str]
) -> None:
    """Decide which lab and model names count, settling homonyms (see the module docstring)."""
    orgs: list[_Org] = []
    deferred_aliases: list[tuple[Hit, _AliasRule]] = []
    for hit in _longest_per_start(alias_hits):
        rule: _AliasRule = hit.phrase.ref
        if rule.mode != "plain" and rule.lab.key in guarded:
            continue
        if rule.mode == "ambiguous":
            deferred_aliases.append((hit, rule))
            continue
        orgs.append(_Org(rule.lab, rule.lab.name, hit.start, hit.end, f"alias '{hit.text}'"))
    labs_named = {o.lab.key for o in orgs if o.lab is not None}

    models: list[_Model] = []
    deferred_models: list[_Model] = []
    for hit in _longest_per_start(family_hits):
        fam_rule: _FamilyRule = hit.phrase.ref
        fam = fam_rule.family
        if (fam.ambiguous or fam.cased) and fam_rule.lab.key in guarded:
            continue
        model = _parse_model(fam_rule, hit.match)
        if model is None:
            continue
        if fam.requires_lab and fam_rule.lab.key not in labs_named:
            continue
        if fam.ambiguous and not model.version:
            deferred_models.append(model)
        else:
            models.append(model)
    ai_context = (
        r.ai_context
        or any(m.rule is not None and (m.specific or not m.rule.family.ambiguous) for m in models)
        or any(o.lab is not None and o.lab.kind == "lab" for o in orgs)
    )
    if ai_context:
        models.extend(deferred_models)
        for hit, rule in deferred_aliases:
            orgs.append(_Org(rule.lab, rule.lab.name, hit.start, hit.end, f"alias '{hit.text}' (ambiguous, AI context)"))
    r.ai_context = ai_context
    present = {o.lab.key for o in orgs if o.lab is not None} | {m.lab.key for m in models if m.lab is not None}
    for key in sorted(present):
        for fam_rule, bare in rs.bare.get(key, ()):
            for m in bare.finditer(r.text):
                if any(x.start <= m.start() < x.end for x in models):
                    continue
                parsed = _parse_model(fam_rule, m)
                if parsed is not None:
                    models.append(parsed)
    models.sort(key=lambda m: m.start)
    for model in models:
        if model.lab is not None:
            orgs.append(_Org(model.lab, model.lab.name, model.start, model.end, f"model {model.name}"))
    orgs.sort(key=lambda o: o.start)
    r.orgs = orgs
    r.models = models


def _parse_model(rule: _FamilyRule, m: re.Match[str]) -> _Model | None:
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
        if pre.lower() in rule.parts or pre.lower() not in rule.variants:
            pre_parts.append(_canonical_word(pre, fam.parts))
        else:
            variant = _canonical_word(pre, (*fam.variants, *fam.pre))
    parts: list[str] = []
    for word in _tail_words(groups.get("tail") or ""):
        low = word.lower()
        if low in rule.parts:
            parts.append(_canonical_word(word, fam.parts))
        elif low in rule.variants and variant is None:
            variant = _canonical_word(word, (*fam.variants, *fam.pre)) if not word.islower() else word.capitalize()
    specific = not fam.product and bool(version or parts or pre_parts or fam.versionless)
    trigger = m.group(0)[: m.start("version") - m.start()] if version else m.group(0)
    if not specific and len(trigger.strip()) < 3:
        return None  # a one- or two-letter family name alone ("o") is just a letter
    name = (
        canonical_model_name(fam.name, version=version, pre_parts=pre_parts, parts=parts, sep=fam.sep,
                             part_sep=fam.part_sep)
        if specific
        else fam.name
    )
    return _Model(rule, rule.lab, name, m.start(), m.end(), version, tuple(parts), variant, specific)


def _tail_words(tail: str) -> list[str]:
    return [w for w in re.split(r"[\s-]+", tail) if w]


def _canonical_word(word: str, listed: Iterable[str]) -> str:
    """The taxonomy's spelling of a word matched in any case ("max" -> "Max")."""
    for candidate in listed:
        if candidate.lower() == word.lower():
            return candidate
    return word


# ------------------------------------------------------------------------------------------------
# Releases


def _in(hits: Iterable[Hit], start: int, end: int) -> list[Hit]:
    return [h for h in hits if start <= h.start < end]


def _find_release(r: _Reading, rs: RuleSet) -> _Release | None:
    """The headline's release (verb + model + subject), else the lede's first sentence's."""
    release = _release_in_span(r, rs, 0, r.title_len)
    if release is not None:
        return release
    if not r.summary:
        return None
    start = r.title_len + 1
    end = start + _first_sentence_end(r.summary)
    release = _release_in_span(r, rs, start, end)
    if release is None:
        return None
    release.in_title = False
    model = release.model
    title_names = {m.name for m in r.models if m.start < r.title_len} | {
        o.lab.key for o in r.orgs if o.start < r.title_len and o.lab is not None
    }
    if model.name not in title_names and (model.lab is None or model.lab.key not in title_names):
        return None  # the lede mentions a release, but the story is about something else
    return release


def _release_in_span(r: _Reading, rs: RuleSet, start: int, end: int) -> _Release | None:
    text = r.text
    for verb in _in(r.cues.get("release", []), start, end):
        clause_start = _clause_start(text, start, verb.start)
        if _in(r.cues.get("subordinate", []), clause_start, verb.start):
            continue  # "after DeepSeek released R1, ...": background, not this story's news
        verb_word = verb.text.lower()
        model = _object_after(r, verb, end) or _subject_model(r, verb, start, verb_word)
        if model is None:
            model = _infer_model(r, verb, end)
        if model is None:
            continue
        if verb_word in _NOUN_FORMS and model.start < verb.start:
            continue
        if verb_word in _NOUN_FORMS and text.startswith(" of ", verb.end):
            continue  # "the release of GPT-5"
        subject = _subject(r, rs, clause_start, verb.start, model)
        return _Release(verb, model, subject)
    return None


def _clause_start(text: str, span_start: int, pos: int) -> int:
    """Start of the clause holding ``pos``: after the last comma/semicolon/colon/dash before it."""
    cut = max(text.rfind(sep, span_start, pos) for sep in (",", ";", ":", " - ", "|"))
    return span_start if cut < 0 else cut + 1


def _object_after(r: _Reading, verb: Hit, end: int) -> _Model | None:
    limit = min(end, verb.end + _OBJECT_WINDOW)
    first_word_end = verb.start + len(verb.text.split()[0])
    for model in r.models:
        if model.start <= verb.start or model.start >= limit:
            continue
        if _BREAKER.search(r.text, first_word_end, model.start):
            return None
        return model
    return None


def _subject_model(r: _Reading, verb: Hit, start: int, verb_word: str) -> _Model | None:
    """'Kimi K2.5 launches', 'Qwen3-Max is now generally available': the model before the verb."""
    if verb_word in _NOUN_FORMS:
        return None
    best = None
    for model in r.models:
        if start <= model.start and model.end <= verb.start and verb.start - model.end <= _SUBJECT_WINDOW:
            if not _BREAKER.search(r.text, model.end, verb.start):
                best = model
    return best


def _infer_model(r: _Reading, verb: Hit, end: int) -> _Model | None:
    """A model name the taxonomy lacks, right after the verb: "releases Zamba2-7B", "T1 reasoning model"."""
    text = r.text
    limit = min(end, verb.end + _OBJECT_WINDOW)
    pos = verb.end
    while pos < limit:
        m = _INFERRED_MODEL.search(text, pos, limit)
        if m is None:
            return None
        if _BREAKER.search(text, verb.end, m.start()):
            return None
        name = m.group("name")
        pos = m.end()
        words = name.split()
        if name.lower() in _NOT_MODELS or _MONTHS.match(words[0]) or words[0].lower() in _NOT_MODELS:
            continue
        if any(m.start() < x.end and x.start < m.end() for x in (*r.models, *r.orgs)):
            continue  # a known name: not ours to infer
        if any(m.start() < h.end and h.start < m.end() for h in r.countries):
            continue
        has_digit = any(ch.isdigit() for ch in name)
        if not has_digit and not _MODEL_NOUN_AFTER.match(text, m.end()):
            continue
        if not (r.ai_context or _MODEL_NOUN_AFTER.match(text, m.end())):
            return None
        return _Model(None, None, name, m.start(), m.end(), specific=True)
    return None


def _is_modifier(r: _Reading, rs: RuleSet, org: _Org, clause_start: int) -> bool:
    """'Alibaba-backed Moonshot', 'backed by Alibaba', 'OpenAI rival Anthropic': not the subject."""
    text = r.text
    if rs.backer_after is not None and rs.backer_after.match(text, org.end):
        return True
    before = text[max(clause_start, org.start - 30) : org.start]
    return rs.backer_before is not None and bool(rs.backer_before.search(before))


def _subject(r: _Reading, rs: RuleSet, clause_start: int, verb_start: int, model: _Model) -> _Org | None:
    """Who releases: the model's own lab if named before the verb, else the nearest company there."""
    before = [
        o
        for o in r.orgs
        if clause_start <= o.start < verb_start and not (model.start <= o.start < model.end)
        and not _is_modifier(r, rs, o, clause_start)
    ]
    if model.lab is not None and any(o.lab is model.lab for o in before):
        return next(o for o in reversed(before) if o.lab is model.lab)
    if before:
        return before[-1]
    if model.lab is not None and model.start < verb_start:
        return None
    return _infer_org(r, clause_start, verb_start)


def _infer_org(r: _Reading, clause_start: int, verb_start: int) -> _Org | None:
    """An unknown company from the words before the verb: "Paris-based startup Kyutai releases"."""
    prefix = r.text[clause_start:verb_start].rstrip()
    m = _INFERRED_ORG.search(prefix)
    if m is None:
        return None
    words = m.group("org").split()
    while words and (words[0].lower().strip("'s") in _DESCRIPTORS or words[0].lower().endswith("-based")):
        words.pop(0)
    while words and words[-1].lower() in ("of", "for", "and", "its", "the"):
        words.pop()
    if not words:
        return None
    name = " ".join(words).removesuffix("'s")
    if _MONTHS.match(words[0]) or name.lower() in _NOT_MODELS:
        return None
    if any(h.text == name for h in r.countries):
        return None  # a government, not a company
    start = clause_start + prefix.rfind(name)
    return _Org(None, name, start, start + len(name), "unknown org inferred from text")


def _assess_release(r: _Reading, rel: _Release) -> None:
    """Collect the reasons a found release is not a flagship (empty list: it is)."""
    text = r.text
    if rel.in_title:
        span_start, span_end = 0, r.title_len
    else:
        span_start = r.title_len + 1
        span_end = span_start + _first_sentence_end(r.summary)
    verb, model = rel.verb, rel.model
    clause = _clause_start(text, span_start, verb.start)

    def fired(group: str, start: int, end: int) -> Hit | None:
        found = _in(r.cues.get(group, []), start, end)
        return found[0] if found else None

    hedge = fired("hedge", clause, verb.start) or fired("hedge_anywhere", span_start, span_end)
    if hedge is not None:
        rel.blockers.append(f"hedge: '{hedge.text}'")
    past = fired("past", span_start, span_end)
    if past is not None:
        rel.blockers.append(f"past release: '{past.text}'")
    minor = fired("minor", span_start, span_end)
    if minor is not None:
        rel.blockers.append(f"minor update: '{minor.text}'")
    price = fired("price", span_start, span_end)
    if price is not None:
        rel.blockers.append(f"pricing news: '{price.text}'")
    paper = fired("paper", span_start, span_end)
    if paper is not None:
        rel.blockers.append(f"paper, not a model: '{paper.text}'")
    if model.product:
        rel.blockers.append(f"product, not a model: {model.name}")
    elif not model.specific:
        rel.blockers.append(f"no specific model named (family {model.name} only)")
    owner = model.lab
    subject = rel.subject
    if subject is not None and owner is not None and subject.lab is not owner:
        if fired("integration", span_start, span_end) is not None:
            rel.blockers.append(f"integration: {subject.name} offers {owner.name}'s {model.name}")
        else:
            rel.blockers.append(f"third-party release of {owner.name}'s {model.name} by {subject.name}")
    # Somebody else's model named with a fine-tune cue in the headline or first sentence.
    lede_end = r.title_len + 1 + _first_sentence_end(r.summary) if r.summary else r.title_len
    for cue in _in(r.cues.get("finetune", []), 0, lede_end):
        base = next(
            (
                m
                for m in r.models
                if cue.end <= m.start <= cue.end + 60 and m.lab is not None and m.lab is not owner
                and (subject is None or subject.lab is not m.lab)
            ),
            None,
        )
        if base is not None or model.rule is None:
            what = f"{base.name}" if base is not None else "another model"
            rel.blockers.append(f"derivative: '{cue.text}' {what}")
            break
    if _negative(r) is not None:
        rel.blockers.append(f"not race news: {_negative(r)}")


# ------------------------------------------------------------------------------------------------
# Decisions


def _negative(r: _Reading) -> str | None:
    """A how-to, an op-ed, or AI applied in another field, judged by the headline."""
    for group, label in (("howto", "how-to"), ("opinion", "opinion piece"), ("applied", "AI applied elsewhere")):
        found = _in(r.cues.get(group, []), 0, r.title_len)
        if found:
            return f"{label} ('{found[0].text}')"
    return None


def _event_type(r: _Reading) -> tuple[str, float]:
    scores = dict(r.events)
    if any(m.specific and not m.product and m.start < r.title_len for m in r.models):
        scores["model_release"] = scores.get("model_release", 0.0) + _SPECIFIC_MODEL_IN_TITLE
    best, best_score = "other", 0.0
    for event in _EVENT_PRIORITY:
        score = scores.get(event, 0.0)
        if score > best_score:
            best, best_score = event, score
    if best_score < _EVENT_MIN_SCORE:
        return "other", best_score
    return best, best_score


def _release_event(rel: _Release) -> str:
    """The event type of a story whose headline releases something."""
    joined = " ".join(rel.blockers)
    if "pricing news" in joined:
        return "partnership_product"
    if "paper, not a model" in joined:
        return "research"
    if "integration:" in joined or rel.model.product or not rel.model.specific:
        return "partnership_product"
    return "model_release"


def _main_org(r: _Reading, rs: RuleSet, event: str, rel: _Release | None) -> _Org | None:
    """The story's main organisation: the releaser, the funded lab, else the headline's subject."""
    if rel is not None:
        if rel.subject is not None:
            return rel.subject
        if rel.model.lab is not None:
            return next(o for o in r.orgs if o.lab is rel.model.lab)
    if not r.orgs:
        return None
    in_title = [o for o in r.orgs if o.start < r.title_len]
    pool = in_title or r.orgs
    if event == "funding" and rs.funded_before is not None:
        for org in pool:
            if rs.funded_before.search(r.text[max(0, org.start - 40) : org.start]):
                return org
    for org in pool:
        if not _is_modifier(r, rs, org, 0 if org.start < r.title_len else r.title_len + 1):
            return org
    return pool[0]


def _government(r: _Reading) -> str | None:
    """The country of the first government named in the headline (policy stories with no company)."""
    for hit in r.countries:
        if hit.start < r.title_len:
            return hit.phrase.group
    return None


def _country_of_unknown(r: _Reading, org: _Org) -> str | None:
    """Place an unknown company by an adjective in its clause ("Chinese startup Foo") or lede."""
    near = [h for h in r.adjectives if org.start - 40 <= h.start <= org.end]
    if near:
        return near[-1].phrase.group
    lede_end = r.title_len + 1 + _first_sentence_end(r.summary) if r.summary else r.title_len
    later = [h for h in (*r.adjectives, *r.countries) if h.start < lede_end]
    return later[0].phrase.group if later else None


@dataclass
class _Decision:
    reading: _Reading
    is_ai: bool
    event: str
    flagship: bool
    main: _Org | None
    country: str | None
    key: str | None
    primary: _Model | None
    score: float


def _decide(item: Mapping[str, Any], rs: RuleSet) -> _Decision:
    r = _read(item, rs)
    reasons = r.reasons
    rel = _find_release(r, rs)
    if rel is not None:
        _assess_release(r, rel)
    event, event_score = _event_type(r)
    if rel is not None:
        event = _release_event(rel)
    flagship = rel is not None and not rel.blockers and event == "model_release"

    title_orgs = [o for o in r.orgs if o.start < r.title_len]
    anchors: list[str] = []
    for org in r.orgs:
        if org.lab is not None and (org.lab.kind == "lab" or r.ai_context):
            anchors.append(f"org: {org.lab.name} ({org.via})")
            break
    specific = [m for m in r.models if m.specific and not m.product]
    if specific:
        anchors.append(f"model: {specific[0].name}")
    gov = _government(r)
    if gov is not None and r.ai_context and not anchors and event != "other":
        anchors.append(f"government: {gov}")
    if rel is not None and rel.model.rule is None and r.ai_context:
        anchors.append(f"model inferred from text: {rel.model.name}")
    negative = _negative(r)
    race = _in(r.cues.get("race", []), 0, r.title_len)
    is_ai = bool(anchors) and (event != "other" or bool(race and title_orgs))
    if negative is not None and not flagship:
        is_ai = False
        reasons.append(f"not race news: {negative}")
    if not is_ai:
        event, flagship = "other", False

    main = _main_org(r, rs, event, rel)
    inferred = None
    if rel is not None and rel.subject is not None and rel.subject.lab is None:
        inferred = rel.subject
    if main is not None and main.lab is None:
        country = _country_of_unknown(r, main)
    elif main is not None and main.lab is not None:
        country = main.lab.country
    else:
        country = gov if is_ai else None

    primary: _Model | None = None
    if rel is not None and (flagship or rel.model.rule is not None):
        primary = rel.model
    elif specific:
        in_title = [m for m in specific if m.start < r.title_len]
        primary = (in_title or specific)[0]
    key: str | None = None
    if is_ai and primary is not None and primary.specific and not primary.product:
        owner_key = (
            primary.lab.key
            if primary.lab is not None
            else slugify(main.name) if main is not None else None
        )
        if owner_key and (primary.lab is not None or flagship):
            key = release_key(owner_key, primary.name)
    if flagship and key is None:
        flagship = False
        reasons.append("no release key: owner unknown")

    reasons.extend(anchors)
    if rel is not None:
        reasons.append(f"release verb: '{rel.verb.text}'")
        if rel.model.rule is None:
            reasons.append(f"model inferred from text: {rel.model.name}")
        if inferred is not None:
            reasons.append(f"unknown org inferred from text: {inferred.name}")
        reasons.extend(rel.blockers)
    if is_ai:
        reasons.append(f"event: {event} (cue score {event_score:g})")
    if r.ai_context:
        hit = (r.cues.get("ai_context") or [None])[0]
        if hit is not None:
            reasons.append(f"AI context: '{hit.text}'")
    if flagship:
        reasons.append("flagship: new major model from the lab" if main is not None and main.lab is not None
                       else "flagship: new model, lab unknown to the taxonomy (lower confidence)")

    score = _score(r, is_ai, flagship, event_score, anchors, rel, main)
    return _Decision(r, is_ai, event, flagship, main, country, key, primary, score)


def _score(
    r: _Reading,
    is_ai: bool,
    flagship: bool,
    event_score: float,
    anchors: list[str],
    rel: _Release | None,
    main: _Org | None,
) -> float:
    """Confidence that this is AI-race news (and, above 0.85, a flagship release by a known lab).

    Below 0.5 the story is not race news; unknown labs and inferred models stay below the scores
    of releases the taxonomy can vouch for, so ``min_score`` can filter them.
    """
    if not is_ai:
        return round(min(0.45, 0.05 + 0.1 * len(anchors) + (0.1 if r.ai_context else 0.0)), 3)
    known = main is not None and main.lab is not None
    if flagship:
        extra = sum(
            0.02
            for present in (
                extract_parameters(r.text) is not None,
                extract_open_weights(r.text) is not None,
                bool(r.cues.get("new_model")),
            )
            if present
        )
        if known and rel is not None and rel.model.rule is not None:
            return round(min(0.99, 0.9 + extra), 3)
        return round(min(0.8, (0.72 if known else 0.62) + extra), 3)
    base = 0.55 + min(0.2, event_score / 60.0) + (0.05 if known else 0.0) + 0.05 * min(2, len(anchors) - 1)
    return round(min(0.85, base), 3)


# ------------------------------------------------------------------------------------------------
# Public API


def classify(item: Mapping[str, Any]) -> dict[str, Any]:
    """Label one story (input: ``id``, ``title``, ``summary``, optional ``link``/``published``/``source``)."""
    return _render(_decide(item, rules()), item)


def classify_many(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Label many stories with one compiled rule set (the taxonomy is resolved once per call)."""
    rs = rules()
    return [_render(_decide(item, rs), item) for item in items]


def _render(d: _Decision, item: Mapping[str, Any]) -> dict[str, Any]:
    r = d.reading
    orgs: list[str] = []
    if d.main is not None:
        orgs.append(d.main.name)
    for org in r.orgs:
        if org.name not in orgs:
            orgs.append(org.name)
    models: list[str] = []
    if d.primary is not None and d.primary.specific and not d.primary.product and d.is_ai:
        models.append(d.primary.name)
    families_named = {m.rule.family.name for m in r.models if m.specific and m.rule is not None}
    for model in r.models:
        if model.product or model.name in models:
            continue
        if model.specific or (model.rule is not None and model.rule.family.name not in families_named):
            models.append(model.name)
    out: Classification = {
        "id": item.get("id"),
        "is_ai_competition": d.is_ai,
        "event_type": d.event,
        "is_flagship_release": d.flagship,
        "orgs": orgs,
        "models": models,
        "country": d.country,
        "release_key": d.key if d.is_ai else None,
        "score": float(min(1.0, max(0.0, d.score))),
        "reasons": list(dict.fromkeys(r.reasons)),
    }
    return dict(out)


def extract_facts(item: Mapping[str, Any]) -> dict[str, Any]:
    """Facts the release ledger keeps: parameters, open weights, headline claim, model identity.

    Keys: ``parameters`` ("1T", "235B", "480B-A35B" or None), ``parameters_b`` (total, billions),
    ``open_weights`` (bool or None), ``claim``, ``variant`` ("Thinking"...), ``family``, ``version``,
    ``org`` (canonical name of the model's lab, or the company named in the text).
    """
    d = _decide(item, rules())
    r = d.reading
    params = extract_parameters(r.text)
    model = d.primary
    family = version = variant = None
    if model is not None:
        if model.rule is not None:
            family = model.rule.family.name
            version = model.version
            variant = model.variant
        else:
            family = model.name
    org = model.lab.name if model is not None and model.lab is not None else (d.main.name if d.main else None)
    return {
        "parameters": params.label if params else None,
        "parameters_b": params.billions if params else None,
        "open_weights": extract_open_weights(r.text),
        "claim": extract_claim(r.title, r.summary),
        "variant": variant,
        "family": family,
        "version": version,
        "org": org,
    }
