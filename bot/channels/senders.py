"""Conversation ids per channel: ``<namespace>:<id the channel knows>``.

Every channel's ids live in their own namespace of the tracker store, so an id chosen by one
channel's client can never continue another channel's conversation (a REST client sending a Zalo
user's id, a widget choosing a Telegram chat id):

=========  ===============================  ==========================================
namespace  id                                chosen by
=========  ===============================  ==========================================
``rest``   the request's ``sender``           the REST client (an integration)
``web``    the Socket.IO ``session_id``       the widget (a random 128-bit hex id)
``telegram`` the chat id                      Telegram (authenticated by the secret token)
``zalo``   the user id (``sender.id``)        Zalo (authenticated by the event signature)
=========  ===============================  ==========================================

Output channels receive the namespaced id from Rasa and strip it back (:func:`strip`) before
they address the recipient; the REST response shows the id the client sent.

Example:
    >>> namespaced(ZALO, "2512523625412515")
    'zalo:2512523625412515'
    >>> strip(ZALO, "zalo:2512523625412515")
    '2512523625412515'
"""

from __future__ import annotations

REST = "rest"
WEB = "web"
TELEGRAM = "telegram"
ZALO = "zalo"
NAMESPACES = frozenset({REST, WEB, TELEGRAM, ZALO})
SEPARATOR = ":"


def namespaced(namespace: str, raw_id: str) -> str:
    """The tracker's sender id for ``raw_id`` of the channel ``namespace``."""
    if namespace not in NAMESPACES:
        raise ValueError(f"unknown sender namespace {namespace!r}; "
                         f"expected one of {', '.join(sorted(NAMESPACES))}")
    return f"{namespace}{SEPARATOR}{raw_id}"


def strip(namespace: str, sender_id: str) -> str:
    """The channel's own id from a tracker sender id of ``namespace``.

    An id without that prefix is returned unchanged (ids of conversations that predate
    namespaces, or an id built by another component).
    """
    prefix = f"{namespace}{SEPARATOR}"
    return sender_id[len(prefix):] if sender_id.startswith(prefix) else sender_id


class StripsSenderNamespace:
    """Mixin for a Rasa ``OutputChannel``: ``send_response`` addresses the channel's own id.

    Rasa hands every bot message to ``send_response(tracker.sender_id, message)``; this strips
    the class's ``sender_namespace`` before the channel's own ``send_*`` methods run.
    """

    sender_namespace: str

    async def send_response(self, recipient_id: str, message: dict) -> None:
        await super().send_response(  # type: ignore[misc]
            strip(self.sender_namespace, recipient_id), message)
