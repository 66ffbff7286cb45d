"""Dates and deadlines: "ngày nào / khi nào / thời hạn?" — a date, a period, a quarter, as
precise as the question asks ("ngày nào?" wants a day, not a year)."""

from __future__ import annotations

import re

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

_ASKS_DAY = re.compile(r"\bngay (nao|bao nhieu|may|thang nao)\b")
_ASKS_MONTH = re.compile(r"\bthang (nao|may)\b")
_DAY = re.compile(r"(?<!\d)\d{1,2}\s*[/.-]\s*\d{1,2}(?!\d)|\bngày\s+\d{1,2}\b", re.IGNORECASE)
_MONTH = re.compile(r"(?<!\d)\d{1,2}\s*[/.-]\s*\d{1,2}(?!\d)|\btháng\s+\d{1,2}\b",
                    re.IGNORECASE)


class DateExtractor(Extractor):
    kinds = (AnswerKind.DATE,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        if _ASKS_DAY.search(analysis.folded):
            return 1.0 if _DAY.search(text) else 0.0
        if _ASKS_MONTH.search(analysis.folded):
            return 1.0 if _MONTH.search(text) else 0.0
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
