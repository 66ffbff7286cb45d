"""deploy/: the systemd units parse and carry what production needs, their commands exist in
the repository layout, every setting they use is documented, and nginx accepts the rendered
site configuration (plain and TLS). No systemd in this container: the units are read, not run."""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import nginx_binary, nginx_main_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALL = "/opt/cchc"  # where the units expect the checkout


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _documented() -> set[str]:
    text = (DEPLOY / "systemd" / "cchc.env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))


def test_the_three_kinds_of_units_exist():
    assert {u.name for u in UNITS} == {"cchc-rasa@.service", "cchc-actions@.service",
                                       "cchc-console.service"}


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_restarts_is_bounded_and_hardened(path):
    unit = _unit(path)
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert float(service["RestartSec"]) > 0
    assert re.fullmatch(r"\d+[KMG]", service["MemoryMax"]), "one process cannot take the machine"
    assert service["EnvironmentFile"] == "/etc/cchc/cchc.env"
    assert service["User"] not in ("", "root")
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ProtectHome": "yes", "CapabilityBoundingSet": ""}.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"].startswith(INSTALL + "/var")
    assert int(unit["Unit"]["StartLimitBurst"]) >= 3
    assert unit["Install"]["WantedBy"] == "cchc.target"
    if path.name.startswith("cchc-rasa"):  # Rasa loads its model for 60-95 s
        assert int(service["TimeoutStartSec"]) >= 240


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_commands_exist_in_the_repository_layout(path):
    service = _unit(path)["Service"]
    workdir = Path(service["WorkingDirectory"].replace(INSTALL, str(ROOT)))
    assert workdir == ROOT
    for key in ("ExecStart", "ExecStartPost"):
        argv = shlex.split(service[key])
        program = Path(argv[0].replace(INSTALL, str(ROOT)))
        assert program.exists(), program
        if "-m" in argv:
            module = argv[argv.index("-m") + 1].replace(".", "/")
            assert (ROOT / f"{module}.py").exists() or (ROOT / module / "__main__.py").exists()
        for arg in argv[1:]:  # every file the command names
            if arg.startswith(INSTALL) or arg.startswith(("deploy/", "bot/")):
                assert (ROOT / arg.replace(INSTALL + "/", "")).exists(), arg


def test_every_setting_used_is_documented():
    used: set[str] = set()
    for path in [*UNITS, DEPLOY / "rasa" / "endpoints.yml"]:
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", path.read_text()))
    assert used, "no settings found"
    assert used <= _documented(), used - _documented()
    readme = (DEPLOY / "README.md").read_text()
    for name in sorted(_documented()):
        assert name in readme, f"{name} missing from deploy/README.md"
    for path in [*UNITS, DEPLOY / "systemd" / "cchc.target"]:
        assert path.name in readme


def _nginx_test(site: str, tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(nginx_main_config(tmp_path / "site.conf", tmp_path))
    return subprocess.run([nginx_binary(), "-t", "-p", str(tmp_path), "-c",
                           str(tmp_path / "nginx.conf")], capture_output=True, text=True,
                          timeout=30)


def _render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "nginx" / "render.py"), *args],
                          capture_output=True, text=True, timeout=30)


def test_rendered_nginx_configuration_is_accepted(tmp_path):
    done = _render("--listen", "127.0.0.1:18000", "--rasa", "127.0.0.1:15005", "--rasa",
                   "127.0.0.1:15006", "--actions", "127.0.0.1:15055", "--actions",
                   "127.0.0.1:15056", "--actions-listen", "127.0.0.1:15050", "--console",
                   "127.0.0.1:18080")
    assert done.returncode == 0, done.stderr
    assert "hash $cchc_socketio_key consistent" in done.stdout
    checked = _nginx_test(done.stdout, tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_rendered_tls_configuration_is_accepted(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                           "1", "-subj", "/CN=tro-ly.test", "-keyout", str(key), "-out",
                           str(cert)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    done = _render("--listen", "127.0.0.1:18443", "--server-name", "tro-ly.test", "--rasa",
                   "127.0.0.1:15005", "--tls-cert", str(cert), "--tls-key", str(key))
    assert done.returncode == 0, done.stderr
    assert "listen 127.0.0.1:18443 ssl;" in done.stdout
    checked = _nginx_test(done.stdout, tmp_path)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--listen", "80"], "--rasa"),
    (["--listen", "80", "--rasa", "h:1", "--tls-cert", "c"], "go together"),
    (["--listen", "80", "--rasa", "h:1", "--actions-listen", "h:2"], "--actions server"),
    (["--listen", "a b", "--rasa", "h:1"], "HOST:PORT"),
])
def test_render_refuses_incomplete_commands(args, message):
    done = _render(*args)
    assert done.returncode != 0 and message in done.stderr


def test_the_example_configuration_is_what_render_makes():
    command = re.search(r"python3 deploy/nginx/render\.py (.*?)\n\s*\| sudo tee",
                        (DEPLOY / "README.md").read_text(), re.S).group(1)
    args = shlex.split(command.replace("\\\n", " ").rstrip(" \\"))
    done = _render(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (DEPLOY / "nginx" / "cchc.conf.example").read_text(), (
        "regenerate deploy/nginx/cchc.conf.example with the command of deploy/README.md")
