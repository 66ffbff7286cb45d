"""Lists: "những đơn vị nào? / gồm những gì? / nhiệm vụ gì?" — an enumeration, best with its
lead-in ("…tại các sở: A, B, C và D")."""

from __future__ import annotations

import re

from knowledge.answering.extractors.base import Extractor
from knowledge.answering.question import QuestionAnalysis
from knowledge.schema import AnswerKind
from knowledge.text.sentences import LIST_LINE

_LEAD_IN = re.compile(r"(?:\bgồm\b|\bbao gồm\b|:|\bnhư\b|\btại các\b|\bđối với các\b|\bcủa các\b"
                      r"|\bđến các\b|\bcho các\b)", re.IGNORECASE)
_ITEM_SEPARATORS = re.compile(r"[,;:]|\svà\s|\shoặc\s")


def list_items(text: str) -> int:
    """How many items a sentence enumerates: list lines, or short phrases between commas,
    semicolons and a final "và" ("…gồm Y tế, Tài chính, Xây dựng và Nội vụ"); a comma between
    two clauses is not an enumeration."""
    lines = [line for line in text.split("\n") if LIST_LINE.match(line.strip())]
    if len(lines) >= 2:
        return len(lines)
    pieces = [p.split() for p in _ITEM_SEPARATORS.split(text)]
    short = sum(1 for p in pieces[1:] if 0 < len(p) <= 7)
    return short + 1 if short else 1


class ListExtractor(Extractor):
    kinds = (AnswerKind.LIST,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        items = list_items(text)
        fit = min(1.0, max(0, items - 1) / 3)
        if items >= 3 and _LEAD_IN.search(text):
            fit = min(1.0, fit + 0.3)
        return fit
