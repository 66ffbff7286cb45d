"""Incremental ingest: load files, chunk, segment, embed what changed, write a new version.

Unchanged documents (same text and metadata hash) keep their chunks, terms and embeddings;
changed ones are re-chunked and re-embedded; documents that are gone are deleted (``sync``
mode) — and the new version becomes live atomically (see :mod:`knowledge.index.store`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from knowledge.config import KnowledgeConfig
from knowledge.index.store import (
    IndexNotFound,
    StoredDocument,
    read_index,
    text_hash,
    write_index,
)
from knowledge.ingest.chunking import chunk_document
from knowledge.ingest.facts import DocumentFacts, extract_facts
from knowledge.ingest.loaders import load_paths
from knowledge.retrieval.dense import Embedder
from knowledge.schema import Chunk, Document
from knowledge.text.segment import TermAnalyzer

logger = logging.getLogger(__name__)

#: segmentation gets its own process from this many new passages on (starting it costs ~3 s)
PARALLEL_FROM = 2000
#: passages embedded per call while segmentation runs beside (the torch thread count is set
#: again between slices)
EMBED_SLICE = 1024


def _segment_all(analyzer: TermAnalyzer, texts: list[str], parent: int
                 ) -> tuple[list[list[str]], float]:
    """Runs in the worker process: the terms of every text, and the seconds it took.

    If the ingest that started it is gone (killed: the worker now has another parent), it
    stops instead of segmenting for minutes for nobody."""
    start = time.perf_counter()
    terms = []
    for n, text in enumerate(texts):
        if n % 256 == 0 and os.getppid() != parent:
            os._exit(1)
        terms.append(analyzer.document_terms(text))
    return terms, time.perf_counter() - start


def _picklable(obj: object) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001 - e.g. a segmenter given as a lambda: stay in-process
        return False
    return True


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    total_documents: int = 0
    total_chunks: int = 0
    version: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Indexer:
    """Builds and updates the index folder of a :class:`KnowledgeConfig`."""

    def __init__(self, config: KnowledgeConfig, embedder: Embedder | None = None,
                 analyzer: TermAnalyzer | None = None) -> None:
        self.config = config
        self.embedder = embedder or Embedder(config.model)
        self.analyzer = analyzer or TermAnalyzer()
        #: seconds of the last ingest's stages (segment_s, embed_s, …)
        self.timings: dict[str, float] = {}

    def ingest(self, paths: list[Path], sync: bool = False, rebuild: bool = False,
               remove: list[str] | None = None,
               progress: Callable[[str], None] | None = None) -> IngestReport:
        """Add or update the documents under ``paths``.

        Args:
            paths: files or folders.
            sync: delete indexed documents that are not under ``paths`` any more.
            rebuild: ignore the existing index (e.g. after changing the embedding model).
            remove: document ids to delete.
        """
        report = IngestReport()
        loaded = load_paths([Path(p) for p in paths]) if paths else None
        if loaded is not None:
            report.failures = loaded.failures
            report.warnings = loaded.warnings
        incoming: dict[str, Document] = {}
        for doc in loaded.documents if loaded else []:
            if doc.id in incoming:
                report.failures.append((doc.id, "duplicate document id; the later one is kept"))
            incoming[doc.id] = doc

        old_docs: dict[str, StoredDocument] = {}
        old_facts: dict[str, DocumentFacts] = {}
        old_chunks: dict[str, list[tuple[Chunk, list[str], np.ndarray]]] = {}
        #: passage tokens of the embedder: vectors made with another limit are not reused
        tokens = getattr(self.embedder, "max_seq_length", None)
        if not rebuild:
            try:
                data = read_index(self.config.index_dir, expected_model=self.config.model)
            except IndexNotFound:
                data = None
            if data is not None and data.manifest.passage_tokens != tokens:
                # vectors of long passages would differ: nothing old can be reused
                message = (f"the index was embedded with {data.manifest.passage_tokens or 'all'} "
                           f"tokens per passage, the embedder now reads {tokens or 'all'} "
                           "tokens: every passage is embedded again")
                logger.warning(message)
                report.warnings.append(("(index)", message))
                data = None
            if data is not None:
                old_docs = data.documents
                old_facts = data.facts
                for row, chunk in enumerate(data.chunks):
                    old_chunks.setdefault(chunk.doc_id, []).append(
                        (chunk, data.terms[row], data.embeddings[row])
                    )

        final: dict[str, StoredDocument] = {}
        for doc_id, stored in old_docs.items():
            if (sync and doc_id not in incoming) or doc_id in (remove or []):
                report.removed.append(doc_id)
            else:
                final[doc_id] = stored
        to_embed: list[Document] = []
        for doc_id, doc in incoming.items():
            h = text_hash(doc)
            if doc_id in final and final[doc_id].text_hash == h:
                report.unchanged.append(doc_id)
                continue
            (report.updated if doc_id in final else report.added).append(doc_id)
            final[doc_id] = StoredDocument(doc, h)
            to_embed.append(doc)
        unknown = [d for d in (remove or []) if d not in old_docs]
        for doc_id in unknown:
            report.failures.append((doc_id, "no such document in the index"))

        new_parts: dict[str, list[tuple[Chunk, list[str], np.ndarray]]] = {}
        if to_embed:
            # A changed document often keeps most of its passages (or only its metadata changed):
            # passages whose indexed text is unchanged keep their terms and vector.
            known: dict[str, tuple[list[str], np.ndarray]] = {}
            for doc in to_embed:
                for chunk, chunk_terms, vec in old_chunks.get(doc.id, []):
                    known[self._index_text(chunk, old_docs)] = (chunk_terms, vec)
            new_chunks = [c for doc in to_embed for c in chunk_document(doc, self.config.chunking)]
            texts = [self._index_text(c, final) for c in new_chunks]
            fresh = [i for i, t in enumerate(texts) if t not in known]
            if progress:
                progress(f"segmenting and embedding {len(fresh)} new passages "
                         f"({len(new_chunks) - len(fresh)} reused) of {len(to_embed)} documents")
            fresh_terms, fresh_vectors = self._terms_and_vectors(
                [texts[i] for i in fresh], show_progress=progress is not None)
            computed = {i: (fresh_terms[n], fresh_vectors[n]) for n, i in enumerate(fresh)}
            for i, chunk in enumerate(new_chunks):
                chunk_terms, vec = computed[i] if i in computed else known[texts[i]]
                new_parts.setdefault(chunk.doc_id, []).append((chunk, chunk_terms, vec))
            report.chunks_embedded = len(fresh)

        documents = [final[d] for d in sorted(final)]
        chunks, all_terms, rows = [], [], []
        for stored in documents:
            parts = new_parts.get(stored.document.id) or old_chunks.get(stored.document.id, [])
            for chunk, chunk_terms, vec in parts:
                chunks.append(chunk)
                all_terms.append(chunk_terms)
                rows.append(vec)
        dimension = self.embedder.dimension if (to_embed or not rows) else len(rows[0])
        embeddings = np.vstack(rows) if rows else np.zeros((0, dimension), dtype=np.float32)
        changed = report.added or report.updated or report.removed or not old_docs
        if changed:
            fresh_ids = {d.id for d in to_embed}
            facts = {s.document.id: (extract_facts(s.document) if s.document.id in fresh_ids
                                     else old_facts.get(s.document.id,
                                                        DocumentFacts(s.document.id)))
                     for s in documents}
            if progress:
                progress(f"writing the index ({len(documents)} documents, {len(chunks)} chunks)")
            report.version = write_index(self.config.index_dir, self.config.model, dimension,
                                         documents, chunks, all_terms, embeddings, facts,
                                         tokens)
        report.total_documents = len(documents)
        report.total_chunks = len(chunks)
        return report

    def _terms_and_vectors(self, texts: list[str], show_progress: bool = False
                           ) -> tuple[list[list[str]], np.ndarray]:
        """BM25 terms and passage vectors of ``texts``, the two stages side by side.

        underthesea segmentation is single-threaded; embedding is torch. From
        ``PARALLEL_FROM`` passages on (and with two or more CPUs), segmentation runs in a worker
        process while the passages are embedded, longest first, in slices; while the worker
        runs, torch gets one thread fewer, then all of them again. (A thread would not do:
        underthesea's Rust featurizer holds the GIL for milliseconds at a time, and torch needs
        the GIL between every operation.) Measured on the 73,293 legal-scale passages:
        docs/benchmarks.md §4. ``self.timings`` keeps the seconds of each stage.
        """
        full = self.embedder.threads if texts else 1
        parallel = len(texts) >= PARALLEL_FROM and full > 1 and _picklable(self.analyzer)
        if not parallel:
            start = time.perf_counter()
            terms = [self.analyzer.document_terms(t) for t in texts]
            middle = time.perf_counter()
            vectors = self.embedder.embed_passages(texts, show_progress=show_progress)
            self.timings = {"segment_s": middle - start,
                            "embed_s": time.perf_counter() - middle}
            return terms, vectors

        start = time.perf_counter()
        context = multiprocessing.get_context("spawn")  # no fork of a process running torch
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            segmenting = pool.submit(_segment_all, self.analyzer, texts, os.getpid())
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            vectors = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
            bar = tqdm(total=len(texts), unit="passage", desc="embedding",
                       disable=not show_progress)
            try:
                for first in range(0, len(order), EMBED_SLICE):
                    rows = order[first:first + EMBED_SLICE]
                    self.embedder.set_threads(full if segmenting.done() else full - 1)
                    vectors[rows] = self.embedder.embed_passages([texts[i] for i in rows])
                    bar.update(len(rows))
            finally:
                bar.close()
                self.embedder.set_threads(full)
            embedded = time.perf_counter()
            terms, segment_seconds = segmenting.result()
        self.timings = {"segment_s": segment_seconds, "embed_s": embedded - start,
                        "wait_segment_s": time.perf_counter() - embedded}
        return terms, vectors

    @staticmethod
    def _index_text(chunk: Chunk, docs: dict[str, StoredDocument]) -> str:
        """What is indexed for a chunk: its document's title as context, then its text."""
        title = docs[chunk.doc_id].document.meta.title if chunk.doc_id in docs else ""
        if title and not chunk.text.startswith(title[:40]):
            return f"{title}\n{chunk.text}"
        return chunk.text
