"""Purposes: "… để làm gì? / nhằm mục đích gì? / vì sao?" — a purpose clause."""

from __future__ import annotations

import re

from knowledge.answering.extractors.base import Extractor
from knowledge.answering.question import QuestionAnalysis
from knowledge.schema import AnswerKind

_PURPOSE = re.compile(r"\b(?:để|nhằm|mục đích|làm cơ sở|là cơ sở|góp phần)\b", re.IGNORECASE)


class PurposeExtractor(Extractor):
    kinds = (AnswerKind.PURPOSE,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        return 1.0 if _PURPOSE.search(text) else 0.0
