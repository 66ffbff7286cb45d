"""Vietnamese text operations: diacritic folding and its detection.

The vocabulary itself (abbreviations, stop-words, question words) is in :mod:`knowledge.lexicon`.
"""

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
