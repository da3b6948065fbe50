"""Quotable units of the passages, for the extract-then-answer strategy.

The candidate units (lines of the passages, long lines split into sentences) are ranked by
embedding similarity to the question; the model reads the best few as numbered lines and
answers with line numbers from a closed list (a JSON-schema ``enum``), so a quote is a unit
of the source by construction: verbatim, with exact offsets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.citations import Similarity, trim_span
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


def shortlist(question: str, candidates: Sequence[Unit], similarity: Similarity | None,
              size: int) -> list[Unit]:
    """The ``size`` units closest to the question (by embeddings of "title: line", in the model's
    reading language), kept in document order; without ``similarity``, the first ``size``."""
    if similarity is None or len(candidates) <= size:
        return list(candidates[:size])
    scores = list(similarity(question, [f"{u.title}: {u.shown}" if u.title else u.shown for u in candidates]))
    best = sorted(range(len(candidates)), key=lambda i: -scores[i])[:size]
    return [candidates[i] for i in sorted(best)]


def schema(lines: int, max_quotes: int = 2) -> dict[str, Any]:
    """JSON schema: up to ``max_quotes`` line numbers from 1..``lines``, or ``[0]`` for none."""
    return {
        "type": "object",
        "properties": {"ids": {"type": "array", "minItems": 1, "maxItems": max_quotes,
                               "items": {"type": "integer", "enum": list(range(lines + 1))}}},
        "required": ["ids"],
        "additionalProperties": False,
    }


def response_format(lines: int, max_quotes: int = 2) -> dict[str, Any]:
    """The OpenAI ``response_format`` (llama.cpp's server turns it into a grammar)."""
    return {"type": "json_schema", "json_schema": {"name": "lines", "strict": True,
                                                   "schema": schema(lines, max_quotes)}}


SPAN_MAX_CHARS = 160


def span_format() -> dict[str, Any]:
    """``response_format`` for the answer's words copied from the quotes ("" when they do not answer)."""
    schema = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": SPAN_MAX_CHARS}},
              "required": ["answer"], "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": "span", "strict": True, "schema": schema}}


def confirms(reply: str, picked: Sequence[Unit]) -> bool:
    """Whether the model's copied answer is non-empty and stands verbatim (whitespace and case aside)
    in the lines it read: a model that has to invent or leave it empty found no answer there."""
    try:
        span = json.loads(reply.strip())["answer"]
    except (ValueError, KeyError, TypeError):
        return False
    said = " ".join(" ".join(u.shown.split()) for u in picked).casefold()
    span = " ".join(str(span).split()).strip(" .,;:\"“”'").casefold()
    return bool(span) and span in said


def parse(reply: str, pool: Sequence[Unit]) -> list[Unit] | None:
    """The chosen units; ``[]`` when the model chose 0 (none); None when the reply is not usable."""
    try:
        data = json.loads(reply.strip().removeprefix("```json").removesuffix("```"))
        ids = data["ids"] if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(ids, list) or not all(isinstance(i, int) and 0 <= i <= len(pool) for i in ids):
        return None
    return list(dict.fromkeys(pool[i - 1] for i in ids if i > 0))
