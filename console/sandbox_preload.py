"""Imported by the upload readers' fork server (see :mod:`console.sandbox`), never by the console
itself: importing it loads the readers and runs each once on a tiny file, filling their lazy
caches (compiled patterns, the vocabularies of metadata extraction, python-docx's and pypdf's
first-use set-up) once, so that each child forked from the server starts warm. Measured on the
loaded 2-core EPYC: a child reading a small .docx took 305 ms with only the modules imported,
a small .txt 73 ms (290 ms with nothing preloaded)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import docx

from knowledge.ingest.loaders import extract_file, make_document

logger = logging.getLogger(__name__)

_SENTENCE = ("Quyết định số 1331/QĐ-UBND ngày 13/4/2018 của UBND tỉnh Quảng Bình về kiểm tra công "
             "tác cải cách hành chính năm 2018.")
_PDF_TEXT = b"BT /F1 11 Tf 72 760 Td (Ke hoach cai cach hanh chinh nam 2021.) Tj ET"


def _tiny_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
               b"/Resources << /Font << /F1 3 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(_PDF_TEXT), _PDF_TEXT)]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o
                                                          for o in offsets)
    return out + b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def _warm_up() -> None:
    with tempfile.TemporaryDirectory(prefix="console-warm-up-") as folder:
        word = docx.Document()
        word.add_heading("Kế hoạch", level=1)
        word.add_paragraph(_SENTENCE)
        word.save(str(Path(folder) / "a.docx"))
        (Path(folder) / "a.pdf").write_bytes(_tiny_pdf())
        (Path(folder) / "a.html").write_text(f"<html><body><article><h1>Tin</h1><p>{_SENTENCE} "
                                             f"{_SENTENCE}</p></article></body></html>",
                                             encoding="utf-8")
        for name in ("a.docx", "a.pdf", "a.html"):
            extracted = extract_file(Path(folder) / name)
            make_document(name, extracted.text or _SENTENCE, extracted.fields)


try:
    _warm_up()
except Exception:  # a cold start is slower, never wrong: the children still read files
    logger.exception("warming up the upload readers failed")
