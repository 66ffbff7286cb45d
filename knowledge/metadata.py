"""Metadata extraction: số hiệu, loại văn bản, ngày ban hành, cơ quan ban hành, người ký,
địa phương, năm, and the documents a text refers to.

Explicit metadata (a header or jsonl fields) always wins; see ``DocumentMeta.merged_over``.
"""

from __future__ import annotations

import re
from datetime import date

from knowledge.places import find_places
from knowledge.schema import DocumentMeta

#: Code inside a số hiệu → loại văn bản ("1331/QĐ-UBND" → Quyết định).
TYPE_CODES: dict[str, str] = {
    "QĐ": "Quyết định", "QD": "Quyết định", "CT": "Chỉ thị", "KH": "Kế hoạch",
    "NQ": "Nghị quyết", "NĐ": "Nghị định", "TT": "Thông tư", "BC": "Báo cáo",
    "TB": "Thông báo", "HD": "Hướng dẫn", "CTr": "Chương trình", "KL": "Kết luận",
    "QH": "Luật", "CV": "Công văn", "TTr": "Tờ trình", "QC": "Quy chế", "ĐA": "Đề án",
}
#: Words that open a document's title → loại văn bản.
TYPE_WORDS: tuple[str, ...] = (
    "Quyết định", "Chỉ thị", "Kế hoạch", "Công văn", "Nghị quyết", "Nghị định", "Thông tư",
    "Báo cáo", "Thông báo", "Hướng dẫn", "Chương trình", "Kết luận", "Luật", "Đề án", "Quy chế",
)

#: Vietnamese capitals: "Hoài Ân", "Lê Văn Út" start words with Â, Ú, … ([A-Z] misses them)
_UPPER = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_CODE = r"[A-ZĐ][A-Za-zĐđ]*"
NUMBER_RE = re.compile(
    r"(?<![\w/])(\d{1,5}(?:/\d{4})?[/-]" + _CODE + r"(?:[-/]" + _CODE + r"\d*)*)(?![\w/])"
)
_DATE_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d{2})(?!\d)")
_DATE_WORDS = re.compile(
    r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})", re.IGNORECASE
)
_YEAR_PHRASE = re.compile(r"năm\s+((?:19|20)\d{2})(?!\d)", re.IGNORECASE)
_ISSUER = re.compile(
    r"((?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân|HĐND|Hội đồng nhân dân|Sở [" + _UPPER
    + r"][\wÀ-ỹ ,]*?"
    r"|Huyện ủy|Tỉnh ủy|Thành ủy|Ban Thường vụ Tỉnh ủy|Thủ tướng Chính phủ|Chính phủ|Bộ Nội vụ"
    r"|Bộ [" + _UPPER + r"][\wÀ-ỹ]*(?: [a-zđà-ỹ][\wÀ-ỹ]*)*|Văn phòng Chính phủ)"
    r"(?:\s+(?:tỉnh|thành phố|huyện|thị xã|quận|xã|phường|TP\.?))?"
    r"((?:\s+[" + _UPPER + r"][\wÀ-ỹ]*)*))"
    r"\s+(?:vừa\s+|đã\s+|mới\s+)*(?:ban hành|có|ký|phê duyệt|chỉ đạo)",
)
SURNAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đoàn Trương Lâm "
    "Mai Tô Hà Cao Lương Tạ Châu Thái Quách Lưu Kiều Triệu Vương Chu Đào Văn Tôn Phùng Nông Lò"
).split()
_PERSON = r"(?:" + "|".join(SURNAMES) + r")(?:[ \t]+[" + _UPPER + r"][a-zà-ỹđ]+){1,3}"
_SIGNER = re.compile(
    r"(?:Chủ tịch|Bí thư|Giám đốc|Bộ trưởng|Thủ tướng|Trưởng ban)[^.;\n]{0,60}?(" + _PERSON + r")"
    r"\s+(?:đã\s+|vừa\s+)?(?:ký|có|chỉ đạo|ban hành)"
    r"|(?:ký|người ký|KT\.|TM\.)[^.;\n]{0,60}?(?:ông\s+|bà\s+)?(" + _PERSON + r")"
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
            if re.fullmatch(_PERSON, nxt):
                role = roles[-1].split(".", 1)[-1].strip().capitalize()
                if roles[0].startswith("KT.") and len(roles) > 1:
                    role += f", ký thay {roles[0].split('.', 1)[1].strip().capitalize()}"
                return nxt, role
            break
    return "", ""


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


#: Issuer codes that follow a type code in a số hiệu ("QĐ-UBND", "TT-BTC"), and "LT" (liên
#: tịch): what may stand glued to the type code when PDF extraction lost the hyphen.
ISSUER_CODES = frozenset(
    "UBND HĐND CP TTG VPCP TU HU BNV BTC BCT BYT BNN BNNMT BKHĐT BCA BQP BGDĐT BTP BTTTT BXD "
    "BGTVT BLĐTBXH BVHTTDL BTNMT LT".split())


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


def parse_dates(text: str) -> list[tuple[int, date]]:
    """(position, date) for every valid date written as ``13/4/2018`` or ``ngày 13 tháng 4 năm
    2018``, in order of appearance."""
    out = []
    for pattern in (_DATE_NUMERIC, _DATE_WORDS):
        for m in pattern.finditer(text):
            d, mth, y = (int(g) for g in m.groups())
            try:
                out.append((m.start(), date(y, mth, d)))
            except ValueError:
                continue
    return sorted(out)


_ISSUING = re.compile(r"(?i)\b(?:ban hành|đã có|vừa có|mới có|đã ký|vừa ký|phê duyệt)\b")


def _main_number(text: str, title: str) -> str:
    in_title = find_numbers(title)
    if in_title:
        return in_title[0]
    # A news article names the document it reports on ("UBND tỉnh đã có Quyết định số
    # 1331/QĐ-UBND") and also documents it refers to ("… nêu trong Kế hoạch số 25-KH/HU"):
    # there a "số …" counts only after a verb of issuing in the same sentence.
    news = not _type_word(title + "\n" + text[:200])
    for m in re.finditer(r"(?:số|số hiệu)\s*:?\s*" + NUMBER_RE.pattern, text[:3000],
                         re.IGNORECASE):
        before = re.split(r"[.;\n]", text[max(0, m.start() - 120):m.start()])[-1]
        if not news or _ISSUING.search(before):
            return m.group(1)
    first = find_numbers(text[:600])
    return first[0] if first else ""


def _type_word(head: str) -> str:
    """The loại văn bản ``head`` opens with ("Quyết định về …"), or ""."""
    head = head.strip()
    return next((word for word in TYPE_WORDS
                 if re.match(re.escape(word) + r"\b", head, re.IGNORECASE)), "")


def _doc_type(text: str, title: str, number: str) -> str:
    word = _type_word(title + "\n" + text[:200])
    if word:
        return word
    if number:
        return type_of_number(number) or "Văn bản"
    return "Tin tức"


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

    places = tuple(dict.fromkeys(p.province for p in find_places(text)))
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
        m = _YEAR_PHRASE.search(source)
        if m:
            return int(m.group(1))
    if issued:
        return int(issued[:4])
    m = re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", title)
    return int(m.group(0)) if m else None
