"""Figures and targets: "bao nhiêu %? / mục tiêu là bao nhiêu? / kinh phí? / xếp thứ mấy?" —
a percentage, a sum of money, a rank, or a number."""

from __future__ import annotations

import re

from knowledge.answering.corpus import Corpus
from knowledge.answering.extractors.base import (
    SHORT,
    Extraction,
    Extractor,
    capitalize,
    clause_with,
    clean,
    differs,
)
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.dates import DATE_EXPRESSION_RE, YEAR_RE
from knowledge.lexicon.doc_numbers import find_numbers
from knowledge.schema import AnswerKind, Document
from knowledge.text.vietnamese import fold_diacritics

# a number starts after a non-digit, and nothing is given back (linear on long digit runs)
PERCENT = re.compile(r"(?<!\d)\d++(?:[.,]\d++)?\s*+%")
FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|phần trăm)|\b\d+\b")
MONEY = re.compile(r"(?<![\d.,])\d[\d.,]*+\s*+(?:đồng|triệu|tỷ|nghìn|ngàn|USD)"
                   r"|\b(?:ngân sách|nguồn kinh phí|kinh phí thường xuyên|nguồn vốn)\b",
                   re.IGNORECASE)
ORDINAL = re.compile(r"\b(?:thứ|hạng)\s+(?:\d+|nhất|nhì|hai|ba|tư|năm|sáu|bảy|tám|chín|mười)\b",
                     re.IGNORECASE)
#: numbers as digits or words, folded ("năm" is also a year word: only before a noun counted)
_NUMBER_WORDS = fold_diacritics(r"(?:\d[\d.,]*|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|mươi"
                                r"|trăm)")
_DIGIT = re.compile(r"\d")


def has_figure(text: str) -> bool:
    """Does the text state a figure — not just a date, a year or a số hiệu?"""
    for number in find_numbers(text):
        text = text.replace(number, " ")
    text = DATE_EXPRESSION_RE.sub(" ", text)
    text = YEAR_RE.sub(" ", text)
    return bool(_DIGIT.search(text))


class FigureExtractor(Extractor):
    kinds = (AnswerKind.NUMBER,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        """A percentage for "bao nhiêu %", a sum of money for "kinh phí", a rank for "xếp
        thứ mấy", a number next to the counted noun for "bao nhiêu cán bộ", any figure
        otherwise."""
        asks_figure = analysis.kind is AnswerKind.NUMBER
        if analysis.measure == "percent" and asks_figure:
            return 1.0 if PERCENT.search(text) else 0.0
        if analysis.measure == "money" and asks_figure:
            return 1.0 if MONEY.search(text) else 0.0
        if analysis.measure == "rank":
            return 1.0 if ORDINAL.search(text) else 0.0
        if analysis.counted:
            counted = _NUMBER_WORDS + r"\s+(?:\S+\s+){0,2}?" + re.escape(analysis.counted)
            if re.search(counted, fold_diacritics(text).lower()):
                return 1.0
        return 0.5 if has_figure(text) else 0.0

    def extract(self, analysis: QuestionAnalysis, sentence: str, doc: Document | None,
                corpus: Corpus) -> Extraction:
        """A long sentence is cut to the clause with the figure; the sentence follows."""
        if len(sentence) > SHORT:
            pattern = PERCENT if analysis.measure == "percent" else FIGURE
            clause = clause_with(sentence, pattern) or clause_with(sentence, FIGURE)
            if clause and differs(clause, sentence):
                return Extraction(f"{capitalize(clause)}. ({clean(sentence)})")
        return Extraction(clean(sentence))
