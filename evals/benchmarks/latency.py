"""Query latency at 1k, 10k and 100k chunks (synthetic chunks, real query path).

Chunks get random unit vectors, random sparse vectors and random multilingual text, written
through ``KnowledgeStore.replace`` as the ingester does; queries go through the product's
``Retriever`` (real E5 query embedding, Chroma HNSW, the lexical index, fusion, dedup).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.benchmarks.common import peak_rss_mb, table
from evals.stats import percentile
from knowledge.embeddings import E5Embedder
from knowledge.lexical import encode_sparse
from knowledge.models import Chunk, DocumentRecord
from knowledge.retrieval import RetrievalConfig, Retriever
from knowledge.store import KnowledgeStore, now, open_client

QUERIES = [
    "How often must a DPIA be reviewed?", "Which tools are approved for OFFICIAL data?",
    "Combien de temps dure un projet pilote ?", "Hvor stort er budgettet for eksperimenter?",
    "כמה זמן נשמרת היסטוריית השיחות?", "What does an AI champion do each week?",
    "How do I report an AI incident?", "Quels sont les critères de réussite d'un pilote ?",
    "What must never be pasted into a chatbot?", "Who signs off a high-risk AI project?",
]
PER_DOC = 1000


def _fill(store: KnowledgeStore, n: int, rng: np.random.Generator, words: list[str]) -> float:
    t = time.perf_counter()
    for d in range(n // PER_DOC):
        source = f"synthetic-{d:04d}.txt"
        sha = f"{d:064x}"
        chunks = [Chunk(id=f"s{d}-{i}", source=source, title=source, section=None,
                        language=random.choice(["en", "fr", "da", "he"]),
                        text=" ".join(random.choices(words, k=120)), start=0, end=1, page=None,
                        index=i, doc_sha256=sha) for i in range(PER_DOC)]
        vecs = rng.standard_normal((PER_DOC, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        sparse = [encode_sparse(rng.choice(16384, 128, replace=False).astype(np.int32),
                                rng.random(128).astype(np.float32)) for _ in range(PER_DOC)]
        store.replace(DocumentRecord(source=source, path=source, title=source, language="en",
                                     format="txt", sha256=sha, chunks=PER_DOC, ingested_at=now()),
                      chunks, vecs, sparse)
    return time.perf_counter() - t


def run(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> str:
    rng = np.random.default_rng(0)
    random.seed(0)
    words = sorted({w.strip(".,?") for q in QUERIES for w in q.split()} |
                   {f"term{i}" for i in range(5000)})
    emb = E5Embedder()
    emb.query("warm up")
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = KnowledgeStore(open_client(Path(tmp)), "bench")
            fill_s = _fill(store, n, rng, words)
            for name, cfg in (("dense only", RetrievalConfig(lexical="none")),
                              ("hybrid dense+sparse", RetrievalConfig(lexical="sparse")),
                              ("hybrid dense+bm25", RetrievalConfig(lexical="bm25"))):
                retriever = Retriever(store, emb, cfg, Path(tmp) / "cache")
                t = time.perf_counter()
                retriever.search("warm up the lexical index", 5)
                first = time.perf_counter() - t
                times = []
                for q in QUERIES * 3:
                    t = time.perf_counter()
                    retriever.search(q, 5)
                    times.append((time.perf_counter() - t) * 1000)
                rows.append([f"{n:,}", name, f"{percentile(times, 50):.0f}", f"{percentile(times, 95):.0f}",
                             f"{first:.1f}", f"{fill_s:.0f}", f"{peak_rss_mb():.0f}"])
    return table(["chunks", "retrieval", "p50 ms", "p95 ms", "first query s (index build)",
                  "write s", "peak RSS MB (process)"], rows)


if __name__ == "__main__":
    import sys

    print(run(tuple(int(x) for x in sys.argv[1:]) or (1_000, 10_000, 100_000)))
