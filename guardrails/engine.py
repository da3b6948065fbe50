"""Runs a policy's rails at each stage of the answer path: ``PolicyRails`` is the ``Rails`` the
pipeline calls.

At each stage the rails run in the policy's order, each on the text the previous ones left.
A rail that fails does what its action says: ``block`` stops the question or answer with the
policy's message in the asker's language; ``redact`` goes on with the rail's cleaned text;
``warn`` and ``log`` go on, recorded. Fail closed: a rail that raises is recorded as ``error``
and blocks, and so does a ``redact`` rail that cannot clean the text. Every decision is
recorded with the policy's version.

Personal data is redacted from a question before its first rail runs, whatever the policy says
(``guardrails.redaction``): a rail that blocks early (``max_length``, ``invisible_unicode``) can never
leave the question as typed in the record. The ``pii`` rail still decides what its finding means
(block the question, or go on without the data).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from guardrails.contracts import Citation, GuardrailRecord, PassageResult, Stage, StageResult
from guardrails.policy import Policy, PolicyError, RailSpec
from guardrails.rail import Context, Decision, Guardrail, MessageKey, Tools, registry
from guardrails.redaction import redact_personal_data
from knowledge.models import SearchHit

log = logging.getLogger(__name__)


class PolicyRails:
    def __init__(self, policy: Policy, tools: Tools | None = None) -> None:
        self.policy = policy
        tools = tools or Tools()
        self.rails: dict[Stage, list[tuple[RailSpec, Guardrail]]] = {}
        for stage in ("input", "retrieval", "output"):
            built = []
            for i, spec in enumerate(policy.rails(stage)):
                rail_type = registry()[spec.rail]
                try:
                    built.append((spec, rail_type.build(rail_type.params.model_validate(spec.params), tools)))
                except Exception as exc:
                    raise PolicyError(f"policy {policy.label}: {stage}[{i}] ({spec.rail}) cannot start: {exc}") from exc
            self.rails[stage] = built
        self.partial = [(spec, rail) for spec, rail in self.rails["output"] if registry()[spec.rail].partial]

    @property
    def policy_version(self) -> str:
        return self.policy.label

    def snapshot(self) -> PolicyRails:
        return self

    def check_input(self, question: str, language: str) -> StageResult:
        scope = self.policy.scope
        return self.run("input", redact_personal_data(question).text,
                        Context("input", language, scope=scope.description, in_scope=scope.in_scope,
                                out_of_scope=scope.out_of_scope, names_read=True))

    def check_passages(self, passages: Sequence[SearchHit], language: str) -> PassageResult:
        """Each passage through the retrieval rails: one that fails a ``block`` rail (or whose rail
        errors) is quarantined, i.e. never shown to the model; the records name its source."""
        kept: list[SearchHit] = []
        records: list[GuardrailRecord] = []
        for hit in passages:
            result = self.run("retrieval", hit.text, Context("retrieval", language))
            where = f"{hit.source} chars {hit.start}-{hit.end}"
            for r in result.records:
                records.append(r.model_copy(update={"detail": f"{where}: {r.detail}" if r.detail else where}))
            if not result.blocked:
                kept.append(hit)
        return PassageResult(kept, records)

    def check_partial(self, answer: str, cited: Collection[int], passages: Sequence[SearchHit],
                      language: str) -> StageResult:
        return self.run("output", answer, self._output_context(cited, passages, language), self.partial)

    def check_output(self, answer: str, citations: Sequence[Citation], passages: Sequence[SearchHit],
                     language: str) -> StageResult:
        return self.run("output", answer, self._output_context({c.n for c in citations}, passages, language))

    def _output_context(self, cited: Collection[int], passages: Sequence[SearchHit], language: str) -> Context:
        texts = [p.text for n, p in enumerate(passages, 1) if n in cited] or [p.text for p in passages]
        return Context("output", language, passages=texts, disclaimer=self.policy.message("disclaimer", language))

    def run(self, stage: Stage, text: str, context: Context,
            rails: Sequence[tuple[RailSpec, Guardrail]] | None = None) -> StageResult:
        result = StageResult(text)
        for spec, rail in self.rails[stage] if rails is None else rails:
            try:
                decision = rail.check(result.text, context)
            except Exception as exc:  # fail closed
                log.exception("rail %s (%s) raised; blocking", spec.rail, self.policy.label)
                decision = Decision("error", None, f"{type(exc).__name__}: the rail failed, so the text is blocked")
            result.records.append(GuardrailRecord(
                rail=spec.rail, stage=stage, verdict=decision.verdict, score=decision.score, detail=decision.detail,
                action=None if decision.verdict == "pass" else "block" if decision.verdict == "error" else spec.action,
                policy_version=self.policy.label))
            key: MessageKey = spec.message or rail.message
            if decision.verdict == "error" or (decision.verdict == "fail" and spec.action == "block"):
                if decision.text is not None:  # a blocked text is still recorded without what the rail removes
                    result.text = decision.text
                return self._blocked(result, "blocked" if decision.verdict == "error" else key, context.language)
            if decision.verdict == "fail" and spec.action == "redact":
                if decision.text is None:  # nothing to redact with: fail closed
                    return self._blocked(result, key, context.language)
                result.text = decision.text
            elif decision.verdict == "pass" and decision.text is not None:
                result.text = decision.text
        return result

    def _blocked(self, result: StageResult, key: MessageKey, language: str) -> StageResult:
        result.blocked = True
        result.message = self.policy.message(key, language)
        return result
