"""Named indices and programmes that rank provinces and agencies: PAR INDEX, SIPAS, PAPI, PCI…

A question about one index is never answered from a sentence about another ("PAR INDEX 2022
xếp thứ mấy?" is not answered by the PAPI rank), so every mention is recognised here, with or
without diacritics, by its acronym or its Vietnamese name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from knowledge.text.vietnamese import fold_diacritics


@dataclass(frozen=True)
class NamedIndex:
    """An index: its usual name, its Vietnamese name, and how texts write it (folded)."""

    name: str
    full_name: str
    aliases: tuple[str, ...]


INDICES: tuple[NamedIndex, ...] = (
    NamedIndex("PAR INDEX", "Chỉ số cải cách hành chính",
               ("par index", "par-index", "parindex", "chi so cai cach hanh chinh",
                "chi so cchc")),
    NamedIndex("SIPAS", "Chỉ số hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan "
               "hành chính nhà nước", ("sipas", "chi so hai long")),
    NamedIndex("PAPI", "Chỉ số hiệu quả quản trị và hành chính công cấp tỉnh",
               ("papi", "chi so hieu qua quan tri va hanh chinh cong",
                "hieu qua quan tri va hanh chinh cong")),
    NamedIndex("PCI", "Chỉ số năng lực cạnh tranh cấp tỉnh",
               ("pci", "nang luc canh tranh cap tinh")),
    NamedIndex("DDCI", "Chỉ số năng lực cạnh tranh cấp sở, ban, ngành và địa phương",
               ("ddci", "nang luc canh tranh cap so")),
    NamedIndex("ICT INDEX", "Chỉ số sẵn sàng cho phát triển và ứng dụng công nghệ thông tin",
               ("ict index", "ict-index", "vietnam ict index",
                "san sang cho phat trien va ung dung cong nghe thong tin")),
    NamedIndex("DTI", "Chỉ số chuyển đổi số", ("dti", "chi so chuyen doi so")),
    NamedIndex("PGI", "Chỉ số xanh cấp tỉnh", ("pgi", "chi so xanh cap tinh")),
)

#: Acronym → Vietnamese name, for expanding questions and documents alike.
INDEX_EXPANSIONS: dict[str, str] = {
    index.aliases[0]: index.full_name.lower() for index in INDICES
}


@functools.lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    owner = {alias: index.name for index in INDICES for alias in index.aliases}
    alternatives = "|".join(re.escape(a).replace(r"\ ", r"\s+")
                            for a in sorted(owner, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), owner


def find_indices(text: str) -> tuple[str, ...]:
    """The indices ``text`` names, in order of first mention.

    >>> find_indices("Chỉ số PAR INDEX và chỉ số hài lòng (SIPAS) năm 2022")
    ('PAR INDEX', 'SIPAS')
    >>> find_indices("xep hang papi cua binh duong")
    ('PAPI',)
    """
    pattern, owner = _pattern()
    folded = fold_diacritics(text).lower()
    found: list[str] = []
    for m in pattern.finditer(folded):
        name = owner[" ".join(m.group(0).split())]
        if name not in found:
            found.append(name)
    return tuple(found)
