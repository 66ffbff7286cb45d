"""One loaded index version with its retrievers and the lookups the answer pipeline needs.

Everything here is built once per version and per process: BM25 and the vectors are
memory-mapped from the version folder, the number index is a dictionary over the documents'
stored features. The object implements :class:`knowledge.answering.corpus.Corpus`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from knowledge.index.store import IndexData
from knowledge.lexicon.doc_numbers import DocumentRef, number_key
from knowledge.retrieval.ann import build_dense_index
from knowledge.schema import Chunk, Document, DocumentFeatures

_NO_FEATURES = DocumentFeatures()


class LoadedIndex:
    """A version in memory: documents, chunks, BM25, dense index, sentences, facts."""

    def __init__(self, data: IndexData, exact_threshold: int) -> None:
        self.data = data
        self.version = data.version
        self.chunks = data.chunks
        self.bm25 = data.bm25  # saved at ingest, memory-mapped
        self.sentences = data.sentences
        self.restorer = data.restorer
        self.dense = build_dense_index(np.asarray(data.embeddings),
                                       exact_threshold=exact_threshold)
        self.doc_rows = np.array([c.doc_id for c in data.chunks], dtype=object)
        self._chunk_rows = {c.id: row for row, c in enumerate(data.chunks)}
        self._own: dict[str, list[str]] = {}
        self._mentioned: set[str] = set()
        self._refs: dict[int, set[str]] = {}  # number → mentions ("Chỉ thị|23|")
        for doc_id, stored in data.documents.items():
            own = number_key(stored.document.meta.number)
            if own:
                self._own.setdefault(own, []).append(doc_id)
                self._mentioned.add(own)
            self._mentioned.update(number_key(n) for n in stored.features.numbers)
            self._mentioned.update(number_key(n) for n in stored.document.meta.references)
            for key in stored.features.refs:
                self._refs.setdefault(int(key.split("|")[1]), set()).add(key)
        #: answers over several documents, built on first use (knowledge.answering.aggregate)
        self.aggregate = None

    # -- Corpus --------------------------------------------------------------------------
    def document(self, doc_id: str) -> Document | None:
        stored = self.data.documents.get(doc_id)
        return stored.document if stored else None

    def documents(self) -> Iterable[Document]:
        return (s.document for s in self.data.documents.values())

    def features(self, doc_id: str) -> DocumentFeatures:
        stored = self.data.documents.get(doc_id)
        return stored.features if stored else _NO_FEATURES

    def chunk_row(self, chunk: Chunk) -> int:
        return self._chunk_rows[chunk.id]

    def idf(self, term: str) -> float:
        return self.bm25.term_idf(term)

    def documents_numbered(self, number: str) -> list[str]:
        return list(self._own.get(number_key(number), ()))

    def mentions_ref(self, ref: DocumentRef) -> bool:
        return any(ref.matches_key(key) for key in self._refs.get(ref.number, ()))

    def mentions_number(self, number: str) -> bool:
        key = number_key(number)
        return bool(key) and (key in self._mentioned
                              or any(key in own for own in self._own))
