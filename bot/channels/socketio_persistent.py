"""Rasa's ``socketio`` channel (the web widget's), fixed and bounded. Its ``name()`` is still
``socketio``.

- Session persistence works on python-socketio >= 5.10: ``AsyncServer.enter_room`` became a
  coroutine and rasa 3.6.21 calls it without ``await`` (RasaHQ/rasa#13027), so a socket never
  joined its session's room and every ``bot_uttered`` was lost.
- A ``session_id`` is 16-128 characters of ``A-Z a-z 0-9 _ -`` (the widget sends 32 hex digits);
  any other value is replaced by a fresh random one, announced in ``session_confirm``.
- A socket's messages belong to the session it last confirmed (``session_request``), not to
  whatever ``session_id`` a ``user_uttered`` event names; the conversation is
  ``web:<session_id>`` (:mod:`bot.channels.senders`), so it never meets another channel's ids.
- Every message goes through :func:`bot.channels.turn.run_turn`: the guard (empty/over-long
  messages get their polite reply, never NLU) and the apology when no reply comes.
- Engine.IO packets are capped at ``MAX_REQUEST_BYTES`` like every request body.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot import guard
from bot.channels import senders
from bot.channels.limits import apply_server_limits
from bot.channels.turn import run_turn

logger = logging.getLogger(__name__)

SESSION_ID_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")


def valid_session_id(value: Any) -> bool:
    """Whether ``value`` is acceptable as a client-chosen session id."""
    return isinstance(value, str) and SESSION_ID_RE.fullmatch(value) is not None


class WebOutput(senders.StripsSenderNamespace, SocketIOOutput):
    """``bot_uttered`` to the room of the session (the ``web:`` prefix stripped)."""

    sender_namespace = senders.WEB


class PersistentSocketIOInput(SocketIOInput):
    """``socketio`` with awaited rooms, validated sessions, the guard and namespaced senders."""

    def __init__(self, *args: Any, limits: guard.GuardSettings | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or guard.settings()

    def get_output_channel(self) -> WebOutput | None:
        if self.sio is None:
            return None
        return WebOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        apply_server_limits(socketio_webhook, self.limits)
        sio = self.sio
        sio.eio.max_http_buffer_size = self.limits.max_request_bytes
        namespace = self.namespace

        async def confirm_session(sid: str, requested: Any) -> str:
            session_id = requested if valid_session_id(requested) else uuid.uuid4().hex
            if requested is not None and session_id != requested:
                logger.info("socket %s asked for an invalid session id; given a new one", sid)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            async with sio.session(sid, namespace=namespace) as session:
                previous = session.get("session_id")
                session["session_id"] = session_id
            if previous and previous != session_id and self.session_persistence:
                await sio.leave_room(sid, previous, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socket %s joined session %s", sid, session_id)
            return session_id

        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            await confirm_session(sid, data.get("session_id"))

        async def handle_message(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=namespace)
                raw_sender = session.get("session_id")
                if not raw_sender:  # no session_request first: join the one named, if valid
                    raw_sender = await confirm_session(sid, data.get("session_id"))
            else:
                raw_sender = sid
            text = data.get("message")
            await run_turn(on_new_message, text=text if isinstance(text, str) else None,
                           raw_sender=raw_sender, namespace=senders.WEB,
                           output=WebOutput(sio, self.bot_message_evt),
                           input_channel=self.name(), metadata=self._metadata(data),
                           limits=self.limits)

        sio.on("session_request", session_request, namespace=namespace)
        sio.on(self.user_message_evt, handle_message, namespace=namespace)
        return socketio_webhook

    def _metadata(self, data: dict[str, Any]) -> dict[str, Any] | None:
        metadata = data.get(self.metadata_key)
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                logger.info("socketio: metadata that is not JSON ignored")
                return None
        return metadata if isinstance(metadata, dict) else None
