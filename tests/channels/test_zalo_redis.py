"""Zalo tokens in a real Redis (started by the test on loopback): two replicas that find the
access token expired at the same moment refresh it exactly once, under the Redis lock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from bot.channels.zalo import ZaloClient, ZaloInput, ZaloSettings
from bot.channels.zalo_tokens import RedisTokenStore, TokenStoreError, ZaloTokens
from tests.channels.fake_zalo import APP_ID, APP_SECRET, FakeZalo
from tests.support.services import redis_server

USER_ID = "2512523625412515"


@pytest.fixture
def redis_url(tmp_path):
    with redis_server() as server:
        url = server.url()
        yield url


@pytest.fixture
async def fake_zalo():
    fake = FakeZalo()
    await fake.start()
    yield fake
    await fake.stop()


def settings(tmp_path: Path, fake: FakeZalo, redis_url: str, replica: str,
             **overrides: Any) -> ZaloSettings:
    creds = {"app_id": APP_ID, "oa_secret_key": "oa-secret", "app_secret": APP_SECRET,
             "access_token": "access-1", "refresh_token": "refresh-1",
             # each replica has its own disk; only Redis is shared
             "token_file": str(tmp_path / replica / "zalo-tokens.json"),
             "api_base_url": fake.base_url, "oauth_base_url": fake.base_url,
             "token_redis_url": redis_url, "backoff_seconds": 0.01, **overrides}
    return ZaloSettings.from_credentials(creds)


async def test_two_replicas_refresh_once(tmp_path, fake_zalo, redis_url):
    fake_zalo.expire_access_token()
    replicas = [ZaloInput(settings(tmp_path, fake_zalo, redis_url, name))
                for name in ("replica-a", "replica-b")]
    assert all(isinstance(r.client.tokens, RedisTokenStore) for r in replicas)
    # slow the refresh down so both replicas are surely waiting on it at once
    original = fake_zalo._refresh

    async def slow_refresh(request):
        await asyncio.sleep(0.3)
        return await original(request)

    fake_zalo._refresh = slow_refresh
    try:
        await asyncio.gather(*(r.client.send_text(USER_ID, f"từ {i}")
                               for i, r in enumerate(replicas)))
    finally:
        for r in replicas:
            await r.client.close()

    assert len(fake_zalo.refresh_calls) == 1
    assert fake_zalo.refresh_calls[0]["refresh_token"] == "refresh-1"
    assert sorted(d["text"] for d in fake_zalo.delivered) == ["từ 0", "từ 1"]
    assert [c["access_token"] for c in fake_zalo.message_calls].count("access-2") == 2
    client = redis.asyncio.from_url(redis_url)
    stored = json.loads(await client.get(f"cchc:zalo:{APP_ID}:tokens"))
    assert stored == {"access_token": "access-2", "refresh_token": "refresh-2"}
    assert await client.exists(f"cchc:zalo:{APP_ID}:tokens:refresh-lock") == 0  # released
    await client.close()
    # nothing was written to the replicas' token files: Redis holds the tokens
    assert not (tmp_path / "replica-a" / "zalo-tokens.json").exists()


async def test_a_restarted_replica_uses_the_refreshed_tokens(tmp_path, fake_zalo, redis_url):
    fake_zalo.expire_access_token()
    first = ZaloInput(settings(tmp_path, fake_zalo, redis_url, "a"))
    await first.client.send_text(USER_ID, "một")
    await first.client.close()
    # the credentials still name the spent refresh-1: Redis's newer tokens win
    second = ZaloInput(settings(tmp_path, fake_zalo, redis_url, "b"))
    assert await second.client.current_tokens() == ZaloTokens("access-2", "refresh-2")
    await second.client.send_text(USER_ID, "hai")
    await second.client.close()
    assert len(fake_zalo.refresh_calls) == 1
    assert [d["text"] for d in fake_zalo.delivered] == ["một", "hai"]


async def test_the_token_file_seeds_an_empty_redis(tmp_path, fake_zalo, redis_url):
    token_file = tmp_path / "a" / "zalo-tokens.json"
    token_file.parent.mkdir()
    token_file.write_text(json.dumps({"access_token": "access-1", "refresh_token": "refresh-1"}))
    channel = ZaloInput(settings(tmp_path, fake_zalo, redis_url, "a", access_token=None,
                                 refresh_token=None))
    assert await channel.client.current_tokens() == ZaloTokens("access-1", "refresh-1")
    await channel.client.close()


async def test_lock_held_elsewhere_makes_the_refresh_fail_cleanly(tmp_path, fake_zalo,
                                                                  redis_url):
    store = RedisTokenStore(redis_url, "cchc:zalo:t:tokens", ZaloTokens("a", "r"),
                            lock_seconds=5, wait_seconds=0.3)
    other = RedisTokenStore(redis_url, "cchc:zalo:t:tokens", None, lock_seconds=5,
                            wait_seconds=0.3)
    async with store.refresh_lock():
        with pytest.raises(TokenStoreError, match="not acquired within 0.3 s"):
            async with other.refresh_lock():
                pass
    async with other.refresh_lock():  # released by the first holder
        pass
    await store.close()
    await other.close()


async def test_redis_down_is_a_zalo_error_not_a_crash(tmp_path, fake_zalo):
    from bot.channels.zalo import ZaloError

    settings_ = settings(tmp_path, fake_zalo, "redis://127.0.0.1:9/0", "a")  # nothing there
    client = ZaloClient(settings_, ZaloInput._token_store(settings_))
    with pytest.raises(ZaloError, match="unreadable in Redis"):
        await client.send_text(USER_ID, "x")
    await client.close()
