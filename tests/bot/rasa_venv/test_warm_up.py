"""bot.warm_up in the Rasa venv: a worker sends itself the warm-up conversation through the
channel's handler (one sender, every message answered) and reports it; a worker whose warm-up
gets no answer reports the error; without RASA_WARM_UP_DIR nothing is registered."""

import json
import os

from sanic import Blueprint

from bot import warm_up


async def test_a_worker_warms_up_through_the_handler_and_reports(tmp_path):
    seen = []

    async def handler(message):
        seen.append((message.sender_id, message.text, message.input_channel))
        await message.output_channel.send_text_message(message.sender_id, "Chào bạn!")

    report = await warm_up.warm_up_worker(handler, tmp_path / "warm")
    assert [text for _, text, _ in seen] == list(warm_up.MESSAGES)
    assert len({sender for sender, _, _ in seen}) == 1  # one conversation
    assert seen[0][0].startswith(f"warm-up-{os.getpid()}-")  # never a channel's namespace
    marker = json.loads((tmp_path / "warm" / f"rasa-worker-{os.getpid()}.json").read_text())
    assert marker == report and marker["pid"] == os.getpid() and "error" not in marker
    assert marker["seconds"] >= marker["first_s"] >= 0


async def test_a_warm_up_without_replies_is_reported_as_an_error(tmp_path):
    async def silent(message):
        return None

    report = await warm_up.warm_up_worker(silent, tmp_path)
    assert "no reply to 'Xin chào'" in report["error"]
    assert json.loads(warm_up.marker_path(tmp_path, os.getpid()).read_text())["error"]


def test_nothing_is_registered_without_the_folder(monkeypatch, tmp_path):
    async def handler(message):
        return None

    monkeypatch.delenv(warm_up.ENV_DIR, raising=False)
    bare = Blueprint("bare_warm_up_test")
    warm_up.register(bare, handler)
    assert not bare._future_listeners
    monkeypatch.setenv(warm_up.ENV_DIR, str(tmp_path))
    served = Blueprint("served_warm_up_test")
    warm_up.register(served, handler)
    assert [item.event for item in served._future_listeners] == ["after_server_start"]
