"""One user turn through any of our channels: guarded, namespaced, never without a reply.

:func:`run_turn` is what every input channel (REST, Socket.IO, Telegram, Zalo) calls instead of
handing a ``UserMessage`` straight to Rasa:

1. the message guard (:mod:`bot.guard`) runs first: an empty or over-long message is answered
   with its polite reply and never reaches NLU;
2. the sender id is namespaced per channel (:mod:`bot.channels.senders`) and the input channel is
   the channel's own name, never something a client sent;
3. when Rasa finishes the turn without a single bot message (Rasa raised, or a turn ended
   silently), the user gets :data:`bot.guard.NO_REPLY_APOLOGY`. A custom action that fails
   (the action server down, timed out or erring) says the same apology itself and hands the
   turn back to the user (:mod:`bot.action_timeout`), so the next message is handled normally
   once the server is back; this is the safety net behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import USER_INTENT_RESTART, USER_INTENT_SESSION_START

from bot import guard
from bot.channels.senders import namespaced

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# Commands after which Rasa legitimately says nothing (Telegram sends "/start" after "/restart").
SILENT_COMMANDS = frozenset(INTENT_MESSAGE_PREFIX + name for name in
                            (USER_INTENT_RESTART, USER_INTENT_SESSION_START, "start"))


class TurnOutput(OutputChannel):
    """Wraps a channel's output for one turn and counts the bot messages sent through it."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:  # type: ignore[override]  # the wrapped channel's name, per instance
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        await self.inner.send_text_message(recipient_id, text, **kwargs)


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended: ``verdict`` of the guard, bot messages sent by Rasa, apology sent."""

    verdict: guard.Verdict
    replies: int = 0
    apologized: bool = False


async def run_turn(on_new_message: OnNewMessage, *, text: str | None, raw_sender: str,
                   namespace: str, output: OutputChannel, input_channel: str,
                   metadata: dict[str, Any] | None = None, message_id: str | None = None,
                   limits: guard.GuardSettings | None = None) -> TurnOutcome:
    """Guard ``text``, hand it to Rasa as ``<namespace>:<raw_sender>``, make sure of a reply.

    Args:
        on_new_message: the callback Rasa gives the channel's blueprint.
        text: the user's message as received (None when absent).
        raw_sender: the channel's own id of the user (chat id, Zalo user id, session id…).
        namespace: the sender namespace of the channel (``bot.channels.senders``).
        output: the channel's output; it receives the namespaced id and strips it.
        input_channel: the channel's name, recorded in the tracker and the question log.
        metadata, message_id: passed on to the ``UserMessage``.
        limits: the guard settings (``bot.guard.settings()`` when None).
    """
    limits = limits or guard.settings()
    sender_id = namespaced(namespace, raw_sender)
    checked = guard.check_message(text, limits.max_message_chars)
    if not checked.accepted:
        logger.info("%s: %s message from %s refused before NLU (%d characters, limit %d)",
                    input_channel, checked.verdict.value, sender_id, checked.length,
                    limits.max_message_chars)
        await output.send_response(sender_id, {"text": checked.reply})
        return TurnOutcome(checked.verdict)

    turn_output = TurnOutput(output)
    try:
        await on_new_message(UserMessage(checked.text, turn_output, sender_id,
                                         input_channel=input_channel, metadata=metadata,
                                         message_id=message_id))
    except Exception:  # Rasa raised: the user still gets the apology below
        logger.exception("%s: error while handling a message from %s", input_channel, sender_id)
    if turn_output.sent or checked.text.strip() in SILENT_COMMANDS:
        return TurnOutcome(checked.verdict, turn_output.sent)
    logger.warning("%s: no reply to a message from %s (action server down, slow or failing?); "
                   "sending the apology", input_channel, sender_id)
    await output.send_response(sender_id, {"text": guard.NO_REPLY_APOLOGY})
    return TurnOutcome(checked.verdict, 0, apologized=True)
