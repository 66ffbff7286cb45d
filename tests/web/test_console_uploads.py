"""Hostile uploads through the console, over real HTTP: each is read in a limited child process
and refused with a Vietnamese message; the index version and the uploads folder are unchanged,
the console keeps answering meanwhile, and the next upload works."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from console.app import create_app
from console.config import ConsoleConfig
from console.documents import DocumentLibrary
from console.sandbox import Failure, IsolatedExtractor, SandboxError, SandboxLimits
from console.users import Role, UserStore
from knowledge.index.store import current_version
from knowledge.ingest.loaders import ExtractLimits, Limit, LimitExceeded, LoadError
from tests.kb.hostile_files import ARTICLE, charset_html, shared_stream_pdf, zip_bomb_docx
from tests.kb.test_loaders_formats import _make_docx, make_pdf
from tests.web.serving import serve_app

FIXTURE_DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "docs"
EDITOR, EDITOR_PW = "bientap", "mat-khau-bien-tap"
GOOD = ("Kế hoạch kiểm tra cải cách hành chính năm 2027 của tỉnh Hòa Bình. Năm 2027 tỉnh kiểm tra "
        "tại Sở Y tế và Sở Công Thương; đoàn kiểm tra do Sở Nội vụ chủ trì.\n")


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, index_builder) -> Path:
    index = tmp_path_factory.mktemp("uploads-base") / "index"
    index_builder(index, [FIXTURE_DOCS])
    return index


@pytest.fixture
def config(tmp_path, base_index, embedder) -> ConsoleConfig:
    index = tmp_path / "index"
    shutil.copytree(base_index, index)
    users = tmp_path / "users.json"
    UserStore(users).add(EDITOR, EDITOR_PW, Role.EDITOR)
    return ConsoleConfig(index_dir=index, model=embedder.model_name,
                         uploads_dir=tmp_path / "uploads", source_dirs=(),
                         question_log=tmp_path / "questions.db", users_file=users,
                         rasa_url="http://127.0.0.1:5999", session_db=tmp_path / "state.db")


@asynccontextmanager
async def editor(config: ConsoleConfig, embedder, analyzer) -> AsyncIterator[httpx2.AsyncClient]:
    library = DocumentLibrary(config, embedder=embedder, analyzer=analyzer)
    async with serve_app(lambda: create_app(config, library=library), timeout=300) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        resp = await client.post("/login", data={"csrf_token": token, "username": EDITOR,
                                                 "password": EDITOR_PW})
        assert resp.status_code == 303
        yield client


async def upload(client: httpx2.AsyncClient, name: str, content: bytes) -> httpx2.Response:
    page = await client.get("/upload")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    return await client.post("/upload", data={"csrf_token": token},
                             files={"file": (name, content, "application/octet-stream")})


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() \
        else []


async def test_hostile_files_are_refused_and_change_nothing(config, embedder, analyzer, tmp_path):
    template = _make_docx(tmp_path / "mau.docx")
    cases = [
        ("bom.docx", zip_bomb_docx(tmp_path / "bom.docx", template, 300).read_bytes(),
         "Tệp .docx “bom.docx” bị nén bất thường (giải nén ra quá lớn)"),
        ("chung.pdf", shared_stream_pdf(pages=400, repeats=2000),
         "Tệp PDF “chung.pdf” có nội dung trang quá lớn hoặc lặp lại bất thường"),
        ("nhieu-trang.pdf", make_pdf([["Trang"]] * 1001),
         "Tệp PDF “nhieu-trang.pdf” có 1.001 trang, vượt giới hạn 1.000 trang"),
        ("dai.txt", ("Cải cách hành chính. " * 100_000).encode(),
         "Tệp “dai.txt” có quá nhiều chữ (hơn 2.000.000 ký tự)"),
    ]
    version = current_version(config.index_dir)
    async with editor(config, embedder, analyzer) as client:
        before = _files(config.uploads_dir)
        for name, content, message in cases:
            start = time.perf_counter()
            resp = await upload(client, name, content)
            assert resp.status_code == 400, resp.text[:300]
            assert message in resp.text, name
            assert time.perf_counter() - start < 30, name
            assert current_version(config.index_dir) == version
            assert _files(config.uploads_dir) == before
        good = await upload(client, "ke-hoach-2027.txt", GOOD.encode())
        assert good.status_code == 303
    assert current_version(config.index_dir) != version
    assert (config.uploads_dir / "ke-hoach-2027.txt").is_file()


async def test_pages_declaring_odd_charsets_upload_with_a_note(config, embedder, analyzer):
    async with editor(config, embedder, analyzer) as client:
        for charset in ("rot13", "punycode"):  # rot13 was a 500, punycode quadratic
            resp = await upload(client, f"tin-{charset}.html",
                                charset_html(charset, ARTICLE.encode()))
            assert resp.status_code == 303, resp.text[:500]
            detail = await client.get(resp.headers["location"])
            assert f"Lưu ý khi đọc tệp: the page declares charset &#39;{charset}&#39;" in \
                detail.text
            assert "1331/QĐ-UBND" in detail.text


async def test_a_file_over_the_cpu_limit_is_stopped_and_the_console_goes_on(
        config, embedder, analyzer):
    """40 pages drawing one 56 KB stream: within the readers' limits (2.2 MB of content) but
    about 17 s of parsing here; the child is stopped after 1 s of CPU time."""
    config = ConsoleConfig(**{**config.__dict__,
                              "sandbox_limits": SandboxLimits(cpu_seconds=1)})
    version = current_version(config.index_dir)
    async with editor(config, embedder, analyzer) as client:
        pending = asyncio.create_task(upload(client, "nang.pdf", shared_stream_pdf(40, 2000)))
        await asyncio.sleep(0.3)
        start = time.perf_counter()
        health = await client.get("/health")  # the event loop is not blocked meanwhile
        assert health.status_code == 200 and time.perf_counter() - start < 2
        resp = await pending
        assert resp.status_code == 400
        assert "Tệp “nang.pdf” quá phức tạp: việc đọc tệp vượt quá 1 giây xử lý" in resp.text
        assert current_version(config.index_dir) == version
        assert _files(config.uploads_dir) == []
        good = await upload(client, "sau-do.txt", GOOD.encode())  # a fresh child reads it
        assert good.status_code == 303


# -- the sandbox itself ------------------------------------------------------------------------


def test_a_child_over_its_memory_limit_is_reported(tmp_path):
    page = tmp_path / "nhieu-the.html"  # 60,000 small tags: ~100 MB of parse tree
    page.write_bytes(b"<html><body><article>" + b"<p><b>c</b></p>" * 60_000 +
                     b"</article></body></html>")
    extractor = IsolatedExtractor(SandboxLimits(cpu_seconds=60, memory_mb=128))
    with pytest.raises(SandboxError, match="more than 128 MB of memory") as caught:
        extractor.extract(page)
    assert caught.value.failure is Failure.MEMORY


def test_the_child_reports_reader_errors_and_limits_faithfully(tmp_path):
    extractor = IsolatedExtractor(SandboxLimits(cpu_seconds=20),
                                  ExtractLimits(max_chars=1000))
    good = tmp_path / "tot.txt"
    good.write_text("title: Kế hoạch\n---\n" + GOOD, encoding="utf-8")
    extracted = extractor.extract(good)
    assert extracted.text == GOOD and extracted.fields == {"title": "Kế hoạch"}
    long = tmp_path / "dai.txt"
    long.write_text("chữ " * 1000, encoding="utf-8")
    with pytest.raises(LimitExceeded) as caught:
        extractor.extract(long)
    assert (caught.value.limit, caught.value.allowed, caught.value.found) == (
        Limit.CHARS, 1000, 4000)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf([None]))
    with pytest.raises(LoadError, match="run OCR first"):
        extractor.extract(scan)
    empty = tmp_path / "rong.txt"
    empty.write_text("   \n", encoding="utf-8")
    with pytest.raises(LoadError, match="the document has no text"):
        extractor.extract(empty)


def test_sandbox_limits_are_validated():
    assert SandboxLimits(cpu_seconds=30).wall_seconds == 130
    with pytest.raises(ValueError, match="memory_mb must be >= 128"):
        SandboxLimits(memory_mb=64)
