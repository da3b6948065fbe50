"""``PassThroughRails``: the ``Rails`` interface (``guardrails.contracts``) with no policy.

The guardrails policy engine (``guardrails.engine.PolicyRails``) implements the same interface.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from guardrails.contracts import Citation, PassageResult, StageResult
from guardrails.redaction import redact_personal_data
from knowledge.models import SearchHit


class PassThroughRails:
    """No policy: every question and answer passes, and no decision is recorded; personal data is still
    redacted from the question."""

    policy_version = "none"

    def snapshot(self) -> PassThroughRails:
        return self

    def check_input(self, question: str, language: str) -> StageResult:

        return StageResult(redact_personal_data(question).text)

    def check_partial(self, answer: str, cited: Collection[int], passages: Sequence[SearchHit],
                      language: str) -> StageResult:
        return StageResult(answer)

    def check_passages(self, passages: Sequence[SearchHit], language: str) -> PassageResult:
        return PassageResult(list(passages))

    def check_output(self, answer: str, citations: Sequence[Citation], passages: Sequence[SearchHit],
                     language: str) -> StageResult:
        return StageResult(answer)
