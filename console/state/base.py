"""What the console keeps between requests, shared by all its worker processes: browser sessions
(with their CSRF token and flash messages) and the login attempt counters.

Two backends implement the same two interfaces: SQLite (the default, a file under ``var/``, for
several workers on one machine) and Redis (several machines). Their methods block; the web app
calls them from a small thread pool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from console.users import Role

TOUCH_SECONDS = 60
"""A session's last-seen time is written at most this often (it only decides expiry)."""
ANONYMOUS_IDLE_SECONDS = 3600
"""How long a session without a login lives (the login form's CSRF token)."""
MAX_ANONYMOUS_SESSIONS = 10_000
"""Beyond this many sessions without a login, the oldest are dropped (each visit of the login
page makes one; a flood of them must not fill the disk or Redis)."""
_USER_KEY_CHARS = 64


class StateUnavailable(Exception):
    """The session store (SQLite file or Redis) cannot be reached."""


def session_key(session_id: str) -> str:
    """What the store keeps instead of a session id: a copy of the store does not give away
    live sessions."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class Session:
    """One browser's session. ``user`` is ``None`` before login (the login form still needs a
    CSRF token). The id is never reused across a login: see :meth:`SessionStore.rotate`."""

    id: str
    csrf: str
    last_seen: float
    user: str | None = None
    role: Role | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def can_edit(self) -> bool:
        return self.role is not None and self.role.can_edit

    def flash(self, kind: str, message: str) -> None:
        self.flashes.append((kind, message))

    def pop_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf.encode())

    def record(self) -> str:
        """The stored form (without the id, which is the key)."""
        return json.dumps({"csrf": self.csrf, "user": self.user,
                           "role": self.role.value if self.role else None,
                           "flashes": self.flashes}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_record(cls, session_id: str, record: str, last_seen: float) -> Session:
        data = json.loads(record)
        return cls(session_id, data["csrf"], last_seen, data.get("user"),
                   Role.from_str(data["role"]) if data.get("role") else None,
                   [(str(k), str(m)) for k, m in data.get("flashes") or []])


class SessionStore(ABC):
    """Sessions keyed by 256-bit random ids; idle ones expire (``idle_seconds`` after login,
    :data:`ANONYMOUS_IDLE_SECONDS` before)."""

    def __init__(self, idle_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock

    def idle_for(self, session: Session) -> int:
        return self.idle_seconds if session.user else min(self.idle_seconds,
                                                          ANONYMOUS_IDLE_SECONDS)

    @abstractmethod
    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its last-seen time refreshed), else ``None``."""

    @abstractmethod
    def save(self, session: Session) -> None:
        """Store ``session`` (a new one, or one made again by :meth:`rotate`)."""

    @abstractmethod
    def update(self, session: Session) -> None:
        """Store the changes of a session that still exists (one that was dropped meanwhile —
        a logout in another tab — stays dropped)."""

    @abstractmethod
    def drop(self, session: Session) -> None:
        """Forget ``session``."""

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release connections."""

    def new(self) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock())
        self.save(session)
        return session

    def rotate(self, session: Session, user: str | None = None,
               role: Role | None = None) -> Session:
        """A fresh id and CSRF token for ``session`` (on login and logout), signed in as
        ``user`` (or anonymous); its flashes move along."""
        fresh = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock(),
                        user, role, list(session.flashes))
        self.save(fresh)
        self.drop(session)
        return fresh


@dataclass(frozen=True)
class LoginLimits:
    """
    Attributes:
        max_failures_user: failed logins of one user name (from anywhere) within
            ``window_seconds`` after which that name is locked until the window has passed.
        max_failures_address: failed logins from one client address (any user names) within
            ``window_seconds`` after which that address is locked.
        window_seconds: the window, which is also how long a lockout lasts.
    """

    max_failures_user: int = 5
    max_failures_address: int = 20
    window_seconds: int = 15 * 60

    def __post_init__(self) -> None:
        if self.max_failures_user < 1 or self.max_failures_address < 1:
            raise ValueError("the login failure limits must be >= 1")
        if self.window_seconds < 1:
            raise ValueError("the login lockout must last at least one second")


@dataclass(frozen=True)
class Admission:
    """The answer to "may this login attempt check a password?".

    ``allowed`` False: ``locked`` says what is locked (``"user"`` or ``"address"``) and
    ``retry_after`` for how many seconds. ``allowed`` True: the attempt is already counted as a
    failure (``user_failures`` / ``address_failures`` include it) and ``attempt`` identifies it
    for :meth:`LoginThrottle.succeeded`.
    """

    allowed: bool
    attempt: str = ""
    user_failures: int = 0
    address_failures: int = 0
    locked: str = ""
    retry_after: float = 0.0


class LoginThrottle(ABC):
    """Counts login attempts per user name and per client address, shared by all workers.

    An attempt is recorded *before* its password is checked, atomically with the check of the
    limits (:meth:`begin`), so parallel attempts cannot slip past a limit while a password is
    being hashed. A correct password takes its own attempt back and clears the user's failures
    (:meth:`succeeded`); the address keeps its other failures.
    """

    def __init__(self, limits: LoginLimits | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.limits = limits or LoginLimits()
        self.clock = clock

    @staticmethod
    def keys(user: str, address: str) -> tuple[str, str]:
        """Store keys of a user name (normalised, bounded) and of an address."""
        name = user.strip().lower()
        if len(name) > _USER_KEY_CHARS:
            name = "#" + hashlib.sha256(name.encode()).hexdigest()
        return f"u:{name}", f"a:{address.strip().lower()[:64]}"

    @abstractmethod
    def begin(self, user: str, address: str) -> Admission:
        """Refuse when the user or the address is locked; else record this attempt as a
        failure and admit it."""

    @abstractmethod
    def succeeded(self, user: str, address: str, admission: Admission) -> None:
        """The admitted attempt had the right password."""

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Release connections."""

    def _admission(self, user_times: list[float], address_times: list[float], now: float,
                   attempt: str) -> Admission:
        """Decide from the in-window attempt times (oldest first) of both keys."""
        limits = self.limits
        for kind, times, limit in (("user", user_times, limits.max_failures_user),
                                   ("address", address_times, limits.max_failures_address)):
            if len(times) >= limit:
                # free again when enough of the recent failures have left the window
                left = times[len(times) - limit] + limits.window_seconds - now
                return Admission(False, locked=kind, retry_after=max(left, 1.0))
        return Admission(True, attempt, len(user_times) + 1, len(address_times) + 1)
