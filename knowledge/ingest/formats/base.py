"""What every file-format reader shares: the result type, the errors, the limits every reader
keeps to, and decoding helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from knowledge.text.legacy_encodings import (
    UTF8,
    DecodedText,
    EncodingError,
    detect_and_decode,
    repair_mojibake,
)

SPACES = re.compile(r"\s+")


class LoadError(Exception):
    """A file that could not be turned into a document; the message says why."""


class Limit(Enum):
    """Which limit of :class:`ExtractLimits` a file went over."""

    FILE_BYTES = "file_bytes"
    CHARS = "chars"
    PDF_PAGES = "pdf_pages"
    PDF_CONTENT = "pdf_content"
    ZIP_MEMBERS = "zip_members"
    ZIP_BYTES = "zip_bytes"
    ZIP_XML_BYTES = "zip_xml_bytes"
    ZIP_RATIO = "zip_ratio"


class LimitExceeded(LoadError):
    """A file over one of the limits every reader keeps to (a zip bomb, a PDF whose pages
    repeat one huge content stream, more text than a document can have): refused before it
    costs more. ``limit`` says which, ``allowed`` and ``found`` the figures (``found`` may be a
    lower bound: reading stops as soon as the limit is passed)."""

    def __init__(self, limit: Limit, allowed: int, found: int, message: str) -> None:
        super().__init__(message)
        self.limit, self.allowed, self.found = limit, allowed, found


@dataclass(frozen=True)
class ExtractLimits:
    """What a reader accepts from one file, for ``kb ingest`` and console uploads alike.

    Attributes:
        max_chars: characters of text of one document (a 700-page document has about
            2,000,000); more is refused, not cut, so that nothing is silently lost.
        max_file_bytes: size of a ``.txt``/``.md``/``.html`` file, which is read whole.
        max_pdf_pages: pages of a PDF.
        max_pdf_content_bytes: decoded content-stream bytes (page contents and the forms they
            draw) parsed over all pages; counts a stream again on every page that uses it, so a
            PDF whose thousand pages share one large stream is refused early.
        max_zip_members: files inside a ``.docx``.
        max_zip_bytes: uncompressed size of all files inside a ``.docx`` (images included:
            the Word reader loads every part).
        max_zip_xml_bytes: uncompressed size of one XML part (``word/document.xml``…).
        max_zip_ratio: uncompressed/compressed ratio of a part over 1 MB (Word's XML
            compresses about 5-20 times; a zip bomb 1,000 times).
    """

    max_chars: int = 2_000_000
    max_file_bytes: int = 32 * 1024 * 1024
    max_pdf_pages: int = 1_000
    max_pdf_content_bytes: int = 16 * 1024 * 1024
    max_zip_members: int = 2_000
    max_zip_bytes: int = 256 * 1024 * 1024
    max_zip_xml_bytes: int = 64 * 1024 * 1024
    max_zip_ratio: int = 100

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def check_chars(self, count: int) -> None:
        """Raise :class:`LimitExceeded` when ``count`` characters are more than a document may
        have."""
        if count > self.max_chars:
            raise LimitExceeded(
                Limit.CHARS, self.max_chars, count,
                f"too much text: more than {self.max_chars:,} characters (found at least "
                f"{count:,}); split the document into smaller files")

    def check_file_bytes(self, size: int) -> None:
        """Raise :class:`LimitExceeded` for a file too big to be read whole."""
        if size > self.max_file_bytes:
            raise LimitExceeded(
                Limit.FILE_BYTES, self.max_file_bytes, size,
                f"file too big: {size:,} bytes (limit {self.max_file_bytes:,})")


DEFAULT_LIMITS = ExtractLimits()


def read_limited(path: Path, limits: ExtractLimits) -> bytes:
    """The bytes of a file that is read whole, refused above ``limits.max_file_bytes``."""
    with open(path, "rb") as fh:
        raw = fh.read(limits.max_file_bytes + 1)
        if len(raw) > limits.max_file_bytes:
            limits.check_file_bytes(max(len(raw), path.stat().st_size))
    return raw


@dataclass(frozen=True)
class Extracted:
    """Text taken out of one file, the metadata the file states, and notes for the operator."""

    text: str
    fields: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def decode(raw: bytes) -> DecodedText:
    """Bytes of any supported encoding (UTF-8, Windows-1258, TCVN3, VNI) as NFC text."""
    try:
        return detect_and_decode(raw)
    except EncodingError as exc:
        raise LoadError(str(exc)) from exc


def repair(text: str) -> DecodedText:
    """Text that may still carry legacy-font mojibake, converted to Unicode."""
    try:
        return repair_mojibake(text)
    except EncodingError as exc:
        raise LoadError(str(exc)) from exc


def encoding_notes(decoded: DecodedText) -> tuple[str, ...]:
    """What the operator should know about a file's encoding."""
    notes = []
    if "+" in decoded.encoding:  # Unicode carrying legacy-font text: "utf-8+tcvn3"
        legacy = decoded.encoding.split("+", 1)[1]
        notes.append(f"converted {legacy} legacy-font text to Unicode")
    elif decoded.encoding != UTF8:
        notes.append(f"converted from {decoded.encoding} to Unicode")
    if not decoded.confident:
        notes.append(f"encoding {decoded.encoding} detected with low confidence: check the text")
    return tuple(notes)


def useful_title(title: str | None) -> str:
    """A title stated in a file's properties, unless it is a word processor's placeholder."""
    title = SPACES.sub(" ", title or "").strip()
    if len(title) < 4 or title.lower().startswith(("microsoft word", "untitled", "document")):
        return ""
    return title
