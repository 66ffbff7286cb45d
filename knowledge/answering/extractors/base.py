"""What every extractor shares: the interface, and how an answer is cut out of its sentence.

An extractor knows one kind of answer (a số hiệu, a figure, a date, a list…). It says how
well a sentence has the *shape* of that answer (:meth:`Extractor.fit`, 0-1, used to rank the
candidates) and cuts the answer out of the chosen sentence (:meth:`Extractor.extract`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.answering.corpus import Corpus
from knowledge.answering.question import QuestionAnalysis
from knowledge.schema import AnswerKind, Document
from knowledge.text.sentences import TERMINAL, marker_kind

#: A sentence this short is an answer as it stands; a longer one is cut to the clause asked for.
SHORT = 320

#: What opens a passage but is not part of the answer: a list marker ("(2)", "b)", "-"), a
#: Markdown heading mark, a news dateline ("(Baonghean.vn) -", "(GLO)-").
_LEADING_DEBRIS = re.compile(r"^(?:#+\s*|\(?\d{1,2}[.)]\s+|[a-zđ][.)]\s+|[-+•*–]\s+"
                             r"|\([^()\n]{2,25}\)\s*[-–]\s*)")
# (?<!\s): a separator starts where its whitespace starts (linear on long runs of spaces)
_CLAUSES = re.compile(r"(?<!\s)\s*;\s*|,\s+(?=(?:với|nhằm|để|trong đó|đồng thời)\b)")
_OPENING_CONJUNCTION = re.compile(r"^(?:với|và|đồng thời|trong đó)\s+")


@dataclass(frozen=True)
class Extraction:
    """The answer's text, and the document the answer *is* when the knowledge base holds it
    (a "quyết định nào?" answered by a decision that is itself indexed): then that document
    is cited."""

    text: str
    source: Document | None = None


class Extractor:
    """The default: no particular shape; the answer is the sentence itself."""

    kinds: tuple[AnswerKind, ...] = ()

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        """How well ``text`` has the shape of the answer asked for, 0-1 (``None``: no shape
        to check)."""
        return None

    def extract(self, analysis: QuestionAnalysis, sentence: str, doc: Document | None,
                corpus: Corpus) -> Extraction:
        """The answer, first, then (when it was cut out) the sentence it comes from."""
        return Extraction(clean(sentence))


def clean(text: str) -> str:
    """An answer without the debris that opens its passage (see ``_LEADING_DEBRIS``)."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    if rest and marker_kind(first) and marker_kind(first) == marker_kind(rest):
        return text  # a list of items keeps its markers
    first = _LEADING_DEBRIS.sub("", first, count=1).strip() or first
    if rest and first[-1:] not in TERMINAL:
        first += ":"  # "4. Văn phòng UBND tỉnh" heads the duties below it
    return f"{first}\n{rest}" if rest else first


def clause_with(sentence: str, pattern: re.Pattern[str]) -> str:
    """The first clause of ``sentence`` (cut at ";" and before "với/nhằm/để…") that
    ``pattern`` finds something in."""
    for clause in _CLAUSES.split(sentence):
        if pattern.search(clause):
            return clause.strip().rstrip(".")
    return ""


def capitalize(text: str) -> str:
    text = _OPENING_CONJUNCTION.sub("", clean(text))
    return text[:1].upper() + text[1:]


def differs(clause: str, sentence: str) -> bool:
    return clause.strip(" .;,") != sentence.strip(" .;,")
