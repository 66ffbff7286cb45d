"""Simulated citizens for the load and soak benchmarks: what they say, and how they say it.

A conversation follows a script drawn from the shipped documents (``data/documents``): a
greeting, a knowledge question (with diacritics), one or two follow-ups ("Còn năm 2016 thì
sao?", "Văn bản đó do ai ký?"), the 👍 button's payload ``/feedback_positive``, a second
question typed without diacritics, thanks. Every conversation has its own sender id.

Two channels speak to a running Rasa server, each with one connection per conversation, as a
browser or a portal back end would:

- :class:`RestChannel`: ``POST /webhooks/rest/webhook``; the reply is the response body;
- :class:`SocketIOChannel`: the web widget's channel (Engine.IO 4 / Socket.IO 5 over a
  WebSocket, spoken here directly: ``session_request``, ``user_uttered``, ``bot_uttered``).
  Socket.IO has no end-of-turn marker: a turn's latency is the time to its first
  ``bot_uttered``; later messages of the same turn are collected until ``settle`` seconds pass
  without one.

Targets must be on loopback (:func:`require_loopback`): these tools generate load and kill
processes, so they refuse any other address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import random
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

#: The reply a user gets while the action server is down or slow (engineer "edge" adds it to
#: Rasa; the knowledge-base outage message of ``actions/actions.py`` matches too).
DEFAULT_APOLOGY_PATTERN = r"(?i)gián đoạn|thử lại sau|tạm thời không"


class TurnKind(str, Enum):
    """What a user turn is, for per-kind latency figures."""

    GREETING = "greeting"
    QUESTION = "question"
    QUESTION_PLAIN = "question_plain"  # typed without diacritics
    FOLLOW_UP = "follow_up"
    FEEDBACK = "feedback"
    THANKS = "thanks"
    CHAT = "chat"  # help, who-are-you, goodbye: answered by Rasa's own responses

    @classmethod
    def from_str(cls, value: str) -> TurnKind:
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown turn kind {value!r}; valid: {valid}") from None


@dataclass(frozen=True)
class Turn:
    """One message a simulated user sends."""

    kind: TurnKind
    text: str


@dataclass(frozen=True)
class Topic:
    """A question about the shipped documents and the follow-ups that make sense after it."""

    question: str
    follow_ups: tuple[str, ...]


# Questions answered by data/documents (the e2e tests and test stories ask the same kind).
TOPICS: tuple[Topic, ...] = (
    Topic("Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?",
          ("Còn năm 2016 thì sao?", "Văn bản đó do ai ký?")),
    Topic("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?",
          ("Văn bản đó do ai ký?", "Nói rõ hơn được không?")),
    Topic("Những việc nào phải xong trong quý II?",
          ("Vậy còn quý III thì sao?", "Văn bản đó do ai ban hành?")),
    Topic("So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?",
          ("Văn bản đó do ai ký?",)),
    Topic("Năm 2018 có những kế hoạch cải cách hành chính nào?",
          ("Còn năm 2020 thì sao?", "Văn bản đó do ai ký?")),
    Topic("Đoàn kiểm tra cải cách hành chính huyện Tân Hiệp năm 2020 do ai làm trưởng đoàn?",
          ("Văn bản đó ban hành ngày nào?",)),
    Topic("Huyện ủy Hoài Ân làm gì để tăng cường lãnh đạo công tác cải cách hành chính?",
          ("Nói rõ hơn được không?",)),
    Topic("Chủ tịch UBND tỉnh yêu cầu gì về chỉ số cải cách hành chính năm 2018?",
          ("Còn năm 2016 thì sao?",)),
)
PLAIN_QUESTIONS: tuple[str, ...] = (
    "nam 2018 quang binh kiem tra cchc tai nhung don vi nao",
    "muc tieu cat giam bao cao dinh ky la bao nhieu",
    "nam 2018 co nhung ke hoach cchc nao",
    "nam 2020 huyen tan hiep kiem tra cai cach hanh chinh o dau",
    "nhung viec nao phai xong trong quy 2",
)
# Citizens phrase the same question in many ways: a question gets one of these openings and
# endings, so repeated questions are not all the same text (Rasa's NLU caches encodings by text).
OPENINGS: tuple[str, ...] = ("", "", "Cho tôi hỏi, ", "Xin hỏi: ", "Bạn ơi, ", "Tôi muốn hỏi ")
OPENINGS_PLAIN: tuple[str, ...] = ("", "", "cho toi hoi ", "xin hoi ", "ban oi ")
ENDINGS: tuple[str, ...] = ("", "", " ạ", " vậy")
GREETINGS: tuple[str, ...] = ("Xin chào", "chào bạn", "Chào trợ lý", "xin chao")
THANKS: tuple[str, ...] = ("cảm ơn bạn nhiều", "Cám ơn nhé", "cam on ban", "Cảm ơn trợ lý")
FEEDBACK_PAYLOAD = "/feedback_positive"  # the 👍 Hữu ích button (actions/formatting.py)
CHAT: tuple[str, ...] = ("bạn có thể giúp gì cho tôi", "bạn là ai", "ban lam duoc gi",
                         "bạn là người hay máy", "hướng dẫn sử dụng")
GOODBYES: tuple[str, ...] = ("tạm biệt", "chào nhé, hẹn gặp lại", "tam biet")


class ScriptMix(str, Enum):
    """``full``: the citizen's conversation (knowledge questions answered by the action
    server); ``chat``: greeting, small talk, 👍, thanks, goodbye — no knowledge question, so
    the turns cost Rasa (and the greeting's action) only: Rasa's own capacity."""

    FULL = "full"
    CHAT = "chat"

    @classmethod
    def from_str(cls, value: str) -> ScriptMix:
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown script mix {value!r}; valid: full, chat") from None


def phrase(rng: random.Random, text: str, plain: bool = False, follow_up: bool = False) -> str:
    """``text`` with an opening and an ending a citizen might add ("Cho tôi hỏi, … ạ?");
    a follow-up only gets the polite ending, a question typed without diacritics neither
    ending nor diacritics."""
    if follow_up:
        opening, ending = "", rng.choice(("", "", " ạ"))
    elif plain:
        opening, ending = rng.choice(OPENINGS_PLAIN), ""
    else:
        opening, ending = rng.choice(OPENINGS), rng.choice(ENDINGS)
    if opening and not plain:
        text = text[0].lower() + text[1:] if not text[:2].isupper() else text
    if ending and text.endswith("?"):
        return opening + text[:-1] + ending + "?"
    return opening + text + ending


def make_script(rng: random.Random, mix: ScriptMix = ScriptMix.FULL) -> list[Turn]:
    """One conversation: greeting, question, 1–2 follow-ups, 👍, a plain question, thanks
    (``chat``: greeting, two small-talk turns, 👍, thanks, goodbye)."""
    if mix is ScriptMix.CHAT:
        first, second = rng.sample(CHAT, 2)
        return [Turn(TurnKind.GREETING, rng.choice(GREETINGS)), Turn(TurnKind.CHAT, first),
                Turn(TurnKind.CHAT, second), Turn(TurnKind.FEEDBACK, FEEDBACK_PAYLOAD),
                Turn(TurnKind.THANKS, rng.choice(THANKS)),
                Turn(TurnKind.CHAT, rng.choice(GOODBYES))]
    topic = rng.choice(TOPICS)
    follow_ups = topic.follow_ups[:rng.randint(1, len(topic.follow_ups))]
    return [
        Turn(TurnKind.GREETING, rng.choice(GREETINGS)),
        Turn(TurnKind.QUESTION, phrase(rng, topic.question)),
        *(Turn(TurnKind.FOLLOW_UP, phrase(rng, text, follow_up=True)) for text in follow_ups),
        Turn(TurnKind.FEEDBACK, FEEDBACK_PAYLOAD),
        Turn(TurnKind.QUESTION_PLAIN, phrase(rng, rng.choice(PLAIN_QUESTIONS), plain=True)),
        Turn(TurnKind.THANKS, rng.choice(THANKS)),
    ]


# -- loopback only ------------------------------------------------------------------------------
class NotLoopbackError(ValueError):
    """A target address outside the loopback network."""


def require_loopback(url: str) -> tuple[str, int]:
    """``(host, port)`` of an ``http(s)://`` / ``ws(s)://`` URL whose host is on loopback.

    Every address the host name resolves to must be a loopback address (127.0.0.0/8, ::1):
    ``localhost`` passes, ``0.0.0.0``, a LAN address or a public name do not.

    >>> require_loopback("http://127.0.0.1:5005")
    ('127.0.0.1', 5005)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise NotLoopbackError(f"not an http(s) or ws(s) URL with a host: {url!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise NotLoopbackError(f"{host!r} does not resolve ({exc}); loopback only") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    outside = sorted({str(a) for a in addresses if not a.is_loopback})
    if not addresses or outside:
        raise NotLoopbackError(
            f"refusing {url!r}: {host} is not a loopback address "
            f"({', '.join(outside) or 'no address'}); these benchmarks only target 127.0.0.1/::1")
    return host, port


# -- one turn's outcome -----------------------------------------------------------------------
@dataclass(frozen=True)
class TurnResult:
    """What happened to one message: when it was sent, how long the reply took, what came back.

    ``started`` is seconds since the run began; ``latency`` is the time to the (first part of
    the) reply, or until the error. ``error`` is ``None`` for an HTTP 200 / a Socket.IO reply.
    """

    conversation: int
    sender: str
    kind: TurnKind
    text: str
    started: float
    latency: float
    replies: tuple[str, ...] = ()
    error: str | None = None

    @property
    def empty(self) -> bool:
        """Answered without error, but with no message text at all."""
        return self.error is None and not any(r.strip() for r in self.replies)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.empty

    def is_apology(self, pattern: re.Pattern[str]) -> bool:
        return self.error is None and any(pattern.search(r) for r in self.replies)

    def as_dict(self) -> dict:
        return {"conversation": self.conversation, "sender": self.sender,
                "kind": self.kind.value, "text": self.text, "started": round(self.started, 4),
                "latency": round(self.latency, 4), "replies": list(self.replies),
                "error": self.error}


class ChannelError(RuntimeError):
    """The server answered with an error, closed the connection or did not answer in time."""


class Channel(Protocol):
    """One conversation's connection to the Rasa server."""

    async def send(self, text: str) -> tuple[float, tuple[str, ...]]:
        """Send ``text``; return (seconds to the reply, reply texts). Raises ChannelError."""
        ...

    async def close(self) -> None:
        ...


def _texts(messages: Sequence[dict]) -> tuple[str, ...]:
    """The text of each bot message (a message with only buttons or an image counts as '')."""
    return tuple(str(m.get("text") or "") for m in messages if isinstance(m, dict))


class RestChannel:
    """Rasa's REST channel, one keep-alive HTTP connection per conversation."""

    def __init__(self, base_url: str, sender: str, timeout: float) -> None:
        import httpx2  # the knowledge venv's HTTP client (tests/web use it too)

        require_loopback(base_url)
        self.sender = sender
        self.timeout = timeout
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        # plain http on loopback: no TLS context (loading the CA bundle costs ~50 ms of CPU
        # per client, which would delay the other conversations' measurements)
        https = urlsplit(base_url).scheme == "https"
        self._client = httpx2.AsyncClient(timeout=timeout, trust_env=False, verify=https)
        self._errors = (httpx2.HTTPError, OSError)

    async def send(self, text: str) -> tuple[float, tuple[str, ...]]:
        start = time.perf_counter()
        try:
            response = await self._client.post(self.url, json={"sender": self.sender,
                                                                "message": text})
        except self._errors as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise ChannelError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ChannelError(f"not JSON: {response.text[:200]!r}") from exc
        if not isinstance(body, list):
            raise ChannelError(f"unexpected reply: {str(body)[:200]}")
        return elapsed, _texts(body)

    async def close(self) -> None:
        await self._client.aclose()


@dataclass
class _SocketState:
    replies: asyncio.Queue = field(default_factory=asyncio.Queue)
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: str | None = None


class SocketIOChannel:
    """Rasa's Socket.IO channel as the web widget uses it (``session_persistence: true``).

    Speaks Engine.IO 4 over a WebSocket: ``0`` open, ``40`` namespace connect, ``42[...]``
    events, ``2``/``3`` ping/pong. The session id is the conversation's sender id.
    """

    def __init__(self, base_url: str, sender: str, timeout: float, settle: float = 0.3,
                 path: str = "/socket.io/") -> None:
        require_loopback(base_url)
        parts = urlsplit(base_url)
        scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
        self.url = f"{scheme}://{parts.netloc}{path}?EIO=4&transport=websocket"
        self.sender = sender
        self.timeout = timeout
        self.settle = settle
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._state = _SocketState()

    async def _connect(self) -> None:
        import websockets

        try:
            self._ws = await asyncio.wait_for(websockets.connect(self.url, max_size=2**22),
                                              self.timeout)
            opened = await asyncio.wait_for(self._ws.recv(), self.timeout)
            if not str(opened).startswith("0"):
                raise ChannelError(f"no Engine.IO open packet: {str(opened)[:80]!r}")
            await self._ws.send("40")
            self._reader = asyncio.create_task(self._read())
            await self._emit("session_request", {"session_id": self.sender})
            await asyncio.wait_for(self._state.confirmed.wait(), self.timeout)
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
            await self.close()
            raise ChannelError(f"Socket.IO connect: {type(exc).__name__}: {exc}") from exc

    async def _emit(self, event: str, data: dict) -> None:
        await self._ws.send("42" + json.dumps([event, data], ensure_ascii=False))

    async def _read(self) -> None:
        import websockets

        state = self._state
        try:
            async for packet in self._ws:
                packet = str(packet)
                if packet == "2":  # ping
                    await self._ws.send("3")
                elif packet.startswith("42"):
                    event, *args = json.loads(packet[2:])
                    if event == "session_confirm":
                        state.confirmed.set()
                    elif event == "bot_uttered":
                        message = args[0] if args and isinstance(args[0], dict) else {}
                        state.replies.put_nowait((time.perf_counter(), message))
                elif packet.startswith("44"):
                    state.closed = f"Socket.IO connect error: {packet[2:200]}"
                    break
                elif packet.startswith("1"):
                    state.closed = "closed by the server"
                    break
        except websockets.WebSocketException as exc:
            state.closed = f"WebSocket closed: {exc}"
        except (ValueError, IndexError) as exc:
            state.closed = f"bad Socket.IO packet: {exc}"
        state.closed = state.closed or "WebSocket closed"
        state.replies.put_nowait(None)  # wakes a waiting send()

    async def send(self, text: str) -> tuple[float, tuple[str, ...]]:
        if self._ws is None or self._state.closed:
            if self._ws is not None:
                await self.close()
            self._state = _SocketState()
            await self._connect()
        while not self._state.replies.empty():  # late parts of an earlier turn
            self._state.replies.get_nowait()
        start = time.perf_counter()
        try:
            await self._emit("user_uttered", {"message": text, "session_id": self.sender})
        except OSError as exc:
            raise ChannelError(f"send: {exc}") from exc
        messages: list[dict] = []
        first: float | None = None
        deadline = start + self.timeout
        while True:
            wait = (deadline - time.perf_counter()) if first is None else self.settle
            try:
                item = await asyncio.wait_for(self._state.replies.get(), max(wait, 0.0))
            except asyncio.TimeoutError:
                if first is None:
                    raise ChannelError(f"no reply within {self.timeout:.0f} s") from None
                break
            if item is None:
                if first is None:
                    raise ChannelError(self._state.closed or "closed")
                break
            at, message = item
            first = at if first is None else first
            messages.append(message)
        return first - start, _texts(messages)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
            self._ws = None


class ChannelKind(str, Enum):
    REST = "rest"
    SOCKETIO = "socketio"

    @classmethod
    def from_str(cls, value: str) -> ChannelKind:
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown channel {value!r}; valid: rest, socketio") from None


def open_channel(kind: ChannelKind, base_url: str, sender: str, timeout: float) -> Channel:
    """A new connection of ``kind`` for the conversation ``sender``."""
    if kind is ChannelKind.SOCKETIO:
        return SocketIOChannel(base_url, sender, timeout)
    return RestChannel(base_url, sender, timeout)


async def play_turn(channel: Channel, conversation: int, sender: str, turn: Turn,
                    started: float) -> TurnResult:
    """Send one turn and record its outcome (errors are outcomes, never raised)."""
    begin = time.perf_counter()
    try:
        latency, replies = await channel.send(turn.text)
    except ChannelError as exc:
        return TurnResult(conversation, sender, turn.kind, turn.text, started,
                          time.perf_counter() - begin, (), str(exc) or type(exc).__name__)
    return TurnResult(conversation, sender, turn.kind, turn.text, started, latency, replies)
