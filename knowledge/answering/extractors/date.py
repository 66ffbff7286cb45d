"""Dates and deadlines: "ngày nào / khi nào / thời hạn?" — a date, a period, a quarter."""

from __future__ import annotations

from knowledge.answering.corpus import Corpus
from knowledge.answering.extractors.base import (
    Extraction,
    Extractor,
    capitalize,
    clause_with,
    clean,
    differs,
)
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.dates import DATE_EXPRESSION_RE
from knowledge.schema import AnswerKind, Document


class DateExtractor(Extractor):
    kinds = (AnswerKind.DATE,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        return 1.0 if DATE_EXPRESSION_RE.search(text) else 0.0

    def extract(self, analysis: QuestionAnalysis, sentence: str, doc: Document | None,
                corpus: Corpus) -> Extraction:
        """The clause that states the date ("Thời gian kiểm tra: quý II/2019"); a question
        asking two things keeps the whole sentence."""
        if not analysis.parts:
            clause = clause_with(sentence, DATE_EXPRESSION_RE)
            if clause and differs(clause, sentence):
                return Extraction(f"{capitalize(clause)}.")
        return Extraction(clean(sentence))

