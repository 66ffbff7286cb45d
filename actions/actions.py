"""Custom actions: a thin adapter from Rasa to the ``knowledge`` library.

Reads the message, entities and slots → calls the knowledge base → utters the reply → returns
slot events. No retrieval logic lives here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge_client import get_knowledge_base, get_question_log
from knowledge.followup import (
    asks_about_last_document,
    asks_for_more,
    describe_document,
    rewrite_follow_up,
)
from knowledge.reply import render_reply
from knowledge.schema import Answer
from knowledge.store import IndexError_

logger = logging.getLogger(__name__)

KB_UNAVAILABLE = ("Xin lỗi, hệ thống tra cứu văn bản đang tạm thời gián đoạn. "
                  "Bạn vui lòng thử lại sau ít phút.")


def _entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value else None


class ActionAnswerQuestion(Action):
    """Answer a knowledge question (or a follow-up) from the documents, with the source."""

    def __init__(self, knowledge_base=None, question_log=None) -> None:
        # injected in tests; the shared instances otherwise
        self._kb = knowledge_base
        self._log = question_log

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(text="Bạn vui lòng nhập câu hỏi nhé.")
            return []
        kb = self._kb or get_knowledge_base()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        previous = tracker.get_slot("last_question")
        last_doc_id = tracker.get_slot("last_doc_id")
        question = text
        try:
            answer = await asyncio.get_running_loop().run_in_executor(
                None, self._answer, kb, text, intent, previous, last_doc_id,
                _entity(tracker, "year"), _entity(tracker, "place"),
            )
        except IndexError_ as exc:
            logger.error("knowledge base unavailable: %s", exc)
            dispatcher.utter_message(text=KB_UNAVAILABLE)
            return []
        answer, question = answer
        dispatcher.utter_message(text=render_reply(answer))
        log = self._log or get_question_log()
        answer_id = log.record(
            question=text, answer=answer.text, declined=answer.declined,
            channel=tracker.get_latest_input_channel() or "", sender=tracker.sender_id,
            doc_id=answer.citations[0].doc_id if answer.citations and not answer.declined else "",
            confidence=answer.confidence,
        )
        events: list[dict[str, Any]] = [SlotSet("last_question", question),
                                         SlotSet("last_answer_id", str(answer_id))]
        if not answer.declined and answer.citations:
            events.append(SlotSet("last_doc_id", answer.citations[0].doc_id))
        return events

    @staticmethod
    def _answer(kb, text: str, intent: str | None, previous: str | None,
                last_doc_id: str | None, year: str | None,
                place: str | None) -> tuple[Answer, str]:
        if previous and last_doc_id:
            field_name = asks_about_last_document(text)
            doc = kb.document(last_doc_id) if field_name else None
            if field_name and doc is not None:
                return describe_document(doc, field_name), previous
        question = text
        if previous and intent == "follow_up":
            if asks_for_more(text):
                question = previous
            else:
                question = rewrite_follow_up(previous, text, year=year, place=place)
        return kb.ask(question), question
