"""The console against a hostile client, over real HTTP on loopback: parallel password guesses,
forged forwarding headers, oversized bodies; and sessions shared by two app instances (the
SQLite store and a real redis-server), as several workers share them."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from console.app import COOKIE, create_app
from console.config import ConsoleConfig
from console.state import LoginLimits
from console.users import Role, UserStore
from tests.support.services import redis_server
from tests.web.serving import serve_app

EDITOR, EDITOR_PW = "bientap", "mat-khau-bien-tap"
VIEWER, VIEWER_PW = "nguoixem", "mat-khau-nguoi-xem"


class CountingUserStore(UserStore):
    """The real users file, counting how many passwords were actually checked."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.checked = 0
        self._count_lock = threading.Lock()

    def authenticate(self, name: str, password: str):
        with self._count_lock:
            self.checked += 1
        return super().authenticate(name, password)


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.json"
    store = UserStore(path)
    store.add(EDITOR, EDITOR_PW, Role.EDITOR)
    store.add(VIEWER, VIEWER_PW, Role.VIEWER)
    return path


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with redis_server() as server:
        url = server.url()
        yield url


@pytest.fixture
def config(tmp_path, users_file) -> ConsoleConfig:
    """No index (the pages list nothing), no embedding model: only the security layer."""
    return ConsoleConfig(index_dir=tmp_path / "index", uploads_dir=tmp_path / "uploads",
                         source_dirs=(), question_log=tmp_path / "questions.db",
                         users_file=users_file, rasa_url="http://127.0.0.1:5999",
                         session_db=tmp_path / "state.db")


@asynccontextmanager
async def serve(config: ConsoleConfig, users: UserStore | None = None,
                **changes) -> AsyncIterator[httpx2.AsyncClient]:
    if changes:
        config = ConsoleConfig(**{**config.__dict__, **changes})
    async with serve_app(lambda: create_app(config, users=users)) as client:
        yield client


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match[1]


async def login(client: httpx2.AsyncClient, name: str, password: str,
                headers: dict[str, str] | None = None) -> httpx2.Response:
    page = await client.get("/login", headers=headers)
    return await client.post("/login", headers=headers, data={
        "csrf_token": token_of(page.text), "username": name, "password": password})


# -- login limits ---------------------------------------------------------------------------------


async def test_parallel_wrong_passwords_are_not_all_tried(config, users_file):
    """The old console checked the lock, awaited scrypt, then counted: 30 parallel guesses were
    all tried. Now each attempt is counted before its password is checked."""
    users = CountingUserStore(users_file)
    async with serve(config, users) as client:
        token = token_of((await client.get("/login")).text)
        form = {"csrf_token": token, "username": EDITOR}
        responses = await asyncio.gather(*[
            client.post("/login", data={**form, "password": f"doan-{n}"}) for n in range(30)])
        assert users.checked == 5
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [401] * 4 + [429] * 26
        assert all("tạm khoá" in r.text for r in responses if r.status_code == 429)
        right = await login(client, EDITOR, EDITOR_PW)
        assert right.status_code == 429 and users.checked == 5  # not even checked


async def test_one_user_is_locked_from_every_address_behind_a_proxy(config):
    async with serve(config, proxies_count=1) as client:
        for n in range(5):
            resp = await login(client, EDITOR, "sai", {"X-Forwarded-For": f"203.0.113.{n}"})
            assert resp.status_code == (429 if n == 4 else 401)
        locked = await login(client, EDITOR, EDITOR_PW, {"X-Forwarded-For": "198.51.100.1"})
        assert locked.status_code == 429 and "Tài khoản tạm khoá" in locked.text
        # the others behind the same proxy are not locked out
        ok = await login(client, VIEWER, VIEWER_PW, {"X-Forwarded-For": "198.51.100.1"})
        assert ok.status_code == 303


async def test_one_address_trying_many_names_is_locked(config):
    async with serve(config, proxies_count=1,
                     login_limits=LoginLimits(max_failures_address=6)) as client:
        attacker = {"X-Forwarded-For": "203.0.113.66"}
        for n in range(6):
            resp = await login(client, f"nguoi-{n}", "sai", attacker)
            assert resp.status_code == (429 if n == 5 else 401)
        refused = await login(client, VIEWER, VIEWER_PW, attacker)
        assert refused.status_code == 429
        assert "quá nhiều lần đăng nhập sai từ địa chỉ của bạn" in refused.text
        colleague = await login(client, VIEWER, VIEWER_PW, {"X-Forwarded-For": "203.0.113.67"})
        assert colleague.status_code == 303


async def test_forged_forwarding_headers_count_for_nothing_without_a_proxy(config):
    async with serve(config, login_limits=LoginLimits(max_failures_address=6)) as client:
        for n in range(6):  # each "from" another address: all are 127.0.0.1
            await login(client, f"nguoi-{n}", "sai", {"X-Forwarded-For": f"203.0.113.{n}"})
        resp = await login(client, VIEWER, VIEWER_PW, {"X-Forwarded-For": "192.0.2.1"})
        assert resp.status_code == 429
        client.cookies.clear()
        page = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in page.headers["set-cookie"]


# -- the Secure cookie behind a TLS proxy ----------------------------------------------------


@pytest.mark.parametrize(("changes", "https", "plain"), [
    ({"proxies_count": 1},
     {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"},
     {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "http"}),
    ({"real_ip_header": "X-Real-IP"},
     {"X-Real-IP": "203.0.113.5", "X-Forwarded-Proto": "https"}, {"X-Real-IP": "203.0.113.5"}),
    ({"forwarded_secret": "bi-mat-cua-proxy"},
     {"Forwarded": "for=203.0.113.5;proto=https;secret=bi-mat-cua-proxy"},
     {"Forwarded": "for=203.0.113.5;proto=https;secret=doan-sai"}),
], ids=["x-forwarded-for", "x-real-ip", "forwarded-secret"])
async def test_the_cookie_is_secure_when_the_proxy_says_https(config, changes, https, plain):
    async with serve(config, **changes) as client:
        assert "; Secure" in (await client.get("/login", headers=https)).headers["set-cookie"]
        assert "Secure" not in (await client.get("/login", headers=plain)).headers["set-cookie"]
    # the same headers from a peer that is not a trusted proxy are ignored
    async with serve(config, trusted_proxies=("10.0.0.0/8",), **changes) as client:
        assert "Secure" not in (await client.get("/login", headers=https)).headers["set-cookie"]


def test_proxy_settings_are_validated_and_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSOLE_PROXIES_COUNT", "1")
    monkeypatch.setenv("CONSOLE_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16")
    monkeypatch.setenv("CONSOLE_WORKERS", "3")
    monkeypatch.setenv("CONSOLE_MAX_FORM_KB", "32")
    monkeypatch.setenv("CONSOLE_LOGIN_MAX_FAILURES_USER", "4")
    monkeypatch.setenv("CONSOLE_LOGIN_MAX_FAILURES_IP", "40")
    monkeypatch.setenv("CONSOLE_LOGIN_LOCKOUT_MINUTES", "30")
    monkeypatch.setenv("CONSOLE_PARSE_CPU_SECONDS", "20")
    monkeypatch.setenv("CONSOLE_PARSE_MEMORY_MB", "768")
    monkeypatch.setenv("CONSOLE_SESSION_REDIS_URL", "redis://:mk@127.0.0.1:6390/2")
    config = ConsoleConfig.from_env(session_db=tmp_path / "s.db")
    assert (config.proxies_count, config.workers, config.max_form_bytes) == (1, 3, 32 * 1024)
    assert config.trusted_proxies == ("10.0.0.5", "192.168.0.0/16") and config.behind_proxy
    assert config.is_trusted_proxy("192.168.3.4") and not config.is_trusted_proxy("127.0.0.1")
    assert config.login_limits == LoginLimits(4, 40, 1800)
    assert (config.sandbox_limits.cpu_seconds, config.sandbox_limits.memory_mb) == (20, 768)
    assert config.session_redis_url == "redis://:mk@127.0.0.1:6390/2"
    with pytest.raises(ValueError, match="not an address or network"):
        ConsoleConfig(trusted_proxies=("proxy.local",))
    with pytest.raises(ValueError, match="workers must be between 1 and 64"):
        ConsoleConfig(workers=0)
    with pytest.raises(ValueError, match="session_redis_url must be"):
        ConsoleConfig(session_redis_url="http://127.0.0.1:6379")


# -- request bodies ---------------------------------------------------------------------------


async def test_oversized_bodies_get_a_polite_413_and_the_console_goes_on(config):
    # over the 64 KB limit, yet small enough to sit in the loopback socket's buffers: the
    # client has sent it all when the server answers 413 and closes
    big = "x" * (100 * 1024)
    async with serve(config) as client:
        token = token_of((await client.get("/login")).text)
        resp = await client.post("/login", data={"csrf_token": token, "username": big,
                                                 "password": "y"})
        assert resp.status_code == 413
        assert "Nội dung gửi lên quá lớn (giới hạn 64 KB)" in resp.text
        assert '<html lang="vi">' in resp.text

        async def chunks():  # no Content-Length: the limit is checked as chunks arrive
            yield b"csrf_token=" + token.encode() + b"&username="
            for _ in range(6):
                yield b"x" * 16384

        chunked = await client.post("/login", content=chunks(),
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert chunked.status_code == 413
        # an upload-sized body is for signed-in editors only
        anonymous = await client.post("/upload", data={"csrf_token": token},
                                      files={"file": ("a.txt", big.encode(), "text/plain")})
        assert anonymous.status_code == 413
        assert (await login(client, VIEWER, VIEWER_PW)).status_code == 303
        viewer = await client.post("/upload", data={"csrf_token": token},
                                   files={"file": ("a.txt", big.encode(), "text/plain")})
        assert viewer.status_code == 413 and "Nội dung gửi lên quá lớn" in viewer.text
        assert (await client.get("/documents")).status_code == 200  # still serving


async def test_an_editor_may_send_an_upload_sized_body(config):
    async with serve(config, max_upload_bytes=256 * 1024) as client:
        assert (await login(client, EDITOR, EDITOR_PW)).status_code == 303
        token = token_of((await client.get("/upload")).text)
        resp = await client.post("/upload", data={"csrf_token": token},
                                 files={"file": ("a.exe", b"x" * (200 * 1024), "text/plain")})
        assert resp.status_code == 400 and "không được hỗ trợ" in resp.text  # read, then refused
        try:
            over = await client.post("/upload", data={"csrf_token": token},
                                     files={"file": ("a.txt", b"x" * (600 * 1024), "text/plain")})
        except (httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError):
            pass  # refused before the client had sent it all (a race on a busy machine)
        else:
            assert over.status_code == 413 and "Tệp quá lớn: giới hạn là 256 KB" in over.text
        assert (await client.get("/upload")).status_code == 200


# -- sessions shared by instances -------------------------------------------------------------


@pytest.mark.parametrize("store", ["sqlite", "redis"])
async def test_a_session_from_one_instance_is_valid_in_another(request, config, store):
    changes = {"session_redis_url": request.getfixturevalue("redis_url")} if store == "redis" \
        else {}
    async with serve(config, **changes) as first, serve(config, **changes) as second:
        assert (await login(first, EDITOR, EDITOR_PW)).status_code == 303
        cookie = first.cookies.get(COOKIE)
        second.cookies.set(COOKIE, cookie)
        page = await second.get("/documents")
        assert page.status_code == 200 and "bientap (biên tập)" in page.text
        # the CSRF token shown by one instance is accepted by the other
        resp = await first.post("/logout", data={"csrf_token": token_of(page.text)})
        assert resp.status_code == 303
        assert (await second.get("/documents")).status_code == 303  # logged out everywhere
