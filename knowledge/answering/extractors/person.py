"""People: "ai ký? / ai là trưởng đoàn?" — a name, or the title of the official."""

from __future__ import annotations

from knowledge.answering.extractors.base import Extractor
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.people import ADDRESSED_PERSON_RE, PERSON_NAME_RE, ROLE_RE
from knowledge.schema import AnswerKind


class PersonExtractor(Extractor):
    kinds = (AnswerKind.PERSON,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        if ADDRESSED_PERSON_RE.search(text) or PERSON_NAME_RE.search(text):
            return 1.0
        return 0.7 if ROLE_RE.search(text) else 0.0
