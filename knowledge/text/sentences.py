"""The one sentence splitter: passages of administrative text → sentences with their spans.

A list stays one unit with its lead-in line ("…gồm:" + "- A;" + "- B"); lines hard-wrapped at a
fixed width (legal texts copied from web pages) are joined back into their sentences; a "1."
or "TP." does not end a sentence. Every sentence keeps the character span it covers in the
text that was split, so an answer can point at its evidence without searching for it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIST_LINE = re.compile(r"^(?:[-+•*–]|\d{1,2}[.)]|[a-zđ][.)])\s+")
_HEADING_LINE = re.compile(
    r"^(?:(?:Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC|Điều)\s+[IVXLC\d]+[a-z]?\b|[IVX]{1,5}\s*[.\-–]\s)")
#: Opening words of a legal preamble clause ("Căn cứ …, / Ủy ban nhân dân tỉnh ban hành …").
_PREAMBLE = re.compile(r"^(?:Căn cứ|Thực hiện|Theo đề nghị|Xét đề nghị|Theo)\b")
TERMINAL = ".:;!?"
_ABBREVIATION_END = re.compile(r"\b(?:TP|Tp|TX|Tx|TT|Q|P|X|H|ThS|TS|PGS|GS|Th\.S|St|Ths)\.$")
_MARKER = re.compile(r"\(?(?:\d{1,2}|[IVX]{1,5}|[a-zđ])[.)]")
#: Where a sentence ends inside one line of running text.
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ0-9\"“(])")
#: Where a sentence ends in running text: terminal punctuation before a space or line break,
#: or a blank line.
_SENTENCE_BOUNDARY = re.compile(r"[.;:!?](?=\s)|\n\s*\n")
_ENDS_SENTENCE = re.compile(r"(?:[.;:!?]\s*|\n\s*\n\s*)$")
_MARKER_RANK = {"digit": 3, "letter": 2, "dash": 1}
_FIRST_LETTER = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as read (wrapped lines joined by a space, list items on their own lines) and
    the span ``[start, end)`` it covers in the text it was split from."""

    text: str
    start: int
    end: int


def is_heading(line: str) -> bool:
    """A title or section heading line: mostly capitals, or a short numbered heading."""
    letters = [c for c in line if c.isalpha()]
    if not letters:
        return True  # table rules and cell separators ("|", "-------")
    if sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return True
    return bool(len(line.split()) <= 8 and (_HEADING_LINE.match(line) or LIST_LINE.match(line)))


def marker_kind(line: str) -> str:
    """The kind of list marker a line opens with: "1." → digit, "a)" → letter, "-" → dash."""
    m = LIST_LINE.match(line)
    if not m:
        return ""
    head = m.group(0)[0]
    return "digit" if head.isdigit() else "letter" if head.isalpha() else "dash"


def _first_letter(line: str) -> str:
    m = _FIRST_LETTER.search(line)
    return m.group(0) if m else ""


def _hard_wrapped(lines: list[str]) -> bool:
    """Is this text wrapped at a fixed width (sentences continue on the next line)? Seen when
    several lines end without punctuation and the next one goes on in lower case."""
    breaks = sum(1 for a, b in zip(lines, lines[1:], strict=False)
                 if a and b and a[-1] not in TERMINAL and _first_letter(b).islower()
                 and not LIST_LINE.match(b))
    return breaks >= 2 or (breaks >= 1 and len(lines) <= 4)


def _continues(prev_unit: str, prev_line: str, line: str, wrapped: bool, blank: bool) -> bool:
    """Does ``line`` continue the sentence that ``prev_line`` (the end of ``prev_unit``) cut?"""
    if prev_line[-1:] in TERMINAL or LIST_LINE.match(line):
        return False
    first = _first_letter(line)
    if not first or not line[:1].isalnum() and line[:1] not in "(\"“'":
        return False  # table debris ("|", "-----")
    if first.islower():
        return True  # "…kế hoạch cải cách" / "hành chính năm 2019"
    if blank or is_heading(prev_line):
        return False
    if first.isdigit():
        return True  # "…ngày" / "29/3/2012 của Ủy ban nhân dân tỉnh"
    if not wrapped:
        return False
    # "…tỉnh Tuyên" / "Quang giai đoạn"; but a preamble clause ends at its comma:
    # "Căn cứ …," / "Ủy ban nhân dân tỉnh ban hành kế hoạch …"
    return not (prev_line.endswith(",") and _PREAMBLE.match(prev_unit))


def _extends_list(unit: str, prev_line: str, line: str) -> bool:
    """Does ``line`` belong to the list that ``unit`` announces ("…gồm:" / "- A;" / "- B")?"""
    if is_heading(line) and not LIST_LINE.match(line):
        return False  # "I. MỤC TIÊU" after "…cụ thể như sau:" opens a section, not an item
    first = unit.split("\n", 1)[0]
    kind = marker_kind(line)
    if "\n" in unit and kind and kind == marker_kind(first):
        return False  # "2. …" after "1. … gồm:\na) …\nb) …" is the lead-in's sibling
    items = [k for k in map(marker_kind, unit.split("\n")) if k]
    if kind and items and _MARKER_RANK[kind] > _MARKER_RANK[items[-1]]:
        return False  # "4. Văn phòng UBND tỉnh" after "c) …" opens the next section
    if prev_line.endswith(":"):
        return True
    return bool(LIST_LINE.match(line) and (":" in unit or LIST_LINE.match(unit)))


class _Unit:
    """A sentence or list being assembled from lines: its text and, for every character of
    it, the position in the split text it came from."""

    def __init__(self, line: str, at: int) -> None:
        self.text = line
        self.where = list(range(at, at + len(line)))

    def add(self, separator: str, line: str, at: int) -> None:
        self.where.append(self.where[-1] + 1)  # the separator stands where the line break was
        self.where.extend(range(at, at + len(line)))
        self.text += separator + line

    def span(self, start: int, end: int, offset: int) -> tuple[int, int]:
        return offset + self.where[start], offset + self.where[end - 1] + 1


def split_sentences(text: str, offset: int = 0) -> list[SentenceSpan]:
    """Sentences of a passage; a list stays one unit with its lead-in line ("…gồm:" + items).

    Spans are positions in ``text`` plus ``offset`` (the passage's start in its document).

    >>> [s.text for s in split_sentences("Kế hoạch gồm:\\n- Sở Nội vụ;\\n- Sở Tư pháp.\\nHết.")]
    ['Kế hoạch gồm:\\n- Sở Nội vụ;\\n- Sở Tư pháp.', 'Hết.']
    >>> s = split_sentences("Ban hành kế hoạch cải cách\\nhành chính năm 2019.")[0]
    >>> s.text, s.start, s.end
    ('Ban hành kế hoạch cải cách hành chính năm 2019.', 0, 47)
    """
    lines: list[tuple[str, int]] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lines.append((stripped, pos + (raw.find(stripped) if stripped else 0)))
        pos += len(raw) + 1
    wrapped = _hard_wrapped([line for line, _ in lines if line])
    units: list[_Unit] = []
    prev_line = ""
    blank = False
    for line, at in lines:
        if not line:
            blank = True
            continue
        if units and _continues(units[-1].text, prev_line, line, wrapped, blank):
            units[-1].add(" ", line, at)
        elif units and _extends_list(units[-1].text, prev_line, line):
            units[-1].add("\n", line, at)
        else:
            units.append(_Unit(line, at))
        prev_line, blank = line, False
    out: list[SentenceSpan] = []
    for unit in units:
        if "\n" in unit.text:
            out.append(SentenceSpan(unit.text, *unit.span(0, len(unit.text), offset)))
            continue
        pieces, start = [], 0
        for m in _SENTENCE_SPLIT.finditer(unit.text):
            pieces.append((start, m.start()))
            start = m.end()
        pieces.append((start, len(unit.text)))
        marker_at = -1
        marker = ""
        for a, b in pieces:
            piece = unit.text[a:b].strip()
            if not piece:
                continue
            a += len(unit.text[a:b]) - len(unit.text[a:b].lstrip())
            b = a + len(piece)
            if _MARKER.fullmatch(piece) or _ABBREVIATION_END.search(piece):
                marker += piece + " "  # "1." opens the next sentence; "TP." does not end one
                marker_at = a if marker_at < 0 else marker_at
            elif len(piece) > 2:
                first = marker_at if marker_at >= 0 else a
                out.append(SentenceSpan(marker + piece, *unit.span(first, b, offset)))
                marker, marker_at = "", -1
        if marker.strip():
            out.append(SentenceSpan(marker.strip(),
                                    *unit.span(marker_at, marker_at + len(marker.strip()),
                                               offset)))
    return out


def widen_to_sentences(text: str, start: int, end: int, reach: int = 400) -> tuple[int, int]:
    """A span widened to whole sentences (a chunk cut inside a long paragraph), looking at most
    ``reach`` characters either way."""
    head = text[max(0, start - reach): start]
    if start > 0 and not _ENDS_SENTENCE.search(head):
        cuts = list(_SENTENCE_BOUNDARY.finditer(head))
        if cuts:
            start = start - len(head) + cuts[-1].end()
    if end < len(text) and text[end - 1] not in TERMINAL:
        m = _SENTENCE_BOUNDARY.search(text, end, min(len(text), end + reach))
        if m:
            end = m.start() + 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
