"""Where the Zalo channel keeps its OA tokens, and the lock that guards a refresh.

Zalo's refresh token is single-use: a refresh returns a new access token AND a new refresh token,
and the old refresh token stops working. Two refreshes racing with the same refresh token break
the channel until someone pastes a new grant. So a refresh runs under a lock, re-reads the tokens
inside it (another holder may just have refreshed) and stores both new tokens before releasing.

- :class:`FileTokenStore` (the default, one Rasa process): a JSON file (atomic write, mode
  0600) and an in-process lock.
- :class:`RedisTokenStore` (several Rasa replicas): one Redis key holding both tokens and a Redis
  lock (``SET NX PX`` with a random token, released by a Lua check, redis-py's ``Lock``) around
  each refresh, so exactly one replica refreshes and the others pick up its tokens. Enabled by
  the Zalo credentials key ``token_redis_url`` (e.g. ``${ZALO_TOKEN_REDIS_URL}``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import redis.asyncio
from redis.exceptions import LockError, RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ZaloTokens:
    """The OA access token and the (single-use) refresh token that renews it."""

    access_token: str
    refresh_token: str

    def __repr__(self) -> str:
        return "ZaloTokens(<hidden>)"

    def to_json(self) -> str:
        return json.dumps({"access_token": self.access_token,
                           "refresh_token": self.refresh_token})

    @classmethod
    def from_json(cls, text: str | bytes | None) -> ZaloTokens | None:
        """Tokens from their JSON form; None when absent or unusable."""
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            return None
        return cls(access, refresh)


class TokenStoreError(Exception):
    """The token store cannot be read, written or locked."""


class TokenStore(Protocol):
    """The current tokens, shared by everything that sends for one OA."""

    description: str

    async def load(self) -> ZaloTokens:
        """The current tokens (raises TokenStoreError when there are none or on I/O errors)."""

    async def save(self, tokens: ZaloTokens) -> None:
        """Make ``tokens`` current for every user of the store."""

    def refresh_lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while refreshing: one refresh at a time across the store's users."""

    async def close(self) -> None:
        """Release connections."""


def read_token_file(path: Path) -> ZaloTokens | None:
    """Tokens stored in ``path``, or None when it is absent or unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        logger.warning("Zalo: cannot read the token file %s (%s); ignoring it",
                       path, type(error).__name__)
        return None
    tokens = ZaloTokens.from_json(text)
    if tokens is None:
        logger.warning("Zalo: the token file %s holds no usable tokens; ignoring it", path)
    return tokens


class FileTokenStore:
    """Tokens in a JSON file (atomic write, mode 0600); the file wins over the credentials'
    tokens, which are spent after the first refresh."""

    def __init__(self, path: Path, fallback: ZaloTokens | None) -> None:
        self.path = path
        self.description = f"file {path}"
        stored = read_token_file(path)
        if stored is None and fallback is None:
            raise ValueError(f"Zalo channel: no tokens in credentials nor in {path}")
        self._tokens: ZaloTokens = stored or fallback  # type: ignore[assignment]
        self._lock: asyncio.Lock | None = None
        if stored is not None:
            logger.info("Zalo: using the tokens stored in %s", path)

    @property
    def current(self) -> ZaloTokens:
        return self._tokens

    async def load(self) -> ZaloTokens:
        return self._tokens

    async def save(self, tokens: ZaloTokens) -> None:
        """Make ``tokens`` current and write them to the file (off the event loop)."""
        self._tokens = tokens
        await asyncio.to_thread(self._write, tokens)

    @contextlib.asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[None]:
        if self._lock is None:  # created inside the running loop
            self._lock = asyncio.Lock()
        async with self._lock:
            yield

    async def close(self) -> None:
        return None

    def _write(self, tokens: ZaloTokens) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)  # mkstemp already creates 0600; keep it explicit
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(tokens.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self.path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise


class RedisTokenStore:
    """Tokens under one Redis key, refreshed under a Redis lock (several Rasa replicas).

    On first use an empty key is seeded (``SET NX``, so a newer value is never overwritten) from
    ``seed``: the token file's tokens if it has some, else the credentials'.

    Args:
        url: ``redis://[:password@]host:port/db``.
        key: the key holding the tokens; the lock is ``<key>:refresh-lock``.
        seed: tokens to start from when the key is empty.
        lock_seconds: the lock's lifetime (a replica that dies while refreshing cannot block
            the others longer); must exceed a refresh call's timeout.
        wait_seconds: how long a refresher waits for the lock before giving up.
    """

    def __init__(self, url: str, key: str, seed: ZaloTokens | None, lock_seconds: float,
                 wait_seconds: float) -> None:
        if lock_seconds <= 0 or wait_seconds <= 0:
            raise ValueError("Zalo channel: Redis lock times must be positive")
        self.url = url
        self.key = key
        self.lock_key = f"{key}:refresh-lock"
        self.seed = seed
        self.lock_seconds = lock_seconds
        self.wait_seconds = wait_seconds
        self.description = f"Redis key {key}"
        self._redis: Any = None

    def _client(self) -> Any:
        if self._redis is None:  # created inside the running loop, on first use
            self._redis = redis.asyncio.from_url(self.url)
        return self._redis

    async def load(self) -> ZaloTokens:
        try:
            raw = await self._client().get(self.key)
            if raw is None and self.seed is not None:
                if await self._client().set(self.key, self.seed.to_json(), nx=True):
                    logger.info("Zalo: tokens seeded into %s", self.description)
                raw = await self._client().get(self.key)
        except RedisError as error:
            raise TokenStoreError(f"Zalo tokens unreadable in Redis: {type(error).__name__}") \
                from error
        tokens = ZaloTokens.from_json(raw)
        if tokens is None:
            raise TokenStoreError(f"Zalo: no usable tokens in {self.description}")
        return tokens

    async def save(self, tokens: ZaloTokens) -> None:
        try:
            await self._client().set(self.key, tokens.to_json())
        except RedisError as error:
            raise TokenStoreError(f"Zalo tokens not stored in Redis: {type(error).__name__}") \
                from error

    @contextlib.asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[None]:
        # a new Lock object per refresh, its token not thread-local: coroutines of one process
        # must not share a token
        lock = self._client().lock(self.lock_key, timeout=self.lock_seconds,
                                   blocking_timeout=self.wait_seconds, thread_local=False)
        try:
            acquired = await lock.acquire()
        except RedisError as error:
            raise TokenStoreError(f"Zalo refresh lock unavailable: {type(error).__name__}") \
                from error
        if not acquired:
            raise TokenStoreError(f"Zalo refresh lock {self.lock_key} not acquired within "
                                  f"{self.wait_seconds:g} s")
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:  # expired while refreshing: someone else may hold it now
                logger.warning("Zalo: the refresh lock expired before it was released "
                               "(a refresh took over %g s)", self.lock_seconds)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()
            self._redis = None
