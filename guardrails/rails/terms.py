"""Banned topics and forbidden terms, as the champion lists them, in any language.

Terms match as whole words after casefolding and dropping accents and Hebrew vowel points, so
"Élection" matches "election" and "בְּחִירוֹת" matches "בחירות"; a Hebrew term also matches
behind the one-letter prefixes Hebrew joins to words (ב, ה, ו, כ, ל, מ, ש: "בבחירות"), and a
term written with a trailing ``*`` matches any word it starts ("lobby*": lobbying, lobbyist).
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

from pydantic import Field, field_validator

from guardrails.rail import Context, Decision, MessageKey, Params, Tools, guardrail

_HEBREW = re.compile(r"[\u0590-\u05ff]")


def fold(text: str) -> str:
    """Casefolded, without accents or vowel points (same length is not kept)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def term_pattern(term: str) -> str:
    stem = term.endswith("*")
    body = r"\s+".join(re.escape(w) for w in fold(term.rstrip("*")).split())
    prefix = "[בהוכלמש]{0,2}" if _HEBREW.search(term) else ""
    return rf"(?<!\w){prefix}{body}" + (r"\w*" if stem else r"(?!\w)")


class TermsParams(Params):
    terms: list[str] = Field(min_length=1, description="Words or phrases; a trailing * matches word starts.")

    @field_validator("terms")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not t.strip().rstrip("*").strip() for t in v):
            raise ValueError("terms must not be empty")
        return v


@guardrail("banned_terms", stages=["input", "output"], params=TermsParams)
class BannedTerms:
    """Fails when the text names a listed term (whole words, any case or accent; Hebrew prefixes)."""

    message: ClassVar[MessageKey] = "banned_topic"

    def __init__(self, params: TermsParams, tools: Tools) -> None:
        self.params = params
        self.pattern = re.compile("|".join(f"(?:{term_pattern(t)})" for t in params.terms))

    def check(self, text: str, context: Context) -> Decision:
        folded = fold(text)
        hits = sorted({m.group().strip() for m in self.pattern.finditer(folded)})
        if not hits:
            return Decision.ok(0.0)
        return Decision("fail", float(len(hits)), "names " + ", ".join(repr(h) for h in hits[:5]))
