"""Rasa's conversation locks in one SQLite file, so that one machine can run several Sanic
workers without Redis.

Rasa 3.6 handles every message on one asyncio event loop, and NLU is synchronous on it: one Rasa
process uses at most one core (docs/benchmarks.md, "Load"). ``SANIC_WORKERS=N`` forks N
workers that share the listening socket, but Rasa accepts more than one worker only with a
lock store the workers share — otherwise two messages of one user, taken by two workers, would
be processed at once and the second would overwrite the first's tracker. Rasa ships the Redis
lock store for that (the scaled-out form, deploy/); ``make run`` stays free of servers to
install, so its workers share this store instead: the same ticket locks (``rasa.core.lock``),
kept in a table of the SQLite tracker store's file (lock writes are a fraction of a
millisecond; WAL lets the tracker's readers go on meanwhile).

Unlike Rasa's Redis store, every read-modify-write of a lock (issue a ticket, finish serving,
drop expired tickets, clean up) runs in one ``BEGIN IMMEDIATE`` transaction, so two workers
never both take ticket 0 of one conversation. Locks are short-lived state: their writes are
not fsynced (``synchronous=OFF`` on this store's own connections); a crashed worker's tickets
expire after Rasa's lock lifetime (``TICKET_LOCK_LIFETIME``, 60 s). Used from
``bot/endpoints.yml``::

    lock_store:
      type: bot.lock_store.SQLiteLockStore
      db: ${RASA_TRACKER_DB}
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA = """CREATE TABLE IF NOT EXISTS conversation_locks (
    conversation_id TEXT PRIMARY KEY,
    lock TEXT NOT NULL
)"""


class SQLiteLockStore(LockStore):
    """Ticket locks of conversations in a SQLite file shared by the workers of one machine."""

    def __init__(self, endpoint_config: Any = None, db: str | os.PathLike | None = None,
                 timeout: float = 10.0) -> None:
        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        path = db or kwargs.get("db") or getattr(endpoint_config, "url", None)
        if not path:
            raise ValueError("SQLiteLockStore needs `db`: the path of its SQLite file")
        self.path = Path(str(path)).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = float(kwargs.get("timeout", timeout))
        self._local = threading.local()
        with self._transaction() as conn:
            conn.execute(SCHEMA)
        logger.info("SQLite lock store %s", self.path)

    # -- connections: one per process and thread (a forked worker opens its own) -------------
    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # locks do not outlive the servers
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # the write lock first: no lost update between workers
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _read(conn: sqlite3.Connection, conversation_id: str) -> TicketLock | None:
        row = conn.execute("SELECT lock FROM conversation_locks WHERE conversation_id = ?",
                           (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    @staticmethod
    def _write(conn: sqlite3.Connection, lock: TicketLock) -> None:
        conn.execute("INSERT OR REPLACE INTO conversation_locks (conversation_id, lock) "
                     "VALUES (?, ?)", (lock.conversation_id, lock.dumps()))

    def _update(self, conversation_id: str, change: Callable[[TicketLock], T],
                create: bool = False) -> T | None:
        """Read, ``change`` and write back one conversation's lock in one transaction; a lock
        left without tickets is deleted."""
        with self._transaction() as conn:
            lock = self._read(conn, conversation_id)
            if lock is None:
                if not create:
                    return None
                lock = self.create_lock(conversation_id)
            result = change(lock)
            if lock.tickets:
                self._write(conn, lock)
            else:
                conn.execute("DELETE FROM conversation_locks WHERE conversation_id = ?",
                             (conversation_id,))
            return result

    # -- LockStore ----------------------------------------------------------------------------
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self._read(self._connection(), conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        with self._transaction() as conn:
            deleted = conn.execute("DELETE FROM conversation_locks WHERE conversation_id = ?",
                                   (conversation_id,)).rowcount
        self._log_deletion(conversation_id, deleted > 0)

    def save_lock(self, lock: TicketLock) -> None:
        with self._transaction() as conn:
            self._write(conn, lock)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            ticket = self._update(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime),
                                  create=True)
        except sqlite3.Error as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc
        assert ticket is not None
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        self._update(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._update(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # finish_serving deletes a lock nobody waits for (no tickets left) in the same step
        self.finish_serving(conversation_id, ticket_number)
