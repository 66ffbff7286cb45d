"""Zalo Official Account (OA) channel for Rasa.

Incoming: Zalo POSTs webhook events to ``/webhooks/zalo/webhook``. Each request is authenticated
first (``X-ZEvent-Signature: mac=<sha256(app_id + raw body + timestamp + OA secret key)>``), then
its timestamp is checked (older than ``max_event_age_seconds``, 5 minutes, or more than
``max_event_future_seconds`` ahead: refused), then it is de-duplicated against the events already
handled (a SQLite file, ``seen_events_db``, that survives restarts: a captured event replays
neither now nor later), then answered with HTTP 200 at once; a ``user_send_text`` event is handed
to Rasa in a background task (Zalo re-sends events that are not acknowledged quickly) through
:func:`bot.channels.turn.run_turn` (the message guard, the ``zalo:<user id>`` conversation, the
apology when no reply comes).

Outgoing: customer-service messages, ``POST {api_base_url}/v3.0/oa/message/cs`` with the OA access
token. Long answers are split, quick-reply buttons become numbered lines, transient failures are
retried with exponential backoff, an expired access token is refreshed once (both new tokens are
stored: in ``token_file``, or in Redis under a lock when ``token_redis_url`` is set, see
:mod:`bot.channels.zalo_tokens`) and the send retried.

Enable it in ``bot/credentials.yml`` (see ``bot/credentials.example.yml``)::

    bot.channels.zalo.ZaloInput:
      app_id: ${ZALO_APP_ID}
      ...
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import guard
from bot.channels import senders
from bot.channels.limits import apply_server_limits
from bot.channels.seen_events import SeenEvents
from bot.channels.text import choice_payload, render_buttons, split_message
from bot.channels.turn import run_turn
from bot.channels.zalo_tokens import (
    FileTokenStore,
    RedisTokenStore,
    TokenStore,
    TokenStoreError,
    ZaloTokens,
    read_token_file,
)

logger = logging.getLogger(__name__)

CHANNEL_NAME = "zalo"
DEFAULT_API_BASE_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
# Commonly cited limit of an OA text message (uncertain; Zalo does not document it clearly).
DEFAULT_MAX_MESSAGE_LENGTH = 2000

SIGNATURE_HEADER = "X-ZEvent-Signature"
# Some integrations read the timestamp from this header instead of the body (uncertain); it is
# only used when the body carries none.
TIMESTAMP_HEADER = "X-ZEvent-Timestamp"

TEXT_EVENT = "user_send_text"
# Events from a user that carry no text we can read: answered with UNSUPPORTED_MESSAGE_REPLY.
UNSUPPORTED_MESSAGE_EVENTS = frozenset({
    "user_send_image", "user_send_sticker", "user_send_gif", "user_send_audio",
    "user_send_video", "user_send_file", "user_send_location", "user_send_link",
})
UNSUPPORTED_MESSAGE_REPLY = (
    "Hiện tôi chỉ đọc được tin nhắn văn bản. Bạn vui lòng gõ câu hỏi bằng chữ nhé."
)

# Zalo API "error" codes meaning the access token is invalid or expired: -216 "Access token is
# invalid" is documented; -124 is reported by integrations for an expired token (uncertain).
ERROR_ACCESS_TOKEN_INVALID = -216
ERROR_ACCESS_TOKEN_EXPIRED = -124
TOKEN_ERROR_CODES = frozenset({ERROR_ACCESS_TOKEN_INVALID, ERROR_ACCESS_TOKEN_EXPIRED})
TOKEN_ERROR_HTTP_STATUSES = frozenset({401})
# The user is outside the customer-service window (no interaction with the OA recently), so a
# "cs" message cannot be sent. Uncertain: Zalo's documentation lists -213 ("user has not
# interacted with the OA in the last 48 hours"/not a follower), while integrations report that
# the API actually answers -230 ("user has not interacted with the OA in the past 7 days").
# Both are treated the same way: logged as a warning with the user id, never retried.
ERROR_OUTSIDE_INTERACTION_WINDOW = -230
ERROR_NOT_INTERACTED_48H = -213
OUTSIDE_WINDOW_ERROR_CODES = frozenset({ERROR_OUTSIDE_INTERACTION_WINDOW, ERROR_NOT_INTERACTED_48H})
# HTTP statuses worth retrying (besides 5xx, timeouts and connection errors).
RETRYABLE_HTTP_STATUSES = frozenset({429})

REQUIRED_CREDENTIALS = ("app_id", "oa_secret_key", "app_secret", "token_file")
TOKEN_CREDENTIALS = ("access_token", "refresh_token")
# Events older than this, or further ahead than the next, are refused (replays, clock trouble).
DEFAULT_MAX_EVENT_AGE_SECONDS = 300.0
DEFAULT_MAX_EVENT_FUTURE_SECONDS = 120.0
SEEN_EVENTS_FILE = "zalo-seen-events.sqlite3"  # beside token_file unless seen_events_db is set
# A timestamp below this is taken as seconds, not milliseconds (10^11 ms is March 1973).
_MILLISECONDS_FROM = 10**11


# --------------------------------------------------------------------------- settings, tokens


@dataclass(frozen=True)
class ZaloSettings:
    """Validated settings of the Zalo channel (from ``credentials.yml``)."""

    app_id: str
    oa_secret_key: str
    app_secret: str
    token_file: Path
    access_token: str | None = None
    refresh_token: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    oauth_base_url: str = DEFAULT_OAUTH_BASE_URL
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    max_attempts: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    request_timeout_seconds: float = 10.0
    reply_to_unsupported: bool = True
    token_error_codes: frozenset[int] = TOKEN_ERROR_CODES
    token_error_statuses: frozenset[int] = TOKEN_ERROR_HTTP_STATUSES
    max_event_age_seconds: float = DEFAULT_MAX_EVENT_AGE_SECONDS
    max_event_future_seconds: float = DEFAULT_MAX_EVENT_FUTURE_SECONDS
    seen_events_db: Path | None = None  # None: SEEN_EVENTS_FILE beside token_file
    token_redis_url: str | None = None  # set: tokens in Redis, refreshed under a Redis lock
    token_redis_key: str | None = None  # None: cchc:zalo:<app_id>:tokens

    def __post_init__(self) -> None:
        for name in ("app_id", "oa_secret_key", "app_secret"):
            if not getattr(self, name):
                raise ValueError(f"Zalo channel: '{name}' must not be empty")
        object.__setattr__(self, "token_file", Path(self.token_file))
        object.__setattr__(self, "seen_events_db", Path(
            self.seen_events_db or self.token_file.parent / SEEN_EVENTS_FILE))
        if self.token_redis_key is None:
            object.__setattr__(self, "token_redis_key", f"cchc:zalo:{self.app_id}:tokens")
        if self.max_event_age_seconds <= 0 or self.max_event_future_seconds < 0:
            raise ValueError("Zalo channel: max_event_age_seconds must be positive and "
                             "max_event_future_seconds not negative")
        object.__setattr__(self, "api_base_url", self.api_base_url.rstrip("/"))
        object.__setattr__(self, "oauth_base_url", self.oauth_base_url.rstrip("/"))
        if self.max_message_length < 1:
            raise ValueError(
                f"Zalo channel: max_message_length must be ≥ 1, got {self.max_message_length}"
            )
        if self.max_attempts < 1:
            raise ValueError(f"Zalo channel: max_attempts must be ≥ 1, got {self.max_attempts}")
        if self.backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("Zalo channel: backoff seconds must not be negative")
        if self.request_timeout_seconds <= 0:
            raise ValueError("Zalo channel: request_timeout_seconds must be positive")

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return (f"ZaloSettings(app_id={self.app_id!r}, token_file={str(self.token_file)!r}, "
                f"api_base_url={self.api_base_url!r}, oauth_base_url={self.oauth_base_url!r}, "
                f"tokens_in_redis={self.token_redis_url is not None})")

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> ZaloSettings:
        """Settings from the channel's block of ``credentials.yml``.

        Raises:
            ValueError: naming every missing key. ``access_token``/``refresh_token`` may be
                left out only when ``token_file`` already holds tokens from an earlier run, or
                when ``token_redis_url`` is set (Redis then holds them).
        """
        credentials = dict(credentials or {})

        def present(key: str) -> bool:
            value = credentials.get(key)
            return value is not None and str(value).strip() != ""

        missing = [key for key in REQUIRED_CREDENTIALS if not present(key)]
        token_file = credentials.get("token_file")
        if not (present("token_redis_url") or (
                present("token_file") and read_token_file(Path(str(token_file))) is not None)):
            missing += [key for key in TOKEN_CREDENTIALS if not present(key)]
        if missing:
            raise ValueError(
                "Zalo channel (bot.channels.zalo.ZaloInput): missing credentials "
                + ", ".join(missing)
                + ". Set them in the credentials file (e.g. from ZALO_* environment variables);"
                " see bot/credentials.example.yml."
            )

        def optional(key: str, convert: Callable[[Any], Any], default: Any) -> Any:
            if not present(key):
                return default
            try:
                return convert(credentials[key])
            except (TypeError, ValueError) as error:
                raise ValueError(f"Zalo channel: invalid value for '{key}'") from error

        return cls(
            app_id=str(credentials["app_id"]).strip(),
            oa_secret_key=str(credentials["oa_secret_key"]).strip(),
            app_secret=str(credentials["app_secret"]).strip(),
            token_file=Path(str(token_file)).expanduser(),
            access_token=optional("access_token", lambda v: str(v).strip(), None),
            refresh_token=optional("refresh_token", lambda v: str(v).strip(), None),
            api_base_url=optional("api_base_url", str, DEFAULT_API_BASE_URL),
            oauth_base_url=optional("oauth_base_url", str, DEFAULT_OAUTH_BASE_URL),
            max_message_length=optional("max_message_length", int, DEFAULT_MAX_MESSAGE_LENGTH),
            max_attempts=optional("max_attempts", int, 3),
            backoff_seconds=optional("backoff_seconds", float, 0.5),
            max_backoff_seconds=optional("max_backoff_seconds", float, 8.0),
            request_timeout_seconds=optional("request_timeout_seconds", float, 10.0),
            reply_to_unsupported=optional("reply_to_unsupported", _to_bool, True),
            token_error_codes=optional("token_error_codes", _to_int_set, TOKEN_ERROR_CODES),
            max_event_age_seconds=optional("max_event_age_seconds", float,
                                           DEFAULT_MAX_EVENT_AGE_SECONDS),
            max_event_future_seconds=optional("max_event_future_seconds", float,
                                              DEFAULT_MAX_EVENT_FUTURE_SECONDS),
            seen_events_db=optional("seen_events_db", lambda v: Path(str(v)).expanduser(),
                                    None),
            token_redis_url=optional("token_redis_url", lambda v: str(v).strip(), None),
            token_redis_key=optional("token_redis_key", lambda v: str(v).strip(), None),
        )


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "on"}:
        return True
    if text in {"false", "no", "0", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _to_int_set(value: Any) -> frozenset[int]:
    items = value if isinstance(value, list | tuple | set | frozenset) else str(value).split(",")
    return frozenset(int(item) for item in items)


# --------------------------------------------------------------------------- webhook (pure)


def compute_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Hex SHA-256 of ``app_id + raw_body + timestamp + oa_secret_key`` (Zalo's event MAC)."""
    digest = hashlib.sha256()
    digest.update(app_id.encode("utf-8"))
    digest.update(raw_body)
    digest.update(timestamp.encode("utf-8"))
    digest.update(oa_secret_key.encode("utf-8"))
    return digest.hexdigest()


def signature_header(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The ``X-ZEvent-Signature`` value Zalo sends for this body: ``mac=<hex>``."""
    return "mac=" + compute_signature(app_id, raw_body, timestamp, oa_secret_key)


def body_timestamp(raw_body: bytes) -> str | None:
    """The ``timestamp`` field of a JSON event body, as text; None if absent or not JSON."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("timestamp") in (None, ""):
        return None
    return str(data["timestamp"])


def verify_signature(header: str | None, app_id: str, raw_body: bytes, timestamp: str | None,
                     oa_secret_key: str) -> bool:
    """Whether ``header`` (``mac=<hex>``) is Zalo's MAC of this body (constant-time compare)."""
    if not header or timestamp is None:
        return False
    value = header.strip()
    if value[:4].lower() == "mac=":
        value = value[4:]
    expected = compute_signature(app_id, raw_body, timestamp, oa_secret_key)
    return hmac.compare_digest(value.strip().lower().encode(), expected.encode())


def event_time_problem(timestamp: str | None, now: float, max_age_seconds: float,
                       max_future_seconds: float) -> str | None:
    """Why an event stamped ``timestamp`` must be refused at ``now`` (epoch seconds), or None.

    Zalo stamps events in milliseconds; a value below 10^11 is read as seconds.

    Example:
        >>> event_time_problem("1700000000000", 1700000400.0, 300, 120)
        'sent 400 s ago (limit 300 s)'
        >>> event_time_problem("1700000000000", 1700000010.0, 300, 120) is None
        True
    """
    try:
        value = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return "no valid timestamp"
    sent = value / 1000 if value >= _MILLISECONDS_FROM else float(value)
    age = now - sent
    if age > max_age_seconds:
        return f"sent {age:.0f} s ago (limit {max_age_seconds:g} s)"
    if -age > max_future_seconds:
        return (f"stamped {-age:.0f} s in the future (limit {max_future_seconds:g} s; "
                "check this server's clock)")
    return None


def event_key(event: ZaloEvent, raw_body: bytes) -> str:
    """The de-duplication key of an event: its message id, else a digest of the signed body."""
    if event.message_id:
        return "msg:" + event.message_id[:200]
    return "body:" + hashlib.sha256(raw_body).hexdigest()


@dataclass(frozen=True)
class ZaloEvent:
    """One webhook event, reduced to what the channel needs."""

    event_name: str
    sender_id: str | None
    text: str | None = None
    message_id: str | None = None
    oa_id: str | None = None
    timestamp: str | None = None

    @property
    def is_text(self) -> bool:
        """A user's text message (possibly blank: the guard then asks for a question)."""
        return self.event_name == TEXT_EVENT and bool(self.sender_id) and self.text is not None


def parse_event(payload: Any) -> ZaloEvent:
    """Parse a webhook JSON object into a :class:`ZaloEvent`.

    Example:
        >>> parse_event({"event_name": "user_send_text", "sender": {"id": "42"},
        ...              "message": {"text": "Xin chào", "msg_id": "m1"}}).text
        'Xin chào'

    Raises:
        ValueError: when the payload is not an object or has no ``event_name``.
    """
    if not isinstance(payload, dict):
        raise ValueError("Zalo event must be a JSON object")
    event_name = payload.get("event_name")
    if not isinstance(event_name, str) or not event_name:
        raise ValueError("Zalo event has no event_name")
    sender = payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
    recipient = payload.get("recipient") if isinstance(payload.get("recipient"), dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    text = message.get("text") if isinstance(message.get("text"), str) else None
    if text is not None:
        text = text.strip()

    def as_str(value: Any) -> str | None:
        return None if value in (None, "") else str(value)

    return ZaloEvent(
        event_name=event_name,
        sender_id=as_str(sender.get("id")),
        text=text,
        message_id=as_str(message.get("msg_id")),
        oa_id=as_str(recipient.get("id")),
        timestamp=as_str(payload.get("timestamp")),
    )


# --------------------------------------------------------------------------- Zalo API client


class ZaloError(Exception):
    """A Zalo API call failed."""

    def __init__(self, message: str, code: int | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class ZaloOutsideWindowError(ZaloError):
    """The user has not interacted with the OA recently; Zalo refuses "cs" messages."""


class ZaloTokenRefreshError(ZaloError):
    """The access token could not be refreshed."""


@dataclass
class _ApiResponse:
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> int | None:
        value = self.body.get("error")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("error_name") or "")


class ZaloClient:
    """Sends OA customer-service messages; owns the tokens and one aiohttp session."""

    def __init__(self, settings: ZaloSettings, tokens: TokenStore) -> None:
        self.settings = settings
        self.tokens = tokens
        self._session: aiohttp.ClientSession | None = None

    @property
    def message_url(self) -> str:
        return f"{self.settings.api_base_url}/v3.0/oa/message/cs"

    @property
    def refresh_url(self) -> str:
        return f"{self.settings.oauth_base_url}/v4/oa/access_token"

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily inside the running loop (never at import or in from_credentials).
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.request_timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        await self.tokens.close()

    async def current_tokens(self) -> ZaloTokens:
        """The tokens in the store (another replica may have refreshed them)."""
        try:
            return await self.tokens.load()
        except TokenStoreError as error:
            raise ZaloError(str(error)) from error

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.max_backoff_seconds,
                   self.settings.backoff_seconds * (2 ** (attempt - 1)))

    async def send_text(self, user_id: str, text: str) -> dict[str, Any]:
        """Send one text message (already within the length limit) to ``user_id``.

        Retries transient failures (5xx, 429, timeouts, connection errors) with exponential
        backoff up to ``max_attempts``; on an invalid/expired token refreshes once and retries.

        Returns:
            Zalo's response body (``{"error": 0, ...}``).

        Raises:
            ZaloOutsideWindowError: the user is outside the interaction window (not retried).
            ZaloTokenRefreshError: the token was rejected and could not be refreshed.
            ZaloError: any other failure, after the retries.
        """
        payload = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            access_token = (await self.current_tokens()).access_token
            try:
                result = await self._post_json(self.message_url, payload,
                                               headers={"access_token": access_token})
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                if attempt < self.settings.max_attempts:
                    delay = self._backoff(attempt)
                    logger.warning("Zalo send to user %s failed (%s); retry %d/%d in %.2fs",
                                   user_id, type(error).__name__, attempt,
                                   self.settings.max_attempts - 1, delay)
                    await asyncio.sleep(delay)
                    continue
                raise ZaloError(f"Zalo send failed after {attempt} attempts: "
                                f"{type(error).__name__}") from error

            if self._is_token_error(result):
                if refreshed:
                    raise ZaloError("Zalo rejected the refreshed access token", result.code,
                                    result.status)
                logger.info("Zalo access token rejected (HTTP %d, error %s); refreshing",
                            result.status, result.code)
                await self.refresh(stale_access_token=access_token)
                refreshed = True
                attempt -= 1  # the refresh retry does not use up a transient-failure attempt
                continue

            if result.status >= 500 or result.status in RETRYABLE_HTTP_STATUSES:
                if attempt < self.settings.max_attempts:
                    delay = self._backoff(attempt)
                    logger.warning("Zalo send to user %s got HTTP %d; retry %d/%d in %.2fs",
                                   user_id, result.status, attempt,
                                   self.settings.max_attempts - 1, delay)
                    await asyncio.sleep(delay)
                    continue
                raise ZaloError(f"Zalo send failed after {attempt} attempts: HTTP "
                                f"{result.status}", result.code, result.status)

            if result.code in OUTSIDE_WINDOW_ERROR_CODES:
                raise ZaloOutsideWindowError(
                    f"user {user_id} is outside Zalo's interaction window "
                    f"(error {result.code}: {result.message})", result.code, result.status)
            if result.status != 200 or result.code != 0:
                raise ZaloError(f"Zalo send failed: HTTP {result.status}, error {result.code}: "
                                f"{result.message}", result.code, result.status)
            return result.body

    def _is_token_error(self, result: _ApiResponse) -> bool:
        return (result.status in self.settings.token_error_statuses
                or result.code in self.settings.token_error_codes)

    async def refresh(self, stale_access_token: str | None = None) -> ZaloTokens:
        """Exchange the refresh token for new tokens and persist both.

        Runs under the token store's lock (across replicas with Redis). When
        ``stale_access_token`` is given and someone has already replaced it, the current tokens
        are returned without a second refresh (refresh tokens are single-use).

        Raises:
            ZaloTokenRefreshError: Zalo refused, or the store could not be locked/read/written.
        """
        try:
            async with self.tokens.refresh_lock():
                return await self._refresh_locked(stale_access_token)
        except TokenStoreError as error:
            raise ZaloTokenRefreshError(f"Zalo token refresh failed: {error}") from error

    async def _refresh_locked(self, stale_access_token: str | None) -> ZaloTokens:
        current = await self.tokens.load()
        if stale_access_token is not None and current.access_token != stale_access_token:
            return current
        form = {"app_id": self.settings.app_id, "grant_type": "refresh_token",
                "refresh_token": current.refresh_token}
        try:
            session = self._get_session()
            async with session.post(self.refresh_url, data=form,
                                    headers={"secret_key": self.settings.app_secret}) as resp:
                result = _ApiResponse(resp.status, await _json_body(resp))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise ZaloTokenRefreshError(
                f"Zalo token refresh failed: {type(error).__name__}") from error
        new_access = result.body.get("access_token")
        if result.status != 200 or not isinstance(new_access, str) or not new_access:
            raise ZaloTokenRefreshError(
                f"Zalo token refresh failed: HTTP {result.status}, error {result.code} "
                f"{result.body.get('error_name') or result.body.get('message') or ''}".rstrip(),
                result.code, result.status)
        new_refresh = result.body.get("refresh_token")
        if not isinstance(new_refresh, str) or not new_refresh:
            logger.warning("Zalo token refresh returned no refresh_token; keeping the old one")
            new_refresh = current.refresh_token
        tokens = ZaloTokens(new_access, new_refresh)
        await self.tokens.save(tokens)
        logger.info("Zalo access token refreshed; tokens stored in %s",
                    self.tokens.description)
        return tokens

    async def _post_json(self, url: str, payload: dict[str, Any],
                         headers: dict[str, str]) -> _ApiResponse:
        session = self._get_session()
        async with session.post(url, json=payload, headers=headers) as resp:
            return _ApiResponse(resp.status, await _json_body(resp))


async def _json_body(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    text = await resp.text()
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- Rasa channels


class ZaloOutput(senders.StripsSenderNamespace, OutputChannel):
    """Sends Rasa's responses to a Zalo user (the ``zalo:<user id>`` conversation's user)."""

    sender_namespace = senders.ZALO

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self, client: ZaloClient, max_message_length: int,
                 pending_choices: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.client = client
        self.max_message_length = max_message_length
        # Buttons last shown to each user, so that a reply "2" selects the 2nd one.
        self.pending_choices = pending_choices if pending_choices is not None else {}

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send ``text``, split into parts within the limit; failures are logged, not raised.

        Raising would abort Rasa's handling of the turn (and the tracker update), so a failed
        delivery is logged with the user id and the remaining parts are dropped.
        """
        for part in split_message(text, self.max_message_length):
            try:
                await self.client.send_text(recipient_id, part)
            except ZaloOutsideWindowError as error:
                logger.warning(
                    "Zalo: cannot reply to user %s: outside the interaction window (48 h / 7 "
                    "days without interaction, error %s); message dropped, not retried",
                    recipient_id, error.code)
                return
            except ZaloError as error:
                logger.error("Zalo: reply to user %s not delivered: %s", recipient_id, error)
                return

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        """Buttons become numbered lines; the user may answer with the number."""
        self.pending_choices[recipient_id] = list(buttons)
        await self.send_text_message(recipient_id, render_buttons(text, buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)


class ZaloInput(InputChannel):
    """Zalo OA webhook: ``GET /`` health, ``POST /webhook`` events."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ZaloInput:
        return cls(ZaloSettings.from_credentials(credentials))

    def __init__(self, settings: ZaloSettings, limits: guard.GuardSettings | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.limits = limits or guard.settings()
        self._clock = clock
        self.client = ZaloClient(settings, self._token_store(settings))
        self.pending_choices: dict[str, list[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # remembered as long as an event is young enough to be accepted
        self.seen_events = SeenEvents(
            settings.seen_events_db,  # type: ignore[arg-type]  # set by __post_init__
            retention_seconds=settings.max_event_age_seconds + settings.max_event_future_seconds)

    @staticmethod
    def _token_store(settings: ZaloSettings) -> TokenStore:
        fallback = (ZaloTokens(settings.access_token, settings.refresh_token)
                    if settings.access_token and settings.refresh_token else None)
        if settings.token_redis_url:
            # a token file from a single-process past is newer than the credentials' tokens
            seed = read_token_file(settings.token_file) or fallback
            wait = settings.request_timeout_seconds * 2 + 5
            return RedisTokenStore(settings.token_redis_url,
                                   settings.token_redis_key,  # type: ignore[arg-type]
                                   seed, lock_seconds=wait, wait_seconds=wait)
        return FileTokenStore(settings.token_file, fallback)

    def get_output_channel(self) -> ZaloOutput:
        return ZaloOutput(self.client, self.settings.max_message_length, self.pending_choices)

    # -- background work ---------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if finished.cancelled():
                logger.warning("Zalo: %s was cancelled", what)
            elif finished.exception() is not None:
                logger.error("Zalo: %s failed", what, exc_info=finished.exception())

        task.add_done_callback(done)

    async def wait_for_pending(self, timeout: float | None = None) -> None:
        """Wait until the messages being processed in the background are done."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                logger.warning("Zalo: %d message(s) still being processed", len(pending))
                return

    async def _first_time(self, event: ZaloEvent, raw_body: bytes) -> bool:
        """Whether this event is new (Zalo re-sends unacknowledged events; attackers replay
        captured ones); remembered on disk, so also across restarts."""
        try:
            return await self.seen_events.first_time(event_key(event, raw_body))
        except sqlite3.Error as error:  # the age check still bounds replays
            logger.error("Zalo: seen-events store %s unusable (%s); event handled without the "
                         "replay check", self.settings.seen_events_db, error)
            return True

    async def _handle_text(self, event: ZaloEvent,
                           on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        assert event.sender_id is not None and event.text is not None
        text = event.text
        buttons = self.pending_choices.pop(event.sender_id, None)
        if buttons:
            text = choice_payload(text, buttons) or text
        metadata = {"channel": CHANNEL_NAME, "zalo_event": event.event_name,
                    "message_id": event.message_id, "oa_id": event.oa_id,
                    "timestamp": event.timestamp}
        await run_turn(on_new_message, text=text, raw_sender=event.sender_id,
                       namespace=senders.ZALO, output=self.get_output_channel(),
                       input_channel=self.name(), metadata=metadata,
                       message_id=event.message_id, limits=self.limits)

    # -- the blueprint -------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        zalo_webhook = Blueprint("zalo_webhook", __name__)
        apply_server_limits(zalo_webhook, self.limits)

        @zalo_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zalo_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # Authenticate first: only the timestamp is read from the raw bytes (it is part of
            # the MAC); nothing else is parsed, logged or dispatched before the check.
            raw_body: bytes = request.body or b""
            header = request.headers.get(SIGNATURE_HEADER)
            timestamp = body_timestamp(raw_body) or request.headers.get(TIMESTAMP_HEADER)
            if not verify_signature(header, self.settings.app_id, raw_body, timestamp,
                                    self.settings.oa_secret_key):
                logger.warning("Zalo webhook rejected: %s signature (from %s)",
                               "invalid" if header else "missing", request.ip)
                return response.json({"error": "invalid signature"}, status=401)

            # A replayed or delayed event: acknowledged with 200 (Zalo retries anything else),
            # never handled.
            problem = event_time_problem(timestamp, self._clock(),
                                         self.settings.max_event_age_seconds,
                                         self.settings.max_event_future_seconds)
            if problem:
                logger.warning("Zalo webhook: event refused, %s (from %s)", problem, request.ip)
                status = 400 if problem == "no valid timestamp" else 200
                return response.json({"status": "ignored", "reason": problem}, status=status)

            try:
                event = parse_event(json.loads(raw_body))
            except ValueError as error:
                logger.warning("Zalo webhook: signed but unreadable event ignored (%s)", error)
                return response.json({"status": "ignored"})

            handled = event.is_text or (event.event_name in UNSUPPORTED_MESSAGE_EVENTS
                                        and event.sender_id and self.settings.reply_to_unsupported)
            if not handled:
                logger.debug("Zalo webhook: event %s ignored", event.event_name)
            elif not await self._first_time(event, raw_body):
                logger.info("Zalo: event %s for message %s already handled; ignored",
                            event.event_name, event.message_id)
            elif event.is_text:
                self._spawn(self._handle_text(event, on_new_message),
                            f"handling message {event.message_id} from user {event.sender_id}")
            else:
                self._spawn(self.get_output_channel().send_text_message(
                    event.sender_id, UNSUPPORTED_MESSAGE_REPLY),
                    f"replying to {event.event_name} from user {event.sender_id}")
            return response.json({"status": "ok"})

        @zalo_webhook.listener("before_server_stop")
        async def finish_pending(*_: Any) -> None:
            await self.wait_for_pending(timeout=self.settings.request_timeout_seconds * 3)

        @zalo_webhook.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            await self.client.close()
            self.seen_events.close()

        return zalo_webhook
