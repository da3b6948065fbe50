"""Tests for knowledge.loaders: the sample corpus, span invariants and bad input."""

from __future__ import annotations

import hashlib
import io
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import knowledge
from knowledge.loaders import LoadError, load_document
from knowledge.models import LoadedDocument

CORPUS = Path(knowledge.__file__).parent / "sample_corpus"
MAX_BYTES = 20_000_000

# file -> (format, language, title, two headings read from the file)
SAMPLES = {
    "ai-champion-role.en.docx": (
        "docx", "en", "The AI Champion Role",
        ["3. Main responsibilities", "Recognition"],
    ),
    "approved-tools-and-procurement.en.html": (
        "html", "en", "Approved AI Tools and Procurement",
        ["2. Currently approved tools", "4. Buying an AI tool: spending thresholds"],
    ),
    "conseils-redaction-prompts.fr.md": (
        "md", "fr", "Conseils pour rédiger des prompts efficaces",
        ["2. La méthode RTCF : Rôle, Tâche, Contexte, Format", "4. Itérer sans s'acharner"],
    ),
    "dpia-for-ai-projects.en.pdf": (
        "pdf", "en", "Data Protection Impact Assessments for AI Projects",
        ["When a DPIA is required", "Review and record keeping"],
    ),
    "erfaringer-fra-innovationsenheder.da.txt": (
        "txt", "da", "Erfaringer fra offentlige innovationsenheder",
        ["Start med problemet, ikke teknologien", "Del fejl og læring åbent"],
    ),
    "evaluation-pilotes-ia.fr.docx": (
        "docx", "fr", "Évaluer un projet pilote d'IA",
        ["1. Cadrer le pilote", "4. Seuils de réussite"],
    ),
    "safe-use-of-generative-ai.en.md": (
        "md", "en", "Safe Use of Generative AI Tools",
        ["2. The three golden rules: Check, Cite, Confirm", "6. When something goes wrong"],
    ),
    "shimush-batuach-be-ai.he.html": (
        "html", "he", "שימוש בטוח בבינה מלאכותית יוצרת: טיפול במידע אישי",
        ["2. שלוש רמות מידע", "6. דיווח על אירוע"],
    ),
}


@cache
def sample(name: str) -> LoadedDocument:
    return load_document(CORPUS / name, MAX_BYTES)


def block_texts(doc: LoadedDocument, kind: str | None = None) -> list[str]:
    return [doc.text[b.start:b.end] for b in doc.blocks if kind is None or b.kind == kind]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def load_error(path: Path, max_bytes: int = MAX_BYTES) -> str:
    with pytest.raises(LoadError) as info:
        load_document(path, max_bytes)
    message = str(info.value)
    assert message and "\n" not in message, "LoadError should be one plain sentence"
    return message


def pdf_bytes(writer: Any) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# --- the sample corpus ----------------------------------------------------------------------

def test_sample_corpus_is_the_expected_eight_files() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_loads_with_format_language_title_and_headings(name: str) -> None:
    fmt, lang, title, headings = SAMPLES[name]
    doc = sample(name)
    assert doc.source == name
    assert doc.format == fmt
    assert doc.language == lang
    assert doc.language == name.split(".")[-2]  # the file-name suffix
    assert doc.title == title
    assert len(doc.sections) >= 5
    section_headings = [s.heading for s in doc.sections]
    for heading in headings:
        assert heading in section_headings
        assert heading in block_texts(doc, "heading")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_blocks_and_sections_are_exact_spans(name: str) -> None:
    doc = sample(name)
    assert doc.blocks
    previous_end = -1
    for b in doc.blocks:
        span = doc.text[b.start:b.end]
        assert span, b
        assert span == span.strip(), b
        assert b.start > previous_end, "blocks are ordered and do not overlap"
        previous_end = b.end
    heading_starts = {b.start for b in doc.blocks if b.kind == "heading"}
    starts = [s.start for s in doc.sections]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for s in doc.sections:
        assert s.start in heading_starts, s
        assert doc.text[s.start:].startswith(s.heading)
        assert s.start < s.end <= len(doc.text)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_sha256_is_of_the_file_bytes(name: str) -> None:
    expected = hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
    assert sample(name).sha256 == expected


def test_pdf_has_two_pages_and_blocks_carry_page_numbers() -> None:
    doc = sample("dpia-for-ai-projects.en.pdf")
    assert doc.pages == 2
    assert {b.page for b in doc.blocks} == {1, 2}
    page_of = {doc.text[b.start:b.end]: b.page for b in doc.blocks if b.kind == "heading"}
    assert page_of["When a DPIA is required"] == 1
    assert page_of["Completing the template"] == 2


def test_non_pdf_samples_have_no_pages() -> None:
    for name in SAMPLES:
        if not name.endswith(".pdf"):
            doc = sample(name)
            assert doc.pages is None
            assert all(b.page is None for b in doc.blocks)


def test_docx_sample_lists_are_list_items() -> None:
    doc = sample("ai-champion-role.en.docx")
    assert sum(1 for b in doc.blocks if b.kind == "list_item") >= 5


def test_docx_title_comes_from_core_properties(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Heading in the body", level=1)
    document.add_paragraph("Staff must check every answer before they use it in their work.")
    document.core_properties.title = "Title From Core Properties"
    path = tmp_path / "core.docx"
    document.save(str(path))
    doc = load_document(path, MAX_BYTES)
    assert doc.title == "Title From Core Properties"
    assert doc.sections[0].heading == "Heading in the body"


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["notes.xyz", "picture.png"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, b"\x89PNG\r\n\x1a\n some bytes")
    message = load_error(path)
    assert "unsupported" in message
    assert Path(name).suffix in message


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in load_error(write(tmp_path, "empty.txt", b""))


def test_whitespace_only_text(tmp_path: Path) -> None:
    assert "no text" in load_error(write(tmp_path, "blank.txt", "   \n\n\t \n  \n"))


def test_random_bytes_named_pdf(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "random.pdf", os.urandom(4096)))
    assert "PDF" in message and "corrupt" in message


def test_truncated_pdf(tmp_path: Path) -> None:
    head = (CORPUS / "dpia-for-ai-projects.en.pdf").read_bytes()[:200]
    message = load_error(write(tmp_path, "truncated.pdf", head))
    assert "PDF" in message and "corrupt" in message


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(CORPUS / "dpia-for-ai-projects.en.pdf"))
    writer.encrypt("secret")
    message = load_error(write(tmp_path, "locked.pdf", pdf_bytes(writer)))
    assert "encrypted" in message and "password" in message


def test_pdf_with_owner_password_only_still_loads(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(CORPUS / "dpia-for-ai-projects.en.pdf"))
    writer.encrypt(user_password="", owner_password="owner-secret")
    doc = load_document(write(tmp_path, "owner.pdf", pdf_bytes(writer)), MAX_BYTES)
    assert doc.pages == 2
    assert "When a DPIA is required" in block_texts(doc, "heading")


def test_random_binary_named_txt(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "junk.txt", os.urandom(4096)))
    assert "not a text file" in message


def test_binary_without_nul_named_txt(tmp_path: Path) -> None:
    import random

    data = bytes(b for b in random.Random(7).randbytes(8192) if b)  # no NUL at all
    assert "not a text file" in load_error(write(tmp_path, "junk2.txt", data))


def test_text_with_nul_bytes(tmp_path: Path) -> None:
    data = b"This looks like text\x00but it has NUL bytes in it.\x00\n" * 20
    message = load_error(write(tmp_path, "nul.txt", data))
    assert "binary" in message


def test_file_larger_than_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written
    message = load_error(path, max_bytes=20_000_000)
    assert "too large" in message
    assert "52.4 MB" in message and "20.0 MB" in message


def test_missing_path(tmp_path: Path) -> None:
    assert "no such file" in load_error(tmp_path / "missing.txt")


def test_directory_named_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert "not a regular file" in load_error(folder)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.txt", "Some perfectly good text.\n")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert "permission denied" in load_error(path)


def test_corrupt_docx(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, "broken.docx", os.urandom(4096)))
    assert "Word document" in message and "corrupt" in message


# --- text, markdown and HTML details ----------------------------------------------------------

def test_txt_one_paragraph_per_line(tmp_path: Path) -> None:
    lines = [
        "Use approved tools only for work tasks and never for personal data.",
        "Check every answer before you share it with a colleague or citizen.",
        "Report any incident to the AI assurance desk on the same day!",
        "Keep a short record of the prompts you used for important work?",
    ]
    doc = load_document(write(tmp_path, "export.txt", "Guidance for staff\n" + "\n".join(lines)),
                        MAX_BYTES)
    assert block_texts(doc, "paragraph") == lines
    assert doc.title == "Guidance for staff"


def test_markdown_front_matter_is_skipped(tmp_path: Path) -> None:
    text = ("---\ntitle: Front matter title\nauthor: Jane Example\n---\n"
            "# Real Title\n\nThe body of the note says something useful.\n")
    doc = load_document(write(tmp_path, "note.md", text), MAX_BYTES)
    assert doc.title == "Real Title"
    assert "Jane Example" not in doc.text and "author" not in doc.text
    assert block_texts(doc) == ["Real Title", "The body of the note says something useful."]


def test_html_title_scripts_entities_and_lists(tmp_path: Path) -> None:
    html = """<!DOCTYPE html><html><head><title>The  Page
    Title</title><style>body { color: red }</style>
    <script>var secret = "do not index";</script></head>
    <body><h1>Body Heading</h1>
    <script>console.log("inline script")</script>
    <p>Fish &amp; chips cost &pound;5 at the caf&eacute;.</p>
    <ul><li>First item</li><li>Second item</li></ul></body></html>"""
    doc = load_document(write(tmp_path, "page.html", html), MAX_BYTES)
    assert doc.title == "The Page Title"
    assert "do not index" not in doc.text and "inline script" not in doc.text
    assert "color" not in doc.text
    assert "Fish & chips cost £5 at the café." in block_texts(doc, "paragraph")
    assert "&amp;" not in doc.text
    assert block_texts(doc, "list_item") == ["First item", "Second item"]
    assert block_texts(doc, "heading") == ["Body Heading"]


def test_windows_line_endings(tmp_path: Path) -> None:
    data = b"Title line\r\n\r\nFirst paragraph is here.\r\nIt continues here.\r\n\r\nSecond one.\r\n"
    doc = load_document(write(tmp_path, "crlf.txt", data), MAX_BYTES)
    assert "\r" not in doc.text
    assert block_texts(doc) == [
        "Title line", "First paragraph is here.", "It continues here.", "Second one."]


def test_cp1252_text_decodes(tmp_path: Path) -> None:
    text = "Le café\n\nLe café du ministère ferme à midi le vendredi.\n"
    doc = load_document(write(tmp_path, "legacy.txt", text.encode("cp1252")), MAX_BYTES)
    assert doc.title == "Le café"
    assert "Le café du ministère ferme à midi le vendredi." in block_texts(doc)
    assert "\ufffd" not in doc.text


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    data = "\ufeffTitle line\n\nBody text follows here.\n".encode()
    doc = load_document(write(tmp_path, "bom.txt", data), MAX_BYTES)
    assert doc.title == "Title line"
    assert doc.text.startswith("Title line")
    assert "\ufeff" not in doc.text


# --- regressions for bugs found and fixed ----------------------------------------------------

def test_html_without_head_end_tag(tmp_path: Path) -> None:
    html = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>T</title>"
            "<body><h1>Hello</h1><p>Body text here.</p></body></html>")
    doc = load_document(write(tmp_path, "nohead.html", html), MAX_BYTES)
    assert block_texts(doc) == ["Hello", "Body text here."]


def test_html_list_item_wrapping_a_paragraph(tmp_path: Path) -> None:
    html = "<html><body><ul><li><p>Item one</p></li><li>Item two</li></ul></body></html>"
    doc = load_document(write(tmp_path, "lip.html", html), MAX_BYTES)
    assert block_texts(doc, "list_item") == ["Item one", "Item two"]


def test_markdown_heading_ending_in_hash(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "csharp.md", "# Learn C#\n\nSome text.\n"), MAX_BYTES)
    assert doc.title == "Learn C#"


def test_pdf_pages_counts_a_trailing_blank_page(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(CORPUS / "dpia-for-ai-projects.en.pdf"))
    writer.add_blank_page()
    doc = load_document(write(tmp_path, "three.pdf", pdf_bytes(writer)), MAX_BYTES)
    assert doc.pages == 3
