"""Choosing the chat model: ``WAYMARK_LLM=local|openai|azure``, all through langchain-openai.

- ``local`` (default): the embedded xllamacpp server with the bundled Qwen2.5-Coder-1.5B
  (or any GGUF given by ``WAYMARK_LLM_MODEL``), spoken to over its OpenAI-compatible API;
- ``openai``: OpenAI, or any OpenAI-compatible endpoint (vLLM, Ollama, LM Studio) when
  ``WAYMARK_LLM_BASE_URL`` is set;
- ``azure``: Azure OpenAI (``AZURE_OPENAI_ENDPOINT``, a deployment in ``WAYMARK_LLM_MODEL``).

Retries are ours (``assistant.llm``), so the OpenAI client's own are switched off.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import local_server
from assistant.llm import ChatClient, RetryPolicy
from assistant.settings import Settings
from assistant.weights import WeightsError, ensure_default_model

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_TIMEOUT_S = 600.0
HOSTED_TIMEOUT_S = 60.0


class BackendError(RuntimeError):
    """The configured model cannot be used (missing key, missing weights, bad endpoint)."""


def local_model_path(settings: Settings, progress: Callable[[int, int], None] | None = None) -> Path:
    """The GGUF to serve: ``WAYMARK_LLM_MODEL`` if it names a file, else the bundled default."""

    if settings.llm_model:
        path = Path(settings.llm_model).expanduser()
        if not path.is_file():
            raise BackendError(f"WAYMARK_LLM_MODEL={settings.llm_model} is not a GGUF file")
        return path
    try:
        return ensure_default_model(settings.data_dir / "models", progress)
    except WeightsError as exc:
        raise BackendError(str(exc)) from None


def chat_client(settings: Settings, progress: Callable[[int, int], None] | None = None) -> ChatClient:
    """The chat model the settings ask for, wrapped with the retry policy."""
    timeout = settings.llm_timeout_s or (LOCAL_TIMEOUT_S if settings.llm == "local" else HOSTED_TIMEOUT_S)
    retry = RetryPolicy(retries=settings.llm_retries)
    common = {"temperature": 0.0, "max_retries": 0, "timeout": timeout, "max_tokens": settings.llm_max_tokens}
    model: BaseChatModel
    if settings.llm == "fake":
        from assistant.fake_llm import QuotingChatModel

        return ChatClient(QuotingChatModel(), "fake:quoting", RetryPolicy(retries=0))
    if settings.llm == "local":
        from langchain_openai import ChatOpenAI


        path = local_model_path(settings, progress)
        try:
            url = local_server.start(local_server.ServerSpec(path, settings.llm_context, settings.llm_threads))
        except local_server.LocalServerError as exc:
            raise BackendError(str(exc)) from None
        model = ChatOpenAI(model=path.stem, base_url=url, api_key="local", **common)
        return ChatClient(model, f"local:{path.stem}", retry)
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if settings.llm == "openai":
        from langchain_openai import ChatOpenAI

        if not key and not settings.llm_base_url:
            raise BackendError("WAYMARK_LLM=openai needs OPENAI_API_KEY (or WAYMARK_LLM_BASE_URL for a local endpoint)")
        name = settings.llm_model or DEFAULT_OPENAI_MODEL
        model = ChatOpenAI(model=name, base_url=settings.llm_base_url, api_key=key or "none",
                           **common)
        return ChatClient(model, f"openai:{name}", retry)
    from langchain_openai import AzureChatOpenAI

    if not (key and settings.azure_endpoint and settings.llm_model):
        raise BackendError("WAYMARK_LLM=azure needs AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and "
                           "WAYMARK_LLM_MODEL (the deployment name)")
    model = AzureChatOpenAI(azure_endpoint=settings.azure_endpoint, azure_deployment=settings.llm_model,
                            api_version=settings.azure_api_version, api_key=key,
                            **common)
    return ChatClient(model, f"azure:{settings.llm_model}", retry)
