"""The one place that reads Waymark's environment (besides the UI).

Every value has a sensible default; environment variables use the ``WAYMARK_`` prefix
(e.g. ``WAYMARK_DATA_DIR``, ``WAYMARK_CHROMA_URL``). Everything below this module receives
plain values or config objects, never the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.chunking import ChunkingConfig
from knowledge.retrieval import RetrievalConfig


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/waymark``, or ``~/.local/share/waymark``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "waymark"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAYMARK_", extra="forbid")

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

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("WAYMARK_CHROMA_URL must start with http:// or https://")
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
