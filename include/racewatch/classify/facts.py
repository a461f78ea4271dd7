"""Facts stated in a release story: parameter count, open weights, and the headline claim.

These are grammar rather than knowledge (how English writes "1 trillion parameters" does not change
when a new lab appears), so the patterns live here, compiled once. Each extractor is conservative:
``None`` means "the story does not say", which the ledger treats as "ask the next outlet".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Parameters", "extract_claim", "extract_open_weights", "extract_parameters", "format_count"]


@dataclass(frozen=True)
class Parameters:
    """A parameter count: ``label`` as racewatch writes it ("1T", "480B-A35B"), ``billions`` total."""

    label: str
    billions: float


_UNITS = {"trillion": 1000.0, "t": 1000.0, "billion": 1.0, "b": 1.0, "million": 0.001, "m": 0.001}
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|US\$|RMB|CNY|USD)\s?$", re.IGNORECASE)
_NOT_PARAMS_AFTER = re.compile(
    r"\s?(?:tokens?|yuan|dollars?|won|yen|euros?|usd|rmb|in (?:funding|revenue|sales)|valuation|users|"
    r"downloads|images|hours|words)\b",
    re.IGNORECASE,
)

# "1 trillion parameters", "over 1 trillion total parameters", "671-billion-parameter", "a trillion-parameter"
_WORD_PARAMS = re.compile(
    r"(?<![\w.])(?P<num>\d+(?:\.\d+)?|a|one)[\s-]+(?P<unit>trillion|billion|million)"
    r"(?:[\s-]+(?:total|active|activated))?[\s-]+param(?:eter)?s?\b",
    re.IGNORECASE,
)
_WORD_ACTIVE = re.compile(
    r"(?<![\w.])(?P<num>\d+(?:\.\d+)?)[\s-]*(?P<unit>billion|B)\s+(?:are\s+)?(?:active|activated)\b", re.IGNORECASE
)
# "235B", "480B-A35B", "Qwen3-235B-A22B", "gpt-oss-120b", "8x22B", "1T"
_TOKEN_PARAMS = re.compile(
    r"(?<![\w.])(?:(?P<experts>\d+)x)?(?P<num>\d+(?:\.\d+)?)(?P<unit>[BTb])(?:-[Aa](?P<active>\d+(?:\.\d+)?)[Bb])?(?!\w)"
)


def format_count(billions: float) -> str:
    """Write a count in billions the way model cards do: 1000 -> "1T", 235 -> "235B", 1.8T, 0.5B."""
    if billions >= 1000:
        value, unit = billions / 1000, "T"
    else:
        value, unit = billions, "B"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def _number(num: str) -> float:
    return 1.0 if num.lower() in ("a", "one") else float(num)


def extract_parameters(text: str, skip: Sequence[tuple[int, int]] = ()) -> Parameters | None:
    """The largest total parameter count the text states (the flagship among the sizes listed).

    Money ("$235B"), token counts ("15T tokens") and other counted things are not parameters, nor
    are sizes inside the ``skip`` spans (other models' names: "beats Llama 3 70B").
    """
    best: Parameters | None = None
    for m in _WORD_PARAMS.finditer(text):
        if any(start <= m.start() < end for start, end in skip):
            continue
        total = _number(m.group("num")) * _UNITS[m.group("unit").lower()]
        label = format_count(total)
        active = _WORD_ACTIVE.search(text, m.end(), m.end() + 80)
        if active:
            label += "-A" + format_count(float(active.group("num")))
        if best is None or total > best.billions:
            best = Parameters(label, total)
    for m in _TOKEN_PARAMS.finditer(text):
        if any(start <= m.start() < end for start, end in skip):
            continue
        if _CURRENCY_BEFORE.search(text, max(0, m.start() - 4), m.start()):
            continue
        if _NOT_PARAMS_AFTER.match(text, m.end()):
            continue
        unit = m.group("unit")
        if unit == "b" and text[m.start() - 1 : m.start()] != "-":
            continue  # lowercase sizes only inside model ids ("gpt-oss-120b"), not in prose
        each = float(m.group("num")) * _UNITS[unit.lower()]
        experts = m.group("experts")
        total = each * int(experts) if experts else each
        label = f"{experts}x{m.group('num')}B" if experts else f"{m.group('num')}{unit.upper()}"
        if m.group("active"):
            label += f"-A{m.group('active')}B"
        if best is None or total > best.billions:
            best = Parameters(label, total)
    return best


_OPEN_POSITIVE = re.compile(
    r"\b(?:open[- ]?sourc(?:e|es|ed|ing)|open[- ]weights?|open models?|weights (?:are |were )?(?:now )?"
    r"(?:available|released|published|on Hugging Face|downloadable)|(?:on|to|via) Hugging Face|"
    r"Apache[- ]2(?:\.0)?|MIT licen[cs]e|permissive licen[cs]e|freely downloadable|downloadable weights)",
    re.IGNORECASE,
)
_OPEN_COMPARISON = re.compile(
    r"\s*(?:AI\s+)?(?:models?\s+)?(?:rivals?|competitors?|alternatives?|peers|community|models? (?:like|such as)|"
    r"counterparts)\b",
    re.IGNORECASE,
)
_OPEN_NEGATIVE = re.compile(
    r"\b(?:closed[- ](?:source|weights?|model)|proprietary|not open[- ]?sourc\w*|API[- ]only|"
    r"(?:will not|won't|does not|doesn't|did not|didn't|not) (?:release|publish|open)(?: its| the)? weights|"
    r"weights (?:remain|stay) (?:private|closed|secret)|only (?:through|via) (?:its|an) API)",
    re.IGNORECASE,
)


def extract_open_weights(text: str) -> bool | None:
    """True when the story says the weights are out, False when it says they are not, else None.

    An explicit "proprietary" or "closed" wins over an "open-source" that may describe a rival.
    """
    if _OPEN_NEGATIVE.search(text):
        return False
    for m in _OPEN_POSITIVE.finditer(text):
        if not _OPEN_COMPARISON.match(text, m.end()):
            return True
    return None


_CLAIMS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bworld'?s (?:most|best|largest|first|fastest|smartest|strongest|top|leading)\b[\w\s-]{0,40}?"
        r"\b(?:models?|AI|LLMs?|systems?|chatbots?|agents?)\b",
        r"\b(?:most|best) (?:powerful|capable|advanced|intelligent) (?:open[- ](?:source|weights?) )?(?:AI )?"
        r"(?:models?|LLMs?)(?: (?:yet|ever|in the world|to date))?",
        r"\b(?:best|strongest|top) open[- ](?:source|weights?) (?:AI )?(?:models?|LLMs?)\b",
        r"\btop(?:s|ped)? (?:the )?[\w\s.'-]{0,30}?\b(?:leaderboards?|LMArena|Arena|charts?|rankings?)\b",
        r"\b(?:new )?state[- ]of[- ]the[- ]art (?:results? )?(?:on|in) [\w.'-]+(?: [A-Z][\w.'-]*){0,2}",
        r"\b(?:ranks?|ranked) (?:first|No\. ?1|number one|#1) (?:on|in) [\w.'-]+(?: [A-Z][\w.'-]*){0,2}",
        r"\b(?:beats?|beating|outperforms?|outperforming|surpass(?:es|ing)?|tops) "
        r"(?:(?:OpenAI|Google|Anthropic|Meta|DeepSeek)'s )?[A-Z][\w.'-]*\d[\w.'-]*(?: [A-Z0-9][\w.'-]*){0,2}",
    )
)


def extract_claim(title: str, summary: str) -> str | None:
    """The headline claim ("world's most powerful open-source model"), title first, trimmed."""
    for text in (title, summary):
        for rx in _CLAIMS:
            m = rx.search(text)
            if m:
                claim = m.group(0).strip(" ,.;:-")
                return claim[4:] if claim.lower().startswith("the ") else claim
    return None
