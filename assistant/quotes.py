"""Quotable units of the passages, for the extract-then-answer strategy.

The candidate units (lines of the passages, long lines split into sentences) are ranked by
embedding similarity to the question; the model reads the best few and copies the words that
answer (a JSON string). The line in which those words stand verbatim is the quote, so a quote
is a unit of the source by construction: verbatim, with exact offsets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.citations import Similarity, trim_span
from guardrails.numbers import values
from knowledge.chunking import sentence_spans
from knowledge.models import SearchHit

LONG_LINE_CHARS = 280
MIN_UNIT_CHARS = 12


@dataclass(frozen=True)
class Unit:
    n: int
    """Passage number in the prompt (1-based)."""
    start: int
    """Offsets into the passage's text."""
    end: int
    text: str
    shown: str = ""
    """What the model reads: the text, or its machine translation into the pivot language."""
    title: str = ""
    """The document's title: context for ranking a short line ("He joined in 2014" says little alone)."""

    @property
    def translated(self) -> bool:
        return self.shown != self.text


@dataclass(frozen=True)
class Span:
    """The answer's words as they stand in ``unit`` (in what the model read: maybe a translation)."""

    unit: Unit
    text: str


def text_units(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` worth quoting: its lines, long lines split into sentences, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pieces = ([(line.start(), line.end())] if line.end() - line.start() <= LONG_LINE_CHARS
                  else sentence_spans(text, line.start(), line.end()))
        for s, e in (trim_span(text, *piece) for piece in pieces):
            if e - s >= MIN_UNIT_CHARS:
                spans.append((s, e))
    return spans


def units(passages: Sequence[SearchHit], translations: Mapping[str, str] | None = None) -> list[Unit]:
    """Distinct quotable units, in passage order (a text appearing twice keeps its first place).

    With ``translations`` (original unit text -> pivot translation), a translated unit is shown
    to the model in translation; it is still quoted and cited in the original.
    """
    out: list[Unit] = []
    seen: set[str] = set()
    for n, hit in enumerate(passages, 1):
        for s, e in text_units(hit.text):
            piece = hit.text[s:e]
            shown = (translations or {}).get(piece, piece)
            if piece not in seen and shown not in seen:
                seen.update((piece, shown))
                out.append(Unit(n, s, e, piece, shown, hit.title))
    return out


def ranked(question: str, candidates: Sequence[Unit], similarity: Similarity | None,
           also: str = "") -> list[tuple[Unit, float]]:
    """Every unit with its similarity to the question (by embeddings of "title: line", in the model's reading
    language; with ``also``, e.g. the question's translation, the better of the two), closest first; without
    ``similarity``, in their order, each scored 0."""
    if similarity is None:
        return [(u, 0.0) for u in candidates]
    texts = [f"{u.title}: {u.shown}" if u.title else u.shown for u in candidates]
    scores = [float(v) for v in similarity(question, texts)]
    if also.strip():
        scores = [max(a, float(b)) for a, b in zip(scores, similarity(also, texts), strict=True)]
    return [(candidates[i], scores[i]) for i in sorted(range(len(candidates)), key=lambda i: -scores[i])]


def shortlist(question: str, candidates: Sequence[Unit], similarity: Similarity | None,
              size: int) -> list[Unit]:
    """The ``size`` units closest to the question (``ranked``), closest first."""
    return [u for u, _ in ranked(question, candidates, similarity)[:size]]


def in_document_order(pool: Sequence[Unit]) -> list[Unit]:
    """How the model reads the lines: passage by passage, top to bottom."""
    return sorted(pool, key=lambda u: (u.n, u.start))


SPAN_MAX_CHARS = 160


def span_format() -> dict[str, Any]:
    """``response_format`` for the answer's words copied from the lines ("" when they do not state it)."""
    schema = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": SPAN_MAX_CHARS}},
              "required": ["answer"], "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": "span", "strict": True, "schema": schema}}


MAX_LINES = 3
"""A question asking for a list or several facts may be answered by this many lines, each quoted."""


def spans_format() -> dict[str, Any]:
    """``response_format`` for a list: up to ``MAX_LINES`` pieces of words, each copied from one line."""
    item = {"type": "string", "maxLength": SPAN_MAX_CHARS}
    schema = {"type": "object", "properties": {"answers": {"type": "array", "items": item, "maxItems": MAX_LINES}},
              "required": ["answers"], "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": "spans", "strict": True, "schema": schema}}


def read_spans(reply: str) -> list[str] | None:
    """The pieces of words copied for a list (``[]`` when the lines do not state it), or None when the reply is
    not the JSON asked for."""
    try:
        got = json.loads(reply.strip().removeprefix("```json").removesuffix("```"))["answers"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(got, list) or not all(isinstance(w, str) for w in got):
        return None
    return [w for w in (" ".join(x.split()).strip(" .,;:\"“”'") for x in got[:MAX_LINES]) if w]


_ASKS_LIST = re.compile(
    r"\b(what|which) (are|were)\b|\bwhich \w+s\b|\bwho (are|were)\b|\blist\b|\bname (the|two|three|four)\b"
    r"|\b(two|three|four|several|main|key) \w+s\b|\bhow \w+ and (from )?(who|whom|what|where|when|which)\b"
    r"|\bquel(le)?s sont\b|\bquel(le)?s \w+s\b|\blesquel(le)?s\b|\bcitez\b|\bhvilke\b|\bhvad er de\b"
    r"|\bwelche\b|\bcuáles\b|מהם|מהן|אילו|מי הם|מי היו",
    re.IGNORECASE)


def asks_for_list(question: str) -> bool:
    """Whether the question asks for several things ("Which universities…", "What are the main
    recommendations…", "How much and from whom…"): then it may be answered by up to ``MAX_LINES`` lines."""
    return bool(_ASKS_LIST.search(" ".join(question.split())))


def read_span(reply: str) -> str | None:
    """The words the model copied (``""`` when it says the lines do not state the answer), or None
    when the reply is not the JSON asked for (a backend that ignores the schema)."""
    try:
        words = json.loads(reply.strip().removeprefix("```json").removesuffix("```"))["answer"]
    except (ValueError, KeyError, TypeError):
        return None
    return " ".join(words.split()).strip(" .,;:\"“”'") if isinstance(words, str) else None


def locate(words: str, pool: Sequence[Unit]) -> Span | None:
    """The first unit of ``pool`` (closest first) in which ``words`` stand verbatim as whole words,
    whitespace and case aside, as that unit writes them. None when the words are empty or stand
    nowhere: a model that had to invent, or copied nothing, found no answer in the lines."""
    if not words:
        return None
    pattern = re.compile(rf"(?<!\w){re.escape(words)}(?!\w)", re.IGNORECASE)
    for u in pool:
        if m := pattern.search(" ".join(u.shown.split())):
            return Span(u, m.group())
    return None


# What a question asks for, in the languages Waymark is tested in: "when" wants a year, "how many" a number.
_ASKS_WHEN = re.compile(
    r"^\W*(when|quand)\b|\b(what|which) year\b|\bsince when\b|\bhvornår\b|\bhvilket år\b|\ben quelle année\b"
    r"|\bdepuis quand\b|מתי|באיזו שנה|באיזה שנה", re.IGNORECASE)
_ASKS_HOW_MANY = re.compile(r"\bhow (many|much)\b|\bhvor (mange|meget)\b|\bcombien\b|כמה", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[89]|20)\d\d(?!\d)")
_NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?"
    r"|thousands?|millions?|billions?|dozens?|half|tre|fire|fem|seks|syv|otte|ni|ti|deux|trois|quatre|cinq"
    r"|sept|huit|neuf|dix)\b|שניים|שתי|שלוש|ארבע|חמש|שש|שבע|שמונה|תשע|עשר", re.IGNORECASE)


def fits(question: str, words: str) -> bool:
    """Whether the copied words are the kind of answer the question asks for: a year for "when",
    a number for "how many" (any words for other questions). A model that copies a line about
    something else often copies words of the wrong kind."""
    if _ASKS_WHEN.search(question):
        return bool(_YEAR.search(words))
    if _ASKS_HOW_MANY.search(question):
        return bool(values(words) or _NUMBER_WORDS.search(words))
    return True
