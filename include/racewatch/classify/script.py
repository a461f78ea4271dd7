"""Word boundaries that work in running Chinese, Japanese and Korean text.

Latin names are whole words ("MAI" is not in "maiden"), but Chinese is written without spaces and
Korean glues particles to names: in "阿里发布Qwen3-Max了" and "네이버가" no ``\\b`` or ``(?!\\w)``
fires, because Python counts CJK characters as word characters. So a boundary here is judged
against *Latin-script* word characters only: a CJK character next to a name never glues onto it,
and a phrase written in CJK may start and end anywhere.
"""

from __future__ import annotations

__all__ = ["CJK", "END", "START", "is_cjk", "is_word_char"]

#: Hiragana, katakana, CJK ideographs (with extension A and compatibility), Hangul syllables and jamo.
CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# A word character that is not CJK: letters and digits of space-separated scripts, and "_".
_WORD = rf"[^\W{CJK}]"
#: End of a whole word: the match ended in CJK, or no Latin-script word character follows.
END = rf"(?:(?<=[{CJK}])|(?!{_WORD}))"
#: Start of a whole word: no Latin-script word character (or "." or "-", inside a version) before.
START = rf"(?<![.\-])(?<!{_WORD})"


def is_cjk(ch: str) -> bool:
    """One character of a CJK script (the ranges of :data:`CJK`)."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF
        or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xF900 <= o <= 0xFAFF
    )


def is_word_char(ch: str) -> bool:
    """A letter or digit that glues onto a Latin-script word (CJK characters never do)."""
    return ch.isalnum() and not is_cjk(ch)
