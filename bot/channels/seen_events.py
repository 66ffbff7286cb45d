"""Webhook events already handled, remembered in SQLite so a replay is refused after a restart.

A channel asks :meth:`SeenEvents.first_time` with an event's key (Zalo's ``msg_id``, or a digest of
the signed body) before handling it; the claim is one ``INSERT OR IGNORE``, atomic also between
processes sharing the file. Entries are kept for ``retention_seconds`` — set it to the age after
which the channel refuses events anyway (their timestamp), so an expired entry can only belong to
an event that would be refused for its age — and at most ``max_entries`` (oldest dropped first).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_events (
    key TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_events_seen_at ON seen_events (seen_at);
"""
PURGE_EVERY = 256  # claims between two purges
MAX_KEY_CHARS = 256


class SeenEvents:
    """A persistent, bounded set of event keys.

    Args:
        path: the SQLite file (created with its folder on first use).
        retention_seconds: how long a key is remembered.
        max_entries: the most keys kept.
        clock: seconds since the epoch (tests inject their own).
    """

    def __init__(self, path: Path, retention_seconds: float, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.time) -> None:
        if retention_seconds <= 0:
            raise ValueError(f"retention_seconds must be positive, got {retention_seconds}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.path = Path(path)
        self.retention_seconds = retention_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._claims = 0

    async def first_time(self, key: str) -> bool:
        """Record ``key``; True when it was not seen before (handle the event), else False."""
        if not key or len(key) > MAX_KEY_CHARS:
            raise ValueError(f"event key must be 1-{MAX_KEY_CHARS} characters")
        return await asyncio.to_thread(self._claim, key)

    def count(self) -> int:
        """Keys currently remembered."""
        with self._lock:
            return self._connect().execute("SELECT COUNT(*) FROM seen_events").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            self._connection = connection
        return self._connection

    def _claim(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            connection = self._connect()
            cursor = connection.execute(
                "INSERT OR IGNORE INTO seen_events (key, seen_at) VALUES (?, ?)", (key, now))
            new = cursor.rowcount == 1
            self._claims += 1
            if self._claims % PURGE_EVERY == 0:
                self._purge(connection, now)
        return new

    def purge(self) -> int:
        """Drop expired keys and the oldest beyond ``max_entries``; the number dropped."""
        with self._lock:
            return self._purge(self._connect(), self._clock())

    def _purge(self, connection: sqlite3.Connection, now: float) -> int:
        expired = connection.execute("DELETE FROM seen_events WHERE seen_at < ?",
                                     (now - self.retention_seconds,)).rowcount
        surplus = connection.execute(
            "DELETE FROM seen_events WHERE key IN (SELECT key FROM seen_events "
            "ORDER BY seen_at DESC LIMIT -1 OFFSET ?)", (self.max_entries,)).rowcount
        if expired or surplus:
            logger.debug("seen events: %d expired and %d surplus keys dropped", expired, surplus)
        return expired + surplus
