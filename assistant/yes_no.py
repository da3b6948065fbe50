"""Yes/no questions ("Can the term be renewed?"): answered "Yes" or "No" in the asker's language, then the
quote that shows it. The ``LINES`` lines closest to the question are read one at a time, each alone with the
question, by a short call constrained to ``yes``, ``no`` or ``unclear`` (``verdict_format``); the first that says
yes or no is the quote. ``unclear`` from each (or replies that are not the JSON asked for) means the guidance as
retrieved does not settle it, and the answer abstains rather than guess.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

Verdict = Literal["yes", "no", "unclear"]
LINES = 2
"""Closest lines read for a yes/no question, one call each (about 2 s each on 2 cores)."""

_AUX = (r"(can|could|may|might|must|shall|should|will|would|is|are|was|were|am|do|does|did|has|have|had|"
        r"isn't|aren't|doesn't|don't|can't|won't|shouldn't|mustn't)")
_POLAR = re.compile(
    # English: an auxiliary or modal first ("Can I…", "Is there…"), or after a leading clause ("When my term
    # ends, can it be renewed?"); not "What can…"
    rf"^\W*{_AUX}\b|[,;:]\s*{_AUX}\s+(i|we|you|they|it|he|she|the|a|an|my|our|this|that|there)\b"
    # French: "est-ce que", an inverted verb ("Peut-on", "Faut-il", "Les projets durent-ils", "…, puis-je")
    r"|^\W*(est-ce qu|y a-t-il)|\b\w+-(t-)?(je|tu|il|elle|on|nous|vous|ils|elles)\b"
    # Danish: the verb first
    r"|^\W*(kan|må|skal|er|var|har|havde|bør|vil|ville|findes|gælder|får|gør|bliver|burde|skulle|kunne|"
    r"mon|ser|bruger|kræver|tillader|betyder|anbefaler|giver|omfatter|indebærer|tager|dækker|hjælper)\b"
    # German and Spanish: the verb first
    r"|^\W*(kann|darf|muss|soll|sollte|ist|sind|gibt|hat|haben|wird|werden|dürfen|können|müssen)\b"
    r"|^\W*¿?\W*(puedo|puede|pueden|se puede|es|está|hay|debo|debe|deben|tiene|tienen)\b"
    # Hebrew: the question particle, or may/must/possible first
    r"|^\W*(האם|מותר|אסור|אפשר|ניתן|חייב|חייבים|צריך|צריכים|יש)(?!\w)",
    re.IGNORECASE)
_WH = re.compile(r"^\W*((dans|de|du|à|au|en|pour|par|avec|sur|depuis|i|på|til|fra|med|for)\s+)?"
                 r"(combien|quand|où|qui|que|qu'|quel|quelle|quels|quelles|pourquoi|comment|lequel|laquelle|"
                 r"hvad|hvem|hvor|hvornår|hvilke|hvilken|hvilket|hvorfor|hvordan)\b", re.IGNORECASE)
"""A French or Danish question word first, maybe after a preposition: "Combien de temps dure-t-il ?", "Dans quel
pays a-t-il été intégré ?" ask for a fact."""
_ALTERNATIVE = re.compile(r"\b(or|ou|eller|oder|o)\b|\bאו\b", re.IGNORECASE)
"""'Is it X or Y?' asks to choose, not yes or no."""


def asks_yes_no(question: str) -> bool:
    """Whether ``question`` asks for a yes or a no (en/fr/da/de/es/he), not for a choice or a fact."""
    q = " ".join(question.split())
    return bool(_POLAR.search(q)) and not _WH.search(q) and not _ALTERNATIVE.search(q)


def verdict_format() -> dict[str, Any]:
    """``response_format`` for the verdict: one of yes, no, unclear."""
    schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": ["yes", "no", "unclear"]}},
              "required": ["answer"], "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": "yes_no", "strict": True, "schema": schema}}


def read_verdict(reply: str) -> Verdict | None:
    """The verdict, or None when the reply is not the JSON asked for."""
    try:
        got = json.loads(reply.strip().removeprefix("```json").removesuffix("```"))["answer"]
    except (ValueError, KeyError, TypeError):
        return None
    got = got.strip().lower() if isinstance(got, str) else None
    return got if got in ("yes", "no", "unclear") else None  # type: ignore[return-value]

