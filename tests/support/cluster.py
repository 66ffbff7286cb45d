"""The scaled-out form on one machine, as deploy/README.md describes it: a real PostgreSQL
(tracker store and question log), Redis (lock store), nginx (deploy/nginx/render.py), N Rasa
replicas and M action servers on loopback, sharing one index folder. Used by the scale-out
test (tests/e2e/test_scale_out.py) and by the load benchmark's scaled-out stacks
(benchmarks/scale_out.py).

    with scaled_out(model, state_folder, rasa_replicas=2, action_servers=2) as stack:
        stack.public        # http://127.0.0.1:PORT, nginx in front of the Rasa replicas
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.services import (
    free_port,
    nginx_server,
    postgres_server,
    redis_server,
    stop_process,
)

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = "deploy/rasa/endpoints.yml"


class StackNotReady(RuntimeError):
    """A server of the stack exited or did not answer its readiness check in time."""


def _load_render():
    spec = importlib.util.spec_from_file_location("deploy_nginx_render",
                                                  ROOT / "deploy" / "nginx" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class ScaledOut:
    """The processes of the scaled-out form, with free ports and temporary folders."""

    def __init__(self, model: str, index: Path, state: Path, pg, redis,
                 rasa_replicas: int = 2, action_servers: int = 2,
                 extra_env: dict[str, str] | None = None) -> None:
        self.model, self.index, self.state, self.pg, self.redis = model, index, state, pg, redis
        self.rasa_ports = [free_port() for _ in range(rasa_replicas)]
        self.action_ports = [free_port() for _ in range(action_servers)]
        self.public_port, self.actions_lb_port = free_port(), free_port()
        self.token = secrets.token_hex(32)
        self.procs: dict[str, subprocess.Popen] = {}
        self.nginx = None
        self.env = {
            **os.environ, "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "KB_INDEX": str(index),
            "KB_QUESTION_LOG": pg.url("cchc"), "ACTION_SERVER_TOKEN": self.token,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_lb_port}/webhook",
            "RASA_DB_HOST": "127.0.0.1", "RASA_DB_PORT": str(pg.port), "RASA_DB_NAME": "rasa",
            "RASA_DB_USER": pg.user, "RASA_DB_PASSWORD": pg.password,
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port),
            "REDIS_PASSWORD": redis.password, "REDIS_DB": "1", **(extra_env or {})}

    def nginx_config(self) -> str:
        return _load_render().render(
            listen=f"127.0.0.1:{self.public_port}",
            rasa=[f"127.0.0.1:{p}" for p in self.rasa_ports],
            actions=[f"127.0.0.1:{p}" for p in self.action_ports],
            actions_listen=f"127.0.0.1:{self.actions_lb_port}", console=None)

    def _start(self, name: str, argv: list[str]) -> None:
        with open(self.state / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log,
                                                stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def start_rasa(self) -> None:
        """Every replica at once: each loads its model for 60-95 s (the index is not theirs)."""
        for i, port in enumerate(self.rasa_ports):
            self._start(f"rasa{i}", [str(ROOT / ".venv/rasa/bin/rasa"), "run", "--model",
                                     self.model, "--endpoints", ENDPOINTS,
                                     "--credentials", "bot/credentials.yml", "--interface",
                                     "127.0.0.1", "--port", str(port)])

    def start_actions_and_wait(self, timeout: float = 600) -> None:
        for i, port in enumerate(self.action_ports):
            self._start(f"actions{i}", [sys.executable, "-m", "actions.server", "--port",
                                        str(port)])
        pending = {**{f"actions{i}": f"http://127.0.0.1:{p}/health"
                      for i, p in enumerate(self.action_ports)},
                   **{f"rasa{i}": f"http://127.0.0.1:{p}/"
                      for i, p in enumerate(self.rasa_ports)}}
        deadline = time.monotonic() + timeout
        while pending:
            for name, url in list(pending.items()):
                if self.procs[name].poll() is not None:
                    raise StackNotReady(f"{name} exited:\n{self.log(name)}")
                if _http_ok(url):
                    del pending[name]
            if time.monotonic() > deadline:
                raise StackNotReady(f"not ready after {timeout:.0f} s: {sorted(pending)}\n" +
                                    "\n".join(self.log(n) for n in pending))
            time.sleep(1)

    def log(self, name: str) -> str:
        path = self.state / f"{name}.log"
        return f"--- {name}\n" + (path.read_text(errors="replace")[-3000:] if path.exists()
                                  else "")

    def pids(self, prefix: str) -> list[int]:
        """Process ids of the servers whose name starts with ``prefix`` (rasa, actions)."""
        return [p.pid for name, p in self.procs.items() if name.startswith(prefix)]

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_process(proc, timeout=30)

    def replica(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    @property
    def public(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"


@contextmanager
def scaled_out(model: str, state: Path, rasa_replicas: int = 2, action_servers: int = 2,
               documents: str = "data/documents", cls: type[ScaledOut] = ScaledOut,
               extra_env: dict[str, str] | None = None) -> Iterator[ScaledOut]:
    """Start everything (the index of ``documents`` is built while Rasa loads); stop it all
    when the block ends, also on failure."""
    index = state / "index"
    with postgres_server() as pg, redis_server() as redis:
        stack = cls(model, index, state, pg, redis, rasa_replicas, action_servers, extra_env)
        with nginx_server(stack.nginx_config(),
                          (stack.public_port, stack.actions_lb_port)) as nginx:
            stack.nginx = nginx
            try:
                stack.start_rasa()
                done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest",
                                       documents, "--index", str(index), "-q"], cwd=ROOT,
                                      capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    raise StackNotReady("kb ingest failed:\n" + done.stderr[-3000:])
                stack.start_actions_and_wait()
                yield stack
            finally:
                stack.stop()
