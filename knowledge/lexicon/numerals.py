"""Roman numerals, as administrative texts number their parts and quarters ("Phần II",
"quý III")."""

from __future__ import annotations

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}

#: A Roman numeral as section headings write it (up to "XXXIX" and a little beyond).
ROMAN = r"[IVXLC]{1,6}"


def roman_to_int(token: str) -> int | None:
    """``"IV"`` → 4, ``"iii"`` → 3; ``None`` for anything that is not a Roman numeral.

    >>> roman_to_int("XIV"), roman_to_int("quý")
    (14, None)
    """
    token = token.strip().upper()
    if not token or any(c not in _VALUES for c in token):
        return None
    total = 0
    for i, c in enumerate(token):
        value = _VALUES[c]
        total += -value if i + 1 < len(token) and _VALUES[token[i + 1]] > value else value
    return total


def int_to_roman(n: int) -> str:
    """``3`` → ``"III"`` (1 ≤ n < 400)."""
    if not 1 <= n < 400:
        raise ValueError(f"Roman numerals are written here for 1..399, got {n}")
    out = []
    for value, letters in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"),
                           (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)
