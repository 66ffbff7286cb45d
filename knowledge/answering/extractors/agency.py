"""Agencies: "cơ quan nào chủ trì? / sở nào tham mưu?" — an agency, best with its duty."""

from __future__ import annotations

from knowledge.answering.extractors.base import Extractor
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.agencies import AGENCY_RE, DUTY_RE
from knowledge.schema import AnswerKind


class AgencyExtractor(Extractor):
    kinds = (AnswerKind.AGENCY,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        if not AGENCY_RE.search(text):
            return 0.0
        return 1.0 if DUTY_RE.search(text) else 0.5
