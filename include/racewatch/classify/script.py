"""Word boundaries that work in running Chinese, Japanese and Korean text.

Latin names are whole words ("MAI" is not in "maiden"), but Chinese is written without spaces and
Korean glues particles to names: in "阿里发布Qwen3-Max了" and "네이버가" no ``\\b`` or ``(?!\\w)``
fires, because Python counts CJK characters as word characters. So Latin-script phrases are matched
against a view of the text in which CJK characters are not word characters (same positions), and a
phrase written in CJK may start and end anywhere in the original text. (A CJK character class inside
each regex would do the same, but costs milliseconds to compile per regex, seconds per taxonomy.)
"""

from __future__ import annotations

import re

__all__ = ["CJK", "END", "START", "ends_in_cjk", "has_cjk", "is_cjk", "latin_view"]

#: Hiragana, katakana, CJK ideographs (with extension A and compatibility), Hangul syllables and jamo.
CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
#: Word boundaries of phrase regexes: the usual ``(?!\w)`` / ``(?<![\w.-])``, cheap to compile. They
#: are matched against :func:`latin_view` of the text, where no CJK character is a word character.
END = r"(?!\w)"
START = r"(?<![\w.-])"
_CJK_RUN = re.compile(f"[{CJK}]+")
#: What a CJK character becomes in the Latin view: not a word character, not whitespace.
_BLANK = "\u2060"


def latin_view(text: str) -> str:
    """``text`` with every CJK character replaced by a non-word character, positions unchanged.

    Latin-script names and cues are matched here, so "发布Qwen3了" holds a whole-word "Qwen3"; phrases
    written in CJK are matched against the original text, where they need no boundary at all.
    """
    if not _CJK_RUN.search(text):
        return text
    return _CJK_RUN.sub(lambda m: _BLANK * len(m.group()), text)


def ends_in_cjk(pattern: str) -> bool:
    """Whether a phrase regex ends in a CJK character (its last literal, or, for a pattern ending in a
    group or class, when it is written in CJK only), so that no word boundary follows it."""
    tail = pattern.rstrip(")]*+?}")
    if tail and is_cjk(tail[-1]):
        return True
    return has_cjk(pattern) and not any("a" <= ch.lower() <= "z" for ch in pattern.replace("\\", ""))


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any CJK character."""
    return _CJK_RUN.search(text) is not None


def is_cjk(ch: str) -> bool:
    """One character of a CJK script (the ranges of :data:`CJK`)."""
    o = ord(ch)
    if o < 0x1100:  # Latin, Greek, Cyrillic...: the usual case, answered at once
        return False
    return (
        0x4E00 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF
        or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xF900 <= o <= 0xFAFF
    )
