"""Wiring: settings in, a ready ``Pipeline`` out (used by the CLI, the UI and the evals)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answer_config import AnswerConfig
from assistant.confidence import load_decision
from assistant.pipeline import Pipeline
from assistant.prompts import CANARY, SYSTEM_PROMPTS
from assistant.settings import Settings
from assistant.translation import TranslationStore
from assistant.users import UserStore
from guardrails.engine import PolicyRails
from guardrails.policy import Policy, shipped, shipped_or_file
from guardrails.rail import RAIL_EMBED_TOKENS, Tools, bounded, remembering
from guardrails.stages import PassThroughRails
from guardrails.store import LiveRails, PolicyStore
from knowledge.models import SearchHit

if TYPE_CHECKING:
    from assistant.llm import ChatClient
    from assistant.users import UserStore
    from guardrails.contracts import Rails
    from guardrails.policy import Policy
    from guardrails.rail import Tools
    from guardrails.store import PolicyStore
    from knowledge.base import KnowledgeBase
    from knowledge.embeddings import E5Embedder


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    from knowledge.base import KnowledgeBase

    return KnowledgeBase.open(settings.data_dir, settings.chroma_url, settings.collection, settings.chunking,
                              settings.retrieval, int(settings.max_file_mb * 1e6), settings.embed_threads,
                              max_inflated=int(settings.max_inflated_mb * 1e6), max_chars=settings.max_chars,
                              min_free=int(settings.min_free_mb * (1 << 20)))


def answer_config(settings: Settings) -> AnswerConfig:
    """``settings.answer``, retrieving the retrieval's ``k`` hits (``auto`` is resolved by the pipeline,
    which knows its model)."""
    return settings.answer.model_copy(update={"search_k": settings.retrieval.k})


def embedding_similarity(embedder: E5Embedder) -> Callable[[str, Sequence[str]], Sequence[float]]:
    """Cosine similarity of a claim (as a query) to sentences (as passages), for picking quotes."""
    def similarity(claim: str, sentences: Sequence[str]) -> Sequence[float]:
        vectors = embedder.passages(list(sentences))
        return [float(x) for x in vectors @ embedder.query(claim)]
    return similarity


def user_store(settings: Settings) -> UserStore:
    """The app's local accounts (the embedded sign-in)."""

    return UserStore(settings.data_dir / "users.sqlite")


def policy_store(settings: Settings) -> PolicyStore:
    """The policy store, holding the shipped ``default`` policy from the first run on."""

    store = PolicyStore(settings.data_dir / "policies.sqlite")
    if store.active_id() is None:
        store.activate(shipped("default").read_text(encoding="utf-8"), "waymark", "first run: the shipped default "
                       "policy", str(shipped("default")))
    return store


def load_policy(settings: Settings) -> Policy | None:
    """The policy the settings name (None for ``none``); raises ``PolicyError`` if it cannot be used."""

    if settings.policy == "none":
        return None
    if settings.policy == "active":
        active = policy_store(settings).active()
        assert active is not None
        return active.policy()
    return Policy.from_path(shipped_or_file(settings.policy))


def rail_tools(embedder: E5Embedder, max_tokens: int | None = None) -> Tools:
    """What the rails share: the multilingual query encoder (loaded on first use), one embedding per
    text, reading at most ``max_tokens`` of it (head and tail; default ``RAIL_EMBED_TOKENS``); and the
    system prompts with their canary, which the ``system_prompt_leak`` rail must never see repeated."""

    limit = RAIL_EMBED_TOKENS if max_tokens is None else max_tokens
    return Tools(embed=remembering(bounded(embedder.queries, embedder.count_tokens, limit)),
                 system_prompts=tuple(SYSTEM_PROMPTS), canary=CANARY)


def policy_rails(policy: Policy, embedder: E5Embedder) -> PolicyRails:
    """The one way to make a policy's rails runnable: with ``rail_tools`` (the embedder serves the
    classifier rails and loads on first use; the leak rail gets our system prompts). Raises
    ``PolicyError`` if a rail cannot start."""
    return PolicyRails(policy, rail_tools(embedder))


def build_rails(settings: Settings, embedder: E5Embedder) -> Rails:
    """The rails of the configured policy, ready to run (the embedder serves the classifier rails; the
    leak rail gets our system prompts); with ``active``, they follow the policy store's activations."""

    tools = rail_tools(embedder)
    if settings.policy == "active":
        return LiveRails(policy_store(settings), lambda policy: PolicyRails(policy, tools))  # one memo shared
    policy = load_policy(settings)
    return PolicyRails(policy, tools) if policy else PassThroughRails()


def flagged_passages(rails: Rails, kb: KnowledgeBase, sources: Collection[str]) -> dict[str, int]:
    """How many passages of each of ``sources`` the policy's retrieval rails would quarantine
    (passages carrying instructions for an AI): reported at ingestion, enforced at question time."""

    flagged: dict[str, int] = {}
    for c in kb.store.chunk_records(sources=sources):
        hit = SearchHit(source=c.source, title=c.title, section=c.section, language=c.language, text=c.text,
                        start=c.start, end=c.end, page=None, rank=1, chunk_id=c.id, score=0.0, similarity=0.0,
                        dense_rank=None, lexical_rank=None)
        if not rails.check_passages([hit], c.language).passages:
            flagged[c.source] = flagged.get(c.source, 0) + 1
    return flagged


def build_pipeline(settings: Settings, kb: KnowledgeBase, llm: ChatClient, rails: Rails | None = None) -> Pipeline:

    rails = rails or build_rails(settings, kb.embedder)
    translations = TranslationStore(translations_path(settings)) if settings.translate else None
    config = answer_config(settings)
    decision = None if config.min_confidence == 0 else load_decision()  # DecisionUnavailable: a sentence
    return Pipeline(kb.retriever, llm, rails=rails, config=config, similarity=embedding_similarity(kb.embedder),
                    translations=translations, decision=decision)


def translations_path(settings: Settings) -> Path:
    return settings.data_dir / "translations.sqlite"
