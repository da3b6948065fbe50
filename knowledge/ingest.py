"""Incremental, crash-safe ingestion keyed by content hash.

Per file: hash the bytes; an unchanged file is skipped; otherwise load, chunk and embed it
fully in memory, and only then replace its chunks in the store. A file that fails at any
step gets one plain line in the report and leaves the index as it was.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.chunking import ChunkingConfig, chunk_document
from knowledge.embeddings import EF_NAME, SPARSE_TOP_K, E5Embedder
from knowledge.lexical import encode_sparse
from knowledge.loaders import MAX_CHARS, MAX_INFLATED, LoadError, load_document
from knowledge.models import Chunk, DocumentRecord
from knowledge.store import KnowledgeStore, WriteFailed, kept, now
from knowledge.writer_lock import NoSpace, writer_lock

Status = Literal["added", "updated", "unchanged", "failed"]
Progress = Callable[[str, int, int], None]
"""Called as ``progress(event, done, total)``; events: ``files`` and ``chunks``."""


@dataclass
class FileOutcome:
    path: str
    source: str
    status: Status
    chunks: int = 0
    error: str | None = None

    def line(self) -> str:
        if self.status == "failed":
            return f"FAILED     {self.path}: {self.error}"
        return f"{self.status:<10} {self.path} ({self.chunks} chunks)"


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "failed")]
        chunks = sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))
        return f"{len(self.outcomes)} files: " + ", ".join(parts) + f"; {chunks} chunks written"


def collect_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and every non-hidden file below a given folder, in name order."""
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(path)
                if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield p
        else:
            yield path  # a missing or unreadable path is reported by the loader


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def embedding_text(chunk: Chunk) -> str:
    """What the embedder sees: the chunk with its document title and section as context."""
    head = chunk.title if not chunk.section or chunk.section == chunk.title else f"{chunk.title} — {chunk.section}"
    return f"{head}\n{chunk.text}"


class Ingestor:
    def __init__(self, store: KnowledgeStore, embedder: E5Embedder, chunking: ChunkingConfig,
                 max_bytes: int, batch_size: int = 16, *, max_inflated: int = MAX_INFLATED,
                 max_chars: int = MAX_CHARS, lock: Path | None = None, space: Path | None = None,
                 min_free: int = 0) -> None:
        self.store = store
        self.space, self.min_free = space, min_free
        """The folder whose disk the embedded index writes to, and the free bytes it must keep there: Chroma
        left a document out of the index when its disk filled mid-write (docs/decisions/0010). None: a server."""
        self.lock = lock
        """The index's writer lock file (``knowledge.writer_lock``); None: not locked."""
        self.embedder = embedder
        self.chunking = chunking
        self.max_bytes = max_bytes
        self.max_inflated, self.max_chars = max_inflated, max_chars
        self.batch_size = batch_size
        recipe = f"{chunking.model_dump_json()}|{EF_NAME}|header-v1|sparse-top{SPARSE_TOP_K}"
        self.pipeline = hashlib.sha256(recipe.encode()).hexdigest()[:12]

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None,
               on_file: Callable[[FileOutcome], None] | None = None) -> IngestReport:
        with writer_lock(self.lock):  # raises IndexBusy while another writer holds it
            return self._ingest(paths, progress, on_file)

    def remove(self, sources: Iterable[str]) -> list[str]:
        """Remove documents (under the writer lock); returns those that existed."""
        with writer_lock(self.lock):
            return [s for s in sources if self.store.remove(s)]

    def check(self, repair: bool = False) -> list[tuple[str, int, int]]:
        """Complete records whose chunk count disagrees with the index, as (source, recorded, found); with
        ``repair`` each is marked pending and recovered, so the next ingest of its file adds it again."""
        with writer_lock(self.lock):
            return self._repair() if repair else self.store.inconsistent()

    def _short_of_space(self, writing: int) -> str | None:
        """Why ``writing`` more bytes (an estimate, with the index's overheads) would leave the index's disk
        below its floor, or None when there is room (or nothing to measure)."""
        if self.space is None or not self.min_free:
            return None
        try:
            free = shutil.disk_usage(self.space).free
        except OSError:
            return None  # the write itself will say what is wrong
        need = self.min_free + writing
        if free >= need:
            return None
        return (f"only {_size(free)} free on the disk of {self.space}, and writing the index safely needs "
                f"{_size(need)} (WAYMARK_MIN_FREE_MB sets the floor); free space and ingest again")

    def _repair(self) -> list[tuple[str, int, int]]:
        """Remove each record that disagrees with the index (held lock assumed), so its file is added again."""
        broken = self.store.inconsistent()
        for source, _, _ in broken:
            self.store.remove(source)
        return broken

    def _ingest(self, paths: Iterable[Path], progress: Progress | None,
                on_file: Callable[[FileOutcome], None] | None) -> IngestReport:
        if problem := self._short_of_space(0):
            raise NoSpace(f"{problem}; nothing was changed")
        report = IngestReport(recovered=self.store.recover())  # under the lock: their writers are gone
        # a record that disagrees with the index is never "unchanged"
        report.recovered += sorted({source for source, _, _ in self._repair()})
        files = list(collect_files(paths))
        seen: dict[str, Path] = {}
        for done, path in enumerate(files):
            if progress:
                progress("files", done, len(files))
            outcome = self._one(path, seen, progress)
            report.outcomes.append(outcome)
            if on_file:
                on_file(outcome)
        if progress:
            progress("files", len(files), len(files))
        return report

    def _one(self, path: Path, seen: dict[str, Path], progress: Progress | None) -> FileOutcome:
        source = path.name
        shown = str(path)
        if source in seen and seen[source].resolve() != path.resolve():
            return FileOutcome(shown, source, "failed", error=(
                f"another file named '{source}' was already ingested in this run ({seen[source]}); "
                "documents are keyed by file name"))
        seen[source] = path
        existing = self.store.document(source)
        try:
            if existing and path.is_file() and path.stat().st_size <= self.max_bytes \
                    and existing.sha256 == file_sha256(path) and existing.pipeline == self.pipeline:
                return FileOutcome(shown, source, "unchanged", existing.chunks)
            doc = load_document(path, self.max_bytes, max_inflated=self.max_inflated, max_chars=self.max_chars)
            chunks = chunk_document(doc, self.chunking, self.embedder.count_tokens)
            vectors: list[np.ndarray] = []
            sparse: list[str] = []
            for i in range(0, len(chunks), self.batch_size):
                texts = [embedding_text(c) for c in chunks[i:i + self.batch_size]]
                vectors.append(self.embedder.passages(texts))
                sparse.extend(encode_sparse(idx, val) for idx, val in self.embedder.sparse(texts))
                if progress:
                    progress("chunks", min(i + self.batch_size, len(chunks)), len(chunks))
        except LoadError as err:
            return FileOutcome(shown, source, "failed", error=str(err))
        except OSError as err:
            return FileOutcome(shown, source, "failed", error=f"cannot read the file: {err.strerror or err}")
        record = DocumentRecord(
            source=source, path=doc.path, title=doc.title, language=doc.language,
            format=doc.format, sha256=doc.sha256, chunks=len(chunks), ingested_at=now(),
            pipeline=self.pipeline,
        )
        matrix = np.concatenate(vectors)
        if problem := self._short_of_space(4 * (matrix.nbytes + sum(len(c.text.encode()) + 512 for c in chunks))):
            return FileOutcome(shown, source, "failed", error=f"not written: {problem}; {kept(existing is not None)}")
        try:
            self.store.replace(record, chunks, matrix, sparse)
        except WriteFailed as err:
            return FileOutcome(shown, source, "failed", error=str(err))
        return FileOutcome(shown, source, "updated" if existing else "added", len(chunks))


def _size(n: int) -> str:
    """``n`` bytes in the largest unit that keeps at least two significant digits (1040 KiB, not 1.0 MiB)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= 10 * scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} bytes"
