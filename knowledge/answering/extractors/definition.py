"""Definitions: "… là gì?" — a sentence that says what something is."""

from __future__ import annotations

import re

from knowledge.answering.extractors.base import Extractor
from knowledge.answering.question import QuestionAnalysis
from knowledge.schema import AnswerKind

_IS = re.compile(r"\blà\b|\bđược hiểu\b")


class DefinitionExtractor(Extractor):
    kinds = (AnswerKind.DEFINITION,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        return 1.0 if _IS.search(text) else 0.0
