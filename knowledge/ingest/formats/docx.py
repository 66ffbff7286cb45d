"""``.docx`` files: paragraphs in order, headings on their own lines, numbered items as
``- ``, tables as ``cell | cell`` rows; the core-properties title as metadata."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge.ingest.formats.base import (
    SPACES,
    Extracted,
    LoadError,
    encoding_notes,
    repair,
    useful_title,
)

SUFFIXES = (".docx",)


def _docx_blocks(parent: Any) -> Iterator[Any]:
    """Paragraph and table elements of a body in order, also inside content controls."""
    for element in parent.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("p", "tbl"):
            yield element
        elif tag in ("sdt", "sdtContent", "customXml"):
            yield from _docx_blocks(element)


def extract_docx_file(file: Path) -> Extracted:
    """A ``.docx``: paragraphs in order (headings on their own lines, numbered items as ``- ``),
    tables as ``cell | cell`` rows; the core-properties title as metadata.

    Raises:
        LoadError: not a readable ``.docx`` (an old ``.doc``, a broken zip, missing parts).
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml.etree import LxmlError

    if file.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise LoadError("an old Word .doc file renamed .docx: save it as .docx first")
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
                style = (paragraph.style.name if paragraph.style is not None else "") or ""
                heading = style.lower().startswith(("heading", "title"))
                if style.lower().startswith("list") or (numbered and not heading):
                    text = f"- {text}"
                blocks.append(text)
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

