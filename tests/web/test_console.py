"""The officials' console through real HTTP: the Sanic app served on a free loopback port, a tiny
real index (tests/fixtures/docs, the real embedding model) and a real SQLite question log."""

from __future__ import annotations

import csv
import io
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from console.app import create_app
from console.config import ConsoleConfig, CookieSecurity
from console.documents import (
    ConsoleError,
    DocumentLibrary,
    clean_fields,
    render_with_header,
    slugify,
)
from console.state.sqlite import SqliteDatabase, SqliteLoginThrottle, SqliteSessionStore
from console.users import Role, UserStore, hash_password, verify_password
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.index.store import current_version, read_index
from knowledge.ingest.indexer import Indexer
from knowledge.ingest.loaders import split_header
from knowledge.question_log import QuestionLog
from tests.web.serving import serve_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DOCS = ROOT / "tests" / "fixtures" / "docs"
EDITOR, EDITOR_PW = "bientap", "mat-khau-bien-tap"
VIEWER, VIEWER_PW = "nguoixem", "mat-khau-nguoi-xem"
NEW_DOC = """KẾ HOẠCH
Kiểm tra công tác cải cách hành chính năm 2026 của tỉnh Hòa Bình

Ngày 05/01/2026, UBND tỉnh Hòa Bình ban hành Kế hoạch số 77/KH-UBND về kiểm tra công tác cải
cách hành chính năm 2026. Theo kế hoạch, năm 2026 tỉnh Hòa Bình kiểm tra công tác cải cách hành
chính tại Sở Y tế và Sở Công Thương; đoàn kiểm tra do Sở Nội vụ chủ trì.
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, index_builder) -> Path:
    index = tmp_path_factory.mktemp("console-base") / "index"
    _, report = index_builder(index, [FIXTURE_DOCS])
    assert report.total_documents == 2
    return index


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("console-users") / "users.json"
    store = UserStore(path)
    store.add(EDITOR, EDITOR_PW, Role.EDITOR)
    store.add(VIEWER, VIEWER_PW, Role.VIEWER)
    return path


@pytest.fixture
def env(tmp_path, base_index, users_file, embedder, analyzer):
    index = tmp_path / "index"
    shutil.copytree(base_index, index)
    config = ConsoleConfig(index_dir=index, model=embedder.model_name,
                           uploads_dir=tmp_path / "uploads", source_dirs=(),
                           question_log=tmp_path / "questions.db", users_file=users_file,
                           rasa_url="http://127.0.0.1:5999", session_db=tmp_path / "state.db")
    library = DocumentLibrary(config, embedder=embedder, analyzer=analyzer)
    clock = Clock()
    database = SqliteDatabase(config.session_db)
    return {"config": config, "library": library, "clock": clock,
            "throttle": SqliteLoginThrottle(database, config.login_limits, clock=clock),
            "sessions": SqliteSessionStore(database, config.session_idle_seconds, clock=clock),
            "log": QuestionLog(config.question_log)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve(env: dict, **config_changes) -> AsyncIterator[httpx2.AsyncClient]:
    config = env["config"]
    if config_changes:
        config = ConsoleConfig(**{**config.__dict__, **config_changes})
    async with serve_app(lambda: create_app(config, library=env["library"],
                                            question_log=env["log"], throttle=env["throttle"],
                                            sessions=env["sessions"]),
                         timeout=120) as client:
        yield client


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match[1]


async def login(client: httpx2.AsyncClient, name: str, password: str) -> httpx2.Response:
    page = await client.get("/login")
    return await client.post("/login", data={"csrf_token": token_of(page.text), "username": name,
                                             "password": password})


async def upload(client: httpx2.AsyncClient, filename: str, content: bytes,
                 **fields: str) -> httpx2.Response:
    page = await client.get("/upload")
    data = {"csrf_token": token_of(page.text), **fields}
    return await client.post("/upload", data=data,
                             files={"file": (filename, content, "application/octet-stream")})


# -- login, sessions, lockout, CSRF ------------------------------------------------------------


async def test_pages_need_login(env):
    async with serve(env) as client:
        for path in ("/documents", "/upload", "/questions", "/questions.csv"):
            resp = await client.get(path)
            assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


async def test_login_success_and_failure(env):
    async with serve(env) as client:
        wrong = await login(client, EDITOR, "sai-mat-khau")
        assert wrong.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in wrong.text
        assert (await client.get("/documents")).status_code == 303
        anonymous_cookie = client.cookies.get("cchc_console")

        ok = await login(client, EDITOR, EDITOR_PW)
        assert ok.status_code == 303 and ok.headers["location"] == "/documents"
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
        assert client.cookies.get("cchc_console") != anonymous_cookie  # rotated on login
        page = await client.get("/documents")
        assert page.status_code == 200
        assert "kh-kiemtra-2019.txt" in page.text and "decomposed-2017.txt" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

        await client.post("/logout", data={"csrf_token": token_of(page.text)})
        assert (await client.get("/documents")).status_code == 303


async def test_secure_cookie_when_configured(env):
    async with serve(env, cookie_security=CookieSecurity.ALWAYS) as client:
        resp = await client.get("/login")
        assert "Secure" in resp.headers["set-cookie"]


async def test_lockout_after_five_failures_for_fifteen_minutes(env):
    async with serve(env) as client:
        for attempt in range(4):
            assert (await login(client, EDITOR, f"sai-{attempt}")).status_code == 401
        fifth = await login(client, EDITOR, "sai-5")
        assert fifth.status_code == 429 and "tạm khoá" in fifth.text
        locked = await login(client, EDITOR, EDITOR_PW)  # even the right password
        assert locked.status_code == 429 and "Thử lại sau 15 phút" in locked.text
        assert (await client.get("/documents")).status_code == 303
        # another user from the same address is not locked
        assert (await login(client, VIEWER, VIEWER_PW)).status_code == 303
        await client.post("/logout", data={"csrf_token": token_of(
            (await client.get("/documents")).text)})
        env["clock"].now += 14 * 60
        assert (await login(client, EDITOR, EDITOR_PW)).status_code == 429
        env["clock"].now += 61
        assert (await login(client, EDITOR, EDITOR_PW)).status_code == 303


async def test_post_without_or_with_a_wrong_csrf_token_is_rejected(env):
    async with serve(env) as client:
        page = await client.get("/login")
        no_token = await client.post("/login", data={"username": EDITOR, "password": EDITOR_PW})
        assert no_token.status_code == 403
        assert (await client.get("/documents")).status_code == 303  # not logged in
        assert (await login(client, EDITOR, EDITOR_PW)).status_code == 303
        for data in ({"id": "kh-kiemtra-2019.txt"},
                     {"id": "kh-kiemtra-2019.txt", "csrf_token": token_of(page.text)}):
            resp = await client.post("/document/delete", data=data)
            assert resp.status_code == 403 and "Phiên làm việc không hợp lệ" in resp.text
        assert "kh-kiemtra-2019.txt" in read_index(env["config"].index_dir).documents


# -- roles, upload, delete, metadata --------------------------------------------------------------


async def test_viewer_can_read_but_not_change(env):
    version = current_version(env["config"].index_dir)
    async with serve(env) as client:
        assert (await login(client, VIEWER, VIEWER_PW)).status_code == 303
        page = await client.get("/documents")
        assert page.status_code == 200 and 'href="/upload"' not in page.text
        assert (await client.get("/upload")).status_code == 403
        resp = await client.post("/upload", data={"csrf_token": token_of(page.text)},
                                 files={"file": ("a.txt", NEW_DOC.encode(), "text/plain")})
        assert resp.status_code == 403 and "chỉ có quyền xem" in resp.text
        resp = await client.post("/document/delete", data={"csrf_token": token_of(page.text),
                                                           "id": "kh-kiemtra-2019.txt"})
        assert resp.status_code == 403
        detail = await client.get("/document", params={"id": "kh-kiemtra-2019.txt"})
        assert detail.status_code == 200 and "Xoá văn bản" not in detail.text
    assert current_version(env["config"].index_dir) == version
    assert not (env["config"].uploads_dir / "a.txt").exists()


async def test_upload_is_indexed_listed_with_metadata_and_answerable(env, embedder, analyzer):
    async with serve(env) as client:
        await login(client, EDITOR, EDITOR_PW)
        resp = await upload(client, "Kế hoạch kiểm tra 2026.txt", NEW_DOC.encode(),
                            signer="Nguyễn Văn Thành")
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"] == "/document?id=ke-hoach-kiem-tra-2026.txt"
        detail = await client.get(resp.headers["location"])
        assert "Đã tải lên và nạp" in detail.text
        assert 'data-field="number">77/KH-UBND<' in detail.text
        assert 'data-field="signer">Nguyễn Văn Thành<' in detail.text
        assert "Sở Y tế và Sở Công Thương" in detail.text  # its chunks
        listing = await client.get("/documents", params={"q": "hoa binh 2026"})
        row = re.search(r'<tr data-doc-id="ke-hoach-kiem-tra-2026.txt">(.*?)</tr>', listing.text,
                        re.S)
        assert row, listing.text
        for value in ("77/KH-UBND", "Kế hoạch", "05/01/2026", "UBND tỉnh Hòa Bình", "Hòa Bình",
                      "2026"):
            assert value in row[1]
        assert "kh-kiemtra-2019.txt" not in listing.text  # the search filtered
    stored = env["config"].uploads_dir / "ke-hoach-kiem-tra-2026.txt"
    assert stored.is_file() and (env["config"].uploads_dir / ".originals").is_dir()
    # the same index folder the action server reads now answers from it
    kb = KnowledgeBase(KnowledgeConfig(model=embedder.model_name,
                                       index_dir=env["config"].index_dir),
                       embedder=embedder, analyzer=analyzer)
    hit = kb.search("Năm 2026 Hòa Bình kiểm tra cải cách hành chính tại sở nào", k=1)[0]
    assert hit.chunk.doc_id == "ke-hoach-kiem-tra-2026.txt"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("virus.exe", b"MZ\x90\x00", "không được hỗ trợ"),
    ("hong.pdf", b"%PDF-1.4 this is not really a pdf", "Không đọc được tệp"),
    ("rong.txt", b"", "Tệp rỗng"),
    ("gan-qua-lon.txt", b"a" * (1024 * 1024 + 10), "Tệp quá lớn"),
    ("qua-lon.txt", b"a" * (2 * 1024 * 1024), "Tệp quá lớn"),
], ids=["type", "broken-pdf", "empty", "over-limit", "over-request-limit"])
async def test_bad_uploads_are_refused_and_change_nothing(env, name, content, message):
    env["config"] = ConsoleConfig(**{**env["config"].__dict__, "max_upload_bytes": 1024 * 1024})
    env["library"].config = env["config"]
    version = current_version(env["config"].index_dir)
    async with serve(env) as client:
        await login(client, EDITOR, EDITOR_PW)
        try:
            resp = await upload(client, name, content)
        except (httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError):
            # Over the request limit the server answers 413 before reading the body and
            # closes; a client still sending may see the connection drop instead (a race on a
            # busy machine). Either way nothing may change.
            assert len(content) > env["config"].max_upload_bytes + 256 * 1024
        else:
            assert resp.status_code in (400, 413)
            assert message in resp.text
    assert current_version(env["config"].index_dir) == version
    leftovers = [p for p in env["config"].uploads_dir.rglob("*") if p.is_file()] \
        if env["config"].uploads_dir.exists() else []
    assert leftovers == []


async def test_same_name_needs_replace(env):
    async with serve(env) as client:
        await login(client, EDITOR, EDITOR_PW)
        assert (await upload(client, "kh.txt", NEW_DOC.encode())).status_code == 303
        again = await upload(client, "kh.txt", NEW_DOC.encode())
        assert again.status_code == 400 and "Đã có văn bản “kh.txt”" in again.text
        replaced = await upload(client, "kh.txt", NEW_DOC.replace("77/KH", "78/KH").encode(),
                                replace="1")
        assert replaced.status_code == 303
        detail = await client.get("/document", params={"id": "kh.txt"})
        assert 'data-field="number">78/KH-UBND<' in detail.text
        # a document that was not uploaded through the console is never overwritten
        clash = await upload(client, "kh-kiemtra-2019.txt", NEW_DOC.encode(), replace="1")
        assert clash.status_code == 400 and "không thể thay thế" in clash.text


async def test_delete_removes_from_index_and_keeps_the_file_aside(env):
    async with serve(env) as client:
        await login(client, EDITOR, EDITOR_PW)
        await upload(client, "xoa-toi.txt", NEW_DOC.encode())
        detail = await client.get("/document", params={"id": "xoa-toi.txt"})
        resp = await client.post("/document/delete", data={"csrf_token": token_of(detail.text),
                                                           "id": "xoa-toi.txt"})
        assert resp.status_code == 303
        listing = await client.get("/documents")
        assert "Đã xoá “xoa-toi.txt”" in listing.text
        assert 'data-doc-id="xoa-toi.txt"' not in listing.text
        assert (await client.get("/document", params={"id": "xoa-toi.txt"})).status_code == 404
    assert "xoa-toi.txt" not in read_index(env["config"].index_dir).documents
    uploads = env["config"].uploads_dir
    assert not (uploads / "xoa-toi.txt").exists()
    assert [p.name.endswith("-xoa-toi.txt") for p in (uploads / ".deleted").iterdir()] == [True]


async def test_metadata_correction_survives_a_full_reingest(env, embedder, analyzer):
    async with serve(env) as client:
        await login(client, EDITOR, EDITOR_PW)
        await upload(client, "sua.txt", NEW_DOC.encode())
        form = await client.get("/document/edit", params={"id": "sua.txt"})
        assert 'value="77/KH-UBND"' in form.text
        bad = await client.post("/document/edit", data={
            "csrf_token": token_of(form.text), "id": "sua.txt", "date": "32/13/2026"})
        assert bad.status_code == 400 and "Ngày ban hành" in bad.text
        resp = await client.post("/document/edit", data={
            "csrf_token": token_of(form.text), "id": "sua.txt", "number": "79/KH-UBND",
            "date": "6/1/2026", "signer": "Trần Thị Bình", "places": "Hòa Bình, Phú Thọ",
            "year": "2026", "doc_type": "Kế hoạch", "issuer": "UBND tỉnh Hòa Bình", "title": ""})
        assert resp.status_code == 303
        detail = await client.get("/document", params={"id": "sua.txt"})
        assert 'data-field="number">79/KH-UBND<' in detail.text
        assert 'data-field="date">06/01/2026<' in detail.text
    # what `make index` does: re-ingest the uploads folder from scratch with a new indexer
    cfg = KnowledgeConfig(model=embedder.model_name, index_dir=env["config"].index_dir)
    report = Indexer(cfg, embedder=embedder, analyzer=analyzer).ingest(
        [FIXTURE_DOCS, env["config"].uploads_dir], sync=True, rebuild=True)
    assert report.failures == []
    meta = read_index(cfg.index_dir).documents["sua.txt"].document.meta
    assert (meta.number, meta.date, meta.signer) == ("79/KH-UBND", "2026-01-06", "Trần Thị Bình")
    assert meta.places == ("Hòa Bình", "Phú Thọ")
    assert meta.title  # cleared field: extraction fills it again


# -- questions -------------------------------------------------------------------------------------


def _day(iso: str, hour: int = 10) -> float:
    return time.mktime(time.strptime(f"{iso} {hour}", "%Y-%m-%d %H"))


async def test_questions_filters_and_csv_export(env):
    log: QuestionLog = env["log"]
    a = log.record("Năm 2018 kiểm tra ở đâu?", "Tại Sở Ngoại vụ…", False, channel="socketio",
                   asked_at=_day("2026-03-01"))
    b = log.record("Lịch tiếp dân <script>alert(1)</script>", "Xin lỗi, tôi không tìm thấy…",
                   True, channel="telegram", asked_at=_day("2026-03-02"))
    c = log.record("=HYPERLINK(\"http://x\")", "Xin lỗi…", True, channel="rest",
                   asked_at=_day("2026-03-05"))
    log.rate(a, True)
    log.rate(c, False, "sai")
    async with serve(env) as client:
        await login(client, VIEWER, VIEWER_PW)

        async def ids(**params) -> set[int]:
            page = await client.get("/questions", params=params)
            assert page.status_code == 200
            return {int(i) for i in re.findall(r'data-question-id="(\d+)"', page.text)}

        assert await ids() == {a, b, c}
        assert await ids(channel="telegram") == {b}
        assert await ids(declined="1") == {b, c}
        assert await ids(unhelpful="1") == {c}
        assert await ids(**{"from": "2026-03-02", "to": "2026-03-02"}) == {b}
        assert await ids(**{"from": "2026-03-02"}) == {b, c}
        page = await client.get("/questions")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>alert(1)" not in page.text
        assert "👎 Chưa hữu ích" in page.text and "👍 Hữu ích" in page.text

        export = await client.get("/questions.csv", params={"declined": "1"})
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        assert "attachment" in export.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
        assert rows[0][:5] == ["id", "thoi_gian", "kenh", "nguoi_hoi", "cau_hoi"]
        assert {int(r[0]) for r in rows[1:]} == {b, c}
        formula = next(r for r in rows[1:] if int(r[0]) == c)
        assert formula[4] == "'=HYPERLINK(\"http://x\")"  # not run by a spreadsheet
        assert formula[9] == "0" and formula[10] == "sai"


# -- the widget and the demo page -----------------------------------------------------------


async def test_widget_files_and_demo_page(env):
    async with serve(env) as client:
        js = await client.get("/widget/widget.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert "innerHTML" not in js.text
        vendor = await client.get("/widget/vendor/socket.io.min.js")
        assert vendor.status_code == 200 and "Socket.IO v4" in vendor.text
        demo = await client.get("/demo")
        assert demo.status_code == 200
        assert 'src="/widget/widget.js" data-rasa-url="http://127.0.0.1:5999" defer' in demo.text
        csp = demo.headers["content-security-policy"]
        assert "connect-src 'self' http://127.0.0.1:5999 ws://127.0.0.1:5999" in csp
        assert "script-src 'self'" in csp


# -- pure helpers and the add-user command -------------------------------------------------------


def test_slugify_and_fields():
    assert slugify("Kế hoạch 12/KH-UBND.docx") == "kh-ubnd"  # a path separator: last part only
    assert slugify("Quyết định số 1331 QĐ.pdf") == "quyet-dinh-so-1331-qd"
    assert slugify("../../etc/passwd") == "passwd"
    assert slugify("....txt") == "van-ban"
    assert clean_fields({"date": "13/4/2018", "year": "2018", "places": "Quảng Bình , Huế"}) == {
        "date": "2018-04-13", "year": "2018", "places": "Quảng Bình, Huế"}
    with pytest.raises(ConsoleError, match="Năm"):
        clean_fields({"year": "20x8"})
    header = {"number": "1/KH", "title": "Tiêu đề: có dấu hai chấm", "places": "A, B"}
    fields, body = split_header(render_with_header(header, "Nội dung\n---\ncòn nữa"))
    assert fields == header and body == "Nội dung\n---\ncòn nữa"


def test_passwords_are_salted_scrypt_hashes(tmp_path):
    first, second = hash_password("mat-khau-1"), hash_password("mat-khau-1")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("mat-khau-1", first) and not verify_password("mat-khau-2", first)
    store = UserStore(tmp_path / "u.json")
    with pytest.raises(ValueError, match="at least 8"):
        store.add("an", "ngan", Role.VIEWER)
    with pytest.raises(ValueError, match="user names"):
        store.add("a b", "mat-khau-dai", Role.VIEWER)
    with pytest.raises(ValueError, match="choose one of: viewer, editor"):
        Role.from_str("admin")


def test_add_user_command_reads_the_password_from_stdin(tmp_path):
    users = tmp_path / "users.json"
    done = subprocess.run([sys.executable, "-m", "console", "add-user", "Lan", "--role", "editor",
                           "--users", str(users)], input="mat-khau-cua-lan\n", text=True,
                          capture_output=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert users.stat().st_mode & 0o777 == 0o600
    assert "mat-khau-cua-lan" not in users.read_text()
    user = UserStore(users).authenticate("lan", "mat-khau-cua-lan")
    assert user is not None and user.role is Role.EDITOR
    again = subprocess.run([sys.executable, "-m", "console", "add-user", "lan", "--users",
                            str(users)], input="mat-khau-khac\n", text=True, capture_output=True,
                           cwd=ROOT, timeout=60)
    assert again.returncode == 2 and "already exists" in again.stderr
