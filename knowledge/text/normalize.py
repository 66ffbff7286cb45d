"""Unicode normalisation: every text entering the knowledge base goes through :func:`clean_text`."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def to_nfc(text: str) -> str:
    """Compose decomposed diacritics (``"ê" + U+0301`` → ``"ế"``)."""
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """NFC, unified newlines, collapsed runs of spaces, at most one blank line in a row.

    >>> clean_text("Cải\u00a0cách  hành chính\\r\\n\\n\\n\\nxong")
    'Cải cách hành chính\\n\\nxong'
    """
    text = to_nfc(text).replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
