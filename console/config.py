"""Settings of the console: a validated, frozen dataclass read once by the entry point."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from console.sandbox import SandboxLimits
from console.state.base import LoginLimits
from knowledge.answering.links import DEFAULT_LINK_DOMAINS, parse_link_domains
from knowledge.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL_DIR, PROJECT_ROOT
from knowledge.question_log import is_database_url

DEFAULT_UPLOADS = PROJECT_ROOT / "var" / "uploads"
DEFAULT_USERS = PROJECT_ROOT / "var" / "console" / "users.json"
DEFAULT_SESSION_DB = PROJECT_ROOT / "var" / "console" / "sessions.db"
DEFAULT_QUESTION_LOG = PROJECT_ROOT / "var" / "questions.db"
WIDGET_DIR = PROJECT_ROOT / "bot" / "widget"


class CookieSecurity(Enum):
    """When the session cookie carries the ``Secure`` flag."""

    AUTO = "auto"  # when the request came over https
    ALWAYS = "always"
    NEVER = "never"

    @classmethod
    def from_str(cls, value: str) -> CookieSecurity:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown cookie security {value!r}; choose one of: {choices}"
                             ) from None


@dataclass(frozen=True)
class ConsoleConfig:
    """
    Attributes:
        index_dir: the index folder the action server reads (``KB_INDEX``).
        model: the embedding model of that index (``KB_MODEL``).
        uploads_dir: where uploaded documents are kept (``var/uploads``); index this folder
            together with ``data/documents`` so a full re-index keeps them.
        source_dirs: other folders whose documents the console may edit or delete
            (``data/documents``); a document's id is its path relative to its folder.
        question_log: the question log (``KB_QUESTION_LOG``): a SQLite file or a
            ``postgresql://`` URL (knowledge/question_log.py).
        users_file: the JSON file of console users (scrypt password hashes).
        rasa_url: where the demo page's widget talks to Rasa.
        max_upload_bytes: size limit of one uploaded file (the body of ``POST /upload``
            from a signed-in editor may be this plus 256 KB).
        max_form_bytes: size limit of the body of every other request (login, forms).
        cookie_security: when the session cookie is marked ``Secure``.
        session_idle_seconds: a session ends after this long without a request.
        session_db: the SQLite file of sessions and login counters (shared by the workers).
        session_redis_url: keep sessions and login counters in this Redis instead
            (``redis://[:password@]host:port/db``), for workers on several machines.
        workers: console worker processes (Sanic workers sharing the port).
        proxies_count: how many reverse proxies stand in front of the console (0: none):
            the client address is then taken from ``X-Forwarded-For`` (that many entries from
            the right) and the scheme from ``X-Forwarded-Proto`` — only for requests coming
            from ``trusted_proxies``.
        real_ip_header: a header the proxy sets to the client address (``X-Real-IP``).
        forwarded_secret: the ``secret=`` (or ``by=``) value of an RFC 7239 ``Forwarded``
            header the proxy adds; headers without it are ignored.
        trusted_proxies: addresses or networks of the proxies; forwarding headers from other
            peers are ignored.
        login_limits: failed logins allowed per user name and per client address.
        sandbox_limits: CPU time and memory of the process that reads an uploaded file.
        source_link_domains: domains the public document page may link a document's own
            address to (``KB_SOURCE_LINK_DOMAINS``, as the replies do).
    """

    index_dir: Path = DEFAULT_INDEX_DIR
    model: str = str(DEFAULT_MODEL_DIR)
    uploads_dir: Path = DEFAULT_UPLOADS
    source_dirs: tuple[Path, ...] = (PROJECT_ROOT / "data" / "documents",)
    question_log: Path | str = DEFAULT_QUESTION_LOG
    users_file: Path = DEFAULT_USERS
    widget_dir: Path = WIDGET_DIR
    rasa_url: str = "http://127.0.0.1:5005"
    max_upload_bytes: int = 20 * 1024 * 1024
    max_form_bytes: int = 64 * 1024
    cookie_security: CookieSecurity = CookieSecurity.AUTO
    session_idle_seconds: int = 8 * 3600
    session_db: Path = DEFAULT_SESSION_DB
    session_redis_url: str = ""
    workers: int = 1
    proxies_count: int = 0
    real_ip_header: str = ""
    forwarded_secret: str = ""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    login_limits: LoginLimits = LoginLimits()
    sandbox_limits: SandboxLimits = SandboxLimits()
    source_link_domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1024:
            raise ValueError(f"max_upload_bytes must be >= 1024, got {self.max_upload_bytes}")
        if self.max_form_bytes < 4096:
            raise ValueError(f"max_form_bytes must be >= 4096, got {self.max_form_bytes}")
        if self.session_idle_seconds < 60:
            raise ValueError("session_idle_seconds must be >= 60")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be between 1 and 64, got {self.workers}")
        if self.proxies_count < 0:
            raise ValueError(f"proxies_count must be >= 0, got {self.proxies_count}")
        if self.session_redis_url and urlsplit(self.session_redis_url).scheme not in (
                "redis", "rediss", "unix"):
            raise ValueError("session_redis_url must be a redis://, rediss:// or unix:// URL")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {proxy!r} is not an address or network"
                                 ) from None
        object.__setattr__(self, "source_link_domains",
                           parse_link_domains(self.source_link_domains))
        parts = urlsplit(self.rasa_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"rasa_url must be an http(s) URL, got {self.rasa_url!r}")

    @property
    def managed_dirs(self) -> tuple[Path, ...]:
        """The uploads folder first, then the other source folders."""
        return (self.uploads_dir, *[d for d in self.source_dirs if d != self.uploads_dir])

    @property
    def behind_proxy(self) -> bool:
        """Whether forwarding headers are read at all."""
        return bool(self.proxies_count or self.real_ip_header or self.forwarded_secret)

    def is_trusted_proxy(self, address: str) -> bool:
        """Whether a peer's forwarding headers count (``address`` as Sanic gives it)."""
        try:
            peer = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        return any(peer in ipaddress.ip_network(net, strict=False)
                   for net in self.trusted_proxies)

    @property
    def rasa_origins(self) -> tuple[str, str]:
        """``(http origin, websocket origin)`` of Rasa, for the demo page's CSP."""
        parts = urlsplit(self.rasa_url)
        ws = "wss" if parts.scheme == "https" else "ws"
        return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"

    @classmethod
    def from_env(cls, **overrides) -> ConsoleConfig:
        """``KB_INDEX``, ``KB_MODEL``, ``KB_QUESTION_LOG``, ``KB_SOURCE_LINK_DOMAINS``,
        ``CONSOLE_UPLOADS``, ``CONSOLE_SOURCE_DIRS`` (``:``-separated), ``CONSOLE_USERS``,
        ``CONSOLE_RASA_URL``, ``CONSOLE_MAX_UPLOAD_MB``, ``CONSOLE_MAX_FORM_KB``,
        ``CONSOLE_SECURE_COOKIES`` (auto/always/never), ``CONSOLE_SESSION_DB``,
        ``CONSOLE_SESSION_REDIS_URL``, ``CONSOLE_WORKERS``, ``CONSOLE_PROXIES_COUNT``,
        ``CONSOLE_REAL_IP_HEADER``, ``CONSOLE_FORWARDED_SECRET``, ``CONSOLE_TRUSTED_PROXIES``
        (comma-separated), ``CONSOLE_LOGIN_MAX_FAILURES_USER``,
        ``CONSOLE_LOGIN_MAX_FAILURES_IP``, ``CONSOLE_LOGIN_LOCKOUT_MINUTES``,
        ``CONSOLE_PARSE_CPU_SECONDS``, ``CONSOLE_PARSE_MEMORY_MB``."""
        env = os.environ
        values: dict = {}
        if env.get("KB_INDEX"):
            values["index_dir"] = Path(env["KB_INDEX"])
        if env.get("KB_MODEL"):
            values["model"] = env["KB_MODEL"]
        if env.get("KB_QUESTION_LOG"):
            log = env["KB_QUESTION_LOG"]  # a postgresql:// URL stays a string
            values["question_log"] = log if is_database_url(log) else Path(log)
        if env.get("CONSOLE_UPLOADS"):
            values["uploads_dir"] = Path(env["CONSOLE_UPLOADS"])
        if "CONSOLE_SOURCE_DIRS" in env:
            values["source_dirs"] = tuple(Path(p) for p in env["CONSOLE_SOURCE_DIRS"].split(":")
                                          if p)
        if env.get("CONSOLE_USERS"):
            values["users_file"] = Path(env["CONSOLE_USERS"])
        if env.get("CONSOLE_RASA_URL"):
            values["rasa_url"] = env["CONSOLE_RASA_URL"]
        if env.get("CONSOLE_MAX_UPLOAD_MB"):
            values["max_upload_bytes"] = int(float(env["CONSOLE_MAX_UPLOAD_MB"]) * 1024 * 1024)
        if env.get("CONSOLE_SECURE_COOKIES"):
            values["cookie_security"] = CookieSecurity.from_str(env["CONSOLE_SECURE_COOKIES"])
        if env.get("CONSOLE_MAX_FORM_KB"):
            values["max_form_bytes"] = int(float(env["CONSOLE_MAX_FORM_KB"]) * 1024)
        if env.get("CONSOLE_SESSION_DB"):
            values["session_db"] = Path(env["CONSOLE_SESSION_DB"])
        if env.get("CONSOLE_SESSION_REDIS_URL"):
            values["session_redis_url"] = env["CONSOLE_SESSION_REDIS_URL"].strip()
        for name, key in (("workers", "CONSOLE_WORKERS"), ("proxies_count",
                                                          "CONSOLE_PROXIES_COUNT")):
            if env.get(key):
                values[name] = int(env[key])
        if env.get("CONSOLE_REAL_IP_HEADER"):
            values["real_ip_header"] = env["CONSOLE_REAL_IP_HEADER"].strip()
        if env.get("CONSOLE_FORWARDED_SECRET"):
            values["forwarded_secret"] = env["CONSOLE_FORWARDED_SECRET"].strip()
        if "CONSOLE_TRUSTED_PROXIES" in env:
            values["trusted_proxies"] = tuple(
                p.strip() for p in env["CONSOLE_TRUSTED_PROXIES"].split(",") if p.strip())
        defaults = LoginLimits()
        values["login_limits"] = LoginLimits(
            int(env.get("CONSOLE_LOGIN_MAX_FAILURES_USER") or defaults.max_failures_user),
            int(env.get("CONSOLE_LOGIN_MAX_FAILURES_IP") or defaults.max_failures_address),
            int(float(env.get("CONSOLE_LOGIN_LOCKOUT_MINUTES") or defaults.window_seconds / 60)
                * 60))
        sandbox = SandboxLimits()
        values["sandbox_limits"] = SandboxLimits(
            int(env.get("CONSOLE_PARSE_CPU_SECONDS") or sandbox.cpu_seconds),
            int(env.get("CONSOLE_PARSE_MEMORY_MB") or sandbox.memory_mb))
        if "KB_SOURCE_LINK_DOMAINS" in env:
            values["source_link_domains"] = parse_link_domains(env["KB_SOURCE_LINK_DOMAINS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
