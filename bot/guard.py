"""The message guard: what a user message may be before it reaches NLU or an action.

One place defines the limits and the polite Vietnamese replies, for every input channel (REST,
Socket.IO, Telegram, Zalo: ``bot.channels``) and again for ``action_answer_question``
(``actions/actions.py``). Standard library only: this module is imported both by the Rasa
process (Python 3.10) and by the action server (Python 3.11).

Settings (environment, read once by :func:`settings`):

- ``MAX_MESSAGE_CHARS`` (default 1000): the longest message, in characters after trimming white
  space, that goes to NLU. Longer ones get :data:`TOO_LONG_REPLY`, empty ones
  :data:`EMPTY_REPLY`.
- ``MAX_REQUEST_BYTES`` (default 65536): the largest HTTP request body the Rasa server accepts
  (413 above it). It must hold the longest message a channel can deliver in its JSON envelope
  (a Telegram update with a 4,096-character text and its reply, Zalo's events), so it is far
  above ``MAX_MESSAGE_CHARS``; it bounds what is parsed at all.

Example:
    >>> check_message("  Xin chào  ", 1000).verdict
    <Verdict.OK: 'ok'>
    >>> check_message("a" * 1200, 1000).reply
    'Câu hỏi quá dài (1.200 ký tự). Bạn vui lòng rút gọn câu hỏi dưới 1.000 ký tự rồi gửi lại nhé.'
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_MAX_MESSAGE_CHARS = "MAX_MESSAGE_CHARS"
ENV_MAX_REQUEST_BYTES = "MAX_REQUEST_BYTES"
DEFAULT_MAX_MESSAGE_CHARS = 1000
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024

TOO_LONG_REPLY = ("Câu hỏi quá dài ({length} ký tự). Bạn vui lòng rút gọn câu hỏi dưới {limit} "
                  "ký tự rồi gửi lại nhé.")
EMPTY_REPLY = ("Bạn chưa nhập câu hỏi. Bạn vui lòng gõ câu hỏi về cải cách hành chính, ví dụ: "
               "“Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?”")
# A channel sends this when a message got no reply at all (the action server is down, slow or
# failed): the user is never left without an answer.
NO_REPLY_APOLOGY = ("Xin lỗi, hệ thống đang bận hoặc tạm thời gián đoạn nên chưa trả lời được "
                    "câu hỏi này. Bạn vui lòng thử lại sau ít phút.")


class Verdict(enum.Enum):
    """What the guard decided about a message."""

    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class CheckedMessage:
    """A message after the guard: ``text`` goes to NLU only when ``verdict`` is OK; otherwise
    ``reply`` is what the user gets instead. ``length`` is the trimmed length in characters."""

    text: str
    verdict: Verdict
    length: int
    reply: str | None = None

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.OK


@dataclass(frozen=True)
class GuardSettings:
    """Validated limits (see the module docstring)."""

    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    def __post_init__(self) -> None:
        if self.max_message_chars < 1:
            raise ValueError(f"{ENV_MAX_MESSAGE_CHARS} must be at least 1, "
                             f"got {self.max_message_chars}")
        # a body must at least hold a maximal message, JSON-escaped (\uXXXX, 6 bytes a char)
        if self.max_request_bytes < 6 * self.max_message_chars + 1024:
            raise ValueError(
                f"{ENV_MAX_REQUEST_BYTES} ({self.max_request_bytes}) is too small for "
                f"{ENV_MAX_MESSAGE_CHARS}={self.max_message_chars}: it must be at least "
                f"{6 * self.max_message_chars + 1024} bytes")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GuardSettings:
        """Settings from the environment (unset or empty variables keep the defaults).

        Raises:
            ValueError: naming the variable whose value is not a valid integer.
        """
        environ = os.environ if environ is None else environ

        def integer(name: str, default: int) -> int:
            raw = (environ.get(name) or "").strip().replace("_", "")
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{name} must be an integer, got {raw!r}") from None

        return cls(max_message_chars=integer(ENV_MAX_MESSAGE_CHARS, DEFAULT_MAX_MESSAGE_CHARS),
                   max_request_bytes=integer(ENV_MAX_REQUEST_BYTES, DEFAULT_MAX_REQUEST_BYTES))


@functools.lru_cache(maxsize=1)
def settings() -> GuardSettings:
    """The process's limits, read from the environment once."""
    return GuardSettings.from_env()


def vietnamese_number(value: int) -> str:
    """An integer with Vietnamese thousands separators: 12000 → "12.000"."""
    return f"{value:,}".replace(",", ".")


def check_message(text: str | None, max_chars: int) -> CheckedMessage:
    """Decide whether ``text`` may go to NLU, and what to answer when it may not.

    Empty and white-space-only messages (and None, or anything that is not text) are refused
    with :data:`EMPTY_REPLY`;
    messages longer than ``max_chars`` characters once trimmed with :data:`TOO_LONG_REPLY`.
    An accepted message keeps its text unchanged.

    Example:
        >>> check_message("   ", 1000).reply == EMPTY_REPLY
        True
    """
    if not isinstance(text, str):  # None, or whatever a client put there
        return CheckedMessage("", Verdict.EMPTY, 0, EMPTY_REPLY)
    length = len(text.strip())
    if length == 0:
        return CheckedMessage(text, Verdict.EMPTY, 0, EMPTY_REPLY)
    if length > max_chars:
        reply = TOO_LONG_REPLY.format(length=vietnamese_number(length),
                                      limit=vietnamese_number(max_chars))
        return CheckedMessage(text, Verdict.TOO_LONG, length, reply)
    return CheckedMessage(text, Verdict.OK, length)
