"""Passages: a question with no particular answer shape is answered by its best sentence."""

from __future__ import annotations

from knowledge.answering.extractors.base import Extractor
from knowledge.schema import AnswerKind


class PassageExtractor(Extractor):
    kinds = (AnswerKind.PASSAGE,)
