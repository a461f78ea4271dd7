"""Releases: a verb, the model it releases, who releases it, and why it might not be a flagship.

Headline grammar is regular enough for rules: "<Org> <verb> <Model>, <apposition>" or "<Model>
<verb>" ("Kimi K2.5 launches", "Qwen3-Max is now generally available"). The object must follow the
verb closely, with no new clause or comparison in between ("... after DeepSeek released R1",
"... beats GPT-4o"). When the taxonomy knows neither the model nor the lab, both are read from the
text: a model-like name ("Zamba2-7B", "T1 reasoning model") right after the verb, and the capitalized
words before it ("Palo Alto-based Zyphra").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from racewatch.classify.compiled import RuleSet
from racewatch.classify.phrases import Hit, Phrase
from racewatch.classify.reading import Model, Org, Reading, hits_in
from racewatch.classify.script import is_cjk
from racewatch.classify.taxonomy import FLAGSHIP_TIERS, TIERS, Lab

__all__ = ["Release", "assess_release", "find_release", "infer_org", "is_modifier"]

# How far after a release verb its object may start ("unveils its most powerful model yet, Qwen3-Max").
_OBJECT_WINDOW = 70
_SUBJECT_WINDOW = 30
_FINETUNE_BASE_WINDOW = 60
# Base forms that are nouns when they follow the model ("the GPT-5 launch", "Llama 4 release").
_NOUN_FORMS = frozenset({"launch", "release", "debut", "drop", "rollout", "roll out", "unveil", "ship", "update"})
# "open-source" is an adjective ("tops open-source benchmarks") unless a modal makes it a verb.
_ADJECTIVE_FORMS = frozenset({"open-source", "open source", "opensource"})
_MODAL_BEFORE = re.compile(r"\b(?:to|will|would|could|may|might|should|must|can)\s*$", re.IGNORECASE)
# Between a release verb and its object: a new clause or a comparison starts, the object is gone.
_OBJECT_BREAKER = re.compile(
    r"(?:\b(?:after|as|amid|despite|following|while|because|since|but|than|over|against|vs\.?|versus|beats?|"
    r"rivals?|outperforms?|challenges?|takes? on|like|unlike|without|using|via|to|into|from|says|said|"
    r"beating|outperforming|surpass(?:es|ing)?|matching|topping|rival(?:l)?ing|and then)\b|[;:|?!()\[\]]| - )",
    re.IGNORECASE,
)
# Between a subject model and its verb only a clause break separates them ("K2.5 from Moonshot is out").
_SUBJECT_BREAKER = re.compile(
    r"(?:\b(?:after|as|amid|despite|following|while|because|since|but|than|vs\.?|versus|beats?|says|said)\b|"
    r"[;:|?!()\[\]]| - )",
    re.IGNORECASE,
)
# A model-like name the taxonomy does not know: a capitalized word (with -/. segments), optionally
# followed by a version or size: "Zamba2-7B", "Foo-2 70B", "InternLM3", "T1", "MiniCPM-V 2.6".
_INFERRED_MODEL = re.compile(
    r"(?<![\w.-])(?P<name>(?:[A-Z][A-Za-z0-9]*|[a-z]+[A-Z][A-Za-z0-9]*)(?:[-.][A-Za-z0-9]+)*"
    r"(?: (?:[A-Z][A-Za-z0-9]*|AI)(?=[ -][Vv]?\d))?(?:[ -](?:[Vv]?\d+(?:\.\d+)*[A-Za-z]?|\d+(?:\.\d+)?[BT]))*)(?![\w-])"
)
# "... T1 reasoning model", "... Kanana, its in-house language models": the name is a model.
_MODEL_NOUN_AFTER = re.compile(
    r"(?:,?\s+(?:a|an|its|the|their)\b)?(?:\s+[\w'-]+){0,6}?\s+(?:models?|LLMs?)\b", re.IGNORECASE
)
# "... Trainium2 instances", "... Mate 70 smartphone": hardware, not a model.
_HARDWARE_AFTER = re.compile(
    r"\s+(?:instances?|chips?|GPUs?|accelerators?|processors?|servers?|phones?|smartphones?|laptops?|PCs?|"
    r"tablets?|cars?|EVs?|SUVs?|sedans?|headsets?|glasses|consoles?|satellites?|rockets?|robots?|platform)\b",
    re.IGNORECASE,
)
# Suffixes of an inferred name that are attributes, not the name ("InternLM3-8B-Instruct").
_SIZE_OR_DATE = re.compile(r"^(?:\d+(?:\.\d+)?[BbMmTt]|[Aa]\d+[Bb]|\d{4,8})$")
_VARIANT_WORDS = frozenset({"instruct", "chat", "base", "thinking", "preview", "it", "hf"})
# Capitalized words that are not model names even when they carry a digit.
_NOT_MODELS = frozenset(
    {
        "series", "windows", "iphone", "ipad", "pixel", "galaxy", "model", "covid", "f-35", "q1", "q2", "q3", "q4",
        "h1", "h2", "fy", "ceo", "cto", "us", "uk", "eu", "ai", "gpu", "gpus", "api", "ces", "wwdc", "top",
        "version", "the", "its", "new", "with", "for", "and", "in", "on", "at", "by", "of", "a", "an", "it",
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
        "developer", "developers", "maker", "group", "the", "a", "an", "tech", "chatbot", "research", "researchers",
        "team", "open-source", "new", "little-known", "stealth", "chinese", "american", "french", "european", "us",
        "japanese", "korean", "indian", "german", "british", "israeli", "canadian", "emirati", "saudi", "exclusive",
        "breaking", "watch", "report", "update", "video", "analysis", "sources", "hacker", "hackers", "community",
        "user", "users", "student", "students", "engineer", "engineers", "enthusiasts", "volunteers",
    }
)
# A release by one of these is somebody else's, whoever made the model ("Developer releases ... Qwen").
_THIRD_PARTY_NOUNS = frozenset(
    {"developer", "developers", "researchers", "hacker", "hackers", "community", "user", "users", "student",
     "students", "engineer", "engineers", "enthusiasts", "volunteers", "startup", "start-up", "company", "firm"}
)
# The capitalized words closing a headline's subject: "Palo Alto-based Zyphra", "Shanghai AI Lab".
_INFERRED_ORG = re.compile(
    r"(?P<org>(?:[A-Z0-9][\w.&'-]*)(?:\s+(?:[A-Z0-9][\w.&'-]*|AI|Labs?|Research|of|for|and))*)\s*,?\s*$"
)
_LIST_GLUE = re.compile(r"[\s,&]*(?:and[\s,]*)?")
_CLAUSE_SEPS = (",", ";", ":", "!", "?", " - ", "|", "\uff0c", "\uff1b", "\uff1a", "\uff01", "\uff1f", "\u3002")
# Between models of one announcement: "o3 and o4-mini", "Qwen3-235B, Qwen3-30B".
_MODEL_LIST_GLUE = re.compile(r"[\s,&/\u3001\u548c\u4e0e\u53ca]*(?:(?:and|und|et|e|y)\b[\s,]*)?")
# A lab's own headline that names its new model without a verb: "Introducing Claude 4", "Hello
# GPT-4o", "Qwen3: Think Deeper", "Kimi K2.5 - Open Agentic Intelligence", "GPT-4.1 in the API".
_OWN_HEADLINE_OPENER = re.compile(
    r"\s*(?:(?:introducing|announcing|meet|hello|say hello to|welcome|unveiling|presenting|releasing|launching|"
    r"now available|available now|new)\b[\s:,-]*|"
    r"(?:we(?:'re| are| have|'ve)? )?(?:releas|launch|introduc|open[- ]?sourc)\w*[\s:,-]+|"
    r"推出|正式发布|发布|开源)?(?:the |our |new |全新)*",
    re.IGNORECASE,
)
# After the model in such a headline: words saying the post is about it, not its release.
_OWN_HEADLINE_NOT_RELEASE = re.compile(
    r"\s+(?:(?:is )?now (?:supports?|available on|on)|supports?|can now|gets|adds|on|comes to|for|with|vs\.?|"
    r"versus|and the|powers|powered)\b|"
    r"\s*(?:\S+\s+){0,4}?(?:system cards?|model cards?|safety|evaluations?|evals?|red[- ]team\w*|research|paper|report|"
    r"case stud\w+|customers?|stories|how\b|tips|guide|tutorial|cookbook|prompt\w*|webinar|podcast|recap|"
    r"lessons|behind the scenes|benchmark\w*|addendum|usage policy|pricing|deprecat\w+|retir\w+|update\w*|"
    r"技术报告|论文|评测|更新)",
    re.IGNORECASE,
)
_OWN_HEADLINE_PHRASE = Phrase("cue", "release", re.compile("(?:)"), ref="own headline")
# "Qwen3-Max-Thinking, launched on Tuesday, ...": a participle after the name is background.
_PARTICIPLE_GAP = re.compile(r"\s*,\s*")
# "released the text-only model", "launched it": the lede points back at the headline's model.
_REFERS_BACK = re.compile(r"\s+(?:it\b|(?:the|its|this|a) (?:[\w-]+ ){0,3}?(?:models?|LLM|system)\b)", re.IGNORECASE)
# "... is now available on Amazon Bedrock", "... comes to Microsoft Copilot".
_ON_PLATFORM = re.compile(
    r"(?:\s+(?:now|today|globally|generally))*\s+(?:on|in|via|through|to|inside|for)\s+(?:the\s+)?", re.IGNORECASE
)


@dataclass
class Release:
    """A release found in a headline (or the lede's first sentence) and what speaks against it."""

    verb: Hit
    model: Model
    subject: Org | None
    span: tuple[int, int]
    blockers: list[str] = field(default_factory=list)
    kind: str = "release"  # "release", "integration", "derivative", "price", "paper", "product"

    @property
    def own_headline(self) -> bool:
        """Read from a lab's own headline naming its model, with no release verb ("Hello GPT-4o")."""
        return self.verb.phrase is _OWN_HEADLINE_PHRASE


def find_release(r: Reading, rs: RuleSet) -> Release | None:
    """The headline's release, else the lede's first sentence's when the headline names its lab or model."""
    release = _release_in_span(r, rs, 0, r.title_len)
    if release is None:
        release = _own_headline(r)
    if release is not None or not r.summary:
        return release
    release = _release_in_span(r, rs, r.title_len + 1, r.lede_end) or _lede_refers_back(r, rs)
    if release is None:
        return None
    model = release.model
    in_title = {m.name for m in r.models if r.in_title(m.start)} | {
        o.lab.key for o in r.orgs if r.in_title(o.start) and o.lab is not None
    }
    if model.name in in_title or (model.lab is not None and model.lab.key in in_title):
        return release
    return None  # the lede mentions a release, but the story is about something else


def _lede_refers_back(r: Reading, rs: RuleSet) -> Release | None:
    """Headline names the model, lede says "<Lab> released the model on Friday": that release."""
    title_models = [m for m in r.models if r.in_title(m.start) and m.specific and not m.product]
    if not title_models:
        return None
    model = title_models[0]
    start, end = r.title_len + 1, r.lede_end
    for verb in hits_in(r.cues.get("release", []), start, end):
        if not _REFERS_BACK.match(r.text, verb.end):
            continue
        clause = _clause_start(r.text, start, verb.start)
        subject = _subject(r, rs, clause, verb.start, model)
        if subject is None or subject.lab is model.lab:
            return Release(verb, model, subject, (start, end))
    return None


def _release_in_span(r: Reading, rs: RuleSet, start: int, end: int) -> Release | None:
    text = r.text
    for verb in hits_in(r.cues.get("release", []), start, end):
        clause = _clause_start(text, start, verb.start)
        verb_word = verb.text.lower()
        if hits_in(r.cues.get("subordinate", []), clause, verb.start) and verb_word.split()[0].endswith("ed"):
            continue  # "after DeepSeek released R1, ...": background ("shares jump after it debuts X" is news)
        if verb_word in _ADJECTIVE_FORMS and not _MODAL_BEFORE.search(text, clause, verb.start):
            continue
        obj = _object_after(r, verb, end)
        if is_cjk(verb_word[0]) and (obj is None or obj.product):
            # "OpenAIが「GPT-5」を発表", "DeepSeek-V4-Pro 正式版上线": in Chinese, Japanese and Korean
            # the model usually comes before the verb; a product after it is the story's detail.
            obj = _subject_model(r, verb, start, verb_word) or obj
        if obj is not None and not obj.specific and obj.variant and hits_in(r.cues.get("new_model", []), start, end):
            obj.specific = True  # "releases EXAONE Deep, a reasoning model": family + variant names a model
        if obj is not None and (obj.specific or obj.product):
            model = _best_listed(r, obj, end)
        else:
            model = _subject_model(r, verb, start, verb_word) or _infer_model(r, verb, end) or obj
        if model is None:
            continue
        participle = verb_word.endswith("ed") and model.end <= verb.start
        if participle and _PARTICIPLE_GAP.fullmatch(text, model.end, verb.start):
            continue  # "Qwen3-Max, launched on Tuesday, runs on ...": background to another story
        if verb_word in _NOUN_FORMS and (model.start < verb.start or text.startswith(" of ", verb.end)):
            continue  # "the GPT-5 launch", "the release of GPT-5"
        return Release(verb, model, _subject(r, rs, clause, verb.start, model), (start, end))
    return None


def _best_listed(r: Reading, first: Model, end: int) -> Model:
    """Of models listed together ("o3 and o4-mini"), the one of the best tier (the first on ties)."""
    best, cursor = first, first.end
    for model in r.models:
        if model.start < cursor or model.start >= end:
            continue
        if not _MODEL_LIST_GLUE.fullmatch(r.text, cursor, model.start):
            break
        cursor = model.end
        if model.specific and not model.product and TIERS.index(model.tier) < TIERS.index(best.tier):
            best = model
    return best


def _own_headline(r: Reading) -> Release | None:
    """In a lab's own feed, a headline that names the lab's new model is its release announcement.

    "Introducing Claude 4", "Hello GPT-4o", "Qwen3: Think Deeper, Act Faster": lab feeds rarely use
    a release verb, and the lab is known only from whose feed it is. A model of another lab, or a
    headline about the model's system card, safety or pricing, is not such an announcement.
    """
    lab = r.source.lab
    if lab is None:
        return None
    text = r.text
    opener = _OWN_HEADLINE_OPENER.match(text, 0, r.title_len)
    pos = opener.end() if opener else 0
    model = next((m for m in r.models if m.start >= pos), None)
    if model is None or model.start != pos or model.product or not model.specific:
        return None
    if model.lab is not None and model.lab is not lab:
        return None
    if _OWN_HEADLINE_NOT_RELEASE.match(text, model.end, r.title_len):
        return None
    model = _best_listed(r, model, r.title_len)
    cue_end = opener.end() if opener and opener.end() > 0 else model.start
    verb = Hit(_OWN_HEADLINE_PHRASE, 0, cue_end, _OWN_HEADLINE_PHRASE.regex.match(text))
    subject = Org(lab, lab.name, 0, 0, "source: the lab's own feed")
    return Release(verb, model, subject, (0, r.title_len))


def _clause_start(text: str, span_start: int, pos: int) -> int:
    """Start of the clause holding ``pos``: after the last , ; : ! ? | or dash before it."""
    cut = max(text.rfind(sep, span_start, pos) for sep in _CLAUSE_SEPS)
    return span_start if cut < 0 else cut + 1


def _object_after(r: Reading, verb: Hit, end: int) -> Model | None:
    limit = min(end, verb.end + _OBJECT_WINDOW)
    first_word_end = verb.start + len(verb.text.split()[0])
    for model in r.models:
        if verb.start < model.start < limit:
            if _OBJECT_BREAKER.search(r.text, first_word_end, model.start):
                return None
            return model
    return None


def _subject_model(r: Reading, verb: Hit, start: int, verb_word: str) -> Model | None:
    """'Kimi K2.5 launches', 'Qwen3-Max is now generally available': a specific model before the verb.

    Commas do not separate them: an apposition may sit in between ("Gemini 2.5 Flash Image, aka Nano
    Banana, is now available").
    """
    if verb_word in _NOUN_FORMS:
        return None
    best = None
    for model in r.models:
        if (
            model.specific
            and start <= model.start
            and model.end <= verb.start
            and verb.start - model.end <= _SUBJECT_WINDOW
            and not _SUBJECT_BREAKER.search(r.text, model.end, verb.start)
        ):
            best = model
    return best


def _infer_model(r: Reading, verb: Hit, end: int) -> Model | None:
    """A model name the taxonomy lacks, right after the verb ("releases Zamba2-7B, a small model")."""
    text = r.text
    limit = min(end, verb.end + _OBJECT_WINDOW)
    pos = verb.end
    # A versioned name counts when the story talks about models: it says "model", it fine-tunes
    # something (only models get fine-tuned), or it open-sources something in an AI story.
    model_talk = (
        bool(hits_in(r.cues.get("new_model", []), 0, r.lede_end))
        or bool(hits_in(r.cues.get("finetune", []), 0, r.lede_end))
        or (r.ai_context and verb.text.lower().startswith("open"))
    )
    while pos < limit:
        m = _INFERRED_MODEL.search(text, pos, limit)
        if m is None or _OBJECT_BREAKER.search(text, verb.end, m.start()):
            return None
        pos = m.end()
        name = m.group("name")
        words = name.split()
        if name.lower() in _NOT_MODELS or words[0].lower() in _NOT_MODELS or _MONTHS.match(words[0]):
            continue
        if any(m.start() < x.end and x.start < m.end() for x in (*r.models, *r.orgs, *r.countries, *r.adjectives)):
            continue  # a known name is not ours to infer
        if _HARDWARE_AFTER.match(text, m.end()):
            continue
        named_as_model = bool(_MODEL_NOUN_AFTER.match(text, m.end()))
        if not named_as_model and not (model_talk and any(ch.isdigit() for ch in name)):
            continue
        return Model(None, None, _strip_suffixes(name), m.start(), m.end())
    return None


def _strip_suffixes(name: str) -> str:
    """"InternLM3-8B-Instruct" -> "InternLM3": sizes, dates and variants are attributes, not the name."""
    tokens = re.split(r"([- ])", name)
    while len(tokens) > 2 and (_SIZE_OR_DATE.match(tokens[-1]) or tokens[-1].lower() in _VARIANT_WORDS):
        tokens = tokens[:-2]
    return "".join(tokens)



def is_modifier(r: Reading, rs: RuleSet, org: Org, clause_start: int) -> bool:
    """'Alibaba-backed Moonshot', 'backed by Alibaba', 'OpenAI rival Anthropic': not the subject."""
    if rs.backer_after is not None and rs.backer_after.match(r.text, org.end):
        return True
    before = r.text[max(clause_start, org.start - 30) : org.start]
    return rs.backer_before is not None and bool(rs.backer_before.search(before))


def _subject(r: Reading, rs: RuleSet, clause: int, verb_start: int, model: Model) -> Org | None:
    """Who releases: the model's own lab if named before the verb, else the nearest company there."""
    before = [
        o
        for o in r.orgs
        if clause <= o.start < verb_start and not (model.start <= o.start < model.end)
        and not is_modifier(r, rs, o, clause)
    ]
    if model.lab is not None:
        own = [o for o in before if o.lab is model.lab]
        if own:
            return own[-1]
        # "OpenAI, Oracle and SoftBank announce Stargate": the comma lists co-subjects, it starts no clause.
        listed = [
            o for o in r.orgs if o.lab is model.lab and o.start < clause and _only_names_between(r, o.end, verb_start)
        ]
        if listed:
            return listed[-1]
    if before:
        return before[-1]
    own = r.source.lab
    if own is not None and (model.lab is None or model.lab is own):
        return Org(own, own.name, clause, clause, "source: the lab's own feed")  # "We're releasing ..."
    if model.lab is not None and model.start < verb_start:
        return None
    return infer_org(r, clause, verb_start)


def _only_names_between(r: Reading, start: int, end: int) -> bool:
    """Nothing but company names, commas and "and" between ``start`` and ``end``."""
    rest, cursor = [], start
    for org in r.orgs:
        if start <= org.start and org.end <= end:
            rest.append(r.text[cursor : org.start])
            cursor = org.end
    rest.append(r.text[cursor:end])
    return all(_LIST_GLUE.fullmatch(part) for part in rest)


def infer_org(r: Reading, clause: int, verb_start: int) -> Org | None:
    """An unknown company from the words before the verb: "Paris-based startup Kyutai releases"."""
    prefix = r.text[clause:verb_start].rstrip()
    m = _INFERRED_ORG.search(prefix)
    if m is None:
        return None
    words = m.group("org").split()
    cut = 0
    for i, word in enumerate(words):
        # "Palo Alto-based Zyphra", "UAE's Foo", a headline opening "Startup Foo AI ...": not the name.
        if word.endswith(("-based", "'s")) or (i == 0 and word.lower() in _DESCRIPTORS):
            cut = i + 1
    words = words[cut:]
    while words and words[-1].lower() in ("of", "for", "and"):
        words.pop()
    if not words:
        return None
    name = " ".join(words).removesuffix("'s")
    if _MONTHS.match(words[0]) or name.lower() in _NOT_MODELS or any(h.text == name for h in r.countries):
        return None
    start = clause + prefix.rfind(name)
    return Org(None, name, start, start + len(name), "unknown org inferred from text")


def assess_release(r: Reading, rel: Release) -> None:
    """Record why a found release is not a flagship (no blockers: it is one), and what it is instead."""
    text = r.text
    span_start, span_end = rel.span
    verb, model, subject = rel.verb, rel.model, rel.subject
    clause = _clause_start(text, span_start, verb.start)
    owner = model.lab

    def fired(group: str, start: int, end: int) -> Hit | None:
        found = hits_in(r.cues.get(group, []), start, end)
        return found[0] if found else None

    def block(kind: str | None, reason: str) -> None:
        rel.blockers.append(reason)
        if kind is not None and rel.kind == "release":
            rel.kind = kind

    hedge = fired("hedge", clause, verb.start) or fired("hedge_anywhere", span_start, span_end)
    if hedge is not None:
        block(None, f"hedge: '{hedge.text}'")
    past = fired("past", span_start, span_end)
    if past is not None:
        block(None, f"past release: '{past.text}'")
    minor = fired("minor", span_start, span_end)
    if minor is not None:
        block(None, f"minor update: '{minor.text}'")
    small = fired("small_model", 0, r.title_len) or fired("small_model", span_start, span_end)
    if small is not None:
        block(None, f"small model: '{small.text}'")
    paper = fired("paper", span_start, span_end)
    if paper is not None:
        block("paper", f"paper, not a model: '{paper.text}'")
    price = fired("price", clause, verb.start)
    if price is not None:
        block("price", f"pricing news: '{price.text}'")
    if model.snapshot is not None:
        block(None, f"dated checkpoint of an existing model: {model.name} {model.snapshot}")
    if model.product:  # a chip, an app, a venture: what it is and who makes it is all there is
        block("product", f"product, not a model: {model.name}")
        return
    derivative = next(iter(hits_in(r.cues.get("finetune", []), 0, r.lede_end)), None)
    platform = _platform_after(r, verb, owner)
    if platform is not None and (subject is None or subject.lab is owner):
        rel.subject = subject = platform  # "Claude 3 Haiku is now available on Amazon Bedrock": AWS acts
    if owner is not None and subject is not None and subject.lab is not owner:
        if derivative is not None:
            block("derivative", f"derivative by {subject.name}: '{derivative.text}' {owner.name}'s {model.name}")
        elif subject.lab is not None:
            block("integration", f"integration: {subject.name} offers {owner.name}'s {model.name}")
        else:
            block("derivative", f"third-party release of {owner.name}'s {model.name} by {subject.name}")
    elif owner is not None and subject is None and model.start > verb.start:
        words = {w.lower() for w in re.findall(r"[\w-]+", text[clause:verb.start])}
        if words & _THIRD_PARTY_NOUNS:
            block("derivative", f"released by someone other than {owner.name}")
    if rel.kind == "release" and derivative is not None:
        base = _foreign_base(r, owner, subject)
        if base is not None or model.rule is None:
            block("derivative", f"derivative: '{derivative.text}' {base.name if base else 'another model'}")
    if not model.specific:
        block("product", f"no specific model named (family {model.name} only)")
    tier = model.tier if model.rule is not None else _inferred_tier(r, model)
    if tier not in FLAGSHIP_TIERS:
        block(None, f"tier: {model.name} is a {tier} model")


def _inferred_tier(r: Reading, model: Model) -> str:
    """The tier of a model name the taxonomy lacks, from its words ("Foo-2-mini" is small)."""
    words = (w.lower() for w in re.split(r"[\s-]+", r.text[model.start : model.end]) if w)
    tiers = ["flagship", *(r.tier_words.get(w, "flagship") for w in words)]
    return max(tiers, key=TIERS.index)


def _platform_after(r: Reading, verb: Hit, owner: Lab | None) -> Org | None:
    """Another company's platform the model becomes available on ("... on Amazon Bedrock")."""
    if owner is None:
        return None
    m = _ON_PLATFORM.match(r.text, verb.end)
    if m is None:
        return None
    return next((o for o in r.orgs if o.start == m.end() and o.lab is not None and o.lab is not owner), None)


def _foreign_base(r: Reading, owner: Lab | None, subject: Org | None) -> Model | None:
    """The other lab's model a fine-tune cue points at ("a fine-tuned Llama 3.1")."""
    for cue in hits_in(r.cues.get("finetune", []), 0, r.lede_end):
        for m in r.models:
            if (
                cue.end <= m.start <= cue.end + _FINETUNE_BASE_WINDOW
                and m.lab is not None
                and m.lab is not owner
                and (subject is None or subject.lab is not m.lab)
            ):
                return m
    return None
