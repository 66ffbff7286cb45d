"""The knowledge base as the rest of the product sees it: ``search`` and ``ask``.

It reads the live index version lazily and reloads it when ``kb ingest`` (or the console)
publishes a new one, so a running action server serves new documents without a restart.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from knowledge.answering.aggregate import AggregateAnswerer
from knowledge.answering.pipeline import AnswerPipeline, Proposal
from knowledge.answering.question import QuestionAnalysis, analyze
from knowledge.config import KnowledgeConfig
from knowledge.index.loaded import LoadedIndex
from knowledge.index.store import current_version, read_index
from knowledge.lexicon.places import same_place
from knowledge.retrieval.base import SearchMode
from knowledge.retrieval.dense import Embedder
from knowledge.retrieval.fusion import fuse
from knowledge.schema import Answer, Document, Hit
from knowledge.text.segment import TermAnalyzer, expand_abbreviations
from knowledge.text.vietnamese import fold_diacritics

logger = logging.getLogger(__name__)

#: passages an answer is looked for in
ANSWER_PASSAGES = 8


@dataclass(frozen=True)
class SearchFilters:
    """Metadata filters; ``None`` means "any". Places match the document's provinces."""

    year: int | None = None
    place: str | None = None
    doc_type: str | None = None
    issuer: str | None = None

    def is_empty(self) -> bool:
        return not any((self.year, self.place, self.doc_type, self.issuer))


class KnowledgeBase:
    """Search and question answering over an index folder."""

    def __init__(self, config: KnowledgeConfig, embedder: Embedder | None = None,
                 analyzer: TermAnalyzer | None = None) -> None:
        self.config = config
        self.embedder = embedder or Embedder(config.model, settings=config.embedding)
        self.analyzer = analyzer or TermAnalyzer()
        self._loaded: LoadedIndex | None = None
        self._lock = threading.Lock()

    # -- index lifecycle ------------------------------------------------------------------
    def _index(self) -> LoadedIndex:
        live = current_version(self.config.index_dir)
        if self._loaded is None or (live is not None and live != self._loaded.version):
            with self._lock:
                if self._loaded is None or live != self._loaded.version:
                    data = read_index(self.config.index_dir, expected_model=self.config.model)
                    if self._loaded is not None:
                        logger.info("index changed: loading version %s", data.version)
                    self._loaded = LoadedIndex(data, self.config.exact_threshold)
        return self._loaded

    def warm_up(self) -> None:
        """Load the index, the embedding model and the segmenter now, so that the first
        question is as fast as the next ones."""
        self.embedder.warm_up()
        self.ask("Kế hoạch kiểm tra công tác cải cách hành chính năm nay gồm những đơn vị nào?")

    def documents(self) -> list[Document]:
        return list(self._index().documents())

    def document(self, doc_id: str) -> Document | None:
        return self._index().document(doc_id)

    # -- search ---------------------------------------------------------------------------
    def _allowed(self, loaded: LoadedIndex, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        ok_docs = set()
        for doc in loaded.documents():
            meta = doc.meta
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
            ok_docs.add(doc.id)
        return np.array([d in ok_docs for d in loaded.doc_rows], dtype=bool)

    def query_vector(self, query: str) -> np.ndarray:
        """The question's embedding (the only thing embedded at question time)."""
        return self.embedder.embed_queries([expand_abbreviations(query)])[0]

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               mode: SearchMode = SearchMode.HYBRID,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (``query_vector``: its embedding, when the
        caller has it already).

        >>> kb.search("kiểm tra CCHC năm 2018 tại những sở nào", k=1)[0].chunk.doc_id
        '000_bd7401f5dd8b7167.txt'
        """
        loaded = self._index()
        if len(loaded.chunks) == 0 or not query.strip():
            return []
        allowed = self._allowed(loaded, filters)
        query = loaded.restorer.restore(query)
        n = max(k, self.config.candidates)
        rankings, weights = [], []
        if mode in (SearchMode.HYBRID, SearchMode.SPARSE):
            terms = self.analyzer.query_terms(query)
            rankings.append(loaded.bm25.search_terms(terms, n, allowed))
            weights.append(self.config.sparse_weight)
        if mode in (SearchMode.HYBRID, SearchMode.DENSE):
            vector = self.query_vector(query) if query_vector is None else query_vector
            rankings.append(loaded.dense.search_vector(vector, n, allowed))
            weights.append(self.config.dense_weight)
        if len(rankings) == 1:
            ranked = rankings[0]
        else:
            ranked = fuse(rankings, self.config.fusion, weights, rrf_k=self.config.rrf_k)
        return [Hit(loaded.chunks[row], score) for row, score in ranked[:k]]

    # -- answers --------------------------------------------------------------------------
    def analyze(self, question: str) -> QuestionAnalysis:
        return analyze(question, self.config.current_date())

    def ask(self, question: str, filters: SearchFilters | None = None) -> Answer:
        """Answer ``question`` from the documents, or decline with the closest leads."""
        pipeline, proposal, hits = self._propose(question, filters)
        if proposal.answer is not None:
            return proposal.answer
        return pipeline.decide(proposal, hits)

    def propose(self, question: str, filters: SearchFilters | None = None,
                verify: bool = True) -> Proposal:
        """What :meth:`ask` has before its decision (for fitting the decision model;
        ``verify=False``: the best-scored candidate, verified or not)."""
        return self._propose(question, filters, verify)[1]

    def _propose(self, question: str, filters: SearchFilters | None, verify: bool = True
                 ) -> tuple[AnswerPipeline, Proposal, list[Hit]]:
        loaded = self._index()
        analysis = self.analyze(question)
        pipeline = AnswerPipeline(loaded)
        if loaded.aggregate is None:
            loaded.aggregate = AggregateAnswerer(loaded, loaded.data.facts)
        # questions over several documents (plans of a year, inspections compared, what is due
        # in a quarter) are answered from the structured facts; the rest from passages
        answer = loaded.aggregate.answer(analysis, place=filters.place if filters else None)
        if answer is not None:
            return pipeline, Proposal(answer=answer), []
        searched = loaded.restorer.restore(analysis.text)
        vector = self.query_vector(searched)
        hits = self.search(searched, k=ANSWER_PASSAGES, filters=filters, query_vector=vector)
        return pipeline, pipeline.propose(analysis, hits, vector, verify), hits
