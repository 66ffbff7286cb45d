"""Turn files into :class:`Document` objects.

Supported (one reader module per format in :mod:`knowledge.ingest.formats`):

* ``.txt`` and ``.md`` — optionally with a header of ``key: value`` lines ended by ``---``, or
  YAML front matter between ``---`` lines;
* ``.html`` / ``.htm`` — portal pages: the article is kept, navigation, menus, share buttons,
  "Tin liên quan" lists and footers are dropped; title, date and canonical URL become metadata;
* ``.docx`` — paragraphs, headings and tables (rows as ``cell | cell``) in order;
* ``.pdf`` — the text layer; a scanned PDF without one is refused ("run OCR first");
* ``.jsonl`` — bulk records, one document per line: ``id``, ``text``, optional ``title`` and
  metadata fields.

Every text is brought to NFC Unicode; legacy Vietnamese encodings (TCVN3/ABC, VNI,
Windows-1258) are detected and converted, and text that still looks like mojibake is refused
rather than indexed. A file's document id is its path relative to the folder given (a single
file: its name). :func:`load_paths` never stops at a bad file: it reports it with the reason.

Every reader keeps to :class:`~knowledge.ingest.formats.base.ExtractLimits` (text per document,
file size, PDF pages and content, ``.docx`` decompressed sizes and ratio): a file over a limit
is refused with :class:`~knowledge.ingest.formats.base.LimitExceeded`, a :class:`LoadError`
whose message says which limit. Files from people outside the operator's control (console
uploads) are also parsed in a separate process with CPU and memory limits
(:mod:`console.sandbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from knowledge.ingest.formats import docx, html, jsonl, pdf, text
from knowledge.ingest.formats.base import (
    DEFAULT_LIMITS,
    Extracted,
    ExtractLimits,
    Limit,
    LimitExceeded,
    LoadError,
)
from knowledge.ingest.formats.text import split_header
from knowledge.ingest.metadata import extract_metadata, places_from_source
from knowledge.lexicon.doc_types import canonical_type
from knowledge.schema import Document, DocumentMeta
from knowledge.text.normalize import clean_text

__all__ = ["DEFAULT_LIMITS", "ExtractLimits", "Extracted", "Limit", "LimitExceeded",
           "LoadError", "LoadReport", "SUPPORTED_SUFFIXES", "extract_file", "iter_files",
           "load_file", "load_jsonl", "load_paths", "load_text_file", "make_document",
           "split_header"]

logger = logging.getLogger(__name__)

_EXTRACTORS: dict[str, Callable[[Path, ExtractLimits], Extracted]] = {
    **dict.fromkeys(text.SUFFIXES, text.extract_text_file),
    **dict.fromkeys(html.SUFFIXES, html.extract_html_file),
    **dict.fromkeys(docx.SUFFIXES, docx.extract_docx_file),
    **dict.fromkeys(pdf.SUFFIXES, pdf.extract_pdf_file),
}
SUPPORTED_SUFFIXES = tuple(_EXTRACTORS) + jsonl.SUFFIXES


@dataclass
class LoadReport:
    """Documents read, files skipped (with the reason) and warnings, for the operator."""

    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, what to check)


def iter_files(path: Path) -> Iterator[tuple[Path, str]]:
    """(file, document id) pairs under ``path``; ids are relative to ``path``."""
    if path.is_file():
        yield path, path.name
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in file.relative_to(path).parts):
            continue
        yield file, file.relative_to(path).as_posix()


def load_paths(paths: list[Path], limits: ExtractLimits = DEFAULT_LIMITS) -> LoadReport:
    """Read every supported file under ``paths``. Unsupported, broken or over-limit files are
    reported, never silently indexed, and one bad file never stops the others."""
    report = LoadReport()
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise FileNotFoundError(f"no such file or folder: {root}")
        for file, doc_id in iter_files(root):
            suffix = file.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                if root.is_file():
                    report.failures.append((str(file), f"unsupported file type '{suffix}'"))
                continue
            try:
                if suffix in jsonl.SUFFIXES:
                    report.documents.extend(load_jsonl(file, limits))
                    continue
                extracted = extract_file(file, limits)
                report.documents.append(
                    make_document(doc_id, extracted.text, extracted.fields, limits))
            except LoadError as exc:
                logger.warning("skipped %s: %s", file, exc)
                report.failures.append((str(file), str(exc)))
                continue
            except MemoryError:
                logger.error("skipped %s: out of memory while reading it", file)
                report.failures.append((str(file), "out of memory while reading the file"))
                continue
            except OSError as exc:
                logger.warning("skipped %s: %s", file, exc)
                report.failures.append((str(file), f"could not read the file: {exc}"))
                continue
            except Exception as exc:  # a parser bug must not stop the other files
                logger.exception("unexpected error reading %s", file)
                report.failures.append(
                    (str(file), f"unexpected error reading the file: {type(exc).__name__}: {exc}")
                )
                continue
            for note in extracted.notes:
                logger.warning("%s: %s", file, note)
                report.warnings.append((str(file), note))
    return report


def extract_file(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> Extracted:
    """Text and stated metadata of one ``.txt``/``.md``/``.html``/``.docx``/``.pdf`` file.

    Raises:
        LoadError: the file is of another type, broken, scanned, or its text unreadable;
            :class:`LimitExceeded` when it is over one of ``limits``.
    """
    extractor = _EXTRACTORS.get(file.suffix.lower())
    if extractor is None:
        raise LoadError(f"unsupported file type '{file.suffix.lower()}'")
    return extractor(file, limits)


def _meta_from_fields(fields: dict) -> DocumentMeta:
    data = dict(fields)
    if "url" in data and not data.get("source"):
        data["source"] = data.pop("url")
    if isinstance(data.get("places"), str):
        data["places"] = [p.strip() for p in data["places"].split(",") if p.strip()]
    if data.get("doc_type"):
        data["doc_type"] = canonical_type(str(data["doc_type"]))
    return DocumentMeta.from_dict(data)


def make_document(doc_id: str, text: str, fields: dict | None = None,
                  limits: ExtractLimits = DEFAULT_LIMITS) -> Document:
    """Clean ``text``, extract metadata and lay explicit ``fields`` over it.

    Raises:
        LoadError: no text; :class:`LimitExceeded` for more text than ``limits.max_chars``.
    """
    limits.check_chars(len(text))
    text = clean_text(text)
    if not text:
        raise LoadError("the document has no text")
    explicit = _meta_from_fields(fields or {})
    extracted = extract_metadata(text, explicit.title)
    meta = explicit.merged_over(extracted)
    portal = places_from_source(meta.source)
    if portal and not explicit.places:  # a provincial portal is about its province
        meta = replace(meta, places=tuple(dict.fromkeys(portal + meta.places)))
    return Document(id=doc_id, text=text, meta=meta)


def load_text_file(file: Path, doc_id: str) -> Document:
    """A ``.txt``/``.md`` file as a document (header fields are explicit metadata)."""
    extracted = text.extract_text_file(file)
    return make_document(doc_id, extracted.text, extracted.fields)


def load_file(file: Path, doc_id: str) -> Document:
    """Any supported single-document file (not ``.jsonl``) as a document.

    Raises:
        LoadError: the file could not be read; the message says why.
    """
    extracted = extract_file(file)
    return make_document(doc_id, extracted.text, extracted.fields)


def load_jsonl(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> list[Document]:
    """One document per line: ``id``, ``text`` and optional metadata fields (each record's
    text within ``limits.max_chars``)."""
    return [make_document(doc_id, body, fields, limits) for doc_id, body, fields in
            jsonl.read_records(file)]
