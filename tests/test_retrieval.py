"""Hybrid retrieval on the sample corpus with a real embedded Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from knowledge.base import KnowledgeBase
from knowledge.retrieval import RetrievalConfig, Retriever, jaccard, rrf, shingles, where_clause


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    fused = rrf([(["a", "b", "c"], 1.0), (["c", "a"], 0.5)], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 0.5 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 0.5 / 61)
    assert sorted(fused, key=lambda x: -fused[x]) == ["a", "c", "b"]


def test_where_clause_shapes() -> None:
    assert where_clause() is None
    assert where_clause(["a.txt"]) == {"source": {"$in": ["a.txt"]}}
    assert where_clause(["a.txt"], ["fr"]) == {"$and": [{"source": {"$in": ["a.txt"]}},
                                                        {"language": {"$in": ["fr"]}}]}


def test_shingle_jaccard_identifies_near_duplicates() -> None:
    a = shingles("The DPIA must be reviewed at least every twelve months by the project owner.")
    b = shingles("The DPIA must be reviewed at least every twelve months by the project owner!")
    c = shingles("Pilots run for eight to twelve weeks with twenty to fifty volunteers.")
    assert jaccard(a, b) == 1.0
    assert jaccard(a, c) == 0.0


@pytest.mark.parametrize(("question", "source"), [
    ("How often must a DPIA be reviewed?", "dpia-for-ai-projects.en.pdf"),
    ("How much time does an AI champion spend on the role?", "ai-champion-role.en.docx"),
    ("Which data may DraftAssist be used with?", "approved-tools-and-procurement.en.html"),
    ("What does the RTCF method stand for?", "conseils-redaction-prompts.fr.md"),
    ("How long does an AI pilot run?", "evaluation-pilotes-ia.fr.docx"),
    ("איך נקרא הכלי שמסתיר פרטים מזהים לפני שימוש בבינה מלאכותית?", "shimush-batuach-be-ai.he.html"),
    ("Hvor mange eksperimenter blev skaleret op?", "erfaringer-fra-innovationsenheder.da.txt"),
])
def test_questions_find_their_document(sample_kb: Any, question: str, source: str) -> None:
    hits = sample_kb.retriever.search(question, k=5)
    assert source in [h.source for h in hits[:3]], [(h.source, h.score) for h in hits]


def test_an_added_query_joins_the_fusion_and_a_hit_keeps_its_best_similarity(sample_kb: Any) -> None:
    danish, english = "Hvor mange eksperimenter blev skaleret op?", "How often must a DPIA be reviewed?"
    alone = {q: sample_kb.retriever.search(q, k=5) for q in (danish, english)}
    assert "dpia-for-ai-projects.en.pdf" not in {h.source for h in alone[danish]}
    both = sample_kb.retriever.search(danish, k=5, also=[english])
    assert "dpia-for-ai-projects.en.pdf" in {h.source for h in both}  # the added query's rankings joined the fusion
    best = {h.chunk_id: h.similarity for hits in alone.values() for h in hits}
    for h in both:  # each hit's similarity is its better one over the two queries
        if h.chunk_id in best:
            assert h.similarity >= best[h.chunk_id] - 1e-6
    translated = sample_kb.retriever.search(danish, k=5, also=["How many experiments were scaled up?"])
    assert translated[0].source == alone[danish][0].source == "erfaringer-fra-innovationsenheder.da.txt"
    assert [h.chunk_id for h in sample_kb.retriever.search(danish, k=5, also=[danish, " "])] == \
        [h.chunk_id for h in alone[danish]]  # a repeated or blank added query changes nothing


def test_hits_are_exact_spans_and_ranked(sample_kb: Any, sample_corpus: Path) -> None:
    from knowledge.loaders import load_document

    hits = sample_kb.retriever.search("How long are chat histories kept?", k=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        doc = load_document(sample_corpus / h.source, 10**8)
        assert doc.text[h.start:h.end] == h.text
        assert h.dense_rank is not None or h.lexical_rank is not None
        assert -1.0 <= h.similarity <= 1.0


def test_filters_by_source_and_language(sample_kb: Any) -> None:
    q = "How should AI pilots be evaluated?"
    only_fr = sample_kb.retriever.search(q, k=5, languages=["fr"])
    assert only_fr and {h.language for h in only_fr} == {"fr"}
    one = sample_kb.retriever.search(q, k=5, sources=["ai-champion-role.en.docx"])
    assert one and {h.source for h in one} == {"ai-champion-role.en.docx"}
    none = sample_kb.retriever.search(q, k=5, sources=["ai-champion-role.en.docx"], languages=["he"])
    assert none == []


@pytest.mark.parametrize("lexical", ["bm25", "sparse", "none"])
def test_each_lexical_mode_answers(sample_kb: Any, lexical: str, tmp_path: Path) -> None:
    r = Retriever(sample_kb.store, sample_kb.embedder, RetrievalConfig(lexical=lexical), tmp_path)  # type: ignore[arg-type]
    hits = r.search("How often must a DPIA be reviewed?", k=3)
    assert hits[0].source == "dpia-for-ai-projects.en.pdf"
    if lexical == "none":
        assert all(h.lexical_rank is None for h in hits)
    else:
        assert any(h.lexical_rank is not None for h in hits)


def test_near_duplicate_documents_are_collapsed(tmp_path: Path, sample_corpus: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    src = sample_corpus / "safe-use-of-generative-ai.en.md"
    shutil.copy(src, folder / src.name)
    shutil.copy(src, folder / "copy-of-safe-use.en.md")
    kb = KnowledgeBase.open(tmp_path / "data")
    assert kb.ingestor.ingest([folder]).ok
    hits = kb.retriever.search("What are the three golden rules?", k=5)
    texts = [h.text for h in hits]
    assert len(texts) == len(set(texts)), "a duplicated passage was returned twice"
    plain = Retriever(kb.store, kb.embedder, RetrievalConfig(dedup=False)).search(
        "What are the three golden rules?", k=5)
    assert len({h.text for h in plain}) < len(plain), "without dedup the copies should both appear"


def test_lexical_index_is_cached_and_rebuilt_after_changes(tmp_path: Path, sample_corpus: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(sample_corpus / "ai-champion-role.en.docx", folder)
    kb = KnowledgeBase.open(tmp_path / "data")
    kb.ingestor.ingest([folder])
    kb.retriever.search("champion", k=1)
    cache = kb.retriever.cache_dir
    assert cache is not None
    first = sorted(p.name for p in cache.iterdir())
    assert len(first) == 1
    shutil.copy(sample_corpus / "dpia-for-ai-projects.en.pdf", folder)
    kb.ingestor.ingest([folder])
    hits = kb.retriever.search("DPIA screening checklist questions", k=3)
    assert hits[0].source == "dpia-for-ai-projects.en.pdf"
    second = sorted(p.name for p in cache.iterdir())
    assert len(second) == 1 and second != first
    fresh = KnowledgeBase.open(tmp_path / "data")  # a new process would load the cached index
    assert fresh.retriever.lexical_index()[0].ids == kb.retriever.lexical_index()[0].ids


def test_empty_index_returns_nothing(tmp_path: Path) -> None:
    kb = KnowledgeBase.open(tmp_path / "empty")
    assert kb.retriever.search("anything", k=5) == []
