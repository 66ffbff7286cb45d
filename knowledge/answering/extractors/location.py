"""Locations: "… ở đâu? / địa chỉ?" — a place or an address."""

from __future__ import annotations

import re

from knowledge.answering.extractors.base import Extractor
from knowledge.answering.question import QuestionAnalysis
from knowledge.schema import AnswerKind

_PLACE = re.compile(r"\b(?:tại|ở|đặt)\s+(?:số\s+\d|tầng|trụ sở|tòa nhà|toà nhà|đường|phường|"
                    r"xã|thị trấn|khu|[A-ZĐ])|\bđịa chỉ\b"
                    r"|\bsố\s+\d+[,\s]+(?:đường|đại lộ|phố)", re.IGNORECASE)


class LocationExtractor(Extractor):
    kinds = (AnswerKind.LOCATION,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        return 1.0 if _PLACE.search(text) else 0.0
