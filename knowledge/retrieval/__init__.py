"""Retrievers: sparse (BM25), dense (sentence-transformers + faiss) and their fusion."""
