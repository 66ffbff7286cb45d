"""``.pdf`` files: the text layer, page by page; a scanned PDF without one is refused."""

from __future__ import annotations

from pathlib import Path

from knowledge.ingest.formats.base import (
    SPACES,
    Extracted,
    LoadError,
    encoding_notes,
    repair,
    useful_title,
)

SUFFIXES = (".pdf",)
MIN_PDF_CHARS_PER_PAGE = 20  # fewer non-space characters per page than this: a scanned PDF


def extract_pdf_file(file: Path) -> Extracted:
    """A ``.pdf``'s text layer, page by page.

    Raises:
        LoadError: encrypted, corrupt or truncated, or without a text layer (scanned:
            "run OCR first") — such a file is reported, never indexed empty.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(file))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is encrypted (password protected): cannot read its text")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = useful_title(str((reader.metadata or {}).get("/Title") or ""))
    except LoadError:
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

