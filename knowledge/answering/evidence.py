"""The evidence an answer is read from: the chosen sentence, completed where it is incomplete
on its own — the list or sentence a lead-in announces ("…cụ thể như sau:"), the breakdown of a
figure ("Trong đó …"), the sentence that answers a second sub-question, the agency heading a
list of duties belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.answering.candidates import Candidate
from knowledge.answering.extractors import extractor_for
from knowledge.answering.extractors.base import clean
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.agencies import AGENCY_RE
from knowledge.lexicon.words import FOLDED_STOPWORDS, QUESTION_WORDS
from knowledge.schema import AnswerKind, Document
from knowledge.text.sentences import marker_kind, split_sentences
from knowledge.text.vietnamese import fold_diacritics

_ELABORATION = re.compile(r"(?:Trong đó|Cụ thể|Bao gồm|Gồm)\b")
_DUTY_ITEM = re.compile(r"[a-zđ][.)]\s|[-+•*–]\s")
_SYLLABLE = re.compile(r"\w+")
#: how far after the evidence the next sentence is looked for, and before it the heading
FOLLOWING = 1500
PRECEDING = 3000


@dataclass(frozen=True)
class Evidence:
    """The text an answer is read from and its span in the document (the chosen sentence,
    widened to what completes it)."""

    text: str
    candidate: Candidate
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def syllables(text: str) -> set[str]:
    return set(_SYLLABLE.findall(fold_diacritics(text).lower()))


def assemble(analysis: QuestionAnalysis, best: Candidate, doc: Document | None,
             candidates: list[Candidate]) -> Evidence:
    """The chosen sentence with what completes it (see module doc)."""
    evidence = Evidence(best.text, best, best.start, best.end)
    if doc is None:
        return evidence
    evidence = _with_continuation(analysis, evidence, doc)
    evidence = _with_other_parts(analysis, evidence, candidates)
    if analysis.kind in (AnswerKind.AGENCY, AnswerKind.PERSON):
        evidence = _with_owner(evidence, doc)
    return evidence


def _with_continuation(analysis: QuestionAnalysis, evidence: Evidence,
                       doc: Document) -> Evidence:
    """A sentence that announces what follows ("…cụ thể như sau:", "…gồm:") is incomplete
    without the next sentence or list: take it along. So is a figure or a list whose
    breakdown follows ("…có 11 cán bộ, công chức. Trong đó có 3 …")."""
    if evidence.end <= evidence.start:
        return evidence  # a sentence made from metadata
    rest = doc.text[evidence.end: evidence.end + FOLLOWING]
    skipped = len(rest) - len(rest.lstrip())
    following = split_sentences(rest.lstrip(), evidence.end + skipped)
    if not following:
        return evidence
    nxt = following[0]
    if evidence.text.rstrip().endswith(":") or (
            analysis.kind in (AnswerKind.COUNT, AnswerKind.NUMBER, AnswerKind.LIST)
            and _ELABORATION.match(nxt.text)):
        return Evidence(evidence.text + "\n" + nxt.text, evidence.candidate, evidence.start,
                        nxt.end)
    return evidence


def _with_other_parts(analysis: QuestionAnalysis, evidence: Evidence,
                      candidates: list[Candidate]) -> Evidence:
    """A question that asks two things ("công bố ngày nào và là năm thứ mấy?") may need a
    second sentence of the same document: the best one with the shape of the other part."""
    if not analysis.subquestions:
        return evidence
    best = evidence.candidate
    extra: list[Candidate] = []
    for sub, part in zip(analysis.subquestions, analysis.parts, strict=True):
        extractor = extractor_for(sub.kind)
        if extractor.fit(sub, evidence.text) != 0:
            continue  # the evidence answers this part too (or no shape to check)
        words = syllables(part) - QUESTION_WORDS - FOLDED_STOPWORDS
        for cand in candidates:
            if cand.doc_id != best.doc_id or cand.text == best.text or cand in extra:
                continue
            if not extractor.fit(sub, cand.text):
                continue
            if words & syllables(cand.text):
                extra.append(cand)
                break
    if not extra:
        return evidence
    text = " ".join([evidence.text, *(c.text for c in extra)])
    return Evidence(text, best, evidence.start, evidence.end)


def _with_owner(evidence: Evidence, doc: Document) -> Evidence:
    """Duties listed under an agency ("4. Văn phòng UBND tỉnh" / "a) Theo dõi, kiểm tra …")
    say who does them only in that heading: an item without a subject gets it back."""
    if not _DUTY_ITEM.match(evidence.text):
        return evidence
    if AGENCY_RE.search(" ".join(evidence.text.split()[:6])):
        return evidence  # "- Sở Nội vụ chủ trì …" names its agency itself
    before = max(0, evidence.start - PRECEDING)
    units = split_sentences(doc.text[before: evidence.start])
    if not units:
        return evidence
    owner = units[-1].text.split("\n", 1)[0].strip()
    if not (marker_kind(owner) == "digit" or owner.endswith(":")) or len(owner.split()) > 15:
        return evidence
    if not AGENCY_RE.search(owner):
        return evidence
    name = clean(owner).rstrip(":").strip()
    return Evidence(f"{name}: {evidence.text}", evidence.candidate, evidence.start,
                    evidence.end)
