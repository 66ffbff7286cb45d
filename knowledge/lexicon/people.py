"""Vietnamese personal names and the titles officials sign with."""

from __future__ import annotations

import re

#: Vietnamese capitals: "Hoài Ân", "Lê Văn Út" start words with Â, Ú, … ([A-Z] misses them)
UPPER = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"

SURNAMES: tuple[str, ...] = tuple(
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đoàn Trương Lâm "
    "Mai Tô Hà Cao Lương Tạ Châu Thái Quách Lưu Kiều Triệu Vương Chu Đào Văn Tôn Phùng Nông Lò"
    .split())

#: A full name: a known surname and one to three capitalised given names.
PERSON_NAME = r"(?:" + "|".join(SURNAMES) + r")(?:[ \t]+[" + UPPER + r"][a-zà-ỹđ]+){1,3}"
PERSON_NAME_RE = re.compile(r"\b" + PERSON_NAME)
#: "ông Nguyễn Văn A", "đồng chí Trần Thị B"
ADDRESSED_PERSON_RE = re.compile(
    r"(?:ông|bà|đồng chí)\s+([A-ZĐ][a-zà-ỹđ]+(?:\s+[A-ZĐ][a-zà-ỹđ]+){1,3})")

#: Titles of the officials who lead, sign or are assigned.
ROLE_TITLES: tuple[str, ...] = (
    "Chủ tịch", "Phó Chủ tịch", "Giám đốc", "Phó Giám đốc", "Bộ trưởng", "Thứ trưởng",
    "Thủ tướng", "Phó Thủ tướng", "Chánh Văn phòng", "Chánh văn phòng", "Trưởng ban",
    "Trưởng phòng", "Bí thư", "Chủ nhiệm", "Tổng cục trưởng", "Cục trưởng", "Vụ trưởng",
)
ROLE_RE = re.compile(r"\b(?:" + "|".join(sorted(ROLE_TITLES, key=len, reverse=True)) + r")\b")
