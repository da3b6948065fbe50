"""The pipeline's guardrail stages: the interface the answer path calls.

The pipeline asks a ``Rails`` object to check the question before anything else happens, the
retrieved passages before the model reads them, the answer as it streams (``check_partial``: only
what passes is shown) and the whole answer before it stands. ``check_input`` returns the question with
personal data redacted whatever the policy, so nothing after it (records, logs, the model) holds it. A text
check returns a ``StageResult``: the (possibly redacted or rewritten) text, one record per rail
that ran, and whether to block; the passage check returns the passages that may be shown.
``PassThroughRails`` runs no rail; the guardrails policy engine implements the same interface.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.answer import Citation, GuardrailRecord
from knowledge.models import SearchHit


@dataclass
class StageResult:
    text: str
    records: list[GuardrailRecord] = field(default_factory=list)
    blocked: bool = False
    message: str | None = None
    """What to tell the user when blocked (in their language); None means the default."""


@dataclass
class PassageResult:
    passages: list[SearchHit]
    """The passages that may reach the model (the others are quarantined)."""
    records: list[GuardrailRecord] = field(default_factory=list)


class Rails(Protocol):
    @property
    def policy_version(self) -> str: ...

    def snapshot(self) -> Rails:
        """The rails to judge one whole answer by (a live policy may change between answers)."""
        ...

    def check_input(self, question: str, language: str) -> StageResult:
        """The question's rails; the result's text has personal data redacted before any rail ran."""
        ...

    def check_passages(self, passages: Sequence[SearchHit], language: str) -> PassageResult: ...

    def check_partial(self, answer: str, cited: Collection[int], passages: Sequence[SearchHit],
                      language: str) -> StageResult:
        """The answer so far, while it streams: the output rails that can judge part of an answer
        (not those that add to it); nothing is recorded, the final ``check_output`` is."""
        ...

    def check_output(self, answer: str, citations: Sequence[Citation], passages: Sequence[SearchHit],
                     language: str) -> StageResult: ...


class PassThroughRails:
    """No policy: every question and answer passes, and no decision is recorded; personal data is still
    redacted from the question."""

    policy_version = "none"

    def snapshot(self) -> PassThroughRails:
        return self

    def check_input(self, question: str, language: str) -> StageResult:
        from guardrails.redaction import redact_personal_data

        return StageResult(redact_personal_data(question).text)

    def check_partial(self, answer: str, cited: Collection[int], passages: Sequence[SearchHit],
                      language: str) -> StageResult:
        return StageResult(answer)

    def check_passages(self, passages: Sequence[SearchHit], language: str) -> PassageResult:
        return PassageResult(list(passages))

    def check_output(self, answer: str, citations: Sequence[Citation], passages: Sequence[SearchHit],
                     language: str) -> StageResult:
        return StageResult(answer)
