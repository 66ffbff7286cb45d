"""Sessions and login counters in one SQLite file (WAL mode): shared by the console's worker
processes on one machine. Each process and thread opens its own connection; login attempts
are checked and recorded in one ``BEGIN IMMEDIATE`` transaction."""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from console.state.base import (
    MAX_ANONYMOUS_SESSIONS,
    TOUCH_SECONDS,
    Admission,
    LoginLimits,
    LoginThrottle,
    Session,
    SessionStore,
    StateUnavailable,
    session_key,
)

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    user TEXT,
    last_seen REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
CREATE INDEX IF NOT EXISTS sessions_anonymous ON sessions (user, last_seen);
CREATE TABLE IF NOT EXISTS login_attempts (
    key TEXT NOT NULL,
    attempt TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_key ON login_attempts (key, at);
CREATE INDEX IF NOT EXISTS login_attempts_at ON login_attempts (at);
"""
_PRUNE_EVERY = 100  # anonymous sessions made by this process between two clean-ups


class SqliteDatabase:
    """The state file; a connection per process and thread, opened on first use (so that a
    database object made before Sanic forks its workers is safe in each of them)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            os.chmod(self.path, 0o600)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: one writer at a time across processes."""
        try:
            conn = self.connection()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateUnavailable(f"session database {self.path}: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StateUnavailable(f"session database {self.path}: {exc}") from exc

    def execute(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self.connection().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"session database {self.path}: {exc}") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None


class SqliteSessionStore(SessionStore):
    """Sessions in the ``sessions`` table; a row keyed by the SHA-256 of the session id."""

    def __init__(self, database: SqliteDatabase, idle_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(idle_seconds, clock)
        self.db = database
        self._created = 0

    def get(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        key = session_key(session_id)
        rows = self.db.execute("SELECT data, last_seen, expires FROM sessions WHERE key = ?",
                               (key,))
        if not rows:
            return None
        data, last_seen, expires = rows[0]
        now = self.clock()
        if now >= expires:
            self.db.execute("DELETE FROM sessions WHERE key = ?", (key,))
            return None
        session = Session.from_record(session_id, data, last_seen)
        if now - last_seen >= TOUCH_SECONDS:
            session.last_seen = now
            self.db.execute("UPDATE sessions SET last_seen = ?, expires = ? WHERE key = ?",
                            (now, now + self.idle_for(session), key))
        return session

    def save(self, session: Session) -> None:
        now = self.clock()
        self.db.execute(
            "INSERT OR REPLACE INTO sessions (key, data, user, last_seen, expires) "
            "VALUES (?, ?, ?, ?, ?)",
            (session_key(session.id), session.record(), session.user, now,
             now + self.idle_for(session)))
        if session.user is None:
            self._created += 1
            if self._created % _PRUNE_EVERY == 1:
                self.prune()

    def update(self, session: Session) -> None:
        self.db.execute("UPDATE sessions SET data = ?, user = ? WHERE key = ?",
                        (session.record(), session.user, session_key(session.id)))

    def drop(self, session: Session) -> None:
        self.db.execute("DELETE FROM sessions WHERE key = ?", (session_key(session.id),))

    def prune(self) -> None:
        """Delete expired sessions, and the oldest anonymous ones beyond the cap."""
        self.db.execute("DELETE FROM sessions WHERE expires <= ?", (self.clock(),))
        self.db.execute(
            "DELETE FROM sessions WHERE key IN (SELECT key FROM sessions WHERE user IS NULL "
            "ORDER BY last_seen DESC LIMIT -1 OFFSET ?)", (MAX_ANONYMOUS_SESSIONS,))

    def close(self) -> None:
        self.db.close()


class SqliteLoginThrottle(LoginThrottle):
    """Login attempts in the ``login_attempts`` table (one row per key and attempt)."""

    def __init__(self, database: SqliteDatabase, limits: LoginLimits | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(limits, clock)
        self.db = database

    def begin(self, user: str, address: str) -> Admission:
        user_key, address_key = self.keys(user, address)
        now = self.clock()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM login_attempts WHERE at <= ?",
                         (now - self.limits.window_seconds,))
            times = [[row[0] for row in conn.execute(
                "SELECT at FROM login_attempts WHERE key = ? ORDER BY at", (key,))]
                for key in (user_key, address_key)]
            admission = self._admission(times[0], times[1], now, secrets.token_hex(8))
            if admission.allowed:
                conn.executemany("INSERT INTO login_attempts (key, attempt, at) VALUES (?, ?, ?)",
                                 [(user_key, admission.attempt, now),
                                  (address_key, admission.attempt, now)])
        return admission

    def succeeded(self, user: str, address: str, admission: Admission) -> None:
        user_key, address_key = self.keys(user, address)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM login_attempts WHERE key = ?", (user_key,))
            conn.execute("DELETE FROM login_attempts WHERE key = ? AND attempt = ?",
                         (address_key, admission.attempt))

    def close(self) -> None:
        self.db.close()
