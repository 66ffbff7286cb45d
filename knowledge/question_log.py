"""What users asked, what they got, and how they rated it — for the officials' review.

The action server records every knowledge answer; feedback ("hữu ích" / "chưa hữu ích") is
attached to the answer it rates; the intranet console lists, filters and exports the log.

Where it is kept is one setting, ``KB_QUESTION_LOG``:

* a file path (default ``var/questions.db``): SQLite, one file, safe for one writer process and
  many readers — the embedded default of ``make run``;
* ``postgresql://user:password@host:port/database``: PostgreSQL, for several action servers
  (and consoles) on one or more machines (deploy/README.md). The table is created on first use.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

_COLUMNS = ("id, asked_at, channel, sender, question, answer, declined, doc_id, confidence, "
            "helpful, comment")

_SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    declined INTEGER NOT NULL DEFAULT 0,
    doc_id TEXT NOT NULL DEFAULT '',
    confidence REAL NOT NULL DEFAULT 0,
    helpful INTEGER,            -- NULL = not rated, 1 = helpful, 0 = not helpful
    comment TEXT NOT NULL DEFAULT ''
)""",
    "CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at)",
)

_POSTGRES_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS questions (
    id BIGSERIAL PRIMARY KEY,
    asked_at DOUBLE PRECISION NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    sender TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    declined SMALLINT NOT NULL DEFAULT 0,
    doc_id TEXT NOT NULL DEFAULT '',
    confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
    helpful SMALLINT,
    comment TEXT NOT NULL DEFAULT ''
)""",
    "CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at)",
)
# any constant: the advisory lock that serialises the CREATE … IF NOT EXISTS of several
# processes starting at once (PostgreSQL's IF NOT EXISTS is not race-free)
_SCHEMA_LOCK = 0x43484843


def is_database_url(location: str | os.PathLike) -> bool:
    """True for ``postgresql://…`` / ``postgres://…`` (the PostgreSQL backend)."""
    return urlsplit(str(location)).scheme in ("postgresql", "postgres")


def redact_url(url: str) -> str:
    """``postgresql://cchc:***@host:5432/cchc`` — a database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class _SQLite:
    """One SQLite file (WAL, so the console reads while the action server writes)."""

    placeholder = "?"
    like = "LIKE"

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in _SQLITE_SCHEMA:
            conn.execute(statement)
        conn.commit()
        return conn

    @staticmethod
    def lost(exc: Exception, conn: Any) -> bool:
        return False


class _Postgres:
    """A PostgreSQL database through psycopg 3 (autocommit: every statement is one
    transaction); a connection lost to a database restart is reopened once."""

    placeholder = "%s"
    like = "ILIKE"

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> Any:
        import psycopg  # only the PostgreSQL backend needs the driver

        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                               application_name="cchc-question-log")
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _POSTGRES_SCHEMA:
                conn.execute(statement)
        return conn

    @staticmethod
    def lost(exc: Exception, conn: Any) -> bool:
        import psycopg

        return isinstance(exc, psycopg.OperationalError) and (conn is None or conn.closed
                                                              or conn.broken)


@dataclass(frozen=True)
class LoggedQuestion:
    id: int
    asked_at: float
    channel: str
    sender: str
    question: str
    answer: str
    declined: bool
    doc_id: str
    confidence: float
    helpful: bool | None
    comment: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LogFilter:
    """``None`` = any. Times are UNIX seconds; ``start`` inclusive, ``end`` exclusive."""

    channel: str | None = None
    start: float | None = None
    end: float | None = None
    declined: bool | None = None
    unhelpful_only: bool = False
    text: str | None = None
    limit: int = 500


class QuestionLog:
    """The question log on SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL).

    The connection is opened lazily (nothing happens at import or construction) and shared by
    the threads of one process under a lock.

    Args:
        location: a file path or a PostgreSQL URL (``KB_QUESTION_LOG``).
    """

    def __init__(self, location: str | os.PathLike) -> None:
        if is_database_url(location):
            self.path: Path | None = None
            self._backend: _SQLite | _Postgres = _Postgres(str(location))
        else:
            self.path = Path(location)
            self._backend = _SQLite(self.path)
        self._lock = threading.Lock()
        self._conn: Any = None

    def __repr__(self) -> str:
        where = self.path if self.path is not None else redact_url(self._backend.url)
        return f"QuestionLog({str(where)!r})"

    def _run(self, sql: str, args: Sequence[Any] = (), fetch: str = "") -> Any:
        """Execute one statement (``?`` placeholders) under the lock; ``fetch`` = "one",
        "all" or "" (then the row count). A lost PostgreSQL connection is reopened once."""
        sql = sql.replace("?", self._backend.placeholder)
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self._backend.connect()
                    cur = self._conn.execute(sql, tuple(args))
                    result = (cur.fetchone() if fetch == "one" else
                              cur.fetchall() if fetch == "all" else cur.rowcount)
                    if isinstance(self._conn, sqlite3.Connection):
                        self._conn.commit()
                    return result
                except Exception as exc:
                    if attempt == 2 or not self._backend.lost(exc, self._conn):
                        raise
                    logger.warning("question log: connection lost (%s); reconnecting", exc)
                    self._drop()
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception as exc:  # a broken connection may fail to close: it is gone
                logger.debug("closing the question log connection: %s", exc)
            self._conn = None

    def record(self, question: str, answer: str, declined: bool, channel: str = "",
               sender: str = "", doc_id: str = "", confidence: float = 0.0,
               asked_at: float | None = None) -> int:
        """Store one answered (or declined) question; returns its id."""
        row = self._run(
            "INSERT INTO questions (asked_at, channel, sender, question, answer, declined, "
            "doc_id, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (asked_at or time.time(), channel or "", sender or "", question, answer,
             int(declined), doc_id or "", float(confidence)), fetch="one")
        return int(row[0])

    def rate(self, question_id: int, helpful: bool, comment: str = "") -> bool:
        """Attach feedback to a logged answer; False when there is no such id."""
        count = self._run("UPDATE questions SET helpful = ?, comment = ? WHERE id = ?",
                          (int(helpful), comment, int(question_id)))
        return count == 1

    def query(self, flt: LogFilter | None = None) -> list[LoggedQuestion]:
        """The logged questions that pass ``flt``, newest first (at most ``flt.limit``)."""
        flt = flt or LogFilter()
        where, args = [], []
        if flt.channel:
            where.append("channel = ?")
            args.append(flt.channel)
        if flt.start is not None:
            where.append("asked_at >= ?")
            args.append(flt.start)
        if flt.end is not None:
            where.append("asked_at < ?")
            args.append(flt.end)
        if flt.declined is not None:
            where.append("declined = ?")
            args.append(int(flt.declined))
        if flt.unhelpful_only:
            where.append("helpful = 0")
        if flt.text:  # case-insensitive substring (SQLite: ASCII letters only)
            where.append(f"question {self._backend.like} ? ESCAPE '\\'")
            escaped = flt.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        sql = f"SELECT {_COLUMNS} FROM questions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY asked_at DESC, id DESC LIMIT ?"
        args.append(int(flt.limit))
        rows = self._run(sql, args, fetch="all")
        return [
            LoggedQuestion(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8],
                           None if r[9] is None else bool(r[9]), r[10])
            for r in rows
        ]

    def channels(self) -> list[str]:
        """Every channel that appears in the log, sorted."""
        rows = self._run("SELECT DISTINCT channel FROM questions ORDER BY channel", fetch="all")
        return [r[0] for r in rows]

    def to_csv(self, flt: LogFilter | None = None) -> str:
        """The filtered log as CSV (UTF-8 with BOM so spreadsheet programs read Vietnamese)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(["id", "thoi_gian", "kenh", "nguoi_hoi", "cau_hoi", "tra_loi", "tu_choi",
                         "van_ban", "do_tin_cay", "huu_ich", "gop_y"])
        for q in self.query(flt):
            writer.writerow([q.id, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(q.asked_at)),
                             q.channel, q.sender, q.question, q.answer, int(q.declined), q.doc_id,
                             round(q.confidence, 3), "" if q.helpful is None else int(q.helpful),
                             q.comment])
        return out.getvalue()

    def close(self) -> None:
        with self._lock:
            self._drop()
