"""The widget's Socket.IO channel (bot.channels.socketio_persistent) through the real Rasa app
on loopback, with a real python-socketio client: sessions, the guard, namespaced senders."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import socketio

from bot.channels.socketio_persistent import PersistentSocketIOInput
from bot.guard import EMPTY_REPLY, NO_REPLY_APOLOGY, TOO_LONG_REPLY

QUESTION = "Năm 2018 tỉnh Quảng Bình kiểm tra những đơn vị nào?"
SESSION = "0123456789abcdef0123456789abcdef"  # what the widget sends: 32 hex digits


def channel() -> PersistentSocketIOInput:
    return PersistentSocketIOInput.from_credentials({
        "user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
        "session_persistence": True})


class Widget:
    """A Socket.IO client that behaves like bot/widget/widget.js."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.uttered: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("bot_uttered", self.uttered.put)
        self.session = ""

    async def connect(self, url: str, session_id: Any = SESSION) -> str:
        # long-polling: engine.io's websocket client needs aiohttp >= 3.10, Rasa pins 3.9
        await self.client.connect(url, transports=["polling"])
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), 5)

    async def say(self, text: Any, session_id: Any = SESSION) -> dict[str, Any]:
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        return await asyncio.wait_for(self.uttered.get(), 5)

    async def close(self) -> None:
        # A graceful long-polling disconnect waits for the pending poll, which the server holds
        # until its next ping (25 s): close the engine.io connection without waiting instead.
        eio = self.client.eio
        reader = eio.read_loop_task
        await eio.disconnect(abort=True)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


@asynccontextmanager
async def open_widget(url: str, session_id: Any = SESSION) -> AsyncIterator[Widget]:
    """A connected widget, disconnected before the server stops (else the client waits for a
    dead server)."""
    widget = Widget()
    widget.session = await widget.connect(url, session_id)
    try:
        yield widget
    finally:
        await widget.close()


async def test_message_reaches_rasa_as_web_session_and_reply_comes_back(channel_server):
    async with channel_server(channel()) as (url, agent), open_widget(url) as widget:
        assert widget.session == SESSION
        reply = await widget.say(QUESTION)
    assert reply == {"text": f"Bạn hỏi: {QUESTION}"}
    [message] = agent.messages
    assert (message.sender_id, message.input_channel) == (f"web:{SESSION}", "socketio")


@pytest.mark.parametrize("requested", ["x", "../../etc", "telegram:987654321", "a" * 129, 42,
                                       None], ids=["short", "path", "other-channel", "long",
                                                   "number", "none"])
async def test_invalid_session_ids_are_replaced(channel_server, requested):
    async with channel_server(channel()) as (url, agent), open_widget(url, requested) as widget:
        session = widget.session
        await widget.say(QUESTION, session)
    assert session != requested and len(session) == 32
    assert agent.messages[0].sender_id == f"web:{session}"


async def test_a_socket_speaks_only_in_its_confirmed_session(channel_server):
    async with channel_server(channel()) as (url, agent), open_widget(url) as widget:
        reply = await widget.say(QUESTION, session_id="f" * 32)  # names someone else's session
    assert reply["text"] == f"Bạn hỏi: {QUESTION}"
    assert agent.messages[0].sender_id == f"web:{SESSION}"


@pytest.mark.parametrize(("text", "expected"), [
    ("câu hỏi rất dài " * 100, TOO_LONG_REPLY.format(length="1.599", limit="1.000")),
    ("   ", EMPTY_REPLY),
    (None, EMPTY_REPLY),
    ({"not": "text"}, EMPTY_REPLY),
], ids=["too-long", "blank", "none", "not-text"])
async def test_empty_or_too_long_message_gets_polite_reply_without_nlu(channel_server, text,
                                                                       expected):
    async with channel_server(channel()) as (url, agent), open_widget(url) as widget:
        reply = await widget.say(text)
    assert reply == {"text": expected}
    assert agent.messages == []


async def test_turn_without_reply_gets_the_apology(channel_server):
    async with channel_server(channel(), lambda _message: []) as (url, agent), \
            open_widget(url) as widget:
        reply = await widget.say(QUESTION)
    assert reply == {"text": NO_REPLY_APOLOGY}
    assert len(agent.messages) == 1


async def test_packets_over_the_body_limit_are_not_read(channel_server):
    async with channel_server(channel()) as (url, agent), open_widget(url) as widget:
        await widget.client.emit("user_uttered", {"message": "x" * 200_000,
                                                  "session_id": SESSION})
        await asyncio.sleep(0.5)
        assert agent.messages == []
        assert widget.uttered.empty()
