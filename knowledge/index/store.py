"""The index folder: documents, chunks, BM25, passage and sentence vectors, facts, manifest.

Layout::

    INDEX/
      CURRENT                   name of the live version (replaced atomically)
      versions/<id>/
        manifest.json           format version, model, dimension, corpus hash, counts
        documents.jsonl         one document per line (id, text, meta, text hash, features)
        chunks.jsonl            one chunk per line (id, doc_id, text, span, heading)
        chunk_terms.jsonl       the BM25 terms of each chunk (read by the indexer only)
        bm25_*.npy, bm25.json   BM25 weights (CSC), idf and vocabulary, saved at ingest
        embeddings.npy          float32 (chunks × dimension), row i = chunk i
        sentences/              the sentences answers are drawn from (see SentenceTable)
        diacritics.json         how the corpus spells its syllables (questions typed without
                                diacritics are restored with it: knowledge.text.diacritics)
        facts.jsonl             structured facts per document (knowledge.ingest.facts)

Readers memory-map the arrays: several processes reading one version share its pages, and
nothing is recomputed at load time (BM25 is saved, not rebuilt; sentence vectors are stored,
never embedded at question time).

A version is written completely in a temporary folder, fsynced, renamed into ``versions/``,
and only then named in ``CURRENT`` via ``os.replace``: a crash at any point leaves the previous
version serving. Readers notice a new ``CURRENT`` and reload.

Writers take :func:`ingest_lock` (an exclusive ``flock`` on ``INDEX/.ingest.lock``) from reading
the live version until the new one is published: ``kb ingest`` and the console's uploads, in
any number of processes, never build two versions from the same old one (the second would drop
the first's documents).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from knowledge.ingest.facts import DocumentFacts
from knowledge.retrieval.sparse import BM25Index
from knowledge.schema import Chunk, Document, DocumentFeatures, DocumentMeta
from knowledge.text.diacritics import DiacriticRestorer

logger = logging.getLogger(__name__)

#: 2: BM25 saved, sentence table with vectors, document features (1: terms and embeddings only)
FORMAT_VERSION = 2
KEEP_VERSIONS = 2


class IndexError_(Exception):
    """Base of the index problems an operator must act on."""


class IndexNotFound(IndexError_):
    pass


class IndexMismatch(IndexError_):
    """The index was built with another format or model than the one configured."""


class IndexFormatOutdated(IndexMismatch):
    """The index was written by an older version of this program: it must be rebuilt
    (``kb ingest`` does so by itself)."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    corpus_hash: str
    documents: int
    chunks: int
    created: float
    #: passage tokens the vectors were embedded with (None: the model's own limit)
    passage_tokens: int | None = None
    sentences: int = 0
    #: how the vectors were computed: backend and precision ("onnx-int8", "torch-fp32")
    encoder: str = ""

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass(frozen=True)
class StoredDocument:
    document: Document
    text_hash: str
    features: DocumentFeatures = field(default_factory=DocumentFeatures)


@dataclass(frozen=True)
class SentenceRecord:
    """One sentence to store: its document, the chunk (row) it was read from (-1: the
    document's description made from its metadata), its span in the document's text, and its
    text as read."""

    doc_id: str
    chunk_row: int
    start: int
    end: int
    text: str


class SentenceTable:
    """The sentences of every indexed passage, memory-mapped from ``sentences/``:

    - ``doc_rows``, ``starts``, ``ends`` (int32): the document (row in ``doc_ids``) and the span
      of each sentence in that document's text;
    - the texts, UTF-8 in one file, cut at ``text_offsets`` (int64, n + 1);
    - ``chunk_indptr`` / ``chunk_rows``: the sentences of chunk ``c`` are
      ``chunk_rows[chunk_indptr[c]:chunk_indptr[c + 1]]``, in reading order (a sentence read
      from two overlapping passages is stored once);
    - ``descriptions`` (int32, one per document): the row of the sentence made from the
      document's metadata ("Kế hoạch số … ngày …: …"), -1 when it has none;
    - ``vectors`` (float16, n × dimension): the embedding of each sentence, L2-normalised.
    """

    def __init__(self, folder: Path, doc_ids: Sequence[str]) -> None:
        self.doc_ids = list(doc_ids)
        self.doc_rows = np.load(folder / "doc_rows.npy", mmap_mode="r")
        self.starts = np.load(folder / "starts.npy", mmap_mode="r")
        self.ends = np.load(folder / "ends.npy", mmap_mode="r")
        self.text_offsets = np.load(folder / "text_offsets.npy", mmap_mode="r")
        self.chunk_indptr = np.load(folder / "chunk_indptr.npy", mmap_mode="r")
        self.chunk_rows = np.load(folder / "chunk_rows.npy", mmap_mode="r")
        self.vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        self.descriptions = np.load(folder / "descriptions.npy", mmap_mode="r")
        self._doc_row = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        blob = folder / "texts.bin"
        self._blob = (np.memmap(blob, dtype=np.uint8, mode="r") if blob.stat().st_size
                      else np.zeros(0, dtype=np.uint8))

    def __len__(self) -> int:
        return int(len(self.starts))

    def text(self, row: int) -> str:
        a, b = int(self.text_offsets[row]), int(self.text_offsets[row + 1])
        return bytes(self._blob[a:b]).decode("utf-8")

    def doc_id(self, row: int) -> str:
        return self.doc_ids[int(self.doc_rows[row])]

    def span(self, row: int) -> tuple[int, int]:
        return int(self.starts[row]), int(self.ends[row])

    def description_row(self, doc_id: str) -> int:
        row = self._doc_row.get(doc_id)
        return int(self.descriptions[row]) if row is not None else -1

    def of_chunk(self, chunk_row: int) -> np.ndarray:
        return self.chunk_rows[self.chunk_indptr[chunk_row]:self.chunk_indptr[chunk_row + 1]]

    def vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        return np.asarray(self.vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    @staticmethod
    def write(folder: Path, doc_ids: Sequence[str], n_chunks: int,
              records: Sequence[SentenceRecord], vectors: np.ndarray) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        row_of_doc = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        np.save(folder / "doc_rows.npy",
                np.asarray([row_of_doc[r.doc_id] for r in records], dtype=np.int32))
        np.save(folder / "starts.npy", np.asarray([r.start for r in records], dtype=np.int32))
        np.save(folder / "ends.npy", np.asarray([r.end for r in records], dtype=np.int32))
        encoded = [r.text.encode("utf-8") for r in records]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        np.save(folder / "text_offsets.npy", offsets)
        (folder / "texts.bin").write_bytes(b"".join(encoded))
        by_chunk: list[list[int]] = [[] for _ in range(n_chunks)]
        descriptions = np.full(len(doc_ids), -1, dtype=np.int32)
        for row, record in enumerate(records):
            if record.chunk_row >= 0:
                by_chunk[record.chunk_row].append(row)
            else:
                descriptions[row_of_doc[record.doc_id]] = row
        np.save(folder / "descriptions.npy", descriptions)
        indptr = np.zeros(n_chunks + 1, dtype=np.int64)
        np.cumsum([len(rows) for rows in by_chunk], out=indptr[1:])
        np.save(folder / "chunk_indptr.npy", indptr)
        np.save(folder / "chunk_rows.npy",
                np.asarray([r for rows in by_chunk for r in rows], dtype=np.int32))
        np.save(folder / "vectors.npy", np.asarray(vectors, dtype=np.float16))


@dataclass
class IndexData:
    """Everything a version holds (arrays memory-mapped)."""

    manifest: Manifest
    documents: dict[str, StoredDocument]
    chunks: list[Chunk]
    embeddings: np.ndarray
    version: str
    folder: Path
    #: structured facts of each document (:mod:`knowledge.ingest.facts`), extracted at ingest
    facts: dict[str, DocumentFacts] = field(default_factory=dict)

    @cached_property
    def bm25(self) -> BM25Index:
        return BM25Index.load(self.folder)

    @cached_property
    def sentences(self) -> SentenceTable:
        return SentenceTable(self.folder / "sentences", list(self.documents))

    @cached_property
    def restorer(self) -> DiacriticRestorer:
        return DiacriticRestorer.load(self.folder / "diacritics.json")

    @cached_property
    def terms(self) -> list[list[str]]:
        """BM25 terms of every chunk (for re-indexing; searching uses the saved BM25)."""
        with open(self.folder / "chunk_terms.jsonl", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]


@dataclass
class IndexContent:
    """What a new version holds, in memory, before it is written."""

    documents: list[StoredDocument]
    chunks: list[Chunk]
    terms: list[list[str]]
    embeddings: np.ndarray
    sentences: list[SentenceRecord]
    sentence_vectors: np.ndarray
    facts: dict[str, DocumentFacts]


def text_hash(doc: Document) -> str:
    payload = json.dumps([doc.text, doc.meta.to_dict()], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def corpus_hash(hashes: dict[str, str]) -> str:
    payload = "\n".join(f"{k}\t{v}" for k, v in sorted(hashes.items()))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def model_identity(model: str) -> str:
    """How a model is named in the manifest: a folder by its name, a hub model by its id."""
    path = Path(model).expanduser()
    return path.name if path.exists() else model


LOCK_FILE = ".ingest.lock"


@dataclass
class _HeldLock:
    """This process's hold on one index's writer lock (reentrant for the holding thread)."""

    mutex: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    handle: object = None


_writer_locks: dict[str, _HeldLock] = {}
_writer_locks_guard = threading.Lock()


@contextlib.contextmanager
def ingest_lock(index_dir: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the index's writer lock: other threads of this process and other processes wait;
    the holding thread may enter again. ``waiting`` is called once if another writer holds it."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    path = str((index_dir / LOCK_FILE).resolve())
    with _writer_locks_guard:
        held = _writer_locks.setdefault(path, _HeldLock())
    with held.mutex:
        if held.depth == 0:
            handle = open(path, "a+b")  # noqa: SIM115 - closed when the last hold ends
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting is not None:
                    waiting()
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                handle.close()
                raise
            held.handle = handle
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                fcntl.flock(held.handle, fcntl.LOCK_UN)
                held.handle.close()
                held.handle = None


def current_version(index_dir: Path) -> str | None:
    try:
        return (Path(index_dir) / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def read_manifest(index_dir: Path, expected_model: str | None = None) -> tuple[Manifest, Path]:
    """The live version's manifest and folder; raise :class:`IndexNotFound`,
    :class:`IndexFormatOutdated` or :class:`IndexMismatch` with what to do."""
    index_dir = Path(index_dir)
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFound(
            f"no index at {index_dir}; build one with "
            f"'kb ingest data/documents --index {index_dir}'"
        )
    vdir = index_dir / "versions" / version
    manifest_data = json.loads((vdir / "manifest.json").read_text())
    found = manifest_data.get("format_version")
    if found != FORMAT_VERSION:
        raise IndexFormatOutdated(
            f"index {index_dir} has format {found}, this program reads format {FORMAT_VERSION}; "
            f"'kb ingest ... --index {index_dir}' (or 'make index') rebuilds it"
        )
    manifest = Manifest(**manifest_data)
    if expected_model is not None and manifest.model != model_identity(expected_model):
        raise IndexMismatch(
            f"index {index_dir} was embedded with '{manifest.model}' but the configured model is "
            f"'{model_identity(expected_model)}'; rebuild it with 'kb ingest ... --rebuild' or set "
            "KB_MODEL to the index's model"
        )
    return manifest, vdir


def read_index(index_dir: Path, expected_model: str | None = None) -> IndexData:
    """Load the live version (arrays memory-mapped)."""
    manifest, vdir = read_manifest(index_dir, expected_model)
    documents: dict[str, StoredDocument] = {}
    with open(vdir / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            doc = Document(rec["id"], rec["text"], DocumentMeta.from_dict(rec["meta"]))
            documents[doc.id] = StoredDocument(doc, rec["hash"],
                                               DocumentFeatures.from_dict(rec["features"]))
    with open(vdir / "chunks.jsonl", encoding="utf-8") as fh:
        chunks = [Chunk.from_dict(json.loads(line)) for line in fh]
    embeddings = np.load(vdir / "embeddings.npy", mmap_mode="r")
    if len(embeddings) != len(chunks):
        raise IndexMismatch(f"index {index_dir} is inconsistent: {len(chunks)} chunks, "
                            f"{len(embeddings)} embeddings; rebuild it")
    with open(vdir / "facts.jsonl", encoding="utf-8") as fh:
        facts = {f.doc_id: f for f in (DocumentFacts.from_dict(json.loads(line)) for line in fh)}
    return IndexData(manifest, documents, chunks, embeddings, vdir.name, vdir, facts)


def write_index(index_dir: Path, model: str, dimension: int, content: IndexContent,
                passage_tokens: int | None = None, encoder: str = "") -> str:
    """Write a new version and make it live atomically. Returns the version id."""
    index_dir = Path(index_dir)
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    documents = content.documents
    hashes = {d.document.id: d.text_hash for d in documents}
    manifest = Manifest(FORMAT_VERSION, model_identity(model), int(dimension),
                        corpus_hash(hashes), len(documents), len(content.chunks), time.time(),
                        passage_tokens, len(content.sentences), encoder)
    # unique even for two writes of the same corpus in the same second by the same process
    version = (f"{time.strftime('%Y%m%d-%H%M%S')}-{manifest.corpus_hash[:8]}-{os.getpid()}-"
               f"{uuid.uuid4().hex[:6]}")
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=versions))
    try:
        with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
            for d in documents:
                fh.write(json.dumps({"id": d.document.id, "text": d.document.text,
                                     "meta": d.document.meta.to_dict(), "hash": d.text_hash,
                                     "features": d.features.to_dict()},
                                    ensure_ascii=False) + "\n")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in content.chunks:
                fh.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        with open(tmp / "chunk_terms.jsonl", "w", encoding="utf-8") as fh:
            for chunk_terms in content.terms:
                fh.write(json.dumps(chunk_terms, ensure_ascii=False) + "\n")
        BM25Index().fit(content.terms).save(tmp)
        np.save(tmp / "embeddings.npy", np.asarray(content.embeddings, dtype=np.float32))
        SentenceTable.write(tmp / "sentences", [d.document.id for d in documents],
                            len(content.chunks), content.sentences, content.sentence_vectors)
        DiacriticRestorer.build(d.document.meta.title + "\n" + d.document.text
                                for d in documents).save(tmp / "diacritics.json")
        with open(tmp / "facts.jsonl", "w", encoding="utf-8") as fh:
            for d in documents:
                doc_facts = content.facts.get(d.document.id)
                if doc_facts is not None and not doc_facts.is_empty():
                    fh.write(json.dumps(doc_facts.to_dict(), ensure_ascii=False) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(manifest.to_dict(), indent=2))
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        tmp.rename(versions / version)
        pointer = index_dir / f".CURRENT.{os.getpid()}"
        pointer.write_text(version + "\n")
        with open(pointer, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer, index_dir / "CURRENT")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(versions, keep=version)
    return version


def _prune(versions: Path, keep: str) -> None:
    """Remove old versions (keeping the newest few) and leftovers of crashed writes.

    A reader may still have an old version's arrays memory-mapped: on Linux removing the
    files leaves its mapping valid until it reloads."""
    done = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime)
    for old in done[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for partial in versions.glob(".incoming-*"):
        if time.time() - partial.stat().st_mtime > 3600:
            shutil.rmtree(partial, ignore_errors=True)
