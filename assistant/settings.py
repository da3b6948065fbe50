"""The one place that reads Waymark's environment (besides the UI): one settings tree.

Every value has one default; environment variables use the ``WAYMARK_`` prefix (e.g.
``WAYMARK_DATA_DIR``, ``WAYMARK_CHROMA_URL``). The answer path's, the chunker's and the retriever's own
config objects are branches of the tree (``answer``, ``chunking``, ``retrieval``), set with ``__``:
``WAYMARK_RETRIEVAL__K=7``, ``WAYMARK_ANSWER__PASSAGES=2``. The flat names used before the tree
(``WAYMARK_K``, ``WAYMARK_ANSWER_PASSAGES``, ``k=7`` in a suite's settings or ``--set``) still work as
aliases (``LEGACY_NAMES``). Everything below this module receives config objects, never the environment.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.answer_config import AnswerConfig
from knowledge.chunking import ChunkingConfig
from knowledge.retrieval import RetrievalConfig

LEGACY_NAMES: dict[str, tuple[str, str]] = {
    "chunk_target_tokens": ("chunking", "target_tokens"),
    "chunk_max_tokens": ("chunking", "max_tokens"),
    "chunk_overlap_tokens": ("chunking", "overlap_tokens"),
    "k": ("retrieval", "k"),
    "lexical": ("retrieval", "lexical"),
    "rrf_k": ("retrieval", "rrf_k"),
    "lexical_weight": ("retrieval", "lexical_weight"),
    "dedup_threshold": ("retrieval", "dedup_threshold"),
    "answer_strategy": ("answer", "strategy"),
    "answer_passages": ("answer", "passages"),
    "abstain_below": ("answer", "abstain_below"),
    "history_turns": ("answer", "history_turns"),
    "answer_write_languages": ("answer", "write_languages"),
}
"""Flat setting names from before the tree -> (branch, field): accepted as keywords, in suites and
``--set``, and as ``WAYMARK_<NAME>`` environment variables."""


def nest_legacy_names(values: dict[str, Any]) -> dict[str, Any]:
    """``{"k": 7}`` -> ``{"retrieval": {"k": 7}}``; a branch given in the same place wins over a flat name."""
    out = {k: v for k, v in values.items() if k not in LEGACY_NAMES}
    for name, (branch, key) in LEGACY_NAMES.items():
        if name in values:
            given = out.get(branch)
            mine = given.model_dump() if isinstance(given, BaseModel) else dict(given or {})
            out[branch] = {key: values[name], **mine}
    return out


class _Nesting(PydanticBaseSettingsSource):
    """A settings source with its flat legacy names nested, so sources merge branch by branch in their
    order of priority (keywords, then ``WAYMARK_RETRIEVAL__K``, then ``WAYMARK_K``)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: Callable[[], dict[str, Any]]) -> None:
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return nest_legacy_names(self.inner())


def _legacy_environment() -> dict[str, Any]:
    """``WAYMARK_K=7`` and the other flat names of ``LEGACY_NAMES``, as raw strings."""
    env = {k.upper(): v for k, v in os.environ.items()}
    return {name: env[f"WAYMARK_{name.upper()}"] for name in LEGACY_NAMES if f"WAYMARK_{name.upper()}" in env}


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/waymark``, or ``~/.local/share/waymark``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "waymark"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYMARK_", extra="forbid", populate_by_name=True,
                                      env_nested_delimiter="__")

    data_dir: Path = Field(default_factory=default_data_dir)
    chroma_url: str | None = None
    """``http://host:port`` of a Chroma server; unset means an embedded PersistentClient."""
    collection: str = "waymark"

    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)

    max_file_mb: float = Field(20.0, gt=0)
    max_inflated_mb: float = Field(100.0, gt=0)
    """What a zip-based upload (.docx) may expand to, all its parts together (a decompression bomb's guard)."""
    max_chars: int = Field(5_000_000, ge=1000)
    """Characters extracted from one file, counted while it is read."""
    min_free_mb: float = Field(64.0, ge=0)
    """Free space (MiB) an ingest keeps on the embedded index's disk, beyond what it is about to write; it refuses
    a file that would go below it (docs/decisions/0010). 0: no floor."""
    trusted_proxies: int = Field(0, ge=0, le=5)
    """How many reverse proxies of yours stand in front of the app (each appends to ``X-Forwarded-For``): the
    client for sign-in throttling is that many entries from the header's right. 0: the connection's address
    (a header anyone can send is never believed)."""
    production: bool = False
    """``WAYMARK_PRODUCTION=true``: the app refuses to start while demo accounts exist, and
    ``waymark users demo`` refuses to create them."""
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
    answer: AnswerConfig = Field(default_factory=AnswerConfig)
    translate: bool = True
    """Let the model read non-English passages in their English machine translation, where
    ``waymark translate`` has made one (citations always quote the original)."""

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

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (_Nesting(settings_cls, init_settings), env_settings, _Nesting(settings_cls, _legacy_environment),
                dotenv_settings, file_secret_settings)

    @model_validator(mode="before")
    @classmethod
    def _nest_legacy_names(cls, values: Any) -> Any:
        return nest_legacy_names(values) if isinstance(values, dict) else values

    @field_validator("gate_suites", "required_rails", mode="before")
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
