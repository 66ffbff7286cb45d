"""The soak's own logic: kill plans, the tracker-store lookup, outage windows, the turn
classification, and killing a real process then watching a new one come back."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from benchmarks.conversation import DEFAULT_APOLOGY_PATTERN, TurnKind, TurnResult
from benchmarks.soak import (
    KillPlan,
    KillRecord,
    SoakTargets,
    classify,
    first_answer_after,
    kill_and_watch,
    main,
    outage_windows,
    tracker_user_messages,
)

APOLOGY = re.compile(DEFAULT_APOLOGY_PATTERN)


def _turn(sender, text, started, latency=0.1, replies=("ok",), error=None,
          kind=TurnKind.QUESTION):
    return TurnResult(0, sender, kind, text, started, latency, tuple(replies), error)


def test_kill_plans_parse_and_refuse_nonsense():
    assert KillPlan.parse("actions@180") == KillPlan("actions", 180.0)
    assert KillPlan.parse("rasa@12.5") == KillPlan("rasa", 12.5)
    for bad in ("console@10", "rasa", "rasa@soon", "actions@-1"):
        with pytest.raises(ValueError, match="--kill"):
            KillPlan.parse(bad)


def _tracker_db(path, rows):
    """A SQLite file with Rasa's SQLTrackerStore ``events`` table."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT "
                     "NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name "
                     "VARCHAR(255), action_name VARCHAR(255), data TEXT)")
        for sender, type_name, text in rows:
            conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) "
                         "VALUES (?, ?, ?, ?)",
                         (sender, type_name, time.time(), json.dumps({"event": type_name,
                                                                       "text": text})))
    return path


def test_user_messages_are_read_from_the_tracker_store_by_run(tmp_path):
    db = _tracker_db(tmp_path / "tracker.db", [
        ("soak-ab12-c0-r0", "user", "Xin chào"),
        ("rest:soak-ab12-c1-r0", "user", "Còn năm 2016 thì sao?"),  # a channel prefix
        ("soak-ab12-c0-r0", "bot", "Chào bạn"),
        ("other-run-c0-r0", "user", "Xin chào"),
    ])
    found = tracker_user_messages(db, "soak-ab12")
    assert found == {("soak-ab12-c0-r0", "Xin chào"),
                     ("rest:soak-ab12-c1-r0", "Còn năm 2016 thì sao?")}
    assert tracker_user_messages(tmp_path / "missing.db", "soak-ab12") is None


def test_turns_are_classified_inside_and_outside_outages():
    stored = {("soak-x-c0-r0", "kept by Rasa"), ("rest:soak-x-c1-r0", "prefixed")}
    results = [
        _turn("soak-x-c0-r0", "fine", 1.0),
        _turn("soak-x-c0-r0", "kept by Rasa", 2.0, replies=()),  # empty, but stored: not lost
        _turn("soak-x-c1-r0", "prefixed", 3.0, error="HTTP 500"),  # stored under rest:…
        _turn("soak-x-c1-r0", "gone", 4.0, error="ConnectError"),  # lost, outside
        _turn("soak-x-c0-r0", "in flight", 9.0, latency=1.5, error="ReadError"),  # inside
        _turn("soak-x-c0-r0", "sorry", 11.0, replies=("Hệ thống tạm thời gián đoạn",)),
        _turn("soak-x-c1-r0", "refused", 12.0, error="ConnectError"),  # lost, inside
        _turn("soak-x-c0-r0", "back", 30.0),
    ]
    counts = classify(results, [(10.0, 20.0)], stored, APOLOGY)
    assert counts["all"] == {"sent": 8, "answered": 2, "apology": 1, "empty": 1, "error": 4,
                             "lost": 3}
    assert counts["outside_outages"]["lost"] == 1 and counts["inside_outages"]["lost"] == 2
    assert counts["inside_outages"]["apology"] == 1
    assert [t["text"] for t in counts["lost_turns"]] == ["gone", "in flight", "refused"]
    unknown = classify(results, [], None, APOLOGY)
    assert unknown["all"]["lost"] is None and unknown["all"]["error"] == 4


def test_recovery_is_the_first_real_answer_after_the_kill():
    kill = KillRecord("actions", 10.0, at=10.0, pid=123)
    results = [
        _turn("s", "before", 5.0),
        _turn("s", "apology", 11.0, replies=("tạm thời gián đoạn",)),
        _turn("s", "thanks", 12.0, kind=TurnKind.THANKS),  # Rasa alone answers thanks
        _turn("s", "answered", 20.0, latency=0.5),
        _turn("s", "later", 25.0),
    ]
    assert first_answer_after(results, kill, APOLOGY) == 10.5
    rasa = KillRecord("rasa", 10.0, at=10.0, pid=124)
    assert first_answer_after(results, rasa, APOLOGY) == 2.1  # thanks at 12.0 + 0.1
    kill.answered_after_s = 10.5
    never = KillRecord("rasa", 40.0, at=40.0, pid=5)
    assert outage_windows([kill, never, KillRecord("rasa", 1.0)], end=60.0) == [
        (10.0, 20.5), (40.0, 60.0)]


SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _serve(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], start_new_session=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("test server did not start")


async def test_a_killed_server_is_watched_until_a_new_one_answers():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    first = _serve(port)
    second = None
    try:
        targets = SoakTargets(rasa_port=1, action_port=port)
        record = KillRecord("actions", 0.2)
        t0 = time.monotonic()
        watcher = asyncio.create_task(kill_and_watch(KillPlan("actions", 0.2), targets, t0,
                                                     20.0, record))
        await asyncio.to_thread(first.wait, 10)  # killed by the watcher
        assert first.returncode == -9
        await asyncio.sleep(0.5)
        second = await asyncio.to_thread(_serve, port)  # "the supervisor" restarts it
        await asyncio.wait_for(watcher, 15)
        assert record.pid == first.pid and record.new_pid == second.pid
        assert 0.4 <= record.listening_after_s <= record.healthy_after_s < 10
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


async def test_nothing_to_kill_is_recorded():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    record = KillRecord("rasa", 0.0)
    await kill_and_watch(KillPlan("rasa", 0.0), SoakTargets(port, port), time.monotonic(),
                         1.0, record)
    assert record.pid is None and "no process" in record.error


def test_killing_servers_one_did_not_start_needs_allow_kill(capsys):
    with pytest.raises(SystemExit):
        main(["--url", "http://127.0.0.1:5999", "--duration", "10"])
    assert "--allow-kill" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--url", "http://10.1.1.1:5005", "--kill", "none", "--duration", "10"])
