"""The answer layer: from retrieved passages to the answer itself, with its source.

1. retrieve the best chunks (hybrid search, with the question's year as a soft constraint);
2. split them into sentences and score each against the question's content terms (idf
   weighted, diacritic-insensitive) plus evidence of the kind of answer asked for;
3. extract the typed answer (a list, a figure, a date, a số hiệu, a person…) from the best
   sentence; its document becomes the citation;
4. decline — with the closest documents as leads — when the evidence is too weak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.metadata import NUMBER_RE, parse_dates, type_of_number
from knowledge.question import QuestionAnalysis, QuestionKind, analyze
from knowledge.schema import Answer, Chunk, Citation, Document, Hit
from knowledge.text.segment import FOLDED_PREFIX
from knowledge.text.vietnamese import STOPWORDS, fold_diacritics

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase, SearchFilters

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ0-9\"“(])|\n+")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*%")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|phần trăm)|\b\d+\b")
_PERSON = re.compile(r"(?:ông|bà|đồng chí)\s+([A-ZĐ][a-zà-ỹđ]+(?:\s+[A-ZĐ][a-zà-ỹđ]+){1,3})")
_NAME = re.compile(r"[A-ZĐ][a-zà-ỹđ]+(?:\s+[A-ZĐ][a-zà-ỹđ]+){2,3}")
_PERIOD = re.compile(
    r"(?:từ\s+)?(?:ngày\s+)?\d{1,2}\s*[-–/]\s*\d{1,2}(?:\s*[-–/]\s*\d{1,2})?/(?:19|20)\d{2}"
    r"|(?:quý|Quý)\s+[IV]+(?:\s+(?:và|,|-)\s+[IV]+)*\s*/\s*(?:19|20)\d{2}"
    r"|(?:tháng|Tháng)\s+\d{1,2}(?:\s*[-–]\s*\d{1,2})?(?:\s*/\s*|\s+năm\s+)(?:19|20)\d{2}"
    r"|(?:trước|đến|trong)\s+(?:ngày\s+)?\d{1,2}/\d{1,2}(?:/(?:19|20)\d{2})?"
    r"|(?:quý|Quý)\s+[IV]+(?:\s+năm\s+(?:19|20)\d{2})?"
    r"|(?:năm|Năm)\s+(?:19|20)\d{2}"
)
_LIST_LEAD = re.compile(r"(?:gồm|bao gồm|tại các|tại|như|là|:)\s*", re.IGNORECASE)

#: Evidence a sentence must show for each kind of question.
_KIND_EVIDENCE: dict[QuestionKind, re.Pattern[str]] = {
    QuestionKind.NUMBER: re.compile(r"\d"),
    QuestionKind.COUNT: re.compile(r"\d+|\b(một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười)\b"),
    QuestionKind.DATE: _PERIOD,
    QuestionKind.DOC_NUMBER: NUMBER_RE,
    QuestionKind.PERSON: re.compile(r"(?:ông|bà|đồng chí)\s+[A-ZĐ]|" + _NAME.pattern),
    QuestionKind.LIST: re.compile(r"[,;:]"),
}


@dataclass(frozen=True)
class Sentence:
    text: str
    chunk: Chunk
    rank: int  # rank of its chunk in the search results
    score: float = 0.0


def split_sentences(chunk: Chunk) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(chunk.text) if len(s.strip()) > 2]


def _content_terms(kb: KnowledgeBase, question: str) -> list[str]:
    """Folded content syllables of the question (stop-words and question words removed)."""
    terms = [t for t in kb.analyzer.query_terms(question) if t.startswith(FOLDED_PREFIX)]
    drop = {FOLDED_PREFIX + fold_diacritics(w) for w in STOPWORDS if "_" not in w}
    drop |= {FOLDED_PREFIX + w for w in ("nao", "gi", "bao", "nhieu", "may", "ai", "khong", "dau",
                                         "nhung", "cac", "la", "co", "duoc")}
    return list(dict.fromkeys(t for t in terms if t not in drop))


class Answerer:
    """Extracts answers from a :class:`KnowledgeBase`'s search results."""

    def __init__(self, kb: KnowledgeBase, top_chunks: int = 8) -> None:
        self.kb = kb
        self.top_chunks = top_chunks

    def answer(self, question: str, filters: SearchFilters | None = None) -> Answer:
        analysis = analyze(question, self.kb.config.current_date())
        hits = self.kb.search(question, k=self.top_chunks, filters=filters)
        if not hits:
            return Answer(
                "Xin lỗi, tôi không tìm thấy thông tin này trong các văn bản hiện có.",
                declined=True, kind=analysis.kind.value,
            )
        terms = _content_terms(self.kb, question)
        loaded = self.kb._index()
        idf = {t: loaded.bm25.term_idf(t) for t in terms}
        total = sum(idf.values()) or 1.0
        best: Sentence | None = None
        best_cov = 0.0
        for rank, hit in enumerate(hits):
            context = self._chunk_terms(hit.chunk)
            for text in split_sentences(hit.chunk):
                sent_terms = set(self.kb.analyzer.document_terms(text))
                covered = sum(idf[t] for t in terms if t in sent_terms)
                ctx = sum(idf[t] for t in terms if t in context and t not in sent_terms)
                coverage = (covered + 0.5 * ctx) / total
                score = coverage + 0.08 / (1 + rank)
                evidence = _KIND_EVIDENCE.get(analysis.kind)
                if evidence is not None and evidence.search(text):
                    score += 0.15
                score += self._year_bonus(analysis, hit.chunk, text)
                if best is None or score > best.score:
                    best = Sentence(text, hit.chunk, rank, score)
                    best_cov = coverage
        assert best is not None
        doc = self.kb.document(best.chunk.doc_id)
        confidence = self._confidence(analysis, best, best_cov, doc)
        if confidence < self.kb.config.decline_threshold:
            return self._decline(analysis, hits, confidence)
        text = self._extract(analysis, best, doc)
        return Answer(text, declined=False, citations=(self._cite(doc, best.text),),
                      kind=analysis.kind.value, confidence=confidence)

    # -- scoring --------------------------------------------------------------------------
    def _chunk_terms(self, chunk: Chunk) -> set[str]:
        doc = self.kb.document(chunk.doc_id)
        title = doc.meta.title if doc else ""
        return set(self.kb.analyzer.document_terms(title + "\n" + chunk.text))

    @staticmethod
    def _year_bonus(analysis: QuestionAnalysis, chunk: Chunk, text: str) -> float:
        if analysis.year is None:
            return 0.0
        if str(analysis.year) in text:
            return 0.1
        return 0.0

    @staticmethod
    def _confidence(analysis: QuestionAnalysis, best: Sentence, coverage: float,
                    doc: Document | None) -> float:
        conf = coverage
        if analysis.year is not None and doc is not None:
            years = {doc.meta.year, *(int(y) for y in re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)",
                                                                 doc.text))}
            if analysis.year not in years:
                conf *= 0.4  # the documents speak of other years: never pass them off as this one
        evidence = _KIND_EVIDENCE.get(analysis.kind)
        if evidence is not None and not evidence.search(best.text):
            conf *= 0.75
        return max(0.0, min(1.0, conf))

    # -- extraction -----------------------------------------------------------------------
    def _extract(self, analysis: QuestionAnalysis, best: Sentence, doc: Document | None) -> str:
        sentence = best.text.rstrip()
        kind = analysis.kind
        if kind == QuestionKind.DOC_NUMBER:
            numbers = [m.group(1) for m in NUMBER_RE.finditer(sentence)]
            if numbers:
                number = numbers[0]
                kind_name = type_of_number(number) or "Văn bản"
                dates = parse_dates(sentence)
                when = f", ngày {_vn_date(dates[0][1].isoformat())}" if dates else ""
                return f"{kind_name} số {number}{when}. {sentence}"
        if kind == QuestionKind.NUMBER:
            clause = _clause_with(sentence, _PERCENT) or _clause_with(sentence, _FIGURE)
            if clause and clause != sentence:
                return f"{_capitalize(clause)}. ({sentence})"
        if kind == QuestionKind.DATE:
            periods = [m.group(0) for m in _PERIOD.finditer(sentence)]
            if periods:
                clause = _clause_with(sentence, _PERIOD) or sentence
                return f"{_capitalize(clause)}." if clause != sentence else sentence
        if kind == QuestionKind.PERSON:
            m = _PERSON.search(sentence)
            if m:
                return sentence
        return sentence

    def _cite(self, doc: Document | None, quote: str) -> Citation:
        if doc is None:
            return Citation("", "", "", "", quote)
        meta = doc.meta
        return Citation(doc_id=doc.id, title=meta.title, number=meta.number, date=meta.date,
                        quote=_shorten(quote, 300), doc_type=meta.doc_type, issuer=meta.issuer,
                        source=meta.source)

    def _decline(self, analysis: QuestionAnalysis, hits: list[Hit], confidence: float) -> Answer:
        leads: list[Citation] = []
        for hit in hits:
            if any(c.doc_id == hit.chunk.doc_id for c in leads):
                continue
            leads.append(self._cite(self.kb.document(hit.chunk.doc_id), hit.chunk.text))
            if len(leads) == 3:
                break
        if analysis.year is not None and analysis.year_is_relative:
            text = (f"Tôi chưa có văn bản nào về năm {analysis.year} để trả lời câu hỏi này. "
                    "Các văn bản gần nhất có thể liên quan được liệt kê bên dưới.")
        else:
            text = ("Xin lỗi, tôi không tìm thấy câu trả lời chắc chắn trong các văn bản hiện có. "
                    "Các văn bản gần nhất có thể liên quan được liệt kê bên dưới.")
        return Answer(text, declined=True, citations=tuple(leads), kind=analysis.kind.value,
                      confidence=confidence)


def _clause_with(sentence: str, pattern: re.Pattern[str]) -> str:
    for clause in re.split(r"\s*[;]\s*|,\s+(?=(?:với|nhằm|để|trong đó|đồng thời)\b)", sentence):
        if pattern.search(clause):
            return clause.strip().rstrip(".")
    return ""


def _capitalize(text: str) -> str:
    text = re.sub(r"^(?:với|và|đồng thời|trong đó)\s+", "", text.strip())
    return text[:1].upper() + text[1:]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


def _vn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(d)}/{int(m)}/{y}"

