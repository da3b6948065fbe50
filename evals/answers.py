"""Deterministic answer checks shared by the metrics and the figure scripts: facts, citations.

A case (``evals.suite.Case``) lists the facts a correct answer states. A fact is a list
of alternatives; the answer states the fact when any alternative appears in it (case- and
accent-insensitive, numbers compared without separators so 2,000 = 2.000 = 2 000; an
alternative written ``re:...`` is a regular expression). Unanswerable cases must abstain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from guardrails.contracts import Answer


def check_facts(facts: list[list[str]]) -> list[list[str]]:
    """Every fact has non-empty alternatives, and every ``re:`` alternative compiles."""
    for alts in facts:
        if not alts or any(not a.strip() for a in alts):
            raise ValueError("each fact needs at least one non-empty alternative")
        for a in alts:
            if a.startswith("re:"):
                try:
                    re.compile(a[3:])
                except re.error as e:
                    raise ValueError(f"bad regular expression {a!r}: {e}") from e
    return facts


def unique_ids(ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate case ids: {dupes}")


def normalise(text: str) -> str:
    """Casefolded, accents removed, numbers without separators, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"(?<=\d)[.,\u00a0\u202f '’](?=\d{3}\b)", "", text)
    text = text.replace("\u05f3", "'").replace("״", '"')
    return re.sub(r"\s+", " ", text).strip()


def states(answer: str, alternatives: Sequence[str]) -> bool:
    norm = normalise(answer)
    for alt in alternatives:
        if alt.startswith("re:"):
            if re.search(alt[3:], answer, re.IGNORECASE) or re.search(alt[3:], norm, re.IGNORECASE):
                return True
        elif normalise(alt) in norm:
            return True
    return False


def facts_found(answer: Answer, facts: Sequence[Sequence[str]]) -> tuple[int, int]:
    """(facts stated, facts expected); only an answered status can state facts."""
    if answer.status != "answered":
        return 0, len(facts)
    return sum(1 for alts in facts if states(answer.answer, alts)), len(facts)


def citations_verbatim(answer: Answer, documents: dict[str, str]) -> tuple[int, int]:
    """(citations whose quote is exactly ``document[start:end]``, citations checked)."""
    ok = 0
    for c in answer.citations:
        text = documents.get(c.source)
        if text is not None and text[c.start:c.end] == c.quote and c.quote:
            ok += 1
    return ok, len(answer.citations)
