"""What a question asks for, and the constraints it carries (year, place)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

from knowledge.places import find_places
from knowledge.text.vietnamese import fold_diacritics


class QuestionKind(str, Enum):
    LIST = "list"
    COUNT = "count"
    NUMBER = "number"
    DATE = "date"
    DOC_NUMBER = "doc_number"
    PERSON = "person"
    AGENCY = "agency"
    YES_NO = "yes_no"
    DEFINITION = "definition"
    PASSAGE = "passage"

    @classmethod
    def from_str(cls, value: str) -> QuestionKind:
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown question kind {value!r}; choose one of: {choices}") from None


# Patterns run on the lower-cased, diacritic-free question, in this order.
_KIND_PATTERNS: list[tuple[QuestionKind, re.Pattern[str]]] = [
    (QuestionKind.DOC_NUMBER, re.compile(
        r"\bso (may|hieu|bao nhieu)\b|\bso nao\b|\b(van ban|quyet dinh|ke hoach|chi thi|cong van"
        r"|nghi quyet|thong tu|nghi dinh) (nao|so may|gi)\b|\bcan cu\b")),
    (QuestionKind.PERSON, re.compile(
        r"\bai\b|\bnguoi nao\b|\bong nao\b|\bba nao\b|\btruong doan\b.*\b(la ai|nao)\b")),
    (QuestionKind.AGENCY, re.compile(
        r"\bco quan nao\b|\b(chu tri|theo doi|tham muu|phu trach)\b.*\bnao\b|\bdon vi nao\b.*"
        r"\b(chu tri|theo doi|tham muu|phu trach)\b")),
    (QuestionKind.DATE, re.compile(
        r"\bngay nao\b|\bkhi nao\b|\bbao gio\b|\bluc nao\b|\bthang nao\b|\bnam nao\b|\bquy nao\b"
        r"|\bthoi gian\b|\bthoi han\b|\bhan chot\b|\bden (khi|ngay)\b|\btu ngay\b")),
    (QuestionKind.COUNT, re.compile(
        r"\b(bao nhieu|may) (don vi|co quan|so|nganh|huyen|xa|dia phuong|nhom|noi dung|thu tuc"
        r"|linh vuc|van ban|tieu chi|doan|lan|cuoc|ho so|tinh|phuong|thi tran|thanh vien|nguoi)\b"
        r"|\bso luong\b")),
    (QuestionKind.NUMBER, re.compile(
        r"\bbao nhieu\b|\bmuc tieu\b|\bty le\b|\bchi tieu\b|\bphan tram\b|%"
        r"|\bdiem\b.*\bbao nhieu\b")),
    (QuestionKind.YES_NO, re.compile(r"\bco\b.+\bkhong\b\s*\??$|\bphai khong\b|\bhay khong\b"
                                     r"|\bchua\b\s*\??$")),
    (QuestionKind.DEFINITION, re.compile(r"\bla gi\b|\bnghia la\b|\bdinh nghia\b")),
    (QuestionKind.LIST, re.compile(
        r"\bnhung\b.*\bnao\b|\bcac\b.*\bnao\b|\bgom (nhung )?(gi|nhung)\b|\bnhung gi\b|\bnoi dung\b"
        r"|\bnhiem vu\b.*\bgi\b|\bo dau\b|\bnoi nao\b|\bdon vi nao\b")),
]

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_RELATIVE_YEARS = {"nam nay": 0, "nam ngoai": -1, "nam truoc": -1, "nam roi": -1,
                   "nam toi": 1, "nam sau": 1}


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    kind: QuestionKind
    year: int | None
    year_is_relative: bool
    places: tuple[str, ...]


def classify(question: str) -> QuestionKind:
    """What the question asks for.

    >>> classify("Năm 2018 kiểm tra CCHC tại những đơn vị nào?")
    <QuestionKind.LIST: 'list'>
    >>> classify("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?")
    <QuestionKind.NUMBER: 'number'>
    """
    folded = fold_diacritics(question).lower()
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(folded):
            return kind
    return QuestionKind.PASSAGE


def analyze(question: str, today: date | None = None) -> QuestionAnalysis:
    """Kind, year (absolute or "năm nay"-style relative to ``today``) and places of a question."""
    today = today or date.today()
    folded = fold_diacritics(question).lower()
    year, relative = None, False
    m = _YEAR.search(question)
    if m:
        year = int(m.group(1))
    else:
        for phrase, delta in _RELATIVE_YEARS.items():
            if phrase in folded:
                year, relative = today.year + delta, True
                break
    places = tuple(dict.fromkeys(p.province for p in find_places(question)))
    return QuestionAnalysis(question, classify(question), year, relative, places)
