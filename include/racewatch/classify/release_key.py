"""Canonical model names and release keys.

A release key identifies one model release across every outlet that covers it, so Slack hears about
it once: "Kimi K2.5", "Moonshot's Kimi-K2.5" and "K2.5 from Moonshot AI" must all give
``moonshot-ai/kimi-k2.5``. The key is ``<lab key>/<slug of the canonical model name>``; the
canonical name is the family name, the version and the name parts the taxonomy marks as the model's
own ("Qwen3-Max"), never the attribute variants ("Thinking", "Instruct", "Pro"), which stories
mention inconsistently.
"""

from __future__ import annotations

from collections.abc import Sequence

from racewatch.classify.taxonomy import slugify

__all__ = ["canonical_model_name", "release_key"]


def canonical_model_name(
    family: str,
    *,
    version: str | None,
    pre_parts: Sequence[str] = (),
    parts: Sequence[str] = (),
    sep: str = " ",
    part_sep: str = "-",
) -> str:
    """"Qwen" + "3" + ["Max"] -> "Qwen3-Max"; "Mistral" + ["Large"] + "2" -> "Mistral Large 2"."""
    head = [family, *pre_parts]
    if version:
        head.append(version)
    name = sep.join(head) if sep else "".join(head)
    return part_sep.join([name, *parts]) if parts else name


def release_key(lab_key: str, model_name: str) -> str:
    """``moonshot-ai`` + "Kimi K2.5" -> ``moonshot-ai/kimi-k2.5`` (alphabet ``[a-z0-9.-/]``)."""
    return f"{lab_key}/{slugify(model_name)}"
