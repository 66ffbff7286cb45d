"""Real PostgreSQL, Redis and nginx servers for tests: loopback only, free ports, temporary
folders, stopped (process group killed, folder removed) when the ``with`` block ends.

    with postgres_server() as pg, redis_server() as redis:
        url = pg.url("rasa")            # postgresql://cchc:…@127.0.0.1:PORT/rasa
        ...

PostgreSQL refuses to run as root, so as root it runs as the unprivileged ``postgres`` user
(``Popen(user=…)``), with its data in a temporary folder that user owns. Its roles and databases are
made by ``deploy/postgres/setup.sql`` — the file an administrator runs in production.
nginx runs the configuration that ``deploy/nginx/render.py`` renders.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None,
                  log: Path | None = None) -> None:
    """Until something accepts connections on 127.0.0.1:port (fails early if ``proc`` exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing on 127.0.0.1:{port} after {timeout:.0f} s: {_tail(log)}")


def _tail(log: Path | None, chars: int = 2000) -> str:
    return log.read_text(errors="replace")[-chars:] if log and log.exists() else ""


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """``sig`` to the process, then SIGKILL to its whole process group if it is still there
    (servers are started with ``start_new_session=True``, so the group is theirs alone)."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)


def _find_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise FileNotFoundError(f"{name} not found: run 'bash scripts/system-packages.sh'")
    return found


# ---- PostgreSQL ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL. ``user``/``password`` are the application role made by
    deploy/postgres/setup.sql (owner of the ``rasa`` and ``cchc`` databases)."""

    port: int
    superuser_password: str
    user: str
    password: str
    folder: Path

    host: str = "127.0.0.1"

    def url(self, database: str = "cchc") -> str:
        """A libpq URL (``KB_QUESTION_LOG`` accepts it as is)."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def superuser_url(self, database: str = "postgres") -> str:
        return (f"postgresql://postgres:{self.superuser_password}@{self.host}:{self.port}/"
                f"{database}")


def _as_postgres() -> dict:
    """Popen arguments that run a PostgreSQL binary as the ``postgres`` user when we are root
    (it refuses to run as root); the process is then postgres itself, so signals reach it."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": [],
            "env": {**os.environ, "HOME": str(Path(pwd.getpwnam("postgres").pw_dir))}}


@contextmanager
def postgres_server(app_password: str | None = None) -> Iterator[PostgresServer]:
    """initdb in a temporary folder, ``postgres`` on a free loopback port (TCP only, scram
    passwords), then deploy/postgres/setup.sql; everything is removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cchc-pg-"))
    os.chmod(folder, 0o700)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    superuser_password = secrets.token_hex(16)
    app_password = app_password or secrets.token_hex(16)
    pwfile = folder / "pwfile"
    pwfile.write_text(superuser_password + "\n")
    os.chmod(pwfile, 0o600)
    if os.geteuid() == 0:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    log = folder / "postgres.log"
    proc = None
    try:
        done = subprocess.run([
            _find_binary("initdb"), "-D", str(folder / "data"), "-U", "postgres",
            f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, timeout=120, cwd=folder, **_as_postgres())
        if done.returncode != 0:
            raise RuntimeError("initdb failed: " + done.stderr[-2000:])
        port = free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen([
                _find_binary("postgres"), "-D", str(folder / "data"),
                "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
                "-c", f"unix_socket_directories={folder}", "-c", "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "shared_buffers=32MB", "-c", "max_connections=60"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
                **_as_postgres())
        _wait_postgres(port, superuser_password, proc, log)
        setup = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"app_password={app_password}",
             "-f", str(DEPLOY / "postgres" / "setup.sql"),
             f"postgresql://postgres@127.0.0.1:{port}/postgres"],
            env={**os.environ, "PGPASSWORD": superuser_password}, capture_output=True,
            text=True, timeout=60)
        if setup.returncode != 0:
            raise RuntimeError("deploy/postgres/setup.sql failed: " + setup.stderr[-2000:])
        yield PostgresServer(port=port, superuser_password=superuser_password, user="cchc",
                             password=app_password, folder=folder)
    finally:
        if proc is not None:
            stop_process(proc, signal.SIGINT)  # "fast shutdown"
        shutil.rmtree(folder, ignore_errors=True)


def _wait_postgres(port: int, password: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        done = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)],
                              capture_output=True, timeout=10)
        if done.returncode == 0:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"postgres not ready on port {port}: {_tail(log)}")
        time.sleep(0.2)


# ---- Redis -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str
    host: str = "127.0.0.1"

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/{db}"


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """redis-server on a free loopback port with a password, no persistence."""
    folder = Path(tempfile.mkdtemp(prefix="cchc-redis-"))
    password = secrets.token_hex(16)
    port = free_port()
    conf = folder / "redis.conf"
    conf.write_text(f"bind 127.0.0.1\nport {port}\nrequirepass {password}\nprotected-mode yes\n"
                    f"dir {folder}\nsave \"\"\nappendonly no\ndaemonize no\n")
    os.chmod(conf, 0o600)
    log = folder / "redis.log"
    proc = None
    try:
        with open(log, "wb") as out:
            proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", str(conf)],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(port, 30, proc, log)
        yield RedisServer(port=port, password=password)
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(folder, ignore_errors=True)


# ---- nginx -----------------------------------------------------------------------------------

def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if not found:
        raise FileNotFoundError("nginx not found: run 'bash scripts/system-packages.sh'")
    return found


def nginx_main_config(site_config: Path, folder: Path) -> str:
    """A complete nginx.conf around one site file (what /etc/nginx/nginx.conf and conf.d/ are
    in production), with every path inside ``folder``."""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 1;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log info;\nevents {{ worker_connections 512; }}\n"
            "http {\n"
            "  log_format cchc '$remote_addr \"$request\" $status upstream=$upstream_addr "
            "key=$http_x_conversation_id';\n"
            f"  access_log {folder}/access.log cchc;\n"
            f"  client_body_temp_path {folder}/client_body;\n"
            f"  proxy_temp_path {folder}/proxy;\n"
            f"  fastcgi_temp_path {folder}/fastcgi;\n  uwsgi_temp_path {folder}/uwsgi;\n"
            f"  scgi_temp_path {folder}/scgi;\n"
            f"  include {site_config};\n"
            "}\n")


@dataclass(frozen=True)
class NginxServer:
    folder: Path
    ports: tuple[int, ...]

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"


@contextmanager
def nginx_server(site_config: str, ports: tuple[int, ...]) -> Iterator[NginxServer]:
    """nginx (foreground, own prefix folder) with ``site_config`` in its http block; waits until
    every port of ``ports`` accepts connections."""
    folder = Path(tempfile.mkdtemp(prefix="cchc-nginx-"))
    os.chmod(folder, 0o755)  # workers run as nobody
    site = folder / "site.conf"
    site.write_text(site_config)
    conf = folder / "nginx.conf"
    conf.write_text(nginx_main_config(site, folder))
    log = folder / "error.log"
    proc = None
    try:
        check = subprocess.run([nginx_binary(), "-t", "-p", str(folder), "-c", str(conf),
                                "-g", "daemon off;"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr)
        with open(folder / "nginx.out", "wb") as out:
            proc = subprocess.Popen([nginx_binary(), "-p", str(folder), "-c", str(conf),
                                     "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        for port in ports:
            wait_for_port(port, 30, proc, log)
        yield NginxServer(folder=folder, ports=ports)
    finally:
        if proc is not None:
            stop_process(proc, signal.SIGQUIT)  # graceful
        shutil.rmtree(folder, ignore_errors=True)
