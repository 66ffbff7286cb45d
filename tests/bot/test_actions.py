"""action_answer_question with a real (tiny) knowledge base, Tracker.from_dict and the real
domain."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import KB_UNAVAILABLE, ActionAnswerQuestion
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "domain.yml").read_text())


def tracker(text: str, intent: str = "ask_knowledge", slots: dict | None = None,
            entities: list | None = None) -> Tracker:
    return Tracker.from_dict({
        "sender_id": "test-user",
        "slots": {"year": None, "place": None, "doc_number": None, "last_doc_id": None,
                  "last_question": None, **(slots or {})},
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.9},
                           "entities": entities or []},
        "events": [], "paused": False, "followup_action": None, "active_loop": {},
        "latest_action_name": "action_listen",
    })


@pytest.fixture
def question_log(tmp_path):
    from knowledge.question_log import QuestionLog

    return QuestionLog(tmp_path / "questions.db")


async def run(action, t):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_answers_with_source_and_remembers_the_document(seed_kb, question_log):
    messages, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?"))
    assert len(messages) == 1
    text = messages[0]["text"]
    assert "Ngoại vụ" in text and "Quảng Trạch" in text
    assert "Nguồn: Quyết định số 1331/QĐ-UBND" in text
    assert slots["last_doc_id"] == "000_bd7401f5dd8b7167.txt"
    assert slots["last_question"].startswith("Năm 2018")
    logged = question_log.query()
    assert [q.id for q in logged] == [int(slots["last_answer_id"])]
    assert logged[0].doc_id == "000_bd7401f5dd8b7167.txt" and not logged[0].declined


async def test_follow_up_about_the_last_document(seed_kb, question_log):
    messages, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Văn bản đó do ai ban hành?", intent="follow_up",
        slots={"last_doc_id": "000_bd7401f5dd8b7167.txt",
               "last_question": "Năm 2018 Quảng Bình kiểm tra CCHC ở đâu?"}))
    assert messages[0]["text"].startswith(
        "Quyết định số 1331/QĐ-UBND do UBND tỉnh Quảng Bình ban hành.")


async def test_follow_up_with_a_new_year_reuses_the_question(seed_kb, question_log):
    messages, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Còn năm 2020 thì sao?", intent="follow_up",
        entities=[{"entity": "year", "value": "2020"}],
        slots={"last_question": "Năm 2018 kiểm tra công tác cải cách hành chính ở đâu?",
               "last_doc_id": "000_bd7401f5dd8b7167.txt"}))
    assert slots["last_question"] == "Năm 2020 kiểm tra công tác cải cách hành chính ở đâu?"
    assert "2020" in messages[0]["text"]


async def test_missing_index_gives_a_polite_message(tmp_path, embedder, question_log):
    kb = KnowledgeBase(KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path / "none"),
                       embedder=embedder)
    messages, slots = await run(ActionAnswerQuestion(kb, question_log),
                                tracker("Kế hoạch CCHC năm 2018?"))
    assert messages[0]["text"] == KB_UNAVAILABLE
    assert slots == {}


@pytest.mark.parametrize("text", ["", "   "])
async def test_empty_message(seed_kb, question_log, text):
    messages, _ = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(text))
    assert "nhập câu hỏi" in messages[0]["text"]
