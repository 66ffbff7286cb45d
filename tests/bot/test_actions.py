"""The actions with a real (tiny) knowledge base, a temporary question log, Tracker.from_dict
and the real domain."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    KB_UNAVAILABLE,
    ActionAnswerQuestion,
    ActionGreet,
    ActionHandoff,
    ActionStoreFeedback,
)
from actions.formatting import DEFAULT_HANDOFF_CONTACT, FEEDBACK_BUTTONS, describe_places
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "domain.yml").read_text())


def tracker(text: str, intent: str = "ask_knowledge", slots: dict | None = None,
            entities: list | None = None) -> Tracker:
    return Tracker.from_dict({
        "sender_id": "test-user",
        "slots": {"year": None, "place": None, "doc_number": None, "quarter": None,
                  "doc_type": None, "unit": None, "last_doc_id": None, "last_question": None,
                  "last_answer_id": None, "knowledge_available": None, **(slots or {})},
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
    assert messages[0]["buttons"] == list(FEEDBACK_BUTTONS)
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/feedback_positive",
                                                              "/feedback_negative"]
    assert "Ngoại vụ" in text and "Quảng Trạch" in text
    assert "Nguồn: Quyết định số 1331/QĐ-UBND" in text
    assert slots["last_doc_id"] == "000_bd7401f5dd8b7167.txt"
    assert slots["last_question"].startswith("Năm 2018")
    logged = question_log.query()
    assert [q.id for q in logged] == [int(slots["last_answer_id"])]
    assert logged[0].doc_id == "000_bd7401f5dd8b7167.txt" and not logged[0].declined


async def test_the_source_links_the_document_page_when_a_base_url_is_set(seed_kb, question_log):
    from dataclasses import replace

    kb = KnowledgeBase(replace(seed_kb.config, document_url_base="http://127.0.0.1:8080"),
                       embedder=seed_kb.embedder, analyzer=seed_kb.analyzer)
    messages, _ = await run(ActionAnswerQuestion(kb, question_log), tracker(
        "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?"))
    source = next(line for line in messages[0]["text"].splitlines()
                  if line.startswith("Nguồn:"))
    assert source == ("Nguồn: Quyết định số 1331/QĐ-UBND ngày 13/4/2018 của UBND tỉnh Quảng Bình "
                      "(http://127.0.0.1:8080/van-ban/000_bd7401f5dd8b7167.txt)")


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


async def test_a_capitalised_word_tagged_as_a_place_is_ignored(seed_kb, question_log):
    messages, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Ở huyện Tuyên Hóa thì sao?", intent="follow_up",
        entities=[{"entity": "place", "value": "Ở"}, {"entity": "place", "value": "Tuyên Hóa"}],
        slots={"last_question": "Năm 2018 Quảng Bình kiểm tra CCHC ở đâu?",
               "last_doc_id": "000_bd7401f5dd8b7167.txt"}))
    assert slots["last_question"] == "Năm 2018 huyện Tuyên Hóa kiểm tra CCHC ở đâu?"


async def test_follow_up_with_a_quarter(seed_kb, question_log):
    messages, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Còn quý III thì sao?", intent="follow_up",
        entities=[{"entity": "quarter", "value": "quý III"}],
        slots={"last_question": "Những việc nào phải xong trong quý II?",
               "last_doc_id": "000_bd7401f5dd8b7167.txt"}))
    assert slots["last_question"] == "Những việc nào phải xong trong quý III?"
    assert "quý II và III/2018" in messages[0]["text"]  # the 2018 inspections span II and III


async def test_follow_up_with_a_unit(seed_kb, question_log):
    _, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Thế còn Sở Nội vụ?", intent="follow_up",
        entities=[{"entity": "unit", "value": "Sở Nội vụ"}],
        slots={"last_question": "Sở Thông tin và Truyền thông được giao nhiệm vụ gì?",
               "last_doc_id": "003_dd77de9ad5467bf9.txt"}))
    assert slots["last_question"] == "Sở Nội vụ được giao nhiệm vụ gì?"


async def test_a_question_over_several_documents_and_its_follow_up(seed_kb, question_log):
    action = ActionAnswerQuestion(seed_kb, question_log)
    messages, slots = await run(action, tracker("Năm 2018 có những kế hoạch CCHC nào?"))
    assert "Kế hoạch Kiểm tra công tác cải cách hành chính (CCHC) năm 2018" in \
        messages[0]["text"]
    messages, slots = await run(action, tracker(
        "Còn năm 2016 thì sao?", intent="follow_up",
        entities=[{"entity": "year", "value": "2016"}], slots=slots))
    assert slots["last_question"] == "Năm 2016 có những kế hoạch CCHC nào?"
    assert "Kế hoạch kiểm tra hoạt động kiểm soát TTHC" in messages[0]["text"]


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


async def test_a_declined_answer_has_no_feedback_buttons(seed_kb, question_log):
    # the news article cited last names no signer: the answer says so (declined)
    messages, slots = await run(ActionAnswerQuestion(seed_kb, question_log), tracker(
        "Văn bản đó do ai ký?", intent="follow_up",
        slots={"last_doc_id": "001_333fcd91c9346b67.txt",
               "last_question": "Kết quả CCHC năm 2016 ở Bạc Liêu?"}))
    assert "không ghi rõ" in messages[0]["text"]
    assert not messages[0]["buttons"]
    assert question_log.query()[0].declined


# -- action_greet ---------------------------------------------------------------------------

async def test_greeting_says_what_the_knowledge_base_holds(seed_kb):
    dispatcher = CollectingDispatcher()
    events = await ActionGreet(seed_kb).run(dispatcher, tracker("xin chào", intent="greet"),
                                            DOMAIN)
    assert events == [{"event": "slot", "timestamp": None, "name": "knowledge_available",
                       "value": True}]
    [message] = dispatcher.messages
    text = message["text"]
    assert text.startswith("Xin chào! Tôi là trợ lý tra cứu cải cách hành chính (CCHC).")
    # seed 004 is a news article about a Chỉ thị (it only cites Kế hoạch 25-KH/HU of 2017)
    assert "Hiện tôi có 5 văn bản (4 tin tức, 1 quyết định)" in text
    assert "các năm 2016, 2018 và 2020" in text
    # the places come from the documents' metadata (extracted by knowledge.ingest.metadata)
    assert f", về {describe_places(seed_kb.documents())}." in text
    assert "Quảng Bình" in text and "Kiên Giang" in text
    greet_buttons = DOMAIN["responses"]["utter_greet"][0]["buttons"]
    assert message["buttons"] == [*greet_buttons, {"title": "Tôi có thể hỏi gì?",
                                                   "payload": "/help"}]


async def test_greeting_without_an_index_falls_back_to_utter_greet(tmp_path, embedder):
    kb = KnowledgeBase(KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path / "none"),
                       embedder=embedder)
    dispatcher = CollectingDispatcher()
    events = await ActionGreet(kb).run(dispatcher, tracker("xin chào", intent="greet"), DOMAIN)
    assert dispatcher.messages == []
    assert events == [{"event": "slot", "timestamp": None, "name": "knowledge_available",
                       "value": False}]
    assert "utter_greet" in DOMAIN["responses"]


# -- action_store_feedback ------------------------------------------------------------------

@pytest.mark.parametrize(("intent", "text", "helpful", "comment"), [
    ("feedback_positive", "/feedback_positive", True, ""),
    ("feedback_negative", "/feedback_negative", False, ""),
    ("feedback_positive", "cảm ơn, đúng rồi", True, "cảm ơn, đúng rồi"),
    ("feedback_negative", "sai rồi, phải là năm 2019", False, "sai rồi, phải là năm 2019"),
])
async def test_feedback_rates_the_last_answer(question_log, intent, text, helpful, comment):
    other = question_log.record(question="câu trước", answer="…", declined=False)
    answer_id = question_log.record(question="Năm 2018 kiểm tra ở đâu?", answer="Sở Ngoại vụ…",
                                    declined=False, doc_id="000_bd7401f5dd8b7167.txt")
    dispatcher = CollectingDispatcher()
    events = await ActionStoreFeedback(question_log).run(
        dispatcher, tracker(text, intent=intent, slots={"last_answer_id": str(answer_id)}),
        DOMAIN)
    assert events == [] and dispatcher.messages == []  # the rules say utter_feedback_*
    rows = {q.id: q for q in question_log.query()}
    assert rows[answer_id].helpful is helpful and rows[answer_id].comment == comment
    assert rows[other].helpful is None


@pytest.mark.parametrize("answer_id", [None, "", "abc", "999"])
async def test_feedback_without_a_known_answer_stores_nothing(question_log, answer_id):
    kept = question_log.record(question="q", answer="a", declined=False)
    events = await ActionStoreFeedback(question_log).run(
        CollectingDispatcher(),
        tracker("/feedback_negative", intent="feedback_negative",
                slots={"last_answer_id": answer_id}), DOMAIN)
    assert events == []
    assert question_log.query()[0].id == kept and question_log.query()[0].helpful is None


async def test_feedback_after_another_intent_stores_nothing(question_log):
    answer_id = question_log.record(question="q", answer="a", declined=False)
    await ActionStoreFeedback(question_log).run(
        CollectingDispatcher(),
        tracker("xin chào", intent="greet", slots={"last_answer_id": str(answer_id)}), DOMAIN)
    assert question_log.query()[0].helpful is None


def test_feedback_responses_thank_apologise_and_offer_a_person():
    positive = DOMAIN["responses"]["utter_feedback_positive"][0]["text"]
    negative = DOMAIN["responses"]["utter_feedback_negative"][0]
    assert positive.startswith("Cảm ơn")
    assert negative["text"].startswith("Xin lỗi") and "diễn đạt lại" in negative["text"]
    assert negative["buttons"] == [{"title": "Gặp cán bộ phụ trách", "payload": "/request_human"}]


# -- action_handoff -------------------------------------------------------------------------

async def test_handoff_uses_the_configured_contact(monkeypatch):
    monkeypatch.setenv("HANDOFF_CONTACT", "Sở Nội vụ, điện thoại 0232 3822 000.")
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker(
        "cho tôi gặp cán bộ", intent="request_human",
        slots={"last_question": "Năm 2018 kiểm tra CCHC ở đâu?"}), DOMAIN)
    assert events == []
    assert dispatcher.messages[0]["text"] == (
        "Bạn có thể liên hệ cán bộ phụ trách CCHC: Sở Nội vụ, điện thoại 0232 3822 000. "
        "Khi liên hệ, bạn nêu rõ câu hỏi và văn bản liên quan để được hỗ trợ nhanh hơn.\n"
        "Câu hỏi gần nhất của bạn: “Năm 2018 kiểm tra CCHC ở đâu?”")


@pytest.mark.parametrize("value", [None, "", "   "])
async def test_handoff_without_configuration_shows_the_placeholder(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("HANDOFF_CONTACT", raising=False)
    else:
        monkeypatch.setenv("HANDOFF_CONTACT", value)
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker("tổng đài viên", intent="request_human"),
                              DOMAIN)
    text = dispatcher.messages[0]["text"]
    assert DEFAULT_HANDOFF_CONTACT in text and "Câu hỏi gần nhất" not in text


# -- the domain knows every action and response the actions use ----------------------------

def test_every_action_is_in_the_domain():
    names = {ActionAnswerQuestion().name(), ActionGreet().name(), ActionStoreFeedback().name(),
             ActionHandoff().name()}
    assert names <= set(DOMAIN["actions"])
    assert {"knowledge_available", "last_answer_id", "quarter", "doc_type", "unit"} <= set(
        DOMAIN["slots"])


async def test_another_places_facts_become_the_document_of_the_next_turn(seed_kb, question_log):
    """2016 inspections are held only for Bạc Liêu: the reply declines for Quảng Bình and offers
    Bạc Liêu's; "văn bản đó" in the next turn is the article those facts came from, not the 2018
    decision of the turn before."""
    action = ActionAnswerQuestion(seed_kb, question_log)
    _, slots = await run(action, tracker(
        "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?"))
    assert slots["last_doc_id"] == "000_bd7401f5dd8b7167.txt"
    messages, slots2 = await run(action, tracker(
        "Còn năm 2016 thì sao?", intent="follow_up",
        entities=[{"entity": "year", "value": "2016"}], slots=slots))
    assert "không nêu việc kiểm tra năm 2016 ở Quảng Bình" in messages[0]["text"]
    assert "buttons" not in messages[0] or not messages[0]["buttons"]  # a decline: no rating
    assert slots2["last_doc_id"] != "000_bd7401f5dd8b7167.txt"
    messages, _ = await run(action, tracker(
        "Văn bản đó do ai ban hành?", intent="ask_knowledge", slots={**slots, **slots2}))
    assert "UBND tỉnh Bạc Liêu" in messages[0]["text"]
