"""Hostile files meet the readers' limits (the same for ``kb ingest`` and console uploads): a
.docx zip bomb, a PDF whose pages share one large content stream, too many pages, too much
text, HTML declaring ``punycode`` or ``rot13``. Each is refused (or decoded safely) quickly,
with a message that says which limit, and never stops the other files of an ingest."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from knowledge.ingest.formats.docx import check_zip, extract_docx_file
from knowledge.ingest.formats.html import extract_html_file
from knowledge.ingest.formats.pdf import extract_pdf_file
from knowledge.ingest.formats.text import extract_text_file
from knowledge.ingest.loaders import (
    DEFAULT_LIMITS,
    ExtractLimits,
    Limit,
    LimitExceeded,
    load_paths,
    make_document,
)
from tests.kb.hostile_files import (
    ARTICLE,
    ASCII_ARTICLE,
    PUNYCODE_BOMB,
    charset_html,
    shared_stream_pdf,
    zip_bomb_docx,
)
from tests.kb.test_loaders_formats import _make_docx, make_pdf, to_cp1258


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return _make_docx(tmp_path_factory.mktemp("docx") / "mau.docx")


def _refused(limit: Limit, call, *args, seconds: float = 5.0, **kwargs) -> LimitExceeded:
    """``call`` raises :class:`LimitExceeded` for ``limit`` within ``seconds`` of CPU time (CPU,
    not wall-clock time: the test machine is shared)."""
    start = time.process_time()
    with pytest.raises(LimitExceeded) as caught:
        call(*args, **kwargs)
    assert caught.value.limit is limit, caught.value
    assert time.process_time() - start < seconds
    return caught.value


# -- .docx ----------------------------------------------------------------------------------------


def test_a_zip_bomb_docx_is_refused_before_anything_is_inflated(tmp_path, template):
    bomb = zip_bomb_docx(tmp_path / "bom.docx", template, inflated_mb=300)
    assert bomb.stat().st_size < 1_500_000  # ~1 MB on disk, 300 MB inflated
    error = _refused(Limit.ZIP_BYTES, extract_docx_file, bomb, seconds=2)
    assert error.found > 300_000_000 and error.allowed == DEFAULT_LIMITS.max_zip_bytes
    assert "zip bomb" in str(error)


def test_a_small_docx_that_inflates_hundreds_of_times_is_refused(tmp_path, template):
    bomb = zip_bomb_docx(tmp_path / "nen.docx", template, inflated_mb=4)  # ~15 KB on disk
    error = _refused(Limit.ZIP_RATIO, extract_docx_file, bomb, seconds=2)
    assert "word/document.xml is compressed" in str(error) and error.found > 100


def test_docx_part_count_xml_size_and_text_limits(tmp_path, template):
    _refused(Limit.ZIP_MEMBERS, check_zip, template, ExtractLimits(max_zip_members=5))
    bomb = zip_bomb_docx(tmp_path / "lon.docx", template, inflated_mb=2)
    error = _refused(Limit.ZIP_XML_BYTES, check_zip, bomb,
                     ExtractLimits(max_zip_xml_bytes=1024 * 1024, max_zip_ratio=10_000))
    assert str(error).startswith("word/document.xml inflates to")
    _refused(Limit.CHARS, extract_docx_file, template, ExtractLimits(max_chars=100))
    assert extract_docx_file(template).text.startswith("KẾ HOẠCH")  # the defaults read it


# -- PDF ------------------------------------------------------------------------------------------


def test_a_pdf_whose_pages_share_one_big_stream_is_refused_before_parsing(tmp_path):
    pdf = tmp_path / "chung.pdf"
    pdf.write_bytes(shared_stream_pdf(pages=400, repeats=2000))  # 60 KB on disk
    assert pdf.stat().st_size < 100_000
    # the old reader parsed the 56 KB stream on each page: 177 s here; refused in well under 1 s
    error = _refused(Limit.PDF_CONTENT, extract_pdf_file, pdf, seconds=5)
    assert "drawing instructions" in str(error)


def test_pdf_page_and_text_limits(tmp_path):
    many = tmp_path / "nhieu-trang.pdf"
    many.write_bytes(make_pdf([["Trang"]] * (DEFAULT_LIMITS.max_pdf_pages + 1)))
    error = _refused(Limit.PDF_PAGES, extract_pdf_file, many)
    assert error.found == 1001 and "split it" in str(error)
    lines = ["Ke hoach cai cach hanh chinh nam 2021 cua UBND tinh Quang Tri."] * 10
    text = tmp_path / "chu.pdf"
    text.write_bytes(make_pdf([lines] * 5))
    _refused(Limit.CHARS, extract_pdf_file, text, ExtractLimits(max_chars=1000))
    assert len(extract_pdf_file(text).text) > 3000


# -- HTML -----------------------------------------------------------------------------------------


def test_a_page_declaring_punycode_is_not_decoded_as_punycode(tmp_path):
    page = tmp_path / "puny.html"
    page.write_bytes(charset_html("punycode", ASCII_ARTICLE + PUNYCODE_BOMB))
    start = time.process_time()
    article = extract_html_file(page)
    assert time.process_time() - start < 3  # the punycode codec took 5.7 s on these 200 KB
    assert "Quyết định số 1331/QĐ-UBND" in article.text
    assert "declares charset 'punycode', which is not accepted" in article.notes[0]


@pytest.mark.parametrize("charset", ["rot13", "rot-13", "base64", "zlib", "hex", "idna",
                                     "utf-7", "x-no-such-charset", "utf_32"])
def test_pages_declaring_codecs_that_are_not_text_encodings_are_read(tmp_path, charset):
    page = tmp_path / "la.html"
    page.write_bytes(charset_html(charset, ARTICLE.encode()))
    article = extract_html_file(page)  # the old reader raised LookupError for rot13 (a 500)
    assert "Quyết định số 1331/QĐ-UBND" in article.text
    assert f"declares charset {charset.lower()!r}" in article.notes[0]


@pytest.mark.parametrize(("charset", "encode"), [
    ("windows-1258", to_cp1258), ("utf-8", str.encode), ("UTF8", str.encode),
    ("us-ascii", None)])
def test_allowed_charsets_are_used_without_a_note(tmp_path, charset, encode):
    text = ARTICLE if encode else "<h1>Kiem tra</h1><p>" + "Cai cach hanh chinh. " * 10 + "</p>"
    page = tmp_path / "ok.html"
    page.write_bytes(charset_html(charset, encode(text) if encode else text.encode("ascii")))
    article = extract_html_file(page)
    assert ("Quyết định số 1331/QĐ-UBND" if encode else "Cai cach") in article.text
    assert not any("declares charset" in note for note in article.notes)


# -- text, any file -----------------------------------------------------------------------------


def test_text_file_size_and_character_limits(tmp_path):
    big = tmp_path / "lon.txt"
    big.write_bytes(b"a" * 5000)
    _refused(Limit.FILE_BYTES, extract_text_file, big, ExtractLimits(max_file_bytes=4096))
    header = tmp_path / "dau.txt"
    header.write_text("title: " + "T" * 900 + "\n---\n" + "Nội dung. " * 50, encoding="utf-8")
    limits = ExtractLimits(max_chars=600)
    assert len(extract_text_file(header, limits).text) == 500  # the header is not counted
    _refused(Limit.CHARS, make_document, "x.txt", "chữ " * 200, None, limits)


def test_the_ingest_report_names_each_refused_file_and_keeps_the_others(tmp_path, template):
    folder = tmp_path / "docs"
    folder.mkdir()
    zip_bomb_docx(folder / "bom.docx", template, inflated_mb=300)
    (folder / "chung.pdf").write_bytes(shared_stream_pdf(pages=400, repeats=2000))
    (folder / "rot13.html").write_bytes(charset_html("rot13", ARTICLE.encode()))
    (folder / "nhieu.jsonl").write_text('{"id": "a", "text": "' + "chữ " * 600 + '"}\n',
                                        encoding="utf-8")
    (folder / "tot.txt").write_text("Kế hoạch cải cách hành chính năm 2019.\n", encoding="utf-8")
    start = time.process_time()
    report = load_paths([folder], ExtractLimits(max_chars=2000))
    assert time.process_time() - start < 10
    assert sorted(d.id for d in report.documents) == ["rot13.html", "tot.txt"]
    reasons = {Path(p).name: r for p, r in report.failures}
    assert reasons["bom.docx"].startswith("the .docx package inflates to")
    assert "drawing instructions" in reasons["chung.pdf"]
    assert reasons["nhieu.jsonl"].startswith("too much text: more than 2,000 characters")
    notes = {Path(p).name: n for p, n in report.warnings}
    assert "declares charset 'rot13'" in notes["rot13.html"]


def test_limits_are_validated():
    with pytest.raises(ValueError, match="max_chars must be a positive integer"):
        ExtractLimits(max_chars=0)
