"""The `waymark` command as users run it: a real process, real files, a real index."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from tests.fakes import content, run


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> Path:
    data = tmp_path_factory.mktemp("cli-data")
    proc = run(data, "ingest", str(sample_corpus))
    assert proc.returncode == 0, proc.stderr
    assert "8 files: 8 added, 0 updated, 0 unchanged, 0 failed" in proc.stdout
    return data


def _bad_files(folder: Path, sample_corpus: Path) -> dict[str, str]:
    """Write one of each kind of bad input; returns file name -> a word its error must hold."""
    from pypdf import PdfReader, PdfWriter

    folder.mkdir()
    (folder / "slides.xyz").write_text("not a supported type")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    writer = PdfWriter(clone_from=PdfReader(sample_corpus / "dpia-for-ai-projects.en.pdf"))
    writer.encrypt("secret")
    with (folder / "locked.pdf").open("wb") as f:
        writer.write(f)
    (folder / "junk.txt").write_bytes(os.urandom(8192))
    with (folder / "huge.txt").open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    return {"slides.xyz": "unsupported", "empty.txt": "empty", "corrupt.pdf": "PDF",
            "locked.pdf": "encrypted", "junk.txt": "not a text file", "huge.txt": "too large"}


def test_bad_input_gets_one_line_each_and_leaves_index_untouched(
        tmp_path: Path, sample_corpus: Path) -> None:
    data = tmp_path / "data"
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(sample_corpus / "ai-champion-role.en.docx", good)
    assert run(data, "ingest", str(good)).returncode == 0
    before = content(KnowledgeBase.open(data))

    bad = tmp_path / "bad"
    expected = _bad_files(bad, sample_corpus)
    shutil.copy(sample_corpus / "conseils-redaction-prompts.fr.md", bad)  # one good file among them
    missing = tmp_path / "nowhere" / "missing.md"
    proc = run(data, "ingest", str(bad), str(missing))

    assert proc.returncode == 1
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == len(expected) + 1, proc.stderr
    for name, word in expected.items():
        line = next(ln for ln in failed if f"/{name}:" in ln)
        assert word.lower() in line.lower(), line
    assert any("missing.md: no such file" in ln for ln in failed)
    assert "Traceback" not in proc.stderr
    assert "8 files: 1 added, 0 updated, 0 unchanged, 7 failed" in proc.stdout

    after = KnowledgeBase.open(data)
    assert [d.source for d in after.store.documents()] == [
        "ai-champion-role.en.docx", "conseils-redaction-prompts.fr.md"]
    _, chunks = content(after)
    assert all(c in chunks for c in before[1]), "existing chunks changed"


def test_search_json_contract(cli_data: Path) -> None:
    proc = run(cli_data, "search", "How long must DPIA records be kept?", "-k", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"query", "results"} and doc["query"] == "How long must DPIA records be kept?"
    assert len(doc["results"]) == 3
    types = {"rank": int, "source": str, "title": str, "language": str, "text": str,
             "start": int, "end": int, "score": float}
    for i, r in enumerate(doc["results"], start=1):
        assert set(r) == {*types, "section"}
        assert all(isinstance(r[k], t) for k, t in types.items())
        assert r["section"] is None or isinstance(r["section"], str)
        assert r["rank"] == i and r["end"] - r["start"] == len(r["text"])
    assert doc["results"][0]["source"] == "dpia-for-ai-projects.en.pdf"


def test_search_json_keeps_unicode_and_filters(cli_data: Path) -> None:
    proc = run(cli_data, "search", "כמה זמן נשמרת היסטוריית השיחות?", "--json", "--language", "he")
    doc = json.loads(proc.stdout)
    assert doc["results"] and {r["language"] for r in doc["results"]} == {"he"}
    assert "\\u05" not in proc.stdout  # Hebrew printed as text, not escapes


def test_search_text_output_lists_sources(cli_data: Path) -> None:
    proc = run(cli_data, "search", "What are the three golden rules?", "-k", "2")
    assert proc.returncode == 0
    assert "1. safe-use-of-generative-ai.en.md" in proc.stdout


def test_docs_list_and_remove(tmp_path: Path, sample_corpus: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "ingest", str(sample_corpus / "dpia-for-ai-projects.en.pdf"),
               str(sample_corpus / "erfaringer-fra-innovationsenheder.da.txt")).returncode == 0
    listed = json.loads(run(data, "docs", "list", "--json").stdout)
    assert [(d["source"], d["language"], d["format"]) for d in listed] == [
        ("dpia-for-ai-projects.en.pdf", "en", "pdf"), ("erfaringer-fra-innovationsenheder.da.txt", "da", "txt")]
    assert all(d["chunks"] > 0 and len(d["sha256"]) == 64 for d in listed)
    proc = run(data, "docs", "remove", "dpia-for-ai-projects.en.pdf", "not-there.txt")
    assert proc.returncode == 1
    assert "removed dpia-for-ai-projects.en.pdf" in proc.stdout and "not found: not-there.txt" in proc.stderr
    assert [d["source"] for d in json.loads(run(data, "docs", "list", "--json").stdout)] == [
        "erfaringer-fra-innovationsenheder.da.txt"]
    hits = json.loads(run(data, "search", "DPIA review", "--json").stdout)["results"]
    assert all(h["source"] != "dpia-for-ai-projects.en.pdf" for h in hits)


def test_shell_answers_then_quits(cli_data: Path) -> None:
    proc = run(cli_data, "shell", stdin="Which tools are approved for OFFICIAL data?\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "8 documents indexed" in proc.stdout
    assert "approved-tools-and-procurement.en.html" in proc.stdout


def test_invalid_setting_is_one_clear_line(tmp_path: Path) -> None:
    proc = run(tmp_path, "docs", "list", env={"WAYMARK_CHROMA_URL": "localhost:8000"})
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error: invalid setting chroma_url")
    assert "Traceback" not in proc.stderr


def test_unreachable_chroma_server_is_one_clear_line(tmp_path: Path) -> None:
    proc = run(tmp_path, "docs", "list", env={"WAYMARK_CHROMA_URL": "http://127.0.0.1:9"})
    assert proc.returncode == 1
    assert "cannot open the index at http://127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr
