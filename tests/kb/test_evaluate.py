"""The scoring of `kb eval` on tiny hand-made results: the rule of docs/benchmarks.md, the
summary per change kind, answer kind and file, several files and folded questions."""

from __future__ import annotations

import json

import pytest

from knowledge.evaluate import (
    fold_question,
    format_summary,
    load_questions,
    score,
    summarize,
)

ANSWERABLE = {"id": "a1", "file": "dev", "question": "Năm 2019 Lâm Đồng kiểm tra bao nhiêu đơn vị?",
              "answer": "25 đơn vị", "answer_kind": "count", "doc": "lamdong.txt",
              "evidence": "kiểm tra công tác cải cách hành chính của 25 đơn vị"}
ORIGINAL_UNANSWERABLE = {"id": "u1", "file": "dev", "question": "Giá vé tàu năm 2019?",
                         "answer": "", "answer_kind": "unanswerable", "doc": None,
                         "evidence": ""}
COUNTERFACTUAL = {"id": "cf-a1-year-2021", "file": "cf",
                  "question": "Năm 2021 Lâm Đồng kiểm tra bao nhiêu đơn vị?", "answer": "",
                  "answer_kind": "count", "doc": None, "evidence": "", "source_id": "a1",
                  "change": "year", "changed_from": "2019", "changed_to": "2021"}


def test_folding_is_what_phone_users_type():
    assert fold_question("Đắk Lắk kiểm tra CCHC ở Sở Nội vụ?") == \
        "dak lak kiem tra cchc o so noi vu?"
    assert fold_question("Kế hoạch 1576/KH-UBND") == "ke hoach 1576/kh-ubnd"


@pytest.mark.parametrize(("answer", "declined", "cited", "correct", "cited_gold"), [
    ("Sở Nội vụ kiểm tra 25 đơn vị trong năm 2019.", False, ["lamdong.txt"], True, True),
    ("Sở Nội vụ kiểm tra 25 đơn vị.", False, ["other.txt", "lamdong.txt"], False, False),
    ("Sở Nội vụ kiểm tra 24 đơn vị.", False, ["lamdong.txt"], False, True),  # number missing
    ("Tôi không tìm thấy câu trả lời.", True, ["lamdong.txt"], False, False),  # a decline
])
def test_answerable_rule(answer, declined, cited, correct, cited_gold):
    row = score(ANSWERABLE, asked=ANSWERABLE["question"], answer_text=answer,
                declined=declined, cited_docs=cited)
    assert row["correct"] is correct
    assert row["cited_gold"] is cited_gold
    assert row["declined"] is declined


def test_unanswerable_rule_and_fields_kept_for_debugging():
    row = score(COUNTERFACTUAL, asked=fold_question(COUNTERFACTUAL["question"]),
                answer_text="Sở Nội vụ kiểm tra 25 đơn vị.", declined=False,
                cited_docs=["lamdong.txt"], confidence=0.41, seconds=0.02, rank=None)
    assert row["correct"] is False and row["cited_gold"] is None and row["covers"] is None
    assert row["question"] == "nam 2021 lam dong kiem tra bao nhieu don vi?"
    assert row["question_original"] == COUNTERFACTUAL["question"]
    assert (row["change"], row["source_id"], row["changed_to"]) == ("year", "a1", "2021")
    assert row["cited"] == "lamdong.txt" and row["confidence"] == 0.41
    assert score(ORIGINAL_UNANSWERABLE, asked="x", answer_text="", declined=True)["change"] \
        == "original"


def _rows():
    right = score(ANSWERABLE, asked=ANSWERABLE["question"], answer_text="25 đơn vị",
                  declined=False, cited_docs=["lamdong.txt"], rank=1, seconds=0.1)
    false_decline = score({**ANSWERABLE, "id": "a2", "answer_kind": "doc_number"},
                          asked="q", answer_text="Xin lỗi", declined=True, rank=3, seconds=0.3)
    original = score(ORIGINAL_UNANSWERABLE, asked="q", answer_text="Xin lỗi", declined=True,
                     seconds=0.2)
    answered_cf = score(COUNTERFACTUAL, asked="q", answer_text="25 đơn vị", declined=False,
                        cited_docs=["lamdong.txt"], seconds=0.2)
    declined_cf = score({**COUNTERFACTUAL, "id": "cf2", "change": "place"}, asked="q",
                        answer_text="Xin lỗi", declined=True, seconds=0.2)
    return [right, false_decline, original, answered_cf, declined_cf]


def test_summary_overall_per_change_kind_and_file():
    s = summarize(_rows())
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (5, 2, 3)
    assert s["answer_accuracy"] == 0.5 and s["answered_right"] == 1
    assert s["cited_gold"] == 0.5
    assert s["false_declines"] == 1 and s["false_decline_rate"] == 0.5
    assert s["unanswerable_declined"] == 2 and s["decline_accuracy"] == round(2 / 3, 4)
    assert s["retrieval_r@1"] == 0.5 and s["retrieval_r@5"] == 1.0
    assert s["retrieval_mrr"] == round((1 + 1 / 3) / 2, 4)
    assert s["by_change"] == {"original": {"n": 1, "declined": 1},
                              "place": {"n": 1, "declined": 1},
                              "year": {"n": 1, "declined": 0}}
    assert s["by_kind"]["count"] == {"answerable": 1, "right": 1, "declined": 0,
                                     "unanswerable": 2, "unanswerable_declined": 1}
    assert s["by_kind"]["doc_number"]["declined"] == 1
    assert s["by_file"] == {
        "dev": {"answerable": 2, "right": 1, "false_declines": 1, "unanswerable": 1,
                "declined": 1},
        "cf": {"answerable": 0, "right": 0, "false_declines": 0, "unanswerable": 2,
               "declined": 1}}
    assert s["seconds_per_question"] == 0.2
    text = format_summary({**s, "folded": True})
    assert "answerable answered right: 50.0% (1/2)" in text
    assert "unanswerable declined: 66.7% (2/3)" in text
    assert "by change: original 1/1, place 1/1, year 0/1" in text
    assert "without diacritics" in text


def test_summary_without_retrieval_or_unanswerable_questions():
    rows = [score(ANSWERABLE, asked="q", answer_text="25 đơn vị", declined=False,
                  cited_docs=["lamdong.txt"])]
    s = summarize(rows)
    assert s["retrieval_r@1"] is None and s["decline_accuracy"] is None
    assert s["by_change"] == {} and s["seconds_per_question"] is None
    assert "retrieval" not in format_summary(s)


def test_several_files_with_a_limit_per_file(tmp_path):
    dev = tmp_path / "qa.jsonl"
    dev.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in [
        ANSWERABLE, {**ANSWERABLE, "id": "a2"}, ORIGINAL_UNANSWERABLE]) + "\n", "utf-8")
    cf = tmp_path / "counterfactual.jsonl"
    cf.write_text(json.dumps(COUNTERFACTUAL, ensure_ascii=False) + "\n\n", "utf-8")
    questions = load_questions([dev, cf], limit=2)
    assert [(q["id"], q["file"]) for q in questions] == [
        ("a1", "qa"), ("a2", "qa"), ("cf-a1-year-2021", "counterfactual")]


@pytest.mark.parametrize(("content", "message"), [
    ('{"id": "x", "question": "a"}\n{"id": "x", "question": "b"}\n', "duplicate id 'x'"),
    ('{"id": "x"}\n', "needs a 'question'"),
    ('{"id": "x", "question": \n', "not JSON"),
])
def test_bad_question_files_are_reported_with_their_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, "utf-8")
    with pytest.raises(ValueError, match=message):
        load_questions([path])
