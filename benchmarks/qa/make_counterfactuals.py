"""Counterfactual questions: answerable cchc-dev questions changed so that the corpus no longer
answers them (the unanswerable half of the development set for the decline model).

    .venv/kb/bin/python -m benchmarks.qa.make_counterfactuals            # write the set
    .venv/kb/bin/python -m benchmarks.qa.make_counterfactuals --check    # is the file current?
    .venv/kb/bin/python -m benchmarks.qa.make_counterfactuals --report   # also list every drop

Reads ``../shared/corpus/cchc-dev`` (``qa.jsonl`` and ``docs/``) and writes
``benchmarks/qa/counterfactual.jsonl`` in the format of ``qa.jsonl``: ``id``, ``question``,
``answer`` (``""``), ``answer_kind`` (what the question asks for, copied from its source: the
counterfactual of a số hiệu question is still a số hiệu question), ``doc`` (``null``),
``evidence`` (``""``), plus ``source_id`` (the answerable question it was made from),
``change`` (``year`` | ``place`` | ``number`` | ``index`` | ``agency`` | ``month``),
``changed_from`` and ``changed_to`` (the surface text replaced and its replacement).
Questions are stored once, as written; the folded variant (no diacritics, lower case: what
people type on phones) is made on the fly by ``kb eval --fold``.

How a candidate is made. Each answerable source question that stands alone (not a follow-up: no "…
đó", "Còn …", "Vậy …", "Thế …") is analysed for its *anchors*: years and periods ("năm 2019",
"2019", "giai đoạn 2016-2020"), provinces (``knowledge.lexicon.places``, with and without
diacritics, aliases such as TP.HCM and BR-VT), document numbers ("1576/KH-UBND", "nd 09/2019", "Chỉ
thị số 23"), named indexes (PAR INDEX / Chỉ số CCHC, PAPI, SIPAS, PCI, DTI, ICT Index), agencies (Bộ
…, Sở …, Học viện …) and month-years ("tháng 7/2025"). One anchor is replaced at a time, in the
question's own spelling (a question typed without diacritics gets a replacement without diacritics).
Replacement values come in a deterministic order (nearest years and numbers first: the hardest
negatives; places, indexes and agencies in an order seeded by the source id) and the first one or
two that pass verification are kept.

Verification (a candidate is dropped when any rule fires; ``--report`` lists the drops):

* **gold document**: the new value occurs in the source question's gold document (text and
  header). Years count as occurring when written alone, inside a date ("18/4/2019"), inside a
  number ("09/2019/NĐ-CP"), or inside a range: "2016-2020", "2016 – 2020", wrapped over lines,
  glued ("20112020" where the hyphen was lost), "từ năm 2024 đến 2025", "nhiệm kỳ 2016-2021",
  and "đến năm 2020" (from the document's own year to 2020). A period counts when a range of
  the document covers it.
* **whole corpus**: some document of the 36 holds the new value together with every other
  anchor of the question (e.g. the new year and the province asked about). Places match through
  the place hierarchy: a district names its province, and provinces merged in 2025 stand for
  each other.
* **place**: the new province is named nowhere in the corpus (text, headers, and the source
  address: "baoquangnam.vn" names Quảng Nam) nor in any cchc-dev question — nor its districts,
  nor a province it merged with or into in 2025 —, is not merged with the source's province, and
  is a province for a province, a centrally-run city for a city.
* **number**: the new number occurs nowhere in the corpus as a document number, with or without
  leading zeros: after a document-type word ("Kế hoạch 1577", "KH số 1577", "Chỉ thị 27",
  "Thông báo số 104"); for a number asked with its year ("nd 10/2019", "07/2024/QĐ-UBND") as
  "10/2019" anywhere (a date "08/10/2019" counts too: conservative); for a number asked
  without one ("1577/KH-UBND", "Chỉ thị 25/CT-TTg") before a type code ("1577/KH-UBND",
  "1577/QĐUBND") or a year and a code ("25/2023/CT-TTg"). A number of three digits or more may
  not occur at all.
* **duplicate**: the new question equals a cchc-dev question or an earlier candidate.
* **review**: read by a person against the corpus and rejected (``REVIEW_REJECTED`` below,
  each with its reason): wording that no one would type, an anachronism, or a question the
  corpus still answers in part (e.g. a changed year in a question whose asked fact does not
  depend on it).

Every kept question was read against its source's evidence and gold document (2026-11-28).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import SHARED
from knowledge.lexicon.places import ALIASES, MERGERS_2025, PROVINCES_63, find_places
from knowledge.text.vietnamese import fold_diacritics

logger = logging.getLogger("benchmarks.qa.make_counterfactuals")

DEFAULT_CORPUS = SHARED / "corpus" / "cchc-dev"
DEFAULT_OUT = Path(__file__).resolve().parent / "counterfactual.jsonl"
SEED = 20261128

CHANGES = ("year", "place", "number", "index", "agency", "month")
#: how many counterfactuals of each kind one source question may give
PER_SOURCE = {"year": 2, "place": 2, "number": 1, "index": 2, "agency": 1, "month": 1}
#: years a replacement year may take (the corpus spans 2001-2026)
YEAR_RANGE = (2005, 2026)
CITIES = ("Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ")

#: named indexes: canonical name → (the name put into questions, folded spellings in texts)
INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "PAR INDEX": ("PAR INDEX", ("par index", "par-index", "parindex", "chi so cai cach hanh chinh",
                                "chi so cchc")),
    "PAPI": ("PAPI", ("papi", "hieu qua quan tri va hanh chinh cong")),
    "SIPAS": ("SIPAS", ("sipas", "chi so hai long")),
    "PCI": ("PCI", ("pci", "nang luc canh tranh cap tinh")),
    "DTI": ("DTI", ("dti", "chi so chuyen doi so")),
    "ICT Index": ("ICT Index", ("ict index", "ict-index",
                                "san sang cho phat trien va ung dung cong nghe thong tin")),
}
#: how a question names an index (folded, lower case) → canonical name
_INDEX_IN_QUESTION = re.compile(
    r"(?P<lead>chi so\s+)?(?P<name>cchc|cai cach hanh chinh|par[ -]?index|papi|sipas|pci|dti"
    r"|ict index)(?!\w)")
_INDEX_OF = {"cchc": "PAR INDEX", "cai cach hanh chinh": "PAR INDEX", "par index": "PAR INDEX",
             "par-index": "PAR INDEX", "parindex": "PAR INDEX", "papi": "PAPI", "sipas": "SIPAS",
             "pci": "PCI", "dti": "DTI", "ict index": "ICT Index"}

#: ministries that exist since 1 March 2025, and those of before
MINISTRIES_2025 = (
    "Bộ Nội vụ", "Bộ Xây dựng", "Bộ Tài chính", "Bộ Tư pháp", "Bộ Y tế", "Bộ Công Thương",
    "Bộ Giáo dục và Đào tạo", "Bộ Khoa học và Công nghệ", "Bộ Văn hóa, Thể thao và Du lịch",
    "Bộ Nông nghiệp và Môi trường", "Bộ Ngoại giao", "Bộ Dân tộc và Tôn giáo",
)
MINISTRIES_BEFORE_2025 = (
    "Bộ Nội vụ", "Bộ Xây dựng", "Bộ Tài chính", "Bộ Tư pháp", "Bộ Y tế", "Bộ Công Thương",
    "Bộ Giáo dục và Đào tạo", "Bộ Khoa học và Công nghệ", "Bộ Văn hóa, Thể thao và Du lịch",
    "Bộ Giao thông vận tải", "Bộ Tài nguyên và Môi trường", "Bộ Kế hoạch và Đầu tư",
    "Bộ Thông tin và Truyền thông", "Bộ Nông nghiệp và Phát triển nông thôn", "Bộ Ngoại giao",
)
DEPARTMENTS = (
    "Sở Nội vụ", "Sở Tư pháp", "Sở Tài chính", "Sở Y tế", "Sở Xây dựng", "Sở Công Thương",
    "Sở Giáo dục và Đào tạo", "Sở Khoa học và Công nghệ", "Sở Kế hoạch và Đầu tư",
    "Sở Tài nguyên và Môi trường", "Sở Thông tin và Truyền thông", "Sở Giao thông vận tải",
)
INSTITUTES = ("Học viện Hành chính Quốc gia", "Học viện Chính trị quốc gia Hồ Chí Minh",
              "Trường Đại học Luật Hà Nội")

#: document-type words before a number ("Kế hoạch 1576", "KH số 1576", "nd 09/2019"), folded
_TYPE_WORDS = (r"ke hoach|kh|chi thi|ct|quyet dinh|qd|nghi quyet|nq|nghi dinh|nd|thong tu|tt"
               r"|bao cao|bc|cong van|cv|van ban|thong bao|tb|de an|to trinh|ttr")
_NUMBER_IN_QUESTION = re.compile(
    rf"(?:(?<![\w/])(?P<a>\d{{1,5}})(?=(?:/\d{{4}})?/[a-z])"          # 3616/bc-bnv, 09/2019/nd-cp
    rf"|(?<!\w)(?:{_TYPE_WORDS})\.?\s+(?:so\s+)?(?P<b>\d{{1,5}})(?![\d]))"  # KH 1576, nd 09/2019
    r"(?:/(?P<year>(?:19|20)\d\d)(?!\d))?")
_MONTH_IN_QUESTION = re.compile(r"(?<!\w)(thang)\s+(?P<m>\d{1,2})\s*/\s*(?P<y>\d{4})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
_YEAR_IN_QUESTION = re.compile(r"(?<![\d/])(20[0-4]\d|19[5-9]\d)(?![\d/])")
_RANGE = re.compile(
    r"(?<!\d)(19[5-9]\d|20[0-4]\d)\s*(?:[-–—]+|den nam|den|toi nam|toi)\s*(?:nam\s+)?"
    r"(19[5-9]\d|20[0-4]\d)(?!\d)")
_GLUED_RANGE = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
_UNTIL = re.compile(r"den nam\s+(19[5-9]\d|20[0-4]\d)(?!\d)")
_FOLLOW_UP = re.compile(r"(?:^(?:còn|vậy|thế)\b)|(?:\b(?:đó|ấy)\b)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Folded, lower case, single-spaced: the form every comparison here is made in."""
    return _SPACE.sub(" ", fold_diacritics(text).lower()).strip()


# -- the corpus -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusDoc:
    """One document of the corpus, prepared for the look-ups of the verification rules."""

    id: str
    text: str  # header values and body, single-spaced
    folded: str
    years: frozenset[int]
    ranges: tuple[tuple[int, int], ...]
    provinces: frozenset[str]  # named provinces, districts mapped to theirs, merger partners
    year: int | None = None  # of its date


def merger_group(province: str) -> frozenset[str]:
    """A province with those it merged with or into in 2025 (Bình Dương → HCM, BR-VT, …)."""
    for merged, absorbed in MERGERS_2025.items():
        if province == merged or province in absorbed:
            return frozenset((merged, *absorbed))
    return frozenset((province,))


def year_spans(folded: str, own_year: int | None) -> tuple[set[int], list[tuple[int, int]]]:
    """The years a (folded) text mentions, ranges expanded, and the ranges themselves."""
    years = {int(y) for y in _YEAR.findall(folded)}
    ranges: list[tuple[int, int]] = []
    for pattern in (_RANGE, _GLUED_RANGE):
        for m in pattern.finditer(folded):
            a, b = int(m.group(1)), int(m.group(2))
            if a < b <= a + 30:
                ranges.append((a, b))
    for m in _UNTIL.finditer(folded):
        end = int(m.group(1))
        start = own_year if own_year and own_year <= end else end
        ranges.append((start, end))
    for a, b in ranges:
        years.update(range(a, b + 1))
    return years, ranges


def load_corpus(corpus: Path) -> list[CorpusDoc]:
    """Every document of ``corpus/docs`` (header lines + ``---`` + text)."""
    docs = []
    for path in sorted((corpus / "docs").iterdir()):
        if not path.is_file():
            continue
        raw = path.read_text("utf-8")
        header, sep, body = raw.partition("\n---\n")
        if not sep:
            header, body = "", raw
        # every header value counts, the source address too ("cchc.khanhhoa.gov.vn" names
        # the province that the text itself never names)
        values = [line.split(":", 1)[1].strip() for line in header.splitlines() if ":" in line]
        text = _SPACE.sub(" ", " ".join([*values, body])).strip()
        folded = fold(text)
        date = re.search(r"^date:\s*(\d{4})", header, re.MULTILINE)
        years, ranges = year_spans(folded, int(date.group(1)) if date else None)
        provinces: set[str] = set()
        for mention in find_places(text):
            provinces |= merger_group(mention.province)
        source = re.search(r"^source:\s*(\S+)", header, re.MULTILINE)
        if source:  # "cchc.khanhhoa.gov.vn", "baoquangnam.vn": the text may never say it
            squashed = re.sub(r"[^a-z]+", "", fold(source.group(1)))
            for province in PROVINCES_63:
                if re.sub(r"[^a-z]+", "", fold(province)) in squashed:
                    provinces |= merger_group(province)
        docs.append(CorpusDoc(path.name, text, folded, frozenset(years), tuple(ranges),
                              frozenset(provinces), int(date.group(1)) if date else None))
    return docs


# -- anchors: what a question pins down ---------------------------------------------------------
@dataclass(frozen=True)
class Anchor:
    """One constraint of a question: its kind, canonical value and where it is written."""

    kind: str  # year | period | place | number | index | agency | month
    value: str  # "2019", "2016-2020", "Quảng Trị", "1576", "PAPI", "Bộ Xây dựng", "7/2025"
    start: int
    end: int


def _accent_insensitive(surface: str) -> str:
    """A regex that finds ``surface`` in a (folded) question, with or without its hyphens:
    "Bà Rịa - Vũng Tàu" finds "ba ria vung tau" and "ba ria-vung tau"."""
    parts = [p for p in re.split(r"[\s\-–]+", fold(surface)) if p]
    return r"[\s\-–]*".join(re.escape(p) for p in parts)


def _place_surfaces(province: str) -> list[str]:
    names = [province, *(alias for alias, p in ALIASES.items() if p == province)]
    if province == "Hồ Chí Minh":
        names += ["TP.HCM", "TP HCM", "TPHCM", "HCM"]
    return sorted(set(names), key=len, reverse=True)


def find_anchors(question: str) -> list[Anchor]:
    """The anchors of ``question``, found in its folded form (same character offsets: folding
    keeps one character per character)."""
    q = fold_diacritics(question).lower()
    assert len(q) == len(question)
    found: list[Anchor] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a.start or start >= a.end for a in found)

    for m in _MONTH_IN_QUESTION.finditer(q):
        found.append(Anchor("month", f"{int(m.group('m'))}/{m.group('y')}", m.start("m"),
                            m.end("y")))
    for m in _RANGE.finditer(q):
        a, b = int(m.group(1)), int(m.group(2))
        if a < b and free(m.start(), m.end()):
            found.append(Anchor("period", f"{a}-{b}", m.start(), m.end()))
    for m in _NUMBER_IN_QUESTION.finditer(q):
        group = "a" if m.group("a") else "b"
        if free(m.start(group), m.end(group)):
            # "09/2019": the number of that year; "1576", "24" (24/CT-TTg): a number
            value = str(int(m.group(group))) + (f"/{m.group('year')}" if m.group("year") else "")
            found.append(Anchor("number", value, m.start(group), m.end(group)))
    for m in _YEAR_IN_QUESTION.finditer(q):
        if free(m.start(), m.end()):
            found.append(Anchor("year", m.group(1), m.start(), m.end()))
    for mention in find_places(question):
        province = mention.province
        for surface in [*_place_surfaces(mention.name), *_place_surfaces(province)]:
            m = re.search(rf"(?<!\w){_accent_insensitive(surface)}(?!\w)", q)
            if m and free(m.start(), m.end()):
                found.append(Anchor("place", province, m.start(), m.end()))
                break
    for m in _INDEX_IN_QUESTION.finditer(q):
        name = _INDEX_OF[m.group("name").replace("  ", " ")]
        # "CCHC" alone is the reform, not the index: only "chỉ số CCHC" names PAR INDEX
        if name == "PAR INDEX" and not m.group("lead") and "index" not in m.group("name"):
            continue
        if free(m.start("name"), m.end("name")):
            found.append(Anchor("index", name, m.start("name"), m.end("name")))
    for agency in sorted({*MINISTRIES_2025, *MINISTRIES_BEFORE_2025, *DEPARTMENTS, *INSTITUTES},
                         key=len, reverse=True):
        m = re.search(rf"(?<!\w){_accent_insensitive(agency)}(?!\w)", q)
        if m and free(m.start(), m.end()):
            found.append(Anchor("agency", agency, m.start(), m.end()))
    return sorted(found, key=lambda a: a.start)


# -- does a document hold a value? --------------------------------------------------------------
def _number_pattern(value: str) -> re.Pattern[str]:
    """Where a document names document number ``value`` ("1577", "10/2019"): see module doc."""
    number, _, year = value.partition("/")
    n = rf"(?<![\d.,])0*{number}"
    parts = [rf"(?<!\w)(?:{_TYPE_WORDS})\.?\s*(?:so\s*)?0*{number}(?![\d/])"]
    if year:  # "10/2019", "10/2019/NĐ-CP", "Nghị định số 10/2019"
        parts.append(rf"{n}\s*/\s*{year}(?!\d)")
    else:  # "1577/KH-UBND", "1577/QĐUBND", "25/2023/CT-TTg", "Chỉ thị số 25/…"
        parts += [rf"{n}\s*/\s*[a-z]", rf"{n}\s*/\s*\d{{4}}\s*/",
                  rf"(?<!\w)(?:{_TYPE_WORDS})\.?\s*(?:so\s*)?0*{number}\s*/"]
    if len(number) >= 3:  # a long number may not occur at all
        parts.append(rf"{n}(?![\d]|[.,]\d)")
    return re.compile("|".join(parts))


def doc_has(doc: CorpusDoc, kind: str, value: str) -> bool:
    """Does ``doc`` hold ``value`` (see the module doc for what counts)?"""
    if kind == "year":
        return int(value) in doc.years
    if kind == "period":
        a, b = (int(y) for y in value.split("-"))
        return any(c <= a and b <= d for c, d in doc.ranges)
    if kind == "place":
        return bool(merger_group(value) & doc.provinces)
    if kind == "number":
        return bool(_number_pattern(value).search(doc.folded))
    if kind == "index":
        return any(re.search(rf"(?<!\w){re.escape(s)}(?!\w)", doc.folded)
                   for s in INDEXES[value][1])
    if kind == "agency":
        return re.search(rf"(?<!\w){re.escape(fold(value))}(?!\w)", doc.folded) is not None
    if kind == "month":
        month, year = value.split("/")
        return re.search(rf"(?<!\d)0?{month}\s*/\s*{year}(?!\d)|thang 0?{month} nam {year}(?!\d)",
                         doc.folded) is not None
    raise ValueError(f"unknown anchor kind {kind!r}")


# -- candidates ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A changed question before verification."""

    source: dict
    change: str  # one of CHANGES
    anchor: Anchor
    new_kind: str  # anchor kind of the new value (period for a changed period)
    new_value: str
    question: str
    changed_from: str
    changed_to: str

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", fold(self.new_value)).strip("-")
        return f"cf-{self.source['id']}-{self.change}-{slug}"


def _styled(new: str, old_surface: str) -> str:
    """``new`` written the way the question wrote the old value (no diacritics, lower case)."""
    if fold_diacritics(old_surface) == old_surface and old_surface.lower() == old_surface:
        return fold(new)
    return new


def _replace(question: str, anchors: list[Anchor], new_surface: str) -> str:
    """``question`` with every one of ``anchors`` (the same value, maybe written twice: "Báo cáo
    PAPI 2020 … năm thứ mấy PAPI được công bố?") replaced by ``new_surface``."""
    for anchor in sorted(anchors, key=lambda a: -a.start):
        question = question[:anchor.start] + new_surface + question[anchor.end:]
    return question


def _rng(source_id: str, kind: str) -> random.Random:
    return random.Random(f"{SEED}:{source_id}:{kind}")


def _year_values(year: int) -> Iterator[int]:
    for distance in range(1, 8):
        for y in (year + distance, year - distance):
            if YEAR_RANGE[0] <= y <= YEAR_RANGE[1]:
                yield y


def _number_values(old: str, rng: random.Random) -> Iterator[int]:
    """Numbers near ``old`` (as written: "09" may become "10", "1576" stays four digits)."""
    number, width = int(old), len(old)
    for step in (1, 2, 3, 5, 7, 10, 11, 13, 20):
        signs = [1, -1]
        rng.shuffle(signs)
        for sign in signs:
            n = number + sign * step
            fits = len(str(n)) <= width if old.startswith("0") else len(str(n)) == width
            if n > 0 and fits:
                yield n


def _number_surface(old: str, new: int) -> str:
    width = len(old) if old.startswith("0") else 0
    return str(new).zfill(width)


def _place_pool(province: str) -> list[str]:
    cities = province in CITIES
    return [p for p in PROVINCES_63 if (p in CITIES) == cities and p != province]


def _place_surface(new: str, old_surface: str) -> str:
    old_folded = fold(old_surface)
    if new == "Hồ Chí Minh":
        name = "TP.HCM"
    elif old_folded in ("tp.hcm", "tp hcm", "tphcm") and new in CITIES:
        name = f"TP. {new}"
    else:
        name = new
    return _styled(name, old_surface)


#: the indexes a person would confuse with each other (DTI or ICT Index for a satisfaction
#: survey would read as nonsense, not as a hard question)
INDEX_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "PAR INDEX": ("PAPI", "SIPAS", "PCI"),
    "PAPI": ("PAR INDEX", "SIPAS", "PCI"),
    "SIPAS": ("PAPI", "PAR INDEX", "PCI"),
    "PCI": ("PAPI", "PAR INDEX"),
    "DTI": ("ICT Index", "PAR INDEX"),
    "ICT Index": ("DTI", "PAR INDEX"),
}


def _index_surface(new: str, old_surface: str) -> str:
    name = INDEXES[new][0]
    return name.lower() if old_surface.lower() == old_surface else name


def _agency_pool(agency: str, year: int | None) -> tuple[str, ...]:
    if agency.startswith("Bộ "):
        return MINISTRIES_2025 if year and year >= 2025 else MINISTRIES_BEFORE_2025
    if agency.startswith("Sở "):
        return DEPARTMENTS
    return INSTITUTES


def candidates(source: dict, year: int | None = None) -> Iterator[Candidate]:
    """Every change of ``source`` in the order they are tried (see module doc). ``year``: of
    the time the question is about (its own year, else its gold document's), for agencies that
    existed then."""
    question = source["question"]
    anchors = find_anchors(question)
    years = [int(a.value) for a in anchors if a.kind == "year"]
    year = min(years) if years else year
    present = {(a.kind, a.value) for a in anchors}
    seen: set[tuple[str, str]] = set()
    for anchor in anchors:
        if (anchor.kind, anchor.value) in seen:
            continue
        seen.add((anchor.kind, anchor.value))
        same = [a for a in anchors if (a.kind, a.value) == (anchor.kind, anchor.value)]
        old = question[anchor.start:anchor.end]

        values: list[tuple[str, str, str, str]] = []  # change, new kind, new value, surface
        if anchor.kind == "year":
            values = [("year", "year", str(y), str(y)) for y in _year_values(int(anchor.value))]
        elif anchor.kind == "period":
            a, b = (int(y) for y in anchor.value.split("-"))
            for shift in (b - a + 1, -(b - a + 1), 2 * (b - a + 1), -2 * (b - a + 1)):
                na, nb = a + shift, b + shift
                if YEAR_RANGE[0] <= na and nb <= YEAR_RANGE[1] + 10:
                    surface = re.sub(r"\d{4}(.*)\d{4}", rf"{na}\g<1>{nb}", old)
                    values.append(("year", "period", f"{na}-{nb}", surface))
        elif anchor.kind == "place":
            pool = _place_pool(anchor.value)
            _rng(source["id"], "place").shuffle(pool)
            values = [("place", "place", p, _place_surface(p, old)) for p in pool]
        elif anchor.kind == "number":
            year_part = anchor.value.partition("/")[2]
            values = [("number", "number", f"{n}/{year_part}" if year_part else str(n),
                       _number_surface(old, n))
                      for n in _number_values(old, _rng(source["id"], "number"))]
        elif anchor.kind == "index":
            pool = list(INDEX_NEIGHBOURS[anchor.value])
            _rng(source["id"], "index").shuffle(pool)
            values = [("index", "index", n, _index_surface(n, old)) for n in pool]
        elif anchor.kind == "agency":
            pool = [a for a in _agency_pool(anchor.value, year) if a != anchor.value]
            _rng(source["id"], "agency").shuffle(pool)
            values = [("agency", "agency", a, _styled(a, old)) for a in pool]
        elif anchor.kind == "month":
            month, in_year = (int(x) for x in anchor.value.split("/"))
            for m in sorted(range(1, 13), key=lambda m: (abs(m - month), m)):
                if m != month:
                    values.append(("month", "month", f"{m}/{in_year}",
                                   old.replace(f"{month}/", f"{m}/", 1)))
        for change, new_kind, new_value, surface in values:
            if (new_kind, new_value) not in present:
                yield Candidate(source, change, anchor, new_kind, new_value,
                                _replace(question, same, surface), old, surface)


# -- verification -------------------------------------------------------------------------------
def named_provinces(docs: list[CorpusDoc], questions: list[str]) -> frozenset[str]:
    """Every province the documents or the questions name, with its 2025 merger partners: a
    new province may be none of them."""
    names: set[str] = set().union(*(d.provinces for d in docs))
    for question in questions:
        for mention in find_places(question):
            names |= merger_group(mention.province)
    return frozenset(names)


def verify(candidate: Candidate, docs: dict[str, CorpusDoc], taken: set[str],
           named: frozenset[str]) -> str | None:
    """The reason ``candidate`` is dropped, or None when it passes (module doc: the rules).
    ``taken``: the questions so far (folded); ``named``: :func:`named_provinces`."""
    if fold(candidate.question) in taken:
        return "duplicate"
    gold = docs[candidate.source["doc"]]
    kind, value = candidate.new_kind, candidate.new_value
    if kind == "place":
        old = candidate.anchor.value
        if merger_group(value) & merger_group(old):
            return "place: merged with the source's province in 2025"
        if merger_group(value) & named:
            return "place: named in the corpus (or merged with a province that is)"
    if kind == "number":
        holders = [d.id for d in docs.values() if doc_has(d, "number", value)]
        if holders:
            return f"number: exists in the corpus ({holders[0]})"
    elif doc_has(gold, kind, value):
        return f"{kind}: in the gold document"
    others = [a for a in find_anchors(candidate.question) if (a.kind, a.value) != (kind, value)]
    for doc in docs.values():
        if doc_has(doc, kind, value) and all(doc_has(doc, a.kind, a.value) for a in others):
            return f"{kind}: {doc.id} holds it with every other anchor"
    return None


# -- review ---------------------------------------------------------------------------------------
#: candidates a person read against the corpus and rejected, with the reason; a key
#: "SOURCE:CHANGE" rejects every change of that kind of that source question
REVIEW_REJECTED: dict[str, str] = {
    "q017:year": "the asked fact (the 2011-2015 plan the yearly plan rests on) is still in the "
                 "corpus, and a plan of 2009/2010 resting on a 2011-2015 plan is nonsense",
    "q066:agency": "the số hiệu 3616/BC-BNV says Bộ Nội vụ: another ministry is a contradiction "
                   "no one types, and the report the số hiệu names is in the corpus",
    "q118:agency": "the số hiệu 2102/QĐ-BXD says Bộ Xây dựng: another ministry is a "
                   "contradiction, and the decision the số hiệu names is in the corpus",
    "q095:number": "'Đề án 30' is a nickname in brackets; the rest of the question still "
                   "describes the scheme the corpus holds",
    "q110:number": "'Đề án 06' is a proper name, not a document number; 'Đề án 05' is no "
                   "question anyone asks",
    "q121:month": "the 34 provinces exist from 1 July 2025: other months make a false premise, "
                  "not a plausible question",
}


@dataclass
class Result:
    """The kept questions and, for the report, every dropped candidate with its reason."""

    kept: list[dict] = field(default_factory=list)
    dropped: list[tuple[Candidate, str]] = field(default_factory=list)
    skipped_sources: list[tuple[str, str]] = field(default_factory=list)


def generate(corpus: Path) -> Result:
    """Build the counterfactual set from ``corpus`` (``qa.jsonl`` + ``docs/``)."""
    docs = {d.id: d for d in load_corpus(corpus)}
    sources = [json.loads(line) for line in (corpus / "qa.jsonl").read_text("utf-8").splitlines()
               if line.strip()]
    taken = {fold(q["question"]) for q in sources}
    named = named_provinces(list(docs.values()), [q["question"] for q in sources])
    result = Result()
    for source in sources:
        if not source.get("doc"):
            continue
        if _FOLLOW_UP.search(source["question"]):
            result.skipped_sources.append((source["id"], "follow-up (needs the previous turn)"))
            continue
        kept_per_kind: Counter[str] = Counter()
        for candidate in candidates(source, docs[source["doc"]].year):
            if kept_per_kind[candidate.change] >= PER_SOURCE[candidate.change]:
                continue
            reason = verify(candidate, docs, taken, named)
            review = (REVIEW_REJECTED.get(candidate.id)
                      or REVIEW_REJECTED.get(f"{source['id']}:{candidate.change}"))
            if reason is None and review:
                reason = f"review: {review}"
            if reason:
                result.dropped.append((candidate, reason))
                continue
            taken.add(fold(candidate.question))
            kept_per_kind[candidate.change] += 1
            result.kept.append({
                "id": candidate.id, "question": candidate.question, "answer": "",
                "answer_kind": source.get("answer_kind"), "doc": None, "evidence": "",
                "source_id": source["id"], "change": candidate.change,
                "changed_from": candidate.changed_from, "changed_to": candidate.changed_to,
            })
        if not kept_per_kind:
            result.skipped_sources.append((source["id"], "no anchor could be changed"))
    return result


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the file differs from what the generator makes")
    parser.add_argument("--report", action="store_true", help="list every dropped candidate")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = generate(args.corpus)
    text = to_jsonl(result.kept)
    by_change = Counter(r["change"] for r in result.kept)
    reasons = Counter(reason.split(":")[0] for _, reason in result.dropped)
    logger.info("%d counterfactual questions from %d sources: %s", len(result.kept),
                len({r["source_id"] for r in result.kept}), dict(by_change))
    logger.info("%d candidates dropped: %s", len(result.dropped), dict(reasons))
    if args.report:
        for candidate, reason in result.dropped:
            logger.info("DROP %s | %s | %s", candidate.id, reason, candidate.question)
        for source_id, reason in result.skipped_sources:
            logger.info("SKIP %s | %s", source_id, reason)
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else ""
        if current != text:
            logger.error("%s is not what the generator makes: run it again", args.out)
            return 1
        return 0
    args.out.write_text(text, "utf-8")
    logger.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
