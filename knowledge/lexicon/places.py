"""Vietnamese place names: the 63 provinces, the 34 after the 2025 merger, and districts.

Used for metadata (địa phương of a document) and for the place filter in questions.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from knowledge.text.vietnamese import fold_diacritics

#: The 63 provinces and centrally-run cities before 1 July 2025.
PROVINCES_63: tuple[str, ...] = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh", "Bến Tre",
    "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Cần Thơ",
    "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang",
    "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên",
    "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai",
    "Long An", "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên",
    "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La",
    "Tây Ninh", "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Tiền Giang",
    "Hồ Chí Minh", "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)

#: Nghị quyết 202/2025/QH15: merged province → the provinces it absorbed (34 from 1 July 2025).
MERGERS_2025: dict[str, tuple[str, ...]] = {
    "Tuyên Quang": ("Hà Giang",), "Lào Cai": ("Yên Bái",), "Thái Nguyên": ("Bắc Kạn",),
    "Phú Thọ": ("Vĩnh Phúc", "Hòa Bình"), "Bắc Ninh": ("Bắc Giang",), "Hưng Yên": ("Thái Bình",),
    "Hải Phòng": ("Hải Dương",), "Ninh Bình": ("Hà Nam", "Nam Định"), "Quảng Trị": ("Quảng Bình",),
    "Đà Nẵng": ("Quảng Nam",), "Quảng Ngãi": ("Kon Tum",), "Gia Lai": ("Bình Định",),
    "Khánh Hòa": ("Ninh Thuận",), "Lâm Đồng": ("Đắk Nông", "Bình Thuận"), "Đắk Lắk": ("Phú Yên",),
    "Hồ Chí Minh": ("Bình Dương", "Bà Rịa - Vũng Tàu"), "Đồng Nai": ("Bình Phước",),
    "Tây Ninh": ("Long An",), "Cần Thơ": ("Sóc Trăng", "Hậu Giang"),
    "Vĩnh Long": ("Bến Tre", "Trà Vinh"), "Đồng Tháp": ("Tiền Giang",), "Cà Mau": ("Bạc Liêu",),
    "An Giang": ("Kiên Giang",),
}

#: Other spellings people use → canonical province name.
ALIASES: dict[str, str] = {
    "TP.HCM": "Hồ Chí Minh", "TPHCM": "Hồ Chí Minh", "TP HCM": "Hồ Chí Minh",
    "Sài Gòn": "Hồ Chí Minh", "Huế": "Thừa Thiên Huế", "BR-VT": "Bà Rịa - Vũng Tàu",
    "Bà Rịa – Vũng Tàu": "Bà Rịa - Vũng Tàu", "Bà Rịa-Vũng Tàu": "Bà Rịa - Vũng Tàu",
    "Vũng Tàu": "Bà Rịa - Vũng Tàu", "Đắc Lắc": "Đắk Lắk", "Daklak": "Đắk Lắk",
    "Thanh Hoá": "Thanh Hóa", "Khánh Hoà": "Khánh Hòa", "Hoà Bình": "Hòa Bình",
}

#: District-level units → their province (pre-2025), for documents that name only districts.
DISTRICTS: dict[str, str] = {
    "Ba Đồn": "Quảng Bình", "Tuyên Hóa": "Quảng Bình", "Quảng Trạch": "Quảng Bình",
    "Bố Trạch": "Quảng Bình", "Quảng Ninh": "Quảng Bình", "Lệ Thủy": "Quảng Bình",
    "Minh Hóa": "Quảng Bình",
    "Đồng Hới": "Quảng Bình", "Tân Hiệp": "Kiên Giang", "Hoài Ân": "Bình Định",
    "Cát Tiên": "Lâm Đồng", "Đạ Tẻh": "Lâm Đồng", "Đạ Huoai": "Lâm Đồng", "Di Linh": "Lâm Đồng",
    "Đức Trọng": "Lâm Đồng", "Đơn Dương": "Lâm Đồng", "Bảo Lộc": "Lâm Đồng", "Đà Lạt": "Lâm Đồng",
}


@dataclass(frozen=True)
class PlaceMention:
    name: str  # canonical province (or district) name
    province: str  # the province it belongs to
    start: int


def _pattern(name: str) -> str:
    return r"\s*[-–]?\s*".join(re.escape(part) for part in name.replace(" - ", " ").split())


_SQUASH = re.compile(r"[\s\-–]+")


def _squash(text: str) -> str:
    """Folded, lower-cased, without spaces or hyphens: a place can only match ``text`` when its
    own squashed name occurs in ``_squash(text)`` (a cheap test before the regular expression)."""
    return _SQUASH.sub("", fold_diacritics(text).lower())


@functools.lru_cache(maxsize=1)
def _matchers() -> list[tuple[re.Pattern[str], str, str, str]]:
    entries: list[tuple[str, str, str]] = []
    for province in PROVINCES_63:
        entries.append((province, province, province))
    for alias, province in ALIASES.items():
        entries.append((alias, province, province))
    for district, province in DISTRICTS.items():
        entries.append((district, district, province))
    out = []
    for surface, name, province in sorted(entries, key=lambda e: -len(e[0])):
        key = _squash(surface)
        out.append((re.compile(r"(?<!\w)" + _pattern(surface) + r"(?!\w)"), name, province, key))
        # "QuangBinh Portal", "quang binh": diacritic-free and run-together spellings
        folded = fold_diacritics(surface)
        out.append((re.compile(r"(?<!\w)" + _pattern(folded).replace(r"\s*", r"\s?") + r"(?!\w)",
                               re.IGNORECASE if " " in surface else 0), name, province, key))
    return out


#: "huyện X", or X inside a list of districts: "các huyện Tuyên Hóa, Quảng Trạch, Quảng Ninh"
_DISTRICT_BEFORE = re.compile(
    r"(?:huyện|quận|thị xã|huyen|quan)\s+(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*)*"
    r"\s*(?:,|và)\s*)*$",
    re.IGNORECASE,
)


def find_places(text: str) -> list[PlaceMention]:
    """Places mentioned in ``text``, in order of appearance, each once.

    >>> [p.name for p in find_places("UBND thị xã Ba Đồn, tỉnh Quảng Bình")]
    ['Ba Đồn', 'Quảng Bình']
    """
    seen: dict[str, PlaceMention] = {}
    taken: list[tuple[int, int]] = []
    squashed = _squash(text)
    for pattern, name, province, key in _matchers():
        if key not in squashed:
            continue
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            before = text[max(0, m.start() - 80): m.start()]
            if name == province and _DISTRICT_BEFORE.search(before):
                # "huyện Quảng Ninh" (Quảng Bình) is not the province Quảng Ninh: the district
                # when it is known, else nothing
                taken.append((m.start(), m.end()))
                if name in DISTRICTS and name not in seen:
                    seen[name] = PlaceMention(name, DISTRICTS[name], m.start())
                continue
            taken.append((m.start(), m.end()))
            if name not in seen or m.start() < seen[name].start:
                seen[name] = PlaceMention(name, province, m.start())
    return sorted(seen.values(), key=lambda p: p.start)


def current_province(province: str) -> str:
    """The province that ``province`` belongs to since the 2025 merger (itself if unchanged)."""
    for merged, absorbed in MERGERS_2025.items():
        if province in absorbed:
            return merged
    return province


def same_place(asked: str, mentioned: str) -> bool:
    """Does a document about ``mentioned`` answer a question about ``asked``? True for the same
    province, and for a province merged in 2025 into the one asked about ("Quảng Trị" today
    includes the former Quảng Bình)."""
    a, m = fold_diacritics(asked).lower(), fold_diacritics(mentioned).lower()
    if a == m:
        return True
    return fold_diacritics(current_province(mentioned)).lower() == a
