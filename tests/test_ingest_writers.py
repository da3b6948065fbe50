"""One writer at a time per index, and records that disagree with the index found and repaired."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.writer_lock import IndexBusy, NoSpace, opening_lock, writer_lock
from tests.fakes import first_call_fails, invoke

SMOKE = Path(__file__).resolve().parents[1] / "evals" / "suites" / "smoke_corpus"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SMOKE, folder)
    return folder


def test_a_second_ingest_never_recovers_the_record_another_is_writing(tmp_path: Path, corpus: Path) -> None:
    """The review's fault: ingest's start-up recovery deleted the pending record a concurrent ingest was
    writing, which then ended ``complete`` with 4 of 6 chunks and was skipped as unchanged for good."""
    kb = KnowledgeBase.open(tmp_path / "data")
    store = kb.store
    writing, release = threading.Event(), threading.Event()
    real_add = store.chunks.add
    first_result: list[object] = []

    def slow_add(**kwargs: object) -> None:
        real_add(**kwargs)  # type: ignore[arg-type]
        writing.set()
        release.wait(60)  # the first writer is mid-write, its record pending

    store.chunks.add = slow_add  # type: ignore[method-assign]
    first = threading.Thread(target=lambda: first_result.append(kb.ingestor.ingest([corpus])))
    first.start()
    assert writing.wait(60)
    assert store.pending_sources()
    other = KnowledgeBase.open(tmp_path / "data")  # another session on the same index
    with pytest.raises(IndexBusy, match="another ingestion is running"):
        other.ingestor.ingest([corpus])
    assert store.pending_sources()  # untouched
    release.set()
    first.join(60)
    store.chunks.add = real_add  # type: ignore[method-assign]
    assert first_result and first_result[0].ok  # type: ignore[attr-defined]
    assert store.inconsistent() == [] and not store.pending_sources()
    assert other.ingestor.ingest([corpus]).count("unchanged") == len(list(corpus.iterdir()))


def test_processes_open_a_new_embedded_index_one_at_a_time(tmp_path: Path) -> None:
    """Two ingests started together on an empty data directory raced in Chroma's schema migrations ("table
    collections already exists", 1 round in 6 with three processes; 0 in 8 with the lock): opening waits for the
    opening lock, whoever holds it."""
    data = tmp_path / "data"
    opened = threading.Event()
    with opening_lock(data / "locks" / "chroma-open.lock"):  # another process creating the index, as it were
        t = threading.Thread(target=lambda: (KnowledgeBase.open(data), opened.set()), daemon=True)
        t.start()
        assert not opened.wait(3.0)  # still waiting: it has not touched the index
        assert not (data / "chroma" / "chroma.sqlite3").exists()
    assert opened.wait(120)
    t.join(10)


def test_a_read_only_data_directory_opens_without_the_opening_lock(tmp_path: Path) -> None:
    missing = tmp_path / "file-not-dir"
    missing.write_text("x")
    with opening_lock(missing / "locks" / "chroma-open.lock"):  # cannot be made: no lock, no error
        pass


def test_the_lock_is_released_when_its_holder_ends_and_the_cli_says_busy(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    with writer_lock(data / "locks" / "waymark.lock"):
        busy = invoke(data, "ingest", str(corpus), env={"WAYMARK_TRANSLATE": "false"})
        assert busy.returncode == 1 and "another ingestion is running" in busy.stderr
        assert "another ingestion" in invoke(data, "docs", "remove", "x.txt").stderr
    assert invoke(data, "ingest", str(corpus), env={"WAYMARK_TRANSLATE": "false"}).returncode == 0


def test_a_record_that_disagrees_with_the_index_is_found_and_ingested_again(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    kb = KnowledgeBase.open(data)
    assert kb.ingestor.ingest([corpus]).ok
    record = max(kb.store.documents(), key=lambda r: r.chunks)
    ids = [cid for cid, _, meta, _ in kb.store.iter_chunks() if meta["source"] == record.source]
    assert len(ids) == record.chunks >= 1
    kb.store.chunks.delete(ids=ids[:1])  # what the review's race left: a complete record short of chunks
    assert kb.store.inconsistent() == [(record.source, record.chunks, record.chunks - 1)]
    checked = invoke(data, "docs", "check")
    assert checked.returncode == 1 and f"broken: {record.source}" in checked.stdout
    again = kb.ingestor.ingest([corpus])
    assert record.source in again.recovered
    assert {o.source: o.status for o in again.outcomes}[record.source] == "added"  # not "unchanged"
    assert kb.store.inconsistent() == [] and invoke(data, "docs", "check").returncode == 0


def test_a_failed_replace_keeps_the_previous_version_searchable_and_says_why(tmp_path: Path,
                                                                           corpus: Path) -> None:
    """The review's fault: an error from Chroma inside ``replace()`` escaped the ingest, left the record
    pending, and the next ingest deleted the previous version. Now the file fails with the reason, the
    previous version stays in force (chunks and record), and a later ingest updates it."""
    from chromadb.errors import ChromaError

    kb = KnowledgeBase.open(tmp_path / "data")
    store = kb.store
    assert kb.ingestor.ingest([corpus]).ok
    doc = sorted(corpus.iterdir())[0]
    before = store.document(doc.name)
    old_chunks = sorted(c.text for c in store.chunk_records([doc.name]))
    assert before is not None and old_chunks
    doc.write_text(doc.read_text(encoding="utf-8") + "\n\nA new closing paragraph about pilots.\n",
                   encoding="utf-8")
    with first_call_fails(store.chunks, "add", ChromaError("disk I/O error")):
        report = kb.ingestor.ingest([corpus])
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert [o.source for o in failed] == [doc.name]
    assert "disk I/O error" in (failed[0].error or "") and "previous version" in (failed[0].error or "")
    kept = store.document(doc.name)
    assert kept is not None and kept.sha256 == before.sha256 and kept.update_failed
    assert sorted(c.text for c in store.chunk_records([doc.name])) == old_chunks
    assert store.inconsistent() == [] and not store.pending_sources()
    assert kb.ingestor.ingest([corpus]).count("unchanged") == len(list(corpus.iterdir())) - 1  # not skipped
    assert KnowledgeBase.open(tmp_path / "data").ingestor.ingest([corpus]).count("unchanged") == \
        len(list(corpus.iterdir()))
    after = store.document(doc.name)
    assert after is not None and after.sha256 != before.sha256 and not after.update_failed
    assert any("closing paragraph about pilots" in c.text for c in store.chunk_records([doc.name]))


def test_a_failure_marking_the_record_pending_keeps_the_previous_version(tmp_path: Path, corpus: Path) -> None:
    """The fault campaign's disk-full case: the very first write of ``replace()`` (the pending mark) failed
    outside its guard, so the error escaped the ingest and the document was out of the index until the next
    one. Now it is handled like any failed write: the file fails with the reason, the previous version stays."""
    from chromadb.errors import ChromaError

    kb = KnowledgeBase.open(tmp_path / "data")
    store = kb.store
    assert kb.ingestor.ingest([corpus]).ok
    doc = sorted(corpus.iterdir())[0]
    before = store.document(doc.name)
    assert before is not None
    doc.write_text(doc.read_text(encoding="utf-8") + "\n\nOne more line.\n", encoding="utf-8")
    error = ChromaError("Error in compaction: Failed to apply logs to the metadata segment")
    with first_call_fails(store.docs, "upsert", error):
        report = kb.ingestor.ingest([corpus])
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert [o.source for o in failed] == [doc.name] and "previous version stays in force" in (failed[0].error or "")
    kept = store.document(doc.name)
    assert kept is not None and kept.sha256 == before.sha256 and not store.pending_sources()
    assert store.inconsistent() == []


def test_an_ingest_refuses_to_fill_the_index_disk_below_its_floor(tmp_path: Path, corpus: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma left documents out of the index when its disk filled mid-write (docs/reliability.md), so an
    ingest keeps a floor of free space: below it nothing is written, near it a file that would cross it fails
    with the previous version in force."""
    import knowledge.ingest as ingest

    data = tmp_path / "data"
    kb = KnowledgeBase.open(data, min_free=64 << 20)
    assert kb.ingestor.ingest([corpus]).ok
    before = {r.source: r.sha256 for r in kb.store.documents()}
    for doc in corpus.iterdir():
        doc.write_text(doc.read_text(encoding="utf-8") + "\n\nChanged.\n", encoding="utf-8")
    usage = shutil.disk_usage(data)
    monkeypatch.setattr(ingest.shutil, "disk_usage", lambda p: usage._replace(free=32 << 10))
    with pytest.raises(NoSpace, match=r"only 32\.0 KiB free .* needs 64\.0 MiB.*nothing was changed"):
        kb.ingestor.ingest([corpus])
    monkeypatch.setattr(ingest.shutil, "disk_usage", lambda p: usage._replace(free=(64 << 20) + 1024))
    report = kb.ingestor.ingest([corpus])
    assert report.count("failed") == len(before)
    assert all("not written: only 64.0 MiB free" in (o.error or "") and "previous version stays in force"
               in (o.error or "") for o in report.outcomes)
    assert {r.source: r.sha256 for r in kb.store.documents()} == before and kb.store.inconsistent() == []
    monkeypatch.undo()
    assert kb.ingestor.ingest([corpus]).count("updated") == len(before)


def test_the_cli_says_the_index_disk_is_too_full_in_one_sentence(tmp_path: Path, corpus: Path) -> None:
    got = invoke(tmp_path / "data", "ingest", str(corpus),
                 env={"WAYMARK_TRANSLATE": "false", "WAYMARK_MIN_FREE_MB": str(1 << 40)})
    assert got.returncode == 1 and "Traceback" not in got.stderr
    assert "writing the index safely needs" in got.stderr and "nothing was changed" in got.stderr
