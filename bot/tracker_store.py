"""Rasa's SQL tracker store, with SQLite set up for a chat server: write-ahead log and no
fsync on every commit.

With SQLite's defaults (rollback journal, ``synchronous=FULL``) every turn's ``save`` creates,
fsyncs and deletes a journal file: 35 ms of each turn on Rasa's single event loop, measured
under load on this VM's disk (docs/benchmarks.md, "Load"), during which no other conversation
moves. In WAL mode with ``synchronous=NORMAL`` a commit appends to the log and returns;
the log is fsynced at checkpoints. A committed turn survives a crash of Rasa (``kill -9``);
only a crash of the operating system or a power cut can take back the last commits. Readers
(the soak benchmark, an official's query) never block the writer.

Any other dialect (PostgreSQL in the scaled-out deployment) is passed through unchanged.
Used from ``bot/endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.SQLiteTrackerStore
      dialect: sqlite
      db: ${RASA_TRACKER_DB}
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore

logger = logging.getLogger(__name__)

#: Applied to every new SQLite connection (the WAL mode itself is stored in the file).
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                  "PRAGMA busy_timeout=5000")


class SQLiteTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose SQLite connections use WAL and ``synchronous=NORMAL``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite" or self.engine.url.database in (None, "",
                                                                                 ":memory:"):
            return
        import sqlalchemy as sa
        from sqlalchemy.orm import sessionmaker

        # SQLAlchemy 1.4 opens and closes a SQLite file connection per session (NullPool);
        # closing the last connection of a WAL database checkpoints it with an fsync, so the
        # connections are kept in a small pool instead (Rasa calls the store from its event
        # loop thread; check_same_thread=False lets the pool hand a connection to any thread).
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2,
                                       max_overflow=4, pool_pre_ping=False,
                                       connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _set_pragmas)
        self.sessionmaker = sessionmaker(bind=self.engine)
        with self.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        logger.info("SQLite tracker store %s: journal_mode=%s, synchronous=NORMAL",
                    url.database, mode)


def _set_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
