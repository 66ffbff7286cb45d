"""Declines: a plain "the documents do not say", what they do hold instead when it is known
("Kế hoạch năm 2019 của Kon Tum không có trong các văn bản; có Kế hoạch 3335/KH-UBND cho năm
2018"), and the closest documents as leads. Always ``declined=True``."""

from __future__ import annotations

import re

from knowledge.answering.candidates import Candidate
from knowledge.answering.corpus import Corpus
from knowledge.answering.question import QuestionAnalysis
from knowledge.answering.reply import describe_source
from knowledge.answering.verify import Constraint
from knowledge.lexicon.doc_types import FOLDED_TYPE_NAMES
from knowledge.lexicon.indices import find_indices
from knowledge.schema import Answer, Citation, Hit

LEADS = 3
NOT_FOUND = "Xin lỗi, tôi không tìm thấy thông tin này trong các văn bản hiện có."
UNSURE = ("Xin lỗi, tôi không tìm thấy câu trả lời chắc chắn trong các văn bản hiện có. "
          "Các văn bản gần nhất có thể liên quan được liệt kê bên dưới.")
_TYPE_NAMED = re.compile(r"\b(" + "|".join(
    sorted((k for k in FOLDED_TYPE_NAMES if " " in k), key=len, reverse=True)) + r")\b")


def leads(hits: list[Hit], corpus: Corpus, first: str = "") -> tuple[Citation, ...]:
    """The closest documents (``first`` before the others), each once."""
    out: list[Citation] = []
    order = sorted(hits, key=lambda h: h.chunk.doc_id != first) if first else hits
    for hit in order:
        if any(c.doc_id == hit.chunk.doc_id for c in out):
            continue
        out.append(Citation.from_document(corpus.document(hit.chunk.doc_id), hit.chunk.text,
                                          (hit.chunk.start, hit.chunk.end)))
        if len(out) == LEADS:
            break
    return tuple(out)


def _subject(analysis: QuestionAnalysis) -> str:
    """What the question asks about, for the decline: a document type it names ("kế hoạch"),
    or "thông tin này"."""
    m = _TYPE_NAMED.search(analysis.folded)
    return FOLDED_TYPE_NAMES[m.group(1)].lower() if m else "thông tin này"


def _where(analysis: QuestionAnalysis) -> str:
    return f" của {', '.join(analysis.places)}" if analysis.places else ""


def decline(analysis: QuestionAnalysis, hits: list[Hit], corpus: Corpus,
            failed: tuple[Constraint, ...] = (), held: Candidate | None = None,
            unknown_number: str = "", confidence: float = 0.0) -> Answer:
    """The decline for a question whose answer the documents do not hold (``failed``: the
    constraints the best candidate missed; ``held``: that candidate; ``unknown_number``: the
    document the question names that the knowledge base has not, e.g. "văn bản số 1/QĐ-X")."""
    if not hits:
        return Answer(NOT_FOUND, declined=True, kind=analysis.kind)
    doc = corpus.document(held.doc_id) if held is not None else None
    described = describe_source(Citation.from_document(doc, "")) if doc is not None else ""
    subject = _subject(analysis)
    if unknown_number:
        text = (f"Tôi chưa có {unknown_number} trong kho tài liệu nên không trả lời được câu hỏi "
                "này. Các văn bản gần nhất được liệt kê bên dưới.")
    elif Constraint.INDEX in failed:
        asked = " và ".join(analysis.indices)
        when = f" năm {analysis.year}" if analysis.year else ""
        text = f"Các văn bản hiện có không nêu {asked}{when}{_where(analysis)}."
        other = [i for i in find_indices(held.text + "\n" + held.chunk.text)
                 if i not in analysis.indices] if held is not None else []
        if other and described:
            text += f" Có thông tin về {', '.join(other)} trong {described}."
    elif Constraint.YEAR in failed and analysis.year is not None:
        text = (f"Các văn bản hiện có không có {subject} năm {analysis.year}"
                f"{_where(analysis)}.")
        if described and doc is not None:
            year = doc.meta.year or (doc.meta.date[:4] if doc.meta.date else "")
            text += f" Văn bản gần nhất: {described}" + (f" (năm {year})." if year else ".")
    elif Constraint.PLACE in failed and analysis.places:
        text = f"Các văn bản hiện có không nêu {subject}{_where(analysis)}."
        if described and doc is not None and doc.meta.places:
            text += (f" Văn bản gần nhất nói về {', '.join(doc.meta.places[:2])}: "
                     f"{described}.")
    elif Constraint.DOCUMENT in failed:
        text = ("Văn bản mà câu hỏi nhắc đến không nêu thông tin này. Các văn bản gần nhất "
                "được liệt kê bên dưới.")
    else:
        text = UNSURE
    return Answer(text, declined=True, citations=leads(hits, corpus, held.doc_id if held else ""),
                  kind=analysis.kind, confidence=confidence)
