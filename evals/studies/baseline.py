"""The comparison point: a plain LangChain "retrieve top-k and stuff" chain.

Same embedder, same Chroma collection, same chat model as Waymark; no hybrid retrieval, no
strategy, no citation checks, no abstention logic: the textbook RAG chain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from knowledge.base import KnowledgeBase

TEMPLATE = (
    "Answer the question based only on the following context. If the context does not answer it, "
    "say you don't know.\n\nContext:\n{context}\n\nQuestion: {question}"
)


@dataclass
class BaselineResult:
    text: str
    first_token_ms: float | None
    total_ms: float
    sources: list[str]
    error: str | None = None


class StuffChain:
    def __init__(self, kb: KnowledgeBase, model: BaseChatModel, k: int = 3) -> None:
        from langchain_chroma import Chroma
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        from knowledge.embeddings import E5Embeddings

        store = Chroma(client=kb.store.client, collection_name=kb.store.chunks.name,
                       embedding_function=E5Embeddings(kb.embedder))
        self.retriever = store.as_retriever(search_kwargs={"k": k})
        self.chain: Any = ChatPromptTemplate.from_template(TEMPLATE) | model | StrOutputParser()

    def answer(self, question: str) -> BaselineResult:
        t0 = time.perf_counter()
        first: float | None = None
        text = ""
        try:
            docs = self.retriever.invoke(question)
            context = "\n\n".join(d.page_content for d in docs)
            for piece in self.chain.stream({"context": context, "question": question}):
                if piece and first is None:
                    first = (time.perf_counter() - t0) * 1000
                text += piece
        except Exception as exc:  # counted as an error case, never hidden
            return BaselineResult(text, first, (time.perf_counter() - t0) * 1000, [], f"{type(exc).__name__}: {exc}")
        return BaselineResult(text, first, (time.perf_counter() - t0) * 1000,
                              [str(d.metadata.get("source", "")) for d in docs])
