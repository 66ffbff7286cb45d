"""Pure text helpers shared by the channels: split long answers, render buttons as text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Where a message may be cut, best first: a paragraph break, a line break, the end of a
# sentence (., !, ?, …, ; or : followed by white space), any white space.
_BOUNDARIES: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…;:])\s+"),
    re.compile(r"\s+"),
)


def split_message(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, cutting at natural boundaries.

    A part ends at the last paragraph break that fits; failing that (or when that would leave a
    part shorter than a third of the limit) at a line break, then a sentence end, then white
    space; a single unbroken run longer than the limit is cut hard. Parts are stripped, empty
    parts dropped, and no text other than white space at the cuts is lost.

    Example:
        >>> split_message("Câu một. Câu hai dài hơn.", 12)
        ['Câu một.', 'Câu hai dài', 'hơn.']
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    parts: list[str] = []
    rest = text.strip()
    min_part = max(1, limit // 3)
    while len(rest) > limit:
        cut_end, next_start = _find_cut(rest, limit, min_part)
        part = rest[:cut_end].rstrip()
        if part:
            parts.append(part)
        rest = rest[next_start:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _find_cut(text: str, limit: int, min_part: int) -> tuple[int, int]:
    """(end of this part, start of the next) for the best boundary within ``limit``."""
    window = text[: limit + 1]  # a separator may start right at index ``limit``
    for pattern in _BOUNDARIES:
        best: re.Match[str] | None = None
        for match in pattern.finditer(window):
            if match.start() > limit:
                break
            if match.start() >= min_part:
                best = match
        if best is not None:
            return best.start(), best.end()
    return limit, limit


def render_buttons(text: str, buttons: Iterable[Mapping[str, Any]]) -> str:
    """Append buttons (Rasa quick replies) to ``text`` as numbered lines.

    Example:
        >>> render_buttons("Bạn muốn hỏi năm nào?", [{"title": "2018"}, {"title": "2019"}])
        'Bạn muốn hỏi năm nào?\\n1. 2018\\n2. 2019'
    """
    lines = [text.rstrip()] if text and text.strip() else []
    for number, button in enumerate(buttons, start=1):
        title = str(button.get("title") or button.get("payload") or "").strip()
        lines.append(f"{number}. {title}")
    return "\n".join(lines)


def choice_payload(text: str, buttons: list[Mapping[str, Any]]) -> str | None:
    """The payload of the button whose number the user typed ("2" → the 2nd button), if any."""
    stripped = text.strip().rstrip(".")
    if not stripped.isdigit():
        return None
    index = int(stripped) - 1
    if 0 <= index < len(buttons):
        button = buttons[index]
        return str(button.get("payload") or button.get("title") or "") or None
    return None
