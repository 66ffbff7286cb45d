"""MONKEYPATCH of Rasa 3.6: how long Rasa waits for the action server.

Rasa 3.6.21 waits up to five minutes for every custom action: ``RemoteAction.run``
(rasa/core/actions/action.py) passes ``timeout=DEFAULT_REQUEST_TIMEOUT`` (300 s, imported into
that module from rasa.core.constants) to each call, and ``EndpointConfig`` has no timeout option.
While the action server is hung or overloaded a user would wait that long, holding the
conversation's lock.

:func:`apply` rebinds that module-level name to an ``aiohttp.ClientTimeout`` of the configured
seconds. Nothing else in Rasa reads it. A call that takes longer raises ``asyncio.TimeoutError``
inside ``RemoteAction.run``; ``MessageProcessor._run_action`` logs it, drops the action's events
and the conversation goes on, and our channels (``bot.channels.turn.run_turn``) see a turn without
a bot message and send the Vietnamese apology. The next message is handled normally.

The seconds come from the environment variable ``ACTION_TIMEOUT_SECONDS`` when it is set (to
tune a deployment, or a loaded test machine, without editing files), else from ``timeout`` under
``action_endpoint`` in bot/endpoints.yml (Rasa keeps unknown keys of an endpoint in
``EndpointConfig.kwargs``), else 1.5 s. The channels' blueprints install the patch when the server
has started and the agent is loaded (:func:`install_from_app`).
tests/channels/test_action_endpoint.py fails when Rasa's internals no longer match this.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import aiohttp
import rasa.core.actions.action as rasa_action
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT_SECONDS = 1.5
TIMEOUT_KEY = "timeout"  # under action_endpoint in endpoints.yml
ENV_TIMEOUT = "ACTION_TIMEOUT_SECONDS"  # wins over endpoints.yml when set
PATCHED_NAME = "DEFAULT_REQUEST_TIMEOUT"  # the name RemoteAction.run passes as timeout=
RASA_DEFAULT = getattr(rasa_action, PATCHED_NAME)


def configured_seconds(endpoint: EndpointConfig | None,
                       environ: Mapping[str, str] | None = None) -> float:
    """The action-call timeout: ``ACTION_TIMEOUT_SECONDS``, else ``endpoint``'s ``timeout``,
    else the default.

    Raises:
        ValueError: when the configured value is not a positive number.
    """
    environ = os.environ if environ is None else environ
    if (environ.get(ENV_TIMEOUT) or "").strip():
        raw, where = environ[ENV_TIMEOUT], ENV_TIMEOUT
    else:
        raw = endpoint.kwargs.get(TIMEOUT_KEY) if endpoint is not None else None
        where = f"action_endpoint.{TIMEOUT_KEY}"
    if raw is None or str(raw).strip() == "":
        return DEFAULT_ACTION_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number of seconds, got {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{where} must be positive, got {seconds}")
    return seconds


def apply(seconds: float) -> None:
    """Make every later custom-action call give up after ``seconds``."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    setattr(rasa_action, PATCHED_NAME, aiohttp.ClientTimeout(total=seconds))


def current_seconds() -> float | None:
    """The timeout custom-action calls use now (None: no total limit)."""
    value: Any = getattr(rasa_action, PATCHED_NAME)
    return value.total if isinstance(value, aiohttp.ClientTimeout) else float(value)


def restore() -> None:
    """Back to Rasa's own timeout (tests)."""
    setattr(rasa_action, PATCHED_NAME, RASA_DEFAULT)


def install_from_app(app: Any) -> float | None:
    """Apply the timeout of the running server's action endpoint; its seconds, or None when
    the app has no agent with an action endpoint (nothing to patch)."""
    agent = getattr(app.ctx, "agent", None)
    endpoint = getattr(agent, "action_endpoint", None)
    if not isinstance(endpoint, EndpointConfig):
        return None
    seconds = configured_seconds(endpoint)
    if current_seconds() != seconds:
        apply(seconds)
        logger.info("Custom actions time out after %g s", seconds)
    return seconds
