"""Rasa's ``socketio`` channel with session persistence that works on python-socketio >= 5.10.

Since python-socketio 5.10, ``AsyncServer.enter_room`` is a coroutine; rasa 3.6.21 calls it
without ``await`` (RasaHQ/rasa#13027), so a socket never joins its session's room and, with
``session_persistence: true``, every ``bot_uttered`` is lost. This subclass re-registers the
``session_request`` handler with the await. Its ``name()`` is still ``socketio``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class PersistentSocketIOInput(SocketIOInput):
    """``socketio`` whose ``session_request`` awaits ``AsyncServer.enter_room``."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"])
            await sio.emit("session_confirm", data["session_id"], room=sid)
            logger.debug("socket %s joined session %s", sid, data["session_id"])

        sio.on("session_request", session_request, namespace=self.namespace)
        return socketio_webhook
