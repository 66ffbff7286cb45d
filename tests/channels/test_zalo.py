"""Zalo OA channel: pure functions, then the real Rasa app on loopback talking to a fake Zalo
API (tests/channels/fake_zalo.py)."""

from __future__ import annotations

import json
import logging
import stat
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.text import choice_payload, render_buttons, split_message
from bot.channels.zalo import (
    SIGNATURE_HEADER,
    UNSUPPORTED_MESSAGE_REPLY,
    ZaloInput,
    ZaloSettings,
    body_timestamp,
    compute_signature,
    event_time_problem,
    parse_event,
    signature_header,
    verify_signature,
)
from bot.channels.zalo_tokens import FileTokenStore, ZaloTokens
from bot.guard import EMPTY_REPLY, NO_REPLY_APOLOGY, TOO_LONG_REPLY
from tests.channels.fake_zalo import APP_ID, APP_SECRET, FakeZalo

OA_SECRET = "oa-secret-key-for-tests"
USER_ID = "2512523625412515"
QUESTION = "Năm 2018 tỉnh Quảng Bình kiểm tra cải cách hành chính tại những đơn vị nào?"


def now_ms(offset_seconds: float = 0) -> str:
    return str(int((time.time() + offset_seconds) * 1000))


def text_event(text: str = QUESTION, msg_id: str = "msg-1", user_id: str = USER_ID,
               event_name: str = "user_send_text", timestamp: str | None = None
               ) -> dict[str, Any]:
    """A real-shaped ``user_send_text`` event, stamped now (Zalo stamps milliseconds)."""
    return {"app_id": APP_ID, "user_id_by_app": "552177279252557300",
            "event_name": event_name, "sender": {"id": user_id},
            "recipient": {"id": "579745863508352884"},
            "message": {"text": text, "msg_id": msg_id}, "timestamp": timestamp or now_ms()}


def signed(event: dict[str, Any], secret: str = OA_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(event, ensure_ascii=False).encode("utf-8")
    header = signature_header(APP_ID, raw, str(event["timestamp"]), secret)
    return raw, {SIGNATURE_HEADER: header, "Content-Type": "application/json"}


# --------------------------------------------------------------------------- pure functions


def test_signature_is_sha256_of_app_id_body_timestamp_secret():
    import hashlib

    raw = b'{"event_name":"user_send_text","timestamp":"1703920000000"}'
    expected = hashlib.sha256(
        (APP_ID + raw.decode() + "1703920000000" + OA_SECRET).encode()).hexdigest()
    assert compute_signature(APP_ID, raw, "1703920000000", OA_SECRET) == expected
    assert verify_signature(f"mac={expected}", APP_ID, raw, "1703920000000", OA_SECRET)
    assert verify_signature(expected.upper(), APP_ID, raw, "1703920000000", OA_SECRET)


@pytest.mark.parametrize("header, body, timestamp", [
    (None, b"{}", "1"),                                   # missing header
    ("", b"{}", "1"),
    ("mac=" + "0" * 64, b"{}", "1"),                      # wrong mac
    ("mac=SIGNED", b'{"x": 2}', "1"),                     # body changed after signing
    ("mac=SIGNED", b'{"x": 1}', "2"),                     # other timestamp
    ("mac=SIGNED", b'{"x": 1}', None),                    # no timestamp at all
])
def test_verify_signature_rejects(header, body, timestamp):
    good = signature_header(APP_ID, b'{"x": 1}', "1", OA_SECRET)
    header = good if header == "mac=SIGNED" else header
    assert not verify_signature(header, APP_ID, body, timestamp, OA_SECRET)


def test_body_timestamp():
    assert body_timestamp(b'{"timestamp": "1703920000000"}') == "1703920000000"
    assert body_timestamp(b'{"timestamp": 1703920000000}') == "1703920000000"
    assert body_timestamp(b'{"event_name": "follow"}') is None
    assert body_timestamp(b"not json") is None


def test_parse_text_event():
    event = parse_event(text_event("  Xin chào  ", timestamp="1703920000000"))
    assert event.is_text
    assert (event.sender_id, event.text, event.message_id) == (USER_ID, "Xin chào", "msg-1")
    assert event.oa_id == "579745863508352884"
    assert event.timestamp == "1703920000000"
    # a blank text is still a text event: the guard answers it with a prompt
    blank = parse_event(text_event("   "))
    assert blank.is_text and blank.text == ""


@pytest.mark.parametrize(("timestamp", "problem"), [
    ("1700000000000", None),                        # now
    ("1699999701000", None),                        # 299 s ago
    ("1699999699000", "sent 301 s ago (limit 300 s)"),
    ("1700000119000", None),                        # 119 s ahead: clock skew tolerated
    ("1700000121000", "stamped 121 s in the future (limit 120 s; check this server's clock)"),
    ("1700000000", None),                           # seconds, not milliseconds
    ("abc", "no valid timestamp"), (None, "no valid timestamp"),
])
def test_event_time_problem(timestamp, problem):
    assert event_time_problem(timestamp, 1700000000.0, 300, 120) == problem


@pytest.mark.parametrize("payload", [
    {"event_name": "user_send_image", "sender": {"id": "1"},
     "message": {"attachments": [{"type": "image"}], "msg_id": "m"}},
    {"event_name": "follow", "follower": {"id": "1"}},
    {"event_name": "user_send_text", "sender": {"id": "1"}, "message": {"attachments": []}},
])
def test_parse_non_text_events(payload):
    assert not parse_event(payload).is_text


@pytest.mark.parametrize("payload", [[], "x", {}, {"event_name": ""}])
def test_parse_event_rejects_malformed(payload):
    with pytest.raises(ValueError, match="Zalo event"):
        parse_event(payload)


@pytest.mark.parametrize("limit", [5, 40, 120, 2000])
def test_split_message_keeps_every_word_within_limit(limit):
    text = ("Điều 1. Phạm vi điều chỉnh.\n\nKế hoạch cải cách hành chính năm 2018 gồm: "
            "cải cách thể chế; cải cách thủ tục hành chính! Ai ký? Chủ tịch UBND tỉnh.\n"
            "Nguồn: Quyết định số 123/QĐ-UBND " + "rấtdài" * 30)
    parts = split_message(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_split_message_prefers_paragraph_then_sentence():
    para1, para2 = "A" * 900 + ".", "B" * 900 + "."
    assert split_message(f"{para1}\n\n{para2}", 2000) == [f"{para1}\n\n{para2}"]
    assert split_message(f"{para1}\n\n{para2}", 1000) == [para1, para2]
    sentences = "Câu một dài. " * 10  # 130 chars
    parts = split_message(sentences, 50)
    assert all(part.endswith(".") for part in parts)
    assert split_message("", 10) == []
    assert split_message("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    with pytest.raises(ValueError, match="limit"):
        split_message("x", 0)


def test_buttons_as_numbered_lines_and_choice():
    buttons = [{"title": "Năm 2018", "payload": "/ask_year{\"year\": 2018}"},
               {"title": "Năm 2019", "payload": "/ask_year{\"year\": 2019}"}]
    assert render_buttons("Bạn muốn hỏi năm nào?", buttons) == (
        "Bạn muốn hỏi năm nào?\n1. Năm 2018\n2. Năm 2019")
    assert choice_payload("2", buttons) == "/ask_year{\"year\": 2019}"
    assert choice_payload("3", buttons) is None
    assert choice_payload("hai", buttons) is None


def credentials(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    creds = {"app_id": APP_ID, "oa_secret_key": OA_SECRET, "app_secret": APP_SECRET,
             "access_token": "access-1", "refresh_token": "refresh-1",
             "token_file": str(tmp_path / "zalo-tokens.json")}
    creds.update(overrides)
    return creds


def test_from_credentials_names_missing_keys(tmp_path):
    with pytest.raises(ValueError, match="missing credentials app_id, oa_secret_key"):
        ZaloInput.from_credentials(credentials(tmp_path, app_id=None, oa_secret_key=""))
    with pytest.raises(ValueError, match="access_token, refresh_token"):
        ZaloInput.from_credentials(credentials(tmp_path, access_token="", refresh_token=None))
    with pytest.raises(ValueError, match="missing credentials"):
        ZaloInput.from_credentials(None)
    with pytest.raises(ValueError, match="max_message_length"):
        ZaloInput.from_credentials(credentials(tmp_path, max_message_length=0))


def test_from_credentials_defaults_and_stored_tokens(tmp_path):
    channel = ZaloInput.from_credentials(credentials(tmp_path))
    assert channel.name() == "zalo"
    assert channel.settings.api_base_url == "https://openapi.zalo.me"
    assert channel.settings.oauth_base_url == "https://oauth.zaloapp.com"
    assert channel.settings.max_message_length == 2000
    assert OA_SECRET not in repr(channel.settings) and APP_SECRET not in repr(channel.settings)
    # Tokens stored by an earlier run win, and the credentials may then omit them.
    (tmp_path / "zalo-tokens.json").write_text(
        json.dumps({"access_token": "stored-a", "refresh_token": "stored-r"}))
    channel = ZaloInput.from_credentials(credentials(tmp_path, access_token=None,
                                                     refresh_token=None))
    assert channel.client.tokens.current == ZaloTokens("stored-a", "stored-r")
    # handled event ids are kept beside the token file unless configured
    assert channel.settings.seen_events_db == tmp_path / "zalo-seen-events.sqlite3"


async def test_token_store_writes_atomically_with_0600(tmp_path):
    path = tmp_path / "state" / "tokens.json"
    store = FileTokenStore(path, ZaloTokens("a1", "r1"))
    await store.save(ZaloTokens("a2", "r2"))
    assert json.loads(path.read_text()) == {"access_token": "a2", "refresh_token": "r2"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp files left
    assert await FileTokenStore(path, None).load() == ZaloTokens("a2", "r2")


# --------------------------------------------------------------------------- through Rasa


@pytest.fixture
async def fake_zalo():
    fake = FakeZalo()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def zalo_channel(tmp_path, fake_zalo):
    def make(**overrides: Any) -> ZaloInput:
        settings = {"api_base_url": fake_zalo.base_url, "oauth_base_url": fake_zalo.base_url,
                    "backoff_seconds": 0.05, "max_backoff_seconds": 0.2, **overrides}
        return ZaloInput.from_credentials(credentials(tmp_path, **settings))

    return make


async def post_event(base_url: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/webhooks/zalo/webhook", data=raw,
                                headers=headers) as resp:
            return resp.status, await resp.json()


async def test_health(channel_server, zalo_channel):
    async with channel_server(zalo_channel()) as (url, _):
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/webhooks/zalo/") as resp:
                assert resp.status == 200
                assert await resp.json() == {"status": "ok"}


async def test_signed_text_reaches_rasa_and_reply_is_posted(channel_server, zalo_channel,
                                                             fake_zalo):
    channel = zalo_channel()
    async with channel_server(channel) as (url, agent):
        status, body = await post_event(url, *signed(text_event()))
        assert (status, body) == (200, {"status": "ok"})
        await channel.wait_for_pending(timeout=10)

    [message] = agent.messages
    # the conversation is namespaced; the reply still goes to the Zalo user id
    assert (message.text, message.sender_id, message.input_channel) == (
        QUESTION, f"zalo:{USER_ID}", "zalo")
    assert message.metadata["channel"] == "zalo"
    assert message.metadata["message_id"] == "msg-1"
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": f"Bạn hỏi: {QUESTION}"}]
    assert fake_zalo.message_calls[0]["access_token"] == "access-1"
    assert fake_zalo.message_calls[0]["json"] == {
        "recipient": {"user_id": USER_ID}, "message": {"text": f"Bạn hỏi: {QUESTION}"}}


@pytest.mark.parametrize("case", ["missing", "wrong_secret", "tampered", "garbage"])
async def test_bad_signature_is_rejected_before_rasa(channel_server, zalo_channel, fake_zalo,
                                                     caplog, case):
    raw, headers = signed(text_event(), secret="not-the-oa-secret" if case == "wrong_secret"
                          else OA_SECRET)
    if case == "missing":
        del headers[SIGNATURE_HEADER]
    elif case == "tampered":
        raw = raw.replace("Quảng Bình".encode(), "Hà Nội".encode())
    elif case == "garbage":
        headers[SIGNATURE_HEADER] = "mac=not-hex"
    channel = zalo_channel()
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo"):
        async with channel_server(channel) as (url, agent):
            status, _ = await post_event(url, raw, headers)
            await channel.wait_for_pending(timeout=10)
    assert status == 401
    assert agent.messages == []
    assert fake_zalo.message_calls == []
    assert "Zalo webhook rejected" in caplog.text
    assert OA_SECRET not in caplog.text and "access-1" not in caplog.text


async def test_image_gets_polite_reply_and_follow_is_ignored(channel_server, zalo_channel,
                                                             fake_zalo):
    image = text_event(event_name="user_send_image", msg_id="img-1")
    image["message"] = {"msg_id": "img-1", "attachments": [{"type": "image"}]}
    follow = {"app_id": APP_ID, "event_name": "follow", "follower": {"id": USER_ID},
              "oa_id": "579745863508352884", "timestamp": "1703920000001"}
    channel = zalo_channel()
    async with channel_server(channel) as (url, agent):
        for event in (image, follow):
            status, _ = await post_event(url, *signed(event))
            assert status == 200
        await channel.wait_for_pending(timeout=10)
    assert agent.messages == []
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": UNSUPPORTED_MESSAGE_REPLY}]


async def test_redelivered_event_is_handled_once(channel_server, zalo_channel, fake_zalo):
    channel = zalo_channel()
    async with channel_server(channel) as (url, agent):
        for _ in range(2):
            assert (await post_event(url, *signed(text_event())))[0] == 200
        await channel.wait_for_pending(timeout=10)
    assert len(agent.messages) == 1
    assert len(fake_zalo.delivered) == 1


@pytest.mark.parametrize("failure", ["expired", "http401"])
async def test_expired_token_is_refreshed_stored_and_send_retried(
        channel_server, zalo_channel, fake_zalo, tmp_path, failure):
    if failure == "expired":
        fake_zalo.expire_access_token()  # Zalo answers {"error": -216}
    else:
        fake_zalo.fail_next("http401")
    channel = zalo_channel()
    async with channel_server(channel) as (url, _):
        assert (await post_event(url, *signed(text_event())))[0] == 200
        await channel.wait_for_pending(timeout=10)

    assert fake_zalo.refresh_calls == [{"secret_key": APP_SECRET, "app_id": APP_ID,
                                        "grant_type": "refresh_token",
                                        "refresh_token": "refresh-1"}]
    assert [c["access_token"] for c in fake_zalo.message_calls] == ["access-1", "access-2"]
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": f"Bạn hỏi: {QUESTION}"}]
    token_file = tmp_path / "zalo-tokens.json"
    assert json.loads(token_file.read_text()) == {"access_token": "access-2",
                                                   "refresh_token": "refresh-2"}
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    # A restart (new channel from the same credentials) keeps the refreshed tokens.
    assert zalo_channel().client.tokens.current == ZaloTokens("access-2", "refresh-2")


async def test_failed_refresh_is_logged_and_not_delivered(channel_server, zalo_channel,
                                                          fake_zalo, caplog):
    fake_zalo.expire_access_token()
    fake_zalo.refresh_token = "someone-else-used-ours"
    channel = zalo_channel()
    with caplog.at_level(logging.INFO, logger="bot.channels.zalo"):
        async with channel_server(channel) as (url, _):
            assert (await post_event(url, *signed(text_event())))[0] == 200
            await channel.wait_for_pending(timeout=10)
    assert fake_zalo.delivered == []
    assert len(fake_zalo.refresh_calls) == 1
    assert "token refresh failed" in caplog.text
    assert APP_SECRET not in caplog.text and "refresh-1" not in caplog.text


@pytest.mark.parametrize("failure", ["5xx", "disconnect"])
async def test_transient_failure_is_retried_with_backoff(channel_server, zalo_channel,
                                                         fake_zalo, caplog, failure):
    fake_zalo.fail_next(failure)
    channel = zalo_channel()
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo"):
        async with channel_server(channel) as (url, _):
            assert (await post_event(url, *signed(text_event())))[0] == 200
            await channel.wait_for_pending(timeout=10)
    assert len(fake_zalo.message_calls) == 2
    assert len(fake_zalo.delivered) == 1
    assert "retry 1/2" in caplog.text
    first, second = (call["at"] for call in fake_zalo.message_calls)
    assert second - first >= 0.05  # backoff_seconds in this test


async def test_persistent_5xx_gives_up_after_max_attempts(channel_server, zalo_channel,
                                                          fake_zalo, caplog):
    fake_zalo.fail_next("5xx", times=5)
    channel = zalo_channel(max_attempts=3, backoff_seconds=0.05, max_backoff_seconds=1)
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo"):
        async with channel_server(channel) as (url, _):
            assert (await post_event(url, *signed(text_event())))[0] == 200
            await channel.wait_for_pending(timeout=10)
    assert len(fake_zalo.message_calls) == 3
    times = [call["at"] for call in fake_zalo.message_calls]
    # asyncio may wake a sleep up to its clock resolution early: allow 10 ms of slack.
    assert times[1] - times[0] >= 0.04 and times[2] - times[1] >= 0.09  # exponential
    assert fake_zalo.delivered == []
    assert "not delivered" in caplog.text and "HTTP 503" in caplog.text


async def test_long_answer_is_split_within_limit(channel_server, zalo_channel, fake_zalo):
    paragraph = "Tỉnh Quảng Bình đã kiểm tra công tác cải cách hành chính tại Sở Nội vụ. " * 12
    long_answer = "\n\n".join([paragraph.strip()] * 5)  # ≈ 4,400 characters

    def answer(_message):
        return [{"text": long_answer}]

    channel = zalo_channel()
    async with channel_server(channel, answer) as (url, _):
        assert (await post_event(url, *signed(text_event())))[0] == 200
        await channel.wait_for_pending(timeout=10)
    texts = [d["text"] for d in fake_zalo.delivered]
    assert len(texts) >= 3
    assert all(len(text) <= 2000 for text in texts)
    assert all(text.endswith(".") for text in texts)
    assert "".join("".join(texts).split()) == "".join(long_answer.split())


async def test_outside_window_is_logged_and_not_retried(channel_server, zalo_channel,
                                                        fake_zalo, caplog):
    fake_zalo.fail_next("outside_window")
    channel = zalo_channel()
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo"):
        async with channel_server(channel) as (url, _):
            assert (await post_event(url, *signed(text_event())))[0] == 200
            await channel.wait_for_pending(timeout=10)
    assert len(fake_zalo.message_calls) == 1
    assert fake_zalo.refresh_calls == []
    [record] = [r for r in caplog.records if "interaction window" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert USER_ID in record.getMessage() and "-230" in record.getMessage()


async def test_buttons_are_numbered_and_a_number_selects_the_payload(channel_server,
                                                                     zalo_channel, fake_zalo):
    buttons = [{"title": "Năm 2018", "payload": "/inform{\"year\": \"2018\"}"},
               {"title": "Năm 2019", "payload": "/inform{\"year\": \"2019\"}"}]

    def answer(message):
        if message.text == QUESTION:
            return [{"text": "Bạn muốn hỏi năm nào?", "buttons": buttons}]
        return [{"text": "OK"}]

    channel = zalo_channel()
    async with channel_server(channel, answer) as (url, agent):
        assert (await post_event(url, *signed(text_event())))[0] == 200
        await channel.wait_for_pending(timeout=10)
        assert (await post_event(url, *signed(text_event("2", msg_id="msg-2"))))[0] == 200
        await channel.wait_for_pending(timeout=10)
    assert fake_zalo.delivered[0]["text"] == "Bạn muốn hỏi năm nào?\n1. Năm 2018\n2. Năm 2019"
    assert agent.messages[1].text == "/inform{\"year\": \"2019\"}"


async def test_errors_in_background_processing_are_logged_and_apologised(
        channel_server, zalo_channel, fake_zalo, caplog):
    def answer(_message):
        raise RuntimeError("boom in the dialogue")

    channel = zalo_channel()
    with caplog.at_level(logging.ERROR, logger="bot.channels"):
        async with channel_server(channel, answer) as (url, _):
            assert (await post_event(url, *signed(text_event())))[0] == 200
            await channel.wait_for_pending(timeout=10)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"error while handling a message from zalo:{USER_ID}" in record.getMessage()
    assert "boom in the dialogue" in str(record.exc_info[1])
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": NO_REPLY_APOLOGY}]


def test_backoff_is_exponential_and_capped(tmp_path):
    channel = ZaloInput.from_credentials(credentials(tmp_path, backoff_seconds=0.5,
                                                     max_backoff_seconds=3))
    assert [channel.client._backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3]


def test_settings_validation():
    with pytest.raises(ValueError, match="max_attempts"):
        ZaloSettings(app_id="a", oa_secret_key="s", app_secret="x", token_file=Path("t"),
                     max_attempts=0)


# --------------------------------------------------------------------------- replays, the guard


@pytest.mark.parametrize(("offset", "reason"), [(-301, "ago"), (-86400 * 30, "ago"),
                                                (+600, "in the future")])
async def test_stale_or_future_event_is_refused_before_rasa(channel_server, zalo_channel,
                                                            fake_zalo, caplog, offset, reason):
    event = text_event(timestamp=now_ms(offset))
    channel = zalo_channel()
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo"):
        async with channel_server(channel) as (url, agent):
            status, body = await post_event(url, *signed(event))
            await channel.wait_for_pending(timeout=10)
    # acknowledged (Zalo retries anything but 200), never handled
    assert status == 200 and body["status"] == "ignored" and reason in body["reason"]
    assert agent.messages == [] and fake_zalo.message_calls == []
    assert "Zalo webhook: event refused" in caplog.text and reason in caplog.text


async def test_signed_event_without_usable_timestamp_is_a_400(channel_server, zalo_channel):
    channel = zalo_channel()
    async with channel_server(channel) as (url, agent):
        status, body = await post_event(url, *signed(text_event(timestamp="soon")))
    assert (status, body["reason"]) == (400, "no valid timestamp")
    assert agent.messages == []


async def test_captured_event_does_not_replay_after_a_restart(channel_server, zalo_channel,
                                                              fake_zalo, tmp_path):
    raw, headers = signed(text_event())
    first = zalo_channel()
    async with channel_server(first) as (url, agent):
        assert (await post_event(url, raw, headers))[0] == 200
        await first.wait_for_pending(timeout=10)
    assert len(agent.messages) == 1
    # a new process (a new channel from the same credentials) gets the same bytes again
    second = zalo_channel()
    async with channel_server(second) as (url, agent):
        status, body = await post_event(url, raw, headers)
        await second.wait_for_pending(timeout=10)
    assert (status, body) == (200, {"status": "ok"})
    assert agent.messages == []
    assert len(fake_zalo.delivered) == 1
    assert (tmp_path / "zalo-seen-events.sqlite3").exists()


async def test_event_without_message_id_is_deduplicated_by_its_body(channel_server,
                                                                    zalo_channel, fake_zalo):
    image = text_event(event_name="user_send_image")
    image["message"] = {"attachments": [{"type": "image"}]}  # no msg_id
    channel = zalo_channel()
    async with channel_server(channel) as (url, _):
        for _ in range(3):
            assert (await post_event(url, *signed(image)))[0] == 200
        await channel.wait_for_pending(timeout=10)
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": UNSUPPORTED_MESSAGE_REPLY}]


@pytest.mark.parametrize(("text", "expected"), [
    ("Xin hỏi " * 200, TOO_LONG_REPLY.format(length="1.599", limit="1.000")),
    ("  \n  ", EMPTY_REPLY),
])
async def test_empty_or_too_long_message_gets_polite_reply_without_nlu(
        channel_server, zalo_channel, fake_zalo, text, expected):
    channel = zalo_channel()
    async with channel_server(channel) as (url, agent):
        assert (await post_event(url, *signed(text_event(text))))[0] == 200
        await channel.wait_for_pending(timeout=10)
    assert agent.messages == []
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": expected}]


async def test_turn_without_reply_gets_the_apology(channel_server, zalo_channel, fake_zalo):
    channel = zalo_channel()
    async with channel_server(channel, lambda _message: []) as (url, agent):
        assert (await post_event(url, *signed(text_event())))[0] == 200
        await channel.wait_for_pending(timeout=10)
    assert len(agent.messages) == 1
    assert fake_zalo.delivered == [{"user_id": USER_ID, "text": NO_REPLY_APOLOGY}]
