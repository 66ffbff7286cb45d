"""The action server's one knowledge base, created on first use (never at import)."""

from __future__ import annotations

import functools
import logging

from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def get_knowledge_base() -> KnowledgeBase:
    config = KnowledgeConfig.from_env()
    logger.info("knowledge base: index %s, model %s", config.index_dir, config.model)
    return KnowledgeBase(config)
