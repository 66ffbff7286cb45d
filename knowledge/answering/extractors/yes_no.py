"""Yes/no questions: "… có … không? / đã … chưa?" — "Có" or "Không" from the sentence that
settles it, then the sentence."""

from __future__ import annotations

import re

from knowledge.answering.corpus import Corpus
from knowledge.answering.extractors.base import Extraction, Extractor, clean
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.words import QUESTION_WORDS, STOPWORDS
from knowledge.schema import AnswerKind, Document
from knowledge.text.vietnamese import fold_diacritics

_NEGATION = re.compile(r"\b(?:không|chưa|bỏ|bãi bỏ|miễn|chấm dứt|không còn|không phải|không cần)\b",
                       re.IGNORECASE)
_WORD = re.compile(r"\w+")
#: words of a yes/no question that only frame it
_FRAME = frozenset({"co", "khong", "con", "phai", "chua", "duoc", "bi", "nen", "can", "da"})


def verdict(question: str, sentence: str) -> str:
    """"Có" or "Không" for a yes/no question, from the sentence that answers it: "Không" when
    a word the question asks about is negated there ("Nghị định này không điều chỉnh …", "Bỏ
    yêu cầu nộp …"); "Có" when the sentence affirms all of them; "" when unsure."""
    asked = {fold_diacritics(w) for w in _WORD.findall(question.lower())
             if w not in STOPWORDS} - QUESTION_WORDS - _FRAME
    tokens = _WORD.findall(sentence.lower())
    folded = [fold_diacritics(t) for t in tokens]
    asked_at = [i for i, t in enumerate(folded) if t in asked]
    if not asked_at:
        return ""
    for i in asked_at:
        if _NEGATION.search(" ".join(tokens[max(0, i - 3): i])):
            return "Không"
    if _NEGATION.search(sentence):
        return ""
    return "Có" if len({folded[i] for i in asked_at}) >= 0.9 * len(asked) else ""


class YesNoExtractor(Extractor):
    kinds = (AnswerKind.YES_NO,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        """A sentence that settles it: "… không điều chỉnh …"."""
        return 1.0 if verdict(analysis.text, text) else 0.5

    def extract(self, analysis: QuestionAnalysis, sentence: str, doc: Document | None,
                corpus: Corpus) -> Extraction:
        said = verdict(analysis.text, sentence)
        return Extraction(f"{said}. {clean(sentence)}" if said else clean(sentence))
