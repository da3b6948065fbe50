"""Quotable units of the passages, for the extract-then-answer strategy.

The model picks the sentences that answer from a closed list (a JSON-schema ``enum``), so a
quote is verbatim by construction: the grammar cannot produce text that is not in a passage.
A unit is a line of the passage (a paragraph, list item or heading), split into sentences
when it is long.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.chunking import sentence_spans
from knowledge.models import SearchHit

NONE = "NONE"
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

    @property
    def translated(self) -> bool:
        return self.shown != self.text


def text_units(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` worth quoting: its lines, long lines split into sentences, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pieces = ([(line.start(), line.end())] if line.end() - line.start() <= LONG_LINE_CHARS
                  else sentence_spans(text, line.start(), line.end()))
        for s, e in pieces:
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
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
                out.append(Unit(n, s, e, piece, shown))
    return out


def schema(candidates: Sequence[Unit], max_quotes: int = 2) -> dict[str, Any]:
    """JSON schema: up to ``max_quotes`` of the units, or ``["NONE"]``."""
    return {
        "type": "object",
        "properties": {"quotes": {"type": "array", "minItems": 1, "maxItems": max_quotes,
                                  "items": {"type": "string", "enum": [u.shown for u in candidates] + [NONE]}}},
        "required": ["quotes"],
        "additionalProperties": False,
    }


def response_format(candidates: Sequence[Unit], max_quotes: int = 2) -> dict[str, Any]:
    """The OpenAI ``response_format`` (llama.cpp's server turns it into a grammar)."""
    return {"type": "json_schema",
            "json_schema": {"name": "quotes", "strict": True, "schema": schema(candidates, max_quotes)}}


def parse(reply: str, candidates: Sequence[Unit]) -> list[Unit] | None:
    """The chosen units; ``[]`` when the model chose NONE; None when the reply is not usable.

    A backend that ignores the schema may paraphrase: a chosen text that is not exactly one of
    the units (after whitespace normalisation) is discarded, never trusted.
    """
    try:
        data = json.loads(reply.strip().removeprefix("```json").removesuffix("```"))
        chosen = data["quotes"] if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(chosen, list):
        return None
    by_text = {_norm(u.shown): u for u in candidates}
    picked: list[Unit] = []
    for item in chosen:
        if not isinstance(item, str) or item.strip() == NONE:
            continue
        unit = by_text.get(_norm(item))
        if unit is not None and unit not in picked:
            picked.append(unit)
    if not picked and any(isinstance(i, str) and i.strip() != NONE for i in chosen):
        return None  # it quoted something, but nothing verifiable
    return picked


def _norm(text: str) -> str:
    return " ".join(text.split())
