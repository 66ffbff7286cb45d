"""Custom actions: a thin adapter from Rasa to the ``knowledge`` library.

Reads the message, entities and slots → calls the knowledge base → utters the reply → returns
slot events. No retrieval logic lives here.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.formatting import (
    DEFAULT_HANDOFF_CONTACT,
    FEEDBACK_BUTTONS,
    HELP_BUTTON,
    handoff_message,
    knowledge_greeting,
)
from actions.knowledge_client import get_knowledge_base, get_question_log
from bot.guard import check_message
from bot.guard import settings as guard_settings
from knowledge.answering.followup import (
    asks_about_last_document,
    asks_for_more,
    describe_document,
    rewrite_follow_up,
)
from knowledge.answering.reply import render_reply
from knowledge.index.store import IndexError_
from knowledge.lexicon.places import find_places
from knowledge.schema import Answer

logger = logging.getLogger(__name__)

KB_UNAVAILABLE = ("Xin lỗi, hệ thống tra cứu văn bản đang tạm thời gián đoạn. "
                  "Bạn vui lòng thử lại sau ít phút.")


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value else None


def _place(tracker: Tracker) -> str | None:
    """The first place entity that names a known place (the NLU model sometimes tags a
    capitalised first word, "Ở huyện Quảng Ninh…" → "Ở")."""
    for value in tracker.get_latest_entity_values("place"):
        if value and find_places(str(value)):
            return str(value)
    return None


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
        # the channels refuse empty/over-long messages already; a message can also come from
        # another client of Rasa, so the same guard again
        checked = check_message(tracker.latest_message.get("text"),
                                guard_settings().max_message_chars)
        if not checked.accepted:
            dispatcher.utter_message(text=checked.reply)
            return []
        text = checked.text.strip()
        kb = self._kb or get_knowledge_base()
        intent = _intent(tracker)
        previous = tracker.get_slot("last_question")
        last_doc_id = tracker.get_slot("last_doc_id")
        question = text
        try:
            answer = await asyncio.get_running_loop().run_in_executor(
                None, self._answer, kb, text, intent, previous, last_doc_id,
                _entity(tracker, "year"), _place(tracker), _entity(tracker, "quarter"),
                _entity(tracker, "unit"),
            )
        except IndexError_ as exc:
            logger.error("knowledge base unavailable: %s", exc)
            dispatcher.utter_message(text=KB_UNAVAILABLE)
            return []
        answer, question = answer
        reply = render_reply(answer, document_url_base=kb.config.document_url_base,
                             link_domains=kb.config.source_link_domains)
        if answer.declined:
            dispatcher.utter_message(text=reply)
        else:  # quick replies to rate the answer (the web widget and Telegram show them)
            dispatcher.utter_message(text=reply, buttons=list(FEEDBACK_BUTTONS))
        log = self._log or get_question_log()
        answer_id = log.record(
            question=text, answer=answer.text, declined=answer.declined,
            channel=tracker.get_latest_input_channel() or "", sender=tracker.sender_id,
            doc_id=answer.citations[0].doc_id if answer.citations and not answer.declined else "",
            confidence=answer.confidence,
        )
        events: list[dict[str, Any]] = [SlotSet("last_question", question),
                                         SlotSet("last_answer_id", str(answer_id))]
        if answer.subject_doc_id:  # "văn bản đó" in the next turn
            events.append(SlotSet("last_doc_id", answer.subject_doc_id))
        return events

    @staticmethod
    def _answer(kb, text: str, intent: str | None, previous: str | None,
                last_doc_id: str | None, year: str | None, place: str | None,
                quarter: str | None = None, unit: str | None = None) -> tuple[Answer, str]:
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
                question = rewrite_follow_up(previous, text, year=year, place=place,
                                             quarter=quarter, unit=unit)
        return kb.ask(question), question


class ActionGreet(Action):
    """Greet and say what the knowledge base holds (documents, years, places) with quick replies.

    Sets ``knowledge_available``; when the index cannot be read the rules answer with
    ``utter_greet`` instead.
    """

    def __init__(self, knowledge_base=None) -> None:
        self._kb = knowledge_base

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            kb = self._kb or get_knowledge_base()
            documents = await asyncio.get_running_loop().run_in_executor(None, kb.documents)
        except (IndexError_, OSError, ValueError) as exc:
            logger.warning("greeting without the knowledge base: %s", exc)
            return [SlotSet("knowledge_available", False)]
        if not documents:
            return [SlotSet("knowledge_available", False)]
        buttons = _response_buttons(domain, "utter_greet") + [HELP_BUTTON]
        dispatcher.utter_message(text=knowledge_greeting(documents), buttons=buttons)
        return [SlotSet("knowledge_available", True)]


def _response_buttons(domain: dict[str, Any], response: str) -> list[dict[str, str]]:
    """The quick replies of a domain response (one list of common questions to maintain)."""
    variants = (domain.get("responses") or {}).get(response) or [{}]
    return [dict(b) for b in variants[0].get("buttons") or []]


class ActionStoreFeedback(Action):
    """Attach 👍/👎 (or "hữu ích", "sai rồi"…) to the last logged answer; the rules then say
    ``utter_feedback_positive`` / ``utter_feedback_negative``. A typed message is kept as the
    comment for the officials' review."""

    def __init__(self, question_log=None) -> None:
        self._log = question_log

    def name(self) -> str:
        return "action_store_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = _intent(tracker)
        if intent not in ("feedback_positive", "feedback_negative"):
            logger.warning("action_store_feedback after intent %r: nothing stored", intent)
            return []
        answer_id = tracker.get_slot("last_answer_id")
        if not answer_id or not str(answer_id).isdigit():
            logger.info("feedback with no answer to attach it to (sender %s)", tracker.sender_id)
            return []
        text = (tracker.latest_message.get("text") or "").strip()
        comment = "" if text.startswith("/") else text  # a button payload is no comment
        log = self._log or get_question_log()
        rated = await asyncio.get_running_loop().run_in_executor(
            None, log.rate, int(answer_id), intent == "feedback_positive", comment)
        if not rated:
            logger.warning("feedback for unknown answer id %s", answer_id)
        return []


class ActionHandoff(Action):
    """Tell the user how to reach a person: ``HANDOFF_CONTACT`` from the action server's
    environment (a placeholder contact when it is not set)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        contact = os.environ.get("HANDOFF_CONTACT", "").strip()
        if not contact:
            logger.warning("HANDOFF_CONTACT is not set: showing the placeholder contact")
            contact = DEFAULT_HANDOFF_CONTACT
        dispatcher.utter_message(text=handoff_message(contact, tracker.get_slot("last_question")))
        return []
