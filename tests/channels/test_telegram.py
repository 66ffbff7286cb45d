"""Telegram channel with secret_token: pure functions, then the real Rasa app on loopback with
a fake Bot API (tests/channels/fake_telegram.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from bot.channels.telegram_secure import (
    SECRET_TOKEN_HEADER,
    TelegramSecureInput,
    TelegramText,
    parse_update,
    secret_token_matches,
)
from bot.guard import EMPTY_REPLY, NO_REPLY_APOLOGY, TOO_LONG_REPLY
from tests.channels.fake_telegram import BOT_TOKEN, BOT_USERNAME, FakeTelegram

SECRET = "cchc-secret_Token-123"
WEBHOOK_URL = "https://cchc.example.gov.vn/webhooks/telegram/webhook"
CHAT_ID = 987654321
QUESTION = "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?"


def update(text: str = QUESTION, update_id: int = 10000) -> dict[str, Any]:
    """A real-shaped Telegram update: a private text message."""
    user = {"id": CHAT_ID, "is_bot": False, "first_name": "Lan", "last_name": "Nguyễn",
            "username": "lan_nguyen", "language_code": "vi"}
    return {"update_id": update_id,
            "message": {"message_id": 1365, "from": user,
                        "chat": {"id": CHAT_ID, "first_name": "Lan", "last_name": "Nguyễn",
                                 "username": "lan_nguyen", "type": "private"},
                        "date": 1703920000, "text": text}}


# --------------------------------------------------------------------------- pure functions


def test_secret_token_matches():
    assert secret_token_matches(SECRET, SECRET)
    assert not secret_token_matches(None, SECRET)
    assert not secret_token_matches("", SECRET)
    assert not secret_token_matches(SECRET + "x", SECRET)
    assert not secret_token_matches(SECRET.upper(), SECRET)


def test_parse_update_variants():
    assert parse_update(update()) == TelegramText(str(CHAT_ID), QUESTION)
    edited = {"update_id": 2, "edited_message": {**update()["message"], "text": "sửa lại"}}
    assert parse_update(edited) == TelegramText(str(CHAT_ID), "sửa lại")
    button = {"update_id": 3, "callback_query": {"id": "4", "from": {"id": CHAT_ID},
                                                 "message": update()["message"],
                                                 "data": "/affirm"}}
    assert parse_update(button) == TelegramText(str(CHAT_ID), "/affirm")
    location = update()
    del location["message"]["text"]
    location["message"]["location"] = {"longitude": 105.85, "latitude": 21.03}
    assert parse_update(location) == TelegramText(str(CHAT_ID), '{"lng":105.85, "lat":21.03}')
    sticker = update()
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "x"}
    assert parse_update(sticker) is None
    assert parse_update({"update_id": 5, "my_chat_member": {}}) is None
    assert parse_update("not a dict") is None


def test_from_credentials_names_missing_keys_and_checks_secret():
    with pytest.raises(ValueError, match="missing credentials webhook_url, secret_token"):
        TelegramSecureInput.from_credentials({"access_token": BOT_TOKEN, "webhook_url": " "})
    with pytest.raises(ValueError, match="missing credentials access_token"):
        TelegramSecureInput.from_credentials(None)
    with pytest.raises(ValueError, match="secret_token must be"):
        TelegramSecureInput.from_credentials({"access_token": BOT_TOKEN,
                                              "webhook_url": WEBHOOK_URL,
                                              "secret_token": "has spaces!"})
    channel = TelegramSecureInput.from_credentials({
        "access_token": BOT_TOKEN, "verify": BOT_USERNAME, "webhook_url": WEBHOOK_URL,
        "secret_token": SECRET})
    assert channel.name() == "telegram"
    assert channel.api_base_url == "https://api.telegram.org"
    assert SECRET not in repr(channel) and BOT_TOKEN not in repr(channel)


# --------------------------------------------------------------------------- through Rasa


@pytest.fixture
async def fake_telegram():
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def telegram_channel(fake_telegram):
    def make(**overrides: Any) -> TelegramSecureInput:
        creds = {"access_token": BOT_TOKEN, "verify": BOT_USERNAME, "webhook_url": WEBHOOK_URL,
                 "secret_token": SECRET, "api_base_url": fake_telegram.base_url, **overrides}
        return TelegramSecureInput.from_credentials(creds)

    return make


async def post_update(base_url: str, body: dict[str, Any],
                      secret: str | None = SECRET) -> tuple[int, str]:
    headers = {SECRET_TOKEN_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/webhooks/telegram/webhook", json=body,
                                headers=headers) as resp:
            return resp.status, await resp.text()


async def test_webhook_is_set_with_secret_on_start(channel_server, telegram_channel,
                                                   fake_telegram):
    async with channel_server(telegram_channel()) as (url, _):
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/webhooks/telegram/") as resp:
                assert (resp.status, await resp.json()) == (200, {"status": "ok"})
    assert fake_telegram.webhook_calls() == [{"url": WEBHOOK_URL, "secret_token": SECRET}]


async def test_update_with_secret_reaches_rasa_and_reply_is_sent(channel_server,
                                                                 telegram_channel,
                                                                 fake_telegram):
    async with channel_server(telegram_channel()) as (url, agent):
        assert await post_update(url, update()) == (200, "success")
    [message] = agent.messages
    # the conversation is namespaced; the reply still goes to the chat itself
    assert (message.text, message.sender_id, message.input_channel) == (
        QUESTION, f"telegram:{CHAT_ID}", "telegram")
    [sent] = fake_telegram.sent_messages()
    assert sent["chat_id"] == str(CHAT_ID)
    assert sent["text"] == f"Bạn hỏi: {QUESTION}"


@pytest.mark.parametrize(("text", "expected"), [
    ("cải cách hành chính " * 60, TOO_LONG_REPLY.format(length="1.199", limit="1.000")),
    ("   \n ", EMPTY_REPLY),
])
async def test_empty_or_too_long_message_gets_polite_reply_without_nlu(
        channel_server, telegram_channel, fake_telegram, text, expected):
    async with channel_server(telegram_channel()) as (url, agent):
        assert await post_update(url, update(text)) == (200, "success")
    assert agent.messages == []  # never reached NLU
    [sent] = fake_telegram.sent_messages()
    assert (sent["chat_id"], sent["text"]) == (str(CHAT_ID), expected)


async def test_turn_without_reply_gets_the_apology(channel_server, telegram_channel,
                                                   fake_telegram):
    async with channel_server(telegram_channel(), lambda _message: []) as (url, agent):
        assert await post_update(url, update()) == (200, "success")
    assert len(agent.messages) == 1
    [sent] = fake_telegram.sent_messages()
    assert (sent["chat_id"], sent["text"]) == (str(CHAT_ID), NO_REPLY_APOLOGY)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "-"])
async def test_update_without_right_secret_is_rejected_before_rasa(
        channel_server, telegram_channel, fake_telegram, caplog, secret):
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram_secure"):
        async with channel_server(telegram_channel()) as (url, agent):
            status, _ = await post_update(url, update(), secret=secret)
    assert status == 403
    assert agent.messages == []
    assert fake_telegram.sent_messages() == []
    assert [method for method, _ in fake_telegram.calls] == ["setWebhook"]  # not even getMe
    assert "Telegram update rejected" in caplog.text and SECRET not in caplog.text


async def test_set_webhook_route_needs_the_secret(channel_server, telegram_channel,
                                                  fake_telegram):
    async with channel_server(telegram_channel()) as (url, _):
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/webhooks/telegram/set_webhook") as resp:
                assert resp.status == 403
            async with session.post(f"{url}/webhooks/telegram/set_webhook",
                                    headers={SECRET_TOKEN_HEADER: SECRET}) as resp:
                assert resp.status == 200
    assert len(fake_telegram.webhook_calls()) == 2


async def test_long_reply_is_split_to_telegram_limit(channel_server, telegram_channel,
                                                     fake_telegram):
    sentence = "Ủy ban nhân dân tỉnh ban hành kế hoạch cải cách hành chính giai đoạn 2021-2025. "
    long_paragraph = (sentence * 120).strip()  # ≈ 9,700 characters, no paragraph break

    def answer(_message):
        return [{"text": long_paragraph + "\n\nNguồn: Kế hoạch số 12/KH-UBND"}]

    async with channel_server(telegram_channel(), answer) as (url, _):
        assert (await post_update(url, update()))[0] == 200
    texts = [sent["text"] for sent in fake_telegram.sent_messages()]
    assert len(texts) == 4  # 3 parts of the paragraph + the source line
    assert all(len(text) <= 4096 for text in texts)
    assert all(text.endswith(".") for text in texts[:3])
    assert texts[3] == "Nguồn: Kế hoạch số 12/KH-UBND"
    assert " ".join(texts[:3]) == long_paragraph


async def test_long_text_with_buttons_keeps_keyboard_on_last_part(channel_server,
                                                                  telegram_channel,
                                                                  fake_telegram):
    def answer(_message):
        return [{"text": "Chi tiết. " * 500,
                 "buttons": [{"title": "Có", "payload": "/affirm"},
                             {"title": "Không", "payload": "/deny"}]}]

    async with channel_server(telegram_channel(), answer) as (url, _):
        assert (await post_update(url, update()))[0] == 200
    sent = fake_telegram.sent_messages()
    assert len(sent) == 2 and all(len(s["text"]) <= 4096 for s in sent)
    assert "reply_markup" not in sent[0]
    keyboard = json.loads(sent[1]["reply_markup"])["inline_keyboard"]
    assert [b["callback_data"] for row in keyboard for b in row] == ["/affirm", "/deny"]


async def test_token_of_another_bot_is_refused(channel_server, telegram_channel,
                                               fake_telegram):
    async with channel_server(telegram_channel(verify="some_other_bot")) as (url, agent):
        assert await post_update(url, update()) == (200, "failed")
    assert agent.messages == []
    assert fake_telegram.sent_messages() == []


async def test_bot_identity_is_checked_once(channel_server, telegram_channel, fake_telegram):
    async with channel_server(telegram_channel()) as (url, agent):
        for update_id in (1, 2, 3):
            assert (await post_update(url, update(update_id=update_id)))[0] == 200
    assert len(agent.messages) == 3
    assert [method for method, _ in fake_telegram.calls].count("getMe") == 1
