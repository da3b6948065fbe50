"""Tests for knowledge.chunking with the approximate token counter (no embedding model)."""

from __future__ import annotations

from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import ValidationError

import knowledge
from knowledge.chunking import ChunkingConfig, approx_tokens, chunk_document
from knowledge.loaders import load_document
from knowledge.models import Chunk, LoadedDocument

CORPUS = Path(knowledge.__file__).parent / "sample_corpus"
SAMPLES = sorted(p.name for p in CORPUS.iterdir())
CFG = ChunkingConfig(target_tokens=120, max_tokens=200, overlap_tokens=30)
SENTENCE_FINAL = (".", "!", "?", "…")


@cache
def sample(name: str) -> LoadedDocument:
    return load_document(CORPUS / name, 20_000_000)


def load_text(tmp_path: Path, name: str, text: str) -> LoadedDocument:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_document(path, 20_000_000)


def assert_exact(doc: LoadedDocument, chunks: list[Chunk]) -> None:
    assert chunks
    for c in chunks:
        assert c.text == doc.text[c.start:c.end]
        assert c.text and c.text == c.text.strip()


def assert_covers(doc: LoadedDocument, chunks: list[Chunk]) -> None:
    """Chunks are in order and every non-space character of the text is in some chunk."""
    assert chunks[0].start == 0
    assert chunks[-1].end == len(doc.text)
    for prev, nxt in pairwise(chunks):
        assert prev.start < nxt.start and prev.end < nxt.end
        assert doc.text[prev.end:nxt.start].strip() == ""  # empty when they overlap


# --- every sample document -------------------------------------------------------------------

@pytest.mark.parametrize("name", SAMPLES)
def test_sample_chunks_are_exact_bounded_and_cover_the_document(name: str) -> None:
    doc = sample(name)
    chunks = chunk_document(doc, CFG, approx_tokens)
    assert len(chunks) >= 3
    assert_exact(doc, chunks)
    assert_covers(doc, chunks)
    for c in chunks:
        assert approx_tokens(c.text) <= CFG.max_tokens + CFG.overlap_tokens, c.index
    for b in doc.blocks:
        assert any(c.start <= b.start and b.end <= c.end for c in chunks), b
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert (c.source, c.title, c.language, c.doc_sha256) == (
            doc.source, doc.title, doc.language, doc.sha256)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_chunk_ids_unique_and_stable(name: str) -> None:
    doc = sample(name)
    first = [c.id for c in chunk_document(doc, CFG, approx_tokens)]
    second = [c.id for c in chunk_document(doc, CFG, approx_tokens)]
    assert first == second
    assert len(set(first)) == len(first)


def test_chunk_ids_unique_across_the_corpus() -> None:
    ids = [c.id for name in SAMPLES for c in chunk_document(sample(name), CFG, approx_tokens)]
    assert len(set(ids)) == len(ids)


def test_chunk_ids_change_when_the_document_sha_changes() -> None:
    doc = sample("safe-use-of-generative-ai.en.md")
    changed = doc.model_copy(update={"sha256": "0" * 64})
    before = [c.id for c in chunk_document(doc, CFG, approx_tokens)]
    after = chunk_document(changed, CFG, approx_tokens)
    assert len(after) == len(before)
    assert not set(before) & {c.id for c in after}
    assert all(c.doc_sha256 == "0" * 64 for c in after)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_headings_never_end_a_chunk(name: str) -> None:
    doc = sample(name)
    for c in chunk_document(doc, CFG, approx_tokens):
        last_block = [b for b in doc.blocks if c.start <= b.start < c.end][-1]
        assert last_block.kind != "heading", c.text


# --- long paragraphs -------------------------------------------------------------------------

def test_long_paragraph_splits_at_sentence_ends(tmp_path: Path) -> None:
    paragraph = " ".join(
        f"Rule number {i} asks every team to check the answers of shared tools with care."
        for i in range(40))
    doc = load_text(tmp_path, "long.txt", paragraph + "\n")
    assert len(doc.blocks) == 1 and approx_tokens(paragraph) > CFG.max_tokens
    chunks = chunk_document(doc, CFG, approx_tokens)
    assert len(chunks) >= 4
    assert_exact(doc, chunks)
    assert_covers(doc, chunks)
    for c in chunks:
        assert c.text.endswith(SENTENCE_FINAL), c.text[-30:]
        assert c.text.startswith("Rule number "), c.text[:30]
        assert approx_tokens(c.text) <= CFG.max_tokens


def test_giant_sentence_without_punctuation_is_split_within_the_limit(tmp_path: Path) -> None:
    vocabulary = ["the", "council", "reviews", "each", "new", "tool", "before", "staff",
                  "may", "use", "it", "at", "work"]
    words = [vocabulary[i % len(vocabulary)] for i in range(2000)]
    doc = load_text(tmp_path, "giant.txt", " ".join(words) + "\n")
    chunks = chunk_document(doc, CFG, approx_tokens)
    assert len(chunks) >= 10
    assert_exact(doc, chunks)
    assert_covers(doc, chunks)
    for c in chunks:
        assert approx_tokens(c.text) <= CFG.max_tokens
        # cut between words, never inside one
        assert c.start == 0 or doc.text[c.start - 1] == " "
        assert c.end == len(doc.text) or doc.text[c.end] == " "
    assert sum(len(c.text.split()) for c in chunks) >= 2000


# --- headings -------------------------------------------------------------------------------

def test_heading_starts_a_new_chunk_and_names_its_section(tmp_path: Path) -> None:
    alpha = [f"Alpha paragraph {i} explains how the team records every decision it takes."
             for i in range(3)]
    beta = [f"Beta paragraph {i} explains how the team reviews every tool it buys."
            for i in range(3)]
    text = ("# Staff guide\n\nThis guide tells staff in the department how to work with "
            "shared AI tools safely.\n\n## Alpha section\n\n" + "\n\n".join(alpha)
            + "\n\n## Beta section\n\n" + "\n\n".join(beta) + "\n")
    doc = load_text(tmp_path, "two.md", text)
    cfg = ChunkingConfig(target_tokens=40, max_tokens=80, overlap_tokens=10)
    chunks = chunk_document(doc, cfg, approx_tokens)
    assert_exact(doc, chunks)
    assert_covers(doc, chunks)

    heads = {doc.text[b.start:b.end]: b for b in doc.blocks if b.kind == "heading"}
    starting = {c.start: c for c in chunks}
    for name in ("Alpha section", "Beta section"):
        head = heads[name]
        assert head.start in starting, f"no chunk starts at heading {name!r}"
        assert starting[head.start].section == name
        # no chunk straddles the heading
        assert not any(c.start < head.start < c.end for c in chunks)

    beta_start = heads["Beta section"].start
    alpha_start = heads["Alpha section"].start
    for c in chunks:
        if c.start >= beta_start:
            assert c.section == "Beta section"
        elif c.start >= alpha_start:
            assert c.section == "Alpha section"
        else:
            assert c.section == "Staff guide"
        last_block = [b for b in doc.blocks if c.start <= b.start < c.end][-1]
        assert last_block.kind != "heading"


# --- overlap -------------------------------------------------------------------------------

def test_consecutive_chunks_overlap_by_whole_sentences(tmp_path: Path) -> None:
    sentences = [f"Rule {i} is short." for i in range(80)]
    doc = load_text(tmp_path, "short.txt", " ".join(sentences) + "\n")
    cfg = ChunkingConfig(target_tokens=60, max_tokens=100, overlap_tokens=30)
    chunks = chunk_document(doc, cfg, approx_tokens)
    assert len(chunks) >= 4
    assert_exact(doc, chunks)
    for prev, nxt in pairwise(chunks):
        assert nxt.start < prev.end, "consecutive chunks should overlap"
        overlap = doc.text[nxt.start:prev.end]
        assert overlap.startswith("Rule ") and overlap.endswith(".")
        assert doc.text[:nxt.start].endswith(". "), "overlap starts at a sentence start"
        repeated = [s + "." for s in overlap[:-1].split(". ")]
        assert all(s in sentences for s in repeated)
        assert sum(approx_tokens(s) for s in repeated) <= cfg.overlap_tokens


def test_no_overlap_when_disabled(tmp_path: Path) -> None:
    sentences = [f"Rule {i} is short." for i in range(80)]
    doc = load_text(tmp_path, "short.txt", " ".join(sentences) + "\n")
    cfg = ChunkingConfig(target_tokens=60, max_tokens=100, overlap_tokens=0)
    chunks = chunk_document(doc, cfg, approx_tokens)
    for prev, nxt in pairwise(chunks):
        assert nxt.start > prev.end


# --- configuration -------------------------------------------------------------------------

def test_config_rejects_target_above_max() -> None:
    with pytest.raises(ValidationError, match="target_tokens"):
        ChunkingConfig(target_tokens=300, max_tokens=200, overlap_tokens=30)


@pytest.mark.parametrize("overlap", [120, 150])
def test_config_rejects_overlap_not_below_target(overlap: int) -> None:
    with pytest.raises(ValidationError, match="overlap_tokens"):
        ChunkingConfig(target_tokens=120, max_tokens=200, overlap_tokens=overlap)


def test_config_accepts_target_equal_to_max() -> None:
    cfg = ChunkingConfig(target_tokens=200, max_tokens=200, overlap_tokens=119)
    assert (cfg.target_tokens, cfg.max_tokens, cfg.overlap_tokens) == (200, 200, 119)


# --- Hebrew ----------------------------------------------------------------------------------

def test_hebrew_sample_offsets_are_exact() -> None:
    doc = sample("shimush-batuach-be-ai.he.html")
    chunks = chunk_document(doc, ChunkingConfig(target_tokens=40, max_tokens=80,
                                                overlap_tokens=10), approx_tokens)
    assert len(chunks) >= 8
    assert_exact(doc, chunks)
    assert_covers(doc, chunks)
    assert all(c.language == "he" for c in chunks)


def test_long_hebrew_paragraph_splits_at_sentence_ends(tmp_path: Path) -> None:
    sentence = "יש לבדוק כל תשובה של הכלי לפני ששולחים אותה לאזרח או לעמית בעבודה."
    paragraph = " ".join(f"{sentence[:-1]} מספר {i}." for i in range(30))
    doc = load_text(tmp_path, "hebrew.he.txt", "הנחיות לעובדים\n\n" + paragraph + "\n")
    chunks = chunk_document(doc, CFG, approx_tokens)
    assert len(chunks) >= 3
    assert_exact(doc, chunks)
    assert_covers(doc, chunks)
    for c in chunks:
        assert c.text.endswith("."), c.text[-20:]
        assert approx_tokens(c.text) <= CFG.max_tokens
        assert c.language == "he"


# --- regression for a bug found and fixed ----------------------------------------------------

def test_heading_plus_near_max_block_stays_within_max_tokens(tmp_path: Path) -> None:
    body = " ".join(f"word{i}" for i in range(153))  # one block of 199 approx tokens
    assert approx_tokens(body) <= CFG.max_tokens
    doc = load_text(tmp_path, "near-max.md", "# Guide\n\nA short introduction to the guide.\n\n"
                    "## Roles and responsibilities\n\n" + body + "\n")
    for c in chunk_document(doc, CFG, approx_tokens):
        assert approx_tokens(c.text) <= CFG.max_tokens, c.text[:40]
