"""Turn a file into text with its structure (title, headings, blocks, PDF pages).

Each loader returns a list of ``RawBlock`` (text, kind, level, page); ``load_document``
joins them into the document's canonical text, so every block, section and later chunk is
an exact ``text[start:end]`` span. Every failure is a ``LoadError`` with one plain sentence.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from knowledge.language import detect_language
from knowledge.models import CONTROL, Block, LoadedDocument, Section

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
MAX_INFLATED = 100_000_000
"""Default limit on what a zip-based file (.docx) may inflate to, all members together, in bytes."""
MAX_CHARS = 5_000_000
"""Default limit on the characters extracted from one file (about 2,000 pages of prose)."""


class LoadError(Exception):
    """A file that cannot be ingested; ``str(err)`` is one plain sentence for the user."""


@dataclass
class Budget:
    """What one file may cost while it is read: checked as it is read, not after."""

    max_inflated: int = MAX_INFLATED
    max_chars: int = MAX_CHARS
    chars: int = 0

    def take(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > self.max_chars:
            raise LoadError(f"too much text: more than {self.max_chars:,} characters in one file (the limit)")
        return text


@dataclass
class Extracted:
    title: str
    blocks: list[RawBlock]
    pages: int | None = None


@dataclass
class RawBlock:
    text: str
    kind: str = "paragraph"  # paragraph | heading | list_item
    level: int = 0
    page: int | None = None


def load_document(path: Path, max_bytes: int, *, max_inflated: int = MAX_INFLATED,
                  max_chars: int = MAX_CHARS) -> LoadedDocument:
    """Load one file or raise ``LoadError``; never touches anything but the file. ``max_inflated`` bounds
    what a zip-based file may decompress to and ``max_chars`` the text taken from one file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(f"unsupported file type '{suffix or path.name}' "
                        f"(supported: {', '.join(SUPPORTED)})")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise LoadError("not a regular file")
        if size > max_bytes:
            raise LoadError(f"file too large ({size / 1e6:.1f} MB; limit {max_bytes / 1e6:.1f} MB)")
        if size == 0:
            raise LoadError("empty file")
        data = path.read_bytes()
    except PermissionError:
        raise LoadError("cannot read the file: permission denied") from None
    except FileNotFoundError:
        raise LoadError("no such file") from None
    except OSError as err:
        raise LoadError(f"cannot read the file: {err.strerror or err}") from None

    budget = Budget(max_inflated, max_chars)
    extracted = _LOADERS[suffix](data, budget)
    if suffix not in (".docx", ".pdf"):  # those two count as they read
        for b in extracted.blocks:
            budget.take(b.text)
    meta_title = extracted.title
    raw = [b for b in (RawBlock(_clean(b.text), b.kind, b.level, b.page) for b in extracted.blocks) if b.text]
    if not raw:
        raise LoadError("no text found in the file")
    text, blocks = _assemble(raw)
    sections = _sections(raw, blocks, len(text))
    title = meta_title or next((b.text for b in raw if b.kind == "heading"), "") or raw[0].text
    return LoadedDocument(
        source=path.name, path=str(path.resolve()), format=suffix.lstrip("."),
        title=title[:200], language=detect_language(text), text=text,
        sha256=hashlib.sha256(data).hexdigest(), blocks=blocks, sections=sections, pages=extracted.pages,
    )


def _clean(text: str) -> str:
    """One block's text as the canonical text keeps it: NFC, control characters (ESC and the rest of C0
    and C1, but newline and tab) removed, runs of spaces as one."""
    text = CONTROL.sub("", unicodedata.normalize("NFC", text)).replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def _assemble(raw: list[RawBlock]) -> tuple[str, list[Block]]:
    parts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for b in raw:
        if parts:
            parts.append("\n\n")
            pos += 2
        parts.append(b.text)
        blocks.append(Block(start=pos, end=pos + len(b.text), kind=b.kind, page=b.page))
        pos += len(b.text)
    return "".join(parts), blocks


def _sections(raw: list[RawBlock], blocks: list[Block], text_len: int) -> list[Section]:
    heads = [(r, b) for r, b in zip(raw, blocks, strict=True) if r.kind == "heading"]
    sections = []
    for i, (r, b) in enumerate(heads):
        level = max(1, min(6, r.level or 1))
        end = next((b2.start for r2, b2 in heads[i + 1:] if max(1, r2.level) <= level), text_len)
        sections.append(Section(heading=r.text, level=level, start=b.start, end=end))
    return sections


# --- plain text and markdown -------------------------------------------------------------

def _decode(data: bytes) -> str:
    head = data[:65536]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError("not a text file (invalid UTF-16)") from None
    if b"\x00" in head:
        raise LoadError("not a text file (binary content)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if text.count("\ufffd") > 0.01 * len(text):
            raise LoadError("not a text file (not valid UTF-8 and not a legacy encoding)") from None
    controls = sum(1 for ch in text[:65536] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 65536):
        raise LoadError("not a text file (binary content)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


_LIST = re.compile(r"^\s*(?:[-*+•·▪–]|\d{1,3}[.)])\s+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SENTENCE_END = re.compile(r"[.!?:;…。\"”»)]$")


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 12 and len(line) <= 90 and not _SENTENCE_END.search(line)
        and not _LIST.match(line) and next_line is not None and len(next_line) > len(line)
    )


def _text_blocks(text: str, markdown: bool) -> list[RawBlock]:
    """Paragraphs are blank-line separated; a line of its own stays a block when the file
    writes one paragraph or list item per line (as many exported guidance texts do)."""
    lines = text.split("\n")
    blocks: list[RawBlock] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(RawBlock(" ".join(s.strip() for s in para)))
            para.clear()

    nonblank = [ln for ln in lines if ln.strip()]
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            flush()
            continue
        md = _MD_HEADING.match(s) if markdown else None
        if md:
            flush()
            blocks.append(RawBlock(md.group(2), "heading", len(md.group(1))))
            continue
        if _LIST.match(s):
            flush()
            blocks.append(RawBlock(s, "list_item"))
            continue
        para.append(s)
        nxt = next((ln.strip() for ln in lines[i + 1:] if ln.strip()), None)
        if not markdown and (_SENTENCE_END.search(s) or _looks_like_heading(s, nxt)
                             or (nxt is not None and _LIST.match(nxt))):
            # one paragraph per line: close the block at the end of a sentence
            if len(para) == 1 and _looks_like_heading(s, nxt) and s is not nonblank[0]:
                para.clear()
                blocks.append(RawBlock(s, "heading", 2))
            else:
                flush()
    flush()
    if not markdown and blocks and blocks[0].kind == "paragraph" and len(blocks[0].text) <= 150:
        blocks[0] = RawBlock(blocks[0].text, "heading", 1)
    return blocks


def _load_txt(data: bytes, budget: Budget) -> Extracted:
    return Extracted("", _text_blocks(_decode(data), markdown=False))


def _load_md(data: bytes, budget: Budget) -> Extracted:
    text = _decode(data)
    if text.startswith("---\n"):  # YAML front matter
        end = text.find("\n---", 3)
        if end != -1:
            text = text[end + 4:]
    return Extracted("", _text_blocks(text, markdown=True))


# --- HTML ----------------------------------------------------------------------------------

class _HTMLBlocks(HTMLParser):
    BLOCK: ClassVar[set[str]] = {"p", "div", "li", "td", "th", "pre", "blockquote", "section", "article", "dd", "dt",
             "figcaption", "caption", "tr", "br", "main", "header", "footer", "ul", "ol", "table"}
    SKIP: ClassVar[set[str]] = {"script", "style", "noscript", "template", "svg"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[RawBlock] = []
        self.title = ""
        self._buf: list[str] = []
        self._kind = "paragraph"
        self._level = 0
        self._skip = 0
        self._in_title = False
        self._li_depth = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        if text:
            self.blocks.append(RawBlock(text, self._kind, self._level))
        self._buf, self._level = [], 0
        self._kind = "list_item" if self._li_depth else "paragraph"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._kind, self._level = "heading", int(tag[1])
        elif tag in self.BLOCK:
            self._flush()
            if tag == "li":
                self._li_depth += 1
                self._kind = "list_item"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCK or re.fullmatch(r"h[1-6]", tag):
            if tag == "li":
                self._li_depth = max(0, self._li_depth - 1)
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)


def _load_html(data: bytes, budget: Budget) -> Extracted:
    parser = _HTMLBlocks()
    parser.feed(_decode(data))
    parser.close()
    parser._flush()
    return Extracted(" ".join(parser.title.split()), parser.blocks)


# --- DOCX ----------------------------------------------------------------------------------

def _check_zip(data: bytes, budget: Budget, kind: str) -> None:
    """Refuse a zip whose members would inflate beyond the budget, before anything is decompressed.

    ``zipfile`` never inflates a member past its declared size (it stops there, and the CRC fails), so
    the sum of the declared sizes bounds what any reader of this zip will hold."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise LoadError(f"corrupt or unreadable {kind} ({type(err).__name__})") from None
    inflated = sum(m.file_size for m in members)
    if len(members) > 10_000 or inflated > budget.max_inflated:
        raise LoadError(f"refused: this {kind} would expand to {inflated / 1e6:,.0f} MB in {len(members):,} parts "
                        f"(limit {budget.max_inflated / 1e6:,.0f} MB), as a decompression bomb does")


def _load_docx(data: bytes, budget: Budget) -> Extracted:
    import io
    import zipfile

    import docx

    _check_zip(data, budget, "Word document")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise LoadError(f"corrupt or unreadable Word document ({type(err).__name__})") from None
    except Exception as err:  # python-docx raises several library-specific types
        raise LoadError(f"corrupt or unreadable Word document ({err})") from None
    blocks: list[RawBlock] = []
    for para in document.paragraphs:
        budget.take(para.text)
        style = (para.style.name if para.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        if style == "Title":
            blocks.append(RawBlock(para.text, "heading", 1))
        elif m:
            blocks.append(RawBlock(para.text, "heading", int(m.group(1))))
        elif "List" in style:
            blocks.append(RawBlock(para.text, "list_item"))
        else:
            blocks.append(RawBlock(para.text))
    for table in document.tables:
        for row in table.rows:
            cells = [budget.take(c.text.strip()) for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(RawBlock(" | ".join(dict.fromkeys(cells))))
    return Extracted((document.core_properties.title or "").strip(), blocks)


# --- PDF -----------------------------------------------------------------------------------

def _load_pdf(data: bytes, budget: Budget) -> Extracted:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("") != 0
            except Exception:
                opened = False
            if not opened:
                raise LoadError("encrypted PDF: it needs a password, so it cannot be read")
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title).strip()
        blocks: list[RawBlock] = []
        for number, page in enumerate(reader.pages, start=1):
            blocks.extend(_pdf_page_blocks(budget.take(page.extract_text() or ""), number))
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as err:
        raise LoadError(f"corrupt or unreadable PDF ({type(err).__name__}: {err})") from None
    except Exception as err:  # pypdf raises a zoo of errors on damaged files
        raise LoadError(f"corrupt or unreadable PDF ({type(err).__name__})") from None
    if not any(b.text.strip() for b in blocks):
        raise LoadError("no extractable text in the PDF (a scanned image?)")
    return Extracted(title, blocks, len(reader.pages))


def _pdf_heading_at(lines: list[str], i: int) -> bool:
    """Is the next non-empty line from ``i`` a heading: short, unpunctuated, before a long line?"""
    rest = [ln for ln in lines[i:] if ln]
    if not rest:
        return False
    nxt = rest[1] if len(rest) > 1 else None
    return _looks_like_heading(rest[0], nxt) and nxt is not None and len(nxt) > 60


def _pdf_page_blocks(page_text: str, page: int) -> list[RawBlock]:
    """Re-join a PDF page's visual lines into paragraphs; short unpunctuated lines that
    stand before longer text are headings."""
    lines = [ln.strip() for ln in page_text.replace("\r", "\n").split("\n")]
    blocks: list[RawBlock] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            joined = ""
            for ln in para:
                if joined.endswith("-") and ln[:1].islower():
                    joined = joined[:-1] + ln
                else:
                    joined = f"{joined} {ln}" if joined else ln
            blocks.append(RawBlock(joined, "list_item" if _LIST.match(joined) else "paragraph",
                                   page=page))
            para.clear()

    for i, line in enumerate(lines):
        if not line:
            flush()
            continue
        if not para and _pdf_heading_at(lines, i):
            blocks.append(RawBlock(line, "heading", 2, page))
            continue
        nxt = next((ln for ln in lines[i + 1:] if ln), None)
        if _LIST.match(line):
            flush()
        para.append(line)
        if _SENTENCE_END.search(line) and (nxt is None or len(line) < 50 or _LIST.match(nxt)
                                           or _pdf_heading_at(lines, i + 1)):
            flush()
    flush()
    return blocks


_LOADERS: dict[str, Callable[[bytes, Budget], Extracted]] = {
    ".txt": _load_txt, ".md": _load_md, ".markdown": _load_md, ".html": _load_html,
    ".htm": _load_html, ".pdf": _load_pdf, ".docx": _load_docx,
}
