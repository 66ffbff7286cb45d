"""Console users: a JSON file of names, roles and scrypt password hashes.

The file is written atomically with mode 0600. Passwords are hashed with ``hashlib.scrypt``
(n=2**14, r=8, p=1, 16-byte random salt) and compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD_LENGTH = 8
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class Role(Enum):
    """``viewer`` reads; ``editor`` also uploads, deletes and corrects metadata."""

    VIEWER = "viewer"
    EDITOR = "editor"

    @classmethod
    def from_str(cls, value: str) -> Role:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown role {value!r}; choose one of: {choices}") from None

    @property
    def can_edit(self) -> bool:
        return self is Role.EDITOR


@dataclass(frozen=True)
class User:
    name: str
    role: Role


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64 parts)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return (f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}$"
            f"{b64(salt).decode()}${b64(digest).decode()}")


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        logger.error("malformed password hash in the users file")
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # unknown users cost as much as known ones


class UserStore:
    """The users file; read on every login so ``add-user`` takes effect without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return dict(data.get("users", {}))

    def _write(self, users: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"users": users}, fh, ensure_ascii=False, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, name: str, password: str, role: Role, replace: bool = False) -> User:
        """Create (or with ``replace``, reset) a user.

        Raises:
            ValueError: bad name, short password, or the user exists and ``replace`` is false.
        """
        name = name.strip().lower()
        if not _NAME.match(name):
            raise ValueError("user names are 2-32 characters: a-z, 0-9, '.', '_', '-'")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        with self._lock:
            users = self._read()
            if name in users and not replace:
                raise ValueError(f"user {name!r} already exists (use --replace to reset it)")
            users[name] = {"role": role.value, "hash": hash_password(password),
                           "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
            self._write(users)
        logger.info("user %s saved with role %s", name, role.value)
        return User(name, role)

    def remove(self, name: str) -> bool:
        with self._lock:
            users = self._read()
            if users.pop(name.strip().lower(), None) is None:
                return False
            self._write(users)
            return True

    def list(self) -> list[User]:
        return [User(n, Role.from_str(u["role"])) for n, u in sorted(self._read().items())]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password matches; ``None`` otherwise (same cost either way)."""
        record = self._read().get(name.strip().lower())
        stored = record["hash"] if record else _DUMMY_HASH
        ok = verify_password(password, stored)
        if not (ok and record):
            return None
        return User(name.strip().lower(), Role.from_str(record["role"]))
