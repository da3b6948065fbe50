"""The one place that reads Waymark's environment (besides the UI).

Every value has a sensible default; environment variables use the ``WAYMARK_`` prefix
(e.g. ``WAYMARK_DATA_DIR``, ``WAYMARK_CHROMA_URL``). Everything below this module receives
plain values or config objects, never the environment.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from knowledge.chunking import ChunkingConfig
from knowledge.retrieval import RetrievalConfig


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/waymark``, or ``~/.local/share/waymark``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "waymark"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYMARK_", extra="forbid", populate_by_name=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    chroma_url: str | None = None
    """``http://host:port`` of a Chroma server; unset means an embedded PersistentClient."""
    collection: str = "waymark"

    chunk_target_tokens: int = Field(220, ge=32, le=500)
    chunk_max_tokens: int = Field(300, ge=64, le=510)
    chunk_overlap_tokens: int = Field(40, ge=0, le=200)

    k: int = Field(5, ge=1, le=100)
    lexical: Literal["bm25", "sparse", "none"] = "sparse"
    rrf_k: int = Field(60, ge=1)
    lexical_weight: float = Field(1.0, ge=0.0, le=4.0)
    dedup_threshold: float = Field(0.9, gt=0.0, le=1.0)

    max_file_mb: float = Field(20.0, gt=0)
    embed_threads: int | None = Field(None, ge=1)

    # --- the language model (``WAYMARK_LLM=local|openai|azure``; ``fake`` for demos and browser tests) ---
    llm: Literal["local", "openai", "azure", "fake"] = "local"
    llm_model: str | None = None
    """Model name (openai), deployment (azure), or a GGUF path (local; default: the bundled Qwen)."""
    llm_base_url: str | None = None
    """Any OpenAI-compatible endpoint, e.g. ``http://localhost:8000/v1`` (vLLM) or Ollama's."""
    llm_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("WAYMARK_LLM_API_KEY", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"))
    azure_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("WAYMARK_AZURE_ENDPOINT", "AZURE_OPENAI_ENDPOINT"))
    azure_api_version: str = Field(
        "2024-10-21", validation_alias=AliasChoices("WAYMARK_AZURE_API_VERSION", "OPENAI_API_VERSION"))
    llm_timeout_s: float | None = Field(None, gt=0)
    """Per-request timeout; default 60 s for hosted models, 600 s for the embedded CPU model."""
    llm_retries: int = Field(2, ge=0, le=10)
    """Extra attempts after a retryable failure (429, 5xx, timeout, connection) before any text arrived."""
    llm_max_tokens: int = Field(256, ge=16, le=8192)
    llm_context: int = Field(4096, ge=512, le=131072)
    """Context window of the embedded server (tokens)."""
    llm_threads: int | None = Field(None, ge=1)

    # --- answering ---
    answer_strategy: Literal["auto", "extract", "per-passage", "cite"] = "auto"
    """``auto``: ``extract`` for the embedded model, ``cite`` for hosted ones (see docs/decisions)."""
    translate: bool = True
    """Let the model read non-English passages in their English machine translation, where
    ``waymark translate`` has made one (citations always quote the original)."""
    answer_write_languages: Annotated[tuple[str, ...], NoDecode] = ()
    """``extract`` strategy: languages (ISO 639-1, comma-separated) in which the model writes the
    answer from its quote; by default none: the answer is the quote, led by the words the model
    copied from it (measured in docs/decisions/0005-answer-strategy.md)."""
    answer_passages: int = Field(3, ge=1, le=20)
    """How many retrieved passages go into the prompt (each costs ~250 prompt tokens)."""
    abstain_below: float = Field(0.78, ge=0.0, le=1.0)
    """Abstain without asking the model when the best passage's cosine similarity is below this."""
    history_turns: int = Field(4, ge=0, le=50)
    """Earlier question/answer pairs kept for follow-ups."""

    # --- guardrails ---
    policy: str = "active"
    """The guardrail policy: ``active`` (the one in force in the policy store, which starts with the
    shipped ``default``), a shipped one (``default``, ``strict``) or a YAML file, fixed; or ``none``
    (no rails: for experiments only)."""
    user: str = Field(default_factory=getpass.getuser)
    """Who is at the keyboard: recorded as the author of policy changes."""
    gate_suites: Annotated[tuple[str, ...], NoDecode] = ("rules", "smoke")
    """Admin setting: the suites every activation and rollback runs, whatever the draft's own ``gate`` says
    (comma-separated; ``rules`` is the policy's own rules as cases)."""
    required_rails: Annotated[tuple[str, ...], NoDecode] = ("pii", "injection", "invisible_unicode", "max_length")
    """Admin setting: input rails a policy must keep (with action block or redact); a draft without one is
    activated only with an admin's override and reason, which are recorded (comma-separated)."""

    @field_validator("answer_write_languages", "gate_suites", "required_rails", mode="before")
    @classmethod
    def _split_names(cls, v: object) -> object:
        return tuple(x.strip().lower() for x in v.split(",") if x.strip()) if isinstance(v, str) else v

    @field_validator("chroma_url", "llm_base_url", "azure_endpoint")
    @classmethod
    def _check_url(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"{info.field_name} must start with http:// or https://")
        return v.rstrip("/")

    def chunking(self) -> ChunkingConfig:
        return ChunkingConfig(
            target_tokens=self.chunk_target_tokens,
            max_tokens=self.chunk_max_tokens,
            overlap_tokens=self.chunk_overlap_tokens,
        )

    def retrieval(self) -> RetrievalConfig:
        return RetrievalConfig(
            k=self.k,
            lexical=self.lexical,
            rrf_k=self.rrf_k,
            lexical_weight=self.lexical_weight,
            dedup_threshold=self.dedup_threshold,
        )
