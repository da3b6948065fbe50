"""Quotable units and the parsing of the model's pick (extract-then-answer strategy)."""

from __future__ import annotations

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


def test_parse_ids() -> None:
    pool = quotes.units([hit("The office opens at nine.\nThe office closes at five.")])
    assert quotes.parse('{"ids": [2]}', pool) == [pool[1]]
    assert quotes.parse('{"ids": [2, 1, 2]}', pool) == [pool[1], pool[0]]
    assert quotes.parse('{"ids": [0]}', pool) == []
    assert quotes.parse('{"ids": [3]}', pool) is None
    assert quotes.parse('{"ids": ["1"]}', pool) is None
    assert quotes.parse("nonsense", pool) is None
    assert quotes.parse("[1]", pool) is None


def test_schema_is_a_closed_list_of_line_numbers() -> None:
    schema = quotes.response_format(3, 2)["json_schema"]["schema"]
    ids = schema["properties"]["ids"]
    assert ids["maxItems"] == 2 and ids["items"]["enum"] == [0, 1, 2, 3]
    assert schema["additionalProperties"] is False


def test_shortlist_without_similarity_is_the_first_lines() -> None:
    pool = quotes.units([hit("Line one is long enough.\nLine two is long enough.\nLine three is long enough.")])
    assert quotes.shortlist("q", pool, None, 2) == pool[:2]
    assert quotes.shortlist("q", pool, lambda q, ts: [0.1, 0.9, 0.5], 2) == [pool[1], pool[2]]


def test_confirms_needs_a_copied_answer_that_stands_in_the_lines() -> None:
    picked = [quotes.Unit(1, 0, 10, "x", "The team was set up in 2016."),
              quotes.Unit(2, 0, 10, "y", "It has  40 staff.")]
    assert quotes.confirms('{"answer": "set up in 2016"}', picked)
    assert quotes.confirms('{"answer": "It has 40 STAFF."}', picked)  # whitespace, case, end punctuation
    assert not quotes.confirms('{"answer": ""}', picked)
    assert not quotes.confirms('{"answer": "set up in 2017"}', picked)
    assert not quotes.confirms('{"answer": "set up in 2016. It has 40 staff"}', picked[:1])
    assert not quotes.confirms("no json", picked) and not quotes.confirms('{"ids": [1]}', picked)
