"""What a question asks for and the constraints it carries — parsed once, into a
:class:`QuestionAnalysis` that every later stage reads (aggregate answers, candidates,
extractors, verification, replies).

Every pattern here runs on user text, so each runs in linear time: "A … B" (A, then B later)
is two searches, never ``A.*B``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from knowledge.lexicon.agencies import FOLDED_DUTIES
from knowledge.lexicon.dates import asked_quarter, asked_year, asked_years
from knowledge.lexicon.doc_numbers import (
    DocumentRef,
    document_refs,
    find_numbers,
    number_key,
    type_of_number,
)
from knowledge.lexicon.doc_types import FOLDED_TYPE_NAMES
from knowledge.lexicon.indices import find_indices
from knowledge.lexicon.places import find_places
from knowledge.lexicon.words import ABBREVIATIONS
from knowledge.schema import AnswerKind
from knowledge.text.vietnamese import fold_diacritics, has_diacritics

#: Questions longer than this are cut before analysis (channels cap messages far below it).
MAX_QUESTION_CHARS = 2000


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Rule:
    """Alternatives that decide a question kind on the folded question: a pattern, or
    ``(first, later)`` — ``first`` somewhere and ``later`` after it."""

    def __init__(self, *alternatives: str | tuple[str, str]) -> None:
        self.alternatives = [tuple(_rx(p) for p in a) if isinstance(a, tuple) else (_rx(a),)
                             for a in alternatives]

    def matches(self, folded: str) -> bool:
        for patterns in self.alternatives:
            m = patterns[0].search(folded)
            if m and (len(patterns) == 1 or patterns[1].search(folded, m.end())):
                return True
        return False


_DUTIES = "|".join(FOLDED_DUTIES)
_DOC_TYPE_WORDS = "van ban|quyet dinh|ke hoach|chi thi|cong van|nghi quyet|thong tu|nghi dinh"
# Rules run on the lower-cased, diacritic-free question, in this order.
_KIND_RULES: list[tuple[AnswerKind, _Rule]] = [
    (AnswerKind.DOC_NUMBER, _Rule(
        r"\bso (may|hieu|bao nhieu)\b|\bso nao\b|\bcan cu\b",
        rf"\b({_DOC_TYPE_WORDS}) (nao|so may|gi)\b")),
    (AnswerKind.PERSON, _Rule(
        r"\bai\b|\bnguoi nao\b|\bong nao\b|\bba nao\b", (r"\btruong doan\b", r"\b(la ai|nao)\b"))),
    (AnswerKind.AGENCY, _Rule(
        (r"(?<!nhung )(?<!cac )\b(co quan|so|bo|ban|don vi) nao\b", rf"\b({_DUTIES})\b"),
        (r"\b(chu tri|theo doi|tham muu|phu trach|thuong truc|dau moi|don doc)\b", r"\bnao\b"),
        r"(?<!nhung )(?<!cac )\b(co quan|so) nao\b")),
    (AnswerKind.NUMBER, _Rule(r"\bbao nhieu (%|phan tram)", (r"\bty le\b", r"\bbao nhieu\b"))),
    (AnswerKind.DATE, _Rule(
        r"\bngay nao\b|\bkhi nao\b|\bbao gio\b|\bluc nao\b|\bthang (nao|may)\b|\bnam nao\b"
        r"|\bquy nao\b|\bthoi (gian|diem) nao\b|\bthoi han\b|\bhan chot\b|\bden (khi|ngay)\b"
        r"|\btu ngay\b")),
    (AnswerKind.COUNT, _Rule(
        r"(?<!thu )\b(bao nhieu|may) (?!(%|phan tram|tien|dong|trieu|ty|nam|phut|gio|ngay|diem)"
        r"\b)\w|\bso luong\b")),
    (AnswerKind.NUMBER, _Rule(
        r"\bbao nhieu\b|\bmuc tieu\b|\bty le\b|\bchi tieu\b|\bphan tram\b|%|\bthu may\b",
        (r"\bdiem\b", r"\bbao nhieu\b"))),
    (AnswerKind.YES_NO, _Rule(
        (r"\b(co|con|phai|duoc|da|can|bi|nen)\b.", r"\bkhong\b\s*\??$"),
        r"\bphai khong\b|\bhay khong\b|\bchua\b\s*\??$|^(co phai|phai chang)\b")),
    (AnswerKind.PURPOSE, _Rule(
        r"\bde lam gi\b|\bnham (muc dich )?gi\b|\bco so de\b|\bvi sao\b|\btai sao\b|\bly do\b",
        (r"\bmuc dich\b", r"\b(gi|nao)\b"), (r"\bde lam\b", r"\bgi\b"))),
    (AnswerKind.LOCATION, _Rule(
        r"\bo dau\b|\btai dau\b|\bdat (tru so )?(o|tai) dau\b|\bdia diem\b|\bdia chi\b")),
    (AnswerKind.DEFINITION, _Rule(r"\bla gi\b|\bnghia la\b|\bdinh nghia\b")),
    (AnswerKind.LIST, _Rule(
        (r"\bnhung\b", r"\bnao\b"), (r"\bcac\b", r"\bnao\b"), (r"\bnhiem vu\b", r"\bgi\b"),
        r"\bgom (nhung )?(gi|nhung)\b|\bnhung gi\b|\bnoi dung\b|\bnoi nao\b|\bdon vi nao\b")),
]
# "thời gian" asks for a date unless it asks "how long" ("thời gian … bao nhiêu")
_TIME = _rx(r"\bthoi gian\b")
_HOW_MUCH = _rx(r"\bbao nhieu\b")
#: "số nào" and "sở nào" fold alike: with diacritics typed, only "số" asks for a số hiệu.
_SO_NAO = re.compile(r"\bs[ởở] nào\b", re.IGNORECASE)

_MEASURES: list[tuple[str, re.Pattern[str]]] = [
    ("percent", _rx(r"%|\bphan tram\b|\bty le\b")),
    ("money", _rx(r"\b(kinh phi|chi phi|bao nhieu tien|muc chi|ngan sach|muc ho tro|so tien"
                  r"|ho tro)\b")),
    ("rank", _rx(r"\bthu may\b|\bxep thu\b|\bhang may\b")),
]
_COUNTED = _rx(r"(?<!thu )\b(?:bao nhieu|may)\s+(\w+)(?:\s+(\w+))?")
_PART_SPLIT = re.compile(r",|;|\b(?:và|va)\b")
_WH_FOLDED = _rx(r"\b(nao|ai|gi|bao nhieu|may|dau|khi nao|bao gio|khong)\b")
_WH_MARKED = re.compile(r"\b(nào|ai|gì|bao nhiêu|mấy|đâu|bao giờ|không)\b", re.IGNORECASE)
_WANTED_TYPE = _rx(r"(?<!\s)\s*(nao|so may|so bao nhieu|gi)\b")
_TYPE_NAMES = _rx(r"\b(" + "|".join(
    sorted((k for k in FOLDED_TYPE_NAMES if " " in k), key=len, reverse=True)) + r")\b")
_CCHC = _rx(r"\b(cchc|cai cach hanh chinh|tthc|thu tuc hanh chinh)\b")


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks (``kind``) and what it says about the answer.

    Attributes:
        text: the question as asked (cut at ``MAX_QUESTION_CHARS``).
        folded: lower case, without diacritics.
        marked: typed with diacritics (then "đầu" in "bắt đầu" is not the question word "đâu").
        kind: what it asks for.
        year / year_is_relative: the year asked ("năm nay" resolved against today).
        years: every year it names, in order.
        quarter / quarter_year: the quarter asked ("quý II"; "quý này" also gives the year).
        places: the provinces it names.
        counted: what a "bao nhiêu …" question counts ("can bo", folded).
        measure: the unit a figure must have: "percent", "money", "rank" or "".
        refs / numbers: the documents it names, by (type, number) and as full số hiệu.
        doc_type: the loại văn bản asked for ("theo quyết định nào" → Quyết định).
        indices: the indices or programmes it names (PAR INDEX, SIPAS, PAPI, PCI…).
        cchc: it is about administrative reform.
        parts: its sub-questions when it asks two things at once, else empty;
        subquestions: the analysis of each part.
    """

    text: str
    folded: str
    marked: bool
    kind: AnswerKind
    year: int | None = None
    year_is_relative: bool = False
    years: tuple[int, ...] = ()
    quarter: int | None = None
    quarter_year: int | None = None
    places: tuple[str, ...] = ()
    counted: str = ""
    measure: str = ""
    refs: tuple[DocumentRef, ...] = ()
    numbers: tuple[str, ...] = ()
    doc_type: str = ""
    indices: tuple[str, ...] = ()
    cchc: bool = False
    parts: tuple[str, ...] = ()
    subquestions: tuple[QuestionAnalysis, ...] = ()

    def names_number(self, number: str) -> bool:
        """Is ``number`` (a full số hiệu) one the question itself names?"""
        key = number_key(number)
        return any(key == number_key(n) for n in self.numbers) or any(
            ref.matches(number, type_of_number(number)) for ref in self.refs)


def classify(question: str) -> AnswerKind:
    """What the question asks for.

    >>> classify("Năm 2018 kiểm tra CCHC tại những đơn vị nào?")
    <AnswerKind.LIST: 'list'>
    >>> classify("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?")
    <AnswerKind.NUMBER: 'number'>
    """
    folded = fold_diacritics(question).lower()
    if _SO_NAO.search(question):  # "Sở nào …" asks for an agency, not a số hiệu
        folded = re.sub(r"\bso nao\b", "co quan nao", folded)
    for kind, rule in _KIND_RULES:
        if rule.matches(folded) or (kind is AnswerKind.DATE and _is_time_question(folded)):
            return kind
    return AnswerKind.PASSAGE


def _is_time_question(folded: str) -> bool:
    m = _TIME.search(folded)
    return bool(m) and not _HOW_MUCH.search(folded, m.end())


def _asks(text: str, marked: bool) -> bool:
    """Does this piece of a question carry a question word? ("bắt đầu" is not "đâu")."""
    if marked:
        return bool(_WH_MARKED.search(text))
    return bool(_WH_FOLDED.search(fold_diacritics(text).lower()))


def question_parts(question: str) -> tuple[str, ...]:
    """Sub-questions of a question that asks two things ("… ngày nào, đặt ở đâu?"); each part
    has its own question word. Empty when the question asks one thing."""
    marked = has_diacritics(question)
    pieces = [p.strip() for p in _PART_SPLIT.split(question.strip().rstrip("?")) if p.strip()]
    parts: list[str] = []
    for piece in pieces:
        if parts and not _asks(parts[-1], marked):
            parts[-1] = f"{parts[-1]}, {piece}"  # "bắt đầu tiếp nhận, trả kết quả … nào"
        elif _asks(piece, marked) or not parts:
            parts.append(piece)
        else:
            parts[-1] = f"{parts[-1]}, {piece}"  # "bao nhiêu người dân, tổ chức" stays one part
    return tuple(parts) if len(parts) >= 2 and all(_asks(p, marked) for p in parts) else ()


def wanted_doc_type(folded: str) -> str:
    """The loại văn bản a "…nào / số mấy" question asks for: "theo quyết định nào" →
    Quyết định (the last one named before such a question word)."""
    best = ""
    for m in _TYPE_NAMES.finditer(folded):
        if _WANTED_TYPE.match(folded, m.end()):
            best = FOLDED_TYPE_NAMES[m.group(1)]
    return best


def question_numbers(question: str) -> list[str]:
    """The số hiệu a question names — also typed in lower case on a phone ("76/2025/nq-hdnd")."""
    return find_numbers(question) or find_numbers(question.upper())


def analyze(question: str, today: date | None = None, with_parts: bool = True
            ) -> QuestionAnalysis:
    """Parse a question once: kind, year (absolute or relative to ``today``), quarter, places,
    documents named, indices named, what is counted or measured, sub-questions."""
    today = today or date.today()
    question = question[:MAX_QUESTION_CHARS]
    folded = fold_diacritics(question).lower()
    kind = classify(question)
    year, relative = asked_year(question, today)
    quarter, quarter_year = asked_quarter(question, today)
    places = tuple(dict.fromkeys(p.province for p in find_places(question)))
    m = _COUNTED.search(folded)
    counted = ""
    if m:
        head = m.group(1)
        expansion = ABBREVIATIONS.get(head) or ABBREVIATIONS.get(head.replace("d", "đ"))
        words = fold_diacritics(expansion).split() if expansion else [g for g in m.groups() if g]
        counted = " ".join(words[:2])  # "cán bộ, công chức" → "can bo"; "TTHC" → "thu tuc"
    measure = next((name for name, pattern in _MEASURES if pattern.search(folded)), "")
    parts = question_parts(question) if with_parts else ()
    return QuestionAnalysis(
        text=question, folded=folded, marked=has_diacritics(question), kind=kind, year=year,
        year_is_relative=relative, years=asked_years(question), quarter=quarter,
        quarter_year=quarter_year, places=places, counted=counted, measure=measure,
        refs=document_refs(question), numbers=tuple(question_numbers(question)),
        doc_type=wanted_doc_type(folded) if kind is AnswerKind.DOC_NUMBER else "",
        indices=find_indices(question), cchc=bool(_CCHC.search(folded)), parts=parts,
        subquestions=tuple(analyze(p, today, with_parts=False) for p in parts))
