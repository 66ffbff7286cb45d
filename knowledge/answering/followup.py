"""Follow-up questions: turn "còn năm 2016 thì sao?" into a full question using the previous
one, and answer "văn bản đó do ai ký?" from the metadata of the last cited document."""

from __future__ import annotations

import re

from knowledge.lexicon.agencies import UNIT_NOUNS
from knowledge.lexicon.dates import QUARTER_RE, YEAR_RE, quarter_number, vn_date
from knowledge.lexicon.doc_numbers import type_of_number
from knowledge.lexicon.numerals import int_to_roman
from knowledge.lexicon.places import find_places
from knowledge.schema import Answer, AnswerKind, Citation, Document
from knowledge.text.vietnamese import fold_diacritics

_THAT_DOC = re.compile(r"\b(van ban|quyet dinh|ke hoach|chi thi|tai lieu|bai viet|nguon)\s+"
                       r"(do|do|nay|tren|vua roi|kia)\b|\b(no|van ban do)\b")
_ASKS = {
    "signer": re.compile(r"\bai ky\b|\bnguoi ky\b|\bky boi\b"),
    "issuer": re.compile(r"\bai ban hanh\b|\bco quan nao\b|\bban hanh\b|\bcua ai\b|\bdo ai\b"),
    "number": re.compile(r"\bso (may|hieu|bao nhieu)\b|\bso nao\b"),
    "date": re.compile(r"\bngay nao\b|\bkhi nao\b|\bbao gio\b|\bngay bao nhieu\b"),
}
# an agency: its noun and the words of its name, up to the rest of the question
_UNIT = re.compile(
    r"\b(?:" + "|".join(UNIT_NOUNS) + r")\s+[A-ZĐÀ-Ỹ][^,?.;]*?"
    r"(?=\s+(?:thì|thi|có|co|được|duoc|đã|da|chủ trì|chu tri|"
    r"phải|phai|làm|lam|là|la|được giao|kiểm tra|kiem tra|năm|nam|trong|ở|tại|sao)\b|[,?.;]|$)")
_MORE = re.compile(r"\b(ro hon|chi tiet hon|cu the hon|them chi tiet|noi them|giai thich them)\b")


def asks_about_last_document(follow_up: str) -> str | None:
    """Which field of the last document a follow-up asks for (signer, issuer, number, date)."""
    folded = fold_diacritics(follow_up).lower()
    if not _THAT_DOC.search(folded):
        return None
    for field_name, pattern in _ASKS.items():
        if pattern.search(folded):
            return field_name
    return None


def asks_for_more(follow_up: str) -> bool:
    return bool(_MORE.search(fold_diacritics(follow_up).lower()))


def _quarter(text: str | None) -> str | None:
    """``"quy 2"`` / ``"quý III"`` / ``"III"`` → ``"quý II"`` / ``"quý III"``."""
    if not text:
        return None
    m = QUARTER_RE.search(text) or re.fullmatch(r"\s*(IV|III|II|I|[1-4])\s*", text,
                                                 re.IGNORECASE)
    number = quarter_number(m.group(1).upper()) if m else None
    return f"quý {int_to_roman(number)}" if number else None


def _unit(text: str | None) -> str | None:
    """The agency a follow-up names: "Còn Sở Tài chính thì sao?" → ``"Sở Tài chính"``."""
    if not text:
        return None
    m = _UNIT.search(text)
    return m.group(0).strip(" ,?.") if m else None


def rewrite_follow_up(previous: str, follow_up: str, year: str | None = None,
                      place: str | None = None, quarter: str | None = None,
                      unit: str | None = None) -> str:
    """Carry the previous question over, with the new year, place, quarter and/or unit.

    >>> rewrite_follow_up("Năm 2018 Quảng Bình kiểm tra CCHC tại những đơn vị nào?",
    ...                   "Còn năm 2016 thì sao?", year="2016")
    'Năm 2016 Quảng Bình kiểm tra CCHC tại những đơn vị nào?'
    >>> rewrite_follow_up("Những việc nào phải xong trong quý II?", "còn quý 3 thì sao")
    'Những việc nào phải xong trong quý III?'
    >>> rewrite_follow_up("Sở Nội vụ chủ trì những việc gì?", "Còn Sở Tài chính thì sao?")
    'Sở Tài chính chủ trì những việc gì?'
    """
    new_year = year if year and YEAR_RE.fullmatch(str(year)) else None
    if new_year is None:
        m = YEAR_RE.search(follow_up)
        new_year = m.group(0) if m else None
    new_place = place or next((p.name for p in find_places(follow_up)), None)
    if new_place:  # keep "huyện" in "ở huyện Quảng Ninh": the district, not the province
        m = re.search(r"\b(?:huyện|quận|thị xã|thành phố|xã|phường|huyen|quan|thi xa|xa|"
                      r"phuong)\s+" + re.escape(new_place), follow_up, re.IGNORECASE)
        new_place = m.group(0) if m else new_place
    new_quarter = _quarter(quarter) or _quarter(follow_up)
    new_unit = _unit(unit) or _unit(follow_up)
    if not (new_year or new_place or new_quarter or new_unit):
        return follow_up
    question = previous
    if new_quarter:
        m = QUARTER_RE.search(question)
        question = (question[: m.start()] + new_quarter + question[m.end():] if m else
                    f"{question.rstrip('?').rstrip()} trong {new_quarter}?")
    if new_unit:
        m = _UNIT.search(question)
        question = (question[: m.start()] + new_unit + " " + question[m.end():].lstrip()
                    if m else f"{question.rstrip('?').rstrip()} đối với {new_unit}?")
    if new_year:
        question = YEAR_RE.sub(new_year, question) if YEAR_RE.search(question) else (
            f"{question.rstrip('?').rstrip()} năm {new_year}?"
        )
    if new_place:
        old = find_places(question)
        if old:
            first = old[0]
            end = first.start + len(_surface(question, first.start, first.name))
            question = question[: first.start] + new_place + question[end:]
        else:
            question = f"{question.rstrip('?').rstrip()} ở {new_place}?"
    return question


def _surface(text: str, start: int, name: str) -> str:
    """The text of a place mention starting at ``start`` (same number of words as ``name``)."""
    words = text[start:].split()
    return " ".join(words[: len(name.split())]).rstrip("?,.")


def describe_document(doc: Document, field_name: str) -> Answer:
    """Answer a question about the last cited document from its metadata."""
    meta = doc.meta
    kind = type_of_number(meta.number) if meta.number else ""
    label = f"{kind or 'Văn bản'} số {meta.number}" if meta.number else f"Văn bản “{meta.title}”"
    values = {
        "signer": (meta.signer, f"{label} do {_signer(meta.signer, meta.signer_title)} ký."
                   if meta.signer else ""),
        "issuer": (meta.issuer, f"{label} do {meta.issuer} ban hành." if meta.issuer else ""),
        "number": (meta.number, f"Văn bản đó là {label}." if meta.number else ""),
        "date": (meta.date, f"{label} ban hành ngày {vn_date(meta.date)}." if meta.date else ""),
    }
    value, text = values[field_name]
    answer_kind = _KINDS[field_name]
    citation = Citation(doc.id, meta.title, meta.number, meta.date, meta.title, meta.doc_type,
                        meta.issuer, meta.source)
    if not value:
        return Answer(f"Văn bản tôi vừa dẫn không ghi rõ thông tin này ({label}).",
                      declined=True, citations=(citation,), kind=answer_kind)
    return Answer(text, declined=False, citations=(citation,), kind=answer_kind, confidence=1.0)


#: what a question about the last document asks → the kind of its answer
_KINDS = {"signer": AnswerKind.SIGNER, "issuer": AnswerKind.ISSUER,
          "number": AnswerKind.DOC_NUMBER, "date": AnswerKind.DATE}


def _signer(name: str, title: str) -> str:
    return f"{name} ({title})" if title else name
