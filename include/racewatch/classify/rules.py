"""The rule-based classifier: one story in, labels and the evidence behind them out.

How a story is judged (the pieces live in sibling modules):

1. **Mentions** (``reading``): one scan of title + lede finds lab aliases, model names, country
   names and every cue phrase of the taxonomy; homonyms are settled there.
2. **Release** (``release``): a release verb in the headline linked to a model and a subject, and
   the reasons it may not be a flagship: a hedge before the verb, a minor update, somebody else's
   model fine-tuned or integrated, a paper, a price cut, a product rather than a model.
3. **Event type**: weighted cues (headline hits count triple); a found release decides instead.
   Chips are usually the object of policy ("US bans H20 exports"), so a strong policy cue in the
   headline wins over chip words; a government as the headline's subject counts as one.
4. **AI competition**: an anchor (a lab, a model, a chip maker or a government with AI context, or
   a release read from the text) and no sign of a how-to, an op-ed or AI applied in another field.

Everything the rules know about the world comes from the taxonomy; these modules are grammar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from racewatch.classify.base import register
from racewatch.classify.compiled import EVENT_TYPES, RuleSet, rules
from racewatch.classify.facts import extract_claim, extract_open_weights, extract_parameters
from racewatch.classify.phrases import Hit
from racewatch.classify.reading import TITLE_WEIGHT, Model, Org, Reading, hits_in, read
from racewatch.classify.release import Release, assess_release, find_release, infer_org, is_modifier
from racewatch.classify.release_key import release_key
from racewatch.classify.taxonomy import TIERS, slugify

__all__ = [
    "CLASSIFIER_VERSION",
    "EVENT_TYPES",
    "Classification",
    "RulesClassifier",
    "classify",
    "classify_many",
    "classify_with_facts",
    "decide",
    "evidence",
    "extract_facts",
    "facts_of",
    "render",
]

#: Bump when the rules or the taxonomy change what stories come out as: the pipeline relabels
#: every entry whose stored version differs.
CLASSIFIER_VERSION = "rules-2"

# Ties between event cues go to the more specific, rarer type.
_EVENT_PRIORITY: tuple[str, ...] = (
    "legal",
    "policy_export_controls",
    "funding",
    "talent",
    "chips_compute",
    "benchmark",
    "research",
    "partnership_product",
    "model_release",
)
_EVENT_MIN_SCORE = 2.0
_SPECIFIC_MODEL_IN_TITLE = 2.0
_HEADLINE_SUBJECT = 6.0  # what a weight-2 cue in the headline is worth
_INTEGRATION_WINDOW = 40
_CHIPS_EVENTS = frozenset({"chips_compute", "policy_export_controls"})
_BUSINESS_EVENTS = frozenset({"funding", "talent", "legal"})
_POLICY_OVER_CHIPS = 0.75
# "US chipmakers", "Chinese AI startups": a country name used as an adjective, not a government acting.
_ADJECTIVAL_AFTER = re.compile(
    r"(?:'s\s+(?:AI\s+)?(?:labs?|companies|firms|start-?ups?|chip ?makers|giants?|developers|researchers|rivals?)|"
    r"\s+(?:companies|firms|chip ?makers|start-?ups?|tech|AI|labs?|stocks?|shares|investors|users|consumers|"
    r"markets?|models?|chatbots?|rivals?|giants?|developers|researchers|engineers))\b",
    re.IGNORECASE,
)
# "bring back Character.AI founder Noam Shazeer" hires people, it does not integrate a product.
_PEOPLE_AFTER = re.compile(
    r"(?:'s)?\s+(?:co-?founders?|founders?|CEO|CTO|chief|researchers?|engineers?|staff|team|executives?|talent|"
    r"employees)\b",
    re.IGNORECASE,
)
# "GLM-5: New SOTA Open Weights LLM", "Gemma 4 - open models": a model name heading its own story.
_HEADLINE_BREAK = re.compile(r"\s*(?:[:\uff1a|]|-\s|$|\n)")
_RELEASE_EVENTS = {
    "release": "model_release",
    "derivative": "model_release",
    "integration": "partnership_product",
    "price": "partnership_product",
    "paper": "research",
}


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


@dataclass
class Decision:
    """Everything the rules concluded about one story; the hybrid classifier revises the decisions."""

    reading: Reading
    is_ai: bool
    event: str
    flagship: bool
    main: Org | None
    country: str | None
    key: str | None
    primary: Model | None
    score: float
    release: Release | None = None
    anchors: list[str] = field(default_factory=list)
    negative: str | None = None
    key_candidate: str | None = None
    event_score: float = 0.0
    government: str | None = None  # the country of a government acting, were this race news


# ------------------------------------------------------------------------------------------------
# Event type


def _acting_government(r: Reading) -> Hit | None:
    """A government opening the headline ("Beijing orders...", "EU unveils..."), not "China's DeepSeek"."""
    first_org = min((o.start for o in r.orgs if r.in_title(o.start)), default=r.title_len)
    for hit in r.countries:
        if hit.start >= first_org:
            break
        if not any(0 <= o.start - hit.end <= 3 for o in r.orgs) and not _ADJECTIVAL_AFTER.match(r.text, hit.end):
            return hit
    return None


def _integration_in_title(r: Reading, rs: RuleSet) -> bool:
    """"Apple taps Google's Gemini", "Tencent adds DeepSeek": another lab's model inside a product."""
    for cue in hits_in(r.cues.get("integration", []), 0, r.title_len):
        actors = [o for o in r.orgs if o.start < cue.start and o.lab is not None and not is_modifier(r, rs, o, 0)]
        if not actors:
            continue
        actor = actors[0].lab
        others: list[Org | Model] = [m for m in r.models if not m.product]
        others += [o for o in r.orgs if o.lab is not None and o.lab.kind == "lab"]
        for other in others:
            if (
                cue.end <= other.start <= cue.end + _INTEGRATION_WINDOW
                and r.in_title(other.start)
                and other.lab is not None
                and other.lab is not actor
                and not _PEOPLE_AFTER.match(r.text, other.end)
            ):
                return True
    return False


def _event_scores(r: Reading, rs: RuleSet) -> dict[str, float]:
    scores: dict[str, float] = {}
    strong_policy = False
    for hit in r.event_hits:
        group = hit.phrase.group
        in_title = r.in_title(hit.start)
        scores[group] = scores.get(group, 0.0) + hit.phrase.weight * (TITLE_WEIGHT if in_title else 1.0)
        strong_policy = strong_policy or (group == "policy_export_controls" and in_title and hit.phrase.weight >= 2)
    if any(m.specific and not m.product and r.in_title(m.start) for m in r.models):
        scores["model_release"] = scores.get("model_release", 0.0) + _SPECIFIC_MODEL_IN_TITLE
    government_acts = _acting_government(r) is not None
    if government_acts:
        scores["policy_export_controls"] = scores.get("policy_export_controls", 0.0) + _HEADLINE_SUBJECT
    if _integration_in_title(r, rs):
        scores["partnership_product"] = scores.get("partnership_product", 0.0) + _HEADLINE_SUBJECT
    if hits_in(r.cues.get("finetune", []), 0, r.title_len) and any(
        m.specific and not m.product and r.in_title(m.start) for m in r.models
    ):  # "Nemotron-K2.5: an agent model fine-tuned from Kimi K2.5" is (derivative) model news
        scores["model_release"] = scores.get("model_release", 0.0) + _HEADLINE_SUBJECT
    policy, chips = scores.get("policy_export_controls", 0.0), scores.get("chips_compute", 0.0)
    if government_acts or (strong_policy and policy >= chips * _POLICY_OVER_CHIPS):
        scores["chips_compute"] = 0.0  # the chips are what the policy is about
    return scores


def _pick_event(scores: Mapping[str, float]) -> tuple[str, float]:
    best, best_score = "other", 0.0
    for event in _EVENT_PRIORITY:
        score = scores.get(event, 0.0)
        if score > best_score:
            best, best_score = event, score
    return (best, best_score) if best_score >= _EVENT_MIN_SCORE else ("other", best_score)


def _release_event(rel: Release, cue_event: str) -> str:
    if rel.kind == "product":  # a chip, an app, an agent: what the cues say it is
        return cue_event if cue_event not in ("other", "model_release") else "partnership_product"
    return _RELEASE_EVENTS[rel.kind]


# ------------------------------------------------------------------------------------------------
# Who and where


def _negative(r: Reading) -> str | None:
    """A how-to, an op-ed, or AI applied in another field, judged by the headline."""
    for group, label in (("howto", "how-to"), ("opinion", "opinion piece"), ("applied", "AI applied elsewhere")):
        found = hits_in(r.cues.get(group, []), 0, r.title_len)
        if found:
            return f"{label} ('{found[0].text}')"
    return None


def _main_org(r: Reading, rs: RuleSet, event: str, rel: Release | None) -> Org | None:
    """The story's main organisation: the releaser, the funded lab, else the headline's subject."""
    if rel is not None:
        if rel.subject is not None:
            return rel.subject
        if rel.model.lab is not None:
            return next(o for o in r.orgs if o.lab is rel.model.lab)
    if not r.orgs:
        return None
    pool = [o for o in r.orgs if r.in_title(o.start)] or r.orgs
    if event == "funding" and rs.funded_before is not None:
        for org in pool:
            if rs.funded_before.search(r.text[max(0, org.start - 60) : org.start]):
                return org
    for org in pool:
        if not is_modifier(r, rs, org, 0 if r.in_title(org.start) else r.title_len + 1):
            return org
    return pool[0]


def _unknown_subject(r: Reading, event: str) -> Org | None:
    """"Poolside raises $500 million to build AI": an AI company the taxonomy lacks, by its headline."""
    if event not in _BUSINESS_EVENTS or not hits_in(r.cues.get("ai_context", []), 0, r.title_len):
        return None
    cue = next((h for h in r.event_hits if h.phrase.group == event and r.in_title(h.start)), None)
    return infer_org(r, 0, cue.start) if cue is not None else None


def _government(r: Reading) -> str | None:
    """The government a policy story is about: the one opening the headline, else the first named.

    None for the EU and other bodies without an ISO code.
    """
    acting = _acting_government(r)
    if acting is not None:
        return acting.phrase.group or None
    for limit in (r.title_len, r.lede_end):
        hits = sorted(hits_in((*r.countries, *r.adjectives), 0, limit), key=lambda h: h.start)
        if hits:
            return hits[0].phrase.group or None
    return None


def _country_of_unknown(r: Reading, org: Org) -> str | None:
    """Place an unknown company by an adjective next to it ("Chinese startup Foo") or in the lede."""
    near = [h for h in r.adjectives if org.start - 40 <= h.start <= org.end]
    if near:
        return near[-1].phrase.group or None
    later = sorted(hits_in((*r.adjectives, *r.countries), 0, r.lede_end), key=lambda h: h.start)
    return (later[0].phrase.group or None) if later else None


# ------------------------------------------------------------------------------------------------
# Decision


def decide(item: Mapping[str, Any], rs: RuleSet) -> Decision:
    r = read(item, rs)
    reasons = r.reasons
    rel = find_release(r, rs)
    if rel is not None:
        assess_release(r, rel)
    event, event_score = _pick_event(_event_scores(r, rs))
    if rel is not None:
        event = _release_event(rel, event)
    flagship = rel is not None and not rel.blockers

    anchors: list[str] = []
    for org in r.orgs:
        # A chip maker's chips and export rules are race news even when the story never says "AI".
        chips_news = org.lab is not None and org.lab.kind == "chips" and event in _CHIPS_EVENTS
        if org.lab is not None and (org.lab.kind == "lab" or r.ai_context or chips_news):
            anchors.append(f"org: {org.lab.name} ({org.via})")
            break
    unknown_subject = _unknown_subject(r, event) if not r.orgs else None
    if unknown_subject is not None:
        anchors.append(f"unknown org inferred from text: {unknown_subject.name}")
    specific = [m for m in r.models if m.specific and not m.product]
    if specific:
        anchors.append(f"model: {specific[0].name}")
    own = r.source.lab
    if own is not None and not anchors and (rel is not None or r.ai_context) and own.kind == "lab":
        anchors.append(f"source: {own.name}'s own feed")
    acting = _acting_government(r)
    gov = _government(r) if event == "policy_export_controls" or acting is not None else None
    named = acting or next(iter(hits_in((*r.countries, *r.adjectives), 0, r.lede_end)), None)
    if (acting is not None or event == "policy_export_controls") and named is not None and r.ai_context and not anchors:
        anchors.append(f"government: {named.text}")  # the EU acts too, though it has no ISO code
    race = hits_in(r.cues.get("race", []), 0, r.title_len)
    if race and r.ai_context and not anchors and hits_in(r.countries, 0, r.title_len):
        anchors.append(f"race between countries: '{race[0].text}'")
    title_context = hits_in(r.cues.get("ai_context", []), 0, r.title_len)
    if event == "benchmark" and title_context and not anchors:  # leaderboards are the race's scoreboard
        anchors.append(f"AI benchmark: '{title_context[0].text}'")
    if rel is not None and rel.model.rule is None and r.ai_context:
        anchors.append(f"model inferred from text: {rel.model.name}")
    title_orgs = [o for o in r.orgs if r.in_title(o.start)]
    is_ai = bool(anchors) and (event != "other" or bool(race and title_orgs))
    negative = _negative(r)
    if negative is not None and not flagship:
        is_ai = False
        reasons.append(f"not race news: {negative}")
    if not is_ai:
        event, flagship = "other", False

    main = _main_org(r, rs, event, rel) or unknown_subject
    if main is None and own is not None:
        main = Org(own, own.name, 0, 0, "source: the lab's own feed")
    if main is not None and main.lab is None and not is_ai:
        main = None  # an inferred company in a story that is not race news is noise
    if main is not None and main.lab is not None:
        country = main.lab.country
    elif main is not None:
        country = _country_of_unknown(r, main)
    else:
        country = gov if is_ai else None

    primary: Model | None = None
    if rel is not None and (flagship or rel.model.rule is not None or rel.kind == "release"):
        primary = rel.model
    elif specific:
        primary = ([m for m in specific if r.in_title(m.start)] or specific)[0]
    candidate: str | None = None  # the release key, were this race news about a release
    if primary is not None and primary.specific and not primary.product:
        owner = rel.subject if rel is not None and primary is rel.model and primary.lab is None else None
        if primary.lab is not None:
            candidate = release_key(primary.lab.key, primary.name)
        elif owner is not None:  # a model the taxonomy lacks: keyed by who released it
            candidate = release_key(owner.lab.key if owner.lab is not None else slugify(owner.name), primary.name)
    known_model = primary is not None and primary.lab is not None
    key = candidate if is_ai and (known_model or flagship) else None
    if flagship and key is None:
        flagship = False
        reasons.append("no release key: the releasing company is unknown")

    reasons.extend(anchors)
    if rel is not None and rel.own_headline:
        reasons.append(f"own headline: {r.source.lab.name if r.source.lab else 'the lab'} names {rel.model.name}")
    elif rel is not None:
        reasons.append(f"release verb: '{rel.verb.text}'")
        if rel.model.rule is None:
            reasons.append(f"model inferred from text: {rel.model.name}")
        if rel.subject is not None and rel.subject.lab is None:
            reasons.append(f"unknown org inferred from text: {rel.subject.name}")
        reasons.extend(rel.blockers)
    if is_ai:
        reasons.append(f"event: {event} (cue score {event_score:g})")
    context = (r.cues.get("ai_context") or [None])[0]
    if context is not None:
        reasons.append(f"AI context: '{context.text}'")
    known = main is not None and main.lab is not None
    if flagship:
        reasons.append("flagship: new major model from the lab" if known and primary is not None and primary.rule
                       else "flagship: new model, lab or model unknown to the taxonomy (lower confidence)")
    score = _score(r, is_ai, flagship, event_score, len(anchors), known and primary is not None
                   and primary.rule is not None)
    return Decision(r, is_ai, event, flagship, main, country, key, primary, score, rel, anchors, negative,
                    candidate, event_score, gov)


def _score(r: Reading, is_ai: bool, flagship: bool, event_score: float, anchors: int, vouched: bool) -> float:
    """Confidence that this is AI-race news; above 0.85, a flagship release the taxonomy vouches for.

    Below 0.5 the story is not race news. Releases by labs or of models the taxonomy does not know
    stay between 0.6 and 0.8, so a consumer's ``min_score`` can hold them back.
    """
    if not is_ai:
        return round(min(0.45, 0.05 + 0.1 * anchors + (0.1 if r.ai_context else 0.0)), 3)
    if flagship:
        facts = (
            extract_parameters(r.text) is not None,
            extract_open_weights(r.text) is not None,
            bool(r.cues.get("new_model")),
        )
        extra = 0.02 * sum(facts)
        return round(min(0.99, 0.9 + extra), 3) if vouched else round(min(0.8, 0.66 + extra), 3)
    return round(min(0.85, 0.55 + min(0.2, event_score / 60.0) + 0.05 * min(2, anchors - 1)), 3)


# ------------------------------------------------------------------------------------------------
# Public API


def classify(item: Mapping[str, Any]) -> dict[str, Any]:
    """Label one story (input: ``id``, ``title``, ``summary``, optional ``link``/``published``/``source``)."""
    return render(decide(item, rules()), item)


def classify_many(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Label many stories with one compiled rule set (the taxonomy is resolved once per call)."""
    rs = rules()
    return [render(decide(item, rs), item) for item in items]


def render(d: Decision, item: Mapping[str, Any]) -> dict[str, Any]:
    r = d.reading
    orgs: list[str] = []
    # A company inferred from the wording is only worth naming in race news.
    if d.main is not None and (d.main.lab is not None or d.is_ai):
        orgs.append(d.main.name)
    for org in r.orgs:
        if org.name not in orgs:
            orgs.append(org.name)
    models: list[str] = []
    if d.primary is not None and d.is_ai and d.primary.specific and not d.primary.product:
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
        "release_key": d.key,
        "score": float(min(1.0, max(0.0, d.score))),
        "reasons": list(dict.fromkeys(r.reasons)),
    }
    return dict(out)


def extract_facts(item: Mapping[str, Any]) -> dict[str, Any]:
    """Facts the release ledger keeps: parameters, open weights, headline claim, model identity.

    Keys: ``parameters`` ("1T", "235B", "480B-A35B" or None), ``parameters_b`` (total, billions),
    ``open_weights`` (bool or None), ``claim``, ``variant`` ("Thinking"...), ``family``, ``version``,
    ``org`` (canonical name of the model's lab, or the company named in the text). Sizes written
    next to other models ("beats Llama 3 70B") are not this model's.
    """
    return facts_of(decide(item, rules()))


def classify_with_facts(items: Iterable[Mapping[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(label, facts) per story from one reading of its text: what the pipeline needs for the ledger,
    without running the rules twice as ``classify_many`` + ``extract_facts`` would. Facts are empty
    for stories that are not AI-race news (the ledger never looks at them)."""
    rs = rules()
    out = []
    for item in items:
        d = decide(item, rs)
        out.append((render(d, item), facts_of(d) if d.is_ai else {}))
    return out


def facts_of(d: Decision) -> dict[str, Any]:
    r = d.reading
    model = d.primary
    others = [(m.start, m.end) for m in r.models if m is not model]
    params = extract_parameters(r.text, skip=others)
    family = version = variant = None
    if model is not None:
        if model.rule is not None:
            family, version, variant = model.rule.family.name, model.version, model.variant
        else:
            family = model.name
    owner = model.lab if model is not None else None
    org = owner.name if owner is not None else (d.main.name if d.main is not None else None)
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


def evidence(d: Decision) -> list[str]:
    """The rules' findings as named features for the learned layer (see ``classify.features``)."""
    r = d.reading
    out = [f"r|ai={d.is_ai}", f"r|flag={d.flagship}", f"r|event={d.event}"]
    rel = d.release
    if rel is not None:
        out.append(f"r|rel={rel.kind}")
        out.append("r|rel_own_headline" if rel.own_headline else "r|rel_verb")
        out.append(f"r|rel_in_title={rel.span[0] == 0}")
        out.extend(f"r|block={b.split(':')[0].split(' ')[0]}" for b in rel.blockers)
        out.append(f"r|rel_tier={rel.model.tier}" if rel.model.rule is not None else "r|rel_model_inferred")
        if rel.subject is not None:
            out.append(f"r|rel_subject={'known' if rel.subject.lab is not None else 'unknown'}")
    out.extend(f"r|anchor={a.split(':')[0]}" for a in d.anchors)
    if d.negative is not None:
        out.append(f"r|neg={d.negative.split(' ')[0]}")
    if d.primary is not None:
        out.append(f"r|primary_tier={d.primary.tier}")
    if d.main is not None and d.main.lab is not None:
        out.append(f"r|main_kind={d.main.lab.kind}")
    for group in ("hedge", "hedge_anywhere", "past", "minor", "paper", "price", "finetune", "howto", "opinion",
                  "applied", "new_model", "race", "release", "small_model"):
        hits = r.cues.get(group, [])
        if hits:
            out.append(f"r|cue={group}")
            if any(r.in_title(h.start) for h in hits):
                out.append(f"r|cue_t={group}")
    if r.ai_context:
        out.append("r|ai_context")
    title_models = [m for m in r.models if m.specific and not m.product and r.in_title(m.start)]
    if title_models:
        out.append("r|model_in_title")
        best = min(title_models, key=lambda m: TIERS.index(m.tier))
        out.append(f"r|title_tier={best.tier}")
        first = title_models[0]
        lead = r.text[: first.start].strip(" '\"")
        if not lead or (first.lab is not None and r.source.lab is None and lead.lower().rstrip("'s") in
                        {first.lab.name.lower(), *(a.lower() for a in first.lab.aliases)}):
            out.append("r|title_starts_model")
            if _HEADLINE_BREAK.match(r.text, first.end):
                out.append("r|title_model_colon")
        if len({m.name for m in title_models}) > 1:
            out.append("r|title_many_models")
    if r.orgs and r.in_title(r.orgs[0].start) and r.orgs[0].lab is not None:
        out.append(f"r|title_org_kind={r.orgs[0].lab.kind}")
    if r.source.lab is not None:
        own = r.source.lab
        out.append(f"r|src_lab_kind={own.kind}")
        if any(m.lab is own for m in r.models):
            out.append("r|src_lab_model")
        if any(m.lab is not None and m.lab is not own for m in r.models if r.in_title(m.start)):
            out.append("r|src_other_lab_model")
    out.append(f"r|n_orgs={min(3, len(r.orgs))}")
    out.append(f"r|event_score={min(4, int(d.event_score // 3))}")
    return out


class RulesClassifier:
    """The rules alone, deciding with their own thresholds (``RACEWATCH_CLASSIFIER=rules``)."""

    version = CLASSIFIER_VERSION

    def label_many(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return classify_many(items)

    def label_with_facts(self, items: Iterable[Mapping[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return classify_with_facts(items)


register("rules", RulesClassifier)
