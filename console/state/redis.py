"""Sessions and login counters in Redis, for console workers on several machines
(``CONSOLE_SESSION_REDIS_URL``). Sessions expire by Redis TTL; login attempts are sorted sets
checked and recorded by one Lua script, atomically."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from console.state.base import (
    ANONYMOUS_IDLE_SECONDS,
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

DEFAULT_PREFIX = "cchc:console:"
_PRUNE_EVERY = 100

# KEYS: user set, address set. ARGV: now, window, max user, max address, attempt id.
# Returns {1, user failures, address failures} or {0, 1|2 (which is locked), seconds left}.
_BEGIN = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limits = {tonumber(ARGV[3]), tonumber(ARGV[4])}
local counts = {}
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local times = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  local n = #times / 2
  if n >= limits[i] then
    local oldest = tonumber(times[(n - limits[i]) * 2 + 2])
    return {0, i, tostring(oldest + window - now)}
  end
  counts[i] = n
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[i], math.ceil(window * 1000))
end
return {1, counts[1] + 1, counts[2] + 1}
"""


def connect(url: str) -> Any:
    """A Redis client for ``url`` (``redis://[:password@]host:port/db``), checked with PING.

    Raises:
        StateUnavailable: Redis does not answer.
    """
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3,
                                  health_check_interval=30, decode_responses=True)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise StateUnavailable(f"Redis at {url.rpartition('@')[2]}: {exc}") from exc
    return client


def _unavailable(exc: Exception) -> StateUnavailable:
    return StateUnavailable(f"Redis: {exc}")


class RedisSessionStore(SessionStore):
    """A session is a string key ``<prefix>s:<sha256 of the id>`` with the idle time as TTL;
    anonymous sessions are also listed in ``<prefix>anonymous`` (by creation time) to cap
    their number."""

    def __init__(self, client: Any, idle_seconds: int, prefix: str = DEFAULT_PREFIX,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(idle_seconds, clock)
        self.client = client
        self.prefix = prefix
        self._created = 0

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}s:{session_key(session_id)}"

    def _value(self, session: Session) -> str:
        return json.dumps({"record": session.record(), "last_seen": session.last_seen})

    def get(self, session_id: str | None) -> Session | None:
        import redis

        if not session_id or len(session_id) > 128:
            return None
        key = self._key(session_id)
        try:
            raw = self.client.get(key)
            if raw is None:
                return None
            value = json.loads(raw)
            session = Session.from_record(session_id, value["record"], value["last_seen"])
            now = self.clock()
            if now - session.last_seen >= TOUCH_SECONDS:
                session.last_seen = now
                self.client.set(key, self._value(session), ex=self.idle_for(session), xx=True)
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        return session

    def save(self, session: Session) -> None:
        import redis

        session.last_seen = self.clock()
        anonymous = f"{self.prefix}anonymous"
        try:
            with self.client.pipeline() as pipe:
                pipe.set(self._key(session.id), self._value(session), ex=self.idle_for(session))
                if session.user is None:
                    pipe.zadd(anonymous, {session_key(session.id): session.last_seen})
                pipe.execute()
            if session.user is None:
                self._created += 1
                if self._created % _PRUNE_EVERY == 1:
                    self.prune()
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def update(self, session: Session) -> None:
        import redis

        try:
            self.client.set(self._key(session.id), self._value(session), keepttl=True, xx=True)
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def drop(self, session: Session) -> None:
        import redis

        try:
            with self.client.pipeline() as pipe:
                pipe.delete(self._key(session.id))
                pipe.zrem(f"{self.prefix}anonymous", session_key(session.id))
                pipe.execute()
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def prune(self) -> None:
        """Forget expired anonymous entries and drop the oldest beyond the cap."""
        anonymous = f"{self.prefix}anonymous"
        self.client.zremrangebyscore(anonymous, "-inf",
                                     self.clock() - min(self.idle_seconds,
                                                        ANONYMOUS_IDLE_SECONDS))
        excess = self.client.zcard(anonymous) - MAX_ANONYMOUS_SESSIONS
        if excess > 0:
            oldest = [key for key, _ in self.client.zpopmin(anonymous, excess)]
            self.client.delete(*[f"{self.prefix}s:{key}" for key in oldest])

    def close(self) -> None:
        self.client.close()


class RedisLoginThrottle(LoginThrottle):
    """Login attempts in sorted sets ``<prefix>login:<key>`` (score: time), expiring with the
    window."""

    def __init__(self, client: Any, limits: LoginLimits | None = None,
                 prefix: str = DEFAULT_PREFIX, clock: Callable[[], float] = time.time) -> None:
        super().__init__(limits, clock)
        self.client = client
        self.prefix = prefix
        self._begin = client.register_script(_BEGIN)

    def _keys(self, user: str, address: str) -> list[str]:
        return [f"{self.prefix}login:{key}" for key in self.keys(user, address)]

    def begin(self, user: str, address: str) -> Admission:
        import redis

        limits = self.limits
        attempt = secrets.token_hex(8)
        try:
            result = self._begin(keys=self._keys(user, address),
                                 args=[repr(self.clock()), limits.window_seconds,
                                       limits.max_failures_user, limits.max_failures_address,
                                       attempt])
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        if int(result[0]) == 1:
            return Admission(True, attempt, int(result[1]), int(result[2]))
        return Admission(False, locked="user" if int(result[1]) == 1 else "address",
                         retry_after=max(float(result[2]), 1.0))

    def succeeded(self, user: str, address: str, admission: Admission) -> None:
        import redis

        user_key, address_key = self._keys(user, address)
        try:
            with self.client.pipeline() as pipe:
                pipe.delete(user_key)
                pipe.zrem(address_key, admission.attempt)
                pipe.execute()
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc

    def close(self) -> None:
        self.client.close()
