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
    IndexContent,
    IndexFormatOutdated,
    IndexNotFound,
    SentenceRecord,
    StoredDocument,
    ingest_lock,
    read_index,
    text_hash,
    write_index,
)
from knowledge.ingest.chunking import chunk_document
from knowledge.ingest.facts import DocumentFacts, extract_facts
from knowledge.ingest.features import document_features
from knowledge.ingest.loaders import load_paths
from knowledge.ingest.sentences import document_sentences
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
        self.embedder = embedder or Embedder(config.model, settings=config.embedding)
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
        def waiting() -> None:
            logger.warning("another ingest is writing %s; waiting for it to finish",
                           self.config.index_dir)
            if progress:
                progress("waiting for another ingest into this index to finish")

        with ingest_lock(self.config.index_dir, waiting):
            return self._ingest(paths, sync, rebuild, remove, progress)

    def _ingest(self, paths: list[Path], sync: bool, rebuild: bool, remove: list[str] | None,
                progress: Callable[[str], None] | None) -> IngestReport:
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

        old = {} if rebuild else self._previous_entries(report)
        final: dict[str, _Entry] = {}
        for doc_id, entry in old.items():
            if (sync and doc_id not in incoming) or doc_id in (remove or []):
                report.removed.append(doc_id)
            else:
                final[doc_id] = entry
        to_embed: list[Document] = []
        for doc_id, doc in incoming.items():
            if doc_id in final and final[doc_id].stored.text_hash == text_hash(doc):
                report.unchanged.append(doc_id)
                continue
            (report.updated if doc_id in final else report.added).append(doc_id)
            to_embed.append(doc)
        for doc_id in (d for d in (remove or []) if d not in old):
            report.failures.append((doc_id, "no such document in the index"))
        if to_embed:
            final.update(self._entries(to_embed, old, progress, report))

        entries = [final[d] for d in sorted(final)]
        changed = report.added or report.updated or report.removed or not old
        if changed:
            content = self._content(entries)
            if progress:
                progress(f"writing the index ({len(entries)} documents, "
                         f"{len(content.chunks)} chunks, {len(content.sentences)} sentences)")
            dimension = (content.embeddings.shape[1] if len(content.embeddings)
                         else self.embedder.dimension)
            report.version = write_index(self.config.index_dir, self.config.model, dimension,
                                         content, self._passage_tokens, self._encoder)
        report.total_documents = len(entries)
        report.total_chunks = sum(len(e.chunks) for e in entries)
        return report

    @property
    def _encoder(self) -> str:
        """How this embedder computes vectors ("onnx-int8"); an index made another way is
        embedded again rather than mixed."""
        backend = getattr(self.embedder, "backend", "")
        precision = getattr(self.embedder, "precision", "")
        return f"{backend}-{precision}" if backend else ""

    @property
    def _passage_tokens(self) -> int | None:
        """Passage tokens of the embedder: vectors made with another limit are not reused."""
        return getattr(self.embedder, "max_seq_length", None)

    def _previous_entries(self, report: IngestReport) -> dict[str, _Entry]:
        """The documents of the live version with everything computed for them, when it can be
        reused (same model, format and passage tokens); else nothing, with a warning."""
        try:
            data = read_index(self.config.index_dir, expected_model=self.config.model)
        except IndexNotFound:
            return {}
        except IndexFormatOutdated as exc:
            message = f"{exc}: rebuilding it now"
            logger.warning(message)
            report.warnings.append(("(index)", message))
            return {}
        if data.manifest.encoder != self._encoder:
            message = (f"the index was embedded with {data.manifest.encoder or 'another encoder'}"
                       f", the embedder is now {self._encoder or 'another'}: every passage and "
                       "sentence is embedded again")
            logger.warning(message)
            report.warnings.append(("(index)", message))
            return {}
        tokens = self._passage_tokens
        if data.manifest.passage_tokens != tokens:
            # vectors of long passages would differ: nothing old can be reused
            message = (f"the index was embedded with {data.manifest.passage_tokens or 'all'} "
                       f"tokens per passage, the embedder now reads {tokens or 'all'} "
                       "tokens: every passage is embedded again")
            logger.warning(message)
            report.warnings.append(("(index)", message))
            return {}
        entries = {doc_id: _Entry(stored, [], [], data.facts.get(doc_id, DocumentFacts(doc_id)))
                   for doc_id, stored in data.documents.items()}
        terms = data.terms
        local_row: dict[int, int] = {}
        for row, chunk in enumerate(data.chunks):
            chunks = entries[chunk.doc_id].chunks
            local_row[row] = len(chunks)
            chunks.append((chunk, terms[row], np.asarray(data.embeddings[row])))
        table = data.sentences
        vectors = table.vectors_of(list(range(len(table))))
        for chunk_row in range(len(data.chunks)):
            for row in table.of_chunk(chunk_row):
                start, end = table.span(row)
                entries[table.doc_id(row)].sentences.append(
                    (local_row[chunk_row], start, end, table.text(row), vectors[row]))
        for doc_id, entry in entries.items():
            row = table.description_row(doc_id)
            if row >= 0:
                start, end = table.span(row)
                entry.sentences.append((-1, start, end, table.text(row), vectors[row]))
        return entries

    def _entries(self, docs: list[Document], old: dict[str, _Entry],
                 progress: Callable[[str], None] | None,
                 report: IngestReport) -> dict[str, _Entry]:
        """Chunks, terms, vectors, sentences, features and facts of new or changed documents.

        A changed document often keeps most of its passages (or only its metadata changed):
        passages and sentences whose text is unchanged keep their terms and vectors."""
        known_passages: dict[str, tuple[list[str], np.ndarray]] = {}
        known_sentences: dict[str, np.ndarray] = {}
        titles = {doc.id: doc.meta.title for doc in docs}
        for doc in docs:
            if doc.id in old:
                entry = old[doc.id]
                old_title = entry.stored.document.meta.title
                for chunk, chunk_terms, vec in entry.chunks:
                    known_passages[index_text(chunk, old_title)] = (chunk_terms, vec)
                for *_, text, vec in entry.sentences:
                    known_sentences[text] = vec
        chunks = {doc.id: chunk_document(doc, self.config.chunking) for doc in docs}
        sentences = {doc.id: document_sentences(doc, chunks[doc.id]) for doc in docs}
        passage_texts = {c.id: index_text(c, titles[c.doc_id]) for cs in chunks.values()
                         for c in cs}
        fresh_passages = list(dict.fromkeys(t for t in passage_texts.values()
                                            if t not in known_passages))
        fresh_sentences = list(dict.fromkeys(s.text for ss in sentences.values() for s in ss
                                             if s.text not in known_sentences))
        n_chunks = sum(len(cs) for cs in chunks.values())
        if progress:
            progress(f"segmenting and embedding {len(fresh_passages)} new passages "
                     f"({n_chunks - len(fresh_passages)} reused) and {len(fresh_sentences)} "
                     f"new sentences of {len(docs)} documents")
        terms, vectors = self._terms_and_vectors(fresh_passages, fresh_sentences,
                                                 show_progress=progress is not None)
        n = len(fresh_passages)
        for i, text in enumerate(fresh_passages):
            known_passages[text] = (terms[i], vectors[i])
        for i, text in enumerate(fresh_sentences):
            known_sentences[text] = vectors[n + i]
        report.chunks_embedded = n
        out: dict[str, _Entry] = {}
        for doc in docs:
            stored = StoredDocument(doc, text_hash(doc), document_features(doc))
            entry_chunks = [(c, *known_passages[passage_texts[c.id]]) for c in chunks[doc.id]]
            entry_sentences = [(s.chunk, s.start, s.end, s.text, known_sentences[s.text])
                               for s in sentences[doc.id]]
            out[doc.id] = _Entry(stored, entry_chunks, entry_sentences, extract_facts(doc))
        return out

    @staticmethod
    def _content(entries: list[_Entry]) -> IndexContent:
        """The version to write, documents in ``entries`` order."""
        chunks, terms, vectors, records, sentence_vectors = [], [], [], [], []
        for entry in entries:
            first = len(chunks)
            for chunk, chunk_terms, vec in entry.chunks:
                chunks.append(chunk)
                terms.append(chunk_terms)
                vectors.append(vec)
            for local, start, end, text, vec in entry.sentences:
                records.append(SentenceRecord(entry.stored.document.id,
                                              first + local if local >= 0 else -1, start, end,
                                              text))
                sentence_vectors.append(vec)
        dimension = len(vectors[0]) if vectors else 0
        return IndexContent(
            documents=[e.stored for e in entries], chunks=chunks, terms=terms,
            embeddings=np.vstack(vectors) if vectors else np.zeros((0, dimension), np.float32),
            sentences=records,
            sentence_vectors=(np.vstack(sentence_vectors) if sentence_vectors
                              else np.zeros((0, dimension), np.float32)),
            facts={e.stored.document.id: e.facts for e in entries})

    def _terms_and_vectors(self, texts: list[str], sentences: list[str] | None = None,
                           show_progress: bool = False) -> tuple[list[list[str]], np.ndarray]:
        """BM25 terms of the passages ``texts``, and the vectors of the passages followed by
        those of the ``sentences``: segmentation and embedding side by side.

        underthesea segmentation is single-threaded; embedding is torch. From
        ``PARALLEL_FROM`` passages on (and with two or more CPUs), segmentation runs in a worker
        process while the passages are embedded, longest first, in slices; while the worker
        runs, torch gets one thread fewer, then all of them again. (A thread would not do:
        underthesea's Rust featurizer holds the GIL for milliseconds at a time, and torch needs
        the GIL between every operation.) Measured on the 73,293 legal-scale passages:
        docs/benchmarks.md §4. ``self.timings`` keeps the seconds of each stage.
        """
        embedded = list(texts) + list(sentences or ())
        full = self.embedder.threads if texts else 1
        parallel = len(texts) >= PARALLEL_FROM and full > 1 and _picklable(self.analyzer)
        if not parallel:
            start = time.perf_counter()
            terms = [self.analyzer.document_terms(t) for t in texts]
            middle = time.perf_counter()
            vectors = self.embedder.embed_passages(embedded, show_progress=show_progress)
            self.timings = {"segment_s": middle - start,
                            "embed_s": time.perf_counter() - middle}
            return terms, vectors

        start = time.perf_counter()
        context = multiprocessing.get_context("spawn")  # no fork of a process running torch
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            segmenting = pool.submit(_segment_all, self.analyzer, texts, os.getpid())
            order = sorted(range(len(embedded)), key=lambda i: -len(embedded[i]))
            vectors = np.zeros((len(embedded), self.embedder.dimension), dtype=np.float32)
            bar = tqdm(total=len(embedded), unit="text", desc="embedding",
                       disable=not show_progress)
            try:
                for first in range(0, len(order), EMBED_SLICE):
                    rows = order[first:first + EMBED_SLICE]
                    self.embedder.set_threads(full if segmenting.done() else full - 1)
                    vectors[rows] = self.embedder.embed_passages([embedded[i] for i in rows])
                    bar.update(len(rows))
            finally:
                bar.close()
                self.embedder.set_threads(full)
            embedded = time.perf_counter()
            terms, segment_seconds = segmenting.result()
        self.timings = {"segment_s": segment_seconds, "embed_s": embedded - start,
                        "wait_segment_s": time.perf_counter() - embedded}
        return terms, vectors


@dataclass
class _Entry:
    """One document's share of a version: its chunks (with BM25 terms and vector), its
    sentences ``(chunk index within the document or -1 for its description, start, end, text,
    vector)`` and its facts."""

    stored: StoredDocument
    chunks: list[tuple[Chunk, list[str], np.ndarray]]
    sentences: list[tuple[int, int, int, str, np.ndarray]]
    facts: DocumentFacts


def index_text(chunk: Chunk, title: str) -> str:
    """What is indexed for a chunk: its document's title as context, then its text."""
    if title and not chunk.text.startswith(title[:40]):
        return f"{title}\n{chunk.text}"
    return chunk.text


def ingest_paths(paths: list[str | Path], index_dir: str | Path | None = None,
                 sync: bool = False) -> IngestReport:
    """Add or update the documents under ``paths`` (files or folders) in the index
    (``index_dir``, else KB_INDEX); only new or changed documents are embedded; ``sync`` also
    removes indexed documents no longer under ``paths``. The public API's ``knowledge.ingest``
    and ``knowledge.ingest_paths``."""
    config = KnowledgeConfig.from_env(**({"index_dir": Path(index_dir)} if index_dir else {}))
    return Indexer(config).ingest([Path(p) for p in paths], sync=sync)
