"""Run the assistant's servers under supervision: what ``make run`` (scripts/serve.sh) starts.

The action server, the Rasa server and the console each run in their own process group. When
one exits or is killed (a crash, ``kill -9``, the kernel's OOM killer) it is started again —
after 1 s, then 2, 4, … up to 60 s while it keeps failing, back to 1 s once it has run for 60 s
— and the others go on serving. Every restart is logged (stdout and LOG_DIR/supervisor.log).
Ctrl-C, SIGTERM or ``make stop`` stops them all (SIGTERM to each group, SIGKILL after
STOP_TIMEOUT); children get SIGTERM from the kernel if this process dies (PR_SET_PDEATHSIG),
so none is left behind.

Start-up: the stack is ready when scripts/wait_ready.py (readiness + warm-up question) passes;
a server that exits before that is a configuration error and stops everything with its log.

Settings come from the environment (scripts/serve.sh sets the defaults): RASA_PORT,
ACTION_PORT, CONSOLE_PORT ("off" = no console), HOST (interface of Rasa and the console),
ACTION_SERVER_INTERFACE (interface of the action server, 127.0.0.1), RUN_DIR, LOG_DIR,
RASA_CREDENTIALS, RASA_ENDPOINTS, READY_TIMEOUT, STOP_TIMEOUT, RESTART_BACKOFF_MAX,
RESTART_STABLE_AFTER. ``python scripts/supervise.py MODEL.tar.gz``.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class Backoff:
    """Delay before restart number ``failures`` (1-based) of a program that keeps failing."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    stable_after: float = 60.0  # a run this long resets the count

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.maximum < self.initial:
            raise ValueError(f"invalid backoff {self}")

    def delay(self, failures: int) -> float:
        return min(self.initial * self.factor ** max(failures - 1, 0), self.maximum)


@dataclass(frozen=True)
class Program:
    """One supervised server."""

    name: str
    argv: tuple[str, ...]
    health_url: str | None = None  # GET → 200 when it answers again after a restart
    env: Mapping[str, str] | None = None


@dataclass
class _Child:
    program: Program
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    failures: int = 0
    restarts: int = 0
    watcher: asyncio.Task | None = field(default=None, repr=False)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Supervisor:
    """Starts programs, restarts any that exits (with ``backoff``) until :meth:`stop`."""

    def __init__(self, programs: list[Program], run_dir: Path, log_dir: Path,
                 backoff: Backoff | None = None, stop_timeout: float = 20.0,
                 say: Callable[[str], None] | None = None) -> None:
        self.children = {p.name: _Child(p) for p in programs}
        self.run_dir, self.log_dir = run_dir, log_dir
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.say = say or (lambda line: print(line, flush=True))
        self.ready = False  # before: an exit is a start-up failure, after: a crash to restart
        self.stopping = False
        self.failed: asyncio.Event = asyncio.Event()
        self.failure = ""

    def pid(self, name: str) -> int | None:
        proc = self.children[name].proc
        return proc.pid if proc and proc.returncode is None else None

    async def start_all(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children.values():
            await self._spawn(child)

    async def _spawn(self, child: _Child) -> None:
        program = child.program
        log = open(self.log_dir / f"{program.name}.log", "ab")  # kept across restarts
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {program.name}\n"
                  .encode())
        log.flush()
        env = {**os.environ, **(program.env or {})}
        try:
            child.proc = await asyncio.create_subprocess_exec(
                *program.argv, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent)
        finally:
            log.close()
        child.started = time.monotonic()
        write_pid_file(self.run_dir / f"{program.name}.pid", child.proc.pid)
        child.watcher = asyncio.create_task(self._watch(child))

    async def _watch(self, child: _Child) -> None:
        proc = child.proc
        assert proc is not None
        code = await proc.wait()
        _kill_group(proc.pid, signal.SIGKILL)  # its own children (Sanic workers) go with it
        if self.stopping:
            return
        name = child.program.name
        ran = time.monotonic() - child.started
        if not self.ready:
            self.failure = f"{name} {_describe_exit(code)} during start-up (after {ran:.0f} s)"
            self.failed.set()
            return
        child.failures = 1 if ran >= self.backoff.stable_after else child.failures + 1
        delay = self.backoff.delay(child.failures)
        child.restarts += 1
        self.say(f"[supervise] {name} (pid {proc.pid}) {_describe_exit(code)} after {ran:.0f} s;"
                 f" restart {child.restarts} in {delay:.0f} s")
        await asyncio.sleep(delay)
        if self.stopping:
            return
        await self._spawn(child)
        self.say(f"[supervise] {name} restarted (pid {child.proc.pid})")
        if child.program.health_url:
            asyncio.create_task(self._announce_back(child, child.proc))

    async def _announce_back(self, child: _Child, proc: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping and proc.returncode is None:
            if await loop.run_in_executor(None, _http_ok, child.program.health_url):
                self.say(f"[supervise] {child.program.name} answers again "
                         f"{time.monotonic() - child.started:.0f} s after its restart")
                return
            await asyncio.sleep(1)

    async def stop(self) -> None:
        """SIGTERM to every process group, SIGKILL after ``stop_timeout``."""
        self.stopping = True
        procs = [c.proc for c in self.children.values() if c.proc is not None]
        for proc in procs:
            if proc.returncode is None:
                _kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), max(deadline - time.monotonic(), 0.1))
            except asyncio.TimeoutError:
                self.say(f"[supervise] pid {proc.pid} did not stop in "
                         f"{self.stop_timeout:.0f} s: killed")
            _kill_group(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                await proc.wait()
        for child in self.children.values():
            if child.watcher is not None:
                child.watcher.cancel()
            (self.run_dir / f"{child.program.name}.pid").unlink(missing_ok=True)


def write_pid_file(path: Path, pid: int) -> None:
    """Write ``path`` whole or not at all: a reader (make stop, a test) never sees it empty."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{pid}\n")
    os.replace(partial, path)


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


# ---- the assistant's stack -------------------------------------------------------------------

@dataclass(frozen=True)
class StackSettings:
    """What ``make run`` starts; read once from the environment (scripts/serve.sh)."""

    model: str
    rasa_port: int = 5005
    action_port: int = 5055
    console_port: int | None = 8080
    host: str = "127.0.0.1"
    action_interface: str = "127.0.0.1"
    run_dir: Path = ROOT / "var" / "run"
    log_dir: Path = ROOT / "var" / "logs"
    credentials: str = "bot/credentials.yml"
    endpoints: str = "bot/endpoints.yml"
    rasa_workers: int = 1
    warm_up_dir: Path | None = None  # where each Rasa worker reports its warm-up (bot/warm_up.py)
    ready_timeout: float = 600.0
    stop_timeout: float = 20.0
    backoff: Backoff = field(default_factory=Backoff)

    def __post_init__(self) -> None:
        for port in (self.rasa_port, self.action_port, self.console_port or 1):
            if not 1 <= port <= 65535:
                raise ValueError(f"invalid port {port}")
        if self.rasa_workers < 1:
            raise ValueError(f"invalid number of Rasa workers {self.rasa_workers}")
        if not Path(self.model).is_file():
            raise ValueError(f"no Rasa model at {self.model}")

    @classmethod
    def from_env(cls, model: str, env: Mapping[str, str] | None = None) -> StackSettings:
        env = os.environ if env is None else env
        console = env.get("CONSOLE_PORT", "8080")
        return cls(
            model=model, rasa_port=int(env.get("RASA_PORT", 5005)),
            action_port=int(env.get("ACTION_PORT", 5055)),
            console_port=None if console == "off" else int(console),
            host=env.get("HOST", "127.0.0.1"),
            action_interface=env.get("ACTION_SERVER_INTERFACE", "127.0.0.1"),
            run_dir=Path(env.get("RUN_DIR", ROOT / "var" / "run")),
            log_dir=Path(env.get("LOG_DIR", ROOT / "var" / "logs")),
            rasa_workers=int(env.get("RASA_WORKERS", 1)),
            warm_up_dir=Path(env["RASA_WARM_UP_DIR"]) if env.get("RASA_WARM_UP_DIR") else None,
            credentials=env.get("RASA_CREDENTIALS", "bot/credentials.yml"),
            endpoints=env.get("RASA_ENDPOINTS", "bot/endpoints.yml"),
            ready_timeout=float(env.get("READY_TIMEOUT", 600)),
            stop_timeout=float(env.get("STOP_TIMEOUT", 20)),
            backoff=Backoff(maximum=float(env.get("RESTART_BACKOFF_MAX", 60)),
                            stable_after=float(env.get("RESTART_STABLE_AFTER", 60))))

    def local(self, interface: str) -> str:
        """Where this machine reaches a server bound to ``interface``."""
        return "127.0.0.1" if interface in ("0.0.0.0", "::", "") else interface

    @property
    def rasa_url(self) -> str:
        return f"http://{self.local(self.host)}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.local(self.action_interface)}:{self.action_port}"


def stack_programs(s: StackSettings) -> list[Program]:
    kb_python, rasa = str(ROOT / ".venv/kb/bin/python"), str(ROOT / ".venv/rasa/bin/rasa")
    programs = [
        Program("actions", (kb_python, "-m", "actions.server", "--interface", s.action_interface,
                            "--port", str(s.action_port)), s.actions_url + "/health"),
        Program("rasa", (rasa, "run", "--model", s.model, "--endpoints", s.endpoints,
                         "--credentials", s.credentials, "--interface", s.host,
                         "--port", str(s.rasa_port), "--cors", "*"), s.rasa_url + "/",
                env={"SANIC_WORKERS": str(s.rasa_workers)}),
    ]
    if s.console_port is not None:
        programs.append(Program(
            "console", (kb_python, "-m", "console", "--host", s.host, "--port",
                        str(s.console_port), "--rasa-url", f"http://{s.host}:{s.rasa_port}"),
            f"http://{s.local(s.host)}:{s.console_port}/health"))
    return programs


def _banner(s: StackSettings) -> str:
    console = f"http://{s.host}:{s.console_port}" if s.console_port else None
    lines = ["", "  The assistant is running.  Ask it something:", "",
             f"    curl -s -XPOST {s.rasa_url}/webhooks/rest/webhook -H "
             "'Content-Type: application/json' \\",
             "      -d '{\"sender\": \"me\", \"message\": \"Mục tiêu cắt giảm báo cáo định kỳ là "
             "bao nhiêu?\"}'", ""]
    if console:
        lines += [f"    Citizens' web widget (demo portal):  {console}/demo",
                  f"    Officials' console:                  {console}/",
                  "      (add a user first: make user NAME=lan ROLE=editor)", ""]
    lines += ["    make shell        # chat in this terminal (another terminal)",
              "    make stop         # or Ctrl-C here, to stop every server",
              "", "  A server that crashes is restarted (see the [supervise] lines).", ""]
    return "\n".join(lines)


async def run_stack(s: StackSettings) -> int:
    log_file = s.log_dir / "supervisor.log"
    s.log_dir.mkdir(parents=True, exist_ok=True)

    def say(line: str) -> None:
        print(line, flush=True)
        with open(log_file, "a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")

    sup = Supervisor(stack_programs(s), s.run_dir, s.log_dir, s.backoff, s.stop_timeout, say)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop_requested.set)
    s.run_dir.mkdir(parents=True, exist_ok=True)
    write_pid_file(s.run_dir / "supervisor.pid", os.getpid())
    status = 0
    if s.warm_up_dir is not None:  # reports of an earlier run must not count
        shutil.rmtree(s.warm_up_dir, ignore_errors=True)
    try:
        await sup.start_all()
        for p in sup.children.values():
            say(f"[run] {p.program.name} started (pid {p.proc.pid}, logs: "
                f"{s.log_dir / (p.program.name + '.log')})")
        ready = asyncio.create_task(_wait_ready(s, sup))
        failed = asyncio.create_task(sup.failed.wait())
        stopped = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({ready, failed, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for task in (failed, stopped):
            task.cancel()
        if stop_requested.is_set():
            ready.cancel()
        elif sup.failed.is_set() or not ready.result():
            ready.cancel()
            status = 1
            say("error: the servers did not become ready: " + (sup.failure or "timeout"))
            for name in sup.children:
                path = s.log_dir / f"{name}.log"
                if path.exists():
                    sys.stderr.write(f"--- {path} (end)\n" + path.read_text(
                        errors="replace")[-2500:] + "\n")
        else:
            sup.ready = True
            print(_banner(s), flush=True)
            await stop_requested.wait()
    finally:
        say("[run] Stopping…")
        await sup.stop()
        (s.run_dir / "supervisor.pid").unlink(missing_ok=True)
        say("[run] Stopped.")
    return status


async def _wait_ready(s: StackSettings, sup: Supervisor) -> bool:
    """scripts/wait_ready.py: both servers answer, then one warm-up question."""
    workers = []
    if s.warm_up_dir is not None:
        workers = ["--rasa-workers", str(s.rasa_workers), "--warm-up-dir", str(s.warm_up_dir)]
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/kb/bin/python"), str(ROOT / "scripts/wait_ready.py"), "--rasa",
        s.rasa_url, "--actions", s.actions_url, "--timeout", str(s.ready_timeout), *workers,
        cwd=ROOT, start_new_session=True, preexec_fn=_die_with_parent)  # Ctrl-C is ours
    try:
        return await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: supervise.py MODEL.tar.gz\n")
        return 2
    try:
        settings = StackSettings.from_env(argv[0])
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return asyncio.run(run_stack(settings))


if __name__ == "__main__":
    sys.exit(main())
