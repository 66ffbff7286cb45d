"""Settings of the console: a validated, frozen dataclass read once by the entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from knowledge.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL_DIR, PROJECT_ROOT
from knowledge.question_log import is_database_url

DEFAULT_UPLOADS = PROJECT_ROOT / "var" / "uploads"
DEFAULT_USERS = PROJECT_ROOT / "var" / "console" / "users.json"
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
        max_upload_bytes: size limit of one uploaded file.
        cookie_security: when the session cookie is marked ``Secure``.
        session_idle_seconds: a session ends after this long without a request.
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
    cookie_security: CookieSecurity = CookieSecurity.AUTO
    session_idle_seconds: int = 8 * 3600

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1024:
            raise ValueError(f"max_upload_bytes must be >= 1024, got {self.max_upload_bytes}")
        if self.session_idle_seconds < 60:
            raise ValueError("session_idle_seconds must be >= 60")
        parts = urlsplit(self.rasa_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"rasa_url must be an http(s) URL, got {self.rasa_url!r}")

    @property
    def managed_dirs(self) -> tuple[Path, ...]:
        """The uploads folder first, then the other source folders."""
        return (self.uploads_dir, *[d for d in self.source_dirs if d != self.uploads_dir])

    @property
    def rasa_origins(self) -> tuple[str, str]:
        """``(http origin, websocket origin)`` of Rasa, for the demo page's CSP."""
        parts = urlsplit(self.rasa_url)
        ws = "wss" if parts.scheme == "https" else "ws"
        return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"

    @classmethod
    def from_env(cls, **overrides) -> ConsoleConfig:
        """``KB_INDEX``, ``KB_MODEL``, ``KB_QUESTION_LOG``, ``CONSOLE_UPLOADS``,
        ``CONSOLE_SOURCE_DIRS`` (``:``-separated), ``CONSOLE_USERS``, ``CONSOLE_RASA_URL``,
        ``CONSOLE_MAX_UPLOAD_MB``, ``CONSOLE_SECURE_COOKIES`` (auto/always/never)."""
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
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
