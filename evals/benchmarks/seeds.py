"""Our 30 cross-lingual cases over ../shared/seeds, through the real ingest and retriever."""

from __future__ import annotations

import tempfile
from pathlib import Path

from evals.benchmarks.common import REPO, SHARED, table
from evals.retrieval import evaluate, evidence_offsets, load_cases
from knowledge.base import KnowledgeBase
from knowledge.retrieval import RetrievalConfig, Retriever

CASES = REPO / "tests" / "data" / "seeds_crosslingual.yaml"
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
    cases = load_cases(CASES)
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
    note = (f"{len(cases)} cases ({sum(c.question_language == 'en' and not c.id.startswith('ctl') for c in cases)} "
            "English questions answered only by the he/da/fr documents, 9 he/fr/da questions answered "
            "by another language's document, 5 same-language controls). Document hit = a result from "
            "the right file; passage hit = a result whose span holds the verbatim evidence. "
            "Rates: value [95% Wilson interval] (n).\n\n")
    return note + table(["method", "doc hit@1", "doc hit@5", "doc MRR", "passage hit@1",
                         "passage hit@5", "passage MRR", "errors"], rows)


if __name__ == "__main__":
    print(run())
