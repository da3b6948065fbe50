"""Hostile files: a decompression bomb is refused before it is inflated, and one file's text is bounded."""

from __future__ import annotations

import io
import resource
import zipfile
from pathlib import Path

import pytest

from knowledge.loaders import LoadError, load_document

PARAGRAPH = "<w:p><w:r><w:t>" + "All work and no play. " * 40 + "</w:t></w:r></w:p>"


def docx_with(tmp_path: Path, paragraphs: int, name: str = "bomb.docx") -> Path:
    """A real .docx (python-docx's template) whose body is ``paragraphs`` copies of one paragraph."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                head, _, tail = data.decode().partition("<w:body>")
                data = (head + "<w:body>" + PARAGRAPH * paragraphs + tail.split("</w:body>")[-2].split("<w:sectPr")[0]
                        + "</w:body>" + tail.split("</w:body>")[-1]).encode()
            dst.writestr(item, data)
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return path


def test_a_docx_decompression_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    """The review's attack: a small .docx that expands to tens of millions of characters (gigabytes under the
    20 MB upload limit). Refused in one sentence, without the memory it would take to read."""
    bomb = docx_with(tmp_path, 150_000)  # ~150 MB of XML
    assert bomb.stat().st_size < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LoadError, match=r"would expand to 1\d\d MB .* decompression bomb"):
        load_document(bomb, 20_000_000)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB: nothing was inflated


def test_extracted_text_is_bounded_per_file_while_it_is_read(tmp_path: Path) -> None:
    doc = docx_with(tmp_path, 1_000, "long.docx")  # ~880,000 characters, well inside the inflated limit
    assert len(load_document(doc, 20_000_000).text) > 800_000
    with pytest.raises(LoadError, match="more than 500,000 characters"):
        load_document(doc, 20_000_000, max_chars=500_000)
    with pytest.raises(LoadError, match="decompression bomb"):
        load_document(doc, 20_000_000, max_inflated=500_000)
    text = tmp_path / "long.txt"
    text.write_text("word " * 300_000, encoding="utf-8")
    with pytest.raises(LoadError, match="more than 1,000,000 characters"):
        load_document(text, 20_000_000, max_chars=1_000_000)


def test_data_files_are_private_to_the_user_waymark_runs_as(tmp_path: Path) -> None:
    """The review found users.sqlite and waymark.log 0644 and folders 0755."""
    import os
    import stat

    from tests.fakes import run

    data = tmp_path / "data"
    done = run(data, "users", "add", "ada", "--role", "champion")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in (data / "users.sqlite", data / "logs" / "waymark.log"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((data / "logs").stat().st_mode) == 0o700
    old = tmp_path / "old"  # made world-readable by an older version: closed at the next start
    old.mkdir(mode=0o755)
    os.chmod(old, 0o755)
    assert run(old, "users", "list").returncode == 0 and stat.S_IMODE(old.stat().st_mode) == 0o700


def test_control_characters_never_reach_the_index_or_the_terminal(tmp_path: Path) -> None:
    """The review's attack: ESC sequences in a document survived ingestion and were printed by the CLI."""
    from rich.text import Text

    from tests.fakes import invoke
    from ui.cli.console import SafeConsole

    hostile = "Clear the screen\x1b[2J and retitle it\x1b]0;pwned\x07, then ring\x07 \x9b31m.\r\nSecond line\tend."
    doc = tmp_path / "escape.txt"
    doc.write_text(hostile + "\n\n" + "An ordinary paragraph about the guidance. " * 40, encoding="utf-8")
    text = load_document(doc, 1_000_000).text
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f for c in text)
    assert "Clear the screen[2J and retitle it]0;pwned" in text and "Second line" in text
    data = tmp_path / "data"
    assert invoke(data, "ingest", str(doc), env={"WAYMARK_TRANSLATE": "false"}).returncode == 0
    found = invoke(data, "search", "retitle the screen")
    assert "retitle" in found.stdout and "\x1b" not in found.stdout and "\x07" not in found.stdout
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=True)
    console.print(Text(hostile, style="bold"))
    shown = buffer.getvalue()
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\x1b[1m" in shown  # its own styling still reaches the terminal


def test_a_damaged_store_is_reported_in_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    """The fault campaign's finding (docs/reliability.md): a corrupt users.sqlite or policies.sqlite made
    `waymark users list` and `policy history` end in a Python traceback."""
    from tests.fakes import run

    data = tmp_path / "data"
    assert run(data, "users", "add", "ada", "--role", "champion").returncode == 0
    assert run(data, "policy", "history").returncode == 0
    for name, damage in (("users.sqlite", "garbage"), ("policies.sqlite", "truncated")):
        path = data / name
        raw = path.read_bytes()
        path.write_bytes(raw[:100] + b"\xde\xad" * 2000 + raw[4100:] if damage == "garbage" else raw[:1500])
    for args in (("users", "list"), ("users", "add", "bob", "--role", "admin"), ("policy", "history")):
        done = run(data, *args)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-500:]
        assert "error: a store in the data directory could not be used" in done.stderr
        assert "restored from a backup" in done.stderr


def test_a_read_only_data_directory_is_named_as_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault campaign's finding: on a read-only data directory `waymark docs list` said only "attempt to
    write a readonly database" (embedded Chroma writes when it opens, even to read), which reads like a bug."""
    import chromadb.errors

    import assistant.service
    from tests.fakes import invoke

    def refuse(settings: object) -> None:  # what chromadb 1.x raises then (seen in docs/reliability.md)
        raise chromadb.errors.InternalError("error returned from database: (code: 8) attempt to write a readonly "
                                            "database")

    monkeypatch.setattr(assistant.service, "open_knowledge_base", refuse)
    done = invoke(tmp_path / "data", "docs", "list")
    assert done.returncode == 1 and "the data directory is read-only" in done.stderr
    assert "needs write access to it, to read as well" in done.stderr and "WAYMARK_CHROMA_URL" in done.stderr
