"""The grounding check: facts an answer states that its evidence does not.

Numbers, dates and amounts are compared as values (``guardrails.numbers``: ``2,000`` = ``2.000``), names
as capitalised words not opening a sentence. The ``grounding`` output rail uses it on every answer, and
the answer path uses it to decide whether a model's answer stands on the passages it quoted.
"""

from __future__ import annotations

import re

from guardrails.numbers import values


def unsupported_numbers(answer: str, evidence: str) -> set[str]:
    """Numbers the answer states that the evidence does not, compared as values (``guardrails.numbers``)."""
    return values(answer) - values(evidence)


_WORD = re.compile(r"[^\W_][\w'’-]*")
_MONTHS = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre", "januar", "februar", "marts", "maj", "juni", "juli",
    "oktober",
))


def names(text: str) -> set[str]:
    """Capitalised words that do not open a sentence: names of people, places, bodies (casefolded).
    Month names are left to the numbers check (a date's day and year)."""
    found = set()
    for m in _WORD.finditer(text):
        before = text[: m.start()].rstrip(" \t\"“‘'(")
        if m.group()[0].isupper() and before and before[-1] not in ".!?:;\n" and m.group().casefold() not in _MONTHS:
            found.add(m.group().casefold())
    return found


def unsupported_facts(answer: str, evidence: str, check_names: bool = True) -> set[str]:
    """Numbers (and names, when answer and evidence share a language) that the answer states and
    the evidence does not: a cheap grounding check."""
    missing = unsupported_numbers(answer, evidence)
    if check_names:
        said = {m.group().casefold() for m in _WORD.finditer(evidence)}
        missing |= {n for n in names(answer) if n not in said}
    return missing
