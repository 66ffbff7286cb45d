"""The index folder: documents, chunks, BM25 terms and embeddings, with a manifest.

Layout::

    INDEX/
      CURRENT                 name of the live version (replaced atomically)
      versions/<id>/
        manifest.json         format version, model name + dimension, corpus hash, counts
        documents.jsonl       one document per line (id, text, meta, text hash)
        chunks.jsonl          one chunk per line (+ its BM25 terms)
        embeddings.npy        float32 (chunks × dimension), row i = chunk i
        facts.jsonl           structured facts per document (knowledge.ingest.facts)

A version is written completely in a temporary folder, fsynced, renamed into ``versions/``,
and only then named in ``CURRENT`` via ``os.replace``: a crash at any point leaves the previous
version serving. Readers notice a new ``CURRENT`` and reload.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.ingest.facts import DocumentFacts, extract_all
from knowledge.schema import Chunk, Document, DocumentMeta

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEEP_VERSIONS = 2


class IndexError_(Exception):
    """Base of the index problems an operator must act on."""


class IndexNotFound(IndexError_):
    pass


class IndexMismatch(IndexError_):
    """The index was built with another format or model than the one configured."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    corpus_hash: str
    documents: int
    chunks: int
    created: float
    #: passage tokens the vectors were embedded with (None: the model's own limit, or a
    #: version written before this was recorded)
    passage_tokens: int | None = None

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass(frozen=True)
class StoredDocument:
    document: Document
    text_hash: str


@dataclass
class IndexData:
    """Everything a version holds, in memory."""

    manifest: Manifest
    documents: dict[str, StoredDocument]
    chunks: list[Chunk]
    terms: list[list[str]]
    embeddings: np.ndarray
    version: str
    #: structured facts of each document (:mod:`knowledge.ingest.facts`), extracted at ingest
    facts: dict[str, DocumentFacts] = field(default_factory=dict)


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


def current_version(index_dir: Path) -> str | None:
    try:
        return (Path(index_dir) / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def read_index(index_dir: Path, expected_model: str | None = None) -> IndexData:
    """Load the live version; raise :class:`IndexNotFound` / :class:`IndexMismatch` clearly."""
    index_dir = Path(index_dir)
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFound(
            f"no index at {index_dir}; build one with "
            f"'kb ingest data/documents --index {index_dir}'"
        )
    vdir = index_dir / "versions" / version
    manifest_data = json.loads((vdir / "manifest.json").read_text())
    if manifest_data.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"index {index_dir} has format {manifest_data.get('format_version')}, this program "
            f"reads format {FORMAT_VERSION}; rebuild it with 'kb ingest ... --rebuild'"
        )
    manifest = Manifest(**manifest_data)
    if expected_model is not None and manifest.model != model_identity(expected_model):
        raise IndexMismatch(
            f"index {index_dir} was embedded with '{manifest.model}' but the configured model is "
            f"'{model_identity(expected_model)}'; rebuild it with 'kb ingest ... --rebuild' or set "
            "KB_MODEL to the index's model"
        )
    documents: dict[str, StoredDocument] = {}
    with open(vdir / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            doc = Document(rec["id"], rec["text"], DocumentMeta.from_dict(rec["meta"]))
            documents[doc.id] = StoredDocument(doc, rec["hash"])
    chunks, terms = [], []
    with open(vdir / "chunks.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            terms.append(rec.pop("terms"))
            chunks.append(Chunk.from_dict(rec))
    embeddings = np.load(vdir / "embeddings.npy")
    if len(embeddings) != len(chunks):
        raise IndexMismatch(f"index {index_dir} is inconsistent: {len(chunks)} chunks, "
                            f"{len(embeddings)} embeddings; rebuild it")
    facts_file = vdir / "facts.jsonl"
    if facts_file.exists():
        with open(facts_file, encoding="utf-8") as fh:
            facts = {f.doc_id: f for f in (DocumentFacts.from_dict(json.loads(line))
                                            for line in fh)}
    else:  # a version written before facts were stored: extract them now (no model needed)
        facts = extract_all(s.document for s in documents.values())
    return IndexData(manifest, documents, chunks, terms, embeddings, version, facts)


def write_index(index_dir: Path, model: str, dimension: int, documents: list[StoredDocument],
                chunks: list[Chunk], terms: list[list[str]], embeddings: np.ndarray,
                facts: dict[str, DocumentFacts] | None = None,
                passage_tokens: int | None = None) -> str:
    """Write a new version and make it live atomically. Returns the version id.

    ``facts`` are the documents' structured facts; extracted here when not given."""
    index_dir = Path(index_dir)
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    hashes = {d.document.id: d.text_hash for d in documents}
    manifest = Manifest(FORMAT_VERSION, model_identity(model), int(dimension),
                        corpus_hash(hashes), len(documents), len(chunks), time.time(),
                        passage_tokens)
    # unique even for two writes of the same corpus in the same second by the same process
    version = (f"{time.strftime('%Y%m%d-%H%M%S')}-{manifest.corpus_hash[:8]}-{os.getpid()}-"
               f"{uuid.uuid4().hex[:6]}")
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=versions))
    try:
        with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
            for d in documents:
                fh.write(json.dumps({"id": d.document.id, "text": d.document.text,
                                     "meta": d.document.meta.to_dict(), "hash": d.text_hash},
                                    ensure_ascii=False) + "\n")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk, chunk_terms in zip(chunks, terms, strict=True):
                fh.write(json.dumps({**chunk.to_dict(), "terms": chunk_terms},
                                    ensure_ascii=False) + "\n")
        np.save(tmp / "embeddings.npy", np.asarray(embeddings, dtype=np.float32))
        if facts is None:
            facts = extract_all(d.document for d in documents)
        with open(tmp / "facts.jsonl", "w", encoding="utf-8") as fh:
            for d in documents:
                doc_facts = facts.get(d.document.id)
                if doc_facts is not None and not doc_facts.is_empty():
                    fh.write(json.dumps(doc_facts.to_dict(), ensure_ascii=False) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(manifest.to_dict(), indent=2))
        for f in tmp.iterdir():
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
    """Remove old versions (keeping the newest few) and leftovers of crashed writes."""
    done = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime)
    for old in done[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for partial in versions.glob(".incoming-*"):
        if time.time() - partial.stat().st_mtime > 3600:
            shutil.rmtree(partial, ignore_errors=True)
