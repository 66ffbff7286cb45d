"""The servers a load or soak run talks to: finding their processes, reading their CPU time,
describing the CPU, and starting a whole stack from a checkout.

- :func:`listening_pids` finds the process that listens on a TCP port (``/proc/net/tcp*`` and
  each process's socket file descriptors), so a stack started by ``make run`` needs no pid file;
- :func:`cpu_seconds` reads ``/proc/<pid>/stat``: user + system time of the process, of its
  children that have exited (``cutime``/``cstime``) and of its live descendants;
- :func:`cpu_info` reports the model name (``lscpu``) and whether the CPU has AMX;
- :class:`Stack` runs ``bash scripts/serve.sh MODEL`` of any checkout (this one, or a
  ``git worktree`` of an older commit sharing the venvs) on free loopback ports with its own
  state folder and index, the way ``tests/e2e/test_rest_conversation.py`` does, so two versions
  can be measured one after the other in the same run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


# -- processes ------------------------------------------------------------------------------
def _listening_inodes(port: int, proc: Path = Path("/proc")) -> set[str]:
    inodes = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            lines = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listening_pids(port: int, proc: Path = Path("/proc")) -> list[int]:
    """Processes holding a listening TCP socket on ``port`` (any address), lowest pid first."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port, proc)}
    if not inodes:
        return []
    found = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        found.add(int(entry.name))
                        break
    return sorted(found)


def pid_on_port(port: int) -> int | None:
    """The server process listening on ``port`` (the parent when several share the socket)."""
    pids = listening_pids(port)
    if not pids:
        return None
    parents = {pid: _stat_fields(pid).get("ppid") for pid in pids}
    roots = [pid for pid in pids if parents[pid] not in pids]
    return (roots or pids)[0]


def _stat_fields(pid: int, proc: Path = Path("/proc")) -> dict[str, int]:
    """ppid, utime, stime, cutime, cstime (clock ticks) of ``pid``; {} when it is gone."""
    try:
        raw = (proc / str(pid) / "stat").read_text()
    except OSError:
        return {}
    # the command name (field 2) is in parentheses and may contain spaces
    rest = raw[raw.rindex(")") + 2:].split()
    return {"ppid": int(rest[1]), "utime": int(rest[11]), "stime": int(rest[12]),
            "cutime": int(rest[13]), "cstime": int(rest[14])}


def descendants(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """Live descendants of ``pid`` (children, grandchildren, …)."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name), proc)
            if fields:
                children.setdefault(fields["ppid"], []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float | None:
    """CPU seconds (user + system) used by ``pid`` since it started, its exited children's
    (``cutime``/``cstime``) and its live descendants' included; ``None`` when it is gone."""
    own = _stat_fields(pid, proc)
    if not own:
        return None
    ticks = own["utime"] + own["stime"] + own["cutime"] + own["cstime"]
    for child in descendants(pid, proc):
        fields = _stat_fields(child, proc)
        if fields:
            ticks += fields["utime"] + fields["stime"] + fields["cutime"] + fields["cstime"]
    return ticks / CLOCK_TICKS


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (VmRSS); None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def process_environ(pid: int) -> dict[str, str]:
    """The environment ``pid`` was started with ({} when unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


@dataclass
class CpuMeter:
    """CPU seconds of named server processes between :meth:`start` and :meth:`stop`.

    A process that is replaced meanwhile (killed and restarted: a new pid on the same port)
    is read again by port, and its figure is marked ``restarted``.
    """

    ports: dict[str, int]
    pids: dict[str, int] = field(default_factory=dict)
    _before: dict[str, float | None] = field(default_factory=dict)

    def start(self) -> None:
        for name, port in self.ports.items():
            pid = self.pids.get(name) or pid_on_port(port)
            if pid is not None:
                self.pids[name] = pid
            self._before[name] = cpu_seconds(pid) if pid else None

    def stop(self, wall: float) -> dict[str, dict]:
        """Per server: pid, CPU seconds used, and the share of one core over ``wall`` s."""
        out = {}
        for name, port in self.ports.items():
            pid = self.pids.get(name)
            now = cpu_seconds(pid) if pid else None
            before = self._before.get(name)
            entry: dict = {"port": port, "pid": pid}
            if now is not None and before is not None:
                used = now - before
                entry.update(cpu_s=round(used, 2), cores=round(used / wall, 3) if wall else None)
            else:
                current = pid_on_port(port)
                entry.update(cpu_s=None, cores=None, restarted=current is not None,
                             pid_now=current)
            out[name] = entry
        return out


# -- the CPU --------------------------------------------------------------------------------
def cpu_info() -> dict:
    """CPU model (``lscpu``'s "Model name", else /proc/cpuinfo), cores, AMX present."""
    model, flags = "", ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10,
                             env={**os.environ, "LC_ALL": "C"}).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name" and not model:
                model = value.strip()
            elif key.strip() == "Flags":
                flags = value.strip()
    if not model or not flags:
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not model:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = value.strip()
    amx = sorted(f for f in flags.split() if f.startswith("amx"))
    return {"model": model, "cores": os.cpu_count(), "amx": bool(amx), "amx_flags": amx,
            "avx512": any(f.startswith("avx512") for f in flags.split()),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def amx_use(cpu: dict, action_server_pid: int | None) -> str:
    """Whether the action server's embedder uses AMX: its KB_EMBED_PRECISION resolves to bf16
    on an AMX CPU (knowledge/retrieval/dense.py ``resolve_precision``)."""
    env = process_environ(action_server_pid) if action_server_pid else {}
    precision = (env.get("KB_EMBED_PRECISION") or "auto").strip().lower()
    if precision == "auto":
        precision = "bf16" if cpu.get("amx") else "fp32"
    used = precision == "bf16" and cpu.get("amx")
    return f"{'yes' if used else 'no'} (action server embeds in {precision})"


# -- a whole stack from a checkout ------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StackError(RuntimeError):
    """The stack could not be prepared or did not start."""


SHARED_LINKS = (".venv", "var/models", "var/rasa-models")


@dataclass
class Stack:
    """``scripts/serve.sh`` of ``checkout`` on free loopback ports, state under ``state``.

    ``model`` defaults to what that checkout's ``scripts/train.sh`` prints (it trains only when
    its inputs changed: minutes), ``index`` to a fresh index of the checkout's
    ``data/documents`` built by the checkout's own code. ``link_shared`` symlinks ``.venv``,
    ``var/models`` and ``var/rasa-models`` from this project into a checkout that has none (a
    new ``git worktree``).
    """

    checkout: Path
    state: Path
    model: str | None = None
    index: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    link_shared: bool = False
    start_timeout: float = 600
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    startup_s: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def label(self) -> str:
        return _describe_checkout(self.checkout)

    def prepare(self) -> None:
        """Links, model and index (each only when missing)."""
        self.checkout = self.checkout.resolve()
        if not (self.checkout / "scripts" / "serve.sh").is_file():
            raise StackError(f"{self.checkout}: no scripts/serve.sh (not a project checkout)")
        project = Path(__file__).resolve().parents[1]
        for rel in SHARED_LINKS:
            target = self.checkout / rel
            if target.exists():
                continue
            if not self.link_shared:
                raise StackError(f"{target} is missing; pass --link-shared to link this "
                                 f"project's {rel} there (shared venvs and models)")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to((project / rel).resolve())
            logger.info("linked %s -> %s", target, (project / rel).resolve())
        self.state.mkdir(parents=True, exist_ok=True)
        if self.model is None:
            logger.info("%s: scripts/train.sh (trains only if its inputs changed)", self.label)
            done = subprocess.run(["bash", "scripts/train.sh"], cwd=self.checkout,
                                  capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                raise StackError(f"train.sh failed in {self.checkout}:\n{done.stderr[-2000:]}")
            self.model = str((self.checkout / done.stdout.strip().splitlines()[-1]).resolve())
        if self.index is None:
            self.index = self.state / "index"
            done_marker = self.state / "index.done"
            if not done_marker.exists():
                logger.info("%s: indexing data/documents into %s", self.label, self.index)
                done = subprocess.run(
                    [str(self.checkout / ".venv/kb/bin/python"), "-m", "knowledge.cli", "ingest",
                     "data/documents", "--index", str(self.index), "-q"],
                    cwd=self.checkout, capture_output=True, text=True, timeout=1800,
                    env={**os.environ, "HF_HUB_OFFLINE": "1"})
                if done.returncode != 0:
                    raise StackError(f"indexing failed in {self.checkout}:\n"
                                     f"{done.stderr[-2000:]}")
                done_marker.write_text(str(self.index))

    def start(self) -> None:
        """serve.sh in its own process group; returns once it prints "The assistant is
        running" (after its readiness check and warm-up)."""
        if self.model is None or self.index is None:
            self.prepare()
        env = {**os.environ, **self.env, "RASA_PORT": str(self.rasa_port),
               "ACTION_PORT": str(self.action_port), "KB_INDEX": str(self.index),
               "RASA_TRACKER_DB": str(self.state / "tracker.db"),
               "KB_QUESTION_LOG": str(self.state / "questions.db"), "CONSOLE_PORT": "off",
               "RUN_DIR": str(self.state / "run"), "LOG_DIR": str(self.state / "logs"),
               "HOST": "127.0.0.1", "READY_TIMEOUT": str(int(self.start_timeout))}
        logger.info("%s: starting serve.sh (Rasa :%d, actions :%d)", self.label,
                    self.rasa_port, self.action_port)
        begin = time.monotonic()
        self.proc = subprocess.Popen(["bash", "scripts/serve.sh", str(self.model)],
                                     cwd=self.checkout, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        seen: list[str] = []
        deadline = begin + self.start_timeout + 60
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                seen.append(line)
                logger.debug("serve.sh: %s", line.rstrip())
                if "The assistant is running" in line:
                    self.startup_s = time.monotonic() - begin
                    # keep draining serve.sh's output so it never blocks on a full pipe
                    _drain(self.proc)
                    return
                if time.monotonic() > deadline:
                    break
        except BaseException:  # Ctrl-C while waiting: stop the servers before leaving
            self.stop()
            raise
        self.stop()
        raise StackError(f"{self.label}: servers did not start:\n" + "".join(seen[-30:])
                         + self.log_tail())

    def log_tail(self, chars: int = 3000) -> str:
        out = ""
        for name in ("rasa.log", "actions.log"):
            path = self.state / "logs" / name
            if path.exists():
                out += f"\n--- {path}\n" + path.read_text(errors="replace")[-chars:]
        return out

    def stop(self) -> None:
        """SIGTERM to serve.sh (it stops its servers), SIGKILL to the group after 60 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # servers that outlived serve.sh (it was killed hard): the whole session
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _drain(proc: subprocess.Popen) -> None:
    import threading

    def run() -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in proc.stdout:  # type: ignore[union-attr]
                logger.debug("serve.sh: %s", line.rstrip())

    threading.Thread(target=run, daemon=True).start()


def _describe_checkout(path: Path) -> str:
    """``name@commit`` of a checkout (``+dirty`` with uncommitted changes)."""
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
        commit += "+dirty" if dirty else ""
    return f"{path.name}@{commit or '?'}"


def sanitize(label: str) -> str:
    return re.sub(r"[^\w.@+-]+", "_", label)

