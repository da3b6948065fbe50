"""Waymark's knowledge base: loading, chunking, embedding, indexing and hybrid retrieval."""
