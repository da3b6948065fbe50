"""Data that flows through the knowledge base. Strict models: unknown fields are errors."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 and C1 control characters but newline and tab: canonical document text holds none (they could move a
terminal's cursor, retitle its window or rewrite its screen), and front ends strip them from what they print."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Section(Strict):
    """A heading and the span of source text it governs."""

    heading: str
    level: int = Field(ge=1, le=6)
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Block(Strict):
    """A paragraph-like unit of text: ``text == document.text[start:end]``."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    kind: str = "paragraph"  # paragraph | heading | list_item
    page: int | None = None


class LoadedDocument(Strict):
    source: str
    """File name as ingested, e.g. ``uk-open-innovation-team.he.txt``; the document's key."""
    path: str
    format: str
    title: str
    language: str
    text: str
    sha256: str
    """sha256 of the file's bytes."""
    blocks: list[Block]
    sections: list[Section]
    pages: int | None = None


class Passage(Strict):
    """A span of an ingested document: ``text == document.text[start:end]``."""

    source: str
    title: str
    section: str | None
    language: str
    text: str
    start: int
    end: int
    page: int | None


class Chunk(Passage):
    id: str
    index: int
    doc_sha256: str


class DocumentRecord(Strict):
    """What the index knows of one ingested document."""

    source: str
    path: str
    title: str
    language: str
    format: str
    sha256: str
    chunks: int
    ingested_at: datetime
    pipeline: str = ""
    """Fingerprint of the chunking and embedding settings that produced the chunks."""
    update_failed: str = ""
    """Why the last attempt to replace this version failed (it stayed in force); empty when it did not."""


class SearchHit(Passage):
    """One retrieved chunk. ``score`` is the fused (RRF) score; ``similarity`` the cosine."""

    rank: int
    chunk_id: str
    score: float
    similarity: float
    dense_rank: int | None
    lexical_rank: int | None

    def public(self) -> dict[str, object]:
        """The ``waymark search --json`` contract, in its documented order."""
        return {"rank": self.rank, "source": self.source, "title": self.title, "section": self.section,
                "language": self.language, "text": self.text, "start": self.start, "end": self.end,
                "score": self.score}
