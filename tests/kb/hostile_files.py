"""Hostile files made by the tests themselves (small on disk, expensive to read naively): a .docx
zip bomb, a PDF whose pages all draw one large content stream, HTML declaring odd charsets."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PARAGRAPH = "<w:p><w:r><w:t>Cải cách hành chính tỉnh Quảng Bình năm 2018.</w:t></w:r></w:p>"


def _raw_deflate(data: bytes, final: bool) -> bytes:
    """``data`` as raw deflate blocks that depend on nothing before them (a fresh compressor,
    ended by a full flush, byte-aligned), so that copies can be concatenated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of already deflated members: (name, deflated bytes, crc32, size)."""
    out, central = b"", b""
    for name, packed, crc, size in members:
        encoded = name.encode()
        zip64 = size >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, size, len(packed)) if zip64 else b""
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (len(packed), size)
        offset = len(out)
        out += struct.pack("<IHHHHHIII HH".replace(" ", ""), 0x04034B50, 45 if zip64 else 20,
                           0, 8, 0, 0x21, crc, *sizes, len(encoded), len(extra)) + encoded + extra
        out += packed
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45 if zip64 else 20, 0, 8,
                               0, 0x21, crc, *sizes, len(encoded), len(extra), 0, 0, 0, 0,
                               offset) + encoded + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(out), 0)
    return out + central + end


def zip_bomb_docx(path: Path, template: Path, inflated_mb: int) -> Path:
    """A real .docx (``template``'s parts) whose ``word/document.xml`` is valid WordprocessingML
    that truly inflates to about ``inflated_mb`` MB (about 1,000 times its compressed size)."""
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:document xmlns:w="{W_NS}"><w:body>').encode()
    tail = b"</w:body></w:document>"
    block = PARAGRAPH.encode() * (1024 * 1024 // len(PARAGRAPH.encode()))
    packed_block = _raw_deflate(block, final=False)
    packed = _raw_deflate(head, final=False) + packed_block * inflated_mb + _raw_deflate(
        tail, final=True)
    crc = zlib.crc32(head)
    for _ in range(inflated_mb):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(block) * inflated_mb + len(tail)
    members = []
    with zipfile.ZipFile(template) as source:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                members.append((info.filename, packed, crc, size))
            else:
                data = source.read(info)
                members.append((info.filename, _raw_deflate(data, final=True),
                                zlib.crc32(data), len(data)))
    path.write_bytes(_zip(members))
    return path


def shared_stream_pdf(pages: int, repeats: int) -> bytes:
    """A PDF of ``pages`` pages that all draw one content stream of ``repeats`` text lines
    (FlateDecode: tiny on disk; a naive reader parses the whole stream once per page)."""
    content = b"BT /F1 11 Tf 72 760 Td " + b"(Cai cach hanh chinh) Tj T* " * repeats + b"ET"
    packed = zlib.compress(content, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
               % (len(packed), packed)]
    kids = []
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>")
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


def charset_html(charset: str, body: bytes) -> bytes:
    """A page that declares ``charset`` in its ``<meta>``."""
    return (b'<html><head><meta charset="' + charset.encode() + b'"><title>Tin</title></head>'
            b"<body><article>" + body + b"</article></body></html>")


ARTICLE = ("<h1>Kiểm tra cải cách hành chính</h1><p>Ngày 14/5/2018, UBND tỉnh Quảng Bình ban hành "
           "Quyết định số 1331/QĐ-UBND về kiểm tra công tác cải cách hành chính năm 2018 tại các "
           "sở, ngành và UBND cấp huyện.</p>")
ASCII_ARTICLE = ARTICLE.encode("ascii", "xmlcharrefreplace")
"""The article with its Vietnamese letters as character references: a page in pure ASCII, which
is what the punycode codec accepts."""
PUNYCODE_BOMB = b"<p>-" + b"a" * 200_000 + b"</p>"
"""200 KB that Python's punycode codec takes seconds to decode (quadratic: 5.7 s here, 22 s for
400 KB, on the 2-core EPYC under load)."""
