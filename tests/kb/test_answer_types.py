"""Typed answers: sentence units, question kinds and the extraction of each kind of answer,
on small excerpts in tests/fixtures/answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.answering.extractors import extractor_for
from knowledge.answering.extractors.base import clean
from knowledge.answering.extractors.yes_no import verdict
from knowledge.answering.question import analyze, classify, question_parts
from knowledge.lexicon.doc_numbers import DocumentRef, document_refs
from knowledge.schema import AnswerKind
from knowledge.text.sentences import split_sentences as split_spans


def split_sentences(text: str) -> list[str]:
    return [s.text for s in split_spans(text)]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "answers"


def test_hard_wrapped_lines_are_joined_back_into_sentences():
    units = split_sentences((FIXTURES / "hard-wrapped.txt").read_text("utf-8"))
    assert "Tuyên Quang, ngày 10 tháng 12 năm 2013" in units  # a line going on with a digit
    assert ("Căn cứ Kế hoạch số 18/KH-UBND ngày 29/3/2012 của Ủy ban nhân dân tỉnh về kế hoạch "
            "cải cách hành chính tỉnh Tuyên Quang giai đoạn 2011 - 2015,") in units  # capitals
    # the preamble clause ends at its comma; the enacting sentence is a unit of its own
    assert ("Ủy ban nhân dân tỉnh ban hành kế hoạch cải cách hành chính tỉnh Tuyên Quang năm "
            "2014, cụ thể như sau:") in units
    assert "|" not in " ".join(units)  # table debris is never glued to a sentence
    assert "KẾ HOẠCH" in units  # headings stay apart
    assert units[-1] == ("1. Tiếp tục đẩy mạnh thực hiện có hiệu quả các nội dung công tác cải "
                         "cách hành chính.")


def test_news_paragraphs_are_not_joined():
    text = ("Kiểm tra cải cách hành chính 25 đơn vị trong năm 2019\n\n"
            "Sở Nội vụ Lâm Đồng cho biết đã kiểm tra 25 đơn vị.\n"
            "Đoàn đã kiểm tra 7 sở, ngành gồm Y tế, Tài chính và Xây dựng.")
    assert split_sentences(text) == [
        "Kiểm tra cải cách hành chính 25 đơn vị trong năm 2019",
        "Sở Nội vụ Lâm Đồng cho biết đã kiểm tra 25 đơn vị.",
        "Đoàn đã kiểm tra 7 sở, ngành gồm Y tế, Tài chính và Xây dựng.",
    ]


def test_a_list_stays_with_its_lead_in():
    text = ("2. Nghị định này không điều chỉnh:\n"
            "a) Chế độ báo cáo thống kê theo quy định\ncủa pháp luật về thống kê;\n"
            "b) Chế độ báo cáo mật.\n"
            "Điều 2. Đối tượng áp dụng")
    units = split_sentences(text)
    assert units[0] == ("2. Nghị định này không điều chỉnh:\na) Chế độ báo cáo thống kê theo quy "
                        "định của pháp luật về thống kê;\nb) Chế độ báo cáo mật.")


# -- what a question asks -----------------------------------------------------------------
@pytest.mark.parametrize("question,kind", [
    ("Theo KH 1576, hệ thống được triển khai đến những cơ quan nào?", AnswerKind.LIST),
    ("Cơ quan nào chủ trì kiểm tra CCHC?", AnswerKind.AGENCY),
    ("Sở nào của tỉnh xếp hạng cuối bảng?", AnswerKind.AGENCY),  # "Sở", not "số"
    ("Quyết định số mấy?", AnswerKind.DOC_NUMBER),
    ("Chính phủ yêu cầu giảm tối thiểu bao nhiêu % thời gian xử lý?", AnswerKind.NUMBER),
    ("Bộ phận một cửa có bao nhiêu cán bộ, công chức?", AnswerKind.COUNT),
    ("Bình Dương xếp thứ mấy về chỉ số PAPI?", AnswerKind.NUMBER),
    ("thi tuyen cong chuc con phai nop phieu ly lich tu phap khong?", AnswerKind.YES_NO),
    ("Kết quả kiểm tra dùng làm cơ sở để làm gì?", AnswerKind.PURPOSE),
    ("Bộ phận một cửa đặt trụ sở ở đâu?", AnswerKind.LOCATION),
    ("Trung tâm bắt đầu tiếp nhận hồ sơ từ thời điểm nào?", AnswerKind.DATE),
])
def test_question_kinds(question, kind):
    assert classify(question) is kind


def test_what_a_question_says_about_its_answer():
    a = analyze("Bộ phận một cửa có bao nhiêu cán bộ, công chức?")
    assert a.counted == "can bo" and a.measure == ""
    assert analyze("giảm bao nhiêu TTHC?").counted == "thu tuc"  # abbreviation expanded
    assert analyze("Tỷ lệ hài lòng đạt bao nhiêu %?").measure == "percent"
    assert analyze("Hỗ trợ chi phí chữ ký số tối đa bao nhiêu?").measure == "money"
    assert document_refs("nd 09/2019 co dieu chinh bao cao thong ke khong?") == (
        DocumentRef("Nghị định", 9, 2019),)
    assert document_refs("Theo KH 1576 của TP.HCM") == (DocumentRef("Kế hoạch", 1576),)
    ref = DocumentRef("Nghị định", 9, 2019)
    assert ref.matches("09/2019/NĐ-CP", "Nghị định")
    assert not ref.matches("09/2018/NĐ-CP", "Nghị định")
    assert not ref.matches("09/2019/QĐ-UBND", "Quyết định")


def test_two_questions_in_one():
    assert question_parts("Báo cáo PAPI công bố ngày nào và là năm thứ mấy được công bố?") == (
        "Báo cáo PAPI công bố ngày nào", "là năm thứ mấy được công bố")
    assert question_parts("Trung tâm chính thức hoạt động từ ngày nào, đặt ở đâu?") == (
        "Trung tâm chính thức hoạt động từ ngày nào", "đặt ở đâu")
    # one question: the comma lists what is counted; "bắt đầu" is not "đâu"
    assert question_parts("Có bao nhiêu cán bộ, công chức?") == ()
    assert question_parts("TTPVHCC bắt đầu tiếp nhận, trả kết quả từ thời điểm nào?") == ()


# -- the shape of an answer -----------------------------------------------------------------
def _fit(question: str, sentence: str) -> float | None:
    analysis = analyze(question)
    return extractor_for(analysis.kind).fit(analysis, sentence)


def test_a_percent_question_needs_a_percentage():
    q = "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu phần trăm?"
    assert _fit(q, "Giảm tối thiểu 20% số báo cáo định kỳ không phù hợp.") == 1
    assert _fit(q, "Hàng trăm thủ tục hành chính đã được đề xuất cắt giảm.") == 0


def test_a_count_wants_the_number_next_to_what_is_counted():
    q = "SIPAS 2019 chọn bao nhiêu người dân, tổ chức để khảo sát?"
    assert _fit(q, "36.630 người dân, tổ chức đã được chọn trong cả nước.") == 1
    assert _fit(q, "SIPAS 2019 khảo sát 16 lĩnh vực dịch vụ công.") == 0.5
    assert _fit(q, "Người dân, tổ chức được khảo sát ý kiến.") == 0


def test_a_list_question_wants_an_enumeration_with_its_lead_in():
    q = "Năm 2019 Lâm Đồng kiểm tra CCHC tại những sở, ngành nào?"
    assert _fit(q, "Đoàn đã kiểm tra 7 sở, ngành gồm Y tế, Tài chính, Xây dựng và Nội vụ.") == 1
    # a comma between two long clauses is no list
    assert _fit(q, "Sở Nội vụ cho biết, trong năm 2019 đã phối hợp với các sở tiến hành kiểm "
                   "tra công tác cải cách hành chính của 25 đơn vị.") == 0


def test_a_doc_number_question_wants_a_number_it_did_not_name():
    q = "Kế hoạch 1576/KH-UBND được ban hành để thực hiện nghị định nào?"
    assert _fit(q, "Thực hiện Nghị định số 61/2018/NĐ-CP ngày 23/4/2018.") == 1
    assert _fit(q, "Kế hoạch 1576/KH-UBND về đánh giá hài lòng.") == 0


@pytest.mark.parametrize("question,sentence,expected", [
    ("nd 09/2019 co dieu chinh che do bao cao thong ke khong?",
     "2. Nghị định này không điều chỉnh:\na) Chế độ báo cáo thống kê;", "Không"),
    ("thi tuyen cong chuc con phai tu nop phieu ly lich tu phap khong?",
     "Bỏ yêu cầu nộp Phiếu lý lịch tư pháp từ phía cá nhân.", "Không"),
    ("Khánh Hòa có đơn vị nào xếp hạng Yếu không?",
     "Còn 4 đơn vị xếp hạng Trung bình và không có đơn vị xếp hạng Yếu.", "Không"),
    ("Trung tâm có tiếp nhận hồ sơ trực tuyến không?",
     "Trung tâm tiếp nhận hồ sơ trực tuyến và trực tiếp.", "Có"),
    ("Trung tâm có tiếp nhận hồ sơ trực tuyến không?", "Trung tâm đặt tại tầng 1.", ""),
])
def test_yes_no_verdict(question, sentence, expected):
    assert verdict(question, sentence) == expected


def test_sections_and_their_items_stay_apart():
    text = ("c) Phối hợp đánh giá chất lượng phục vụ.\n\n4. Văn\nphòng UBND tỉnh\n\n"
            "a) Theo dõi, kiểm tra, đôn đốc báo cáo Chủ tịch UBND tỉnh.\n"
            "b) Tổng hợp kết quả thực hiện.")
    units = split_sentences(text)
    assert units[0] == "c) Phối hợp đánh giá chất lượng phục vụ."  # "4." is not item d)
    assert units[1].startswith("4. Văn phòng UBND tỉnh\na) Theo dõi")
    assert clean(units[1]).startswith("Văn phòng UBND tỉnh:\na) Theo dõi")


@pytest.mark.parametrize("raw,cleaned", [
    ("(2) Giảm tối thiểu 20% số báo cáo định kỳ.", "Giảm tối thiểu 20% số báo cáo định kỳ."),
    ("(Baonghean.vn) - Thực hiện Quyết định số 2525/QĐ-UBND.",
     "Thực hiện Quyết định số 2525/QĐ-UBND."),
    ("# Năm 2018, Sơn La đứng đầu cả nước.", "Năm 2018, Sơn La đứng đầu cả nước."),
    ("- Sở Tư pháp;\n- Sở Nội vụ.", "- Sở Tư pháp;\n- Sở Nội vụ."),  # a list keeps its markers
])
def test_answers_lose_the_debris_that_opens_a_passage(raw, cleaned):
    assert clean(raw) == cleaned


# -- typed answers end to end, on a small real index ----------------------------------------
@pytest.fixture(scope="module")
def answers_kb(tmp_path_factory, index_builder, embedder, analyzer):
    from knowledge.base import KnowledgeBase

    cfg, _ = index_builder(tmp_path_factory.mktemp("answers-index"), [FIXTURES / "docs"])
    return KnowledgeBase(cfg, embedder=embedder, analyzer=analyzer)


def _ask(kb, question: str):
    answer = kb.ask(question)
    assert not answer.declined, answer.text
    return answer


def test_list_answer_is_the_whole_enumeration(answers_kb):
    answer = _ask(answers_kb, "Năm 2019 Lâm Đồng kiểm tra CCHC tại những sở, ngành nào?")
    for unit in ("Tài nguyên - Môi trường", "Nông nghiệp và Phát triển nông thôn", "Xây dựng",
                 "Y tế", "Tài chính", "Giáo dục - Đào tạo", "Bảo hiểm xã hội tỉnh"):
        assert unit in answer.text
    assert "25 đơn vị" not in answer.text  # nothing from the neighbouring sentence


def test_count_answer_keeps_its_breakdown(answers_kb):
    answer = _ask(answers_kb, "Bộ phận tiếp nhận và trả kết quả huyện Đại Lộc có bao nhiêu cán "
                              "bộ, công chức?")
    assert answer.text.startswith("Bộ phận tiếp nhận và trả kết quả huyện Đại Lộc có 11 cán bộ")
    assert "3 công chức thuộc ngành dọc" in answer.text


def test_target_answer_is_the_figure_with_what_it_applies_to(answers_kb):
    answer = _ask(answers_kb, "Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu phần trăm?")
    assert answer.text.startswith("Giảm tối thiểu 20% số báo cáo định kỳ")


def test_doc_number_answer_names_the_document_itself(answers_kb):
    answer = _ask(answers_kb, "Nghị định quy định về chế độ báo cáo của cơ quan hành chính nhà "
                              "nước là nghị định số mấy?")
    assert answer.text.startswith("Nghị định số 09/2019/NĐ-CP ngày 24/1/2019")
    assert answer.citations[0].doc_id == "nd-chedobaocao.txt"


def test_doc_number_answer_is_not_the_number_the_question_names(answers_kb):
    answer = _ask(answers_kb, "Chỉ thị 012/CT-UBND của Đắk Lắk được ban hành để thực hiện nghị "
                              "quyết nào?")
    assert answer.text.startswith("Nghị quyết số 66/NQ-CP ngày 26/3/2025")


def test_yes_no_answer_says_no(answers_kb):
    answer = _ask(answers_kb, "nd 09/2019 co dieu chinh che do bao cao thong ke khong?")
    assert answer.text.startswith("Không.")
    assert "Chế độ báo cáo thống kê" in answer.text
    assert answer.citations[0].doc_id == "nd-chedobaocao.txt"


def test_agency_answer_is_the_heading_of_its_duties(answers_kb):
    answer = _ask(answers_kb, "Theo Chỉ thị 012 của Đắk Lắk, cơ quan nào theo dõi, đôn đốc và "
                              "báo cáo kết quả thực hiện Chỉ thị?")
    assert answer.text.startswith("Văn phòng UBND tỉnh:")


def test_date_and_place_in_one_answer(answers_kb):
    answer = _ask(answers_kb, "Trung tâm Phục vụ hành chính công tỉnh Đắk Lắk chính thức hoạt "
                              "động từ ngày nào, đặt ở đâu?")
    assert "01/7/2025" in answer.text
    assert "số 16 đường Trường Chinh" in answer.text
