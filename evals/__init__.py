"""Waymark's evaluation: retrieval metrics now; the full eval suite comes later."""
