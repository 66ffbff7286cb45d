"""Answers that need several documents, computed from the structured facts of the index.

Three kinds of question are recognised (everything else goes to
:mod:`knowledge.answering.pipeline`):

- plans of a year — "Năm 2018 có những kế hoạch CCHC nào?" → every plan the documents name
  for that year, each with the document that names it;
- inspections compared across years — "So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?"
  → the units counted for each year, the difference, and a warning when the years come from
  different places;
- what is due in a quarter — "Những việc nào phải xong trong quý II?" / "quý này" → the
  assignments, targets and inspections whose deadline or period falls in that quarter.

When the facts hold nothing for the year asked, the answer says so and names the most recent
year they do hold — it never presents another year's facts as the year asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from knowledge.answering.corpus import Corpus
from knowledge.answering.question import QuestionAnalysis
from knowledge.answering.reply import describe_source
from knowledge.ingest.facts import DocumentFacts, Inspection
from knowledge.ingest.features import is_cchc_topic
from knowledge.lexicon.dates import Period
from knowledge.lexicon.numerals import int_to_roman
from knowledge.lexicon.places import same_place
from knowledge.schema import Answer, AnswerKind, Citation, Document
from knowledge.text.vietnamese import fold_diacritics

MAX_ITEMS = 10

_PLANS = re.compile(r"\b(nhung|cac|bao nhieu|may|liet ke)\s+(ke hoach|van ban|quyet dinh|"
                    r"chi thi)\b")
_COMPARE = re.compile(r"\b(so voi|so sanh|nhieu hon|it hon|tang|giam|khac|chenh lech)\b")
_INSPECTED = re.compile(r"\b(kiem tra|thanh tra)\b")
_COUNT = re.compile(r"\b(bao nhieu|may|so luong)\b")
_DUE = re.compile(r"\b(viec|nhiem vu|phai|hoan thanh|xong|han|can lam|thoi han|nao|gi|"
                  r"lam gi)\b")
_TASKS = re.compile(r"\b(viec|nhiem vu)\b")
_ASKING = re.compile(r"\b(nao|gi|bao nhieu|may|liet ke)\b")
_WHICH_UNITS = re.compile(r"\b(don vi nao|nhung dau|o dau|tai dau|noi nao|bao nhieu don vi|"
                          r"may don vi|so nao|huyen nao|co quan nao|dia phuong nao|nganh nao)\b")
_PLAN_TYPES = {"ke hoach": "Kế hoạch", "quyet dinh": "Quyết định", "chi thi": "Chỉ thị"}


class AggregateKind(str, Enum):
    PLANS = "plans"
    INSPECTIONS = "inspections"
    INSPECTED_ELSEWHERE = "inspected_elsewhere"
    DUE = "due"


@dataclass(frozen=True)
class AggregateQuestion:
    kind: AggregateKind
    years: tuple[int, ...] = ()
    year_is_relative: bool = False
    quarter: int | None = None
    doc_type: str = ""  # "Kế hoạch", "Quyết định", "Chỉ thị" or "" (any document)
    cchc_only: bool = False
    places: tuple[str, ...] = ()  # provinces named in the question
    verb: str = ""  # "kiểm tra" or "thanh tra"


def detect(analysis: QuestionAnalysis) -> AggregateQuestion | None:
    """Is this a question over several documents? Questions naming a số hiệu never are.

    >>> from knowledge.answering.question import analyze
    >>> detect(analyze("Năm 2018 có những kế hoạch CCHC nào?")).kind
    <AggregateKind.PLANS: 'plans'>
    >>> detect(analyze("So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?")).years
    (2016, 2018)
    >>> detect(analyze("Những việc nào phải xong trong quý II?")).quarter
    2
    >>> detect(analyze("Kế hoạch kiểm tra năm 2018 gồm những đơn vị nào?")) is None
    True
    """
    if analysis.numbers:
        return None
    folded = analysis.folded
    years = analysis.years
    relative = False
    if not years and analysis.year is not None:
        years, relative = (analysis.year,), analysis.year_is_relative
    cchc = analysis.cchc
    quarter = analysis.quarter
    if analysis.quarter_year is not None:  # "quý này", "quý tới"
        years, relative = (analysis.quarter_year,), True
    if quarter and (_TASKS.search(folded)
                    or (_DUE.search(folded) and not _INSPECTED.search(folded))):
        return AggregateQuestion(AggregateKind.DUE, years, relative, quarter, cchc_only=cchc)
    if len(years) >= 2 and _INSPECTED.search(folded) and (
            _COMPARE.search(folded) or _COUNT.search(folded)):
        return AggregateQuestion(AggregateKind.INSPECTIONS, years, relative, cchc_only=cchc)
    if len(years) == 1 and _INSPECTED.search(folded) and _WHICH_UNITS.search(folded):
        if analysis.places:
            verb = "thanh tra" if "thanh tra" in folded else "kiểm tra"
            return AggregateQuestion(AggregateKind.INSPECTED_ELSEWHERE, years, relative,
                                     cchc_only=cchc, places=analysis.places, verb=verb)
    m = _PLANS.search(folded)
    if m and years and _ASKING.search(folded):
        # "… những kế hoạch nào" — not "kế hoạch … gồm những đơn vị nào"
        return AggregateQuestion(AggregateKind.PLANS, years, relative,
                                 doc_type=_PLAN_TYPES.get(m.group(2), ""), cchc_only=cchc)
    return None


class AggregateAnswerer:
    """Answers :func:`detect`-ed questions from the documents and their facts."""

    def __init__(self, corpus: Corpus, facts: dict[str, DocumentFacts]) -> None:
        self.corpus = corpus
        self.documents: dict[str, Document] = {d.id: d for d in corpus.documents()}
        self.facts = facts

    def answer(self, analysis: QuestionAnalysis, place: str | None = None) -> Answer | None:
        asked = detect(analysis)
        if asked is None:
            return None
        handler = {AggregateKind.PLANS: self._plans, AggregateKind.INSPECTIONS:
                   self._inspections, AggregateKind.INSPECTED_ELSEWHERE: self._elsewhere,
                   AggregateKind.DUE: self._due}[asked.kind]
        return handler(asked, place)

    # -- helpers ------------------------------------------------------------------------------
    def _doc_ok(self, doc_id: str, asked: AggregateQuestion, place: str | None) -> bool:
        doc = self.documents.get(doc_id)
        if doc is None:
            return False
        if place and not any(same_place(place, p) for p in doc.meta.places):
            return False
        return not asked.cchc_only or self.corpus.features(doc_id).cchc

    def _where(self, doc_id: str) -> str:
        """``"Quyết định số 1331/QĐ-UBND ngày 13/4/2018 của UBND tỉnh Quảng Bình"``, with the
        province when the issuer does not name it."""
        citation = Citation.from_document(self.documents[doc_id], "")
        where = describe_source(citation)
        places = self.documents[doc_id].meta.places
        if places and fold_diacritics(places[0]).lower() not in fold_diacritics(where).lower():
            where += f" — {places[0]}"
        return where

    def _answer(self, lines: list[str], quotes: Iterable[tuple[str, str]],
                declined: bool = False) -> Answer:
        """An answer from several documents; ``declined`` when what was asked is not there
        and ``lines`` only offer related facts."""
        citations: dict[str, Citation] = {}
        for doc_id, quote in quotes:
            doc = self.documents[doc_id]
            at = doc.text.find(quote) if quote else -1
            span = (at, at + len(quote)) if at >= 0 else None
            citations.setdefault(doc_id, Citation.from_document(doc, quote, span))
        return Answer("\n".join(lines), declined, tuple(citations.values()),
                      kind=AnswerKind.AGGREGATE, confidence=0.0 if declined else 1.0,
                      offers_facts=declined and bool(citations))

    def _nothing_for(self, what: str, year: int, held: Iterable[int]) -> Answer:
        held = sorted(set(held))
        text = f"Các văn bản hiện có không có {what} cho năm {year}."
        if held:
            text += f" Năm gần nhất có thông tin là năm {held[-1]}."
        return Answer(text, True, (), kind=AnswerKind.AGGREGATE, confidence=0.0)

    # -- plans of a year ----------------------------------------------------------------------
    def _plans(self, asked: AggregateQuestion, place: str | None) -> Answer | None:
        year = asked.years[0]
        found: list[tuple[str, str, str]] = []  # (doc_id, line, quote)
        seen: set[str] = set()
        held: list[int] = []
        if asked.doc_type in ("", "Kế hoạch"):
            for doc_id, facts in self.facts.items():
                if not self._doc_ok(doc_id, asked, place):
                    continue
                for plan in facts.plans:
                    held.append(plan.year)
                    key = re.sub(r"\W+", " ", fold_diacritics(plan.name).lower()).strip()
                    if plan.year != year or key in seen:
                        continue
                    seen.add(key)
                    by = (f" (số {plan.number})" if plan.number and plan.number not in plan.name
                          and plan.number != self.documents[doc_id].meta.number else "")
                    found.append((doc_id, f"• {plan.name}{by}", plan.sentence))
        for doc_id, doc in self.documents.items():
            meta = doc.meta
            if asked.doc_type and meta.doc_type != asked.doc_type:
                continue
            if not meta.number or not self._doc_ok(doc_id, asked, place):
                continue
            doc_year = meta.year or (int(meta.date[:4]) if meta.date[:4].isdigit() else None)
            if doc_year:
                held.append(doc_year)
            if doc_year != year or any(d == doc_id for d, _, _ in found):
                continue
            found.append((doc_id, f"• {meta.title or meta.number}", meta.title))
        what = (asked.doc_type.lower() or "văn bản") + (" về CCHC" if asked.cchc_only else "")
        if not found:
            return self._nothing_for(what, year, held) if held else None
        shown = found[:MAX_ITEMS]
        lines = [f"Năm {year}, các văn bản hiện có nêu {len(found)} {what}:"]
        by_doc: dict[str, list[str]] = {}
        for doc_id, line, _ in shown:
            by_doc.setdefault(doc_id, []).append(line)
        for doc_id, doc_lines in by_doc.items():
            if len(doc_lines) == 1:
                lines.append(f"{doc_lines[0]} — {self._where(doc_id)}")
            else:
                lines.append(f"Theo {self._where(doc_id)}:")
                lines.extend(doc_lines)
        if len(found) > MAX_ITEMS:
            lines.append(f"… và {len(found) - MAX_ITEMS} {what} khác.")
        return self._answer(lines, ((d, q) for d, _, q in shown))

    # -- inspections compared ----------------------------------------------------------------
    def _inspection_of(self, year: int, asked: AggregateQuestion,
                       place: str | None) -> Inspection | None:
        candidates = [i for doc_id, facts in self.facts.items()
                      if self._doc_ok(doc_id, asked, place)
                      for i in facts.inspections if i.year == year and i.unit_count]

        def rank(i: Inspection) -> tuple:
            folded = fold_diacritics(i.sentence).lower()
            return (not re.search(r"\bke hoach\b", folded), not i.units,
                    not is_cchc_topic(folded))

        return min(candidates, key=rank) if candidates else None

    def _inspections(self, asked: AggregateQuestion, place: str | None) -> Answer | None:
        years = sorted(asked.years, reverse=True)
        picked = {y: self._inspection_of(y, asked, place) for y in years}
        if not any(picked.values()):
            return None
        lines, quotes = [], []
        for year in years:
            inspection = picked[year]
            if inspection is None:
                lines.append(f"• Năm {year}: các văn bản hiện có không nêu số đơn vị "
                             "được kiểm tra.")
                continue
            detail = (", ".join(inspection.units) if inspection.units else inspection.counted)
            detail = "" if detail == f"{inspection.unit_count} đơn vị" else f" ({detail})"
            period = f"; thời gian: {inspection.period.text}" if inspection.period else ""
            lines.append(f"• Năm {year}: kiểm tra {inspection.unit_count} đơn vị{detail}"
                         f"{period} — {self._where(inspection.doc_id)}.")
            quotes.append((inspection.doc_id, inspection.sentence))
        found = [(y, picked[y]) for y in years if picked[y]]
        if len(found) >= 2:
            (y1, a), (y2, b) = found[0], found[1]
            diff = a.unit_count - b.unit_count
            if diff:
                more = "nhiều hơn" if diff > 0 else "ít hơn"
                lines.insert(0, f"Năm {y1} kiểm tra {a.unit_count} đơn vị, {more} năm {y2} "
                                f"({b.unit_count} đơn vị) {abs(diff)} đơn vị.")
            else:
                lines.insert(0, f"Năm {y1} và năm {y2} đều kiểm tra {a.unit_count} đơn vị.")
            pa = self.documents[a.doc_id].meta.places
            pb = self.documents[b.doc_id].meta.places
            if pa and pb and not same_place(pa[0], pb[0]):
                lines.append(f"Lưu ý: số liệu hai năm thuộc hai địa phương khác nhau "
                             f"({pa[0]} và {pb[0]}), nên chỉ so sánh được về quy mô.")
        return self._answer(lines, quotes)

    # -- inspections of a year held only for another place --------------------------------
    def _elsewhere(self, asked: AggregateQuestion, place: str | None) -> Answer | None:
        """"Năm 2016 tỉnh Quảng Bình kiểm tra những đơn vị nào?" when the documents hold 2016
        inspections only for Bạc Liêu: say so, and give those (never as Quảng Bình's).
        Otherwise ``None``: the passage answerer answers."""
        year, wanted = asked.years[0], place or asked.places[0]
        of_year = [(doc_id, i) for doc_id, facts in self.facts.items()
                   if self._doc_ok(doc_id, asked, None)
                   for i in facts.inspections if i.year == year and i.unit_count]
        if not of_year or any(any(same_place(wanted, p) for p in
                                  self.documents[doc_id].meta.places) for doc_id, _ in of_year):
            return None
        asked_verb = "thanh tra" if asked.verb == "thanh tra" else "kiểm tra"
        same_verb = [(d, i) for d, i in of_year if asked_verb in i.sentence.lower()]
        of_year = same_verb or of_year
        lines = [f"Các văn bản hiện có không nêu việc {asked_verb} năm {year} ở {wanted}. "
                 f"Năm {year}, các văn bản chỉ có số liệu của địa phương khác:"]
        quotes = []
        by_doc: dict[str, list[Inspection]] = {}
        for doc_id, inspection in of_year:
            by_doc.setdefault(doc_id, []).append(inspection)
        for doc_id, inspections in list(by_doc.items())[:3]:
            lines.append(f"Theo {self._where(doc_id)}:")
            for inspection in inspections[:4]:
                lines.append(f"• {_short(inspection.sentence, 240)}")
                quotes.append((doc_id, inspection.sentence))
        return self._answer(lines, quotes, declined=True)

    # -- due in a quarter --------------------------------------------------------------------
    def _due(self, asked: AggregateQuestion, place: str | None) -> Answer | None:
        quarter = asked.quarter or 1
        items: list[tuple[int, str, str, str]] = []  # (year, doc_id, line, quote)
        held_years: list[int] = []
        for doc_id, facts in self.facts.items():
            if not self._doc_ok(doc_id, asked, place):
                continue
            records: list[tuple[Period | None, str, str]] = []
            for a in facts.assignments:
                records.append((a.deadline, f"{a.agency}: {_short(a.task)}", a.sentence))
            assigned = {a.sentence for a in facts.assignments}
            for t in facts.targets:
                if t.sentence in assigned:
                    continue  # the same line is listed as its agency's task
                records.append((t.deadline, f"đạt {t.figure}: {_short(t.subject)}", t.sentence))
            for i in facts.inspections:
                what = ", ".join(i.units[:4]) + ("…" if len(i.units) > 4 else "") \
                    if i.units else i.counted
                records.append((i.period, f"kiểm tra {i.unit_count} đơn vị ({what})",
                                i.sentence))
            for period, line, quote in records:
                if period is None or period.year is None:
                    continue
                held_years.append(period.year)
                if quarter not in period.quarters:
                    continue
                if asked.years and period.year not in asked.years:
                    continue
                items.append((period.year, doc_id, f"• {line} — hạn/thời gian: {period.text} "
                                                   f"({self._where(doc_id)})", quote))
        label = f"quý {int_to_roman(quarter)}"
        if not items:
            if asked.years:
                return self._nothing_for(f"việc có thời hạn trong {label}", asked.years[0],
                                         held_years)
            return None
        items.sort(key=lambda item: -item[0])
        when = f"{label}/{asked.years[0]}" if asked.years else label
        lines = [f"Những việc có thời hạn hoặc được thực hiện trong {when} theo các văn bản "
                 f"hiện có ({len(items)}):"]
        lines += [line for _, _, line, _ in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            lines.append(f"… và {len(items) - MAX_ITEMS} việc khác.")
        return self._answer(lines, ((d, q) for _, d, _, q in items[:MAX_ITEMS]))


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"

