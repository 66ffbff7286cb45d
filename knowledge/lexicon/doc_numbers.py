"""Số hiệu — the numbers of documents ("1331/QĐ-UBND", "09/2019/NĐ-CP", "05-CTr/TU") as texts
write them, as questions name them ("nd 09/2019", "KH 1576"), and how the two are matched."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.lexicon.dates import YEAR
from knowledge.lexicon.doc_types import FOLDED_TYPE_NAMES, TYPE_CODES
from knowledge.text.vietnamese import fold_diacritics

_CODE = r"[A-ZĐ][A-Za-zĐđ]*"
#: A số hiệu: digits, an optional year, then codes ("1331/QĐ-UBND", "09/2019/NĐ-CP").
NUMBER_RE = re.compile(
    r"(?<![\w/])(\d{1,5}(?:/\d{4})?[/-]" + _CODE + r"(?:[-/]" + _CODE + r"\d*)*)(?![\w/])"
)

#: Issuer codes that follow a type code in a số hiệu ("QĐ-UBND", "TT-BTC"), and "LT" (liên
#: tịch): what may stand glued to the type code when PDF extraction lost the hyphen.
ISSUER_CODES = frozenset(
    "UBND HĐND CP TTG VPCP TU HU BNV BTC BCT BYT BNN BNNMT BKHĐT BCA BQP BGDĐT BTP BTTTT BXD "
    "BGTVT BLĐTBXH BVHTTDL BTNMT LT".split())


def find_numbers(text: str) -> list[str]:
    """Số hiệu in order of appearance, each once.

    >>> find_numbers("Quyết định số 1331/QĐ-UBND, Chỉ thị 05-CTr/TU và 559/QĐ-TTg")
    ['1331/QĐ-UBND', '05-CTr/TU', '559/QĐ-TTg']
    """
    seen: list[str] = []
    for m in NUMBER_RE.finditer(text):
        number = m.group(1)
        if number not in seen and _looks_like_number(number):
            seen.append(number)
    return seen


def _looks_like_number(number: str) -> bool:
    codes = re.split(r"[-/]", number)[1:]
    return any(c.isupper() or c in TYPE_CODES for c in codes if not c.isdigit())


def type_of_number(number: str) -> str:
    """Loại văn bản from the code of a số hiệu: ``"82-KL/TW"`` → ``"Kết luận"``, also when the
    hyphen was lost in PDF extraction: ``"2468/QĐUBND"`` → ``"Quyết định"`` (a type code glued
    to a known issuer code; "BCA" is Bộ Công an, not a Báo cáo)."""
    codes = re.split(r"[-/]", number)[1:]
    for code in codes:
        if code in TYPE_CODES:
            return TYPE_CODES[code]
    if number.endswith("/QH") or re.search(r"/QH\d+$", number):
        return "Luật"
    for code in codes:
        for known, kind in TYPE_CODES.items():
            if code.startswith(known) and code[len(known):].upper() in ISSUER_CODES:
                return kind
    return ""


def number_key(number: str) -> str:
    """A số hiệu reduced for comparison: folded, lower case, letters and digits only
    (``"1331/QĐ-UBND"`` and ``"1331/QD-UBND"`` share ``"1331qdubnd"``)."""
    return re.sub(r"[^0-9a-z]", "", fold_diacritics(number).lower())


@dataclass(frozen=True)
class DocumentRef:
    """A document a question names by (loại văn bản, number[, year]): "nd 09/2019" →
    (Nghị định, 9, 2019)."""

    doc_type: str
    number: int
    year: int | None = None

    @property
    def key(self) -> str:
        """``"Chỉ thị|23|"``, ``"Nghị định|9|2019"``: how a mention is stored."""
        return f"{self.doc_type}|{self.number}|{self.year or ''}"

    @classmethod
    def of_number(cls, number: str) -> DocumentRef | None:
        """The reference a full số hiệu makes: ``"09/2019/NĐ-CP"`` → (Nghị định, 9, 2019)."""
        m = re.match(rf"\s*(\d{{1,5}})[a-z]?(?:/({YEAR}))?\b", number)
        if not m:
            return None
        return cls(type_of_number(number), int(m.group(1)),
                   int(m.group(2)) if m.group(2) else None)

    def matches_key(self, key: str) -> bool:
        """Does a stored mention (:attr:`key`) denote this document?"""
        doc_type, number, year = key.split("|")
        if int(number) != self.number:
            return False
        if self.year is not None and year and int(year) != self.year:
            return False
        return not (self.doc_type and doc_type and doc_type != self.doc_type)

    def matches(self, number: str, doc_type: str = "") -> bool:
        """Does a full số hiệu (``"09/2019/NĐ-CP"``) denote this document?"""
        m = re.match(rf"\s*(\d{{1,5}})[a-z]?(?:/({YEAR}))?\b", number)
        if not m or int(m.group(1)) != self.number:
            return False
        if self.year is not None and m.group(2) and int(m.group(2)) != self.year:
            return False
        return not (self.doc_type and doc_type and doc_type != self.doc_type)


_REF = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(FOLDED_TYPE_NAMES, key=len, reverse=True))
    + rf")\.?\s*(?:so\s*)?(\d{{1,5}})[a-z]?(?:\s*/\s*({YEAR}))?(?!\d)")


def document_refs(text: str) -> tuple[DocumentRef, ...]:
    """Documents named by (loại văn bản, number[, year]) in a question.

    >>> document_refs("nd 09/2019 co dieu chinh che do bao cao thong ke khong?")
    (DocumentRef(doc_type='Nghị định', number=9, year=2019),)
    """
    folded = fold_diacritics(text).lower()
    refs: list[DocumentRef] = []
    for m in _REF.finditer(folded):
        ref = DocumentRef(FOLDED_TYPE_NAMES[m.group(1)], int(m.group(2)),
                          int(m.group(3)) if m.group(3) else None)
        if ref not in refs:
            refs.append(ref)
    return tuple(refs)
