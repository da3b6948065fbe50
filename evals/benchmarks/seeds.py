"""The seeds suite's answerable cases (90) over ../shared/seeds, through the real ingest and retriever."""

from __future__ import annotations

import tempfile
from pathlib import Path

from evals.benchmarks.common import SHARED, table
from evals.retrieval import cross_lingual, evaluate, evidence_offsets, retrieval_cases
from evals.suite import load
from knowledge.base import KnowledgeBase
from knowledge.retrieval import RetrievalConfig, Retriever

METHODS = {
    "dense": RetrievalConfig(lexical="none"),
    "bm25": RetrievalConfig(dense=False, lexical="bm25"),
    "sparse": RetrievalConfig(dense=False, lexical="sparse"),
    "dense+bm25": RetrievalConfig(lexical="bm25"),
    "dense+sparse": RetrievalConfig(lexical="sparse"),
    "dense+sparse (w=0.5)": RetrievalConfig(lexical="sparse", lexical_weight=0.5),
    "dense+sparse (w=2)": RetrievalConfig(lexical="sparse", lexical_weight=2.0),
}


def run() -> str:
    folder = SHARED / "seeds"
    if not folder.exists():
        return "Skipped: ../shared/seeds is absent."
    cases = retrieval_cases(load("seeds")[0])
    spans = evidence_offsets(cases, folder)
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.open(Path(tmp))
        kb.ingestor.ingest([folder])
        rows = []
        for name, cfg in METHODS.items():
            retriever = Retriever(kb.store, kb.embedder, cfg)
            rep = evaluate(lambda q, k, r=retriever: r.search(q, k), cases, 5, spans)  # type: ignore[misc]
            rows.append([name, str(rep.hit(1)), str(rep.hit(5)), f"{rep.mrr():.3f}",
                         str(rep.hit(1, True)), str(rep.hit(5, True)), f"{rep.mrr(True):.3f}",
                         str(rep.errors)])
    cross = [c for c in cases if cross_lingual(c)]
    english = sum(c.language == "en" for c in cross)
    note = (f"The shipped seeds suite's {len(cases)} answerable cases: {english} English questions answered only "
            f"by the he/da/fr documents, {len(cross) - english} he/fr/da questions answered by another "
            f"language's document, {len(cases) - len(cross)} same-language controls. Document hit = a result "
            "from a right file; passage hit = a result whose span holds the verbatim evidence. "
            "Rates: value [95% Wilson interval] (n).\n\n")
    return note + table(["method", "doc hit@1", "doc hit@5", "doc MRR", "passage hit@1",
                         "passage hit@5", "passage MRR", "errors"], rows)


if __name__ == "__main__":
    print(run())
