"""What the answer pipeline reads about the indexed documents — a protocol, so the pipeline
never reaches into the knowledge base (:class:`knowledge.index.loaded.LoadedIndex` implements
it; tests may pass any object with these members)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from knowledge.lexicon.doc_numbers import DocumentRef
from knowledge.schema import Chunk, Document, DocumentFeatures


class SentenceSource(Protocol):
    """The stored sentences of the indexed passages (see
    :class:`knowledge.index.store.SentenceTable`)."""

    def of_chunk(self, chunk_row: int) -> np.ndarray: ...

    def description_row(self, doc_id: str) -> int: ...

    def text(self, row: int) -> str: ...

    def span(self, row: int) -> tuple[int, int]: ...

    def doc_id(self, row: int) -> str: ...

    def vectors_of(self, rows: list[int]) -> np.ndarray: ...


class Corpus(Protocol):
    """Documents, their features and sentences, and term statistics."""

    sentences: SentenceSource

    def document(self, doc_id: str) -> Document | None: ...

    def features(self, doc_id: str) -> DocumentFeatures: ...

    def documents(self) -> Iterable[Document]: ...

    def chunk_row(self, chunk: Chunk) -> int: ...

    def idf(self, term: str) -> float: ...

    def documents_numbered(self, number: str) -> list[str]:
        """Ids of the documents whose own số hiệu is ``number`` (compared folded)."""
        ...

    def mentions_number(self, number: str) -> bool:
        """Does any document have this số hiệu, or mention it?"""
        ...

    def mentions_ref(self, ref: DocumentRef) -> bool:
        """Does any document name this document ("Chỉ thị 23", or a số hiệu that is it)?"""
        ...
