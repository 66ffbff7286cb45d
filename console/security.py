"""Sessions (random server-side ids), CSRF tokens and the login lockout."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from console.users import Role

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MAX_SESSIONS = 10_000


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


class SessionStore:
    """In-memory sessions keyed by 256-bit random ids; idle sessions expire."""

    def __init__(self, idle_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def new(self) -> Session:
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._prune(now)
            self._sessions[session.id] = session
        return session

    def rotate(self, session: Session) -> Session:
        """A fresh id and CSRF token for ``session`` (on login and logout)."""
        fresh = self.new()
        fresh.flashes = session.flashes
        self.drop(session)
        return fresh

    def drop(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    def _prune(self, now: float) -> None:
        expired = [k for k, s in self._sessions.items() if now - s.last_seen > self.idle_seconds]
        for key in expired:
            del self._sessions[key]
        if len(self._sessions) >= MAX_SESSIONS:  # still full: drop the oldest anonymous ones
            anonymous = sorted((s.last_seen, k) for k, s in self._sessions.items() if not s.user)
            for _, key in anonymous[: max(1, len(anonymous) // 2)]:
                del self._sessions[key]


class LoginThrottle:
    """Locks a (user name, client address) pair for 15 minutes after 5 failed logins within
    15 minutes. Keyed on the pair so that nobody can lock a colleague out from elsewhere."""

    def __init__(self, max_failures: int = MAX_FAILURES, lockout_seconds: int = LOCKOUT_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(user: str, address: str) -> tuple[str, str]:
        return user.strip().lower(), address

    def locked_for(self, user: str, address: str) -> float:
        """Seconds left of a lockout (0 when not locked)."""
        key = self._key(user, address)
        with self._lock:
            left = self._locked_until.get(key, 0) - self._clock()
            if left <= 0:
                self._locked_until.pop(key, None)
                return 0.0
            return left

    def failure(self, user: str, address: str) -> bool:
        """Record a failed login; True when it locks the pair."""
        key = self._key(user, address)
        now = self._clock()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < self.lockout_seconds]
            recent.append(now)
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_seconds
                self._failures.pop(key, None)
                return True
            self._failures[key] = recent
            return False

    def success(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._key(user, address), None)
