"""Loại văn bản — the kinds of administrative documents, their codes inside a số hiệu
("1331/QĐ-UBND" is a Quyết định) and the short forms people type ("nd 09/2019", "KH 1576")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.text.vietnamese import fold_diacritics


@dataclass(frozen=True)
class DocType:
    """A loại văn bản: its name, the codes a số hiệu uses for it, and the short forms a
    question may use before a number (folded, lower case)."""

    name: str
    codes: tuple[str, ...] = ()
    short: tuple[str, ...] = ()

    @property
    def folded(self) -> str:
        return fold_diacritics(self.name).lower()


DOC_TYPES: tuple[DocType, ...] = (
    DocType("Quyết định", ("QĐ", "QD"), ("qd",)),
    DocType("Chỉ thị", ("CT",), ("ct",)),
    DocType("Kế hoạch", ("KH",), ("kh",)),
    DocType("Nghị quyết", ("NQ",), ("nq",)),
    DocType("Nghị định", ("NĐ",), ("nd",)),
    DocType("Thông tư", ("TT",), ("tt",)),
    DocType("Báo cáo", ("BC",), ("bc",)),
    DocType("Thông báo", ("TB",), ("tb",)),
    DocType("Hướng dẫn", ("HD",)),
    DocType("Chương trình", ("CTr",)),
    DocType("Kết luận", ("KL",), ("kl",)),
    DocType("Luật", ("QH",)),
    DocType("Công văn", ("CV",), ("cv",)),
    DocType("Tờ trình", ("TTr",)),
    DocType("Quy chế", ("QC",)),
    DocType("Đề án", ("ĐA",)),
)
#: What a news article or a web page is typed as (it has no số hiệu of its own).
NEWS = "Tin tức"

#: Code inside a số hiệu → loại văn bản ("1331/QĐ-UBND" → Quyết định).
TYPE_CODES: dict[str, str] = {code: t.name for t in DOC_TYPES for code in t.codes}
#: Names that open a document's title ("Quyết định về …").
TYPE_WORDS: tuple[str, ...] = tuple(t.name for t in DOC_TYPES)
#: Folded name or short form, as typed in a question → loại văn bản.
FOLDED_TYPE_NAMES: dict[str, str] = {
    **{t.folded: t.name for t in DOC_TYPES},
    **{s: t.name for t in DOC_TYPES for s in t.short},
}
#: The folded names alone ("quyet dinh", "ke hoach", … and "van ban").
FOLDED_NAMES: frozenset[str] = frozenset({t.folded for t in DOC_TYPES} | {"van ban"})

_OPENING = re.compile(r"(?<!\s)\s*(" + "|".join(re.escape(w) for w in TYPE_WORDS) + r")\b",
                      re.IGNORECASE)


def type_opening(head: str) -> str:
    """The loại văn bản ``head`` opens with ("Quyết định về …" → "Quyết định"), or ""."""
    m = _OPENING.match(head)
    if not m:
        return ""
    word = m.group(1).lower()
    return next(t for t in TYPE_WORDS if t.lower() == word)


def canonical_type(value: str) -> str:
    """A loại văn bản as a header or a bulk file writes it ("cong_van", "Quyet dinh",
    "tin_tuc") → its name ("Công văn", "Quyết định", "Tin tức"); unknown values unchanged.

    >>> canonical_type("cong_van"), canonical_type("tin_tuc"), canonical_type("Biên bản")
    ('Công văn', 'Tin tức', 'Biên bản')
    """
    folded = fold_diacritics(value).lower().replace("_", " ").strip()
    if folded == "tin tuc":
        return NEWS
    return next((t.name for t in DOC_TYPES if t.folded == folded), value.strip())


#: kinds whose number is often a name ("Đề án 30", "Chương trình 135"), not a số hiệu
PROGRAMMES = frozenset({"Đề án", "Chương trình"})


def is_programme(doc_type: str) -> bool:
    """A programme or scheme, named by a number that is not its số hiệu."""
    return doc_type in PROGRAMMES


def is_news(doc_type: str) -> bool:
    """A news article (or an untyped page): its numbers and dates are not its own."""
    return fold_diacritics(doc_type).lower().replace("_", " ") in ("tin tuc", "")
