"""Retrieval quality on XQuAD (../shared/data): dense, lexical and fused rankings.

Each XQuAD paragraph is one passage; a question hits when its own paragraph is retrieved.
Scenarios: English questions against English, German and Spanish paragraphs, and German and
Spanish questions against their own language. Embeddings are computed once per language and
every method ranks the same vectors, using the product's own ``BM25Index``, ``SparseIndex``
and ``rrf``, so the comparison isolates the signals and their fusion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evals.benchmarks.common import SHARED, table
from knowledge.embeddings import E5Embedder
from knowledge.lexical import BM25Index, LexicalIndex, SparseIndex
from knowledge.retrieval import rrf

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass
class _Signals:
    dense: NDArray[np.float32]
    bm25: BM25Index
    sparse: SparseIndex


SCENARIOS = [("en", "en"), ("en", "de"), ("en", "es"), ("de", "de"), ("es", "es")]
DEPTH = 100


def load_xquad(lang: str) -> tuple[list[str], list[str], list[int]]:
    data = json.loads((SHARED / "data" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    paragraphs, questions, gold = [], [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            paragraphs.append(para["context"])
            for qa in para["qas"]:
                questions.append(qa["question"])
                gold.append(len(paragraphs) - 1)
    return paragraphs, questions, gold


def metrics(ranked: list[list[int]], gold: list[int]) -> tuple[float, float, float]:
    h1 = h5 = rr = 0.0
    for order, g in zip(ranked, gold, strict=True):
        if g in order:
            r = order.index(g) + 1
            h1 += r == 1
            h5 += r <= 5
            rr += 1 / r
    n = len(gold)
    return h1 / n, h5 / n, rr / n


def run(limit: int | None = None, log: Callable[[str], None] = print) -> str:
    if not (SHARED / "data" / "xquad.en.json").exists():
        return "XQuAD skipped: ../shared/data is absent."
    emb = E5Embedder()
    langs = sorted({lang for pair in SCENARIOS for lang in pair})
    paras: dict[str, _Signals] = {}
    questions: dict[str, tuple[list[str], list[int], NDArray[np.float32]]] = {}
    for lang in langs:
        t = time.time()
        texts, asked, gold_ids = load_xquad(lang)
        if limit:
            asked, gold_ids = asked[:limit], gold_ids[:limit]
        ids = [str(i) for i in range(len(texts))]
        paras[lang] = _Signals(emb.passages(texts), BM25Index.build(ids, texts),
                               SparseIndex.build(ids, emb.sparse(texts), emb))
        questions[lang] = (asked, gold_ids, emb.queries(asked))
        log(f"  embedded xquad.{lang}: {len(texts)} paragraphs, {len(asked)} questions in {time.time() - t:.0f}s")

    rows = []
    for qlang, plang in SCENARIOS:
        qs, gold, qvecs = questions[qlang]
        sig = paras[plang]
        dense_rank = [[int(i) for i in np.argsort(-(sig.dense @ v))[:DEPTH]] for v in qvecs]
        bm25_rank: list[list[int]] = []
        sparse_rank: list[list[int]] = []
        for q in qs:
            lexical: list[tuple[LexicalIndex, list[list[int]]]] = [(sig.bm25, bm25_rank),
                                                                   (sig.sparse, sparse_rank)]
            for index, out in lexical:
                s = index.scores(q)
                out.append([int(i) for i in np.argsort(-s)[:DEPTH] if s[i] > 0])
        methods = {
            "dense": dense_rank, "bm25": bm25_rank, "sparse": sparse_rank,
            "dense+bm25": _fuse(dense_rank, bm25_rank), "dense+sparse": _fuse(dense_rank, sparse_rank),
            "dense+sparse (w=0.5)": _fuse(dense_rank, sparse_rank, 0.5),
            "dense+sparse+bm25": _fuse(dense_rank, sparse_rank, 1.0, bm25_rank),
        }
        for name, ranked in methods.items():
            h1, h5, mrr = metrics(ranked, gold)
            rows.append([f"{qlang}→{plang}", name, f"{h1:.3f}", f"{h5:.3f}", f"{mrr:.3f}", str(len(gold))])
        log(f"  scored {qlang}→{plang}")
    return table(["questions→paragraphs", "method", "hit@1", "hit@5", "MRR", "n"], rows)


def _fuse(a: list[list[int]], b: list[list[int]], wb: float = 1.0,
          c: list[list[int]] | None = None) -> list[list[int]]:
    out = []
    for i in range(len(a)):
        lists = [([str(x) for x in a[i]], 1.0), ([str(x) for x in b[i]], wb)]
        if c is not None:
            lists.append(([str(x) for x in c[i]], 1.0))
        fused = rrf(lists, 60)
        out.append([int(x) for x in sorted(fused, key=lambda k: -fused[k])[:DEPTH]])
    return out


if __name__ == "__main__":
    import sys

    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else None))
