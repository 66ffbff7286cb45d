"""Agencies and units of the administration: the nouns their names open with ("Sở", "Ban",
"UBND huyện …"), the ministries and departments by name ("Bộ Nội vụ", "Sở Y tế"), and the
duties a plan gives them ("chủ trì", "tham mưu")."""

from __future__ import annotations

import functools
import re

from knowledge.text.vietnamese import fold_diacritics

#: Nouns that open the name of a unit or an agency (case matters: "Xã hội" in "Lao động –
#: Thương binh và Xã hội" is not a commune).
ORG_NOUNS: tuple[str, ...] = (
    "Sở", "Ban", "UBND", "Ủy ban", "Uỷ ban", "HĐND", "Văn phòng", "Bộ", "Thanh tra", "Công an",
    "Trung tâm", "Phòng", "Chi cục", "Cục", "Tổng cục", "Đài", "Báo", "Hội", "Kho bạc",
    "Bảo hiểm", "Ngân hàng", "Cục Thuế", "Chi nhánh", "Viện", "Trường", "Bệnh viện",
    "Bộ Chỉ huy", "Đoàn", "Liên đoàn", "Mặt trận", "Tỉnh đoàn", "Huyện ủy", "Tỉnh ủy",
    "Thành ủy", "Đảng ủy", "thị xã", "thành phố", "huyện", "quận", "xã", "phường", "thị trấn",
    "tỉnh",
)
#: An agency named in a sentence (its noun, or the title of the official who heads it).
AGENCY_RE = re.compile(r"\b(?:Sở|Bộ|Ủy ban|Uỷ ban|UBND|HĐND|Văn phòng|Ban|Thanh tra|Cục|Vụ|Phòng|"
                       r"Trung tâm|Chánh Văn phòng|Chánh văn phòng|Giám đốc|Chủ tịch|Hội đồng|"
                       r"Kho bạc|Công an|Cổng)\b")
#: What an agency does in a plan: "Sở Nội vụ **chủ trì**", "Văn phòng **tham mưu**".
DUTY_RE = re.compile(r"\b(?:chủ trì|thường trực|tham mưu|theo dõi|đôn đốc|phụ trách|đầu mối|"
                     r"được giao|giao|hướng dẫn|đề nghị|trình|phối hợp)\b", re.IGNORECASE)
#: Duties as a question asks about them (folded): "cơ quan nào chủ trì …".
FOLDED_DUTIES = ("chu tri", "theo doi", "tham muu", "phu trach", "thuong truc", "dau moi",
                 "don doc", "huong dan", "de nghi")
#: Nouns of a unit a follow-up names ("Còn Sở Tài chính thì sao?").
UNIT_NOUNS = ("Sở", "Ban", "Phòng", "Văn phòng", "Trung tâm", "Chi cục", "Cục", "Bộ",
              "Thanh tra", "Công an", "Kho bạc", "Đài", "Báo")

#: Fields of the ministries (Bộ …) and of the provinces' departments (Sở …), with the short
#: forms texts use ("KH&ĐT", "LĐ-TBXH"), folded.
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "Nội vụ": ("noi vu",),
    "Tư pháp": ("tu phap",),
    "Kế hoạch và Đầu tư": ("ke hoach va dau tu", "kh&dt", "khdt", "kh dt"),
    "Tài chính": ("tai chinh",),
    "Công Thương": ("cong thuong",),
    "Nông nghiệp và Phát triển nông thôn": ("nong nghiep va phat trien nong thon", "nn&ptnt",
                                            "nnptnt"),
    "Nông nghiệp và Môi trường": ("nong nghiep va moi truong", "nn&mt", "nnmt"),
    "Giao thông vận tải": ("giao thong van tai", "gtvt"),
    "Xây dựng": ("xay dung",),
    "Tài nguyên và Môi trường": ("tai nguyen va moi truong", "tn&mt", "tnmt"),
    "Thông tin và Truyền thông": ("thong tin va truyen thong", "tt&tt", "tttt"),
    "Lao động – Thương binh và Xã hội": ("lao dong thuong binh va xa hoi", "ld-tbxh",
                                          "ldtbxh", "ld tbxh"),
    "Văn hóa, Thể thao và Du lịch": ("van hoa the thao va du lich", "vhttdl"),
    "Văn hóa và Thể thao": ("van hoa va the thao",),
    "Khoa học và Công nghệ": ("khoa hoc va cong nghe", "kh&cn", "khcn"),
    "Giáo dục và Đào tạo": ("giao duc va dao tao", "gd&dt", "gddt"),
    "Y tế": ("y te",),
    "Ngoại vụ": ("ngoai vu",),
    "Ngoại giao": ("ngoai giao",),
    "Quốc phòng": ("quoc phong",),
    "Công an": ("cong an",),
    "Dân tộc và Tôn giáo": ("dan toc va ton giao",),
}
#: the nouns a department's name follows
DEPARTMENT_NOUNS = {"so": "Sở", "bo": "Bộ"}


@functools.lru_cache(maxsize=1)
def _department_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    owner = {alias: name for name, aliases in DEPARTMENTS.items() for alias in aliases}
    names = "|".join(re.escape(a).replace(r"\ ", r"[\s,–-]+")
                     for a in sorted(owner, key=len, reverse=True))
    return re.compile(rf"\b(so|bo)\s+({names})(?![\w&])"), owner


def find_agencies(text: str) -> tuple[str, ...]:
    """The ministries and departments ``text`` names, with or without diacritics, in order.

    >>> find_agencies("Sở Nội vụ phối hợp với Sở KH&ĐT và bo xay dung")
    ('Sở Nội vụ', 'Sở Kế hoạch và Đầu tư', 'Bộ Xây dựng')
    """
    pattern, owner = _department_pattern()
    folded = fold_diacritics(text).lower().replace("–", "-")
    found: list[str] = []
    for m in pattern.finditer(folded):
        alias = re.sub(r"[\s,–-]+", " ", m.group(2)) if " " in m.group(2) or "-" in m.group(2) \
            else m.group(2)
        name = owner.get(alias) or owner.get(m.group(2))
        if name is None:
            continue
        agency = f"{DEPARTMENT_NOUNS[m.group(1)]} {name}"
        if agency not in found:
            found.append(agency)
    return tuple(found)
