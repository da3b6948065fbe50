"""Retrieval metrics over question sets: hit@1, hit@k and MRR, at document and passage level.

A case names the file that answers it and, optionally, a verbatim ``evidence`` span from that
file. A document hit is a result from that file; a passage hit is a result whose span holds
the evidence (located by its offsets in the ingested text, so it checks exact citations).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from evals.stats import Rate
from knowledge.loaders import load_document
from knowledge.models import SearchHit


class RetrievalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    question_language: str
    source: str
    answer: str | None = None
    evidence: str | None = None


class CaseSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: list[RetrievalCase]


def load_cases(path: Path) -> list[RetrievalCase]:
    return CaseSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).cases


@dataclass
class CaseResult:
    case: RetrievalCase
    doc_rank: int | None
    passage_rank: int | None
    error: str | None = None


@dataclass
class RetrievalReport:
    k: int
    results: list[CaseResult] = field(default_factory=list)

    def _rate(self, attr: str, within: int) -> Rate:
        ok = sum(1 for r in self.results
                 if (rank := getattr(r, attr)) is not None and rank <= within)
        return Rate(ok, len(self.results))

    def hit(self, at: int, passage: bool = False) -> Rate:
        return self._rate("passage_rank" if passage else "doc_rank", at)

    def mrr(self, passage: bool = False) -> float | None:
        if not self.results:
            return None
        attr = "passage_rank" if passage else "doc_rank"
        ranks: list[int] = [r for x in self.results if (r := getattr(x, attr))]
        return sum(1 / r for r in ranks) / len(self.results)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.error)


Search = Callable[[str, int], Sequence[SearchHit]]


def evaluate(search: Search, cases: Sequence[RetrievalCase], k: int = 5,
             evidence_offsets: dict[str, tuple[int, int]] | None = None) -> RetrievalReport:
    """Run each case through ``search``; an exception counts as a miss with its error kept.

    ``evidence_offsets`` maps case id to the evidence's (start, end) in the ingested text."""
    report = RetrievalReport(k)
    for case in cases:
        try:
            hits = search(case.question, k)
        except Exception as exc:
            report.results.append(CaseResult(case, None, None, f"{type(exc).__name__}: {exc}"))
            continue
        doc_rank = next((h.rank for h in hits if h.source == case.source), None)
        passage_rank = None
        span = (evidence_offsets or {}).get(case.id)
        if span:
            passage_rank = next((h.rank for h in hits if h.source == case.source
                                 and h.start <= span[0] and span[1] <= h.end), None)
        report.results.append(CaseResult(case, doc_rank, passage_rank))
    return report


def evidence_offsets(cases: Sequence[RetrievalCase], folder: Path) -> dict[str, tuple[int, int]]:
    """Where each case's evidence stands in its document's ingested text (cases whose
    evidence is not found verbatim are left out, and so never count as passage hits)."""

    texts: dict[str, str] = {}
    spans = {}
    for case in cases:
        if not case.evidence:
            continue
        if case.source not in texts:
            texts[case.source] = load_document(folder / case.source, 1 << 30).text
        at = texts[case.source].find(case.evidence)
        if at >= 0:
            spans[case.id] = (at, at + len(case.evidence))
    return spans
