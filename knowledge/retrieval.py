"""Hybrid retrieval: dense (Chroma, E5 cosine) + lexical (BM25 or E5 sparse), fused by
reciprocal rank fusion, filtered by source/language, with near-duplicates collapsed."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from knowledge.lexical import BM25Index, LexicalIndex, SparseIndex, decode_sparse
from knowledge.models import SearchHit

if TYPE_CHECKING:
    from knowledge.embeddings import E5Embedder
    from knowledge.store import KnowledgeStore


class RetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(5, ge=1, le=100)
    lexical: Literal["bm25", "sparse", "none"] = "sparse"
    dense: bool = True
    rrf_k: int = Field(60, ge=1)
    lexical_weight: float = Field(1.0, ge=0.0, le=4.0)
    candidates: int = Field(40, ge=1)
    dedup: bool = True
    dedup_threshold: float = Field(0.9, gt=0.0, le=1.0)
    """Word-shingle Jaccard at or above which two chunks count as near-duplicates."""


def rrf(rankings: Sequence[tuple[Sequence[str], float]], k: int) -> dict[str, float]:
    """Reciprocal rank fusion: ``sum(weight / (k + rank))`` over the rankings (rank from 1)."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return fused


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def where_clause(sources: Sequence[str] | None = None, languages: Sequence[str] | None = None,
                 exclude_sources: Sequence[str] = ()) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = []
    if sources:
        parts.append({"source": {"$in": list(sources)}})
    if languages:
        parts.append({"language": {"$in": list(languages)}})
    if exclude_sources:
        parts.append({"source": {"$nin": list(exclude_sources)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


class Retriever:
    def __init__(self, store: KnowledgeStore, embedder: E5Embedder, config: RetrievalConfig,
                 cache_dir: Path | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config
        self.cache_dir = cache_dir
        self._lexical: tuple[str, LexicalIndex, dict[str, tuple[str, str]]] | None = None

    # --- lexical index, rebuilt only when the store's content changes ------------------------
    def lexical_index(self, fingerprint: str | None = None) -> tuple[LexicalIndex, dict[str, tuple[str, str]]]:
        key = f"{self.config.lexical}-{fingerprint or self.store.fingerprint()}"
        if self._lexical and self._lexical[0] == key:
            return self._lexical[1], self._lexical[2]
        index, meta = self._load_cached(key) or self._build(key)
        self._lexical = (key, index, meta)
        return index, meta

    def _load_cached(self, key: str) -> tuple[LexicalIndex, dict[str, tuple[str, str]]] | None:
        if self.cache_dir is None or not (self.cache_dir / key / "filters.json").exists():
            return None
        path = self.cache_dir / key
        try:
            raw = json.loads((path / "filters.json").read_text())
            index: LexicalIndex = (SparseIndex.load(path, self.embedder) if self.config.lexical == "sparse"
                                   else BM25Index.load(path))
        except (OSError, ValueError, KeyError):
            shutil.rmtree(path, ignore_errors=True)
            return None
        return index, {k: (v[0], v[1]) for k, v in raw.items()}

    def _build(self, key: str) -> tuple[LexicalIndex, dict[str, tuple[str, str]]]:
        ids, texts, vectors, meta = [], [], [], {}
        for cid, text, m, _ in self.store.iter_chunks():
            ids.append(cid)
            texts.append(text)
            meta[cid] = (str(m["source"]), str(m["language"]))
            if self.config.lexical == "sparse":
                stored = m.get("sparse")
                vectors.append(decode_sparse(stored) if isinstance(stored, str)
                               else self.embedder.sparse([text])[0])
        index: BM25Index | SparseIndex = (SparseIndex.build(ids, vectors, self.embedder)
                                          if self.config.lexical == "sparse" else BM25Index.build(ids, texts))
        if self.cache_dir is not None:
            for old in self.cache_dir.glob(f"{self.config.lexical}-*"):
                shutil.rmtree(old, ignore_errors=True)
            path = self.cache_dir / key
            index.save(path)
            (path / "filters.json").write_text(json.dumps(meta))
        return index, meta

    # --- search ----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, sources: Sequence[str] | None = None,
               languages: Sequence[str] | None = None, also: Sequence[str] = ()) -> list[SearchHit]:
        """The ``k`` best chunks for ``query``. Each text in ``also`` (e.g. the question's English translation)
        is searched the same way and its rankings join the same fusion; a chunk's similarity is its best over
        every query."""
        cfg = self.config
        k = k or cfg.k
        n = max(cfg.candidates, 2 * k)
        fingerprint, pending = self.store.state()
        texts = list(dict.fromkeys([query, *(a for a in also if a.strip())]))
        qvecs = [self.embedder.query(text) for text in texts]

        rankings: list[tuple[list[str], float]] = []
        first_dense: list[str] = []
        first_lexical: list[str] = []
        pivot_sim: dict[str, float] = {}
        where = where_clause(sources, languages, pending)
        for text, qvec in zip(texts, qvecs, strict=True):
            if cfg.dense:
                sims = dict(self.store.query(qvec, n, where))
                # a non-English chunk also competes through its English translation, if it has one
                pivots = dict(self.store.query(qvec, n, where, pivot=True))
                for cid, sim in pivots.items():
                    sims[cid] = max(sim, sims.get(cid, -1.0))
                    pivot_sim[cid] = max(sim, pivot_sim.get(cid, -1.0))
                dense_ids = sorted(sims, key=lambda cid: -sims[cid])[:n]
                rankings.append((dense_ids, 1.0))
                first_dense = first_dense or dense_ids
            if cfg.lexical != "none" and cfg.lexical_weight > 0:
                lexical_ids = self._lexical_top(text, n, sources, languages, pending, fingerprint)
                rankings.append((lexical_ids, cfg.lexical_weight))
                first_lexical = first_lexical or lexical_ids

        fused = rrf(rankings, cfg.rrf_k)
        order = sorted(fused, key=lambda cid: -fused[cid])[: 3 * k]
        got = self.store.get(order)
        dense_rank = {cid: i for i, cid in enumerate(first_dense, start=1)}
        lexical_rank = {cid: i for i, cid in enumerate(first_lexical, start=1)}

        hits: list[SearchHit] = []
        kept: list[set[tuple[str, ...]]] = []
        for cid in order:
            if cid not in got:
                continue
            text, meta, emb = got[cid]
            sh = shingles(text)
            if cfg.dedup and any(jaccard(sh, other) >= cfg.dedup_threshold for other in kept):
                continue
            kept.append(sh)
            hits.append(SearchHit(
                rank=len(hits) + 1, chunk_id=cid, source=meta["source"], title=meta["title"],
                section=meta["section"] or None, language=meta["language"], text=text,
                start=meta["start"], end=meta["end"],
                page=meta["page"] if meta["page"] >= 0 else None, score=round(fused[cid], 6),
                similarity=round(max(*(float(np.dot(q, emb)) for q in qvecs), pivot_sim.get(cid, -1.0)), 6),
                dense_rank=dense_rank.get(cid), lexical_rank=lexical_rank.get(cid),
            ))
            if len(hits) == k:
                break
        return hits

    def _lexical_top(self, query: str, n: int, sources: Sequence[str] | None,
                     languages: Sequence[str] | None, pending: Sequence[str], fingerprint: str) -> list[str]:
        index, meta = self.lexical_index(fingerprint)
        if not index.ids:
            return []
        scores = index.scores(query)
        allowed = np.array([
            (not sources or meta[c][0] in sources) and (not languages or meta[c][1] in languages)
            and meta[c][0] not in pending for c in index.ids
        ]) if (sources or languages or pending) else np.ones(len(index.ids), dtype=bool)
        scores = np.where(allowed & (scores > 0), scores, -np.inf)
        top = np.argsort(-scores, kind="stable")[:n]
        return [index.ids[i] for i in top if np.isfinite(scores[i])]
