"""``.pdf`` files: the text layer, page by page; a scanned PDF without one is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from knowledge.ingest.formats.base import (
    DEFAULT_LIMITS,
    SPACES,
    Extracted,
    ExtractLimits,
    Limit,
    LimitExceeded,
    LoadError,
    encoding_notes,
    repair,
    useful_title,
)

SUFFIXES = (".pdf",)
MIN_PDF_CHARS_PER_PAGE = 20  # fewer non-space characters per page than this: a scanned PDF


def _streams(value: Any) -> list[Any]:
    """The content streams of a page's ``/Contents`` (one stream or an array of them)."""
    from pypdf.generic import ArrayObject, StreamObject

    value = value.get_object() if value is not None else None
    items = list(value) if isinstance(value, ArrayObject) else [value]
    streams = [item.get_object() if item is not None else None for item in items]
    return [s for s in streams if isinstance(s, StreamObject)]


def content_bytes(page: Any) -> int:
    """Decoded bytes the text extraction of ``page`` parses: its content streams and the form
    XObjects its resources hold (pypdf caches decoded streams, so a stream shared by many
    pages is inflated once here and reused by the extraction — but parsed on every page)."""
    total = sum(len(s.get_data()) for s in _streams(page.get("/Contents")))
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else {}
    xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
    xobjects = xobjects.get_object() if xobjects is not None else {}
    for ref in (xobjects.values() if hasattr(xobjects, "values") else ()):
        form = ref.get_object()
        if hasattr(form, "get_data") and form.get("/Subtype") == "/Form":
            total += len(form.get_data())
    return total


def extract_pdf_file(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> Extracted:
    """A ``.pdf``'s text layer, page by page.

    The work is bounded before any page is parsed: at most ``limits.max_pdf_pages`` pages and
    ``limits.max_pdf_content_bytes`` of content to parse over all pages (a stream counts again
    on every page that draws it); extraction stops once the text passes ``limits.max_chars``.

    Raises:
        LoadError: encrypted, corrupt or truncated, or without a text layer (scanned:
            "run OCR first") — such a file is reported, never indexed empty;
            :class:`~knowledge.ingest.formats.base.LimitExceeded` over a limit.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(file))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted (password protected): cannot read its text")
        count = len(reader.pages)
        if count > limits.max_pdf_pages:
            raise LimitExceeded(Limit.PDF_PAGES, limits.max_pdf_pages, count,
                                f"the PDF has {count:,} pages (limit {limits.max_pdf_pages:,}); "
                                "split it into smaller files")
        work = 0
        for page in reader.pages:
            work += content_bytes(page)
            if work > limits.max_pdf_content_bytes:
                raise LimitExceeded(
                    Limit.PDF_CONTENT, limits.max_pdf_content_bytes, work,
                    f"the PDF's pages hold more than {limits.max_pdf_content_bytes:,} bytes of "
                    "drawing instructions to read (a page content repeated on many pages?)")
        pages, chars = [], 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1]) + 2
            limits.check_chars(chars)
        title = useful_title(str((reader.metadata or {}).get("/Title") or ""))
    except LoadError:  # LimitExceeded too
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise LoadError(f"corrupt or truncated PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise LoadError("corrupt or truncated PDF (no pages found)")
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    chars = len(SPACES.sub("", text))
    if chars < MIN_PDF_CHARS_PER_PAGE * len(pages):
        raise LoadError(
            f"PDF has no text layer (scanned?): run OCR first ({chars} characters of text "
            f"on {len(pages)} page(s))"
        )
    repaired = repair(text)
    fields = {"title": repair(title).text} if title else {}
    return Extracted(repaired.text, fields, encoding_notes(repaired))

