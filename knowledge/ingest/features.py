"""What the answer layer checks about a whole document, computed once when it is indexed."""

from __future__ import annotations

import re

from knowledge.lexicon.agencies import find_agencies
from knowledge.lexicon.dates import years_in
from knowledge.lexicon.doc_numbers import DocumentRef, document_refs, find_numbers
from knowledge.lexicon.indices import find_indices
from knowledge.schema import Document, DocumentFeatures
from knowledge.text.vietnamese import fold_diacritics

#: Administrative reform as a topic (folded text)
_CCHC_TOPIC = re.compile(r"\b(cchc|cai cach hanh chinh|tthc|thu tuc hanh chinh)\b")
#: How far into a long document the topic is looked for
TOPIC_WINDOW = 20_000


def is_cchc_topic(text: str) -> bool:
    """Is ``text`` about administrative reform (cải cách hành chính, thủ tục hành chính)?"""
    return bool(_CCHC_TOPIC.search(fold_diacritics(text).lower()))


def document_features(doc: Document) -> DocumentFeatures:
    """Years (ranges expanded, its own year included), số hiệu mentioned, documents named by
    type and number, indices and departments named, and whether it is about administrative
    reform.

    >>> from knowledge.schema import DocumentMeta
    >>> f = document_features(Document("a", "Kế hoạch CCHC giai đoạn 2016-2018 (PAR INDEX)",
    ...                                DocumentMeta(year=2015)))
    >>> f.years, f.indices, f.cchc
    ((2015, 2016, 2017, 2018), ('PAR INDEX',), True)
    """
    head = doc.meta.title + "\n" + doc.text
    years = years_in(head)
    if doc.meta.year:
        years.add(doc.meta.year)
    numbers = find_numbers(head)
    refs = {ref.key for ref in document_refs(head)}
    for number in [*numbers, doc.meta.number]:
        ref = DocumentRef.of_number(number) if number else None
        if ref is not None:
            refs.add(ref.key)
    return DocumentFeatures(tuple(sorted(years)), tuple(numbers), find_indices(head),
                            is_cchc_topic(head[:TOPIC_WINDOW]), tuple(sorted(refs)),
                            find_agencies(head))
