"""The console's shared state, for both backends (a SQLite file and a real redis-server on
loopback): what one worker stores another sees, sessions expire, a logout is final, and login
attempts are counted atomically before the password check, per user and per address."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.state import LoginLimits, open_state
from console.state.base import SessionStore
from console.state.redis import RedisLoginThrottle, RedisSessionStore, connect
from console.state.sqlite import SqliteDatabase, SqliteLoginThrottle, SqliteSessionStore
from console.users import Role
from tests.support.services import redis_server


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with redis_server() as server:
        url = server.url()
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    """``make(clock, limits)`` → a fresh (sessions, throttle) pair on the shared store: each
    call is another "worker" with its own connections."""
    made = []
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = f"test:{request.node.name}:{time.monotonic_ns()}:"

        def make(clock=time.time, limits=None, idle=3600):
            client = connect(url)
            made.append(client)
            return (RedisSessionStore(client, idle, prefix=prefix, clock=clock),
                    RedisLoginThrottle(client, limits, prefix=prefix, clock=clock))
    else:
        path = tmp_path / "state.db"

        def make(clock=time.time, limits=None, idle=3600):
            database = SqliteDatabase(path)
            made.append(database)
            return (SqliteSessionStore(database, idle, clock=clock),
                    SqliteLoginThrottle(database, limits, clock=clock))
    make.kind = request.param
    yield make
    for item in made:
        item.close()


def test_a_session_made_by_one_worker_is_valid_in_another(backend):
    first, _ = backend()
    second, _ = backend()
    session = first.new()
    session.flash("ok", "Đã tải lên và nạp “kh.txt”")
    first.update(session)
    seen = second.get(session.id)
    assert seen is not None and seen.csrf == session.csrf and seen.csrf_ok(session.csrf)
    assert seen.user is None and seen.pop_flashes() == [("ok", "Đã tải lên và nạp “kh.txt”")]
    second.update(seen)
    signed_in = second.rotate(seen, "bientap", Role.EDITOR)
    assert first.get(session.id) is None  # rotated: the old id is gone everywhere
    again = first.get(signed_in.id)
    assert (again.user, again.role, again.flashes) == ("bientap", Role.EDITOR, [])
    assert again.id != session.id and again.csrf != session.csrf


def test_the_store_keeps_no_session_id_in_clear(backend, tmp_path):
    store, _ = backend()
    session = store.new()
    if backend.kind == "sqlite":
        raw = (tmp_path / "state.db").read_bytes() + b"".join(
            p.read_bytes() for p in tmp_path.glob("state.db-*"))
    else:
        raw = " ".join(store.client.keys(f"{store.prefix}*")).encode()
    assert session.id.encode() not in raw


def test_a_dropped_session_stays_dropped(backend):
    first, _ = backend()
    second, _ = backend()
    session = first.new()
    loaded = second.get(session.id)
    first.drop(session)  # a logout in another tab
    loaded.flash("ok", "x")
    second.update(loaded)  # the other tab's request ends
    assert first.get(session.id) is None and second.get(session.id) is None


def test_idle_sessions_expire(backend):
    if backend.kind == "redis":  # Redis expires keys by its own clock
        store, _ = backend(idle=1)
        session = store.new()
        assert store.get(session.id) is not None
        time.sleep(1.3)
        assert store.get(session.id) is None
        return
    clock = Clock()
    store, _ = backend(clock=clock, idle=8 * 3600)
    anonymous = store.new()
    signed_in = store.rotate(store.new(), "nguoixem", Role.VIEWER)
    clock.now += 3601  # anonymous sessions (the login form) live an hour at most
    assert store.get(anonymous.id) is None
    assert store.get(signed_in.id) is not None  # and this refreshed its last-seen time
    clock.now += 8 * 3600 - 10
    assert store.get(signed_in.id) is not None
    clock.now += 8 * 3600 + 1
    assert store.get(signed_in.id) is None


@pytest.mark.parametrize("bad", [None, "", "x" * 500, "không-phải-id"])
def test_unknown_or_odd_ids_are_no_session(backend, bad):
    store, _ = backend()
    assert store.get(bad) is None


def test_anonymous_sessions_are_capped(backend, monkeypatch):
    from console.state import redis as redis_state
    from console.state import sqlite as sqlite_state

    module = sqlite_state if backend.kind == "sqlite" else redis_state
    monkeypatch.setattr(module, "MAX_ANONYMOUS_SESSIONS", 20)
    monkeypatch.setattr(module, "_PRUNE_EVERY", 10)
    store, _ = backend()
    sessions = [store.new() for _ in range(101)]
    signed_in = store.rotate(store.new(), "bientap", Role.EDITOR)
    alive = sum(store.get(s.id) is not None for s in sessions)
    assert alive <= 20 + 10  # the cap plus what was made since the last clean-up
    assert store.get(sessions[-1].id) is not None  # the newest stay
    assert store.get(signed_in.id) is not None  # signed-in sessions are never dropped for it


# -- login attempts -------------------------------------------------------------------------------


def test_parallel_attempts_cannot_pass_the_limit(backend):
    """30 threads (in two "workers") try at once: exactly 5 are admitted to check a password."""
    limits = LoginLimits(max_failures_user=5, max_failures_address=100, window_seconds=900)
    throttles = [backend(limits=limits)[1], backend(limits=limits)[1]]
    barrier = threading.Barrier(30)
    admitted: list[bool] = []

    def attempt(n: int) -> None:
        barrier.wait()
        admitted.append(throttles[n % 2].begin("bientap", f"10.0.0.{n}").allowed)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(admitted) == 30 and sum(admitted) == 5


def test_user_and_address_limits_are_separate(backend):
    clock = Clock()
    limits = LoginLimits(max_failures_user=3, max_failures_address=5, window_seconds=600)
    _, throttle = backend(clock=clock, limits=limits)
    # one user name from many addresses: locked after 3, wherever the next attempt comes from
    for n in range(3):
        admission = throttle.begin("An", f"10.0.0.{n}")
        assert admission.allowed and admission.user_failures == n + 1
    refused = throttle.begin("an", "192.0.2.99")
    assert not refused.allowed and refused.locked == "user"
    assert refused.retry_after == pytest.approx(600)
    # one address trying many names: locked after 5 (two were counted above from elsewhere)
    for n in range(5):
        assert throttle.begin(f"nguoi-{n}", "198.51.100.7").allowed
    refused = throttle.begin("nguoi-moi", "198.51.100.7")
    assert not refused.allowed and refused.locked == "address"
    assert throttle.begin("nguoi-moi", "198.51.100.8").allowed  # another address is free
    clock.now += 601
    assert throttle.begin("an", "192.0.2.99").allowed
    assert throttle.begin("nguoi-moi", "198.51.100.7").allowed


def test_a_right_password_takes_back_its_attempt_and_clears_the_user(backend):
    clock = Clock()
    limits = LoginLimits(max_failures_user=3, max_failures_address=4, window_seconds=600)
    _, throttle = backend(clock=clock, limits=limits)
    for _ in range(2):
        assert throttle.begin("an", "10.0.0.1").allowed  # two wrong passwords
    right = throttle.begin("an", "10.0.0.1")
    assert right.allowed and right.user_failures == 3
    throttle.succeeded("an", "10.0.0.1", right)
    assert throttle.begin("an", "10.0.0.1").user_failures == 1  # the user starts again
    # the address keeps its two failures (plus the one just made): one more then locked
    assert throttle.begin("binh", "10.0.0.1").address_failures == 4
    assert throttle.begin("chi", "10.0.0.1").locked == "address"


def test_long_user_names_are_bounded_keys(backend):
    _, throttle = backend()
    assert throttle.begin("x" * 5000, "10.0.0.1").allowed
    assert throttle.keys("x" * 5000, "10.0.0.1")[0].startswith("u:#")


def test_open_state_picks_the_backend(tmp_path, redis_url):
    sessions, throttle = open_state(tmp_path / "s.db", "", 3600, LoginLimits())
    assert isinstance(sessions, SqliteSessionStore) and isinstance(throttle,
                                                                   SqliteLoginThrottle)
    assert not (tmp_path / "s.db").exists()  # opened on first use (after Sanic forks)
    sessions, throttle = open_state(Path("/nonexistent/x.db"), redis_url, 3600, LoginLimits())
    assert isinstance(sessions, RedisSessionStore) and isinstance(throttle, RedisLoginThrottle)
    assert isinstance(sessions, SessionStore)
    sessions.close()
