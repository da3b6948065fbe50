"""Wiring: settings in, a ready ``Pipeline`` out (used by the CLI, the UI and the evals)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.pipeline import AnswerConfig, Pipeline
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.llm import ChatClient
    from guardrails.policy import Policy
    from guardrails.rail import Tools
    from guardrails.stages import Rails
    from guardrails.store import PolicyStore
    from knowledge.base import KnowledgeBase
    from knowledge.embeddings import E5Embedder


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    from knowledge.base import KnowledgeBase

    return KnowledgeBase.open(settings.data_dir, settings.chroma_url, settings.collection, settings.chunking(),
                              settings.retrieval(), int(settings.max_file_mb * 1e6), settings.embed_threads)


def answer_config(settings: Settings) -> AnswerConfig:
    strategy = settings.answer_strategy
    if strategy == "auto":
        strategy = "extract" if settings.llm == "local" else "cite"
    return AnswerConfig(strategy=strategy, passages=settings.answer_passages,
                        search_k=max(settings.k, settings.answer_passages),
                        abstain_below=settings.abstain_below, history_turns=settings.history_turns,
                        write_languages=settings.answer_write_languages)


def embedding_similarity(embedder: E5Embedder) -> Callable[[str, Sequence[str]], Sequence[float]]:
    """Cosine similarity of a claim (as a query) to sentences (as passages), for picking quotes."""
    def similarity(claim: str, sentences: Sequence[str]) -> Sequence[float]:
        vectors = embedder.passages(list(sentences))
        return [float(x) for x in vectors @ embedder.query(claim)]
    return similarity


def policy_store(settings: Settings) -> PolicyStore:
    """The policy store, holding the shipped ``default`` policy from the first run on."""
    from guardrails.policy import shipped
    from guardrails.store import PolicyStore

    store = PolicyStore(settings.data_dir / "policies.sqlite")
    if store.active_id() is None:
        store.activate(shipped("default").read_text(encoding="utf-8"), "waymark", "first run: the shipped default "
                       "policy", str(shipped("default")))
    return store


def load_policy(settings: Settings) -> Policy | None:
    """The policy the settings name (None for ``none``); raises ``PolicyError`` if it cannot be used."""
    from guardrails.policy import Policy, shipped_or_file

    if settings.policy == "none":
        return None
    if settings.policy == "active":
        active = policy_store(settings).active()
        assert active is not None
        return active.policy()
    return Policy.from_path(shipped_or_file(settings.policy))


def rail_tools(embedder: E5Embedder, max_tokens: int | None = None) -> Tools:
    """What the rails share: the multilingual query encoder (loaded on first use), one embedding per
    text, reading at most ``max_tokens`` of it (head and tail; default ``RAIL_EMBED_TOKENS``)."""
    from guardrails.rail import RAIL_EMBED_TOKENS, Tools, bounded, remembering

    limit = RAIL_EMBED_TOKENS if max_tokens is None else max_tokens
    return Tools(embed=remembering(bounded(embedder.queries, embedder.count_tokens, limit)))


def build_rails(settings: Settings, embedder: E5Embedder) -> Rails:
    """The rails of the configured policy, ready to run (the embedder serves the classifier rails);
    with ``active``, they follow the policy store's activations."""
    from guardrails.engine import PolicyRails
    from guardrails.stages import PassThroughRails
    from guardrails.store import LiveRails

    tools = rail_tools(embedder)
    if settings.policy == "active":
        return LiveRails(policy_store(settings), lambda policy: PolicyRails(policy, tools))
    policy = load_policy(settings)
    return PolicyRails(policy, tools) if policy else PassThroughRails()


def flagged_passages(rails: Rails, kb: KnowledgeBase, sources: Collection[str]) -> dict[str, int]:
    """How many passages of each of ``sources`` the policy's retrieval rails would quarantine
    (passages carrying instructions for an AI): reported at ingestion, enforced at question time."""
    from knowledge.models import SearchHit

    flagged: dict[str, int] = {}
    for cid, text, m, _ in kb.store.iter_chunks(sources=sources):
        hit = SearchHit(source=m["source"], title=m["title"], section=m["section"] or None, language=m["language"],
                        text=text, start=m["start"], end=m["end"], page=None, rank=1, chunk_id=cid, score=0.0,
                        similarity=0.0, dense_rank=None, lexical_rank=None)
        if not rails.check_passages([hit], m["language"]).passages:
            flagged[m["source"]] = flagged.get(m["source"], 0) + 1
    return flagged


def build_pipeline(settings: Settings, kb: KnowledgeBase, llm: ChatClient, rails: Rails | None = None) -> Pipeline:
    from assistant.translation import TranslationStore

    rails = rails or build_rails(settings, kb.embedder)
    translations = TranslationStore(translations_path(settings)) if settings.translate else None
    return Pipeline(kb.retriever, llm, rails, answer_config(settings), embedding_similarity(kb.embedder),
                    translations)


def translations_path(settings: Settings) -> Path:
    return settings.data_dir / "translations.sqlite"
