"""The console as it is run (``python -m console --workers 2``), two real Sanic worker processes
on one loopback port: a session made by one worker is valid in the other, and the login limits
count the attempts of both (no model, no index: only sessions and limits)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest

from console.users import Role, UserStore

ROOT = Path(__file__).resolve().parents[2]
EDITOR, EDITOR_PW = "bientap", "mat-khau-bien-tap"
VIEWER, VIEWER_PW = "nguoixem", "mat-khau-nguoi-xem"

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def console_url(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("two-workers")
    users = UserStore(folder / "users.json")
    users.add(EDITOR, EDITOR_PW, Role.EDITOR)
    users.add(VIEWER, VIEWER_PW, Role.VIEWER)
    port = _free_port()
    env = {**os.environ, "CONSOLE_SESSION_DB": str(folder / "state.db"),
           "KB_QUESTION_LOG": str(folder / "questions.db"), "CONSOLE_SOURCE_DIRS": ""}
    log = open(folder / "console.log", "wb")  # closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--index", str(folder / "index"), "--uploads", str(folder / "up"),
         "--users", str(folder / "users.json")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx2.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the console did not start: "
                            + (folder / "console.log").read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _one_client_per_worker(url: str, stack: ExitStack) -> dict[int, httpx2.Client]:
    """Keep-alive clients (one connection each) until both workers hold one."""
    clients: dict[int, httpx2.Client] = {}
    for _ in range(60):
        client = stack.enter_context(httpx2.Client(
            base_url=url, timeout=30, limits=httpx2.Limits(max_connections=1)))
        worker = client.get("/health").json()["worker"]
        clients.setdefault(worker, client)
        if len(clients) == 2:
            return clients
    pytest.fail(f"60 connections all went to worker(s) {sorted(clients)}")


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def _login(client: httpx2.Client, name: str, password: str) -> httpx2.Response:
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": _token(page.text), "username": name,
                                       "password": password})


def test_a_session_made_by_one_worker_is_valid_in_the_other(console_url):
    with ExitStack() as stack:
        (first_pid, first), (second_pid, second) = _one_client_per_worker(
            console_url, stack).items()
        assert _login(first, EDITOR, EDITOR_PW).status_code == 303
        second.cookies.set("cchc_console", first.cookies.get("cchc_console"))
        page = second.get("/documents")
        assert page.status_code == 200 and "bientap (biên tập)" in page.text
        assert second.get("/health").json()["worker"] == second_pid  # still the other worker
        # a form rendered by one worker is accepted by the other (the CSRF token is shared)
        assert first.post("/logout", data={"csrf_token": _token(page.text)}).status_code == 303
        second.cookies.set("cchc_console", first.cookies.get("cchc_console"))
        assert second.get("/documents").status_code == 303  # logged out in both
        assert first_pid != second_pid


def test_the_login_limit_counts_the_attempts_of_both_workers(console_url):
    with ExitStack() as stack:
        clients = list(_one_client_per_worker(console_url, stack).values())
        statuses = [_login(clients[n % 2], VIEWER, f"sai-{n}").status_code for n in range(5)]
        assert statuses == [401, 401, 401, 401, 429]  # 3 on one worker, 2 on the other
        for client in clients:
            locked = _login(client, VIEWER, VIEWER_PW)
            assert locked.status_code == 429 and "Tài khoản tạm khoá" in locked.text
