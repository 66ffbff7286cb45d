"""scripts/supervise.py's Supervisor with real processes (small Python HTTP servers): a killed
server is restarted with backoff and logged, the others go on, stop leaves nothing behind."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("supervise", ROOT / "scripts" / "supervise.py")
supervise = importlib.util.module_from_spec(_spec)
sys.modules["supervise"] = supervise
_spec.loader.exec_module(supervise)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def _http_server(name: str, port: int, child_pid_file: Path | None = None) -> supervise.Program:
    code = "import http.server, sys\n"
    if child_pid_file:  # a grandchild in the same process group, as Sanic's workers are
        code += ("import subprocess\nopen(sys.argv[2], 'w').write(str(subprocess.Popen("
                 "[sys.executable, '-c', 'import time; time.sleep(600)']).pid))\n")
    code += ("http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), "
             "http.server.SimpleHTTPRequestHandler).serve_forever()\n")
    argv = (sys.executable, "-c", code, str(port))
    if child_pid_file:
        argv += (str(child_pid_file),)
    return supervise.Program(name, argv, f"http://127.0.0.1:{port}/")


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


async def _until(predicate, timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def test_backoff_grows_caps_and_resets():
    b = supervise.Backoff(initial=1, factor=2, maximum=10, stable_after=30)
    assert [b.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    with pytest.raises(ValueError):
        supervise.Backoff(initial=0)


async def test_a_killed_server_is_restarted_and_the_other_keeps_running(tmp_path):
    port_a, port_b = free_port(), free_port()
    lines: list[str] = []
    sup = supervise.Supervisor(
        [_http_server("a", port_a, tmp_path / "grandchild"), _http_server("b", port_b)],
        tmp_path / "run", tmp_path / "logs",
        supervise.Backoff(initial=0.5, factor=2, maximum=4, stable_after=30), stop_timeout=5,
        say=lines.append)
    await sup.start_all()
    try:
        await _until(lambda: _get(f"http://127.0.0.1:{port_a}/") and _get(
            f"http://127.0.0.1:{port_b}/"), 20)
        sup.ready = True
        pid_b = sup.pid("b")
        grandchild = int((tmp_path / "grandchild").read_text())
        for restart in (1, 2):
            pid_a = sup.pid("a")
            assert int((tmp_path / "run" / "a.pid").read_text()) == pid_a
            os.kill(pid_a, signal.SIGKILL)
            took = await _until(lambda p=pid_a: sup.pid("a") not in (None, p), 20)
            await _until(lambda: _get(f"http://127.0.0.1:{port_a}/"), 20)
            assert took >= 0.5 * 2 ** (restart - 1) * 0.9  # the backoff doubled
            assert not _alive(grandchild)  # the crashed server's own children went with it
            grandchild = int((tmp_path / "grandchild").read_text())
        await _until(lambda: any("answers again" in line for line in lines), 10)
        assert sup.pid("b") == pid_b and _get(f"http://127.0.0.1:{port_b}/")
        assert sum("was killed by SIGKILL" in line for line in lines) == 2, lines
        assert "restart 2 in 1 s" in "\n".join(lines), lines
        assert (tmp_path / "logs" / "a.log").read_text().count("starting a") == 3
    finally:
        pids = [sup.pid("a"), sup.pid("b"), grandchild]
        await sup.stop()
    assert not any(_alive(p) for p in pids if p)
    assert not list((tmp_path / "run").glob("*.pid"))


def test_no_orphans_when_the_supervisor_itself_is_killed(tmp_path):
    port = free_port()
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import asyncio, importlib.util, sys
        spec = importlib.util.spec_from_file_location("supervise", {str(ROOT / "scripts" /
                                                                      "supervise.py")!r})
        m = importlib.util.module_from_spec(spec); sys.modules["supervise"] = m
        spec.loader.exec_module(m)
        async def main():
            sup = m.Supervisor([m.Program("a", (sys.executable, "-m", "http.server", "--bind",
                                "127.0.0.1", "{port}"))], m.Path({str(tmp_path)!r}) / "run",
                               m.Path({str(tmp_path)!r}) / "logs")
            await sup.start_all()
            await asyncio.sleep(600)
        asyncio.run(main())
    """))
    proc = subprocess.Popen([sys.executable, str(driver)], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "run" / "a.pid").exists() or not _get(f"http://127.0.0.1:{port}/"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        child = int((tmp_path / "run" / "a.pid").read_text())
        proc.kill()  # kill -9 of the supervisor
        proc.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the server outlived its supervisor"
    finally:
        proc.kill()
        proc.wait()
        if (tmp_path / "run" / "a.pid").exists():
            try:
                os.killpg(int((tmp_path / "run" / "a.pid").read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
