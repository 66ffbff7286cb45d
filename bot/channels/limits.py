"""Limits of the Rasa server, set by our channels' blueprints: request body size and how long
an action-server call may take.

Sanic (21.12, under Rasa 3.6) accepts request bodies of up to 100 MB by default and Rasa exposes
no option for it. Each of our channels registers :func:`cap_request_body` on its blueprint: a
``before_server_start`` listener that lowers ``app.config.REQUEST_MAX_SIZE`` to
``MAX_REQUEST_BYTES`` (:mod:`bot.guard`). Sanic's HTTP protocol reads that value for every new
connection, so from the first request on a larger body is refused with 413 (by its
``Content-Length`` before it is read, or as soon as a chunked body passes the limit). The limit
covers the whole server: REST, Socket.IO's polling requests and the Telegram/Zalo webhooks.

Without our channels the same limit can be set for the launcher with the environment variable
``SANIC_REQUEST_MAX_SIZE`` (Sanic reads ``SANIC_*`` variables when Rasa creates the app).

The action-call timeout (:mod:`bot.action_timeout`) is applied once the server has started, when
Rasa's agent (loaded by its own ``before_server_start`` listener) knows the action endpoint.
"""

from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint, Sanic

from bot import action_timeout, guard

logger = logging.getLogger(__name__)


def cap_request_body(blueprint: Blueprint, max_bytes: int) -> None:
    """Make the app serving ``blueprint`` refuse request bodies over ``max_bytes`` (413)."""
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")

    @blueprint.listener("before_server_start")
    async def lower_request_max_size(app: Sanic, _loop: Any) -> None:
        if app.config.REQUEST_MAX_SIZE > max_bytes:
            logger.info("Request bodies limited to %d bytes (was %d)", max_bytes,
                        app.config.REQUEST_MAX_SIZE)
            app.config.REQUEST_MAX_SIZE = max_bytes


def apply_server_limits(blueprint: Blueprint, limits: guard.GuardSettings) -> None:
    """Both limits for the app serving ``blueprint``: the body cap and the action timeout."""
    cap_request_body(blueprint, limits.max_request_bytes)

    @blueprint.listener("after_server_start")
    async def limit_action_calls(app: Sanic, _loop: Any) -> None:
        action_timeout.install_from_app(app)
