"""The REST channel (bot.channels.rest.GuardedRestInput) through the real Rasa app on loopback:
the message guard, per-channel sender ids, a fixed input channel, the body limit, the apology."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.channels.rest import GuardedRestInput, RestRequestError, parse_rest_body
from bot.guard import EMPTY_REPLY, NO_REPLY_APOLOGY, TOO_LONG_REPLY, GuardSettings

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?"
ZALO_USER = "2512523625412515"


async def post(url: str, body: Any, raw: bytes | None = None,
               query: str = "") -> tuple[int, Any]:
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/webhooks/rest/webhook{query}", data=data,
                                headers={"Content-Type": "application/json"}) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text


def test_credentials_use_this_channel():
    for name in ("credentials.yml", "credentials.example.yml"):
        blocks = yaml.safe_load((ROOT / "bot" / name).read_text())
        assert "bot.channels.rest.GuardedRestInput" in blocks, name
        assert "rest" not in blocks, name  # Rasa's own REST channel skips the guard


@pytest.mark.parametrize(("raw", "error"), [
    (b"not json", "JSON"), (b"[1, 2]", "JSON object"), (b'{"message": "x"}', "'sender'"),
    (b'{"sender": "", "message": "x"}', "'sender'"),
    (b'{"sender": " lan", "message": "x"}', "'sender'"),
    (json.dumps({"sender": "a" * 129, "message": "x"}).encode(), "'sender'"),
    (b'{"sender": "lan\\u0000", "message": "x"}', "'sender'"),
    (b'{"sender": "lan", "message": 12}', "'message'"),
    (b'{"sender": "lan", "message": "x", "metadata": "y"}', "'metadata'"),
])
def test_parse_rest_body_refuses(raw, error):
    with pytest.raises(RestRequestError, match=error):
        parse_rest_body(raw)


def test_parse_rest_body_accepts():
    assert parse_rest_body(b'{"sender": 42, "message": "x"}').sender == "42"
    assert parse_rest_body(b'{"sender": "lan"}').message == ""
    assert parse_rest_body(b'{"sender": "a@b.vn", "message": "x", "metadata": {"k": 1}}'
                           ).metadata == {"k": 1}


async def test_message_is_namespaced_and_input_channel_is_not_the_clients(channel_server):
    async with channel_server(GuardedRestInput()) as (url, agent):
        status, replies = await post(url, {"sender": ZALO_USER, "message": QUESTION,
                                           "input_channel": "zalo", "metadata": {"page": "/"}})
    assert status == 200
    [message] = agent.messages
    # a REST client using a Zalo user's id gets its own conversation, not that user's
    assert message.sender_id == f"rest:{ZALO_USER}"
    assert message.input_channel == "rest"
    assert message.metadata == {"page": "/"}
    # the response shows the id the client sent
    assert replies == [{"recipient_id": ZALO_USER, "text": f"Bạn hỏi: {QUESTION}"}]


@pytest.mark.parametrize(("body", "expected"), [
    ({"sender": "lan", "message": "cải cách " * 200},
     TOO_LONG_REPLY.format(length="1.799", limit="1.000")),
    ({"sender": "lan", "message": "1a" * 8000},
     TOO_LONG_REPLY.format(length="16.000", limit="1.000")),
    ({"sender": "lan", "message": ""}, EMPTY_REPLY),
    ({"sender": "lan", "message": " \n\t "}, EMPTY_REPLY),
    ({"sender": "lan"}, EMPTY_REPLY),
])
async def test_empty_or_too_long_message_gets_polite_reply_without_nlu(channel_server, body,
                                                                       expected):
    async with channel_server(GuardedRestInput()) as (url, agent):
        status, replies = await post(url, body)
    assert (status, replies) == (200, [{"recipient_id": "lan", "text": expected}])
    assert agent.messages == []


async def test_limit_comes_from_the_settings(channel_server):
    channel = GuardedRestInput(GuardSettings(max_message_chars=20))
    async with channel_server(channel) as (url, agent):
        _, ok = await post(url, {"sender": "lan", "message": "x" * 20})
        _, refused = await post(url, {"sender": "lan", "message": "x" * 21})
    assert ok == [{"recipient_id": "lan", "text": "Bạn hỏi: " + "x" * 20}]
    assert refused[0]["text"] == TOO_LONG_REPLY.format(length="21", limit="20")
    assert len(agent.messages) == 1


async def test_bad_body_is_a_400(channel_server):
    async with channel_server(GuardedRestInput()) as (url, agent):
        status, body = await post(url, None, raw=b'{"message": "no sender"}')
    assert status == 400 and "'sender'" in body["error"]
    assert agent.messages == []


async def test_over_size_body_is_refused_with_413_and_the_server_goes_on(channel_server):
    huge = {"sender": "lan", "message": "cải cách hành chính " * 5000}  # ≈ 110 KB of JSON
    async with channel_server(GuardedRestInput()) as (url, agent):
        status, _ = await post(url, huge)
        assert status == 413
        status, replies = await post(url, {"sender": "lan", "message": QUESTION})
    assert status == 200 and replies[0]["text"] == f"Bạn hỏi: {QUESTION}"
    assert [m.text for m in agent.messages] == [QUESTION]


async def test_turn_without_reply_gets_the_apology(channel_server, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.channels.turn"):
        async with channel_server(GuardedRestInput(), lambda _message: []) as (url, agent):
            status, replies = await post(url, {"sender": "lan", "message": QUESTION})
    assert (status, replies) == (200, [{"recipient_id": "lan", "text": NO_REPLY_APOLOGY}])
    assert len(agent.messages) == 1
    assert "no reply to a message from rest:lan" in caplog.text


async def test_rasa_error_gets_the_apology_not_a_500(channel_server):
    def answer(_message):
        raise RuntimeError("DIET exploded")

    async with channel_server(GuardedRestInput(), answer) as (url, _):
        status, replies = await post(url, {"sender": "lan", "message": QUESTION})
    assert (status, replies) == (200, [{"recipient_id": "lan", "text": NO_REPLY_APOLOGY}])


async def test_restart_command_needs_no_reply(channel_server):
    async with channel_server(GuardedRestInput(), lambda _message: []) as (url, _):
        status, replies = await post(url, {"sender": "lan", "message": "/restart"})
    assert (status, replies) == (200, [])


async def test_stream_mode_streams_the_same_replies(channel_server):
    def answer(message):
        return [{"text": "một"}, {"text": "hai"}]

    async with channel_server(GuardedRestInput(), answer) as (url, agent):
        status, text = await post(url, {"sender": "lan", "message": QUESTION},
                                  query="?stream=true")
        _, refused = await post(url, {"sender": "lan", "message": " "}, query="?stream=true")
    assert status == 200
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == [{"recipient_id": "lan", "text": "một"},
                     {"recipient_id": "lan", "text": "hai"}]
    assert refused == {"recipient_id": "lan", "text": EMPTY_REPLY}  # one line: one object
    assert agent.messages[0].sender_id == "rest:lan"
