"""bot.guard: one limit and one set of polite replies for every channel and for the action.
Standard library only, so it runs in both venvs (these tests run in the knowledge venv)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerQuestion
from bot import guard
from bot.guard import (
    EMPTY_REPLY,
    TOO_LONG_REPLY,
    GuardSettings,
    Verdict,
    check_message,
    vietnamese_number,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "verdict", "length"), [
    ("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?", Verdict.OK, 47),
    ("  a  ", Verdict.OK, 1),
    ("x" * 1000, Verdict.OK, 1000),
    ("  " + "x" * 1000 + "\n", Verdict.OK, 1000),  # measured once trimmed
    ("x" * 1001, Verdict.TOO_LONG, 1001),
    ("", Verdict.EMPTY, 0), (" \n\t\u3000 ", Verdict.EMPTY, 0), (None, Verdict.EMPTY, 0),
    (12, Verdict.EMPTY, 0), ({"text": "x"}, Verdict.EMPTY, 0),
])
def test_check_message(text, verdict, length):
    checked = check_message(text, 1000)
    assert (checked.verdict, checked.length) == (verdict, length)
    assert checked.accepted is (verdict is Verdict.OK)
    assert (checked.reply is None) is (verdict is Verdict.OK)
    if verdict is Verdict.OK:
        assert checked.text == text  # handed on unchanged


def test_replies_are_short_polite_vietnamese():
    assert check_message("cải cách hành chính " * 5000, 1000).reply == (
        "Câu hỏi quá dài (99.999 ký tự). Bạn vui lòng rút gọn câu hỏi dưới 1.000 ký tự rồi "
        "gửi lại nhé.")
    assert check_message("   ", 1000).reply == EMPTY_REPLY
    assert "nhập câu hỏi" in EMPTY_REPLY
    for reply in (TOO_LONG_REPLY, EMPTY_REPLY, guard.NO_REPLY_APOLOGY):
        assert len(reply) < 200


@pytest.mark.parametrize(("value", "text"), [(0, "0"), (999, "999"), (1000, "1.000"),
                                             (1234567, "1.234.567")])
def test_vietnamese_number(value, text):
    assert vietnamese_number(value) == text


def test_settings_from_environment():
    assert GuardSettings.from_env({}) == GuardSettings(1000, 65536)
    assert GuardSettings.from_env({"MAX_MESSAGE_CHARS": " 2_000 ", "MAX_REQUEST_BYTES": ""}) == (
        GuardSettings(2000, 65536))
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS must be an integer, got 'lots'"):
        GuardSettings.from_env({"MAX_MESSAGE_CHARS": "lots"})
    with pytest.raises(ValueError, match="MAX_MESSAGE_CHARS must be at least 1"):
        GuardSettings.from_env({"MAX_MESSAGE_CHARS": "0"})
    with pytest.raises(ValueError, match="MAX_REQUEST_BYTES .* is too small"):
        GuardSettings.from_env({"MAX_MESSAGE_CHARS": "20000"})


@pytest.mark.parametrize("python", [ROOT / ".venv" / "rasa" / "bin" / "python",
                                    ROOT / ".venv" / "kb" / "bin" / "python"],
                         ids=["rasa-venv", "kb-venv"])
def test_importable_from_both_venvs_without_third_party_modules(python):
    code = ("import sys, bot.guard as g; "
            "assert not [m for m in sys.modules if m.split('.')[0] in "
            "{'rasa', 'sanic', 'numpy', 'knowledge'}]; "
            "print(g.settings().max_message_chars)")
    done = subprocess.run([str(python), "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "MAX_MESSAGE_CHARS": "500"}, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "500"), done.stderr


class UntouchableKnowledgeBase:
    """The action must not reach the knowledge base for a refused message."""

    def __getattr__(self, name):
        raise AssertionError(f"knowledge base used ({name}) for a refused message")


def tracker(text):
    return Tracker.from_dict({
        "sender_id": "rest:lan", "slots": {}, "latest_message": {
            "text": text, "intent": {"name": "ask_knowledge", "confidence": 0.9},
            "entities": []},
        "events": [], "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen"})


@pytest.mark.parametrize(("text", "expected"), [
    ("1a" * 8000, TOO_LONG_REPLY.format(length="16.000", limit="1.000")),
    (" \n ", EMPTY_REPLY),
], ids=["too-long", "blank"])
def test_action_answer_question_applies_the_guard_again(text, expected):
    action = ActionAnswerQuestion(UntouchableKnowledgeBase(), UntouchableKnowledgeBase())
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(text), {}))
    assert events == []
    assert [m["text"] for m in dispatcher.messages] == [expected]
