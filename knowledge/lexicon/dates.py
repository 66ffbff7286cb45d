"""Dates, years, quarters, periods and relative time ("năm nay", "quý tới") as Vietnamese
administrative texts and questions write them — defined once for metadata, facts, question
analysis, follow-ups and answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from knowledge.lexicon.numerals import roman_to_int
from knowledge.text.vietnamese import fold_diacritics

#: A year of the documents' era.
YEAR = r"(?:19|20)\d{2}"
YEAR_RE = re.compile(rf"(?<!\d)({YEAR})(?!\d)")
#: "2016-2020", "2021 – 2025"
YEAR_RANGE_RE = re.compile(rf"(?<!\d)({YEAR})\s*[-–]\s*({YEAR})(?!\d)")
#: "năm 2019"
YEAR_PHRASE_RE = re.compile(rf"năm\s+({YEAR})(?!\d)", re.IGNORECASE)
#: "13/4/2018", "13-04-2018", "13.4.2018"
DATE_NUMERIC_RE = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s*[/.-]\s*(\d{{1,2}})\s*[/.-]\s*({YEAR})(?!\d)")
#: "ngày 13 tháng 4 năm 2018"
DATE_WORDS_RE = re.compile(rf"ngày\s+(\d{{1,2}})\s+tháng\s+(\d{{1,2}})\s+năm\s+({YEAR})",
                           re.IGNORECASE)
#: A quarter as written: "IV", "III", "II", "I" or a digit 1-4.
QUARTER_TOKEN = r"(?:IV|III|II|I|[1-4])"
#: "quý II", "quy 3" (any case, with or without diacritics)
QUARTER_RE = re.compile(rf"\b(?:quý|quy)\s+({QUARTER_TOKEN})\b", re.IGNORECASE)

#: Relative years in a question (folded) → offset from the current year.
RELATIVE_YEARS: dict[str, int] = {"nam nay": 0, "nam ngoai": -1, "nam truoc": -1, "nam roi": -1,
                                  "nam toi": 1, "nam sau": 1}
#: Relative quarters in a question (folded) → offset from the current quarter.
RELATIVE_QUARTERS: dict[str, int] = {"quy nay": 0, "quy toi": 1, "quy sau": 1, "quy truoc": -1}

#: A date, a deadline or a period stated in a sentence (what answers "khi nào / ngày nào").
DATE_EXPRESSION_RE = re.compile(
    rf"(?:từ\s+)?(?:ngày\s+)?\d{{1,2}}\s*[-–/]\s*\d{{1,2}}(?:\s*[-–/]\s*\d{{1,2}})?/{YEAR}"
    rf"|[Qq]uý\s+[IV]+(?:\s+(?:và|,|-)\s+[IV]+)*\s*/\s*{YEAR}"
    rf"|[Tt]háng\s+\d{{1,2}}(?:\s*[-–]\s*\d{{1,2}})?(?:\s*/\s*|\s+năm\s+){YEAR}"
    rf"|(?:trước|đến|trong)\s+(?:ngày\s+)?\d{{1,2}}/\d{{1,2}}(?:/{YEAR})?"
    rf"|[Qq]uý\s+[IV]+(?:\s+năm\s+{YEAR})?"
    rf"|[Nn]ăm\s+{YEAR}"
    rf"|(?<!\d)\d{{1,2}}\s*[-/]\s*\d{{1,2}}\s*[-/]\s*{YEAR}"
    rf"|\bngày\s+\d{{1,2}}(?:\s*[-/]\s*\d{{1,2}})?\b")


def quarter_number(token: str) -> int | None:
    """``"III"`` / ``"3"`` → 3; ``None`` outside 1-4."""
    token = token.strip()
    value = int(token) if token.isdigit() else roman_to_int(token)
    return value if value and 1 <= value <= 4 else None


def years_in(text: str, max_range: int = 10) -> set[int]:
    """Every year ``text`` names, and the years inside ranges ("2016-2020" → 2016…2020).

    >>> sorted(years_in("giai đoạn 2016-2020 và năm 2022"))
    [2016, 2017, 2018, 2019, 2020, 2022]
    """
    years = {int(y) for y in YEAR_RE.findall(text)}
    for a, b in YEAR_RANGE_RE.findall(text):
        if int(a) <= int(b) <= int(a) + max_range:
            years.update(range(int(a), int(b) + 1))
    return years


_DATE_OR_NUMBER = re.compile(
    rf"(?<!\d)\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*{YEAR}(?!\d)"
    rf"|ngày\s+\d{{1,2}}\s+tháng\s+\d{{1,2}}\s+năm\s+{YEAR}"
    rf"|\b\d{{1,5}}/{YEAR}/[A-ZĐ]", re.IGNORECASE)


def stated_years(text: str) -> set[int]:
    """The years a text speaks *of* ("năm 2020", "giai đoạn 2016-2020", "2019"): like
    :func:`years_in`, but a year inside a full date ("ngày 14/01/2021") or a số hiệu
    ("09/2019/NĐ-CP") says when something was issued, not what it is about.

    >>> sorted(stated_years("Ngày 14/01/2021, UBND tỉnh công bố Chỉ số CCHC năm 2020"))
    [2020]
    """
    return years_in(_DATE_OR_NUMBER.sub(" ", text))


def vn_date(iso: str) -> str:
    """``"2018-04-13"`` → ``"13/4/2018"`` (anything else is returned unchanged)."""
    parts = iso.split("-")
    if len(parts) != 3:
        return iso
    y, m, d = parts
    return f"{int(d)}/{int(m)}/{y}"


def parse_dates(text: str) -> list[tuple[int, date]]:
    """(position, date) for every valid date written as ``13/4/2018`` or ``ngày 13 tháng 4 năm
    2018``, in order of appearance."""
    out = []
    for pattern in (DATE_NUMERIC_RE, DATE_WORDS_RE):
        for m in pattern.finditer(text):
            d, mth, y = (int(g) for g in m.groups())
            try:
                out.append((m.start(), date(y, mth, d)))
            except ValueError:
                continue
    return sorted(out)


#: a year that is part of a document's number ("Nghị định 61/2018", "09/2019/NĐ-CP")
_NUMBERED_YEAR = re.compile(rf"\b\d{{1,5}}\s*/\s*{YEAR}(?:/[\wĐđ-]+)?")


def without_numbered_years(text: str) -> str:
    """``text`` without the years that belong to document numbers ("Trước Nghị định
    61/2018, …" does not ask about 2018)."""
    return _NUMBERED_YEAR.sub(" ", text)


def asked_year(question: str, today: date) -> tuple[int | None, bool]:
    """The year a question asks about, and whether it was relative ("năm nay" → today's).
    A year inside a document's number is not asked about.

    >>> asked_year("Năm ngoái kiểm tra bao nhiêu đơn vị?", date(2019, 5, 1))
    (2018, True)
    >>> asked_year("Trước Nghị định 61/2018, quy chế một cửa theo văn bản nào?", date(2019, 5, 1))
    (None, False)
    """
    question = without_numbered_years(question)
    m = YEAR_RE.search(question)
    if m:
        return int(m.group(1)), False
    folded = fold_diacritics(question).lower()
    for phrase, delta in RELATIVE_YEARS.items():
        if phrase in folded:
            return today.year + delta, True
    return None, False


def asked_years(question: str) -> tuple[int, ...]:
    """Every year a question names, in order, each once ("so với năm 2016, năm 2018 …"),
    but not those inside document numbers."""
    return tuple(dict.fromkeys(int(y) for y in YEAR_RE.findall(without_numbered_years(question))))


def asked_quarter(question: str, today: date) -> tuple[int | None, int | None]:
    """(quarter, year) a question asks about: "quý II" → (2, None); "quý này" / "quý tới" →
    the quarter and year relative to ``today``."""
    m = QUARTER_RE.search(question)
    if m:
        return quarter_number(m.group(1)), None
    folded = fold_diacritics(question).lower()
    for phrase, delta in RELATIVE_QUARTERS.items():
        if phrase in folded:
            index = (today.month - 1) // 3 + delta  # 0-based, may leave the year
            return index % 4 + 1, today.year + index // 4
    return None, None


# -- periods and deadlines -----------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """When something happens or is due: the year and quarters (1–4) it falls in, and the
    words the document uses (``"quý II và III/2018"``)."""

    text: str
    year: int | None = None
    quarters: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "year": self.year, "quarters": list(self.quarters)}

    @classmethod
    def from_dict(cls, data: dict | None) -> Period | None:
        if not data:
            return None
        return cls(data["text"], data.get("year"), tuple(data.get("quarters") or ()))


# "quý II và III/2018", "quý I, quý II năm 2019", "quý 4/2020", "các quý III-IV"
_QUARTERS = re.compile(
    rf"\bquý\s+({QUARTER_TOKEN}(?:\s*(?:,|và|-|–|đến)\s*(?:quý\s+)?{QUARTER_TOKEN})*)"
    rf"(?:\s*(?:/|năm)\s*({YEAR}))?", re.IGNORECASE)
_HALF = re.compile(rf"\b(6|sáu) tháng (đầu|cuối) năm(?:\s+({YEAR}))?", re.IGNORECASE)
# "trước ngày 30/6/2018", "trước 15/12", "chậm nhất ngày 31/3/2019", "từ ngày 05-14/10/2020"
_DAY_MONTH = re.compile(
    rf"(?:trước|chậm nhất|hạn chót|hoàn thành|xong|từ|trong|đến)\s+(?:ngày\s+)?"
    rf"(?:\d{{1,2}}\s*[-–]\s*)?(\d{{1,2}})\s*/\s*(\d{{1,2}})(?:\s*/\s*({YEAR}))?",
    re.IGNORECASE)
_MONTH = re.compile(rf"\btháng\s+(\d{{1,2}})(?:\s*(?:/|năm)\s*({YEAR}))?", re.IGNORECASE)
_DUE = re.compile(r"\b(hoàn thành|trước ngày|chậm nhất|thời hạn|hạn chót|xong trước|"
                  r"xong trong)\b", re.IGNORECASE)
_DEADLINE_CUE = re.compile(
    r"\b(trước ngày|trước|chậm nhất|hoàn thành|xong|thời hạn|thời gian thực hiện|thời gian "
    r"kiểm tra|dự kiến|trong quý|trong tháng|hạn chót|từ ngày)\b", re.IGNORECASE)


def find_period(text: str, default_year: int | None = None) -> Period | None:
    """The period or deadline a sentence names, if any.

    >>> find_period("Thời gian kiểm tra dự kiến trong quý II và III/2018.")
    Period(text='quý II và III/2018', year=2018, quarters=(2, 3))
    >>> find_period("hoàn thành trước ngày 30/6/2019").quarters
    (2,)

    A deadline cue wins over other dates: in "sửa Nghị định 69/2024/NĐ-CP ngày 25 tháng 6 năm
    2024 …, hoàn thành trong tháng 11 năm 2025" the period is November 2025.
    """
    cues = list(_DUE.finditer(text))
    if cues:
        after = _period(text[cues[-1].start():], default_year)
        if after:
            return after
    return _period(text, default_year)


def _period(text: str, default_year: int | None) -> Period | None:
    m = _QUARTERS.search(text)
    if m:
        quarters = sorted({q for token in re.findall(QUARTER_TOKEN, m.group(1))
                           if (q := quarter_number(token))})
        year = int(m.group(2)) if m.group(2) else _year_right_after(text, m.end()) or default_year
        return Period(m.group(0).strip(), year, tuple(quarters))
    m = _HALF.search(text)
    if m:
        year = int(m.group(3)) if m.group(3) else default_year
        quarters = (1, 2) if m.group(2).lower() == "đầu" else (3, 4)
        return Period(m.group(0).strip(), year, quarters)
    m = _DAY_MONTH.search(text)
    if m:
        month = int(m.group(2))
        if 1 <= month <= 12 and 1 <= int(m.group(1)) <= 31:
            year = int(m.group(3)) if m.group(3) else default_year
            return Period(m.group(0).strip(), year, ((month - 1) // 3 + 1,))
    if _DEADLINE_CUE.search(text):
        m = _MONTH.search(text)
        if m and 1 <= int(m.group(1)) <= 12:
            year = int(m.group(2)) if m.group(2) else default_year
            return Period(m.group(0).strip(), year, ((int(m.group(1)) - 1) // 3 + 1,))
    return None


def _year_right_after(text: str, position: int) -> int | None:
    m = re.match(rf"\s*(?:năm\s+)?({YEAR})", text[position:])
    return int(m.group(1)) if m else None
