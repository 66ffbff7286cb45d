"""What users asked, what they got, and how they rated it — for the officials' review.

A small SQLite store (one file, safe for one writer process and many readers). The action
server records every knowledge answer; feedback ("hữu ích" / "chưa hữu ích") is attached to the
answer it rates; the intranet console lists, filters and exports the log.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
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
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
"""


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
    """SQLite-backed log; the connection is opened lazily (nothing happens at import)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def record(self, question: str, answer: str, declined: bool, channel: str = "",
               sender: str = "", doc_id: str = "", confidence: float = 0.0,
               asked_at: float | None = None) -> int:
        """Store one answered (or declined) question; returns its id."""
        with self._lock:
            db = self._db()
            cur = db.execute(
                "INSERT INTO questions (asked_at, channel, sender, question, answer, declined, "
                "doc_id, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (asked_at or time.time(), channel or "", sender or "", question, answer,
                 int(declined), doc_id or "", float(confidence)),
            )
            db.commit()
            return int(cur.lastrowid)

    def rate(self, question_id: int, helpful: bool, comment: str = "") -> bool:
        """Attach feedback to a logged answer; False when there is no such id."""
        with self._lock:
            db = self._db()
            cur = db.execute("UPDATE questions SET helpful = ?, comment = ? WHERE id = ?",
                             (int(helpful), comment, int(question_id)))
            db.commit()
            return cur.rowcount == 1

    def query(self, flt: LogFilter | None = None) -> list[LoggedQuestion]:
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
        if flt.text:
            where.append("question LIKE ?")
            args.append(f"%{flt.text}%")
        sql = "SELECT * FROM questions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY asked_at DESC, id DESC LIMIT ?"
        args.append(int(flt.limit))
        with self._lock:
            rows = self._db().execute(sql, args).fetchall()
        return [
            LoggedQuestion(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8],
                           None if r[9] is None else bool(r[9]), r[10])
            for r in rows
        ]

    def channels(self) -> list[str]:
        with self._lock:
            rows = self._db().execute(
                "SELECT DISTINCT channel FROM questions ORDER BY channel").fetchall()
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
            if self._conn is not None:
                self._conn.close()
                self._conn = None
