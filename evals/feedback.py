"""Answers users flagged, turned into suite cases: ``waymark eval from-feedback FEEDBACK.jsonl``.

A feedback record is the answer as it was given (the ``Answer`` contract), the user's thumbs up or
down, their comment and, when they said it, what the right answer is. A thumbs down becomes:
- on a blocked question: a ``benign`` case (it must not be refused again);
- on an answer or an abstention, with the right answer given: an ``answerable`` case whose fact is
  that answer (no expected source: what the flagged answer cited may be the wrong one);
- otherwise nothing yet: it is listed for an evaluator to complete (a case with no expected fact
  would test nothing).
A thumbs up is not a case: it says the answer was liked, not which fact made it right.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evals.suite import Case
from guardrails.contracts import Answer


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Answer
    rating: Literal["up", "down"]
    comment: str = ""
    expected: str | None = Field(None, description="What the right answer says, in the user's words.")
    user: str = ""
    created: str = ""


def cases_from_feedback(items: list[Feedback]) -> tuple[list[Case], list[str]]:
    """(cases, what could not become a case and why)."""
    cases: list[Case] = []
    skipped: list[str] = []
    for f in items:
        a = f.answer
        cid = "fb-" + hashlib.sha256(f"{a.trace_id}|{a.question}".encode()).hexdigest()[:10]
        tags = ["feedback"] + ([f"comment: {f.comment[:80]}"] if f.comment else [])
        if f.rating == "up":
            continue
        if a.status == "blocked":
            cases.append(Case(id=cid, kind="benign", question=a.question, language=a.language, tags=tags))
        elif f.expected and f.expected.strip():
            cases.append(Case(id=cid, kind="answerable", question=a.question, language=a.language,
                              facts=[[f.expected.strip()]], tags=tags))
        else:
            skipped.append(f"{a.trace_id} ({a.status}): {a.question!r}: no expected answer given"
                           + (f"; comment: {f.comment}" if f.comment else ""))
    return cases, skipped
