"""Rasa → action server, in the Rasa process: bot/endpoints.yml read by Rasa itself (env vars
expanded), the X-Action-Token header actually sent, and the action-call timeout of
bot/action_timeout.py (a monkeypatch: these tests fail when Rasa's internals change)."""

from __future__ import annotations

import asyncio
import inspect
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import rasa
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from bot import action_timeout

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ROOT / "bot" / "endpoints.yml"
TOKEN = "s3cret-action-token"


class FakeActionServer:
    """A tiny local action server that records each call's headers and path."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self._webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append({"path": request.path, "headers": dict(request.headers),
                           "action": body["next_action"], "sender": body["sender_id"]})
        await asyncio.sleep(self.delay)
        return web.json_response({"events": [], "responses": [{"text": "từ action server"}]})


@pytest.fixture
async def action_server():
    servers: list[FakeActionServer] = []

    async def start(delay: float = 0.0) -> FakeActionServer:
        server = FakeActionServer(delay)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
def endpoint_env(monkeypatch, tmp_path):
    def set_env(port: int, token: str | None = TOKEN) -> None:
        monkeypatch.setenv("ACTION_SERVER_HOST", "127.0.0.1")
        monkeypatch.setenv("ACTION_SERVER_PORT", str(port))
        monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "tracker.db"))
        if token is None:
            monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
        else:
            monkeypatch.setenv("ACTION_SERVER_TOKEN", token)

    return set_env


@pytest.fixture
def restore_timeout():
    yield
    action_timeout.restore()


async def run_action(endpoints: AvailableEndpoints, name: str = "action_answer_question"):
    tracker = DialogueStateTracker.from_events("rest:lan", [])
    return await RemoteAction(name, endpoints.action).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker,
        Domain.empty())


async def test_rasa_sends_the_shared_secret_from_the_environment(action_server, endpoint_env):
    server = await action_server()
    endpoint_env(server.port)
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))  # how `rasa run` reads it
    events = await run_action(endpoints)
    [call] = server.calls
    assert call["path"] == "/webhook" and call["action"] == "action_answer_question"
    assert call["headers"]["X-Action-Token"] == TOKEN
    assert call["sender"] == "rest:lan"
    assert [e.text for e in events if isinstance(e, BotUttered)] == ["từ action server"]


def test_rasa_refuses_to_start_without_the_secret(endpoint_env):
    endpoint_env(5055, token=None)
    with pytest.raises(RasaException, match="ACTION_SERVER_TOKEN"):
        AvailableEndpoints.read_endpoints(str(ENDPOINTS))


def test_timeout_is_configured_in_endpoints_yml_or_the_environment(endpoint_env):
    endpoint_env(5055)
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    assert action_timeout.configured_seconds(endpoints.action, {}) == 1.5
    assert action_timeout.configured_seconds(None, {}) == 1.5  # the default
    env = {"ACTION_TIMEOUT_SECONDS": "4"}
    assert action_timeout.configured_seconds(endpoints.action, env) == 4.0
    assert action_timeout.configured_seconds(endpoints.action, {"ACTION_TIMEOUT_SECONDS": " "}
                                             ) == 1.5
    with pytest.raises(ValueError, match="ACTION_TIMEOUT_SECONDS must be a number"):
        action_timeout.configured_seconds(endpoints.action, {"ACTION_TIMEOUT_SECONDS": "x"})
    endpoints.action.kwargs["timeout"] = "abc"
    with pytest.raises(ValueError, match="action_endpoint.timeout must be a number of seconds"):
        action_timeout.configured_seconds(endpoints.action, {})
    endpoints.action.kwargs["timeout"] = 0
    with pytest.raises(ValueError, match="positive"):
        action_timeout.configured_seconds(endpoints.action, {})


def test_rasa_internals_still_match_the_patch():
    """What bot/action_timeout.py relies on; if this fails, re-read RemoteAction.run."""
    assert rasa.__version__ == "3.6.21"
    import rasa.core.actions.action as rasa_action

    assert hasattr(rasa_action, action_timeout.PATCHED_NAME)
    assert f"timeout={action_timeout.PATCHED_NAME}" in inspect.getsource(RemoteAction.run)


async def test_a_slow_action_server_is_given_up_after_the_timeout(action_server, endpoint_env,
                                                                  restore_timeout, monkeypatch):
    monkeypatch.delenv("ACTION_TIMEOUT_SECONDS", raising=False)
    server = await action_server(delay=5)
    endpoint_env(server.port)
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(
        action_endpoint=endpoints.action)))
    assert action_timeout.install_from_app(app) == 1.5
    assert action_timeout.current_seconds() == 1.5
    started = time.monotonic()
    events = await run_action(endpoints)
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.5, elapsed  # not Rasa's 300 s
    assert len(server.calls) == 1
    assert events == action_timeout.failure_events()  # the apology, then listen


async def test_an_unreachable_action_server_ends_the_turn_listening(endpoint_env,
                                                                    restore_timeout):
    """Without the hand back, Rasa predicted the fallback action again and again until its
    circuit breaker stopped the turn, and that conversation stayed stuck."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import FollowupAction

    from tests.support.services import free_port

    endpoint_env(free_port())  # nothing listens there
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    action_timeout.apply(1.5)
    events = await run_action(endpoints, "action_greet")
    assert [e.text for e in events if isinstance(e, BotUttered)] == [
        action_timeout.guard.NO_REPLY_APOLOGY]
    assert FollowupAction(ACTION_LISTEN_NAME) in events
    action_timeout.restore()
    with pytest.raises(RasaException):  # what Rasa alone does
        await run_action(endpoints, "action_greet")


async def test_a_rejected_action_still_goes_to_rasa(endpoint_env, restore_timeout, monkeypatch):
    from rasa.core.actions.action import ActionExecutionRejection

    async def reject(*args, **kwargs):
        raise ActionExecutionRejection("action_answer_question", "form validation")

    monkeypatch.setattr(action_timeout, "RASA_REMOTE_RUN", reject)
    endpoint_env(5055)
    action_timeout.apply(1.5)
    with pytest.raises(ActionExecutionRejection):
        await run_action(AvailableEndpoints.read_endpoints(str(ENDPOINTS)))


async def test_a_fast_action_server_is_unaffected(action_server, endpoint_env, restore_timeout):
    server = await action_server(delay=0.2)
    endpoint_env(server.port)
    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    action_timeout.apply(1.5)
    events = await run_action(endpoints)
    assert [e.text for e in events if isinstance(e, BotUttered)] == ["từ action server"]


def test_nothing_to_patch_without_an_agent(restore_timeout):
    assert action_timeout.install_from_app(SimpleNamespace(ctx=SimpleNamespace())) is None
    assert action_timeout.current_seconds() == 300  # Rasa's own default untouched
