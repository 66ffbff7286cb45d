"""The knowledge base as the rest of the product sees it: ``search`` and ``ask``.

It reads the live index version lazily and reloads it when ``kb ingest`` (or the console)
publishes a new one, so a running action server serves new documents without a restart.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from knowledge.config import KnowledgeConfig
from knowledge.index.store import IndexData, current_version, read_index
from knowledge.lexicon.places import same_place
from knowledge.retrieval.ann import build_dense_index
from knowledge.retrieval.base import SearchMode
from knowledge.retrieval.dense import Embedder
from knowledge.retrieval.fusion import fuse
from knowledge.retrieval.sparse import BM25Index
from knowledge.schema import Answer, Document, Hit
from knowledge.text.segment import TermAnalyzer, expand_abbreviations
from knowledge.text.vietnamese import fold_diacritics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchFilters:
    """Metadata filters; ``None`` means "any". Places match the document's provinces."""

    year: int | None = None
    place: str | None = None
    doc_type: str | None = None
    issuer: str | None = None

    def is_empty(self) -> bool:
        return not any((self.year, self.place, self.doc_type, self.issuer))


class _Loaded:
    """One loaded index version with its retrievers."""

    def __init__(self, data: IndexData, exact_threshold: int) -> None:
        self.data = data
        self.bm25 = BM25Index().fit(data.terms)
        self.dense = build_dense_index(data.embeddings, exact_threshold=exact_threshold)
        self.doc_rows = np.array([c.doc_id for c in data.chunks], dtype=object)
        self.aggregate = None  # knowledge.answering.aggregate.AggregateAnswerer, built on first ask


class KnowledgeBase:
    """Search and question answering over an index folder."""

    def __init__(self, config: KnowledgeConfig, embedder: Embedder | None = None,
                 analyzer: TermAnalyzer | None = None) -> None:
        self.config = config
        self.embedder = embedder or Embedder(config.model)
        self.analyzer = analyzer or TermAnalyzer()
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    # -- index lifecycle ------------------------------------------------------------------
    def _index(self) -> _Loaded:
        live = current_version(self.config.index_dir)
        if self._loaded is None or (live is not None and live != self._loaded.data.version):
            with self._lock:
                if self._loaded is None or live != self._loaded.data.version:
                    data = read_index(self.config.index_dir, expected_model=self.config.model)
                    if self._loaded is not None:
                        logger.info("index changed: loading version %s", data.version)
                    self._loaded = _Loaded(data, self.config.exact_threshold)
        return self._loaded

    def documents(self) -> list[Document]:
        return [s.document for s in self._index().data.documents.values()]

    def document(self, doc_id: str) -> Document | None:
        stored = self._index().data.documents.get(doc_id)
        return stored.document if stored else None

    # -- search ---------------------------------------------------------------------------
    def _allowed(self, loaded: _Loaded, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        ok_docs = set()
        for doc_id, stored in loaded.data.documents.items():
            meta = stored.document.meta
            if filters.year and meta.year != filters.year and not meta.date.startswith(
                str(filters.year)
            ):
                continue
            if filters.place and not any(same_place(filters.place, p) for p in meta.places):
                continue
            if filters.doc_type and fold_diacritics(filters.doc_type).lower() != fold_diacritics(
                meta.doc_type
            ).lower():
                continue
            if filters.issuer and fold_diacritics(filters.issuer).lower() not in fold_diacritics(
                meta.issuer
            ).lower():
                continue
            ok_docs.add(doc_id)
        return np.array([d in ok_docs for d in loaded.doc_rows], dtype=bool)

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               mode: SearchMode = SearchMode.HYBRID) -> list[Hit]:
        """The ``k`` best chunks for ``query``.

        >>> kb.search("kiểm tra CCHC năm 2018 tại những sở nào", k=1)[0].chunk.doc_id
        '000_bd7401f5dd8b7167.txt'
        """
        loaded = self._index()
        if len(loaded.data.chunks) == 0 or not query.strip():
            return []
        allowed = self._allowed(loaded, filters)
        n = max(k, self.config.candidates)
        rankings, weights = [], []
        if mode in (SearchMode.HYBRID, SearchMode.SPARSE):
            terms = self.analyzer.query_terms(query)
            rankings.append(loaded.bm25.search_terms(terms, n, allowed))
            weights.append(self.config.sparse_weight)
        if mode in (SearchMode.HYBRID, SearchMode.DENSE):
            vector = self.embedder.embed_queries([expand_abbreviations(query)])[0]
            rankings.append(loaded.dense.search_vector(vector, n, allowed))
            weights.append(self.config.dense_weight)
        if len(rankings) == 1:
            ranked = rankings[0]
        else:
            ranked = fuse(rankings, self.config.fusion, weights, rrf_k=self.config.rrf_k)
        return [Hit(loaded.data.chunks[row], score) for row, score in ranked[:k]]

    # -- answers --------------------------------------------------------------------------
    def ask(self, question: str, filters: SearchFilters | None = None) -> Answer:
        """Answer ``question`` from the documents, or decline with the closest leads."""
        from knowledge.answering.aggregate import AggregateAnswerer
        from knowledge.answering.answer import Answerer  # answer extraction only when asked

        loaded = self._index()
        if loaded.aggregate is None:
            loaded.aggregate = AggregateAnswerer(
                {doc_id: s.document for doc_id, s in loaded.data.documents.items()},
                loaded.data.facts, self.config.today)
        # questions over several documents (plans of a year, inspections compared, what is due
        # in a quarter) are answered from the structured facts; the rest from passages
        answer = loaded.aggregate.answer(question, place=filters.place if filters else None)
        if answer is not None:
            return answer
        return Answerer(self).answer(question, filters)
