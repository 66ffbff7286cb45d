"""A :class:`knowledge.answering.corpus.Corpus` held in memory, for testing the answer stages
alone on a few Vietnamese sentences (no index, no model). Sentences are split with the real
splitter and carry unit vectors given by the test (or none)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from knowledge.ingest.features import document_features
from knowledge.ingest.sentences import document_sentences
from knowledge.lexicon.doc_numbers import DocumentRef, number_key
from knowledge.schema import Chunk, Document, DocumentFeatures, DocumentMeta, Hit


class MemorySentences:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int, str]] = []  # (doc_id, start, end, text)
        self.by_chunk: dict[int, list[int]] = {}
        self.descriptions: dict[str, int] = {}

    def of_chunk(self, chunk_row: int) -> np.ndarray:
        return np.asarray(self.by_chunk.get(chunk_row, []), dtype=np.int64)

    def description_row(self, doc_id: str) -> int:
        return self.descriptions.get(doc_id, -1)

    def text(self, row: int) -> str:
        return self.rows[row][3]

    def span(self, row: int) -> tuple[int, int]:
        return self.rows[row][1], self.rows[row][2]

    def doc_id(self, row: int) -> str:
        return self.rows[row][0]

    def vectors_of(self, rows: list[int]) -> np.ndarray:
        return np.zeros((len(rows), 4), dtype=np.float32)


class MemoryCorpus:
    """Documents → one chunk each (the whole text), their sentences, features, numbers."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.docs = {d.id: d for d in documents}
        self.chunks: list[Chunk] = []
        self.sentences = MemorySentences()
        self._features: dict[str, DocumentFeatures] = {}
        for doc in self.docs.values():
            chunk = Chunk(f"{doc.id}#0", doc.id, doc.text, 0, len(doc.text))
            row = len(self.chunks)
            self.chunks.append(chunk)
            for sentence in document_sentences(doc, [chunk]):
                self.sentences.rows.append((doc.id, sentence.start, sentence.end,
                                            sentence.text))
                at = len(self.sentences.rows) - 1
                if sentence.is_description:
                    self.sentences.descriptions[doc.id] = at
                else:
                    self.sentences.by_chunk.setdefault(row, []).append(at)
            self._features[doc.id] = document_features(doc)

    def hits(self) -> list[Hit]:
        """Every document's chunk, in insertion order, as if retrieved."""
        return [Hit(c, 1.0 / (1 + i)) for i, c in enumerate(self.chunks)]

    def document(self, doc_id: str) -> Document | None:
        return self.docs.get(doc_id)

    def documents(self) -> Iterable[Document]:
        return self.docs.values()

    def features(self, doc_id: str) -> DocumentFeatures:
        return self._features.get(doc_id, DocumentFeatures())

    def chunk_row(self, chunk: Chunk) -> int:
        return next(i for i, c in enumerate(self.chunks) if c.id == chunk.id)

    def idf(self, term: str) -> float:
        return 1.0

    def documents_numbered(self, number: str) -> list[str]:
        return [d.id for d in self.docs.values()
                if d.meta.number and number_key(d.meta.number) == number_key(number)]

    def mentions_number(self, number: str) -> bool:
        key = number_key(number)
        return any(key == number_key(n) for f in self._features.values() for n in f.numbers) or \
            bool(self.documents_numbered(number))

    def mentions_ref(self, ref: DocumentRef) -> bool:
        return any(ref.matches_key(k) for f in self._features.values() for k in f.refs)


def doc(doc_id: str, text: str, **meta) -> Document:
    """A document with explicit metadata (``places`` as a tuple)."""
    return Document(doc_id, text, DocumentMeta(**meta))
