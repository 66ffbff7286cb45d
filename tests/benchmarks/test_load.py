"""The load benchmark's own logic: loopback refusal, statistics, the closed and open loops
(against a small fake REST server), the saturation search, CPU accounting from /proc."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from benchmarks.conversation import (
    FEEDBACK_PAYLOAD,
    NotLoopbackError,
    ScriptMix,
    TurnKind,
    TurnResult,
    make_script,
    require_loopback,
)
from benchmarks.load import (
    LoadSettings,
    SaturationSettings,
    comparison_rows,
    latency_stats,
    main,
    report,
    run_closed_loop,
    run_open_loop,
    run_saturation,
    summarize,
    summary_rows,
)
from benchmarks.stack import CpuMeter, cpu_info, cpu_seconds, listening_pids, pid_on_port
from tests.benchmarks.fake_rest import FakeRest


# -- loopback only ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://127.0.0.1:5005", "http://localhost:5005/",
                                 "http://[::1]:8000", "http://127.8.9.10:1", "ws://127.0.0.1:9"])
def test_loopback_targets_are_accepted(url):
    host, port = require_loopback(url)
    assert port > 0 and host


@pytest.mark.parametrize("url", ["http://0.0.0.0:5005", "http://10.0.0.5:5005",
                                 "http://8.8.8.8", "http://[2001:db8::1]:80",
                                 "ftp://127.0.0.1/", "127.0.0.1:5005", "http://:5005"])
def test_other_targets_are_refused(url):
    with pytest.raises(NotLoopbackError):
        require_loopback(url)


def test_the_command_line_refuses_a_non_loopback_url(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--url", "http://192.168.1.20:5005", "--duration", "1",
              "--out", str(tmp_path / "x.json")])
    assert exited.value.code == 2
    assert "192.168.1.20 is not a loopback address" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


# -- settings -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"conversations": 0}, "conversations"), ({"duration": 0}, "duration"),
    ({"jitter": 1.0}, "jitter"), ({"timeout": 0}, "timeout"), ({"max_turns": 0}, "max_turns"),
])
def test_load_settings_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LoadSettings(**kwargs)


def test_saturation_rates_must_rise():
    with pytest.raises(ValueError, match="rise"):
        SaturationSettings(rates=(4, 2))


# -- the script -----------------------------------------------------------------------------
def test_a_script_has_every_kind_of_turn_in_order():
    for seed in range(20):
        script = make_script(random.Random(seed))
        kinds = [t.kind for t in script]
        assert kinds[0] is TurnKind.GREETING and kinds[1] is TurnKind.QUESTION
        assert kinds[-1] is TurnKind.THANKS and kinds[-2] is TurnKind.QUESTION_PLAIN
        assert kinds[-3] is TurnKind.FEEDBACK and script[-3].text == FEEDBACK_PAYLOAD
        assert set(kinds[2:-3]) == {TurnKind.FOLLOW_UP}
        plain = script[-2].text
        assert plain == plain.encode("ascii", "ignore").decode()  # no diacritics


def test_the_chat_mix_asks_no_knowledge_question():
    for seed in range(10):
        script = make_script(random.Random(seed), ScriptMix.CHAT)
        assert {t.kind for t in script} <= {TurnKind.GREETING, TurnKind.CHAT,
                                            TurnKind.FEEDBACK, TurnKind.THANKS}
        assert len(script) == 6
    with pytest.raises(ValueError, match="valid: full, chat"):
        ScriptMix.from_str("questions")


# -- statistics -----------------------------------------------------------------------------
def _result(kind, latency, started=0.0, replies=("ok",), error=None, conv=0):
    return TurnResult(conv, f"s{conv}", kind, "x", started, latency, tuple(replies), error)


def test_latency_stats_match_numpy_percentiles():
    values = [0.010 * i for i in range(1, 101)]
    stats = latency_stats(values)
    assert stats["p50_ms"] == pytest.approx(np.percentile(values, 50) * 1000, abs=0.05)
    assert stats["p95_ms"] == pytest.approx(np.percentile(values, 95) * 1000, abs=0.05)
    assert stats["p99_ms"] == pytest.approx(np.percentile(values, 99) * 1000, abs=0.05)
    assert stats["max_ms"] == 1000.0
    assert latency_stats([])["p95_ms"] is None


def test_summarize_counts_errors_empty_replies_and_apologies_per_kind():
    results = [
        _result(TurnKind.GREETING, 0.1, started=0.0),
        _result(TurnKind.QUESTION, 0.3, started=1.0),
        _result(TurnKind.QUESTION, 0.5, started=2.0, replies=()),  # empty
        _result(TurnKind.QUESTION, 2.0, started=3.0, replies=(), error="timeout after 2.0 s"),
        _result(TurnKind.FOLLOW_UP, 0.2, started=4.0,
                replies=("Xin lỗi, hệ thống đang tạm thời gián đoạn.",)),
        _result(TurnKind.THANKS, 0.05, started=5.0, error="HTTP 500: boom"),
    ]
    summary = summarize(results, wall=10.0)
    overall = summary["overall"]
    assert overall["turns"] == 6 and overall["errors"] == 2 and overall["empty"] == 1
    assert overall["apologies"] == 1
    # answered = a reply with text (the apology counts; the empty one does not)
    assert overall["answered"] == 3 and overall["turns_per_s"] == 0.3
    # percentiles over the turns that got a reply: 0.1, 0.3, 0.5, 0.2
    assert overall["max_ms"] == 500.0 and overall["error_max_ms"] == 2000.0
    question = summary["by_kind"]["question"]
    assert (question["turns"], question["errors"], question["empty"]) == (3, 1, 1)
    assert question["p50_ms"] == 400.0
    assert "feedback" not in summary["by_kind"]
    assert summary["first_turns"]["greeting"]["latency_ms"] == 100.0
    # numbers are folded so that error kinds group
    assert summary["error_kinds"] == {"timeout after N s": 1, "HTTP N: boom": 1}


def test_report_and_comparison_tables():
    results = [_result(TurnKind.QUESTION, 0.2 + i / 100, started=i) for i in range(10)]
    result = {"summary": summarize(results, 10.0),
              "cpu": {"rasa": {"port": 1, "pid": 5, "cpu_s": 2.0, "cores": 0.2,
                               "cpu_ms_per_turn": 200.0},
                      "actions": {"port": 2, "pid": None, "cpu_s": None, "cores": None,
                                  "restarted": False, "pid_now": None}}}
    text = report(result)
    assert "question" in text and "ALL" in text and "200.0 ms per answered turn" in text
    assert "CPU actions: unknown" in text
    rows = summary_rows(result["summary"], "main")
    assert [r["kind"] for r in rows] == ["question", "ALL"] and rows[0]["stack"] == "main"
    faster = {"summary": summarize([_result(TurnKind.QUESTION, 0.1, started=i)
                                    for i in range(10)], 10.0), "cpu": {}}
    compared = comparison_rows([{"label": "before", "result": result},
                                {"label": "after", "result": faster}])
    assert compared[0]["p95_vs_first"] == "1.00x"
    assert compared[1]["p95_vs_first"] == f"{100 / result['summary']['overall']['p95_ms']:.2f}x"


# -- the loops against a fake server ------------------------------------------------------------
async def test_closed_loop_gives_every_conversation_its_own_sender_and_keeps_the_budget():
    fake = FakeRest(service_s=0.01)
    async with fake.serve() as url:
        results, wall = await run_closed_loop(url, LoadSettings(
            conversations=3, think=0.02, jitter=0.5, duration=30, max_turns=17))
    assert len(results) == 17 and len(fake.received) == 17
    assert all(r.ok for r in results) and wall < 10
    by_sender: dict[str, list[TurnResult]] = {}
    for r in results:
        by_sender.setdefault(r.sender, []).append(r)
    # each sender belongs to one conversation and plays its script in order
    assert len({r.conversation for r in results}) == 3
    for turns in by_sender.values():
        assert len({t.conversation for t in turns}) == 1
        assert turns[0].kind is TurnKind.GREETING
    assert all(r.replies == (f"đáp: {r.text}",) for r in results)


async def test_closed_loop_stops_at_its_duration():
    fake = FakeRest(service_s=0.0)
    async with fake.serve() as url:
        start = time.monotonic()
        results, _ = await run_closed_loop(url, LoadSettings(
            conversations=2, think=0.1, jitter=0.0, duration=1.0, max_turns=10_000))
    assert time.monotonic() - start < 3.0
    assert 4 <= len(results) <= 24  # ~10 turns/s for one second, after a spread start
    assert max(r.started for r in results) < 1.0


async def test_errors_and_empty_replies_are_recorded_not_raised():
    def reply(sender, text):
        if text == FEEDBACK_PAYLOAD:
            return 500, []
        return 200, [] if text.startswith("cảm") or text.startswith("Cảm") else ["ok"]

    fake = FakeRest(reply=reply)
    async with fake.serve() as url:
        results, _ = await run_closed_loop(url, LoadSettings(
            conversations=1, think=0.0, duration=30, max_turns=12, seed=3))
    feedback = [r for r in results if r.kind is TurnKind.FEEDBACK]
    assert feedback and all(r.error and r.error.startswith("HTTP 500") for r in feedback)
    assert all(r.ok for r in results if r.kind is TurnKind.QUESTION)


async def test_a_dead_server_gives_errors_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    results, _ = await run_closed_loop(f"http://127.0.0.1:{port}", LoadSettings(
        conversations=2, think=0.0, duration=30, max_turns=4, timeout=5))
    assert len(results) == 4 and all(r.error for r in results)
    assert all(r.latency < 5 for r in results)


async def test_open_loop_never_overlaps_the_turns_of_one_conversation():
    fake = FakeRest(service_s=0.15)
    async with fake.serve() as url:
        results, wall, shed = await run_open_loop(url, 30, 1.0, SaturationSettings(),
                                                  "t", 0)
    assert shed == 0 and 15 <= len(results) <= 50 and all(r.ok for r in results)
    by_sender: dict[str, list[TurnResult]] = {}
    for r in results:
        by_sender.setdefault(r.sender, []).append(r)
    assert len(by_sender) > 1  # arrivals faster than replies open new conversations
    for turns in by_sender.values():
        turns.sort(key=lambda r: r.started)
        for a, b in zip(turns, turns[1:], strict=False):
            assert a.started + a.latency <= b.started + 1e-3


async def test_saturation_finds_the_rate_a_serial_server_holds():
    # one request at a time, 100 ms each: 10 turns/s at most; 30/s must fail (a queue of
    # ~40 turns after 2 s), 2/s and 4/s hold with room for a busy test machine
    fake = FakeRest(service_s=0.1, serial=True)
    async with fake.serve() as url:
        found = await run_saturation(url, SaturationSettings(
            rates=(2, 4, 30), step_seconds=2.0, p95_limit=1.0, seed=2))
    assert [s["held"] for s in found["steps"]] == [True, True, False], found["steps"]
    assert found["saturation_rate_per_s"] == 4
    assert found["first_failed_rate_per_s"] == 30
    assert found["steps"][-1]["p95_ms"] > 1000


def test_the_command_line_writes_a_report(tmp_path, capsys):
    import asyncio
    import threading

    fake = FakeRest(service_s=0.01)
    ready: dict = {}
    stop = threading.Event()

    def serve() -> None:
        async def run() -> None:
            async with fake.serve() as url:
                ready["url"] = url
                while not stop.is_set():
                    await asyncio.sleep(0.05)
        asyncio.run(run())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    for _ in range(100):
        if "url" in ready:
            break
        time.sleep(0.05)
    try:
        out = tmp_path / "load.json"
        code = main(["--url", ready["url"], "--conversations", "2", "--think", "0.05",
                     "--duration", "1", "--out", str(out)])
    finally:
        stop.set()
        thread.join(5)
    assert code == 0
    data = json.loads(out.read_text())
    run = data["runs"][0]["result"]
    assert run["summary"]["overall"]["errors"] == 0 and run["summary"]["overall"]["turns"] > 0
    assert set(run["cpu"]) == {"rasa"}  # this process listens: its own CPU is measured
    assert run["cpu"]["rasa"]["pid"] == os.getpid()
    assert data["cpu"]["model"] and "amx" in data["cpu"]
    assert "turns/s (answered)" in capsys.readouterr().out


# -- processes and CPU --------------------------------------------------------------------------
def test_the_listening_process_is_found_by_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert os.getpid() in listening_pids(port)
        assert pid_on_port(port) == os.getpid()
    assert pid_on_port(port) is None


def test_cpu_seconds_include_children_that_have_exited():
    before = cpu_seconds(os.getpid())
    meter = CpuMeter({"me": 1}, {"me": os.getpid()})
    meter.start()
    subprocess.run([sys.executable, "-c",
                    "import time\nt = time.process_time()\n"
                    "while time.process_time() - t < 0.4: pass"], check=True)
    used = meter.stop(1.0)["me"]
    assert used["cpu_s"] >= 0.35, used  # the child's CPU, reaped by subprocess.run
    assert cpu_seconds(os.getpid()) - before >= 0.35
    assert cpu_seconds(2**22 + 12345) is None


def test_cpu_seconds_include_live_descendants():
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.4: pass\ntime.sleep(30)"])
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            own = cpu_seconds(child.pid)
            if own and own >= 0.35:
                break
            time.sleep(0.1)
        assert cpu_seconds(os.getpid()) >= cpu_seconds(child.pid) >= 0.35
    finally:
        child.kill()
        child.wait()


def test_cpu_info_names_the_model_and_amx():
    info = cpu_info()
    assert info["model"] and info["cores"] >= 1
    flags = open("/proc/cpuinfo").read()
    assert info["amx"] == bool(re.search(r"\bamx_\w+", flags))
