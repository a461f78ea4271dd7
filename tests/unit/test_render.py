"""Block Kit rendering: exact payloads, escaping, links, Slack's size limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from racewatch.alerts.render import (
    ELLIPSIS,
    country_flag,
    escape_mrkdwn,
    format_utc,
    limit_blocks,
    mrkdwn_link,
    render_followup,
    render_release_root,
    safe_link,
    truncate,
    truncate_mrkdwn,
)

QWEN = {
    "release_key": "alibaba/qwen3-max-thinking",
    "org": "Alibaba",
    "model": "Qwen3-Max-Thinking",
    "country": "CN",
    "parameters": "1T",
    "open_weights": False,
    "claim": "Rivals GPT-5.2 and Gemini 3 Pro on reasoning benchmarks",
    "title": "Alibaba launches Qwen3-Max-Thinking, its most capable reasoning model",
    "url": "https://www.reuters.com/technology/alibaba-launches-qwen3-max-thinking-2026-01-26/",
    "source": "Reuters",
    "first_seen_at": datetime(2026, 1, 26, 14, 5, tzinfo=UTC),
    "reasons": ["org:Alibaba", "model:Qwen3-Max-Thinking", "release verb: launches", "flagship: Max"],
    "outlets": 1,
}

QWEN_EXPECTED = {
    "text": (
        "New model release: Qwen3-Max-Thinking by Alibaba (CN) — "
        "Alibaba launches Qwen3-Max-Thinking, its most capable reasoning model"
    ),
    "blocks": [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "Qwen3-Max-Thinking by Alibaba", "emoji": True},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "*<https://www.reuters.com/technology/alibaba-launches-qwen3-max-thinking-2026-01-26/"
                    "|Alibaba launches Qwen3-Max-Thinking, its most capable reasoning model>* — Reuters\n"
                    "> Rivals GPT-5.2 and Gemini 3 Pro on reasoning benchmarks"
                ),
            },
            "fields": [
                {"type": "mrkdwn", "text": "*Country*\n🇨🇳 CN"},
                {"type": "mrkdwn", "text": "*Parameters*\n1T"},
                {"type": "mrkdwn", "text": "*Open weights*\nNo"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        "First seen <!date^1769436300^{date_short_pretty} at {time}|2026-01-26 14:05 UTC>"
                        " · 1 outlet · `alibaba/qwen3-max-thinking`"
                    ),
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Why: org:Alibaba · model:Qwen3-Max-Thinking · release verb: launches · flagship: Max",
                }
            ],
        },
    ],
}

KIMI = {
    "release_key": "moonshot-ai/kimi-k2.5",
    "org": "Moonshot AI",
    "model": "Kimi K2.5",
    "country": "cn",  # normalized
    "parameters": "1T (32B active)",
    "open_weights": True,
    "claim": "Open-weight multimodal agent model; Agent Swarm runs up to 100 sub-agents",
    "title": "Moonshot AI releases Kimi K2.5 & an 'agent swarm' <beta>",
    "url": "https://www.scmp.com/tech/big-tech/article/3340917/moonshot-ai-releases-kimi-k25?utm=rss&x=1",
    "source": "South China Morning Post",
    "first_seen_at": "2026-01-27T03:30:00Z",
    "reasons": ["org:Moonshot AI", "model:Kimi K2.5", "open weights on Hugging Face"],
    "outlets": 3,
}

KIMI_EXPECTED = {
    "text": (
        "New model release: Kimi K2.5 by Moonshot AI (CN) — "
        "Moonshot AI releases Kimi K2.5 &amp; an 'agent swarm' &lt;beta&gt;"
    ),
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Kimi K2.5 by Moonshot AI", "emoji": True}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "*<https://www.scmp.com/tech/big-tech/article/3340917/moonshot-ai-releases-kimi-k25"
                    "?utm=rss&amp;x=1|Moonshot AI releases Kimi K2.5 &amp; an 'agent swarm' &lt;beta&gt;>*"
                    " — South China Morning Post\n"
                    "> Open-weight multimodal agent model; Agent Swarm runs up to 100 sub-agents"
                ),
            },
            "fields": [
                {"type": "mrkdwn", "text": "*Country*\n🇨🇳 CN"},
                {"type": "mrkdwn", "text": "*Parameters*\n1T (32B active)"},
                {"type": "mrkdwn", "text": "*Open weights*\nYes"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        "First seen <!date^1769484600^{date_short_pretty} at {time}|2026-01-27 03:30 UTC>"
                        " · 3 outlets · `moonshot-ai/kimi-k2.5`"
                    ),
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Why: org:Moonshot AI · model:Kimi K2.5 · open weights on Hugging Face",
                }
            ],
        },
    ],
}


def _all_text(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------------------
# exact payloads


def test_qwen_release_root_exact_payload():
    assert render_release_root(QWEN) == QWEN_EXPECTED


def test_kimi_release_root_exact_payload():
    assert render_release_root(KIMI) == KIMI_EXPECTED


def test_render_is_deterministic_and_json_serializable():
    first = render_release_root(QWEN)
    assert render_release_root(dict(QWEN)) == first
    assert json.loads(json.dumps(first)) == first


def test_first_seen_accepts_equivalent_datetime_and_iso_forms():
    as_dt = render_release_root({**KIMI, "first_seen_at": datetime(2026, 1, 27, 3, 30, tzinfo=UTC)})
    as_offset = render_release_root(
        {**KIMI, "first_seen_at": datetime(2026, 1, 27, 11, 30, tzinfo=timezone(timedelta(hours=8)))}
    )
    as_naive = render_release_root({**KIMI, "first_seen_at": "2026-01-27T03:30:00"})
    assert as_dt == as_offset == as_naive == KIMI_EXPECTED


def test_update_payload_only_changes_the_outlet_count():
    again = render_release_root({**QWEN, "outlets": 4})
    assert again["blocks"][2]["elements"][0]["text"].endswith(" · 4 outlets · `alibaba/qwen3-max-thinking`")
    assert again["blocks"][:2] == QWEN_EXPECTED["blocks"][:2]
    assert again["blocks"][3:] == QWEN_EXPECTED["blocks"][3:]


def test_minimal_release_renders_without_optional_fields():
    payload = render_release_root({"release_key": "openai/gpt-6", "org": "OpenAI", "model": "GPT-6"})
    assert payload == {
        "text": "New model release: GPT-6 by OpenAI",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "GPT-6 by OpenAI", "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*GPT-6* by OpenAI"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "`openai/gpt-6`"}]},
        ],
    }


def test_unknown_open_weights_and_bad_date_are_left_out():
    payload = render_release_root({**QWEN, "open_weights": None, "first_seen_at": "last tuesday"})
    labels = [f["text"].split("\n")[0] for f in payload["blocks"][1]["fields"]]
    assert labels == ["*Country*", "*Parameters*"]
    assert payload["blocks"][2]["elements"][0]["text"] == "1 outlet · `alibaba/qwen3-max-thinking`"


@pytest.mark.parametrize("missing", ["release_key", "org", "model"])
def test_required_keys(missing):
    release = {k: v for k, v in QWEN.items() if k != missing}
    with pytest.raises(ValueError, match=missing):
        render_release_root(release)


def test_followup_exact_payload():
    story = {
        "title": "Qwen3-Max-Thinking tops Humanity's Last Exam with tools, Alibaba says",
        "url": "https://www.scmp.com/tech/article/3340800/qwen3-max-thinking",
        "source": "SCMP",
        "published_at": "2026-01-27T09:15:00+00:00",
    }
    assert render_followup(story) == {
        "text": "More coverage: Qwen3-Max-Thinking tops Humanity's Last Exam with tools, Alibaba says (SCMP)",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        "*<https://www.scmp.com/tech/article/3340800/qwen3-max-thinking"
                        "|Qwen3-Max-Thinking tops Humanity's Last Exam with tools, Alibaba says>* — SCMP"
                    ),
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Published <!date^1769505300^{date_short_pretty} at {time}|2026-01-27 09:15 UTC>",
                    }
                ],
            },
        ],
    }


def test_followup_without_link_or_title():
    payload = render_followup({"title": "Kimi K2.5 benchmarks", "url": "javascript:alert(1)", "source": "Blog"})
    assert payload["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Kimi K2.5 benchmarks* — Blog"}}
    ]
    assert render_followup({})["text"] == "More coverage: (untitled story)"


# ---------------------------------------------------------------------------------------------------------
# escaping and links


def test_escape_mrkdwn():
    assert escape_mrkdwn("<!channel> GPT-6 is out & more") == "&lt;!channel&gt; GPT-6 is out &amp; more"
    assert escape_mrkdwn("already &amp; escaped") == "already &amp;amp; escaped"
    assert escape_mrkdwn("plain") == "plain"


def test_mentions_from_feeds_render_literally_everywhere():
    hostile = "<!channel> GPT-6 is out & more"
    payload = render_release_root(
        {
            "release_key": "openai/gpt-6",
            "org": "<!here>",
            "model": "GPT-6 <@U123>",
            "country": "US",
            "parameters": "<!everyone>",
            "claim": hostile,
            "title": hostile,
            "url": "https://example.com/gpt-6",
            "source": "<#C123|general>",
            "reasons": [hostile],
        }
    )
    mrkdwn = [payload["text"]]
    for block in payload["blocks"]:
        if block["type"] == "section":
            mrkdwn.append(block["text"]["text"])
            mrkdwn.extend(f["text"] for f in block.get("fields", []))
        elif block["type"] == "context":
            mrkdwn.extend(e["text"] for e in block["elements"])
    for text in mrkdwn:
        # the only "<" left opens our own link token
        assert "<!" not in text and "<@" not in text and "<#" not in text, text
    assert (
        "*<https://example.com/gpt-6|&lt;!channel&gt; GPT-6 is out &amp; more>*" in payload["blocks"][1]["text"]["text"]
    )
    assert payload["text"].endswith("— &lt;!channel&gt; GPT-6 is out &amp; more")
    # plain_text is never parsed for mentions: shown as is, not entity-escaped
    assert payload["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "GPT-6 <@U123> by <!here>",
        "emoji": True,
    }


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com/file",
        "data:text/html,<b>x</b>",
        "mailto:a@example.com",
        "/relative/path",
        "//example.com/no-scheme",
        "http://",
        "https:///nohost",
        "http:// example.com",
        None,
        42,
    ],
)
def test_non_http_links_are_dropped(url):
    assert safe_link(url) is None
    payload = render_release_root({**QWEN, "url": url})
    section = payload["blocks"][1]["text"]["text"]
    assert section.startswith("*Alibaba launches Qwen3-Max-Thinking, its most capable reasoning model* — Reuters")
    assert "<" not in section


def test_safe_link_keeps_http_and_encodes_syntax_breakers():
    assert safe_link(" https://example.com/a?b=1&c=2 ") == "https://example.com/a?b=1&c=2"
    assert safe_link("HTTP://Example.com/x") == "http://Example.com/x"
    assert safe_link("https://example.com/a|b>c<d e") == "https://example.com/a%7Cb%3Ec%3Cd%20e"
    assert mrkdwn_link("https://example.com/?a=1&b=2", "A & B") == "<https://example.com/?a=1&amp;b=2|A &amp; B>"
    assert mrkdwn_link("javascript:alert(1)", "A & B") == "A &amp; B"


def test_country_flag():
    assert country_flag("CN") == "🇨🇳"
    assert country_flag("us") == "🇺🇸"
    assert country_flag("FR") == "🇫🇷"
    assert country_flag("USA") == ""
    assert country_flag(None) == ""
    payload = render_release_root({**QWEN, "country": "Earth"})
    assert payload["blocks"][1]["fields"][0] == {"type": "mrkdwn", "text": "*Country*\nEARTH"}


def test_format_utc():
    assert format_utc("2026-01-26T22:05:00+08:00") == "2026-01-26 14:05 UTC"
    assert format_utc("nope") is None


# ---------------------------------------------------------------------------------------------------------
# limits


def test_truncate():
    assert truncate("short", 10) == "short"
    assert truncate("x" * 10, 10) == "x" * 10
    cut = truncate("x" * 11, 10)
    assert cut == "x" * 9 + ELLIPSIS and len(cut) == 10
    with pytest.raises(ValueError):
        truncate("x", 0)


def test_header_truncated_at_150_with_ellipsis():
    payload = render_release_root({**QWEN, "model": "M" * 200})
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) == 150
    assert header == "M" * 149 + ELLIPSIS


def test_section_text_capped_at_3000_with_ellipsis():
    long_claim = "benchmark " * 1000
    payload = render_release_root({**QWEN, "claim": long_claim, "title": "T" * 5000, "source": "S" * 500})
    text = payload["blocks"][1]["text"]["text"]
    assert len(text) <= 3000
    assert ELLIPSIS in text
    assert len(payload["text"]) <= 3000
    for block in payload["blocks"]:
        for element in block.get("elements", []):
            assert len(element["text"]) <= 3000


def test_truncate_mrkdwn_cuts_at_exactly_3000_and_never_inside_tokens():
    text = "a" * 3500
    assert truncate_mrkdwn(text, 3000) == "a" * 2999 + ELLIPSIS
    assert len(truncate_mrkdwn(text, 3000)) == 3000
    link = "x" * 2990 + "<https://example.com/long-link|label>"
    assert truncate_mrkdwn(link, 3000) == "x" * 2990 + ELLIPSIS
    entity = "y" * 2997 + "&amp;zzz"
    assert truncate_mrkdwn(entity, 3000) == "y" * 2997 + ELLIPSIS


def test_reasons_are_bounded():
    payload = render_release_root({**QWEN, "reasons": [f"r{i} " + "w" * 500 for i in range(40)]})
    why = payload["blocks"][3]["elements"][0]["text"]
    assert len(why) <= 3000
    assert why.count(" · ") == 9  # at most 10 reasons


def test_fifty_block_cap():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"story {i}"}} for i in range(75)]
    capped = limit_blocks(blocks)
    assert len(capped) == 50
    assert capped[:49] == blocks[:49]
    assert capped[49] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"{ELLIPSIS} and 26 more not shown"}],
    }
    assert limit_blocks(blocks[:50]) == blocks[:50]
    assert limit_blocks(blocks, max_blocks=10)[-1]["elements"][0]["text"] == f"{ELLIPSIS} and 66 more not shown"
