"""Metadata extraction: số hiệu, loại văn bản, ngày ban hành, cơ quan ban hành, người ký,
địa phương, năm, and the documents a text refers to.

Explicit metadata (a header or jsonl fields) always wins; see ``DocumentMeta.merged_over``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from knowledge.lexicon.dates import YEAR_PHRASE_RE, YEAR_RE, parse_dates
from knowledge.lexicon.doc_numbers import NUMBER_RE, find_numbers, type_of_number
from knowledge.lexicon.doc_types import NEWS, type_opening
from knowledge.lexicon.people import PERSON_NAME, UPPER
from knowledge.lexicon.places import find_places
from knowledge.schema import DocumentMeta

_ISSUER = re.compile(
    r"((?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân|HĐND|Hội đồng nhân dân|Sở [" + UPPER
    + r"][\wÀ-ỹ ,]*?"
    r"|Huyện ủy|Tỉnh ủy|Thành ủy|Ban Thường vụ Tỉnh ủy|Thủ tướng Chính phủ|Chính phủ|Bộ Nội vụ"
    r"|Bộ [" + UPPER + r"][\wÀ-ỹ]*(?: [a-zđà-ỹ][\wÀ-ỹ]*)*|Văn phòng Chính phủ)"
    r"(?:\s+(?:tỉnh|thành phố|huyện|thị xã|quận|xã|phường|TP\.?))?"
    r"((?:\s+[" + UPPER + r"][\wÀ-ỹ]*)*))"
    r"\s+(?:vừa\s+|đã\s+|mới\s+)*(?:ban hành|có|ký|phê duyệt|chỉ đạo)",
)
_SIGNER = re.compile(
    r"(?:Chủ tịch|Bí thư|Giám đốc|Bộ trưởng|Thủ tướng|Trưởng ban)[^.;\n]{0,60}?("
    + PERSON_NAME + r")"
    r"\s+(?:đã\s+|vừa\s+)?(?:ký|có|chỉ đạo|ban hành)"
    r"|(?:ký|người ký|KT\.|TM\.)[^.;\n]{0,60}?(?:ông\s+|bà\s+)?(" + PERSON_NAME + r")"
)
_BOILERPLATE = re.compile(
    r"(?i)^(tòa soạn|cổng thông tin|cập nhật|xem với cỡ chữ|đánh giá bài viết|ảnh minh họa|"
    r"trang chủ|tin tức|chi tiết tin|\(?\d{1,2}:\d{2})"
)


_ROLE_LINE = re.compile(
    r"^(?:(?:KT|TM|Q|TL|TUQ)\.\s*)?(?:PHÓ\s+)?(?:CHỦ TỊCH|BỘ TRƯỞNG|THỨ TRƯỞNG|THỦ TƯỚNG|"
    r"GIÁM ĐỐC|BÍ THƯ|CHÁNH VĂN PHÒNG|TRƯỞNG BAN|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|HỘI ĐỒNG NHÂN DÂN|"
    r"BAN THƯỜNG VỤ|CHÍNH PHỦ)[A-ZĐÀ-Ỹ .]*$"
)


def find_signature(text: str) -> tuple[str, str]:
    """(signer, role) from a signature block such as ``KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Trương
    Công Thái``; empty strings when the document has none."""
    lines = [line.strip() for line in text.split("\n")]
    for i, line in enumerate(lines):
        if not _ROLE_LINE.match(line):
            continue
        roles = [line]
        for nxt in lines[i + 1 : i + 5]:
            if not nxt or nxt.startswith("(") or nxt.lower() in ("đã ký", "(đã ký)"):
                continue
            if _ROLE_LINE.match(nxt):
                roles.append(nxt)
                continue
            if re.fullmatch(PERSON_NAME, nxt):
                role = roles[-1].split(".", 1)[-1].strip().capitalize()
                if roles[0].startswith("KT.") and len(roles) > 1:
                    role += f", ký thay {roles[0].split('.', 1)[1].strip().capitalize()}"
                return nxt, role
            break
    return "", ""


_ISSUING = re.compile(r"(?i)\b(?:ban hành|đã có|vừa có|mới có|đã ký|vừa ký|phê duyệt)\b")


def _main_number(text: str, title: str) -> str:
    in_title = find_numbers(title)
    if in_title:
        return in_title[0]
    # A news article names the document it reports on ("UBND tỉnh đã có Quyết định số
    # 1331/QĐ-UBND") and also documents it refers to ("… nêu trong Kế hoạch số 25-KH/HU"):
    # there a "số …" counts only after a verb of issuing in the same sentence.
    news = not type_opening(title + "\n" + text[:200])
    for m in re.finditer(r"(?:số|số hiệu)\s*:?\s*" + NUMBER_RE.pattern, text[:3000],
                         re.IGNORECASE):
        before = re.split(r"[.;\n]", text[max(0, m.start() - 120):m.start()])[-1]
        if not news or _ISSUING.search(before):
            return m.group(1)
    first = find_numbers(text[:600])
    return first[0] if first else ""


def _doc_type(text: str, title: str, number: str) -> str:
    word = type_opening(title + "\n" + text[:200])
    if word:
        return word
    if number:
        return type_of_number(number) or "Văn bản"
    return NEWS


def extract_metadata(text: str, title: str = "") -> DocumentMeta:
    """Best-effort metadata from a document's text.

    >>> meta = extract_metadata("Ngày 13/4/2018, UBND tỉnh đã có Quyết định số 1331/QĐ-UBND ...")
    >>> meta.number, meta.date, meta.doc_type
    ('1331/QĐ-UBND', '2018-04-13', 'Quyết định')
    """
    title = title or _first_line(text)
    number = _main_number(text, title)
    doc_type = _doc_type(text, title, number)
    numbers = find_numbers(text)
    references = tuple(n for n in numbers if n != number)

    dates = parse_dates(text[:4000])
    issued = ""
    if dates:
        anchor = text.find(number) if number else -1
        if anchor >= 0:
            issued = min(dates, key=lambda d: abs(d[0] - anchor))[1].isoformat()
        else:
            issued = dates[0][1].isoformat()

    # the title too: a news article often names its province only there
    places = tuple(dict.fromkeys(p.province for p in find_places(title + "\n" + text)))
    issuer = _issuer(text, places)
    signer, signer_title = find_signature(text)
    signer_match = None if signer else _SIGNER.search(text)
    if signer_match:
        signer = signer_match.group(1) or signer_match.group(2) or ""

    year = _year(title, text, issued)
    return DocumentMeta(
        title=title, number=number, doc_type=doc_type, date=issued, issuer=issuer,
        signer=signer, signer_title=signer_title, places=places, year=year, references=references,
    )


def places_from_source(source: str) -> tuple[str, ...]:
    """Provinces a web address names in its host: a provincial portal is about its province
    (``https://cchc.khanhhoa.gov.vn/…`` → Khánh Hòa, ``cchc.baria-vungtau.gov.vn`` → Bà Rịa -
    Vũng Tàu).

    >>> places_from_source("https://cchc.khanhhoa.gov.vn/vi/viec-can-lam-ngay")
    ('Khánh Hòa',)
    """
    host = urlsplit(source).hostname or "" if source.startswith(("http://", "https://")) else ""
    labels = " ".join(host.replace("-", " ").split("."))
    return tuple(dict.fromkeys(p.province for p in find_places(labels)))


def _first_line(text: str) -> str:
    """The title: the first substantial line that is not portal boilerplate."""
    for line in text.split("\n")[:15]:
        line = line.strip()
        if len(line.split()) >= 5 and len(line) <= 250 and not _BOILERPLATE.match(line):
            return line
    return text.strip().split("\n")[0][:200]


def _issuer(text: str, places: tuple[str, ...]) -> str:
    m = _ISSUER.search(text[:4000])
    if not m:
        return ""
    issuer = re.sub(r"\s+", " ", m.group(1)).strip(" ,")
    tail = (m.group(2) or "").strip()
    if tail:  # keep a trailing proper name only when it is a place, not a person
        found = find_places(tail)
        head = issuer[: len(issuer) - len(tail)].strip()
        issuer = f"{head} {found[0].name}" if found and found[0].start == 0 else head
    issuer = issuer.replace("Ủy ban nhân dân", "UBND").replace("Uỷ ban nhân dân", "UBND")
    if re.search(r"\b(tỉnh|thành phố)$", issuer) and places:
        issuer = f"{issuer} {places[0]}"
    return issuer


def _year(title: str, text: str, issued: str) -> int | None:
    for source in (title, text[:1500]):
        m = YEAR_PHRASE_RE.search(source)
        if m:
            return int(m.group(1))
    if issued:
        return int(issued[:4])
    m = YEAR_RE.search(title)
    return int(m.group(1)) if m else None
