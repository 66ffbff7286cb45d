"""The public page of a document (``/van-ban/<id>``), the target of the "Nguồn:" link: served by
the console without login over real HTTP, from a tiny real index whose document ids have
slashes, spaces and Vietnamese letters."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx2
import pytest

from console.app import create_app
from console.config import ConsoleConfig
from console.documents import DocumentLibrary, Passage, passages
from console.users import Role, UserStore
from knowledge.answering.reply import document_page_url
from knowledge.index.store import read_index
from knowledge.schema import Chunk, Document
from tests.web.serving import serve_app

FIXTURE_DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"
NESTED_ID = "thư mục con/Kế hoạch kiểm tra năm 2020.txt"
SCRIPT_ID = "a/b/ghi chú <script>.md"
NESTED_DOC = """number: 12/KH-UBND
doc_type: Kế hoạch
date: 2020-03-05
issuer: UBND tỉnh Quảng Trị
signer: Lê Văn Hòa
places: Quảng Trị
---
KẾ HOẠCH
Kiểm tra công tác cải cách hành chính năm 2020

Điều 1. Mục đích
Đánh giá kết quả thực hiện nhiệm vụ cải cách hành chính của các sở, ngành và UBND cấp huyện
trên địa bàn tỉnh Quảng Trị trong năm 2020, kịp thời chấn chỉnh những tồn tại, hạn chế.

Điều 2. Đối tượng kiểm tra
Năm 2020 kiểm tra tại Sở Tư pháp, Sở Xây dựng và UBND huyện Hải Lăng. Đoàn kiểm tra do Sở
Nội vụ chủ trì, phối hợp với Văn phòng UBND tỉnh và các cơ quan liên quan thực hiện.

Điều 3. Thời gian
Thời gian kiểm tra từ tháng 5 đến tháng 10 năm 2020; lịch cụ thể do Sở Nội vụ thông báo.
"""
SCRIPT_DOC = ("Ghi chú về cải cách hành chính năm 2021 của tỉnh Quảng Trị. "
              '<script>window.__xss = 1</script> <b>đậm</b> & "trích".\n')


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, index_builder) -> Path:
    root = tmp_path_factory.mktemp("doc-page-sources")
    (root / "thư mục con").mkdir()
    (root / NESTED_ID).write_text(NESTED_DOC, encoding="utf-8")
    (root / "a" / "b").mkdir(parents=True)
    (root / SCRIPT_ID).write_text(SCRIPT_DOC, encoding="utf-8")
    shutil.copy(FIXTURE_DOCS / "kh-kiemtra-2019.txt", root / "kh-kiemtra-2019.txt")
    index = tmp_path_factory.mktemp("doc-page") / "index"
    _, report = index_builder(index, [root])
    assert report.total_documents == 3
    return index


@pytest.fixture
def config(tmp_path, base_index, embedder) -> ConsoleConfig:
    index = tmp_path / "index"
    shutil.copytree(base_index, index)
    return ConsoleConfig(index_dir=index, model=embedder.model_name,
                         uploads_dir=tmp_path / "uploads", source_dirs=(),
                         question_log=tmp_path / "questions.db",
                         users_file=tmp_path / "users.json", rasa_url="http://127.0.0.1:5999",
                         session_db=tmp_path / "state.db")


@asynccontextmanager
async def serve(config: ConsoleConfig, embedder, analyzer) -> AsyncIterator[httpx2.AsyncClient]:
    """The console on a free loopback port (see :func:`tests.web.serving.serve_app`)."""
    library = DocumentLibrary(config, embedder=embedder, analyzer=analyzer)
    async with serve_app(lambda: create_app(config, library=library)) as client:
        yield client


def _path(doc_id: str) -> str:
    return document_page_url("", doc_id)


def _shown_text(page: str) -> str:
    """The document text as the page shows it (tags dropped, entities decoded)."""
    body = re.search(r'<div class="doc-text" id="toan-van">(.*?)</div>', page, re.S)
    assert body, page[:800]
    return html.unescape(re.sub(r"<[^>]+>", "", body[1]))


# -- the page -------------------------------------------------------------------------------------


async def test_page_shows_metadata_and_the_full_text_without_login(config, embedder, analyzer):
    stored = read_index(config.index_dir).documents[NESTED_ID].document
    async with serve(config, embedder, analyzer) as client:
        resp = await client.get(_path(NESTED_ID))
        assert _path(NESTED_ID).startswith("/van-ban/th%C6%B0%20m%E1%BB%A5c%20con/K")
        assert resp.status_code == 200, resp.text[:500]
        page = resp.text
        assert '<html lang="vi">' in page
        metadata = {k: html.unescape(v) for k, v in
                    re.findall(r'<dd data-field="(\w+)">(.*?)</dd>', page)}
        assert metadata == {"doc_type": "Kế hoạch", "number": "12/KH-UBND",
                            "date": "05/03/2020", "issuer": "UBND tỉnh Quảng Trị",
                            "signer": "Lê Văn Hòa", "places": "Quảng Trị"}
        for label in ("Loại văn bản", "Số hiệu", "Ngày ban hành", "Cơ quan ban hành",
                      "Người ký", "Địa phương", "Toàn văn"):
            assert f">{label}<" in page
        assert _shown_text(page) == stored.text  # all of it, once, in order
        assert "set-cookie" not in resp.headers  # citizens get no console session
        assert "default-src 'self'" in resp.headers["content-security-policy"]
        assert "Đăng xuất" not in page and "/documents" not in page

        # the officials' page of the same document still needs a login
        console_page = await client.get("/document", params={"id": NESTED_ID})
        assert console_page.status_code == 303 and "/login" in console_page.headers["location"]


async def test_passages_have_anchors_where_the_indexed_chunks_start(config, embedder, analyzer):
    data = read_index(config.index_dir)
    chunks = [c for c in data.chunks if c.doc_id == NESTED_ID]
    assert len(chunks) >= 3  # one per Điều
    async with serve(config, embedder, analyzer) as client:
        page = (await client.get(_path(NESTED_ID))).text
    for chunk in chunks:
        n = chunk.id.rpartition("#")[2]
        anchored = re.search(rf'<span class="passage" id="doan-{n}">(.*?)</span>', page, re.S)
        assert anchored, f"doan-{n}"
        assert html.unescape(anchored[1]).startswith(chunk.text[:40])


async def test_script_in_a_document_is_shown_as_text(config, embedder, analyzer):
    async with serve(config, embedder, analyzer) as client:
        resp = await client.get(_path(SCRIPT_ID))
    assert resp.status_code == 200
    assert "<script" not in resp.text and "<b>" not in resp.text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in resp.text
    assert _shown_text(resp.text).strip() == SCRIPT_DOC.strip()
    heading = re.search(r'<h1 id="doc-title">(.*?)</h1>', resp.text)[1]  # title from the text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt; &lt;b&gt;" in heading


async def test_a_document_with_its_own_address_links_to_it(config, embedder, analyzer):
    async with serve(config, embedder, analyzer) as client:
        page = (await client.get(_path("kh-kiemtra-2019.txt"))).text
    assert ('<a href="https://example.gov.vn/kh-kiem-tra-2019" rel="noopener noreferrer">'
            in page)
    assert "1629/KH-UBND" in page


async def test_a_source_outside_the_allowed_domains_is_not_a_link(config, embedder, analyzer):
    """The source comes from the file: on the public page it is a link only on an allowed
    domain (``KB_SOURCE_LINK_DOMAINS``), as in the replies."""
    config = ConsoleConfig(**{**config.__dict__, "source_link_domains": ("quangbinh.gov.vn",)})
    async with serve(config, embedder, analyzer) as client:
        page = (await client.get(_path("kh-kiemtra-2019.txt"))).text
    assert "example.gov.vn" not in page and 'data-field="source"' not in page
    assert "1629/KH-UBND" in page


@pytest.mark.parametrize("doc_id", [NESTED_ID, SCRIPT_ID, "kh-kiemtra-2019.txt"])
async def test_every_id_round_trips_in_the_path_and_in_the_query(config, embedder, analyzer,
                                                                   doc_id):
    async with serve(config, embedder, analyzer) as client:
        by_path = await client.get(_path(doc_id))
        by_query = await client.get("/van-ban?id=" + quote(doc_id, safe=""))
    assert by_path.status_code == by_query.status_code == 200
    assert by_path.text == by_query.text


@pytest.mark.parametrize("path", [
    "/van-ban/khong-co-van-ban-nay.txt", "/van-ban/a/b", "/van-ban/", "/van-ban",
    "/van-ban?id=", "/van-ban?id=a%2F..%2Fb.txt", "/van-ban/%FF%FE.txt",
])
async def test_an_unknown_document_is_a_vietnamese_404(config, embedder, analyzer, path):
    async with serve(config, embedder, analyzer) as client:
        resp = await client.get(path)
    assert resp.status_code == 404
    assert '<html lang="vi">' in resp.text and "Không tìm thấy văn bản" in resp.text
    assert "set-cookie" not in resp.headers


async def test_without_an_index_the_page_is_a_404_not_an_error(tmp_path, embedder, analyzer):
    config = ConsoleConfig(index_dir=tmp_path / "none", model=embedder.model_name,
                           uploads_dir=tmp_path / "uploads", source_dirs=(),
                           question_log=tmp_path / "q.db", users_file=tmp_path / "u.json",
                           session_db=tmp_path / "state.db")
    async with serve(config, embedder, analyzer) as client:
        resp = await client.get(_path(NESTED_ID))
    assert resp.status_code == 404 and "Không tìm thấy văn bản" in resp.text


async def test_the_officials_page_of_a_document_links_its_public_page(config, embedder,
                                                                       analyzer):
    UserStore(config.users_file).add("nguoixem", "mat-khau-nguoi-xem", Role.VIEWER)
    async with serve(config, embedder, analyzer) as client:
        form = (await client.get("/login")).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
        done = await client.post("/login", data={"csrf_token": token, "username": "nguoixem",
                                                 "password": "mat-khau-nguoi-xem"})
        assert done.status_code == 303
        page = (await client.get("/document", params={"id": NESTED_ID})).text
        link = re.search(r'<a href="([^"]+)" id="public-page">', page)
        assert link and html.unescape(link[1]) == _path(NESTED_ID)
        assert (await client.get(html.unescape(link[1]))).status_code == 200


# -- cutting the text into anchored passages ------------------------------------------------------


def _chunk(doc: Document, n: int, start: int, end: int) -> Chunk:
    return Chunk(f"{doc.id}#{n}", doc.id, doc.text[start:end], start, end)


def test_passages_cover_the_text_once_even_when_chunks_overlap():
    doc = Document("x.txt", "Mở đầu. Điều 1. Một. Điều 2. Hai.")
    chunks = [_chunk(doc, 1, 21, 33), _chunk(doc, 0, 8, 27), _chunk(doc, 2, 21, 33)]
    assert passages(doc, chunks) == [Passage("", "Mở đầu. "), Passage("doan-0", "Điều 1. Một. "),
                                     Passage("doan-1", "Điều 2. Hai.")]
    assert passages(doc, []) == [Passage("", doc.text)]
    assert "".join(p.text for p in passages(doc, chunks)) == doc.text
