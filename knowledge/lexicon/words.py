"""Words of questions and documents that carry no retrieval signal, question words, and the
abbreviations administrative Vietnamese uses (expanded alike in questions and documents)."""

from __future__ import annotations

from knowledge.lexicon.indices import INDEX_EXPANSIONS
from knowledge.text.vietnamese import fold_diacritics

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
    **INDEX_EXPANSIONS,
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

#: Question words and fillers of a question, compared diacritic-free.
QUESTION_WORDS: frozenset[str] = frozenset(
    "nao gi bao nhieu may ai khong dau nhung cac la duoc thi sao vay hoi cho biet toi ban xin o"
    .split())

#: The question words themselves, as typed with diacritics ("đâu", not "đầu" in "bắt đầu").
MARKED_QUESTION_WORDS: frozenset[str] = frozenset({"nào", "ai", "gì", "mấy", "đâu"})

#: How question words are spelt when a question typed without diacritics is restored:
#: documents seldom ask, so the corpus alone would read "số may" as "số máy".
QUESTION_SPELLINGS: dict[str, str] = {
    "nao": "nào", "gi": "gì", "may": "mấy", "dau": "đâu", "khong": "không", "sao": "sao",
    "de": "để", "dung": "dùng", "ai": "ai", "o": "ở", "nhieu": "nhiêu", "chua": "chưa",
    "the": "thế", "vay": "vậy", "thi": "thì", "con": "còn",
}
