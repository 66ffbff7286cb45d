"""What a question asks for, and the constraints it carries (year, place)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

from knowledge.lexicon.places import find_places
from knowledge.lexicon.words import ABBREVIATIONS
from knowledge.text.vietnamese import fold_diacritics, has_diacritics


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
    PURPOSE = "purpose"
    LOCATION = "location"
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
        r"(?<!nhung )(?<!cac )\b(co quan|so|bo|ban|don vi) nao\b.*\b(chu tri|theo doi|tham muu"
        r"|phu trach|thuong truc|dau moi|don doc|huong dan|de nghi)\b"
        r"|\b(chu tri|theo doi|tham muu|phu trach|thuong truc|dau moi|don doc)\b.*\bnao\b"
        r"|(?<!nhung )(?<!cac )\b(co quan|so) nao\b")),
    (QuestionKind.NUMBER, re.compile(r"\bbao nhieu (%|phan tram)|\bty le\b.*\bbao nhieu\b")),
    (QuestionKind.DATE, re.compile(
        r"\bngay nao\b|\bkhi nao\b|\bbao gio\b|\bluc nao\b|\bthang (nao|may)\b|\bnam nao\b"
        r"|\bquy nao\b|\bthoi (gian|diem) nao\b|\bthoi han\b|\bhan chot\b|\bden (khi|ngay)\b"
        r"|\btu ngay\b|\bthoi gian\b(?!.*\bbao nhieu\b)")),
    (QuestionKind.COUNT, re.compile(
        r"(?<!thu )\b(bao nhieu|may) "
        r"(?!(%|phan tram|tien|dong|trieu|ty|nam|phut|gio|ngay|diem)\b)\w"
        r"|\bso luong\b")),
    (QuestionKind.NUMBER, re.compile(
        r"\bbao nhieu\b|\bmuc tieu\b|\bty le\b|\bchi tieu\b|\bphan tram\b|%|\bthu may\b"
        r"|\bdiem\b.*\bbao nhieu\b")),
    (QuestionKind.YES_NO, re.compile(
        r"\b(co|con|phai|duoc|da|can|bi|nen)\b.+\bkhong\b\s*\??$|\bphai khong\b|\bhay khong\b"
        r"|\bchua\b\s*\??$|^(co phai|phai chang)\b")),
    (QuestionKind.PURPOSE, re.compile(
        r"\bde lam gi\b|\bnham (muc dich )?gi\b|\bmuc dich\b.*\b(gi|nao)\b|\bde lam\b.*\bgi\b"
        r"|\bco so de\b|\bvi sao\b|\btai sao\b|\bly do\b")),
    (QuestionKind.LOCATION, re.compile(
        r"\bo dau\b|\btai dau\b|\bdat (tru so )?(o|tai) dau\b|\bdia diem\b|\bdia chi\b")),
    (QuestionKind.DEFINITION, re.compile(r"\bla gi\b|\bnghia la\b|\bdinh nghia\b")),
    (QuestionKind.LIST, re.compile(
        r"\bnhung\b.*\bnao\b|\bcac\b.*\bnao\b|\bgom (nhung )?(gi|nhung)\b|\bnhung gi\b|\bnoi dung\b"
        r"|\bnhiem vu\b.*\bgi\b|\bnoi nao\b|\bdon vi nao\b")),
]
#: "số nào" and "sở nào" fold alike: with diacritics typed, only "số" asks for a số hiệu.
_SO_NAO = re.compile(r"\bs[ởở] nào\b", re.IGNORECASE)

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_RELATIVE_YEARS = {"nam nay": 0, "nam ngoai": -1, "nam truoc": -1, "nam roi": -1,
                   "nam toi": 1, "nam sau": 1}


#: Loại văn bản named before a number in a question ("nd 09/2019", "KH 1576"), folded.
_REF_TYPES: dict[str, str] = {
    "nghi dinh": "Nghị định", "nd": "Nghị định", "quyet dinh": "Quyết định", "qd": "Quyết định",
    "ke hoach": "Kế hoạch", "kh": "Kế hoạch", "chi thi": "Chỉ thị", "ct": "Chỉ thị",
    "nghi quyet": "Nghị quyết", "nq": "Nghị quyết", "thong tu": "Thông tư", "tt": "Thông tư",
    "cong van": "Công văn", "cv": "Công văn", "bao cao": "Báo cáo", "bc": "Báo cáo",
    "thong bao": "Thông báo", "tb": "Thông báo", "ket luan": "Kết luận", "kl": "Kết luận",
}
_REF = re.compile(
    r"\b(" + "|".join(sorted(_REF_TYPES, key=len, reverse=True)) + r")\.?\s*(?:so\s*)?"
    r"(\d{1,5})[a-z]?(?:\s*/\s*((?:19|20)\d{2}))?(?![\d])")
_MEASURE = [
    ("percent", re.compile(r"%|\bphan tram\b|\bty le\b")),
    ("money", re.compile(r"\b(kinh phi|chi phi|bao nhieu tien|muc chi|ngan sach|muc ho tro"
                         r"|so tien|ho tro)\b")),
    ("rank", re.compile(r"\bthu may\b|\bxep thu\b|\bhang may\b")),
]
_COUNTED = re.compile(r"(?<!thu )\b(?:bao nhieu|may)\s+(\w+)(?:\s+(\w+))?")
_PART_SPLIT = re.compile(r"\s*(?:,|;|\b(?:và|va)\b)\s*")
_WH_FOLDED = re.compile(r"\b(nao|ai|gi|bao nhieu|may|dau|khi nao|bao gio|khong)\b")
_WH_MARKED = re.compile(r"\b(nào|ai|gì|bao nhiêu|mấy|đâu|bao giờ|không)\b", re.IGNORECASE)


def _asks(text: str, marked: bool) -> bool:
    """Does this piece of a question carry a question word? ("bắt đầu" is not "đâu")."""
    if marked:
        return bool(_WH_MARKED.search(text))
    return bool(_WH_FOLDED.search(fold_diacritics(text).lower()))


@dataclass(frozen=True)
class DocumentRef:
    """A document the question names by its number: "nd 09/2019" → (Nghị định, 9, 2019)."""

    doc_type: str
    number: int
    year: int | None = None

    def matches(self, number: str, doc_type: str = "") -> bool:
        """Does a full số hiệu (``"09/2019/NĐ-CP"``) denote this document?"""
        m = re.match(r"\s*(\d{1,5})[a-z]?(?:/((?:19|20)\d{2}))?\b", number)
        if not m or int(m.group(1)) != self.number:
            return False
        if self.year is not None and m.group(2) and int(m.group(2)) != self.year:
            return False
        return not (self.doc_type and doc_type and doc_type != self.doc_type)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks (``kind``) and what it says about the answer.

    ``counted`` is what a "bao nhiêu …" question counts ("cán bộ công chức", folded);
    ``measure`` the unit a figure must have ("percent", "money", "rank" or "");
    ``refs`` the documents it names by number; ``parts`` its sub-questions when it asks two
    things at once ("công bố ngày nào và là năm thứ mấy?"), else empty.
    """

    text: str
    kind: QuestionKind
    year: int | None
    year_is_relative: bool
    places: tuple[str, ...]
    counted: str = ""
    measure: str = ""
    refs: tuple[DocumentRef, ...] = ()
    parts: tuple[str, ...] = ()


def document_refs(question: str) -> tuple[DocumentRef, ...]:
    """Documents named by (loại văn bản, number[, year]) in a question.

    >>> document_refs("nd 09/2019 co dieu chinh che do bao cao thong ke khong?")
    (DocumentRef(doc_type='Nghị định', number=9, year=2019),)
    """
    folded = fold_diacritics(question).lower()
    refs = []
    for m in _REF.finditer(folded):
        ref = DocumentRef(_REF_TYPES[m.group(1)], int(m.group(2)),
                          int(m.group(3)) if m.group(3) else None)
        if ref not in refs:
            refs.append(ref)
    return tuple(refs)


def question_parts(question: str) -> tuple[str, ...]:
    """Sub-questions of a question that asks two things ("… ngày nào, đặt ở đâu?"); each part
    has its own question word. Empty when the question asks one thing."""
    marked = has_diacritics(question)
    pieces = [p for p in _PART_SPLIT.split(question.strip().rstrip("?")) if p]
    parts: list[str] = []
    for piece in pieces:
        if parts and not _asks(parts[-1], marked):
            parts[-1] = f"{parts[-1]}, {piece}"  # "bắt đầu tiếp nhận, trả kết quả … nào"
        elif _asks(piece, marked) or not parts:
            parts.append(piece)
        else:
            parts[-1] = f"{parts[-1]}, {piece}"  # "bao nhiêu người dân, tổ chức" stays one part
    return tuple(parts) if len(parts) >= 2 and all(_asks(p, marked) for p in parts) else ()


def classify(question: str) -> QuestionKind:
    """What the question asks for.

    >>> classify("Năm 2018 kiểm tra CCHC tại những đơn vị nào?")
    <QuestionKind.LIST: 'list'>
    >>> classify("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?")
    <QuestionKind.NUMBER: 'number'>
    """
    folded = fold_diacritics(question).lower()
    if _SO_NAO.search(question):  # "Sở nào …" asks for an agency, not a số hiệu
        folded = re.sub(r"\bso nao\b", "co quan nao", folded)
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
    m = _COUNTED.search(folded)
    counted = ""
    if m:
        head = m.group(1)
        expansion = ABBREVIATIONS.get(head) or ABBREVIATIONS.get(head.replace("d", "đ"))
        words = fold_diacritics(expansion).split() if expansion else [g for g in m.groups() if g]
        counted = " ".join(words[:2])  # "cán bộ, công chức" → "can bo"; "TTHC" → "thu tuc"
    measure = next((name for name, pattern in _MEASURE if pattern.search(folded)), "")
    return QuestionAnalysis(question, classify(question), year, relative, places,
                            counted=counted, measure=measure, refs=document_refs(question),
                            parts=question_parts(question))
