"""Loaders for what officials actually have: portal pages, Word, PDF, legacy-encoded text."""

import unicodedata
import zlib
from pathlib import Path

import pytest

from knowledge.ingest.formats.docx import extract_docx_file
from knowledge.ingest.formats.html import extract_html_file, html_to_article
from knowledge.ingest.formats.pdf import extract_pdf_file
from knowledge.ingest.loaders import LoadError, load_paths
from knowledge.text.legacy_encodings import (
    DecodedText,
    EncodingError,
    detect_and_decode,
    repair_mojibake,
    tcvn3_to_unicode,
    vni_to_unicode,
)

FORMATS = Path(__file__).resolve().parent.parent / "fixtures" / "formats"

SENTENCE = (
    "Kế hoạch cải cách hành chính năm 2019 của UBND tỉnh Quảng Bình\n"
    "Đẩy mạnh ứng dụng công nghệ thông tin, nâng cao chất lượng phục vụ người dân và doanh "
    "nghiệp; Ăn ở đúng quy định, Ơn nghĩa, Ưu tiên cải thiện chỉ số hài lòng."
)

# --- independent encoders (the inverse of the published tables), used to make the fixtures --

_TCVN3_BYTES = {
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9,
    "ằ": 0xBB, "ẳ": 0xBC, "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6,
    "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA, "ậ": 0xCB,
    "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1,
    "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6,
    "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC, "í": 0xDD, "ị": 0xDE,
    "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4,
    "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9,
    "ờ": 0xEA, "ở": 0xEB, "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE,
    "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9,
    "ỳ": 0xFA, "ỷ": 0xFB, "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
}
_TONE_NAMES = {"\u0301": "acute", "\u0300": "grave", "\u0309": "hook", "\u0303": "tilde",
               "\u0323": "dot"}
_VNI_TONE = {"acute": "ù", "grave": "ø", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_CIRCUMFLEX = {None: "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE = {None: "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
_VNI_I = {"acute": "í", "grave": "ì", "hook": "æ", "tilde": "ó", "dot": "ò"}


def to_tcvn3(text: str) -> bytes:
    return bytes(ord(c) if ord(c) < 0x80 else _TCVN3_BYTES[c] for c in text)


def _vni_letter(letter: str) -> str:
    parts = unicodedata.normalize("NFD", letter)
    base, marks = parts[0], parts[1:]
    tone = next((_TONE_NAMES[m] for m in marks if m in _TONE_NAMES), None)
    upper = base.isupper()
    base = base.lower()
    if base == "đ":
        out = "ñ"
    elif "\u031b" in marks:  # horn: ơ ư
        out = {"o": "ô", "u": "ö"}[base] + (_VNI_TONE[tone] if tone else "")
    elif "\u0302" in marks:
        out = base + _VNI_CIRCUMFLEX[tone]
    elif "\u0306" in marks:
        out = base + _VNI_BREVE[tone]
    elif base == "i" and tone:
        out = _VNI_I[tone]
    elif base == "y" and tone == "dot":
        out = "î"
    else:
        out = base + (_VNI_TONE[tone] if tone else "")
    return out.upper() if upper else out


def to_vni(text: str) -> bytes:
    return "".join(c if ord(c) < 0x80 else _vni_letter(c) for c in text).encode("cp1252")


def to_cp1258(text: str) -> bytes:
    out = b""
    for c in text:
        try:
            out += c.encode("cp1258")
        except UnicodeEncodeError:  # base letter (with its shape) + combining tone mark
            parts = unicodedata.normalize("NFD", c)
            tone = "".join(m for m in parts if m in _TONE_NAMES)
            base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in _TONE_NAMES))
            out += (base + tone).encode("cp1258")
    return out


# --- legacy encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoder", "encoding"),
    [("tcvn3.txt", to_tcvn3, "tcvn3"), ("vni.txt", to_vni, "vni"),
     ("cp1258.txt", to_cp1258, "windows-1258")],
)
def test_legacy_files_are_detected_and_converted(name, encoder, encoding):
    raw = (FORMATS / name).read_bytes()
    assert raw == encoder(SENTENCE) + b"\n"  # the committed fixture is what the encoder makes
    decoded = detect_and_decode(raw)
    assert decoded == DecodedText(SENTENCE + "\n", encoding, True)


def test_utf8_with_bom_and_decomposed_unicode():
    decoded = detect_and_decode(b"\xef\xbb\xbf" + unicodedata.normalize("NFD", SENTENCE).encode())
    assert decoded.text == SENTENCE and decoded.encoding == "utf-8" and decoded.confident


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\xfa not utf-8", bytes(range(0x80, 0x100)) * 4,
     b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xc3\x28\x91\xe4\xd2\xf5\x8c"],
)
def test_garbage_bytes_fail_with_a_clear_reason(raw):
    with pytest.raises(EncodingError, match="not valid UTF-8 .* could not detect the text enc"):
        detect_and_decode(raw)


def test_real_tcvn3_and_vni_phrases():
    # phrases as they appear in documents of the 2000s (ư lost as a soft hyphen in cp1252)
    assert tcvn3_to_unicode("quyÕt ®Þnh cña Bé tr\u00adëng Bé Tµi chÝnh") == (
        "quyết định của Bộ trưởng Bộ Tài chính")
    assert tcvn3_to_unicode("§¡NG Ký KINH DOANH") == "ĐĂNG Ký KINH DOANH"
    assert vni_to_unicode("COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM") == (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert vni_to_unicode("UÛY BAN NHAÂN DAÂN TÆNH ñöôïc saün coù") == (
        "ỦY BAN NHÂN DÂN TỈNH được sẵn có")


def test_utf8_text_with_legacy_mojibake_is_repaired_line_by_line():
    text = ("Ngày 5/3/2019 UBND tỉnh ban hành kế hoạch.\n"
            + to_tcvn3("Kế hoạch cải cách hành chính năm 2019").decode("cp1252") + "\n"
            + to_vni("Nâng cao chất lượng phục vụ người dân").decode("cp1252"))
    decoded = detect_and_decode(text.encode("utf-8"))
    assert decoded.text == ("Ngày 5/3/2019 UBND tỉnh ban hành kế hoạch.\n"
                            "Kế hoạch cải cách hành chính năm 2019\n"
                            "Nâng cao chất lượng phục vụ người dân")
    assert decoded.encoding in ("utf-8+tcvn3+vni", "utf-8+vni+tcvn3")


def test_doubly_encoded_utf8_is_repaired():
    broken = "Cải cách hành chính tỉnh Quảng Bình".encode().decode("cp1252")
    assert repair_mojibake(broken).text == "Cải cách hành chính tỉnh Quảng Bình"


def test_correct_unicode_is_left_alone():
    decoded = repair_mojibake(SENTENCE + "\nÔng Müller, Đà Nẵng — “sè” là số 5 − 3")
    assert decoded.text == SENTENCE + "\nÔng Müller, Đà Nẵng — “sè” là số 5 − 3"
    assert decoded.encoding == "utf-8"


def test_unrepairable_mojibake_is_refused():
    with pytest.raises(EncodingError, match="mis-encoded"):
        repair_mojibake("Ð¿Ñ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€ Ð¿Ñ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€ Ñ‚ÐµÐºÑÑ‚ Ð² Ð¸Ð½Ð´ÐµÐºÑ")


# --- HTML -------------------------------------------------------------------------------------


def test_portal_page_keeps_the_article_and_drops_the_furniture():
    page = extract_html_file(FORMATS / "portal.html")
    assert page.fields == {
        "title": "Quảng Bình: Kiểm tra công tác cải cách hành chính năm 2018",
        "source": "https://quangbinh.gov.vn/tin-tuc/kiem-tra-cchc-2018",
        "date": "2018-05-14",
    }
    text = page.text
    assert text.startswith("Quảng Bình: Kiểm tra công tác cải cách hành chính năm 2018\n\n"
                           "Ngày 14/5/2018, UBND tỉnh Quảng Bình ban hành Quyết định số "
                           "1331/QĐ-UBND")
    assert "\n\n- Sở Tư pháp;\n- Sở Giao thông vận tải;\n- UBND huyện Lệ Thủy.\n\n" in text
    assert ("Đơn vị | Thời gian kiểm tra\nSở Tư pháp | Tháng 6/2018\n"
            "UBND huyện Lệ Thủy | Tháng 7/2018") in text
    assert text.endswith("Phòng Cải cách hành chính - Sở Nội vụ")
    for furniture in ("Trang chủ", "Giới thiệu chung", "Tìm kiếm", "Chia sẻ", "Zalo", "In bài",
                      "Bài viết liên quan", "Hội nghị tổng kết", "PAR INDEX", "Tin liên quan",
                      "Tập huấn nghiệp vụ", "Tin khác", "Lịch tiếp công dân", "Tin xem nhiều",
                      "SIPAS", "Bản quyền", "Từ khóa", "Lượt xem", "dataLayer", "display"):
        assert furniture not in text, furniture
    assert page.notes == ()


def test_related_list_inside_an_article_and_a_visible_date():
    html = """<html><head><title>Tin</title></head><body>
      <div class="menu"><a href="/">Trang chủ</a> <a href="/a">Tin tức</a>
        <a href="/b">Liên hệ</a></div>
      <article><h2>Hội nghị triển khai Chỉ thị số 26/CT-TTg</h2>
        <p class="date">Cập nhật: 03/07/2017 09:15</p>
        <p>Sáng 3/7, Sở Nội vụ tổ chức hội nghị triển khai Chỉ thị số 26/CT-TTg về tăng cường
        kỷ luật, kỷ cương trong các cơ quan hành chính nhà nước các cấp.</p>
        <div class="rel"><div class="head">Tin liên quan</div>
          <a href="/1">Khai mạc kỳ họp HĐND tỉnh</a><a href="/2">Bế mạc kỳ họp HĐND tỉnh</a>
          <a href="/3">Tiếp xúc cử tri</a></div>
      </article>
      <div class="copyright">Bản quyền © 2017</div></body></html>"""
    article = html_to_article(html)
    assert article.fields == {"title": "Hội nghị triển khai Chỉ thị số 26/CT-TTg",
                              "date": "2017-07-03"}
    assert "Sáng 3/7, Sở Nội vụ tổ chức hội nghị" in article.text
    for furniture in ("Trang chủ", "Tin liên quan", "Khai mạc", "Tiếp xúc cử tri", "Bản quyền"):
        assert furniture not in article.text


def test_navigation_only_page_is_refused():
    with pytest.raises(LoadError, match="no article text found"):
        extract_html_file(FORMATS / "nav-only.html")


def test_legacy_encoded_portal_page_is_converted(tmp_path):
    body = to_tcvn3("Ngày 20/6/2008, Sở Nội vụ tổ chức hội nghị tổng kết công tác cải cách "
                    "hành chính giai đoạn 2001 - 2010 và triển khai nhiệm vụ năm tới.")
    title = to_tcvn3("Hội nghị tổng kết cải cách hành chính")
    page = tmp_path / "tin.htm"
    page.write_bytes(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        b"<title>x</title></head><body><h1><font face=\".VnTime\">" + title + b"</font></h1>"
        b"<p><font face=\".VnTime\">" + body + b"</font></p></body></html>"
    )
    article = extract_html_file(page)
    assert article.fields["title"] == "Hội nghị tổng kết cải cách hành chính"
    assert "Sở Nội vụ tổ chức hội nghị tổng kết công tác cải cách hành chính" in article.text
    assert article.notes == ("converted from tcvn3 to Unicode",)


# --- DOCX -------------------------------------------------------------------------------------


def _make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Kế hoạch cải cách hành chính năm 2020"
    document.core_properties.author = "Nguyễn Văn A"
    document.add_heading("KẾ HOẠCH Cải cách hành chính năm 2020", level=1)
    document.add_paragraph("Căn cứ Nghị quyết số 30c/NQ-CP ngày 08/11/2011 của Chính phủ;")
    document.add_heading("I. MỤC ĐÍCH, YÊU CẦU", level=2)
    document.add_paragraph("Nâng cao chỉ số cải cách hành chính của tỉnh.")
    document.add_paragraph("Sở Nội vụ chủ trì;", style="List Bullet")
    document.add_paragraph("Các sở, ngành phối hợp.", style="List Bullet")
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, [("TT", "Nhiệm vụ", "Thời hạn"),
                                        ("1", "Rà soát thủ tục hành chính", "Quý II/2020")],
                           strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("")
    document.add_paragraph("Kế hoạch có hiệu lực kể từ ngày ký.")
    document.save(str(path))
    return path


def test_docx_paragraphs_headings_lists_and_tables(tmp_path):
    extracted = extract_docx_file(_make_docx(tmp_path / "kh.docx"))
    assert extracted.fields == {"title": "Kế hoạch cải cách hành chính năm 2020"}
    assert extracted.text == (
        "KẾ HOẠCH Cải cách hành chính năm 2020\n\n"
        "Căn cứ Nghị quyết số 30c/NQ-CP ngày 08/11/2011 của Chính phủ;\n\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n\n"
        "Nâng cao chỉ số cải cách hành chính của tỉnh.\n\n"
        "- Sở Nội vụ chủ trì;\n\n"
        "- Các sở, ngành phối hợp.\n\n"
        "TT | Nhiệm vụ | Thời hạn\n"
        "1 | Rà soát thủ tục hành chính | Quý II/2020\n\n"
        "Kế hoạch có hiệu lực kể từ ngày ký."
    )


def test_docx_typed_in_tcvn3_fonts_is_converted(tmp_path):
    import docx

    document = docx.Document()
    for line in ("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "§éc lËp - Tù do - H¹nh phóc",
                 "QuyÕt ®Þnh vÒ viÖc kiÓm tra c«ng t¸c c¶i c¸ch hµnh chÝnh"):
        document.add_paragraph(line)
    document.save(str(tmp_path / "qd.docx"))
    extracted = extract_docx_file(tmp_path / "qd.docx")
    assert extracted.text == ("Cộng hoà xã hội chủ nghĩa Việt Nam\n\nĐộc lập - Tự do - Hạnh phúc"
                              "\n\nQuyết định về việc kiểm tra công tác cải cách hành chính")
    assert extracted.notes == ("converted tcvn3 legacy-font text to Unicode",)


def test_docx_text_inside_a_content_control_is_kept(tmp_path):
    import docx
    from docx.oxml.ns import qn
    from lxml import etree

    document = docx.Document()
    document.add_paragraph("Trước khối nội dung.")
    inner = document.add_paragraph("Trong khối nội dung (content control).")._p
    sdt = etree.Element(qn("w:sdt"))
    etree.SubElement(sdt, qn("w:sdtContent")).append(inner)  # moves the paragraph into it
    document.element.body.sectPr.addprevious(sdt)
    document.save(str(tmp_path / "sdt.docx"))
    assert extract_docx_file(tmp_path / "sdt.docx").text == (
        "Trước khối nội dung.\n\nTrong khối nội dung (content control).")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"PK\x03\x04 this zip was cut short", "not a readable .docx"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Word .doc"),
     (b"", "not a readable .docx")],
)
def test_broken_docx_is_a_clear_error(tmp_path, content, reason):
    (tmp_path / "x.docx").write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        extract_docx_file(tmp_path / "x.docx")


# --- PDF --------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str] | None]) -> bytes:
    """A minimal PDF: each page is lines of ASCII text (Helvetica), or ``None`` for a page that
    is only an image, as a scanner makes."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
               b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
               % (len(zlib.compress(b"\x00\xff\xff\x00")), zlib.compress(b"\x00\xff\xff\x00"))]
    kids = []
    for lines in pages:
        if lines is None:
            content = b"q 500 0 0 700 50 50 cm /Im1 Do Q"
        else:
            content = b"BT /F1 11 Tf 72 760 Td 14 TL " + b" ".join(
                b"(" + line.encode("ascii") + b") Tj T*" for line in lines) + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >> >>"
                       % (len(objects)))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


_PDF_LINES = ["Ke hoach cai cach hanh chinh nam 2021 cua UBND tinh Quang Tri.",
              "So Noi vu chu tri, phoi hop voi cac so, nganh thuc hien."]


def test_pdf_text_layer_is_read_page_by_page(tmp_path):
    pdf = tmp_path / "kh.pdf"
    pdf.write_bytes(make_pdf([_PDF_LINES, ["Trang 2: To chuc thuc hien."]]))
    extracted = extract_pdf_file(pdf)
    assert extracted.text == "\n".join(_PDF_LINES) + "\n\nTrang 2: To chuc thuc hien."


def test_scanned_pdf_is_refused_with_ocr_advice(tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(make_pdf([None, None]))
    with pytest.raises(LoadError, match=r"PDF has no text layer \(scanned\?\): run OCR first"):
        extract_pdf_file(pdf)


@pytest.mark.parametrize("cut", [0.3, 0.02])
def test_truncated_pdf_is_a_clear_error(tmp_path, cut):
    raw = make_pdf([_PDF_LINES])
    pdf = tmp_path / "cut.pdf"
    pdf.write_bytes(raw[: int(len(raw) * cut)])
    with pytest.raises(LoadError, match="corrupt or truncated PDF|no text layer"):
        extract_pdf_file(pdf)


def test_encrypted_pdf_is_a_clear_error(tmp_path):
    from pypdf import PdfReader, PdfWriter

    (tmp_path / "plain.pdf").write_bytes(make_pdf([_PDF_LINES]))
    writer = PdfWriter(clone_from=PdfReader(tmp_path / "plain.pdf"))
    writer.encrypt(user_password="mat-khau", owner_password="chu-so-huu", algorithm="RC4-128")
    with open(tmp_path / "locked.pdf", "wb") as out:
        writer.write(out)
    with pytest.raises(LoadError, match="encrypted"):
        extract_pdf_file(tmp_path / "locked.pdf")


# --- one folder of everything -----------------------------------------------------------------


def test_load_paths_reports_every_bad_file_and_keeps_the_good_ones(tmp_path, caplog):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("portal.html", "nav-only.html", "tcvn3.txt", "vni.txt", "cp1258.txt"):
        (folder / name).write_bytes((FORMATS / name).read_bytes())
    _make_docx(folder / "kh.docx")
    (folder / "kh.pdf").write_bytes(make_pdf([_PDF_LINES]))
    (folder / "scan.pdf").write_bytes(make_pdf([None]))
    (folder / "cut.pdf").write_bytes(make_pdf([_PDF_LINES])[:40])
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 truncated")
    (folder / "garbage.txt").write_bytes(bytes(range(0x80, 0x100)) * 2)

    report = load_paths([folder])

    assert sorted(d.id for d in report.documents) == [
        "cp1258.txt", "kh.docx", "kh.pdf", "portal.html", "tcvn3.txt", "vni.txt"]
    reasons = {Path(path).name: reason for path, reason in report.failures}
    assert sorted(reasons) == ["broken.docx", "cut.pdf", "garbage.txt", "nav-only.html",
                               "scan.pdf"]
    assert "no article text found" in reasons["nav-only.html"]
    assert reasons["scan.pdf"].startswith("PDF has no text layer (scanned?): run OCR first")
    assert "corrupt or truncated PDF" in reasons["cut.pdf"]
    assert "not a readable .docx" in reasons["broken.docx"]
    assert "could not detect the text encoding" in reasons["garbage.txt"]
    warnings = {Path(path).name: note for path, note in report.warnings}
    assert warnings == {"tcvn3.txt": "converted from tcvn3 to Unicode",
                        "vni.txt": "converted from vni to Unicode",
                        "cp1258.txt": "converted from windows-1258 to Unicode"}
    assert any("scan.pdf" in r.getMessage() and "run OCR" in r.getMessage()
               for r in caplog.records)
    by_id = {d.id: d for d in report.documents}
    assert by_id["tcvn3.txt"].text == SENTENCE
    assert by_id["portal.html"].meta.date == "2018-05-14"
    assert by_id["portal.html"].meta.source == "https://quangbinh.gov.vn/tin-tuc/kiem-tra-cchc-2018"
    assert by_id["kh.docx"].meta.title == "Kế hoạch cải cách hành chính năm 2020"
    assert all(unicodedata.is_normalized("NFC", d.text) for d in report.documents)
