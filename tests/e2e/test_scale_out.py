"""The scaled-out form on one machine, as deploy/README.md starts it: a real PostgreSQL (tracker
store and question log), Redis (lock store), nginx (deploy/nginx/render.py), two Rasa replicas
and two action servers, all on loopback, sharing one index folder.

One stack for the module (the two Rasa replicas load in parallel); the replica-kill test runs
last among those that need both replicas.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.cluster import ScaledOut, StackNotReady, scaled_out

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

UNITS_2018 = ["Lao động – Thương binh và Xã hội", "Ngoại vụ", "Tài chính", "Xây dựng",
              "Văn hóa và Thể thao", "Ban Dân tộc", "Ba Đồn", "Tuyên Hóa", "Quảng Trạch",
              "Quảng Ninh"]
Q_2018 = "Năm 2018 Quảng Bình kiểm tra đơn vị nào?"
Q_2016 = "Còn năm 2016 thì sao?"
Q_ISSUER = "Văn bản đó do ai ban hành?"
NEW_DOCUMENT = """title: Kế hoạch số hóa hồ sơ thủ tục hành chính năm 2031
number: 77/KH-UBND
doc_type: Kế hoạch
date: 2031-02-03
issuer: UBND tỉnh Quảng Bình
---
KẾ HOẠCH
Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính năm 2031

I. MỤC TIÊU
Đến ngày 30/6/2031, 97% hồ sơ thủ tục hành chính tiếp nhận tại Trung tâm Phục vụ hành chính
công tỉnh được số hóa và lưu trữ điện tử; Văn phòng UBND tỉnh chủ trì theo dõi, đôn đốc.
"""
Q_NEW = "Mục tiêu số hóa hồ sơ thủ tục hành chính năm 2031 là bao nhiêu?"


class Cluster(ScaledOut):
    """deploy/README.md's "On one machine" form (tests/support/cluster.py) with the test's
    helpers: a REST turn, the tracker's events in PostgreSQL, a direct action-server call."""

    def say(self, base: str, sender: str, message: str, key: str | None = None) -> str:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["X-Conversation-Id"] = key
        req = urllib.request.Request(base + "/webhooks/rest/webhook", headers=headers,
                                     data=json.dumps({"sender": sender,
                                                      "message": message}).encode())
        with urllib.request.urlopen(req, timeout=180) as resp:
            return "\n".join(r.get("text", "") for r in json.loads(resp.read()))

    def events(self, sender: str) -> list[tuple[str, dict]]:
        import psycopg

        with psycopg.connect(self.pg.url("rasa")) as conn:
            rows = conn.execute("SELECT type_name, data FROM events WHERE sender_id LIKE %s "
                                "ORDER BY id", (f"%{sender}",)).fetchall()
        return [(t, json.loads(d)) for t, d in rows]

    def ask_action_server(self, port: int, question: str) -> str:
        """action_answer_question on one action server, as Rasa calls it (with the token)."""
        tracker = {"sender_id": "scale-direct", "slots": {}, "latest_message": {
            "text": question, "intent": {"name": "ask_knowledge", "confidence": 1.0},
            "entities": []}, "events": [], "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen"}
        body = json.dumps({"next_action": "action_answer_question", "sender_id": "scale-direct",
                           "tracker": tracker, "domain": {}, "version": "3.6.21"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, headers={
            "Content-Type": "application/json", "X-Action-Token": self.token})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return "\n".join(r.get("text") or "" for r in json.loads(resp.read())["responses"])


@pytest.fixture(scope="module")
def cluster(rasa_model, model_dir, tmp_path_factory):
    state = tmp_path_factory.mktemp("scale-out")
    try:
        with scaled_out(rasa_model, state, cls=Cluster) as c:
            yield c
    except StackNotReady as err:
        pytest.fail(str(err))


def test_turns_alternating_between_replicas_keep_the_conversation(cluster):
    sender = "scale-alternate"
    first = cluster.say(cluster.replica(0), sender, Q_2018)
    assert all(unit in first for unit in UNITS_2018) and "1331/QĐ-UBND" in first, first
    second = cluster.say(cluster.replica(1), sender, Q_2016)
    assert "Bạc Liêu" in second and "5 sở, ngành; 4 huyện" in second, second
    assert "Ngoại vụ" not in second, second
    third = cluster.say(cluster.replica(0), sender, Q_ISSUER)
    assert "Kiểm tra thực hiện công tác cải cách hành chính năm 2016" in third, third
    assert "UBND tỉnh Bạc Liêu" in third, third
    # the conversation lives in PostgreSQL, read through Rasa's index on sender_id
    texts = [d.get("text") for t, d in cluster.events(sender) if t == "user"]
    assert texts == [Q_2018, Q_2016, Q_ISSUER]
    import psycopg

    with psycopg.connect(cluster.pg.url("rasa")) as conn:
        indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'events'"
                               ).fetchall()
    assert any("(sender_id)" in row[0] for row in indexes), indexes
    # and the answers went into the question log on PostgreSQL
    from knowledge.question_log import LogFilter, QuestionLog

    log = QuestionLog(cluster.pg.url("cchc"))
    try:
        asked = [q.question for q in log.query(LogFilter(limit=50))
                 if q.sender.endswith(sender)]
    finally:
        log.close()
    assert Q_2018 in asked


def test_two_messages_at_once_are_handled_in_order(cluster):
    """The follow-up reaches the other replica while the question is still being answered:
    the Redis lock makes it wait, so it sees the question's document."""
    sender = "scale-order"
    replies: dict[str, str] = {}

    def send(i: int, message: str) -> None:
        replies[message] = cluster.say(cluster.replica(i), sender, message)

    first = threading.Thread(target=send, args=(0, Q_2018))
    second = threading.Thread(target=send, args=(1, Q_ISSUER))
    first.start()
    time.sleep(0.5)
    second.start()
    first.join(timeout=300)
    second.join(timeout=300)
    assert "Ngoại vụ" in replies[Q_2018] and "1331/QĐ-UBND" in replies[Q_2018], replies
    assert "UBND tỉnh Quảng Bình" in replies[Q_ISSUER], replies
    assert "1331/QĐ-UBND" in replies[Q_ISSUER], replies
    events = cluster.events(sender)
    users = [i for i, (t, _) in enumerate(events) if t == "user"]
    assert [events[i][1]["text"] for i in users] == [Q_2018, Q_ISSUER]
    bot_after_first = [i for i, (t, _) in enumerate(events) if t == "bot" and i > users[0]]
    assert bot_after_first and bot_after_first[0] < users[1], "the turns overlapped"


def test_an_ingest_is_answered_by_every_action_server(cluster, tmp_path):
    """`kb ingest` into the shared index folder (what the console's upload does): both action
    servers answer from the new version without a restart, and so does the public address."""
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "ke-hoach-so-hoa-2031.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
    before = cluster.ask_action_server(cluster.action_ports[0], Q_NEW)
    assert "97%" not in before
    done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", str(folder),
                           "--index", str(cluster.index), "-q"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for port in cluster.action_ports:
        reply = cluster.ask_action_server(port, Q_NEW)
        assert "97%" in reply and "77/KH-UBND" in reply, (port, reply)
    reply = cluster.say(cluster.public, "scale-ingest", Q_NEW, key="scale-ingest")
    assert "97%" in reply, reply


def test_action_servers_refuse_calls_without_the_token(cluster):
    for port in cluster.action_ports:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=b"{}",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 401


def _served_by(cluster, key: str, count: int) -> list[str]:
    """The upstreams of the REST requests with this conversation id, from nginx's access log
    (nginx logs a request just after its response: wait for ``count`` lines)."""
    deadline = time.monotonic() + 10
    while True:
        lines = cluster.nginx.access_log.read_text().splitlines()
        found = [re.search(r"upstream=(.*?) key=", line).group(1) for line in lines
                 if "/webhooks/rest/webhook" in line and f"key={key}" in line]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_killing_a_replica_loses_no_conversation(cluster):
    """Through nginx: the conversation sticks to one replica; that replica is killed (-9);
    the next turn goes to the other one and still knows the conversation."""
    sender = "scale-failover"
    first = cluster.say(cluster.public, sender, Q_2018, key=sender)
    assert "Ngoại vụ" in first, first
    second = cluster.say(cluster.public, sender, Q_2016, key=sender)
    assert "Bạc Liêu" in second, second
    served = _served_by(cluster, sender, 2)
    assert len(served) == 2 and served[0] == served[1], served  # sticky on the conversation
    port = int(served[0].rsplit(":", 1)[1])
    victim = f"rasa{cluster.rasa_ports.index(port)}"
    os.killpg(cluster.procs[victim].pid, signal.SIGKILL)
    cluster.procs[victim].wait(timeout=30)
    third = cluster.say(cluster.public, sender, Q_ISSUER, key=sender)
    assert "UBND tỉnh Bạc Liêu" in third, third
    assert "Kiểm tra thực hiện công tác cải cách hành chính năm 2016" in third, third
    last = _served_by(cluster, sender, 3)[-1]
    assert last.split(",")[-1].strip() != served[0], last  # answered by the other replica
