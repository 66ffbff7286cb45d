"""scripts/wait_ready.py against a small local HTTP server standing in for both servers: the
warm-ups are retried while a server is still loading (5xx), never after a 4xx, carry the action
token, and Rasa's warm-up is one conversation of non-knowledge messages."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("wait_ready", ROOT / "scripts" / "wait_ready.py")
wait_ready = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wait_ready)


class Fake(BaseHTTPRequestHandler):
    failures_left = 0
    failure_code = 503
    posts: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._reply(200, b"ok")

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Fake.posts.append((self.path, body, self.headers.get("X-Action-Token")))
        if self.path == "/webhook" and Fake.failures_left:
            Fake.failures_left -= 1
            self._reply(Fake.failure_code, b"busy")
            return
        self._reply(200, b"[]" if self.path.startswith("/webhooks/rest") else b"{}")

    def _reply(self, code, payload):
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    Fake.posts, Fake.failures_left, Fake.failure_code = [], 0, 503
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_action_warm_up_is_retried_while_the_server_loads(server, monkeypatch, capsys):
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "s3cret")
    monkeypatch.setattr(wait_ready.time, "sleep", lambda s: None)
    Fake.failures_left = 2
    deadline = wait_ready.time.monotonic() + 30
    wait_ready._retry(lambda: wait_ready.warm_up(server), deadline, "action server warm-up")
    calls = [p for p in Fake.posts if p[0] == "/webhook"]
    assert len(calls) == 3 and all(token == "s3cret" for _, _, token in calls)
    assert calls[0][1]["next_action"] == "action_answer_question"
    assert capsys.readouterr().out.count("still loading, trying again") == 2


def test_a_refused_warm_up_is_not_retried(server, monkeypatch):
    monkeypatch.setattr(wait_ready.time, "sleep", lambda s: None)
    Fake.failures_left, Fake.failure_code = 5, 401
    with pytest.raises(wait_ready.urllib.error.HTTPError, match="401"):
        wait_ready._retry(lambda: wait_ready.warm_up(server),
                          wait_ready.time.monotonic() + 30, "action server warm-up")
    assert len(Fake.posts) == 1


def test_main_warms_both_servers_with_one_rasa_conversation(server, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["wait_ready.py", "--rasa", server, "--actions", server,
                                      "--timeout", "30"])
    assert wait_ready.main() == 0
    rest = [body for path, body, _ in Fake.posts if path == "/webhooks/rest/webhook"]
    assert [b["message"] for b in rest] == list(wait_ready.RASA_WARMUP_MESSAGES)
    assert len({b["sender"] for b in rest}) == 1 and rest[0]["sender"].startswith("warm-up-")
    # the action server is warmed first, outside any conversation
    assert Fake.posts[0][0] == "/webhook"


def _report(directory: Path, pid: int, **fields) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"rasa-worker-{pid}.json").write_text(json.dumps({"pid": pid, **fields}))


def test_ready_only_once_every_rasa_worker_reported_its_warm_up(tmp_path, monkeypatch, capsys):
    import os
    import subprocess

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _report(tmp_path, os.getpid(), seconds=2.5, first_s=1.9)
        _report(tmp_path, 2**22 + 17, seconds=1.0, first_s=0.5)  # a dead worker of a past run
        (tmp_path / "rasa-worker-9.json").write_text("{half a fi")  # being written
        reports, errors = wait_ready.warmed_workers(tmp_path)
        assert set(reports) == {os.getpid()} and not errors
        sleeps = []

        def sleep(seconds):  # the second worker reports while wait_for_workers waits
            sleeps.append(seconds)
            _report(tmp_path, live.pid, seconds=3.0, first_s=2.0)

        monkeypatch.setattr(wait_ready.time, "sleep", sleep)
        assert wait_ready.wait_for_workers(tmp_path, 2, wait_ready.time.monotonic() + 30)
        assert len(sleeps) == 1
        out = capsys.readouterr().out
        assert f"Rasa worker {live.pid} warmed up in 3.0 s" in out
    finally:
        live.kill()
        live.wait()


def test_a_failed_worker_warm_up_or_a_missing_worker_fails_start_up(tmp_path, monkeypatch, capsys):
    import os

    monkeypatch.setattr(wait_ready.time, "sleep", lambda s: None)
    _report(tmp_path, os.getpid(), seconds=1.0, first_s=1.0)
    assert not wait_ready.wait_for_workers(tmp_path, 2, wait_ready.time.monotonic() - 1)
    assert "1 of 2 Rasa workers warmed up in time" in capsys.readouterr().err
    _report(tmp_path, os.getpid(), error="RuntimeError: no reply to 'Xin chào'")
    assert not wait_ready.wait_for_workers(tmp_path, 1, wait_ready.time.monotonic() + 30)
    assert "no reply to 'Xin chào'" in capsys.readouterr().err
