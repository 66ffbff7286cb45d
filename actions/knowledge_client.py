"""The action server's one knowledge base, created on first use (never at import)."""

from __future__ import annotations

import functools
import logging
import os

from knowledge.base import KnowledgeBase
from knowledge.config import PROJECT_ROOT, KnowledgeConfig
from knowledge.question_log import QuestionLog

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def get_knowledge_base() -> KnowledgeBase:
    config = KnowledgeConfig.from_env()
    logger.info("knowledge base: index %s, model %s", config.index_dir, config.model)
    return KnowledgeBase(config)


@functools.lru_cache(maxsize=1)
def get_question_log() -> QuestionLog:
    """Where answered questions and feedback go (``KB_QUESTION_LOG``: a SQLite file, default
    var/questions.db, or a ``postgresql://`` URL), read by the officials' console."""
    return QuestionLog(os.environ.get("KB_QUESTION_LOG") or PROJECT_ROOT / "var" / "questions.db")
