"""End to end: benchmarks/load.py for a few seconds over REST and Socket.IO, then a short
soak that kills the action server, against one real stack (scripts/serve.sh on free ports,
started once by benchmarks.stack.Stack, as `python -m benchmarks.load --start .` does)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import load, soak
from benchmarks.stack import Stack, pid_on_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(rasa_model, tmp_path_factory):
    state = tmp_path_factory.mktemp("load-stack")
    done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", "data/documents",
                           "--index", str(state / "index"), "-q"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    s = Stack(checkout=ROOT, state=state, model=rasa_model, index=state / "index",
              start_timeout=420)
    s.start()
    yield s
    s.stop()


@pytest.mark.parametrize("channel", ["rest", "socketio"])
def test_a_short_load_run_reports_every_turn_kind_without_errors(stack, channel, tmp_path):
    out = tmp_path / "load.json"
    code = load.main(["--url", stack.url, "--action-port", str(stack.action_port),
                      "--channel", channel, "--conversations", "3", "--think", "0.3",
                      "--duration", "10", "--timeout", "60", "--out", str(out)])
    data = json.loads(out.read_text())
    result = data["runs"][0]["result"]
    overall = result["summary"]["overall"]
    assert code == 0, result["summary"]["error_kinds"]
    assert overall["errors"] == 0 and overall["empty"] == 0, result["summary"]
    assert overall["turns"] >= 6 and overall["p95_ms"] > 0 and overall["turns_per_s"] > 0
    assert {"greeting", "question"} <= set(result["summary"]["by_kind"])
    # the servers' own CPU time, found by port
    assert result["cpu"]["rasa"]["pid"] == pid_on_port(stack.rasa_port)
    assert result["cpu"]["actions"]["pid"] == pid_on_port(stack.action_port)
    assert result["cpu"]["rasa"]["cpu_s"] > 0 and result["cpu"]["actions"]["cpu_s"] > 0
    assert data["cpu"]["model"] and data["amx_used"].startswith(("yes", "no"))
    answers = [t for t in result["turns"] if t["kind"] == "question"]
    assert any("Nguồn:" in " ".join(t["replies"]) for t in answers), answers[:2]


def test_a_short_soak_kills_the_action_server_and_accounts_for_every_turn(stack, tmp_path):
    """Last in this module: it kills a server of the shared stack."""
    out = tmp_path / "soak.json"
    actions_pid = pid_on_port(stack.action_port)
    soak.main(["--url", stack.url, "--action-port", str(stack.action_port), "--allow-kill",
               "--tracker-db", str(stack.state / "tracker.db"), "--kill", "actions@6",
               "--conversations", "3", "--think", "0.5", "--duration", "20",
               "--timeout", "20", "--out", str(out)])
    data = json.loads(out.read_text())
    (kill,) = data["kills"]
    assert kill["server"] == "actions" and kill["pid"] == actions_pid
    counts = data["counts"]
    assert data["tracker_checked"]
    assert counts["all"]["sent"] == sum(counts["all"][k] for k in
                                        ("answered", "apology", "empty", "error"))
    assert counts["outside_outages"]["lost"] == 0
    before = [t for t in data["turns"] if t["started"] + t["latency"] < kill["at"]]
    assert before and all(t["error"] is None and t["replies"] for t in before)
