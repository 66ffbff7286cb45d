"""`make run`'s stack (scripts/serve.sh → scripts/supervise.py) survives crashes: a server killed
with SIGKILL is restarted and logged while the others keep running; the action server only
obeys Rasa (shared token); nothing listens on a wildcard address; `make stop` leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.services import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
QUESTION = "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?"


class Stack:
    def __init__(self, model: str, index: Path, state: Path) -> None:
        self.state = state
        self.ports = {"rasa": free_port(), "actions": free_port(), "console": free_port()}
        self.env = {**os.environ, "RASA_PORT": str(self.ports["rasa"]),
                    "ACTION_PORT": str(self.ports["actions"]),
                    "CONSOLE_PORT": str(self.ports["console"]), "KB_INDEX": str(index),
                    "RASA_TRACKER_DB": str(state / "tracker.db"),
                    "KB_QUESTION_LOG": str(state / "questions.db"),
                    "RUN_DIR": str(state / "run"), "LOG_DIR": str(state / "logs"),
                    "CONSOLE_USERS": str(state / "users.json"),
                    "CONSOLE_UPLOADS": str(state / "uploads"), "CONSOLE_SOURCE_DIRS": "",
                    "RESTART_BACKOFF_MAX": "5"}
        self.env.pop("ACTION_SERVER_TOKEN", None)  # serve.sh makes one
        self.model = model
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["bash", "scripts/serve.sh", self.model], cwd=ROOT,
                                     env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        deadline = time.monotonic() + 600
        seen = []
        for line in self.proc.stdout:
            seen.append(line)
            if "The assistant is running" in line:
                return
            if time.monotonic() > deadline:
                break
        self.stop()
        pytest.fail("stack did not start:\n" + "".join(seen[-40:]) + self.logs())

    def logs(self) -> str:
        out = ""
        for path in sorted((self.state / "logs").glob("*.log")):
            out += f"\n--- {path.name}\n" + path.read_text(errors="replace")[-2500:]
        return out

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=90)
            self.proc = None

    def pid(self, name: str) -> int:
        # written atomically by supervise.py (write_pid_file): never empty
        return int((self.state / "run" / f"{name}.pid").read_text())

    @property
    def token(self) -> str:
        return (self.state / "secrets" / "action-token").read_text().strip()

    def supervisor_log(self) -> str:
        return (self.state / "logs" / "supervisor.log").read_text()

    def say(self, sender: str, message: str) -> str:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['rasa']}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return "\n".join(r.get("text", "") for r in json.loads(resp.read()))


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        if children.exists():
            kids = {int(p) for p in children.read_text().split()}
            found |= kids
            todo.extend(kids)
    return found


def _wait(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def stack(rasa_model, model_dir, tmp_path_factory):
    state = tmp_path_factory.mktemp("supervision")
    index = state / "index"
    done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", "data/documents",
                           "--index", str(index), "-q"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    s = Stack(rasa_model, index, state)
    s.start()
    yield s
    s.stop()


def test_nothing_listens_on_a_wildcard_address(stack):
    ours = {stack.proc.pid} | _descendants(stack.proc.pid)
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                               check=True).stdout.splitlines()
    mine = [line for line in listening if any(f"pid={pid}," in line for pid in ours)]
    addresses = {line.split()[3] for line in mine}
    assert {f"127.0.0.1:{port}" for port in stack.ports.values()} <= addresses, mine
    assert all(a.startswith("127.0.0.1:") for a in addresses), addresses


def _rasa_workers(stack) -> set[int]:
    """The Sanic worker processes of Rasa: children of its main process."""
    workers = set()
    for pid in _descendants(stack.pid("rasa")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"run" in argv and b"--model" in argv:  # forked: the same command line
            workers.add(pid)
    return workers


def test_rasa_runs_one_worker_per_core_each_warmed_up_before_ready(stack):
    expected = min(os.cpu_count() or 1, 4)
    workers = _rasa_workers(stack)
    if expected == 1:
        assert not workers  # one worker: Sanic serves in the main process
        return
    assert len(workers) == expected, workers
    reports = {}
    for path in (stack.state / "run" / "rasa-warm-up").glob("rasa-worker-*.json"):
        report = json.loads(path.read_text())
        reports[report["pid"]] = report
    assert workers <= set(reports), (workers, reports)  # all warmed before the banner
    assert not any("error" in reports[pid] for pid in workers), reports


def test_two_messages_of_one_user_at_once_are_processed_in_turn(stack):
    """The workers share the conversation locks (bot/lock_store.py): the second message waits
    for the first turn whichever worker takes it, and the follow-up sees the question's
    document. Several pairs, so that both workers take part."""
    import sqlite3
    import threading

    question, follow_up = "Năm 2018 Quảng Bình kiểm tra đơn vị nào?", "Văn bản đó do ai ban hành?"
    for n in range(3):
        sender = f"supervision-order-{n}"
        replies: dict[str, str] = {}

        def send(message: str, sender: str = sender, replies: dict = replies) -> None:
            replies[message] = stack.say(sender, message)

        first = threading.Thread(target=send, args=(question,))
        second = threading.Thread(target=send, args=(follow_up,))
        first.start()
        time.sleep(0.05)
        second.start()
        first.join(timeout=300)
        second.join(timeout=300)
        assert "1331/QĐ-UBND" in replies[question], replies
        assert "UBND tỉnh Quảng Bình" in replies[follow_up], replies
        with sqlite3.connect(stack.state / "tracker.db") as db:
            kinds = [row[0] for row in db.execute(
                "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id",
                (f"rest:{sender}",))]
        users = [i for i, kind in enumerate(kinds) if kind == "user"]
        assert len(users) == 2, kinds
        assert any(kind == "bot" for kind in kinds[users[0]:users[1]]), \
            f"the two turns overlapped: {kinds}"


def test_the_action_server_obeys_only_rasa(stack):
    secret = stack.state / "secrets" / "action-token"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(stack.token) == 64
    tracker = {"sender_id": "forger", "slots": {}, "latest_message": {
        "text": "cho tôi gặp người thật", "intent": {"name": "ask_handoff"}, "entities": []},
        "events": [], "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen"}
    body = json.dumps({"next_action": "action_handoff", "sender_id": "forger",
                       "tracker": tracker, "domain": {}, "version": "3.6.21"}).encode()
    url = f"http://127.0.0.1:{stack.ports['actions']}/webhook"
    for headers, status in (({}, 401), ({"X-Action-Token": "0" * 64}, 403)):
        req = urllib.request.Request(url, data=body, headers={
            "Content-Type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)
        assert err.value.code == status
    req = urllib.request.Request(url, data=body, headers={
        "Content-Type": "application/json", "X-Action-Token": stack.token})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200 and json.loads(resp.read())["responses"]


def test_a_killed_action_server_is_back_within_seconds(stack):
    before = {name: stack.pid(name) for name in ("actions", "rasa", "console")}
    os.kill(before["actions"], signal.SIGKILL)
    # a conversation that starts during the outage: its greeting action fails
    during = stack.say("supervision-new-in-outage", "Xin chào")
    assert "Xin lỗi" in during, during  # the apology, once, at once
    health = f"http://127.0.0.1:{stack.ports['actions']}/health"
    took = _wait(lambda: stack.pid("actions") != before["actions"] and _ok(health), 120,
                 "action server back")
    reply = stack.say("supervision-actions", QUESTION)
    assert "20%" in reply and "Nguồn:" in reply, reply
    # that conversation goes on (it used to stay stuck behind Rasa's circuit breaker)
    for message, expected in ((QUESTION, "20%"), ("cảm ơn bạn nhiều", "")):
        reply = stack.say("supervision-new-in-outage", message)
        assert "Xin lỗi, hệ thống" not in reply and expected in reply, reply
    assert stack.pid("rasa") == before["rasa"] and stack.pid("console") == before["console"]
    assert _alive(before["rasa"]) and _alive(before["console"])
    log = stack.supervisor_log()
    assert f"actions (pid {before['actions']}) was killed by SIGKILL" in log, log
    assert "actions restarted" in log
    print(f"action server answering again {took:.1f} s after kill -9")


def test_a_killed_rasa_is_restarted(stack):
    before = {name: stack.pid(name) for name in ("actions", "rasa", "console")}
    workers_before = _rasa_workers(stack)
    os.kill(before["rasa"], signal.SIGKILL)
    rasa = f"http://127.0.0.1:{stack.ports['rasa']}/"
    took = _wait(lambda: stack.pid("rasa") != before["rasa"] and _ok(rasa), 400,
                 "Rasa back (loading its model takes 60-95 s)")
    reply = stack.say("supervision-rasa", QUESTION)
    assert "20%" in reply, reply
    assert stack.pid("actions") == before["actions"] and _alive(before["actions"])
    assert stack.pid("console") == before["console"] and _alive(before["console"])
    assert f"rasa (pid {before['rasa']}) was killed by SIGKILL" in stack.supervisor_log()
    assert not any(_alive(pid) for pid in workers_before), "a Sanic worker outlived its Rasa"
    print(f"Rasa answering again {took:.1f} s after kill -9")


def test_make_stop_stops_everything(stack):
    ours = {stack.proc.pid} | _descendants(stack.proc.pid)
    assert len(ours) >= 4
    done = subprocess.run(["bash", "scripts/stop.sh"], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stack.proc.wait(timeout=60) == 0
    _wait(lambda: not any(_alive(pid) for pid in ours), 10, "every process gone")
    assert not list((stack.state / "run").glob("*.pid"))
    stack.proc = None
