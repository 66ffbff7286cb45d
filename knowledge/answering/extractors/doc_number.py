"""Số hiệu: "quyết định nào? / kế hoạch số mấy? / căn cứ văn bản nào?" — a document number
other than the ones the question names, with its date; the document it denotes is cited when
the knowledge base holds it."""

from __future__ import annotations

import re

from knowledge.answering.corpus import Corpus
from knowledge.answering.extractors.base import Extraction, Extractor, clean
from knowledge.answering.question import QuestionAnalysis
from knowledge.lexicon.dates import parse_dates, vn_date
from knowledge.lexicon.doc_numbers import find_numbers, type_of_number
from knowledge.lexicon.people import UPPER
from knowledge.schema import AnswerKind, Document


class DocNumberExtractor(Extractor):
    kinds = (AnswerKind.DOC_NUMBER,)

    def fit(self, analysis: QuestionAnalysis, text: str) -> float | None:
        return 1.0 if any(not analysis.names_number(n) for n in find_numbers(text)) else 0.0

    def extract(self, analysis: QuestionAnalysis, sentence: str, doc: Document | None,
                corpus: Corpus) -> Extraction:
        """The số hiệu (of the type asked for) in the sentence other than the ones the
        question names; a sentence that speaks of its own document ("Ủy ban nhân dân tỉnh ban
        hành kế hoạch …, cụ thể như sau:") answers with that document."""
        sentence = sentence.rstrip()
        wanted = analysis.doc_type
        numbers = [n for n in find_numbers(sentence) if not analysis.names_number(n)]
        typed = [n for n in numbers if wanted and type_of_number(n) == wanted]
        numbers = typed or numbers
        if numbers:
            number = numbers[0]
            at = sentence.find(number) + len(number)
            dates = [d for pos, d in parse_dates(sentence) if 0 <= pos - at <= 25]
            when = f" ngày {vn_date(dates[0].isoformat())}" if dates else ""
            source = numbered_document(number, corpus)
            if not when and source is not None and len(source.meta.date) == 10:
                when = f" ngày {vn_date(source.meta.date)}"
            head = f"{type_of_number(number) or 'Văn bản'} số {number}{when}"
            if not when and doc is not None:
                head = full_mention(number, doc.text) or head
            text = sentence if sentence.startswith(head) else f"{head}. {sentence}"
            return Extraction(text, source)
        own = doc.meta.number if doc is not None else ""
        if own and not analysis.names_number(own) and (
                not wanted or type_of_number(own) == wanted):
            kind_name = type_of_number(own) or doc.meta.doc_type or "Văn bản"
            when = f" ngày {vn_date(doc.meta.date)}" if len(doc.meta.date) == 10 else ""
            return Extraction(f"{kind_name} số {own}{when}. {sentence}")
        return Extraction(clean(sentence))


_MENTION_END = re.compile(r"[;.:]|,\s+(?=[" + UPPER + "])")
_DATE_AFTER = re.compile(r"^\s*+,?\s*+(?:ngày\s++)?(?:\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}"
                         r"|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4})", re.IGNORECASE)


def full_mention(number: str, text: str, limit: int = 200) -> str:
    """The first place ``text`` names ``number`` with its date, as a reference: "Nghị định số
    61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ về thực hiện cơ chế một cửa …" ("" when the
    text never dates it).

    >>> full_mention("61/2018/NĐ-CP", "Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của "
    ...              "Chính phủ về cơ chế một cửa; Theo đề nghị …")
    'Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ về cơ chế một cửa'
    """
    start = 0
    while (at := text.find(number, start)) >= 0:
        start = at + len(number)
        dates = [d for pos, d in parse_dates(text[start:start + 40]) if pos <= 25]
        if not dates:
            continue
        window = " " + " ".join(text[start:start + limit].split())  # hard wraps joined
        end = _MENTION_END.search(window, 10)
        tail = _DATE_AFTER.sub(f" ngày {vn_date(dates[0].isoformat())}",
                               window[:end.start()] if end else window, count=1)
        kind = type_of_number(number) or "Văn bản"
        return f"{kind} số {number}{tail}".strip()
    return ""


def numbered_document(number: str, corpus: Corpus) -> Document | None:
    """The document of the knowledge base that *is* this số hiệu (its own number, named in its
    title), if any."""
    for doc_id in corpus.documents_numbered(number):
        doc = corpus.document(doc_id)
        if doc is not None and doc.meta.number == number and number in doc.meta.title:
            return doc
    return None
