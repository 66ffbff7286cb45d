"""``.docx`` files: paragraphs in order, headings on their own lines, numbered items as
``- ``, tables as ``cell | cell`` rows; the core-properties title as metadata."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
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

SUFFIXES = (".docx",)
_RATIO_FLOOR = 1024 * 1024  # parts smaller than this are not checked for their ratio


def check_zip(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> None:
    """Refuse a zip package whose parts would inflate beyond ``limits`` — before anything is
    decompressed. The sizes come from the zip's central directory; :mod:`zipfile` never
    inflates a part past its declared size (and checks its CRC), so they bound the work.

    Raises:
        LimitExceeded: too many parts, too big uncompressed, or compressed suspiciously well.
        LoadError: not a zip file.
    """
    try:
        with zipfile.ZipFile(file) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoadError(f"not a readable .docx file (not a Word zip package: {exc})") from exc
    if len(infos) > limits.max_zip_members:
        raise LimitExceeded(Limit.ZIP_MEMBERS, limits.max_zip_members, len(infos),
                            f"the .docx package holds {len(infos):,} files (limit "
                            f"{limits.max_zip_members:,})")
    total = sum(info.file_size for info in infos)
    if total > limits.max_zip_bytes:
        raise LimitExceeded(Limit.ZIP_BYTES, limits.max_zip_bytes, total,
                            f"the .docx package inflates to {total:,} bytes (limit "
                            f"{limits.max_zip_bytes:,}): a zip bomb or a document with too many "
                            "large pictures")
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels")) and (
                info.file_size > limits.max_zip_xml_bytes):
            raise LimitExceeded(Limit.ZIP_XML_BYTES, limits.max_zip_xml_bytes, info.file_size,
                                f"{info.filename} inflates to {info.file_size:,} bytes (limit "
                                f"{limits.max_zip_xml_bytes:,})")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_zip_ratio:
            raise LimitExceeded(Limit.ZIP_RATIO, limits.max_zip_ratio, int(ratio),
                                f"{info.filename} is compressed {ratio:,.0f} times (limit "
                                f"{limits.max_zip_ratio}): a zip bomb")


def _docx_blocks(parent: Any) -> Iterator[Any]:
    """Paragraph and table elements of a body in order, also inside content controls."""
    for element in parent.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("p", "tbl"):
            yield element
        elif tag in ("sdt", "sdtContent", "customXml"):
            yield from _docx_blocks(element)


def extract_docx_file(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> Extracted:
    """A ``.docx``: paragraphs in order (headings on their own lines, numbered items as ``- ``),
    tables as ``cell | cell`` rows; the core-properties title as metadata.

    Raises:
        LoadError: not a readable ``.docx`` (an old ``.doc``, a broken zip, missing parts);
            :class:`~knowledge.ingest.formats.base.LimitExceeded` for a zip bomb or too much
            text (see :func:`check_zip`).
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml.etree import LxmlError

    with open(file, "rb") as fh:
        if fh.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise LoadError("an old Word .doc file renamed .docx: save it as .docx first")
    check_zip(file, limits)
    chars = 0
    style_names: dict[str | None, str] = {}  # style id → name
    try:
        document = docx.Document(str(file))
        blocks: list[str] = []
        for element in _docx_blocks(document.element.body):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                paragraph = Paragraph(element, document)
                text = SPACES.sub(" ", paragraph.text).strip()
                if not text:
                    continue
                numbered = element.pPr is not None and element.pPr.numPr is not None
                if element.style not in style_names:  # python-docx scans every style
                    found = paragraph.style
                    style_names[element.style] = (found.name if found is not None else "") or ""
                style = style_names[element.style]
                heading = style.lower().startswith(("heading", "title"))
                if style.lower().startswith("list") or (numbered and not heading):
                    text = f"- {text}"
                blocks.append(text)
                chars += len(text) + 2
                limits.check_chars(chars)
            elif tag == "tbl":
                rows = []
                for row in Table(element, document).rows:
                    cells, seen = [], set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:  # a merged cell repeats
                            continue
                        seen.add(id(cell._tc))
                        cells.append(SPACES.sub(" ", cell.text).strip())
                    if any(cells):
                        rows.append(" | ".join(cells))
                        chars += len(rows[-1]) + 1
                        limits.check_chars(chars)
                if rows:
                    blocks.append("\n".join(rows))
        title = useful_title(document.core_properties.title)
    except (PackageNotFoundError, zipfile.BadZipFile) as exc:
        raise LoadError(f"not a readable .docx file (not a Word zip package: {exc})") from exc
    except (KeyError, ValueError, AttributeError, LxmlError) as exc:
        raise LoadError(f"broken .docx file ({type(exc).__name__}: {exc})") from exc
    repaired = repair("\n\n".join(blocks))
    fields = {"title": repair(title).text} if title else {}
    return Extracted(repaired.text, fields, encoding_notes(repaired))

