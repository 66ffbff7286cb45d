"""The counterfactual generator: its verification rules on tiny documents, a whole run on a
three-document fixture corpus, and the committed set (well formed; current when the shared
cchc-dev corpus is beside the checkout)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.qa import make_counterfactuals as cf

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "counterfactual"
COMMITTED = Path(cf.__file__).resolve().parent / "counterfactual.jsonl"


def _doc(text: str, own_year: int | None = None, provinces: frozenset = frozenset()):
    folded = cf.fold(text)
    years, ranges = cf.year_spans(folded, own_year)
    return cf.CorpusDoc("d.txt", text, folded, frozenset(years), tuple(ranges), provinces)


@pytest.mark.parametrize(("text", "own_year", "covered", "not_covered"), [
    ("giai đoạn 2016 -\n2020", None, {2016, 2018, 2020}, {2015, 2021}),
    ("Chương trình tổng thể giai đoạn 20112020", None, {2011, 2015, 2020}, {2021}),
    ("lộ trình từ năm 2024 đến 2025", None, {2024, 2025}, {2023}),
    ("nhiệm kỳ 2016–2021", None, {2019}, {2022}),
    ("hỗ trợ doanh nghiệp đến năm 2020", 2016, {2016, 2017, 2020}, {2015, 2021}),
    ("Nghị định 09/2019/NĐ-CP ngày 24/01/2019", None, {2019}, {2009, 2024}),
])
def test_years_a_document_covers(text, own_year, covered, not_covered):
    years, _ = cf.year_spans(cf.fold(text), own_year)
    assert covered <= years
    assert not (not_covered & years)


def test_a_period_counts_only_when_a_range_covers_it():
    doc = _doc("Kế hoạch cải cách hành chính giai đoạn 2011 - 2020")
    assert cf.doc_has(doc, "period", "2016-2020")
    assert not cf.doc_has(doc, "period", "2021-2025")


@pytest.mark.parametrize(("text", "value", "held"), [
    ("Quyết định số 1577/QĐUBND ngày 2/11/2018", "1577", True),  # glued type code
    ("theo KH số 1577 của UBND", "1577", True),  # type word, no code
    ("đạt 1577 hồ sơ", "1577", True),  # a long number may not occur at all
    ("Chỉ thị số 13/CT-UBND", "13", True),  # "013" asked, "13" written
    ("ngày 13/6/2013", "13", False),  # a date is not a document number
    ("Nghị định số 10/2019/NĐ-CP", "10/2019", True),
    ("ngày 08/10/2019", "10/2019", True),  # conservative: "10/2019" is there
    ("ngày 10/11/2019", "10/2019", False),
    ("Nghị định 61/2018/NĐ-CP", "60/2018", False),
])
def test_document_numbers_with_and_without_their_type_code(text, value, held):
    assert cf.doc_has(_doc(text), "number", value) is held


def test_indexes_and_agencies_are_found_without_diacritics():
    doc = _doc("Công bố Chỉ số hài lòng về sự phục vụ hành chính; Sở Tư pháp Bình Dương")
    assert cf.doc_has(doc, "index", "SIPAS")
    assert not cf.doc_has(doc, "index", "PAPI")
    assert cf.doc_has(doc, "agency", "Sở Tư pháp")
    assert not cf.doc_has(doc, "agency", "Sở Nội vụ")


@pytest.mark.parametrize(("question", "expected"), [
    ("lich cham diem chi so cchc nam 2017 o ba ria vung tau bat dau tu ngay nao?",
     [("index", "PAR INDEX", "cchc"), ("year", "2017", "2017"),
      ("place", "Bà Rịa - Vũng Tàu", "ba ria vung tau")]),
    ("Kế hoạch CCHC năm 2019 của tỉnh Quảng Trị?",  # CCHC alone is the reform, not an index
     [("year", "2019", "2019"), ("place", "Quảng Trị", "Quảng Trị")]),
    ("nd 09/2019 co dieu chinh khong?", [("number", "9/2019", "09")]),
    ("Tháng 7/2025 tổng số hồ sơ là bao nhiêu?", [("month", "7/2025", "7/2025")]),
    ("Theo KH 1576 của TP.HCM, hệ thống triển khai đến đâu?",
     [("number", "1576", "1576"), ("place", "Hồ Chí Minh", "TP.HCM")]),
    ("Ai ký Chỉ thị số 23 về Chương trình tổng thể giai đoạn 2021-2030?",
     [("number", "23", "23"), ("period", "2021-2030", "2021-2030")]),
])
def test_anchors_of_a_question(question, expected):
    got = [(a.kind, a.value, question[a.start:a.end]) for a in cf.find_anchors(question)]
    assert got == expected


def test_merger_groups_stand_for_each_other():
    assert cf.merger_group("Bình Dương") == {"Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"}
    assert cf.merger_group("Sơn La") == {"Sơn La"}


def test_a_run_on_the_fixture_corpus():
    result = cf.generate(FIXTURE)
    kept = {r["id"]: r for r in result.kept}
    dropped = {c.id: reason for c, reason in result.dropped}
    # the gold document covers 2016-2020 and its own date is 2017: the nearest free years
    assert [r["changed_to"] for r in result.kept
            if r["source_id"] == "k1" and r["change"] == "year"] == ["2021", "2015"]
    for year in ("2019", "2017", "2020", "2016"):
        assert dropped[f"cf-k1-year-{year}"] == "year: in the gold document"
    # no province the corpus names, nor one merged with it: Kon Tum and Quảng Ngãi, Đắk Lắk
    # and Phú Yên, Quảng Nam (only in a source address) and Đà Nẵng
    excluded = {"Kon Tum", "Quảng Ngãi", "Đắk Lắk", "Phú Yên", "Quảng Nam", "Đà Nẵng"}
    places = [r for r in result.kept if r["change"] == "place"]
    assert places and not any(cf.fold(p) == cf.fold(r["changed_to"])
                              for r in places for p in excluded)
    # a question typed without diacritics keeps that style; the number keeps its zero
    folded = [r for r in result.kept if r["source_id"] == "k2"]
    assert all(r["question"] == r["question"].lower() and cf.fold(r["question"]) ==
               r["question"] for r in folded)
    numbers = [r for r in folded if r["change"] == "number"]
    assert len(numbers) == 1 and numbers[0]["changed_to"] in ("011", "014")  # 013: "13/QĐ"
    assert ("k3", "follow-up (needs the previous turn)") in result.skipped_sources
    for row in kept.values():
        assert row["doc"] is None and row["answer"] == "" and row["evidence"] == ""
        assert row["change"] in cf.CHANGES
    assert cf.to_jsonl(cf.generate(FIXTURE).kept) == cf.to_jsonl(result.kept)  # deterministic


def test_the_committed_set_is_well_formed():
    rows = [json.loads(line) for line in COMMITTED.read_text("utf-8").splitlines()]
    assert len(rows) >= 100
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({cf.fold(r["question"]) for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"id", "question", "answer", "answer_kind", "doc", "evidence",
                          "source_id", "change", "changed_from", "changed_to"}
        assert r["doc"] is None and r["answer"] == ""
        assert r["change"] in cf.CHANGES
        assert r["changed_to"] in r["question"] and r["changed_from"] != r["changed_to"]


@pytest.mark.skipif(not (cf.DEFAULT_CORPUS / "qa.jsonl").exists(),
                    reason="the shared cchc-dev corpus is not beside this checkout")
def test_the_committed_set_is_what_the_generator_makes():
    assert cf.main(["--check"]) == 0
