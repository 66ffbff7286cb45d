"""Agencies and units of the administration: the nouns their names open with ("Sở", "Ban",
"UBND huyện …") and the duties a plan gives them ("chủ trì", "tham mưu")."""

from __future__ import annotations

import re

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
