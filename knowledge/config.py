"""Settings of the knowledge base: a validated, frozen dataclass read once by the entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from knowledge.answering.links import DEFAULT_LINK_DOMAINS, parse_link_domains
from knowledge.embedding.settings import EncoderSettings
from knowledge.ingest.chunking import ChunkingConfig
from knowledge.retrieval.fusion import FusionMode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "var" / "models" / "multilingual-e5-small"
DEFAULT_INDEX_DIR = PROJECT_ROOT / "var" / "index"


@dataclass(frozen=True)
class KnowledgeConfig:
    """
    Attributes:
        model: sentence-transformers name or path of the embedding model.
        embedding: how the model runs (backend, precision, passage tokens, threads:
            :class:`~knowledge.embedding.settings.EncoderSettings`); pass it on as
            ``Embedder(config.model, settings=config.embedding)``.
        index_dir: the index folder (see :mod:`knowledge.index.store`).
        chunking: chunk sizes.
        fusion: how BM25 and dense rankings are combined (z-score convex combination by
            default: measured best on ALQAC-22 and -23, see docs/benchmarks.md; or rrf, minmax).
        rrf_k: the constant of reciprocal-rank fusion (fusion=rrf only).
        sparse_weight / dense_weight: weights of the BM25 and dense rankings in the fusion.
        candidates: how many hits each retriever contributes before fusion.
        exact_threshold: dense search is exact below this many chunks, HNSW from there on.
        decline_threshold: answers whose confidence falls below this are declined.
        today: the date "năm nay" resolves against (None = the real today).
        document_url_base: the public address of the console (``http://host:8080``); replies
            link a cited document without an http(s) source of its own to its page there
            (``<base>/van-ban/<id>``). Empty: no such link.
        source_link_domains: the domains (and their subdomains) a document's own http(s)
            address may link to in replies (``KB_SOURCE_LINK_DOMAINS``, default ``gov.vn``);
            other sources come from the file's supplier and are never links.
    """

    model: str = str(DEFAULT_MODEL_DIR)
    embedding: EncoderSettings = field(default_factory=EncoderSettings)
    index_dir: Path = DEFAULT_INDEX_DIR
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    fusion: FusionMode = FusionMode.ZSCORE
    rrf_k: int = 60
    sparse_weight: float = 0.6
    dense_weight: float = 0.4
    candidates: int = 100
    exact_threshold: int = 200_000
    decline_threshold: float = 0.35
    today: date | None = None
    document_url_base: str = ""
    source_link_domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS

    def __post_init__(self) -> None:
        if not isinstance(self.fusion, FusionMode):
            object.__setattr__(self, "fusion", FusionMode.from_str(str(self.fusion)))
        if not self.model:
            raise ValueError("model must name a sentence-transformers model or folder")
        if self.rrf_k < 1:
            raise ValueError(f"rrf_k must be >= 1, got {self.rrf_k}")
        if self.sparse_weight < 0 or self.dense_weight < 0 or (
            self.sparse_weight == 0 and self.dense_weight == 0
        ):
            raise ValueError("retriever weights must be >= 0 and not both 0")
        if self.candidates < 1:
            raise ValueError(f"candidates must be >= 1, got {self.candidates}")
        if not 0 <= self.decline_threshold <= 1:
            raise ValueError(f"decline_threshold must be in [0, 1], got {self.decline_threshold}")
        if self.document_url_base:
            parts = urlsplit(self.document_url_base)
            if (parts.scheme not in ("http", "https") or not parts.netloc or parts.query
                    or parts.fragment):
                raise ValueError("document_url_base must be an http(s) address without query "
                                 f"or fragment, e.g. http://127.0.0.1:8080; got "
                                 f"{self.document_url_base!r}")
            object.__setattr__(self, "document_url_base", self.document_url_base.rstrip("/"))
        object.__setattr__(self, "source_link_domains",
                           parse_link_domains(self.source_link_domains))

    @classmethod
    def from_env(cls, **overrides) -> KnowledgeConfig:
        """Read ``KB_MODEL``, ``KB_INDEX``, ``KB_DECLINE_THRESHOLD``, ``KB_FUSION``, ``KB_TODAY``
        (YYYY-MM-DD), ``KB_DOCUMENT_URL_BASE``, ``KB_SOURCE_LINK_DOMAINS`` (comma-separated;
        set but empty: no external links) and the encoder's ``KB_EMBED_BACKEND``,
        ``KB_EMBED_PRECISION``, ``KB_EMBED_MAX_TOKENS``, ``KB_TORCH_THREADS``."""
        values: dict = {"embedding": EncoderSettings.from_env()}
        if os.environ.get("KB_MODEL"):
            values["model"] = os.environ["KB_MODEL"]
        if os.environ.get("KB_INDEX"):
            values["index_dir"] = Path(os.environ["KB_INDEX"])
        if os.environ.get("KB_DECLINE_THRESHOLD"):
            values["decline_threshold"] = float(os.environ["KB_DECLINE_THRESHOLD"])
        if os.environ.get("KB_FUSION"):
            values["fusion"] = FusionMode.from_str(os.environ["KB_FUSION"])
        if os.environ.get("KB_TODAY"):
            values["today"] = date.fromisoformat(os.environ["KB_TODAY"])
        if os.environ.get("KB_DOCUMENT_URL_BASE"):
            values["document_url_base"] = os.environ["KB_DOCUMENT_URL_BASE"].strip()
        if "KB_SOURCE_LINK_DOMAINS" in os.environ:
            values["source_link_domains"] = parse_link_domains(
                os.environ["KB_SOURCE_LINK_DOMAINS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def current_date(self) -> date:
        return self.today or date.today()
