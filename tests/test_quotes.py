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


def test_shortlist_is_the_closest_lines_closest_first_shown_in_document_order() -> None:
    pool = quotes.units([hit("Line one is long enough.\nLine two is long enough.\nLine three is long enough.")])
    assert quotes.shortlist("q", pool, None, 2) == pool[:2]
    closest = quotes.shortlist("q", pool, lambda q, ts: [0.1, 0.9, 0.5], 2)
    assert closest == [pool[1], pool[2]]
    assert quotes.in_document_order(closest[::-1]) == [pool[1], pool[2]]


def test_read_span() -> None:
    assert quotes.read_span(json.dumps({"answer": "  set up\n in 2016. "})) == "set up in 2016"
    assert quotes.read_span('```json\n{"answer": ""}\n```') == ""
    for unusable in ("no json", '{"ids": [1]}', '{"answer": 7}', "[1]"):
        assert quotes.read_span(unusable) is None


def test_locate_finds_whole_words_in_the_closest_line_as_the_line_writes_them() -> None:
    pool = [quotes.Unit(1, 0, 10, "x", "The team was set up in 2016 and has  40 staff."),
            quotes.Unit(2, 0, 10, "y", "It has 40 STAFF in 2018.")]
    assert quotes.locate("set up in 2016", pool) == quotes.Span(pool[0], "set up in 2016")
    assert quotes.locate("has 40 staff", pool) == quotes.Span(pool[0], "has 40 staff")  # first = closest
    assert quotes.locate("40 staff in 2018", pool) == quotes.Span(pool[1], "40 STAFF in 2018")
    assert quotes.locate("8", pool) is None and quotes.locate("201", pool) is None  # not whole numbers
    assert quotes.locate("", pool) is None and quotes.locate("set up in 2017", pool) is None
    assert quotes.locate("2016 and has 40 staff. It has", pool) is None  # not within one line


def test_fits_wants_a_year_for_when_and_a_number_for_how_many() -> None:
    for question in ("When was the team set up?", "In which year did it start?", "Hvornår blev det vedtaget?",
                     "Quand l’équipe a-t-elle été créée ?", "מתי הוקם הצוות?", "באיזו שנה הוקמה המעבדה?"):
        assert quotes.fits(question, "in June 2016") and not quotes.fits(question, "the Cabinet Office"), question
    for question in ("How many staff?", "How much did it cost?", "Hvor mange medarbejdere?", "Combien d’agents ?",
                     "כמה מומחים רואיינו?"):
        assert quotes.fits(question, "5-7") and quotes.fits(question, "£1.5 million"), question
        assert quotes.fits(question, "nine countries") and not quotes.fits(question, "a research director"), question
    assert quotes.fits("Who leads the team?", "Chris Webber") and quotes.fits("Where is it?", "London")
