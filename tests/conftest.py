"""Shared fixtures: the real offline embedding model and small real indexes built from the
seed documents and tiny fixtures inside tests/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "documents"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODEL_DIR = Path(os.environ.get("KB_MODEL", ROOT / "var" / "models" / "multilingual-e5-small"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def model_dir() -> Path:
    if not (MODEL_DIR / "modules.json").exists():
        pytest.fail(f"embedding model missing at {MODEL_DIR}: run 'make setup' first")
    return MODEL_DIR


@pytest.fixture(scope="session")
def embedder(model_dir):
    from knowledge.retrieval.dense import Embedder

    return Embedder(str(model_dir))


@pytest.fixture(scope="session")
def analyzer():
    from knowledge.text.segment import TermAnalyzer

    return TermAnalyzer()


def build_index(index_dir: Path, paths: list[Path], embedder, analyzer, **config):
    from knowledge.config import KnowledgeConfig
    from knowledge.ingest.indexer import Indexer

    cfg = KnowledgeConfig(model=embedder.model_name, index_dir=index_dir, **config)
    report = Indexer(cfg, embedder=embedder, analyzer=analyzer).ingest(paths)
    return cfg, report


@pytest.fixture(scope="session")
def seed_kb(tmp_path_factory, embedder, analyzer):
    """A knowledge base over the five shipped seed documents."""
    from knowledge.base import KnowledgeBase

    index_dir = tmp_path_factory.mktemp("seed-index")
    cfg, _ = build_index(index_dir, [SEEDS], embedder, analyzer)
    return KnowledgeBase(cfg, embedder=embedder, analyzer=analyzer)


@pytest.fixture(scope="session")
def index_builder(embedder, analyzer):
    """``index_builder(index_dir, [paths], **config) -> (config, report)`` with the real model."""

    def build(index_dir: Path, paths: list[Path], **config):
        return build_index(index_dir, paths, embedder, analyzer, **config)

    return build


_ROOT_ENTRIES: set[str] = set()


def pytest_sessionstart(session) -> None:
    _ROOT_ENTRIES.update(p.name for p in ROOT.iterdir())


def pytest_sessionfinish(session, exitstatus) -> None:
    """No test may write into the repository root (a stray ``${RASA_TRACKER_DB}`` SQLite file
    was once committed there): anything new at the top level fails the run."""
    new = sorted(p.name for p in ROOT.iterdir()) if _ROOT_ENTRIES else []
    new = [name for name in new if name not in _ROOT_ENTRIES]
    if new:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nerror: the tests wrote into the repository root: {', '.join(new)}")
