from datetime import date

import pytest

from knowledge.answering.followup import (
    asks_about_last_document,
    describe_document,
    rewrite_follow_up,
)
from knowledge.answering.question import analyze, classify
from knowledge.answering.reply import render_reply
from knowledge.base import KnowledgeBase
from knowledge.schema import AnswerKind

UNITS = ["Lao động – Thương binh và Xã hội", "Ngoại vụ", "Tài chính", "Xây dựng",
         "Văn hóa và Thể thao", "Ban Dân tộc", "Ba Đồn", "Tuyên Hóa", "Quảng Trạch", "Quảng Ninh"]


@pytest.mark.parametrize("question,kind", [
    ("Năm 2018 kiểm tra CCHC tại những đơn vị nào?", AnswerKind.LIST),
    ("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?", AnswerKind.NUMBER),
    ("Ai ký quyết định này?", AnswerKind.PERSON),
    ("Thời gian kiểm tra khi nào?", AnswerKind.DATE),
    ("Kế hoạch số mấy?", AnswerKind.DOC_NUMBER),
    ("bao nhieu don vi duoc kiem tra", AnswerKind.COUNT),
])
def test_classify(question, kind):
    assert classify(question) is kind


def test_relative_year_resolves_against_today():
    assert analyze("Năm nay kiểm tra ở đâu?", today=date(2026, 11, 22)).year == 2026
    assert analyze("nam ngoai kiem tra o dau", today=date(2026, 11, 22)).year == 2025


def test_inspected_units_answer_is_the_complete_list(seed_kb):
    answer = seed_kb.ask(
        "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?")
    assert not answer.declined
    for unit in UNITS:
        assert unit in answer.text
    assert "Nội dung kiểm tra" not in answer.text  # nothing from the neighbouring sentence
    assert answer.citations[0].number == "1331/QĐ-UBND"
    reply = render_reply(answer)
    assert "Nguồn: Quyết định số 1331/QĐ-UBND" in reply


def test_report_cut_target(seed_kb):
    answer = seed_kb.ask("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?")
    assert not answer.declined
    assert "tối thiểu 20%" in answer.text
    assert answer.citations[0].doc_id == "003_dd77de9ad5467bf9.txt"


def test_off_topic_question_is_declined_with_leads(seed_kb):
    answer = seed_kb.ask("Giá vé máy bay từ Hà Nội đi Đà Nẵng là bao nhiêu?")
    assert answer.declined
    assert 1 <= len(answer.citations) <= 3
    reply = render_reply(answer)
    assert "không tìm thấy" in reply or "không nêu" in reply


def test_this_year_is_not_answered_with_2018_facts(seed_kb):
    from dataclasses import replace

    kb = KnowledgeBase(replace(seed_kb.config, today=date(2026, 11, 22)),
                       embedder=seed_kb.embedder, analyzer=seed_kb.analyzer)
    answer = kb.ask("Năm nay tỉnh Quảng Bình kiểm tra công tác CCHC tại những đơn vị nào?")
    assert answer.declined
    assert "2026" in answer.text


def test_follow_up_rewrites_year_and_answers_document_questions(seed_kb):
    q = rewrite_follow_up("Năm 2018 tỉnh Quảng Bình kiểm tra CCHC tại những đơn vị nào?",
                          "Còn năm 2016 thì sao?", year="2016")
    assert q == "Năm 2016 tỉnh Quảng Bình kiểm tra CCHC tại những đơn vị nào?"
    assert asks_about_last_document("Văn bản đó do ai ban hành?") == "issuer"
    doc = seed_kb.document("000_bd7401f5dd8b7167.txt")
    answer = describe_document(doc, "issuer")
    assert answer.text == "Quyết định số 1331/QĐ-UBND do UBND tỉnh Quảng Bình ban hành."


def test_evaluation_scoring_rule():
    from knowledge.evaluate import answer_covers

    assert answer_covers("Mục tiêu cắt giảm tối thiểu 20% tổng số báo cáo định kỳ.",
                         "Cắt giảm tối thiểu 20% báo cáo định kỳ")
    assert not answer_covers("Mục tiêu cắt giảm tối thiểu 30% báo cáo định kỳ.",
                             "Cắt giảm tối thiểu 20% báo cáo định kỳ")  # numbers must match
    assert not answer_covers("Sở Tài chính", "Sở Nội vụ chủ trì, phối hợp các sở")
