"""The real servers for end-to-end tests: scripts/serve.sh (the script `make run` uses) in the
background on free loopback ports, with its own state folder; plus small HTTP helpers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class HttpReply:
    """What a request got: status, decoded JSON body (or text), seconds it took."""

    status: int
    body: Any
    seconds: float


def post(url: str, body: bytes, timeout: float = 120.0,
         content_type: str = "application/json") -> HttpReply:
    """POST ``body``; 4xx/5xx are returned, not raised."""
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    seconds = time.monotonic() - started
    try:
        decoded: Any = json.loads(raw.decode("utf-8"))
    except ValueError:
        decoded = raw.decode("utf-8", errors="replace")
    return HttpReply(status, decoded, seconds)


class Servers:
    """scripts/serve.sh in the background, on free ports, with its own state folder."""

    def __init__(self, model: str, index: Path, state: Path,
                 env: dict[str, str] | None = None) -> None:
        self.model, self.index, self.state = model, index, state
        self.rasa_port, self.action_port = free_port(), free_port()
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def pid(self, name: str) -> int:
        """The pid of ``rasa`` or ``actions``, from serve.sh's RUN_DIR."""
        return int((self.state / "run" / f"{name}.pid").read_text().strip())

    def start(self) -> None:
        env = {**os.environ, "RASA_PORT": str(self.rasa_port),
               "ACTION_PORT": str(self.action_port), "KB_INDEX": str(self.index),
               "RASA_TRACKER_DB": str(self.state / "tracker.db"),
               "KB_QUESTION_LOG": str(self.state / "questions.db"), "CONSOLE_PORT": "off",
               "RUN_DIR": str(self.state / "run"), "LOG_DIR": str(self.state / "logs"),
               **self.extra_env}
        self.proc = subprocess.Popen(["bash", "scripts/serve.sh", self.model], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        # serve.sh waits READY_TIMEOUT (300 s) for the servers; a loaded machine needs more
        deadline = time.time() + int(env.get("READY_TIMEOUT") or 300) + 120
        seen = []
        for line in self.proc.stdout:
            seen.append(line)
            if "The assistant is running" in line:
                return
            if time.time() > deadline:
                break
        self.stop()
        pytest.fail("servers did not start:\n" + "".join(seen[-40:]) + self.logs())

    def logs(self, tail: int = 3000) -> str:
        text = ""
        for name in ("rasa.log", "actions.log"):
            path = self.state / "logs" / name
            if path.exists():
                text += f"\n--- {name}\n" + path.read_text(errors="replace")[-tail:]
        return text

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def send(self, sender: str, message: Any, timeout: float = 120.0) -> HttpReply:
        """One REST turn; the reply whatever its status."""
        body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
        return post(self.url, body, timeout=timeout)

    def say(self, sender: str, message: str) -> str:
        reply = self.send(sender, message)
        assert reply.status == 200, (reply.status, reply.body)
        return "\n".join(r.get("text", "") for r in reply.body)
