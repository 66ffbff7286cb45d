"""Candidate answers: the stored sentences of the best passages, in search order.

Nothing is segmented or embedded here: each candidate is a row of the index's sentence table
with its span, text and vector. For questions about a document itself ("kế hoạch số mấy?",
"ban hành ngày nào?") each document also offers the sentence made from its own metadata
(:mod:`knowledge.ingest.sentences`).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.answering.corpus import Corpus
from knowledge.answering.question import QuestionAnalysis
from knowledge.schema import AnswerKind, Chunk, Hit

#: kinds for which a document's own description ("Kế hoạch số … ngày …: …") is a candidate
SELF_DESCRIBED = (AnswerKind.DOC_NUMBER, AnswerKind.DATE)


@dataclass(frozen=True)
class Candidate:
    """A sentence that may answer: its text as read, where it lies (document and span), the
    passage it was read from and that passage's search rank. ``row`` is its row in the
    sentence table."""

    text: str
    doc_id: str
    start: int
    end: int
    chunk: Chunk
    rank: int
    row: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def collect(hits: list[Hit], analysis: QuestionAnalysis, corpus: Corpus) -> list[Candidate]:
    """The sentences of the hits' passages, best passage first; a sentence read from two
    passages comes once, with the better one."""
    out: list[Candidate] = []
    seen_rows: set[int] = set()
    described: set[str] = set()
    table = corpus.sentences
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        for row in table.of_chunk(corpus.chunk_row(chunk)):
            row = int(row)
            if row in seen_rows:
                continue
            seen_rows.add(row)
            start, end = table.span(row)
            out.append(Candidate(table.text(row), chunk.doc_id, start, end, chunk, rank, row))
        if analysis.kind in SELF_DESCRIBED and chunk.doc_id not in described:
            described.add(chunk.doc_id)
            row = table.description_row(chunk.doc_id)
            if row >= 0:
                start, end = table.span(row)
                out.append(Candidate(table.text(row), chunk.doc_id, start, end, chunk, rank,
                                     row))
    return out
