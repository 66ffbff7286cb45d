"""The CCHC knowledge base: Vietnamese administrative documents in, cited answers out.

The flat public API (nothing heavy is imported until it is used)::

    import knowledge

    knowledge.ingest(["data/documents"])                       # into KB_INDEX (var/index)
    answer = knowledge.ask("Năm 2018 Quảng Bình kiểm tra đơn vị nào?")
    answer.text, answer.kind, answer.declined, answer.citations[0].evidence_span

    kb = knowledge.KnowledgeBase(knowledge.KnowledgeConfig(index_dir="var/index"))
    kb.search("thủ tục hành chính", k=5, filters=knowledge.SearchFilters(year=2020))

Settings are read once by :class:`KnowledgeConfig` (``KnowledgeConfig.from_env()``: KB_INDEX,
KB_MODEL, the encoder's KB_EMBED_*…). The stages live in subpackages: ``ingest`` (files →
documents → chunks, sentences, facts → the index), ``index`` (the store), ``retrieval``
(BM25, dense, fusion), ``answering`` (question analysis → candidates → extractors →
verification → decision → reply), ``lexicon`` and ``text``.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge import ingest  # the subpackage; calling it ingests (see ingest_paths)
from knowledge.schema import (
    Answer,
    AnswerKind,
    Chunk,
    Citation,
    Document,
    DocumentFeatures,
    DocumentMeta,
    Hit,
)

if TYPE_CHECKING:  # pragma: no cover
    from knowledge.base import KnowledgeBase, SearchFilters
    from knowledge.config import KnowledgeConfig
    from knowledge.ingest.indexer import ingest_paths  # noqa: F401

__all__ = ["Answer", "AnswerKind", "Chunk", "Citation", "Document", "DocumentFeatures",
           "DocumentMeta", "Hit", "KnowledgeBase", "KnowledgeConfig", "SearchFilters", "ask",
           "ingest", "ingest_paths"]

#: names served lazily: importing them loads numpy, the index code and the answer pipeline
_LAZY = {"KnowledgeBase": "knowledge.base", "SearchFilters": "knowledge.base",
         "KnowledgeConfig": "knowledge.config", "ingest_paths": "knowledge.ingest.indexer"}
_default: dict[str, KnowledgeBase] = {}
_default_lock = threading.Lock()


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'knowledge' has no attribute {name!r}")


def _config(index_dir: str | Path | None) -> KnowledgeConfig:
    from knowledge.config import KnowledgeConfig

    return KnowledgeConfig.from_env(**({"index_dir": Path(index_dir)} if index_dir else {}))


def ask(question: str, index_dir: str | Path | None = None) -> Answer:
    """Answer one question from the index (``index_dir``, else KB_INDEX), or decline. The
    knowledge base is loaded once per index folder and process, and follows new index
    versions."""
    from knowledge.base import KnowledgeBase

    config = _config(index_dir)
    key = str(config.index_dir)
    with _default_lock:
        kb = _default.get(key)
        if kb is None:
            kb = _default[key] = KnowledgeBase(config)
    return kb.ask(question)
