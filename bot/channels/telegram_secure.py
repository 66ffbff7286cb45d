"""Telegram channel that checks Telegram's webhook ``secret_token``.

Rasa 3.6's built-in ``telegram`` channel accepts any POST to its webhook. This subclass:

- registers the webhook with a ``secret_token`` (``setWebhook``) and rejects, with 403 and before
  reading the body, every update whose ``X-Telegram-Bot-Api-Secret-Token`` header differs;
- talks to a configurable Bot API base URL (``api_base_url``; tests use a local fake);
- splits answers longer than Telegram's 4096-character limit;
- hands messages to Rasa through :func:`bot.channels.turn.run_turn`: empty and over-long
  messages get the guard's polite reply (never NLU), the conversation is ``telegram:<chat id>``
  (replies still go to the chat), a turn without a reply gets the apology;
- creates its HTTP session inside the server's event loop (the built-in channel calls
  ``asyncio.run(set_webhook(...))`` at start-up, binding aiogram's session to a loop that is
  closed right after) and checks the bot name (``verify``) once instead of on every update.

Enable it in ``bot/credentials.yml`` instead of ``telegram:`` (see bot/credentials.example.yml)::

    bot.channels.telegram_secure.TelegramSecureInput:
      access_token: ${TELEGRAM_BOT_TOKEN}
      verify: ${TELEGRAM_BOT_USERNAME}
      webhook_url: ${TELEGRAM_WEBHOOK_URL}
      secret_token: ${TELEGRAM_SECRET_TOKEN}
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import USER_INTENT_RESTART
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import guard
from bot.channels import senders
from bot.channels.limits import apply_server_limits
from bot.channels.text import split_message
from bot.channels.turn import run_turn

logger = logging.getLogger(__name__)

CHANNEL_NAME = "telegram"  # same name as Rasa's, so `channel: telegram` responses still apply
DEFAULT_API_BASE_URL = "https://api.telegram.org"
MAX_MESSAGE_LENGTH = 4096  # Telegram's limit for a message text
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as secret_token.
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

REQUIRED_CREDENTIALS = ("access_token", "webhook_url", "secret_token")


def secret_token_matches(header: str | None, secret_token: str) -> bool:
    """Whether the update's secret header equals ``secret_token`` (constant-time compare)."""
    if not header:
        return False
    return hmac.compare_digest(header.encode("utf-8"), secret_token.encode("utf-8"))


@dataclass(frozen=True)
class TelegramText:
    """What the bot reads from one update: the chat to answer and the text."""

    chat_id: str
    text: str


def parse_update(update: Any) -> TelegramText | None:
    """The chat id and text of a Telegram update, as Rasa's channel reads them.

    Button presses give their callback data, edited messages their new text, locations a
    ``{"lng":…, "lat":…}`` text. Other updates (stickers, photos, joins…) give None. A blank
    text is kept: the guard answers it with a prompt to type a question.

    Example:
        >>> parse_update({"update_id": 1, "message": {"message_id": 5, "date": 0,
        ...     "chat": {"id": 42, "type": "private"}, "text": "Xin chào"}})
        TelegramText(chat_id='42', text='Xin chào')
    """
    if not isinstance(update, Mapping):
        return None
    callback = update.get("callback_query")
    if isinstance(callback, Mapping):
        message, text = callback.get("message"), callback.get("data")
    elif isinstance(update.get("edited_message"), Mapping):
        message = update["edited_message"]
        text = message.get("text")
    elif isinstance(update.get("message"), Mapping):
        message = update["message"]
        text = message.get("text")
        if isinstance(text, str):
            text = text.replace("/bot", "")  # as Rasa does: "/bot question" in group chats
        elif isinstance(message.get("location"), Mapping):
            location = message["location"]
            lng, lat = location.get("longitude"), location.get("latitude")
            text = f'{{"lng":{lng}, "lat":{lat}}}'
    else:
        return None
    if not isinstance(message, Mapping) or not isinstance(text, str):
        return None
    chat = message.get("chat")
    if not isinstance(chat, Mapping) or chat.get("id") is None:
        return None
    return TelegramText(chat_id=str(chat["id"]), text=text)


class TelegramSecureOutput(senders.StripsSenderNamespace, TelegramOutput):
    """Rasa's Telegram output with a configurable Bot API server and long answers split; it
    addresses the chat of a ``telegram:<chat id>`` conversation."""

    sender_namespace = senders.TELEGRAM

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self, access_token: str, api_base_url: str = DEFAULT_API_BASE_URL,
                 max_message_length: int = MAX_MESSAGE_LENGTH) -> None:
        # TelegramOutput.__init__ would build the Bot for api.telegram.org only.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_base_url))
        self.max_message_length = max_message_length

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """One Telegram message per paragraph (as Rasa does), each within the length limit."""
        for paragraph in text.strip().split("\n\n"):
            for part in split_message(paragraph, self.max_message_length):
                await self.send_message(recipient_id, part)

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]],
                                     button_type: str | None = "inline", **kwargs: Any) -> None:
        """A long text goes first; the keyboard rides on its last part."""
        parts = split_message(text, self.max_message_length) or [text]
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        await super().send_text_with_buttons(recipient_id, parts[-1], buttons,
                                             button_type=button_type, **kwargs)

    async def set_webhook_with_secret(self, url: str, secret_token: str) -> bool:
        """``setWebhook`` with ``secret_token`` (aiogram 2.15 predates that parameter)."""
        result = await self.request("setWebhook", {"url": url, "secret_token": secret_token})
        return bool(result)


class TelegramSecureInput(TelegramInput):
    """Telegram webhook that only accepts updates carrying the configured secret token."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramSecureInput:
        """Build the channel from its ``credentials.yml`` block.

        Raises:
            ValueError: naming the missing keys, or when ``secret_token`` is not 1-256
                characters of ``A-Z a-z 0-9 _ -`` (Telegram's rule).
        """
        credentials = dict(credentials or {})
        missing = [key for key in REQUIRED_CREDENTIALS
                   if credentials.get(key) is None or str(credentials[key]).strip() == ""]
        if missing:
            raise ValueError(
                "Telegram channel (bot.channels.telegram_secure.TelegramSecureInput): missing "
                "credentials " + ", ".join(missing) + "; see bot/credentials.example.yml."
            )
        verify = credentials.get("verify")
        return cls(
            access_token=str(credentials["access_token"]).strip(),
            verify=str(verify).strip() if verify else None,
            webhook_url=str(credentials["webhook_url"]).strip(),
            secret_token=str(credentials["secret_token"]).strip(),
            api_base_url=str(credentials.get("api_base_url") or DEFAULT_API_BASE_URL).strip(),
        )

    def __init__(self, access_token: str, verify: str | None, webhook_url: str | None,
                 secret_token: str, api_base_url: str = DEFAULT_API_BASE_URL,
                 set_webhook_on_start: bool = True, debug_mode: bool = False,
                 limits: guard.GuardSettings | None = None) -> None:
        if not _SECRET_TOKEN_RE.fullmatch(secret_token or ""):
            raise ValueError("Telegram channel: secret_token must be 1-256 characters of "
                             "A-Z, a-z, 0-9, '_' and '-'")
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        self.secret_token = secret_token
        self.api_base_url = api_base_url
        self.set_webhook_on_start = set_webhook_on_start
        self.limits = limits or guard.settings()
        self._output: TelegramSecureOutput | None = None
        self._verified = False

    def __repr__(self) -> str:
        return f"TelegramSecureInput(verify={self.verify!r}, webhook_url={self.webhook_url!r})"

    def get_output_channel(self) -> TelegramSecureOutput:
        """The output channel; no network call here (its session opens on first use)."""
        if self._output is None:
            self._output = TelegramSecureOutput(self.access_token, self.api_base_url)
        return self._output

    async def set_webhook(self) -> bool:
        """Register ``webhook_url`` with Telegram, with the secret token."""
        ok = await self.get_output_channel().set_webhook_with_secret(
            self.webhook_url, self.secret_token)
        if ok:
            logger.info("Telegram webhook set to %s (with secret token)", self.webhook_url)
        else:
            logger.warning("Telegram refused the webhook %s", self.webhook_url)
        return ok

    async def _bot_is_verified(self) -> bool:
        """Rasa's check that the token belongs to the bot named ``verify``; done once."""
        if self._verified or not self.verify:
            return True
        me = await self.get_output_channel().get_me()
        self._verified = me.username == self.verify
        if not self._verified:
            logger.error("Telegram: the access token belongs to @%s, not to @%s ('verify')",
                         me.username, self.verify)
        return self._verified

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        apply_server_limits(telegram_webhook, self.limits)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/set_webhook", methods=["POST"])
        async def set_webhook(request: Request) -> HTTPResponse:
            # Re-registers the configured URL; guarded by the same secret as updates.
            if not secret_token_matches(request.headers.get(SECRET_TOKEN_HEADER),
                                        self.secret_token):
                return response.text("forbidden", status=403)
            try:
                ok = await self.set_webhook()
            except TelegramAPIError as error:
                logger.warning("Telegram setWebhook failed: %s", error)
                ok = False
            if ok:
                return response.text("Webhook setup successful")
            return response.text("Invalid webhook", status=502)

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not secret_token_matches(request.headers.get(SECRET_TOKEN_HEADER),
                                        self.secret_token):
                logger.warning("Telegram update rejected: %s secret token (from %s)",
                               "wrong" if request.headers.get(SECRET_TOKEN_HEADER) else "missing",
                               request.ip)
                return response.text("forbidden", status=403)

            try:
                update = json.loads(request.body or b"")
            except ValueError:
                logger.warning("Telegram update ignored: body is not JSON")
                return response.text("success")
            incoming = parse_update(update)
            if incoming is None:
                return response.text("success")
            if not await self._bot_is_verified():
                return response.text("failed")

            texts = [incoming.text]
            if incoming.text == INTENT_MESSAGE_PREFIX + USER_INTENT_RESTART:
                texts.append("/start")
            out_channel = self.get_output_channel()
            metadata = self.get_metadata(request)
            try:
                for text in texts:
                    await run_turn(on_new_message, text=text, raw_sender=incoming.chat_id,
                                   namespace=senders.TELEGRAM, output=out_channel,
                                   input_channel=self.name(), metadata=metadata,
                                   limits=self.limits)
            except TelegramAPIError:  # a reply that Telegram refused: logged, update acknowledged
                logger.exception("Telegram: could not reply to chat %s", incoming.chat_id)
                if self.debug_mode:
                    raise
            return response.text("success")

        @telegram_webhook.listener("after_server_start")
        async def register_webhook(*_: Any) -> None:
            if not (self.set_webhook_on_start and self.webhook_url):
                return
            try:
                await self.set_webhook()
            except TelegramAPIError as error:
                logger.error("Telegram setWebhook failed (%s): updates will not arrive until "
                             "POST /webhooks/telegram/set_webhook succeeds", error)

        @telegram_webhook.listener("after_server_stop")
        async def close_session(*_: Any) -> None:
            # aiogram's `session` property would open a new session; look at the private one.
            session = self._output._session if self._output is not None else None
            if session is not None and not session.closed:
                await session.close()

        return telegram_webhook
