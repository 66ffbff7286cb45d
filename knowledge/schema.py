"""Typed data that flows between the stages of the knowledge base.

    Document ──chunking──▶ Chunk ──retrieval──▶ Hit ──answering──▶ Answer(citations)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class DocumentMeta:
    """What a document is. Every field is optional: news articles often lack a số hiệu.

    Example: ``DocumentMeta(number="1331/QĐ-UBND", doc_type="Quyết định", date="2018-04-13",
    issuer="UBND tỉnh Quảng Bình", places=("Quảng Bình",), year=2018)``.
    """

    title: str = ""
    number: str = ""  # số hiệu, e.g. "1331/QĐ-UBND"
    doc_type: str = ""  # loại văn bản, e.g. "Quyết định", "Kế hoạch", "Tin tức"
    date: str = ""  # ngày ban hành, ISO "YYYY-MM-DD"
    issuer: str = ""  # cơ quan ban hành
    signer: str = ""  # người ký
    signer_title: str = ""  # e.g. "Phó chủ tịch, ký thay Chủ tịch"
    places: tuple[str, ...] = ()  # địa phương
    year: int | None = None  # năm the document is about (or was issued)
    source: str = ""  # URL or original path
    references: tuple[str, ...] = ()  # số hiệu of other documents mentioned in the text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["places"] = list(self.places)
        data["references"] = list(self.references)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentMeta:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["places"] = tuple(known.get("places") or ())
        known["references"] = tuple(known.get("references") or ())
        year = known.get("year")
        known["year"] = int(year) if year not in (None, "") else None
        return cls(**known)

    def merged_over(self, extracted: DocumentMeta) -> DocumentMeta:
        """Explicit (self) wins over extracted; empty explicit fields fall back to extracted."""
        values = {}
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            values[name] = mine if mine not in ("", (), None) else getattr(extracted, name)
        return DocumentMeta(**values)


@dataclass(frozen=True)
class DocumentFeatures:
    """What the answer layer checks about a whole document, computed once at ingest: the years
    it speaks of (ranges expanded), the số hiệu it mentions, the documents it names by type
    and number ("Chỉ thị 23" → ``"Chỉ thị|23|"``), the indices and the ministries or
    departments it names, and whether it is about administrative reform at all."""

    years: tuple[int, ...] = ()
    numbers: tuple[str, ...] = ()
    indices: tuple[str, ...] = ()
    cchc: bool = False
    refs: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"years": list(self.years), "numbers": list(self.numbers),
                "indices": list(self.indices), "cchc": self.cchc, "refs": list(self.refs),
                "agencies": list(self.agencies)}

    @classmethod
    def from_dict(cls, data: dict) -> DocumentFeatures:
        return cls(tuple(data.get("years") or ()), tuple(data.get("numbers") or ()),
                   tuple(data.get("indices") or ()), bool(data.get("cchc")),
                   tuple(data.get("refs") or ()), tuple(data.get("agencies") or ()))


@dataclass(frozen=True)
class Document:
    """One source document: its stable id (path relative to the ingested folder), text, meta."""

    id: str
    text: str
    meta: DocumentMeta = field(default_factory=DocumentMeta)

    def with_meta(self, meta: DocumentMeta) -> Document:
        return replace(self, meta=meta)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a span ``[start, end)`` of its document's text."""

    id: str  # "<doc_id>#<n>"
    doc_id: str
    text: str
    start: int
    end: int
    heading: str = ""  # heading path, e.g. "Điều 3 > Khoản 2" or the article title

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass(frozen=True)
class Hit:
    """A chunk returned by a retriever with its score (higher is better)."""

    chunk: Chunk
    score: float


class AnswerKind(str, Enum):
    """What a question asks for, and so what kind of answer it gets."""

    LIST = "list"
    COUNT = "count"
    NUMBER = "number"
    DATE = "date"
    DOC_NUMBER = "doc_number"
    PERSON = "person"
    AGENCY = "agency"
    YES_NO = "yes_no"
    DEFINITION = "definition"
    PURPOSE = "purpose"
    LOCATION = "location"
    PASSAGE = "passage"
    #: an answer drawn from the structured facts of several documents
    AGGREGATE = "aggregate"
    #: who signed / who issued a document (a follow-up about the last one cited)
    SIGNER = "signer"
    ISSUER = "issuer"

    @classmethod
    def from_str(cls, value: str) -> AnswerKind:
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown answer kind {value!r}; choose one of: {choices}") from None


@dataclass(frozen=True)
class Citation:
    """Where an answer came from, shown to the user as "Nguồn: …".

    ``evidence_span`` is ``[start, end)`` of the evidence in the cited document's text (the
    sentence or list the answer was read from), or ``None`` when the answer comes from the
    document's metadata or from several places."""

    doc_id: str
    title: str
    number: str
    date: str
    quote: str
    doc_type: str = ""
    issuer: str = ""
    source: str = ""
    evidence_span: tuple[int, int] | None = None

    QUOTE_LIMIT = 300

    @classmethod
    def from_document(cls, doc: Document | None, quote: str,
                      span: tuple[int, int] | None = None) -> Citation:
        """The citation of ``doc`` with ``quote`` (white space collapsed, cut at a word near
        ``QUOTE_LIMIT`` characters); an empty citation when the document is unknown."""
        quote = " ".join(quote.split())
        if len(quote) > cls.QUOTE_LIMIT:
            cut = quote.rfind(" ", 0, cls.QUOTE_LIMIT)
            quote = quote[: cut if cut > 0 else cls.QUOTE_LIMIT] + " …"
        if doc is None:
            return cls("", "", "", "", quote)
        meta = doc.meta
        return cls(doc_id=doc.id, title=meta.title, number=meta.number, date=meta.date,
                   quote=quote, doc_type=meta.doc_type, issuer=meta.issuer, source=meta.source,
                   evidence_span=span)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["evidence_span"] = list(self.evidence_span) if self.evidence_span else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        span = known.get("evidence_span")
        known["evidence_span"] = tuple(span) if span else None
        return cls(**known)


@dataclass(frozen=True)
class Answer:
    """The answer itself, or a decline (``declined=True``) with the closest leads as citations."""

    text: str
    declined: bool
    citations: tuple[Citation, ...] = ()
    kind: AnswerKind = AnswerKind.PASSAGE
    confidence: float = 0.0
    #: a decline that offers what the documents hold instead (another place's facts of the
    #: year asked): its first citation is what "văn bản đó" refers to in the next turn
    offers_facts: bool = False

    @property
    def subject_doc_id(self) -> str:
        """The document the reply is about (for follow-ups), or "" (a plain decline's leads
        are not a subject)."""
        if self.citations and (not self.declined or self.offers_facts):
            return self.citations[0].doc_id
        return ""

    def __post_init__(self) -> None:
        if not isinstance(self.kind, AnswerKind):
            object.__setattr__(self, "kind", AnswerKind.from_str(str(self.kind)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "declined": self.declined,
            "kind": self.kind.value,
            "confidence": round(self.confidence, 4),
            "citations": [c.to_dict() for c in self.citations],
        }
