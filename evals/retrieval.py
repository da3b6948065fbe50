"""Retrieval metrics over question sets: hit@1, hit@k and MRR, at document and passage level.

Scored on a suite's answerable cases (``evals.suite.Case``): each names the files that answer it and,
optionally, a verbatim ``evidence`` span from one of them. A document hit is a result from one of those
files; a passage hit is a result whose span holds the evidence (located by its offsets in the ingested
text, so it checks exact citations). The seeds suite's answerable cases (90 since issue 19) are the retrieval figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evals.stats import Rate
from evals.suite import Case, Suite
from knowledge.loaders import load_document
from knowledge.models import SearchHit


def retrieval_cases(suite: Suite) -> list[Case]:
    """The suite's answerable cases that name their source documents (the ones retrieval can be scored on)."""
    return [c for c in suite.cases if c.kind == "answerable" and c.sources]


def cross_lingual(case: Case) -> bool:
    """The question's language differs from every source's (``name.LANG.ext``)."""
    return all(Path(s).suffixes[-2:-1] != [f".{case.language}"] for s in case.sources)


@dataclass
class CaseResult:
    case: Case
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


def evaluate(search: Search, cases: Sequence[Case], k: int = 5,
             evidence_offsets: dict[str, tuple[str, tuple[int, int]]] | None = None) -> RetrievalReport:
    """Run each case through ``search``; an exception counts as a miss with its error kept.

    ``evidence_offsets`` maps case id to the evidence's (source, (start, end)) in the ingested text."""
    report = RetrievalReport(k)
    for case in cases:
        try:
            hits = search(case.question, k)
        except Exception as exc:
            report.results.append(CaseResult(case, None, None, f"{type(exc).__name__}: {exc}"))
            continue
        doc_rank = next((h.rank for h in hits if h.source in case.sources), None)
        passage_rank = None
        found = (evidence_offsets or {}).get(case.id)
        if found:
            source, span = found
            passage_rank = next((h.rank for h in hits if h.source == source
                                 and h.start <= span[0] and span[1] <= h.end), None)
        report.results.append(CaseResult(case, doc_rank, passage_rank))
    return report


def evidence_offsets(cases: Sequence[Case], folder: Path) -> dict[str, tuple[str, tuple[int, int]]]:
    """Where each case's evidence stands in its source's ingested text, as (source, (start, end)): the
    first of the case's sources that holds it verbatim. Cases whose evidence no source holds are left
    out, and so never count as passage hits."""

    texts: dict[str, str] = {}
    spans = {}
    for case in cases:
        for source in case.sources if case.evidence else []:
            if source not in texts:
                texts[source] = load_document(folder / source, 1 << 30).text
            at = texts[source].find(case.evidence or "")
            if at >= 0:
                spans[case.id] = (source, (at, at + len(case.evidence or "")))
                break
    return spans
