"""Incremental, crash-safe ingestion against a real embedded Chroma."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.models import DocumentRecord
from knowledge.store import now
from tests.fakes import content, waymark_cmd


@pytest.fixture
def corpus(tmp_path: Path, sample_corpus: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(sample_corpus, folder)
    return folder


def test_second_run_skips_unchanged_files(tmp_path: Path, corpus: Path) -> None:
    kb = KnowledgeBase.open(tmp_path / "data")
    first = kb.ingestor.ingest([corpus])
    assert first.count("added") == 8 and first.ok
    before = content(kb)
    second = kb.ingestor.ingest([corpus])
    assert second.count("unchanged") == 8 and second.count("added") == 0
    assert content(kb) == before


def test_changed_file_is_replaced_without_stale_chunks(tmp_path: Path, corpus: Path) -> None:
    kb = KnowledgeBase.open(tmp_path / "data")
    kb.ingestor.ingest([corpus])
    target = corpus / "erfaringer-fra-innovationsenheder.da.txt"
    old_ids = {cid for cid, _, meta, _ in kb.store.iter_chunks() if meta["source"] == target.name}
    target.write_text("Eksperimenter\n\nVi har nu kørt 99 eksperimenter med en ny ramme. "
                      "Budgettet er hævet til 750.000 kr. per eksperiment.\n", encoding="utf-8")
    report = kb.ingestor.ingest([corpus])
    assert report.count("updated") == 1 and report.count("unchanged") == 7
    chunks = [(cid, text) for cid, text, meta, _ in kb.store.iter_chunks() if meta["source"] == target.name]
    assert len(chunks) == 1 and "750.000 kr." in chunks[0][1]
    assert not old_ids & {cid for cid, _ in chunks}
    remaining = {cid for cid, _, _, _ in kb.store.iter_chunks()}
    assert not old_ids & remaining
    assert kb.store.document(target.name).chunks == 1  # type: ignore[union-attr]
    hits = kb.retriever.search("budget per experiment 750.000 kr.", k=3)
    assert hits[0].source == target.name and "750.000" in hits[0].text


def test_remove_deletes_document_and_chunks(tmp_path: Path, corpus: Path) -> None:
    kb = KnowledgeBase.open(tmp_path / "data")
    kb.ingestor.ingest([corpus])
    total = kb.store.count()
    doc = kb.store.document("dpia-for-ai-projects.en.pdf")
    assert doc is not None
    assert kb.store.remove("dpia-for-ai-projects.en.pdf")
    assert kb.store.document("dpia-for-ai-projects.en.pdf") is None
    assert kb.store.count() == total - doc.chunks
    assert all(h.source != doc.source for h in kb.retriever.search("DPIA review every 12 months", k=10))
    assert not kb.store.remove("dpia-for-ai-projects.en.pdf")


@pytest.mark.slow  # ~60 s: three full ingests of the sample corpus
def test_interrupted_write_is_cleaned_and_reingested(tmp_path: Path, corpus: Path) -> None:
    """The store-level crash window: record marked pending, some chunks written, then death."""
    clean = KnowledgeBase.open(tmp_path / "clean")
    clean.ingestor.ingest([corpus])

    kb = KnowledgeBase.open(tmp_path / "crashed")
    kb.ingestor.ingest([corpus])
    source = "safe-use-of-generative-ai.en.md"
    rec = kb.store.document(source)
    assert rec is not None
    kb.store._put_record(rec.model_copy(update={"sha256": "0" * 64}), "pending")
    kb.store.chunks.delete(where={"source": source})
    kb.store.chunks.add(ids=["half-written"], documents=["partial"], embeddings=[np.ones(384) / np.sqrt(384)],
                        metadatas=[{"source": source, "title": "x", "section": "", "language": "en",
                                    "start": 0, "end": 7, "page": -1, "index": 0, "doc_sha256": "0"}])
    assert all(h.chunk_id != "half-written" for h in kb.retriever.search("partial", k=10))
    assert source not in [d.source for d in kb.store.documents()]

    report = kb.ingestor.ingest([corpus])
    assert report.recovered == [source]
    assert report.count("added") == 1 and report.count("unchanged") == 7
    assert content(kb) == content(clean)


@pytest.mark.slow  # ~110 s: a real process killed mid-ingest, then two full ingests
def test_kill_mid_ingest_then_rerun_converges(tmp_path: Path, corpus: Path) -> None:
    """SIGKILL a real `waymark ingest` at several points; a re-run gives the clean content."""
    big = corpus / "extra"
    big.mkdir()
    base = (corpus / "safe-use-of-generative-ai.en.md").read_text(encoding="utf-8")
    for i in range(4):
        (big / f"extra-{i}.md").write_text(f"# Extra note {i}\n\n" + base.replace("#", "##") * 2, encoding="utf-8")
    clean = KnowledgeBase.open(tmp_path / "clean")
    assert clean.ingestor.ingest([corpus]).ok

    data = tmp_path / "killed"
    kills = 0
    for delay in (0.0, 0.7, 1.5):
        proc = subprocess.Popen([*waymark_cmd(), "--data-dir", str(data), "ingest", str(corpus)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the first finished file: we are now mid-run
        time.sleep(delay)
        if proc.poll() is None and line:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=120)
    assert kills >= 2, "the ingest finished before it could be killed; make the corpus larger"
    rerun = subprocess.run([*waymark_cmd(), "--data-dir", str(data), "ingest", str(corpus)],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert content(KnowledgeBase.open(data)) == content(clean)


def test_documents_listing_excludes_pending(tmp_path: Path) -> None:
    kb = KnowledgeBase.open(tmp_path / "data")
    rec = DocumentRecord(source="a.txt", path="/a.txt", title="A", language="en", format="txt",
                         sha256="1" * 64, chunks=0, ingested_at=now())
    kb.store._put_record(rec, "pending")
    assert kb.store.documents() == []
    assert kb.store.pending_sources() == ["a.txt"]
    assert kb.store.recover() == ["a.txt"]
    assert kb.store.documents(include_pending=True) == []


def test_new_chunking_settings_reingest_unchanged_files(tmp_path: Path, sample_corpus: Path) -> None:
    from knowledge.chunking import ChunkingConfig

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(sample_corpus / "conseils-redaction-prompts.fr.md", folder)
    kb = KnowledgeBase.open(tmp_path / "data")
    first = kb.ingestor.ingest([folder])
    assert first.count("added") == 1
    small = KnowledgeBase.open(tmp_path / "data", chunking=ChunkingConfig(target_tokens=80, max_tokens=120))
    report = small.ingestor.ingest([folder])
    assert report.count("updated") == 1
    assert report.outcomes[0].chunks > first.outcomes[0].chunks
    assert small.store.count() == report.outcomes[0].chunks
    assert small.ingestor.ingest([folder]).count("unchanged") == 1
