"""Vietnamese-specific lexical knowledge: diacritic folding, abbreviations, stop-words."""

from __future__ import annotations

import re
import unicodedata

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def fold_diacritics(text: str) -> str:
    """Strip Vietnamese diacritics: ``"Quảng Bình"`` → ``"Quang Binh"``."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    )


_VI_MARKED = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]",
                        re.IGNORECASE)


def has_diacritics(text: str) -> bool:
    """True when ``text`` carries Vietnamese diacritics (so it was not typed "không dấu")."""
    return bool(_VI_MARKED.search(text))


#: Abbreviation → expansion. Both directions are used: queries and documents are expanded
#: alike, so "CCHC" in a question finds "cải cách hành chính" in a document and vice versa.
ABBREVIATIONS: dict[str, str] = {
    "cchc": "cải cách hành chính",
    "tthc": "thủ tục hành chính",
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "hdnd": "hội đồng nhân dân",
    "vbqppl": "văn bản quy phạm pháp luật",
    "dvc": "dịch vụ công",
    "dvctt": "dịch vụ công trực tuyến",
    "cbcc": "cán bộ công chức",
    "cbccvc": "cán bộ công chức viên chức",
    "bcđ": "ban chỉ đạo",
    "bcd": "ban chỉ đạo",
    "cntt": "công nghệ thông tin",
    "qđ": "quyết định",
    "kh": "kế hoạch",
    "ct": "chỉ thị",
    "nq": "nghị quyết",
    "nđ": "nghị định",
    "tt": "thông tư",
    "ttg": "thủ tướng",
    "lđ-tbxh": "lao động thương binh và xã hội",
    "lđtbxh": "lao động thương binh và xã hội",
    "par index": "chỉ số cải cách hành chính",
    "sipas": "chỉ số hài lòng",
    "papi": "chỉ số hiệu quả quản trị và hành chính công",
}

#: Function words that carry no retrieval signal in questions (kept in documents' text).
STOPWORDS: frozenset[str] = frozenset(
    """
    à ạ ai bao_nhiêu bị bởi cả các cái cần cho chưa có có_phải của cùng cũng đã đang đâu đây để
    đến được gì hay hãy hoặc khi không là làm lại lên mà mấy mình một này nào nên nếu nhé nhỉ
    những nữa ở ra rằng rồi sao sẽ tại theo thì thế_nào trong từ và vào vậy về với vì xin
    ơi ạ bạn cho_biết cho_tôi tôi muốn hỏi biết thể
    """.split()
)

#: The one-syllable stop-words without diacritics, for comparing folded text.
FOLDED_STOPWORDS: frozenset[str] = frozenset(fold_diacritics(w) for w in STOPWORDS if "_" not in w)
