"""bot.lock_store in the Rasa venv: the SQLite ticket locks that let ``make run`` start Rasa
with several Sanic workers. Rasa accepts the store for workers, bot/endpoints.yml builds it,
messages of one conversation are served in ticket order, ticket numbers stay unique when
processes race for them, and a dead worker's tickets expire."""

import asyncio
import multiprocessing
from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import read_endpoint_config

from bot.lock_store import SQLiteLockStore

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def endpoints_env(tmp_path, monkeypatch):
    for name, value in (("RASA_TRACKER_DB", str(tmp_path / "tracker.db")),
                        ("ACTION_SERVER_HOST", "127.0.0.1"), ("ACTION_SERVER_PORT", "5055"),
                        ("ACTION_SERVER_TOKEN", "test-secret")):
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_endpoints_file_builds_it_and_rasa_then_allows_workers(endpoints_env, monkeypatch):
    config = read_endpoint_config(str(ROOT / "bot" / "endpoints.yml"), "lock_store")
    store = LockStore.create(config)
    assert isinstance(store, SQLiteLockStore)
    assert store.path == endpoints_env / "tracker.db"  # a table beside the conversations
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(config) == 2
    assert number_of_sanic_workers(None) == 1  # the in-memory store: one worker only


def test_a_store_needs_its_file():
    with pytest.raises(ValueError, match="db"):
        SQLiteLockStore()


async def test_messages_of_one_conversation_are_served_in_ticket_order(tmp_path):
    store = SQLiteLockStore(db=tmp_path / "locks.db")
    order: list[str] = []

    async def turn(name: str, work: float) -> None:
        async with store.lock("rest:ana", wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(work)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("first", 0.2))
    await asyncio.sleep(0.02)
    await asyncio.gather(turn("second", 0), first)
    assert order == ["first in", "first out", "second in", "second out"]
    assert store.get_lock("rest:ana") is None  # nobody waits: the lock is gone


async def test_another_conversation_does_not_wait(tmp_path):
    store = SQLiteLockStore(db=tmp_path / "locks.db")
    async with store.lock("rest:ana"):
        async with store.lock("rest:binh"):
            pass


def _take_tickets(db: str, n: int, out) -> None:
    store = SQLiteLockStore(db=db)
    out.put([store.issue_ticket("rest:crowd") for _ in range(n)])


def test_tickets_stay_unique_when_processes_race(tmp_path):
    """Two workers issuing tickets for one conversation at the same moment: with a plain
    read-modify-write both would get the same number and process two messages at once."""
    db = str(tmp_path / "locks.db")
    SQLiteLockStore(db=db)
    ctx = multiprocessing.get_context("fork")  # how Sanic starts its workers
    out = ctx.Queue()
    procs = [ctx.Process(target=_take_tickets, args=(db, 40, out)) for _ in range(4)]
    for p in procs:
        p.start()
    tickets = [t for _ in procs for t in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(tickets) == list(range(160))
    assert len(SQLiteLockStore(db=db).get_lock("rest:crowd").tickets) == 160


async def test_a_dead_workers_ticket_expires(tmp_path):
    store = SQLiteLockStore(db=tmp_path / "locks.db")
    store.issue_ticket("rest:ana", lock_lifetime=0.3)  # taken by a worker killed mid-turn
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with store.lock("rest:ana", wait_time_in_seconds=0.05):
        waited = loop.time() - started
    assert 0.2 < waited < 5  # served once the dead ticket expired, not stuck behind it
    assert store.get_lock("rest:ana") is None
