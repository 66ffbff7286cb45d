"""Rasa's REST channel (``rasa.core.channels.rest.RestInput``) with bounded, namespaced input.

``POST /webhooks/rest/webhook`` with ``{"sender": "...", "message": "...", "metadata": {...}}``
answers a JSON list of bot messages, as Rasa's channel does, except that:

- the body must be a JSON object with a ``sender`` (1-128 printable characters; a number is
  taken as its text), a string ``message`` and an optional object ``metadata``; anything else
  gets 400 with a short explanation (Rasa's channel put every sender-less client into one shared
  conversation named "default", and crashed on a non-text message);
- the message goes through the guard (:mod:`bot.guard`): empty or over-long messages get their
  polite reply, never NLU;
- the conversation is ``rest:<sender>`` (:mod:`bot.channels.senders`); the response shows the
  ``recipient_id`` the client sent;
- ``input_channel`` is always ``rest``: a client can no longer choose what the question log
  records as the channel;
- a turn that produced no bot message (action server down or slow) answers the apology;
- request bodies are capped at ``MAX_REQUEST_BYTES`` (413 above it);
- under ``make run`` every Sanic worker warms itself up through this channel's handler before
  the stack reports ready (:mod:`bot.warm_up`).

``?stream=true`` streams the same messages, one JSON object per line.

REST is an integration API (scripts, ``make shell``, a portal's back end): keep it off the public
internet; citizens use the Socket.IO widget.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot import guard, warm_up
from bot.channels import senders
from bot.channels.limits import apply_server_limits
from bot.channels.turn import run_turn

logger = logging.getLogger(__name__)

CHANNEL_NAME = "rest"
MAX_SENDER_CHARS = 128


class RestCollector(senders.StripsSenderNamespace, CollectingOutputChannel):
    """Collects the turn's messages, addressed to the sender id the client sent."""

    sender_namespace = senders.REST


class RestQueue(senders.StripsSenderNamespace, QueueOutputChannel):
    """The streaming variant of :class:`RestCollector`."""

    sender_namespace = senders.REST


@dataclass(frozen=True)
class RestRequest:
    """A validated REST request body."""

    sender: str
    message: str
    metadata: dict[str, Any] | None = None


class RestRequestError(ValueError):
    """The body is not a valid REST message; the text is shown to the client (HTTP 400)."""


def parse_rest_body(raw: bytes) -> RestRequest:
    """Validate a REST body.

    Example:
        >>> parse_rest_body(b'{"sender": "lan", "message": "Xin chao"}')
        RestRequest(sender='lan', message='Xin chao', metadata=None)

    Raises:
        RestRequestError: with a short bilingual explanation.
    """
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise RestRequestError("Nội dung yêu cầu phải là JSON (body must be JSON).") from None
    if not isinstance(body, dict):
        raise RestRequestError("Nội dung yêu cầu phải là một đối tượng JSON "
                               "(body must be a JSON object).")
    sender = body.get("sender")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if (not isinstance(sender, str) or not 1 <= len(sender) <= MAX_SENDER_CHARS
            or not sender.isprintable() or sender != sender.strip()):
        raise RestRequestError(
            f"Trường 'sender' phải là chuỗi 1–{MAX_SENDER_CHARS} ký tự in được, không có khoảng "
            f"trắng ở đầu/cuối ('sender' must be 1-{MAX_SENDER_CHARS} printable characters).")
    message = body.get("message")
    if message is None:
        message = ""
    if not isinstance(message, str):
        raise RestRequestError("Trường 'message' phải là chuỗi ('message' must be a string).")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RestRequestError("Trường 'metadata' phải là đối tượng JSON "
                               "('metadata' must be a JSON object).")
    return RestRequest(sender, message, metadata)


class GuardedRestInput(RestInput):
    """Rasa's ``rest`` channel with the guard, sender namespaces and a fixed input channel."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GuardedRestInput:
        return cls()

    def __init__(self, limits: guard.GuardSettings | None = None) -> None:
        self.limits = limits or guard.settings()

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()  # never the client's "input_channel"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest_webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        apply_server_limits(rest_webhook, self.limits)
        warm_up.register(rest_webhook, on_new_message)  # each Sanic worker, before "ready"

        @rest_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            try:
                incoming = parse_rest_body(request.body)
            except RestRequestError as error:
                logger.info("REST request refused (from %s): %s", request.ip, error)
                return response.json({"error": str(error)}, status=400)

            async def turn(output: CollectingOutputChannel) -> None:
                await run_turn(on_new_message, text=incoming.message, raw_sender=incoming.sender,
                               namespace=senders.REST, output=output, input_channel=self.name(),
                               metadata=incoming.metadata, limits=self.limits)

            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(self._streamer(turn), content_type="text/event-stream")
            collector = RestCollector()
            await turn(collector)
            return response.json(collector.messages)

        return rest_webhook

    @staticmethod
    def _streamer(turn: Callable[[CollectingOutputChannel], Awaitable[None]]
                  ) -> Callable[[Any], Awaitable[None]]:
        async def stream(resp: Any) -> None:
            queue = RestQueue()
            done = object()

            async def produce() -> None:
                try:
                    await turn(queue)
                finally:
                    await queue.messages.put(done)

            task = asyncio.ensure_future(produce())
            while (item := await queue.messages.get()) is not done:
                await resp.write(json.dumps(item) + "\n")
            await task

        return stream
