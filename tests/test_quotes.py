"""Quotable units and the parsing of the model's pick (extract-then-answer strategy)."""

from __future__ import annotations

import json

from assistant import quotes
from knowledge.models import SearchHit


def hit(text: str) -> SearchHit:
    return SearchHit(source="s.txt", title="T", section=None, language="en", text=text, start=0, end=len(text),
                     page=None, rank=1, chunk_id="c", score=0.1, similarity=0.9, dense_rank=1, lexical_rank=None)


LONG = " ".join(f"Sentence number {i} is long enough to count as a unit." for i in range(8))


def test_units_are_lines_long_lines_split_short_and_duplicate_dropped() -> None:
    a = hit("Intro line that is long enough.\n\n- item one is here\n- ok\n" + LONG)
    b = hit("Intro line that is long enough.\nAnother distinct line here.")
    got = quotes.units([a, b])
    texts = [u.text for u in got]
    assert texts[:2] == ["Intro line that is long enough.", "- item one is here"]
    assert "- ok" not in texts  # too short to quote
    assert "Sentence number 0 is long enough to count as a unit." in texts
    assert texts.count("Intro line that is long enough.") == 1
    assert got[-1].n == 2 and got[-1].text == "Another distinct line here."
    for u in got:
        source = [a, b][u.n - 1].text
        assert source[u.start:u.end] == u.text


def test_parse_picks_none_and_rejects_unverifiable() -> None:
    cands = quotes.units([hit("The office opens at nine.\nThe office closes at five.")])
    assert quotes.parse(json.dumps({"quotes": ["The office closes at five."]}), cands) == [cands[1]]
    assert quotes.parse('{"quotes": ["The  office opens\\nat nine."]}', cands) == [cands[0]]  # whitespace only
    assert quotes.parse('{"quotes": ["NONE"]}', cands) == []
    assert quotes.parse('{"quotes": ["The office opens at ten."]}', cands) is None
    assert quotes.parse("nonsense", cands) is None
    assert quotes.parse('["a"]', cands) is None


def test_schema_is_a_closed_list() -> None:
    cands = quotes.units([hit("The office opens at nine.")])
    schema = quotes.response_format(cands, 2)["json_schema"]["schema"]
    items = schema["properties"]["quotes"]
    assert items["maxItems"] == 2 and items["items"]["enum"] == ["The office opens at nine.", "NONE"]
    assert schema["additionalProperties"] is False
