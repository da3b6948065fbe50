"""The app's heavy resources, built once per process (``st.cache_resource``): settings, the users,
the policy store, the knowledge base and the answer pipeline. Tests replace ``build``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from assistant.pipeline import Pipeline
    from assistant.settings import Settings
    from assistant.users import UserStore
    from guardrails.store import PolicyStore


@dataclass
class Services:
    settings: Settings
    users: UserStore
    policies: PolicyStore
    _pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        """The answer pipeline (index, model and rails), started on first use."""
        if self._pipeline is None:
            from assistant.backends import chat_client
            from assistant.service import build_pipeline, open_knowledge_base

            kb = open_knowledge_base(self.settings)
            self._pipeline = build_pipeline(self.settings, kb, chat_client(self.settings))
        return self._pipeline


def build() -> Services:
    from assistant.cli_users import user_store
    from assistant.service import policy_store
    from assistant.settings import Settings

    settings = Settings()  # the UI, with the settings module, is what reads the environment
    return Services(settings, user_store(settings), policy_store(settings))


@st.cache_resource(show_spinner="Starting Waymark...")
def services() -> Services:
    return build()
