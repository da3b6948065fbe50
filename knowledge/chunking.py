"""Structure-aware chunking with exact character offsets.

Blocks (paragraphs, list items, headings) are packed into chunks of about
``target_tokens``; a heading starts a new chunk; a block longer than ``max_tokens`` is split
at sentence ends (at word boundaries only when a single sentence is too long); each chunk
after the first in a section repeats up to ``overlap_tokens`` of whole trailing sentences
from the chunk before it. Every chunk is ``document.text[start:end]``, verbatim.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from knowledge.models import Chunk, LoadedDocument

TokenCounter = Callable[[str], int]

_SENTENCE_BREAK = re.compile(r"(?<=[.!?…。])[\"'”’»)]*\s+(?=[^\sa-zà-öø-ÿ])")
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 1.3 subword tokens a word); for tests and fallbacks."""
    return max(1, round(len(_WORD.findall(text)) * 1.3))


class ChunkingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target_tokens: int = Field(220, ge=32, le=500)
    max_tokens: int = Field(300, ge=64, le=510)
    overlap_tokens: int = Field(40, ge=0, le=200)

    @model_validator(mode="after")
    def _order(self) -> ChunkingConfig:
        if not self.target_tokens <= self.max_tokens:
            raise ValueError("target_tokens must not exceed max_tokens")
        if self.overlap_tokens >= self.target_tokens:
            raise ValueError("overlap_tokens must be smaller than target_tokens")
        return self


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    heading: bool
    page: int | None


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]`` (offsets into ``text``)."""
    spans, pos = [], start
    for m in _SENTENCE_BREAK.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [(s, e) for s, e in spans if e > s]


def _split_long(text: str, start: int, end: int, limit: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Spans of at most ``limit`` tokens: whole sentences where possible, else word runs."""
    pieces: list[tuple[int, int]] = []
    for s, e in sentence_spans(text, start, end):
        if count(text[s:e]) <= limit:
            pieces.append((s, e))
            continue
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[s:e])]
        run_start = None
        run_end = 0
        for ws, we in words:
            ws, we = ws + s, we + s
            if run_start is None:
                run_start = ws
            elif count(text[run_start:we]) > limit:
                pieces.append((run_start, run_end))
                run_start = ws
            run_end = we
        if run_start is not None:
            pieces.append((run_start, run_end))
    return pieces


def _units(doc: LoadedDocument, cfg: ChunkingConfig, count: TokenCounter) -> list[_Unit]:
    units = []
    for b in doc.blocks:
        n = count(doc.text[b.start:b.end])
        if n <= cfg.max_tokens:
            units.append(_Unit(b.start, b.end, n, b.kind == "heading", b.page))
            continue
        for s, e in _split_long(doc.text, b.start, b.end, cfg.target_tokens, count):
            units.append(_Unit(s, e, count(doc.text[s:e]), False, b.page))
    return units


def _overlap_start(doc: LoadedDocument, prev: list[_Unit], budget: int, count: TokenCounter) -> int | None:
    """Start of the longest run of whole trailing sentences of ``prev`` within ``budget``."""
    if budget <= 0 or not prev or prev[-1].heading:
        return None
    best = None
    used = 0
    for unit in reversed(prev):
        if unit.heading:
            break
        for s, e in reversed(sentence_spans(doc.text, unit.start, unit.end)):
            used += count(doc.text[s:e])
            if used > budget:
                return best
            best = s
    return best


def _merge_small(groups: list[list[_Unit]], cfg: ChunkingConfig) -> list[list[_Unit]]:
    """Fold a fragment (under a quarter of the target) into its neighbour when both fit,
    unless the fragment opens a section of its own (a heading always starts a chunk)."""
    small = cfg.target_tokens // 4
    merged: list[list[_Unit]] = []
    for group in groups:
        size = sum(u.tokens for u in group)
        if merged and not group[0].heading:
            prev_size = sum(u.tokens for u in merged[-1])
            if (size < small or prev_size < small) and prev_size + size <= cfg.max_tokens:
                merged[-1] = merged[-1] + group
                continue
        merged.append(group)
    return merged


def chunk_document(doc: LoadedDocument, cfg: ChunkingConfig, count: TokenCounter = approx_tokens) -> list[Chunk]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    pending = _units(doc, cfg, count)
    pending.reverse()
    while pending:
        unit = pending.pop()
        if current and all(u.heading for u in current) and size + unit.tokens > cfg.max_tokens:
            # headings carried over must still fit: split the text that follows them
            pieces = _split_long(doc.text, unit.start, unit.end, max(16, cfg.max_tokens - size), count)
            if len(pieces) > 1:
                pending.extend(_Unit(s, e, count(doc.text[s:e]), False, unit.page) for s, e in reversed(pieces))
                continue
        heading_break = unit.heading and current and not all(u.heading for u in current)
        if current and (heading_break or size >= cfg.target_tokens or size + unit.tokens > cfg.max_tokens):
            trailing: list[_Unit] = []
            while current and current[-1].heading:  # a heading belongs with what follows it
                trailing.insert(0, current.pop())
            if current:
                groups.append(current)
            current, size = trailing, sum(u.tokens for u in trailing)
        current.append(unit)
        size += unit.tokens
    if current:
        groups.append(current)
    groups = _merge_small(groups, cfg)

    sections = sorted(doc.sections, key=lambda s: (s.start, -s.level))
    chunks: list[Chunk] = []
    source_key = hashlib.sha1(doc.source.encode()).hexdigest()[:8]
    prev: list[_Unit] = []
    for index, group in enumerate(groups):
        start = group[0].start
        if not group[0].heading:
            room = cfg.max_tokens - sum(u.tokens for u in group)
            ov = _overlap_start(doc, prev, min(cfg.overlap_tokens, room), count)
            start = ov if ov is not None else start
        end = group[-1].end
        anchor = group[0].start
        inside = [s for s in sections if s.start <= anchor < s.end]
        section = inside[-1].heading if inside else None
        if group[0].heading and len(group) == 1 and not inside:
            section = doc.text[group[0].start:group[0].end]
        chunks.append(Chunk(
            id=f"{source_key}-{doc.sha256[:12]}-{index:04d}", source=doc.source, title=doc.title,
            section=section, language=doc.language, text=doc.text[start:end], start=start,
            end=end, page=group[0].page, index=index, doc_sha256=doc.sha256,
        ))
        prev = group
    return chunks
