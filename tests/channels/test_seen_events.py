"""bot.channels.seen_events: a persistent, bounded set of handled webhook events."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.seen_events import PURGE_EVERY, SeenEvents


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_first_time_then_duplicate_also_after_reopening(tmp_path):
    path = tmp_path / "state" / "seen.sqlite3"
    seen = SeenEvents(path, retention_seconds=420)
    assert await seen.first_time("msg:1") is True
    assert await seen.first_time("msg:1") is False
    assert await seen.first_time("msg:2") is True
    seen.close()
    reopened = SeenEvents(path, retention_seconds=420)  # a restart
    assert await reopened.first_time("msg:1") is False
    assert reopened.count() == 2
    reopened.close()


async def test_concurrent_claims_of_one_key_let_exactly_one_through(tmp_path):
    first = SeenEvents(tmp_path / "seen.sqlite3", retention_seconds=420)
    second = SeenEvents(tmp_path / "seen.sqlite3", retention_seconds=420)  # another process
    results = await asyncio.gather(*(store.first_time("msg:race")
                                     for store in [first, second] * 5))
    assert sorted(results) == [False] * 9 + [True]
    first.close()
    second.close()


async def test_expired_and_surplus_keys_are_purged(tmp_path):
    clock = Clock()
    seen = SeenEvents(tmp_path / "seen.sqlite3", retention_seconds=60, max_entries=100,
                      clock=clock)
    for n in range(50):
        await seen.first_time(f"old:{n}")
    clock.now += 61
    fresh = PURGE_EVERY - 50  # a purge runs at every PURGE_EVERY-th claim
    for n in range(fresh):
        await seen.first_time(f"new:{n}")
        clock.now += 0.001
    assert seen.count() == 100  # the 50 expired ones gone, then the oldest beyond 100
    assert await seen.first_time(f"new:{fresh - 1}") is False  # the newest are kept
    assert await seen.first_time("new:0") is True  # the oldest were dropped
    assert seen.purge() == 1 and seen.count() == 100  # new:0 made 101
    seen.close()


def test_settings_are_validated(tmp_path):
    with pytest.raises(ValueError, match="retention_seconds"):
        SeenEvents(tmp_path / "x", retention_seconds=0)
    with pytest.raises(ValueError, match="max_entries"):
        SeenEvents(tmp_path / "x", retention_seconds=1, max_entries=0)


async def test_unreasonable_keys_are_refused(tmp_path):
    seen = SeenEvents(tmp_path / "seen.sqlite3", retention_seconds=60)
    with pytest.raises(ValueError, match="event key"):
        await seen.first_time("k" * 300)
    seen.close()
