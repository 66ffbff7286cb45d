"""The sentences answers are drawn from, chosen at ingest: every passage widened to whole
sentences and split (a sentence read from two overlapping passages is kept once), and — for a
numbered document — one sentence made from its metadata that says what it is ("Kế hoạch số
87/KH-UBND ngày 10/12/2013: Kế hoạch cải cách hành chính tỉnh Tuyên Quang năm 2014"), which
answers "kế hoạch số mấy?" or "ban hành ngày nào?" about the document itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.lexicon.dates import vn_date
from knowledge.lexicon.doc_numbers import type_of_number
from knowledge.lexicon.doc_types import is_news
from knowledge.schema import Chunk, Document
from knowledge.text.sentences import split_sentences, widen_to_sentences


@dataclass(frozen=True)
class DocumentSentence:
    """A sentence of a document: the chunk it was read from (its index in the document's
    chunks; -1 for the description), its span in the document's text, its text as read."""

    chunk: int
    start: int
    end: int
    text: str

    @property
    def is_description(self) -> bool:
        return self.chunk < 0


def self_description(doc: Document) -> str:
    """A sentence saying what the document itself is, from its metadata (not for news: a news
    article's main number and date are not its own)."""
    meta = doc.meta
    if not meta.number or not meta.title or is_news(meta.doc_type):
        return ""
    kind = type_of_number(meta.number) or "Văn bản"
    when = f" ngày {vn_date(meta.date)}" if len(meta.date) == 10 else ""
    title = re.sub(r"\s*(?:số\s*)?" + re.escape(meta.number), "", meta.title).strip()
    return f"{kind} số {meta.number}{when}: {title}"


def document_sentences(doc: Document, chunks: list[Chunk]) -> list[DocumentSentence]:
    """The passage sentences of ``doc``, in reading order, then its description."""
    seen: set[tuple[int, int]] = set()
    out = []
    for i, chunk in enumerate(chunks):
        start, end = widen_to_sentences(doc.text, chunk.start, chunk.end)
        for sentence in split_sentences(doc.text[start:end], start):
            if (sentence.start, sentence.end) in seen:
                continue
            seen.add((sentence.start, sentence.end))
            out.append(DocumentSentence(i, sentence.start, sentence.end, sentence.text))
    description = self_description(doc)
    if description:
        at = doc.text.find(doc.meta.number)
        span = (at, at + len(doc.meta.number)) if at >= 0 else (0, 0)
        out.append(DocumentSentence(-1, *span, description))
    return out
