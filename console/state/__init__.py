"""Console state shared by its workers: sessions and login counters (SQLite or Redis)."""

from __future__ import annotations

from console.state.base import (
    Admission,
    LoginLimits,
    LoginThrottle,
    Session,
    SessionStore,
    StateUnavailable,
)

__all__ = ["Admission", "LoginLimits", "LoginThrottle", "Session", "SessionStore",
           "StateUnavailable", "open_state"]


def open_state(sqlite_path, redis_url: str, idle_seconds: int,
               limits: LoginLimits) -> tuple[SessionStore, LoginThrottle]:
    """The session store and login throttle: in Redis when ``redis_url`` is set, else in the
    SQLite file ``sqlite_path``.

    Raises:
        StateUnavailable: Redis does not answer.
    """
    if redis_url:
        from console.state.redis import RedisLoginThrottle, RedisSessionStore, connect

        client = connect(redis_url)
        return RedisSessionStore(client, idle_seconds), RedisLoginThrottle(client, limits)
    from console.state.sqlite import SqliteDatabase, SqliteLoginThrottle, SqliteSessionStore

    database = SqliteDatabase(sqlite_path)
    return SqliteSessionStore(database, idle_seconds), SqliteLoginThrottle(database, limits)
