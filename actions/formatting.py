"""Pure formatting helpers for the actions: Vietnamese texts and quick-reply buttons.

No Rasa and no knowledge-base calls here, so every function is tested on plain data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from knowledge.schema import Document

FEEDBACK_BUTTONS: tuple[dict[str, str], ...] = (
    {"title": "👍 Hữu ích", "payload": "/feedback_positive"},
    {"title": "👎 Chưa hữu ích", "payload": "/feedback_negative"},
)
HELP_BUTTON = {"title": "Tôi có thể hỏi gì?", "payload": "/help"}

# Shown by action_handoff when HANDOFF_CONTACT is not set: a placeholder to configure.
DEFAULT_HANDOFF_CONTACT = ("Bộ phận Một cửa – Văn phòng UBND tỉnh, điện thoại (0232) 3 800 000 "
                           "(giờ hành chính), email motcua@example.gov.vn")

_MAX_PLACES = 6
_MAX_LISTED_YEARS = 6


def join_vi(items: Sequence[str]) -> str:
    """Join with commas and "và": ``["a", "b", "c"]`` → ``"a, b và c"``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} và {items[-1]}"


def describe_years(years: Iterable[int]) -> str:
    """``[2016, 2017, 2018]`` → ``"2016, 2017 và 2018"``; many years → ``"từ 2010 đến 2024"``."""
    ordered = sorted(set(years))
    if len(ordered) > _MAX_LISTED_YEARS:
        return f"từ {ordered[0]} đến {ordered[-1]}"
    return join_vi([str(y) for y in ordered])


def describe_places(documents: Sequence[Document]) -> str:
    """The places the documents are about, most frequent first, at most six named."""
    counts = Counter(p for d in documents for p in dict.fromkeys(d.meta.places))
    names = [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if len(names) > _MAX_PLACES:
        return f"{', '.join(names[:_MAX_PLACES])} và {len(names) - _MAX_PLACES} địa phương khác"
    return join_vi(names)


def knowledge_greeting(documents: Sequence[Document]) -> str:
    """The greeting that says what the knowledge base holds.

    >>> knowledge_greeting([])  # doctest: +ELLIPSIS
    'Xin chào! Tôi là trợ lý tra cứu cải cách hành chính (CCHC)...'
    """
    parts = [f"Hiện tôi có {len(documents)} văn bản"]
    kinds = Counter(d.meta.doc_type.lower() for d in documents if d.meta.doc_type)
    if kinds:
        parts.append(" (" + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()) + ")")
    years = {d.meta.year for d in documents if d.meta.year}
    if years:
        parts.append(f" {'các năm' if len(years) > 1 else 'năm'} {describe_years(years)}")
    places = describe_places(documents)
    if places:
        parts.append(f", về {places}")
    return ("Xin chào! Tôi là trợ lý tra cứu cải cách hành chính (CCHC). " + "".join(parts)
            + ". Tôi trả lời dựa trên các văn bản này và luôn ghi rõ nguồn. Bạn muốn hỏi gì?")


def handoff_message(contact: str, last_question: str | None = None) -> str:
    """Where to reach a person, with the last question to pass on."""
    text = (f"Bạn có thể liên hệ cán bộ phụ trách CCHC: {contact.strip().rstrip('.')}. "
            "Khi liên hệ, bạn nêu rõ câu hỏi và văn bản liên quan để được hỗ trợ nhanh hơn.")
    if last_question:
        text += f"\nCâu hỏi gần nhất của bạn: “{last_question}”"
    return text
