"""The app's heavy resources, built once per process (``st.cache_resource``): settings, users, the
policy store, the audit record, the eval runs, the knowledge base and the answer pipeline. The
pages only call these; tests replace ``build``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import streamlit as st

from assistant.audit import AuditStore
from assistant.signin import SignIns
from evals.history import RunStore

if TYPE_CHECKING:
    from assistant.audit import AuditStore
    from assistant.llm import ChatClient
    from assistant.pipeline import Pipeline
    from assistant.settings import Settings
    from assistant.translation import FailedUnit
    from assistant.users import UserStore
    from evals.history import RunStore
    from guardrails.policy import Policy
    from guardrails.store import PolicyStore
    from knowledge.base import KnowledgeBase


@dataclass
class Services:
    settings: Settings
    users: UserStore
    policies: PolicyStore
    audit: AuditStore
    runs: RunStore
    _pipeline: Pipeline | None = None
    _kb: KnowledgeBase | None = None
    _llm: ChatClient | None = None

    @cached_property
    def sign_ins(self) -> SignIns:
        """Sign-in with backoff, recorded beside the users (``assistant.signin``)."""
        return SignIns(self.users.path, self.users)

    @property
    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            from assistant.service import open_knowledge_base

            self._kb = open_knowledge_base(self.settings)
        return self._kb

    @property
    def llm(self) -> ChatClient:
        if self._llm is None:
            from assistant.backends import chat_client

            self._llm = chat_client(self.settings)
        return self._llm

    @property
    def pipeline(self) -> Pipeline:
        """The answer pipeline under the policy in force (it follows activations), started on first use."""
        if self._pipeline is None:
            from assistant.service import build_pipeline

            self._pipeline = build_pipeline(self.settings, self.kb, self.llm)
        return self._pipeline

    def link_domains(self) -> tuple[str, ...]:
        """The hosts an answer may link to: the policy in force's markdown rail's (none without one)."""
        try:
            active = self.policies.active()
            policy = active.policy() if active else None
        except Exception:  # an unreadable version: no links at all
            return ()
        for spec in policy.output if policy else []:
            if spec.rail == "markdown":
                return tuple(str(d) for d in spec.params.get("allowed_domains", []))
        return ()

    def untranslated(self) -> list[tuple[FailedUnit, list[str]]]:
        """Passages ``waymark translate`` could not translate, with their documents (none without a file)."""
        from assistant.service import translations_path
        from assistant.translation import TranslationStore, failed_units

        path = translations_path(self.settings)
        if not path.is_file():
            return []
        # read only if something failed (failed_units looks at the failures first)
        chunks = ((c.source, c.text, c.language) for c in self.kb.store.chunk_records() if c.language != "en")
        store = TranslationStore(path)
        try:
            return failed_units(store, chunks)
        finally:
            store.close()

    def pipeline_for(self, policy: Policy) -> Pipeline:
        """The same pipeline judged by ``policy`` instead (a draft's test drive)."""
        from assistant.service import policy_rails

        return self.pipeline.replace(rails=policy_rails(policy, self.kb.embedder))  # the loaded embedder


def build() -> Services:
    from assistant.data_dir import private_data_dir
    from assistant.service import policy_store, user_store
    from assistant.settings import Settings

    settings = Settings()  # the UI, with the settings module, is what reads the environment
    private_data_dir(settings)
    return Services(settings, user_store(settings), policy_store(settings),
                    AuditStore(settings.data_dir / "audit.sqlite"), RunStore(settings.data_dir / "evals.sqlite"))


@st.cache_resource(show_spinner="Starting Waymark...")
def services() -> Services:
    return build()
