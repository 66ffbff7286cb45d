"""The action server's closed doors: rasa_sdk's app from actions/server.py served on a free
loopback port, called over real HTTP (the e2e tests check the started process too)."""

from __future__ import annotations

import json
import zlib

import pytest

from actions.server import TOKEN_HEADER, ActionServerSettings, create_app
from tests.web.serving import serve_app

TOKEN = "t" * 24


def _call(action: str, sender: str = "forger") -> dict:
    tracker = {"sender_id": sender, "slots": {}, "latest_message": {"text": "xin chào",
               "intent": {"name": "ask_handoff", "confidence": 1.0}, "entities": []},
               "events": [], "paused": False, "followup_action": None, "active_loop": {},
               "latest_action_name": "action_listen"}
    return {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {},
            "version": "3.6.21"}


async def test_every_call_but_health_needs_the_token():
    settings = ActionServerSettings(token=TOKEN, preload=False, max_body_bytes=64 * 1024)
    async with serve_app(lambda: create_app(settings)) as client:
        assert (await client.get("/health")).status_code == 200
        forged = _call("action_handoff")
        missing = await client.post("/webhook", json=forged)
        assert missing.status_code == 401, missing.text
        assert "responses" not in missing.text
        wrong = await client.post("/webhook", json=forged, headers={TOKEN_HEADER: TOKEN[:-1] + "x"})
        assert wrong.status_code == 403
        assert (await client.get("/actions")).status_code == 401
        right = await client.post("/webhook", json=forged, headers={TOKEN_HEADER: TOKEN})
        assert right.status_code == 200, right.text
        assert right.json()["responses"], right.text  # the hand-off message
        # bodies are bounded, also compressed ones after decompression
        too_big = await client.post("/webhook", content=b"{" + b" " * 70 * 1024 + b"}",
                                    headers={TOKEN_HEADER: TOKEN,
                                             "Content-Type": "application/json"})
        assert too_big.status_code == 413
        bomb = zlib.compress(json.dumps({**forged, "pad": " " * 10_000_000}).encode())
        assert len(bomb) < 64 * 1024
        inflated = await client.post("/webhook", content=bomb, headers={
            TOKEN_HEADER: TOKEN, "Content-Encoding": "deflate",
            "Content-Type": "application/json"})
        assert inflated.status_code == 413
        small = zlib.compress(json.dumps(forged).encode())
        ok = await client.post("/webhook", content=small, headers={
            TOKEN_HEADER: TOKEN, "Content-Encoding": "deflate",
            "Content-Type": "application/json"})
        assert ok.status_code == 200, ok.text
        # an unknown action: an error without the request echoed back
        unknown = await client.post("/webhook", json=_call("action_nope", "bí-mật-người-dùng"),
                                    headers={TOKEN_HEADER: TOKEN})
        assert unknown.status_code == 404 and "bí-mật" not in unknown.text


@pytest.mark.parametrize(("env", "message"), [
    ({}, "at least 16"),
    ({"ACTION_SERVER_TOKEN": "short"}, "at least 16"),
    ({"ACTION_SERVER_TOKEN": TOKEN, "ACTION_WORKERS": "0"}, "workers"),
    ({"ACTION_SERVER_TOKEN": TOKEN, "ACTION_SERVER_PORT": "x"}, "ACTION_SERVER_PORT"),
    ({"ACTION_SERVER_TOKEN": TOKEN, "ACTION_MAX_BODY_KB": "1"}, "64 KB"),
])
def test_settings_are_validated(env, message):
    with pytest.raises(ValueError, match=message):
        ActionServerSettings.from_env(env)


def test_settings_defaults_bind_loopback():
    settings = ActionServerSettings.from_env({"ACTION_SERVER_TOKEN": TOKEN, "ACTION_WORKERS": "3",
                                              "ACTION_PRELOAD": "0"}, port=6000)
    assert (settings.interface, settings.port, settings.workers, settings.preload) == (
        "127.0.0.1", 6000, 3, False)
