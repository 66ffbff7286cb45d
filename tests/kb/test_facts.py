"""Structured facts extracted at ingest (knowledge.ingest.facts) and the answers over several
documents built on them (knowledge.answering.aggregate)."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.answering.aggregate import AggregateAnswerer, AggregateKind, detect
from knowledge.answering.question import analyze
from knowledge.answering.reply import render_reply
from knowledge.ingest.facts import DocumentFacts, extract_facts, parse_units
from knowledge.ingest.loaders import load_paths
from knowledge.lexicon.dates import find_period
from tests.conftest import FIXTURES, SEEDS
from tests.kb.memory_corpus import MemoryCorpus

TODAY = date(2026, 11, 22)


def _aggregate(docs, facts):
    """``answer(question)`` over ``docs`` and their facts, as the knowledge base asks it."""
    answerer = AggregateAnswerer(MemoryCorpus(docs.values()), facts)
    return lambda question: answerer.answer(analyze(question, TODAY))


@pytest.fixture(scope="module")
def seeds():
    return {d.id: d for d in load_paths([SEEDS]).documents}


@pytest.fixture(scope="module")
def seed_facts(seeds):
    return {doc_id: extract_facts(doc) for doc_id, doc in seeds.items()}


@pytest.fixture(scope="module")
def directive():
    (doc,) = load_paths([FIXTURES / "facts" / "chithi-excerpt.txt"]).documents
    return doc


# -- periods and units -----------------------------------------------------------------------
@pytest.mark.parametrize("text, year, quarters", [
    ("Thời gian kiểm tra dự kiến trong quý II và III/2018.", 2018, (2, 3)),
    ("tổ chức trong quý 4 năm 2020", 2020, (4,)),
    ("hoàn thành trước ngày 30/6/2019", 2019, (2,)),
    ("Từ ngày 05-14/10/2020, Đoàn kiểm tra", 2020, (4,)),
    ("trong 6 tháng đầu năm 2021", 2021, (1, 2)),
    ("sửa Nghị định 69/2024/NĐ-CP ngày 25 tháng 6 năm 2024, hoàn thành trong tháng 11 năm 2025",
     2025, (4,)),
])
def test_periods(text, year, quarters):
    period = find_period(text)
    assert period is not None and (period.year, period.quarters) == (year, quarters)


def test_no_period_in_plain_text():
    assert find_period("Tăng cường kỷ luật, kỷ cương hành chính.") is None


def test_units_keep_compound_names_and_give_group_nouns():
    units = parse_units("các sở: Lao động – Thương binh và Xã hội, Văn hóa và Thể thao, "
                        "Ban Dân tộc và UBND thị xã Ba Đồn, các huyện Tuyên Hóa, Quảng Ninh")
    assert units == ("Sở Lao động – Thương binh và Xã hội", "Sở Văn hóa và Thể thao",
                     "Ban Dân tộc", "UBND thị xã Ba Đồn", "huyện Tuyên Hóa", "huyện Quảng Ninh")
    assert parse_units("nhằm đánh giá đúng thực trạng công tác lãnh đạo, chỉ đạo") == ()


# -- facts of the seed documents ----------------------------------------------------------------
def test_inspection_plan_of_2018(seed_facts):
    (inspection,) = seed_facts["000_bd7401f5dd8b7167.txt"].inspections
    assert inspection.year == 2018 and inspection.unit_count == 10
    assert inspection.units[0] == "Sở Lao động – Thương binh và Xã hội"
    assert inspection.units[-1] == "huyện Quảng Ninh" and "Ban Dân tộc" in inspection.units
    assert inspection.period and inspection.period.text == "quý II và III/2018"
    (plan,) = seed_facts["000_bd7401f5dd8b7167.txt"].plans
    assert plan.year == 2018 and plan.number == "1331/QĐ-UBND"
    assert plan.name.startswith("Kế hoạch Kiểm tra công tác cải cách hành chính")


def test_counted_inspections_of_2016(seed_facts):
    first = seed_facts["001_333fcd91c9346b67.txt"].inspections[0]
    assert first.year == 2016 and first.unit_count == 17 and not first.units
    assert first.counted == "5 sở, ngành; 4 huyện, thị xã, thành phố; 8 xã, phường, thị trấn"


def test_target_and_assignments_of_a_news_article(seed_facts):
    facts = seed_facts["003_dd77de9ad5467bf9.txt"]
    (target,) = facts.targets
    assert target.figure == "tối thiểu 20%" and "báo cáo định kỳ" in target.subject
    agencies = [a.agency for a in facts.assignments]
    assert agencies == ["Sở Thông tin và Truyền thông", "Sở Nội vụ"]
    assert facts.assignments[1].task.startswith("chủ trì, phối hợp")


def test_tasks_under_an_agency_heading_with_deadlines(directive):
    facts = extract_facts(directive)
    tasks = [(a.agency, a.deadline.text if a.deadline else None) for a in facts.assignments]
    assert tasks == [("Bộ Công an", "tháng 10 năm 2025"), ("Bộ Công an", "tháng 11 năm 2025"),
                     ("Bộ Tài chính", "trước ngày 30/6/2026"),
                     ("Văn phòng Chính phủ", "trước ngày 15/12/2025")]
    assert any(t.figure == "tối thiểu 30%" and "thời gian giải quyết" in t.subject
               for t in facts.targets)


def test_facts_round_trip_through_json(seed_facts):
    for facts in seed_facts.values():
        assert DocumentFacts.from_dict(facts.to_dict()) == facts


# -- questions over several documents ----------------------------------------------------------
@pytest.mark.parametrize("question, kind", [
    ("Năm 2018 có những kế hoạch CCHC nào?", AggregateKind.PLANS),
    ("nam 2016 co nhung ke hoach nao", AggregateKind.PLANS),
    ("So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?", AggregateKind.INSPECTIONS),
    ("Những việc nào phải xong trong quý II?", AggregateKind.DUE),
    ("Quý này cần hoàn thành những nhiệm vụ gì?", AggregateKind.DUE),
    ("Kế hoạch kiểm tra năm 2018 gồm những đơn vị nào?", None),
    ("Quyết định 1331/QĐ-UBND có những kế hoạch nào?", None),
    ("Thời gian kiểm tra dự kiến vào quý nào?", None),
    ("Năm 2016 ở Quảng Bình kiểm tra những đơn vị nào?", AggregateKind.INSPECTED_ELSEWHERE),
])
def test_detect(question, kind):
    asked = detect(analyze(question, TODAY))
    assert (asked.kind if asked else None) == kind


def test_plans_of_a_year_come_from_several_documents(seeds, seed_facts):
    answer = _aggregate(seeds, seed_facts)(
        "Năm 2018 có những kế hoạch CCHC nào?")
    assert not answer.declined and answer.kind == "aggregate"
    assert "Kế hoạch Kiểm tra công tác cải cách hành chính (CCHC) năm 2018" in answer.text
    assert "Kế hoạch cải cách hành chính năm 2018" in answer.text
    assert "2016" not in answer.text.split("\n", 1)[1]
    assert {c.doc_id for c in answer.citations} == {"000_bd7401f5dd8b7167.txt",
                                                    "003_dd77de9ad5467bf9.txt"}


def test_inspections_compared_across_years_and_places(seeds, seed_facts):
    answer = _aggregate(seeds, seed_facts)(
        "So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?")
    first = answer.text.split("\n")[0]
    assert first == "Năm 2018 kiểm tra 10 đơn vị, ít hơn năm 2016 (17 đơn vị) 7 đơn vị."
    assert "1331/QĐ-UBND" in answer.text and "Bạc Liêu" in answer.text
    assert "hai địa phương khác nhau" in answer.text  # Quảng Bình 2018 vs Bạc Liêu 2016


def test_due_in_a_quarter(seeds, seed_facts):
    answer = _aggregate(seeds, seed_facts)(
        "Những việc nào phải xong trong quý II?")
    assert "kiểm tra 10 đơn vị" in answer.text and "quý II và III/2018" in answer.text
    assert answer.citations[0].number == "1331/QĐ-UBND"


def test_this_quarter_without_facts_says_so_and_offers_the_latest_year(seeds, seed_facts):
    answer = _aggregate(seeds, seed_facts)(
        "Quý này phải làm những việc gì?")
    assert answer.declined
    assert "quý IV" in answer.text and "2026" in answer.text and "năm 2018" in answer.text


def test_this_year_plans_are_never_another_years(seeds, seed_facts):
    answer = _aggregate(seeds, seed_facts)(
        "Năm nay có những kế hoạch CCHC nào?")
    assert answer.declined and "2026" in answer.text and "năm 2018" in answer.text


def test_a_directive_answers_what_is_due(directive):
    docs = {directive.id: directive}
    answer = _aggregate(docs, {directive.id: extract_facts(directive)})(
        "Những việc nào phải hoàn thành trong quý IV năm 2025?")
    lines = answer.text.split("\n")
    assert lines[0].endswith("(3):")
    assert sum("Bộ Công an:" in line for line in lines) == 2
    assert any("Văn phòng Chính phủ:" in line for line in lines)
    assert not any("Bộ Tài chính:" in line for line in lines)  # due in quý II/2026
    assert "Nguồn: Chỉ thị số 24/CT-TTg" in render_reply(answer)


def test_knowledge_base_answers_aggregates_from_stored_facts(seed_kb):
    answer = seed_kb.ask("So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?")
    assert answer.kind == "aggregate" and "10 đơn vị" in answer.text
    assert seed_kb._index().data.facts["000_bd7401f5dd8b7167.txt"].inspections


def test_an_answer_from_several_documents_lists_every_source(seeds, seed_facts):
    answer = _aggregate(seeds, seed_facts)(
        "So với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?")
    reply = render_reply(answer, document_url_base="http://127.0.0.1:8080")
    sources = reply.split("\nNguồn:\n", 1)[1].splitlines()
    assert sources[0] == ("• Quyết định số 1331/QĐ-UBND ngày 13/4/2018 của UBND tỉnh Quảng Bình "
                          "(http://127.0.0.1:8080/van-ban/000_bd7401f5dd8b7167.txt)")
    assert sources[1].startswith("• bài “Kiểm tra thực hiện công tác cải cách hành chính năm "
                                 "2016") and "/van-ban/001_333fcd91c9346b67.txt" in sources[1]


def test_a_year_held_only_for_another_place_is_said_so(seeds, seed_facts):
    agg = _aggregate(seeds, seed_facts)
    answer = agg("Năm 2016 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại "
                 "những đơn vị nào?")
    assert answer.declined  # related facts are offered, the asked ones are not there
    assert answer.text.startswith("Các văn bản hiện có không nêu việc kiểm tra năm 2016 ở "
                                  "Quảng Bình.")
    assert "Bạc Liêu" in answer.text and "5 sở, ngành; 4 huyện" in answer.text
    assert "15 sở, ngành" not in answer.text  # a "thanh tra", not a "kiểm tra"
    assert answer.citations[0].doc_id == "001_333fcd91c9346b67.txt"
    # the year and place the documents do hold: the passage answerer answers
    assert agg("Năm 2018 tỉnh Quảng Bình kiểm tra CCHC tại những đơn vị nào?") is None
    assert agg("Năm 2016 kiểm tra CCHC tại những đơn vị nào?") is None
