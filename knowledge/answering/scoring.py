"""Scoring candidate sentences against a question.

Each candidate gets the features the decision model reads (:mod:`knowledge.answering.decision`)
and a ranking score:

- *coverage*: the question's content terms (idf-weighted, diacritic-insensitive) the sentence
  holds, and — at half weight — those only its passage holds (its topic: "Lâm Đồng", "2019");
- *focus*: the same with the words next to the question word weighted up ("cơ quan nào **chủ
  trì**"), and terms that every candidate shares weighted down (they say which topic, not which
  sentence);
- *fit*: the shape of the answer asked for (a percentage, a date, a list…), from the kind's
  extractor;
- *form*: headings, fragments, table debris, FAQ questions are not answers;
- *dense*: the cosine of the sentence's stored vector with the question's vector;
- the passage's search rank, the document named by the question, the year named.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from knowledge.answering.candidates import Candidate
from knowledge.answering.corpus import Corpus
from knowledge.answering.extractors import extractor_for
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.doc_numbers import find_numbers, type_of_number
from knowledge.lexicon.doc_types import FOLDED_NAMES
from knowledge.lexicon.people import SURNAMES
from knowledge.lexicon.places import same_place
from knowledge.lexicon.words import (
    FOLDED_STOPWORDS,
    MARKED_QUESTION_WORDS,
    QUESTION_WORDS,
    STOPWORDS,
)
from knowledge.text.segment import FOLDED_PREFIX, folded_terms, syllable_tokens
from knowledge.text.vietnamese import fold_diacritics

_WH_FOLDED = re.compile(r"\b(nao|ai|gi|bao nhieu|may|dau|khi nao|bao gio)\b")

#: (what the question asks, what the answer sentence must then contain)
_SPECIFIC_EVIDENCE: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"\b(kinh phi|chi phi|bao nhieu tien|muc chi|ngan sach|muc ho tro)\b"),
     re.compile(r"\d[\d.,]*\s*(?:đồng|triệu|tỷ|nghìn|ngàn|USD|%)|\b(?:ngân sách|nguồn kinh phí|"
                r"kinh phí thường xuyên|nguồn vốn)\b", re.IGNORECASE)),
    (re.compile(r"\bthang (may|nao)\b"), re.compile(r"\btháng\s+\d|\bquý\s+[IV\d]", re.I)),
    (re.compile(r"\b(ai|nguoi nao|ong nao|ba nao)\b"),
     re.compile(r"(?:ông|bà|đồng chí)\s+[A-ZĐ]|\b(?:" + "|".join(SURNAMES)
                + r")(?:\s+[A-ZĐ][a-zà-ỹđ]+){1,3}|\b(?:Chủ tịch|Giám đốc|Chánh Văn phòng|Trưởng"
                r"|Phó)\b")),
]


@dataclass(frozen=True)
class Weights:
    """How the ranking score combines the features (tuned on cchc-dev: docs/benchmarks.md)."""

    focus: float = 3.0  # weight of the words next to the question word
    fit: float = 0.5  # how much a sentence without the answer's shape loses
    context: float = 0.5  # how much of a term only its passage holds counts
    dense: float = 2.0  # cosine distance to the best sentence, subtracted
    rank: float = 0.08  # bonus of the best passages
    wanted_type: float = 0.2  # a số hiệu of the type asked for
    year: float = 0.1  # the year asked, in the sentence
    named: float = 0.3  # a sentence of a document the question names
    rerank: int = 12  # sentences re-ranked with their vectors


@dataclass(frozen=True)
class Scored:
    """A candidate with its features and its ranking score."""

    candidate: Candidate
    score: float
    coverage: float
    focus: float
    fit: float | None
    form: float
    place: float
    dense: float
    named: bool


def content_terms(analysis: QuestionAnalysis, focus_weight: float) -> dict[str, float]:
    """Folded content syllables of the question → weight (``focus_weight`` for the words next
    to the question word, which say what is asked: "cơ quan nào **chủ trì**"; 1 otherwise)."""
    words = syllable_tokens(analysis.text)
    folded = [fold_diacritics(w) for w in words]
    content = [f for w, f in zip(words, folded, strict=True)
               if w not in STOPWORDS and f not in QUESTION_WORDS]
    focus: set[str] = set()
    for i, (w, f) in enumerate(zip(words, folded, strict=True)):
        if f == "bao" and folded[i + 1: i + 2] == ["nhieu"]:
            # what is measured follows: "bao nhiêu % thời gian xử lý và chi phí tuân thủ"
            near = _content_before(folded[max(0, i - 8): i])[-2:] + folded[i + 2: i + 8]
        elif (w in MARKED_QUESTION_WORDS) if analysis.marked else bool(_WH_FOLDED.fullmatch(f)):
            # the two words before, past a document type that only names the answer's kind:
            # "được **thành lập** theo quyết định nào" → "thành lập"
            before = _content_before(folded[max(0, i - 8): i])
            near = before[-2:] + folded[i + 1: i + 3]
        else:
            continue
        # a year ("năm 2019") or a number in the question is a constraint, not what is asked
        focus.update(x for j, x in enumerate(near) if x not in QUESTION_WORDS
                     and not x.isdigit() and not (x == "nam" and near[j + 1: j + 2] != []
                                                 and near[j + 1].isdigit()))
    return {FOLDED_PREFIX + w: (focus_weight if w in focus else 1.0)
            for w in dict.fromkeys(content)}


def _content_before(words: list[str]) -> list[str]:
    """Content words of a question before its question word, without fillers and without a
    document type that only names the kind of answer ("thành lập theo quyết định nào")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if " ".join(words[i: i + 2]) in FOLDED_NAMES:
            i += 2
            continue
        if words[i] not in FOLDED_STOPWORDS and words[i] not in QUESTION_WORDS:
            out.append(words[i])
        i += 1
    return out


def form_quality(sentence: str) -> float:
    """Penalise what is not an answer: headings in capitals, fragments, table debris."""
    letters = [c for c in sentence if c.isalpha()]
    if not letters:
        return 0.3
    upper = sum(c.isupper() for c in letters) / len(letters)
    factor = 1.0
    if upper > 0.6:
        factor *= 0.5
    if len(sentence.split()) < 5:
        factor *= 0.6
    if sentence.count("|") >= 2 or sentence.lower().startswith(("nơi nhận", "số:")):
        factor *= 0.5
    if sentence[:1].islower():
        factor *= 0.85
    if sentence.rstrip().endswith("?"):
        factor *= 0.5  # a question (an FAQ heading in an article) does not answer one
    return factor


class Scorer:
    """Scores the candidates of one question (see module doc)."""

    def __init__(self, analysis: QuestionAnalysis, corpus: Corpus, query_vector: np.ndarray,
                 weights: Weights | None = None) -> None:
        self.analysis = analysis
        self.corpus = corpus
        self.query_vector = query_vector
        self.weights = weights or Weights()
        self.terms = content_terms(analysis, self.weights.focus)
        self.idf = {t: corpus.idf(t) * w for t, w in self.terms.items()}
        self.extractor = extractor_for(analysis.kind)
        self.named = self._named_documents()
        self._place_cache: dict[str, float] = {}

    def _named_documents(self) -> set[str]:
        """Documents the question names by their số hiệu ("Quyết định 06/2024/QĐ-UBND",
        "KH 1576", "nd 09/2019")."""
        out: set[str] = set()
        for number in self.analysis.numbers:
            out.update(self.corpus.documents_numbered(number))
        if self.analysis.refs:
            for doc in self.corpus.documents():
                own = doc.meta.number
                if own and any(ref.matches(own, type_of_number(own))
                               for ref in self.analysis.refs):
                    out.add(doc.id)
        return out

    def place_factor(self, doc_id: str) -> float:
        """A question about one province is not answered from another province's document."""
        if not self.analysis.places:
            return 1.0
        if doc_id not in self._place_cache:
            doc = self.corpus.document(doc_id)
            ok = (doc is None or not doc.meta.places
                  or any(same_place(asked, p) for asked in self.analysis.places
                         for p in doc.meta.places))
            self._place_cache[doc_id] = 1.0 if ok else 0.8
        return self._place_cache[doc_id]

    def score(self, candidates: list[Candidate]) -> list[Scored]:
        """Every candidate scored, best first."""
        if not candidates:
            return []
        analysis, w = self.analysis, self.weights
        total = sum(self.idf.values()) or 1.0
        sentence_terms = [folded_terms(c.text + (" phần trăm" if "%" in c.text else ""))
                          for c in candidates]
        context_of: dict[str, set[str]] = {}
        for c in candidates:
            if c.chunk.id not in context_of:
                doc = self.corpus.document(c.doc_id)
                context_of[c.chunk.id] = folded_terms(
                    (doc.meta.title if doc else "") + "\n" + c.chunk.text)
        # terms every candidate shares (the topic: "kế hoạch kiểm tra CCHC 2019 Quảng Trị")
        # say little about which sentence answers; terms few candidates have say a lot
        n = len(candidates)
        local = {t: math.log((n + 1) / (0.5 + sum(t in s for s in sentence_terms)))
                 for t in self.terms}
        top_local = max(local.values(), default=1.0) or 1.0
        weight = {t: self.idf[t] * (0.4 + 0.6 * local[t] / top_local) for t in self.terms}
        wtotal = sum(weight.values()) or 1.0
        scored: list[Scored] = []
        for cand, terms in zip(candidates, sentence_terms, strict=True):
            context = context_of[cand.chunk.id]
            covered = sum(self.idf[t] for t in self.terms if t in terms)
            ctx = sum(self.idf[t] for t in self.terms if t in context and t not in terms)
            coverage = (covered + 0.5 * ctx) / total
            # a sentence inherits its passage's topic ("Lâm Đồng", "2019"), at a discount
            focused = sum(weight[t] * (1.0 if t in terms else w.context)
                          for t in self.terms if t in terms or t in context) / wtotal
            score = focused + 0.5 * coverage + w.rank / (1 + cand.rank)
            fit = self.extractor.fit(analysis, cand.text)
            if fit is not None:  # a sentence without the shape of the answer is not one
                score *= 1 - w.fit * (1 - fit)
            if analysis.doc_type and any(type_of_number(num) == analysis.doc_type
                                         and not analysis.names_number(num)
                                         for num in find_numbers(cand.text)):
                score += w.wanted_type
            if analysis.year is not None and str(analysis.year) in cand.text:
                score += w.year
            named = cand.doc_id in self.named
            if named:
                score += w.named  # the question names this document ("nd 09/2019 có …")
            form = form_quality(cand.text)
            place = self.place_factor(cand.doc_id)
            scored.append(Scored(cand, score * form * place, coverage * form * place, focused,
                                 fit, form, place, 0.0, named))
        scored.sort(key=lambda s: -s.score)
        return self._rerank(scored)

    def _rerank(self, scored: list[Scored]) -> list[Scored]:
        """The meaning of the best few, by their stored vectors."""
        head, tail = scored[: self.weights.rerank], scored[self.weights.rerank:]
        vectors = self.corpus.sentences.vectors_of([s.candidate.row for s in head])
        sims = vectors @ self.query_vector
        top = float(sims.max()) if len(sims) else 0.0
        reranked = [Scored(s.candidate, s.score + self.weights.dense * (float(sim) - top),
                           s.coverage, s.focus, s.fit, s.form, s.place, float(sim), s.named)
                    for s, sim in zip(head, sims, strict=True)]
        reranked.sort(key=lambda s: -s.score)
        return reranked + tail

    def heuristic_confidence(self, best: Scored) -> float:
        """The former hand-set confidence: the question's terms the sentence covers, cut down
        when the sentence lacks what the question asks for (a person, a sum, a month…). Kept
        as one input of the decision model."""
        conf = best.coverage
        if best.fit == 0:
            conf *= 0.6
        for asks, needs in _SPECIFIC_EVIDENCE:
            if asks.search(self.analysis.folded) and not needs.search(best.candidate.text):
                conf *= 0.5
        return max(0.0, min(1.0, conf))


def specific_evidence_missing(analysis: QuestionAnalysis, text: str) -> int:
    """How many of the specific things the question asks for (a sum of money, a month, a
    person) the text lacks."""
    return sum(1 for asks, needs in _SPECIFIC_EVIDENCE
               if asks.search(analysis.folded) and not needs.search(text))

