"""bot.tracker_store in the Rasa venv: bot/endpoints.yml builds it (never Rasa's silent
in-memory fallback), SQLite runs in WAL mode without an fsync per commit, connections stay
open, and conversations round-trip and survive a new store on the same file."""

import os
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_store import SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain.yml"))


def _conversation(domain: Domain, sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_session_start"), SessionStarted(),
                 ActionExecuted("action_listen")], domain.slots)
    for event in (UserUttered("Còn năm 2016 thì sao?", {"name": "follow_up", "confidence": 1.0}),
                  ActionExecuted("action_answer_question"), BotUttered("Năm 2016 …"),
                  ActionExecuted("action_listen")):
        tracker.update(event, domain)
    return tracker


def test_the_endpoints_file_builds_the_wal_store(domain, tmp_path, monkeypatch):
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "tracker.db"))
    # the file is expanded whole: the action endpoint's variables must be set too
    for name, value in (("ACTION_SERVER_HOST", "127.0.0.1"), ("ACTION_SERVER_PORT", "5055"),
                        ("ACTION_SERVER_TOKEN", "test-secret")):
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "bot" / "endpoints.yml"), "tracker_store")
    store = create_tracker_store(config, domain)
    inner = store._tracker_store if isinstance(store, FailSafeTrackerStore) else store
    assert isinstance(inner, SQLiteTrackerStore)  # not InMemoryTrackerStore
    assert Path(inner.engine.url.database) == tmp_path / "tracker.db"


async def test_wal_no_fsync_per_commit_and_a_round_trip(domain, tmp_path):
    db = tmp_path / "tracker.db"
    store = SQLiteTrackerStore(domain, dialect="sqlite", db=str(db))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    tracker = _conversation(domain, "rest-1")
    await store.save(tracker)
    again = await store.retrieve("rest-1")  # the latest session: from session_started on
    assert [e.as_dict()["event"] for e in again.events] == \
        [e.as_dict()["event"] for e in tracker.events][1:]
    await store.save(again)  # nothing new: nothing added
    # the connection stays open (closing the last one would checkpoint with an fsync)
    assert os.path.exists(f"{db}-wal")
    # another store on the same file (a restart) sees the conversation; so does a reader
    later = SQLiteTrackerStore(domain, dialect="sqlite", db=str(db))
    assert (await later.retrieve("rest-1")).latest_message.text == "Còn năm 2016 thì sao?"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE sender_id = 'rest-1'"
                            ).fetchone()[0] == len(tracker.events)


def test_other_dialects_are_left_to_rasa(domain):
    store = SQLiteTrackerStore(domain, dialect="sqlite", db=":memory:")
    assert isinstance(store, SQLTrackerStore)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
