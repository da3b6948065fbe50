"""The knowledge base, at the bottom of the layers: loaders, chunking, embeddings, the Chroma store and
hybrid retrieval (``base.KnowledgeBase`` ties them; ``models`` holds ``Chunk``, ``SearchHit``,
``Passage``). It imports nothing else of ours."""
