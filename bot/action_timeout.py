"""MONKEYPATCH of Rasa 3.6: how long Rasa waits for the action server, and how a turn ends when
a custom action fails.

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

**A failed call ends the turn.** Left to Rasa, a failed custom action loses its events and the
policies predict again from the same state: a new conversation whose greeting action failed
while the action server was down got RulePolicy's core fallback, ``action_answer_question``,
which failed too, nine times, until Rasa's circuit breaker stopped the turn — without an
``action_listen``, so every later message of that conversation tripped the breaker at once and
got the apology even after the server was back (found by the soak, docs/benchmarks.md §5).
:func:`apply` therefore also wraps ``RemoteAction.run``: a call that times out, cannot connect
or gets an error returns the apology (:data:`bot.guard.NO_REPLY_APOLOGY`) as the action's own
message and ``FollowupAction("action_listen")``, so the turn ends listening and the next
message starts clean. ``ActionExecutionRejection`` (a form's validation) still goes to Rasa.

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
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import BotUttered, Event, FollowupAction
from rasa.utils.endpoints import EndpointConfig

from bot import guard

logger = logging.getLogger(__name__)

DEFAULT_ACTION_TIMEOUT_SECONDS = 1.5
TIMEOUT_KEY = "timeout"  # under action_endpoint in endpoints.yml
ENV_TIMEOUT = "ACTION_TIMEOUT_SECONDS"  # wins over endpoints.yml when set
PATCHED_NAME = "DEFAULT_REQUEST_TIMEOUT"  # the name RemoteAction.run passes as timeout=
RASA_DEFAULT = getattr(rasa_action, PATCHED_NAME)
RASA_REMOTE_RUN = rasa_action.RemoteAction.run


async def _run_or_apologise(self: rasa_action.RemoteAction, output_channel: Any, nlg: Any,
                            tracker: Any, domain: Any) -> list[Event]:
    """``RemoteAction.run``; on failure the apology and a hand back to the user."""
    try:
        return await RASA_REMOTE_RUN(self, output_channel, nlg, tracker, domain)
    except rasa_action.ActionExecutionRejection:
        raise
    except Exception as exc:  # noqa: BLE001 - timeout, refused, HTTP error, bad response
        logger.warning("custom action %s failed for %s (%s: %s); the user gets the apology and "
                       "the conversation listens again", self.name(), tracker.sender_id,
                       type(exc).__name__, exc)
        return failure_events()


def failure_events() -> list[Event]:
    """What a failed custom action returns: the apology, then listen (no further prediction)."""
    return [BotUttered(text=guard.NO_REPLY_APOLOGY), FollowupAction(ACTION_LISTEN_NAME)]


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
    rasa_action.RemoteAction.run = _run_or_apologise


def current_seconds() -> float | None:
    """The timeout custom-action calls use now (None: no total limit)."""
    value: Any = getattr(rasa_action, PATCHED_NAME)
    return value.total if isinstance(value, aiohttp.ClientTimeout) else float(value)


def restore() -> None:
    """Back to Rasa's own timeout and failure handling (tests)."""
    setattr(rasa_action, PATCHED_NAME, RASA_DEFAULT)
    rasa_action.RemoteAction.run = RASA_REMOTE_RUN


def install_from_app(app: Any) -> float | None:
    """Apply the timeout of the running server's action endpoint; its seconds, or None when
    the app has no agent with an action endpoint (nothing to patch)."""
    agent = getattr(app.ctx, "agent", None)
    endpoint = getattr(agent, "action_endpoint", None)
    if not isinstance(endpoint, EndpointConfig):
        return None
    seconds = configured_seconds(endpoint)
    if current_seconds() != seconds or rasa_action.RemoteAction.run is not _run_or_apologise:
        apply(seconds)
        logger.info("Custom actions time out after %g s; a failed one ends the turn with the "
                    "apology", seconds)
    return seconds
