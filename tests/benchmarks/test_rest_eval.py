"""benchmarks/rest_eval.py: reading Rasa REST replies (answer or decline, cited document) and
a whole evaluation against a local fake of the REST webhook."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks import rest_eval
from knowledge.evaluate import fold_question

FEEDBACK = [{"title": "👍 Hữu ích", "payload": "/feedback_positive"},
            {"title": "👎 Chưa hữu ích", "payload": "/feedback_negative"}]
ANSWER = {"recipient_id": "s", "buttons": FEEDBACK, "text": (
    "Ngày 18/4/2019, UBND tỉnh Quảng Trị ban hành Kế hoạch số 1629/KH-UBND.\n"
    "Nguồn: bài “Kế hoạch kiểm tra (Quảng Trị)” (18/4/2019) (https://quangtri.gov.vn/p?x=1)\n"
    "Trích: “Mục đích của kế hoạch kiểm tra (Xem chi tiết tại file đính kèm).”")}
DECLINE = {"recipient_id": "s", "text": (
    "Tôi chưa có văn bản nào về năm 2020 để trả lời câu hỏi này.\nVăn bản gần nhất:\n"
    "• Kế hoạch số 1629/KH-UBND ngày 18/4/2019")}


def test_an_answer_and_what_it_cites():
    reply = rest_eval.read_reply([ANSWER])
    assert not reply.declined and reply.signal == "buttons+source" and not reply.conflict
    assert reply.source_url == "https://quangtri.gov.vn/p?x=1"
    assert reply.answer_text.endswith("Kế hoạch số 1629/KH-UBND.")
    assert "Trích" not in reply.answer_text


def test_a_decline_and_other_replies_without_an_answer():
    reply = rest_eval.read_reply([DECLINE])
    assert reply.declined and reply.signal == "none" and reply.source_url == ""
    assert rest_eval.read_reply([{"text": "Xin lỗi, tôi chỉ trả lời về CCHC."}]).declined
    assert rest_eval.read_reply([]).declined


def test_signals_that_disagree_are_flagged_and_a_custom_flag_wins():
    no_buttons = rest_eval.read_reply([{"text": ANSWER["text"]}])
    assert not no_buttons.declined and no_buttons.conflict and no_buttons.signal == "source"
    custom = rest_eval.read_reply([ANSWER, {"custom": {"declined": True}}])
    assert custom.declined and custom.signal == "custom"


def test_an_answer_from_several_documents_cites_the_first_listed():
    text = ("Năm 2018 có 2 kế hoạch.\nNguồn:\n• Kế hoạch số 1 (http://kb-eval.invalid/van-ban/"
            "a%20b.txt)\n• Kế hoạch số 2 (https://x.vn/2)")
    reply = rest_eval.read_reply([{"text": text, "buttons": FEEDBACK}])
    assert rest_eval.document_of(reply.source_url, {}) == "a b.txt"


@pytest.mark.parametrize(("url", "expected"), [
    ("http://kb-eval.invalid/van-ban/056_daklak.txt", "056_daklak.txt"),
    ("http://kb-eval.invalid/van-ban?id=..%2Fx.txt", "../x.txt"),
    ("https://quangtri.gov.vn/p?x=1", "002_quangtri.txt"),
    ("https://unknown.vn/", None),
    ("", None),
])
def test_the_document_of_a_source_address(url, expected):
    assert rest_eval.document_of(url, {"https://quangtri.gov.vn/p?x=1": "002_quangtri.txt"}) \
        == expected


def test_source_addresses_from_the_document_headers(tmp_path):
    (tmp_path / "a.txt").write_text("source: https://a.vn/1\ntitle: A\n---\nsource: no\n", "utf-8")
    (tmp_path / "b.txt").write_text("source: github:x/y:z.md\n---\nB", "utf-8")
    assert rest_eval.sources_of([tmp_path]) == {"https://a.vn/1": "a.txt"}


@pytest.fixture()
def fake_webhook():
    """A stand-in for Rasa's REST webhook: answers the Quảng Trị 2019 question, declines the
    rest, and records every (sender, message) it got."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((body["sender"], body["message"]))
            asked = fold_question(body["message"])
            reply = [ANSWER] if "2019" in asked and "quang tri" in asked else [DECLINE]
            data = json.dumps(reply, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_whole_evaluation_against_the_fake_webhook(fake_webhook):
    url, seen = fake_webhook
    questions = [
        {"id": "q003", "file": "qa", "question": "Quảng Trị ban hành kế hoạch kiểm tra CCHC năm "
         "2019 ngày nào, số mấy?", "answer": "Ngày 18/4/2019, Kế hoạch số 1629/KH-UBND",
         "answer_kind": "doc_number", "doc": "002_quangtri.txt", "evidence": ""},
        {"id": "cf-q003-year-2020", "file": "cf", "question": "Quảng Trị ban hành kế hoạch kiểm "
         "tra CCHC năm 2020 ngày nào, số mấy?", "answer": "", "answer_kind": "doc_number",
         "doc": None, "evidence": "", "change": "year"},
    ]
    by_source = {"https://quangtri.gov.vn/p?x=1": "002_quangtri.txt"}
    rows = rest_eval.evaluate_rest(url, questions, True, by_source, "t1")
    s = rest_eval.rest_summary(rows)
    assert s["answered_right"] == 1 and s["unanswerable_declined"] == 1
    assert s["by_change"] == {"year": {"n": 1, "declined": 1}}
    assert s["signal_conflicts"] == 0 and s["unresolved_citations"] == 0 and s["errors"] == 0
    assert [m for _, m in seen] == [fold_question(q["question"]) for q in questions]
    assert len({sender for sender, _ in seen}) == 2  # a conversation of its own each


def test_an_unreachable_webhook_is_an_error_row_not_a_crash():
    rows = rest_eval.evaluate_rest("http://127.0.0.1:9/webhooks/rest/webhook", [
        {"id": "x", "file": "qa", "question": "Câu hỏi?", "doc": None}], False, {}, "t2")
    assert rows[0]["error"] and rows[0]["declined"]
    assert rest_eval.rest_summary(rows)["errors"] == 1
