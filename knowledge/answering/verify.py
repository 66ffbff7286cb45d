"""Verification: an answer is given only when its evidence satisfies the question's hard
constraints — the year asked (or a period that contains it), the place asked, the document
named, the index or programme named. A candidate that fails one is never the answer, however
well it scores; when every candidate fails, the reply says what the documents do hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from knowledge.answering.candidates import Candidate
from knowledge.answering.corpus import Corpus
from knowledge.answering.extractors import extractor_for
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.agencies import find_agencies
from knowledge.lexicon.dates import stated_years, years_in
from knowledge.lexicon.doc_numbers import (
    document_refs,
    find_numbers,
    number_key,
    type_of_number,
)
from knowledge.lexicon.doc_types import is_news, is_programme
from knowledge.lexicon.indices import find_indices
from knowledge.lexicon.places import find_places, same_place
from knowledge.schema import AnswerKind, Document

#: a document naming more provinces than this is about many (a national ranking): the place
#: asked must then be named where the answer is read
MANY_PLACES = 3
#: kinds whose answer cannot be read from a sentence without its shape
SHAPED = (AnswerKind.DOC_NUMBER, AnswerKind.DATE, AnswerKind.NUMBER, AnswerKind.COUNT,
          AnswerKind.PERSON)


class Constraint(str, Enum):
    """What a question requires of the evidence of its answer."""

    YEAR = "year"
    PLACE = "place"
    DOCUMENT = "document"  # the document the question names is held, the evidence is not from it
    UNKNOWN_DOCUMENT = "unknown_document"  # the question names a số hiệu no document has
    INDEX = "index"
    AGENCY = "agency"  # the question names a ministry or department the evidence is not about
    SHAPE = "shape"  # the evidence cannot hold what is asked (no số hiệu, no date, no figure…)


@dataclass(frozen=True)
class Verdict:
    failed: tuple[Constraint, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


class Verifier:
    """Checks candidates against one question's constraints."""

    def __init__(self, analysis: QuestionAnalysis, corpus: Corpus) -> None:
        self.analysis = analysis
        self.corpus = corpus
        #: documents the question names (by số hiệu or by type and number) that no document
        #: has or mentions
        self.unknown = tuple(f"văn bản số {n}" for n in analysis.numbers
                             if not corpus.mentions_number(n)) + tuple(
            f"{ref.doc_type or 'văn bản'} số {ref.number}" + (f"/{ref.year}" if ref.year else "")
            for ref in analysis.refs
            if not any(ref.matches(n, type_of_number(n)) for n in analysis.numbers)
            and not is_programme(ref.doc_type) and not corpus.mentions_ref(ref))
        self.agencies = find_agencies(analysis.text)
        self.extractor = extractor_for(analysis.kind)
        #: documents the knowledge base holds that the question names, and how to spot them
        self.named_docs: set[str] = set()
        for number in analysis.numbers:
            self.named_docs.update(corpus.documents_numbered(number))
        if analysis.refs:
            for doc in corpus.documents():
                own = doc.meta.number
                if own and any(ref.matches(own, type_of_number(own)) for ref in analysis.refs):
                    self.named_docs.add(doc.id)
        self._named_keys = {number_key(n) for n in analysis.numbers}
        #: documents named by type and number (a programme's number is a name: "Đề án 06")
        self._refs = tuple(r for r in analysis.refs if not is_programme(r.doc_type))
        self._names_documents = bool(analysis.numbers or self._refs)

    def check(self, candidate: Candidate) -> Verdict:
        failed = []
        if self.unknown:
            failed.append(Constraint.UNKNOWN_DOCUMENT)
        if not self._year_ok(candidate):
            failed.append(Constraint.YEAR)
        if not self._place_ok(candidate):
            failed.append(Constraint.PLACE)
        if not self._document_ok(candidate):
            failed.append(Constraint.DOCUMENT)
        if not self._index_ok(candidate):
            failed.append(Constraint.INDEX)
        if not self._agency_ok(candidate):
            failed.append(Constraint.AGENCY)
        if not self._shape_ok(candidate):
            failed.append(Constraint.SHAPE)
        return Verdict(tuple(failed))

    def check_document(self, doc: Document) -> Verdict:
        """The constraints an answer read from a document's metadata (who signed it, who
        issued it) must meet: it is a document of the year, place and number asked."""
        failed = []
        if self.unknown:
            failed.append(Constraint.UNKNOWN_DOCUMENT)
        year = self.analysis.year
        if year is not None and doc.meta.year != year and year not in stated_years(
                doc.meta.title) and not doc.meta.date.startswith(str(year)):
            failed.append(Constraint.YEAR)
        if self.analysis.places and not any(same_place(asked, p)
                                            for asked in self.analysis.places
                                            for p in doc.meta.places):
            failed.append(Constraint.PLACE)
        if self._names_documents and doc.id not in self.named_docs and not (
                is_news(doc.meta.doc_type) and self._names_document(doc.meta.title)):
            failed.append(Constraint.DOCUMENT)  # (a news article is about what its title names)
        return Verdict(tuple(failed))

    # -- the constraints --------------------------------------------------------------------
    def _year_ok(self, cand: Candidate) -> bool:
        """The year asked is the one the sentence speaks of (a period containing it will do),
        or its document's (its title, its year), or — for questions about what a passage says
        — its passage's (a sentence may name another year only to compare: "tăng 5 so với
        năm 2019"). A question about a document itself ("kế hoạch năm 2019 số mấy?") needs
        the document's own year. Years inside dates and số hiệu ("ngày 14/01/2021",
        "09/2019/NĐ-CP") say when something was issued: they count only for "when" questions.
        """
        year = self.analysis.year
        if year is None:
            return True
        years_of = years_in if self.analysis.kind is AnswerKind.DATE else stated_years
        if year in years_of(cand.text):
            return True
        doc = self.corpus.document(cand.doc_id)
        if doc is None:
            return False
        if doc.meta.year == year or year in years_of(doc.meta.title):
            return True
        if self.analysis.kind is AnswerKind.DOC_NUMBER and not is_news(doc.meta.doc_type):
            return False  # "which plan of 2019?" is not answered by the 2018 plan
        return year in years_of(cand.chunk.heading + "\n" + cand.chunk.text)

    def _place_ok(self, cand: Candidate) -> bool:
        """The document is about the province asked (or one merged into it in 2025); a
        document about many provinces must name it where the answer is read. A document that
        names no province does not answer a question about one."""
        if not self.analysis.places:
            return True
        doc = self.corpus.document(cand.doc_id)
        if doc is None or not doc.meta.places:
            return False
        if not any(same_place(asked, p) for asked in self.analysis.places
                   for p in doc.meta.places):
            return False
        if len(doc.meta.places) <= MANY_PLACES:
            return True
        nearby = {p.province for p in find_places(cand.text + "\n" + cand.chunk.text)}
        return any(same_place(asked, p) for asked in self.analysis.places for p in nearby)

    def _document_ok(self, cand: Candidate) -> bool:
        """A question naming a document is answered from that document when the knowledge
        base holds it, or from a sentence that names it."""
        if not self._names_documents or cand.doc_id in self.named_docs:
            return True
        return self._names_document(cand.text)

    def _names_document(self, text: str) -> bool:
        """Does ``text`` name a document the question names (by số hiệu, or by type and
        number: "Chỉ thị số 23")?"""
        numbers = find_numbers(text)
        if {number_key(n) for n in numbers} & self._named_keys:
            return True
        if any(ref.matches(n, type_of_number(n)) for ref in self._refs for n in numbers):
            return True
        mentioned = [m.key for m in document_refs(text)]
        return any(ref.matches_key(key) for ref in self._refs for key in mentioned)

    def _index_ok(self, cand: Candidate) -> bool:
        """A question about an index (PAR INDEX, SIPAS, PAPI…) is answered from a sentence
        about that index — never from one about another; a sentence that names none speaks of
        the index its passage (or else its document) names."""
        asked = set(self.analysis.indices)
        if not asked:
            return True
        for text in (cand.text, cand.chunk.heading + "\n" + cand.chunk.text):
            named = set(find_indices(text))
            if named:
                return bool(named & asked)
        return bool(asked & set(self.corpus.features(cand.doc_id).indices))

    def _agency_ok(self, cand: Candidate) -> bool:
        """A question about a ministry or department ("Sở Y tế Lâm Đồng …", "Bộ Tư pháp …")
        is not answered by a sentence about another one of the same kind, unless its passage
        names the one asked; a sentence that names none must come from a document that does."""
        if not self.agencies:
            return True
        nouns = {a.split()[0] for a in self.agencies}
        named = [a for a in find_agencies(cand.text) if a.split()[0] in nouns]
        if named:
            return bool(set(named) & set(self.agencies)) or bool(
                set(find_agencies(cand.chunk.text)) & set(self.agencies))
        return bool(set(self.corpus.features(cand.doc_id).agencies) & set(self.agencies))

    def _shape_ok(self, cand: Candidate) -> bool:
        """Some answers have a shape without which the sentence cannot be one: a số hiệu, a
        date, a figure, a person or title."""
        if self.analysis.kind not in SHAPED:
            return True
        return self.extractor.fit(self.analysis, cand.text) != 0
