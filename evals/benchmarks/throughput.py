"""Ingestion throughput (chunks/s, end to end) beside the embedder's raw throughput."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from evals.benchmarks.common import SAMPLE, SHARED, table
from knowledge.base import KnowledgeBase
from knowledge.chunking import ChunkingConfig, chunk_document
from knowledge.embeddings import E5Embedder
from knowledge.ingest import collect_files, embedding_text
from knowledge.loaders import load_document


def run() -> str:
    folders = [SAMPLE]
    if (SHARED / "seeds").exists():
        folders.append(SHARED / "seeds")
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.open(Path(tmp))
        t = time.perf_counter()
        report = kb.ingestor.ingest(folders)
        ingest_s = time.perf_counter() - t
        chunks = kb.store.count()
    emb = E5Embedder()
    texts = []
    for f in collect_files(folders):
        doc = load_document(f, 50_000_000)
        texts += [embedding_text(c) for c in chunk_document(doc, ChunkingConfig(), emb.count_tokens)]
    t = time.perf_counter()
    for i in range(0, len(texts), 16):
        emb.passages(texts[i:i + 16])
    dense_s = time.perf_counter() - t
    t = time.perf_counter()
    emb.sparse(texts)
    sparse_s = time.perf_counter() - t
    rows = [
        ["ingest end to end (load, chunk, dense + sparse embed, write)", f"{chunks}",
         f"{ingest_s:.1f}", f"{chunks / ingest_s:.2f}"],
        ["embedder, dense only (batches of 16)", f"{len(texts)}", f"{dense_s:.1f}", f"{len(texts) / dense_s:.2f}"],
        ["embedder, sparse head only", f"{len(texts)}", f"{sparse_s:.1f}", f"{len(texts) / sparse_s:.2f}"],
    ]
    head = f"{len(report.outcomes)} files ({report.summary()})\n\n"
    return head + table(["what", "chunks", "seconds", "chunks/s"], rows)


if __name__ == "__main__":
    print(run())
