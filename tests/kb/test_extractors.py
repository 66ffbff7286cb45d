"""Each extractor alone, on tiny Vietnamese sentences: the shape it looks for (``fit``) and
the answer it cuts out (``extract``)."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.answering.extractors import extractor_for
from knowledge.answering.extractors.agency import AgencyExtractor
from knowledge.answering.extractors.count import CountExtractor
from knowledge.answering.extractors.date import DateExtractor
from knowledge.answering.extractors.definition import DefinitionExtractor
from knowledge.answering.extractors.doc_number import DocNumberExtractor, full_mention
from knowledge.answering.extractors.figure import FigureExtractor, has_figure
from knowledge.answering.extractors.listing import ListExtractor, list_items
from knowledge.answering.extractors.location import LocationExtractor
from knowledge.answering.extractors.passage import PassageExtractor
from knowledge.answering.extractors.person import PersonExtractor
from knowledge.answering.extractors.purpose import PurposeExtractor
from knowledge.answering.extractors.yes_no import YesNoExtractor, verdict
from knowledge.answering.question import analyze
from knowledge.schema import AnswerKind
from tests.kb.memory_corpus import MemoryCorpus, doc

TODAY = date(2026, 11, 28)


def _q(question: str):
    return analyze(question, TODAY)


@pytest.mark.parametrize("kind,extractor", [
    (AnswerKind.DOC_NUMBER, DocNumberExtractor), (AnswerKind.NUMBER, FigureExtractor),
    (AnswerKind.COUNT, CountExtractor), (AnswerKind.DATE, DateExtractor),
    (AnswerKind.LIST, ListExtractor), (AnswerKind.PERSON, PersonExtractor),
    (AnswerKind.AGENCY, AgencyExtractor), (AnswerKind.YES_NO, YesNoExtractor),
    (AnswerKind.DEFINITION, DefinitionExtractor), (AnswerKind.PURPOSE, PurposeExtractor),
    (AnswerKind.LOCATION, LocationExtractor), (AnswerKind.PASSAGE, PassageExtractor),
    (AnswerKind.AGGREGATE, PassageExtractor),
])
def test_each_kind_has_its_extractor(kind, extractor):
    assert type(extractor_for(kind)) is extractor


# -- số hiệu ---------------------------------------------------------------------------------
def test_doc_number_wants_a_number_the_question_does_not_name():
    q = _q("Kế hoạch 1576/KH-UBND được ban hành để thực hiện nghị định nào?")
    e = DocNumberExtractor()
    assert e.fit(q, "Thực hiện Nghị định số 61/2018/NĐ-CP ngày 23/4/2018.") == 1
    assert e.fit(q, "Kế hoạch 1576/KH-UBND về đánh giá hài lòng.") == 0


def test_doc_number_answer_puts_the_number_and_its_date_first():
    corpus = MemoryCorpus([doc("kh.txt", "Kế hoạch đánh giá hài lòng.")])
    q = _q("Kế hoạch này thực hiện nghị định nào?")
    got = DocNumberExtractor().extract(
        q, "Thực hiện Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ.", None, corpus)
    assert got.text.startswith("Nghị định số 61/2018/NĐ-CP ngày 23/4/2018. Thực hiện")
    assert got.source is None  # the decree itself is not in the knowledge base


def test_doc_number_answer_cites_the_document_it_names_when_held():
    decree = doc("nd.txt", "Nghị định quy định chế độ báo cáo.", number="09/2019/NĐ-CP",
                 title="Nghị định 09/2019/NĐ-CP quy định về chế độ báo cáo",
                 date="2019-01-24")
    corpus = MemoryCorpus([decree])
    q = _q("Chế độ báo cáo được quy định tại nghị định nào?")
    got = DocNumberExtractor().extract(q, "Theo Nghị định số 09/2019/NĐ-CP, chế độ báo cáo …",
                                       None, corpus)
    assert got.text.startswith("Nghị định số 09/2019/NĐ-CP ngày 24/1/2019")
    assert got.source is not None and got.source.id == "nd.txt"


def test_doc_number_of_the_type_asked_comes_first():
    corpus = MemoryCorpus([])
    q = _q("Kế hoạch được phê duyệt tại quyết định nào?")
    got = DocNumberExtractor().extract(
        q, "Căn cứ Nghị định số 61/2018/NĐ-CP, ban hành Quyết định số 225/QĐ-TTg.", None,
        corpus)
    assert got.text.startswith("Quyết định số 225/QĐ-TTg")


def test_full_mention_finds_the_dated_reference_in_the_document():
    text = ("… theo Nghị định số 61/2018/NĐ-CP.\nCăn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng "
            "4 năm 2018 của Chính phủ về thực hiện cơ chế một cửa; …")
    assert full_mention("61/2018/NĐ-CP", text) == (
        "Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ về thực hiện cơ chế một cửa")
    assert full_mention("61/2018/NĐ-CP", "theo Nghị định số 61/2018/NĐ-CP.") == ""


# -- figures and counts ---------------------------------------------------------------------
def test_figure_shapes_by_measure():
    e = FigureExtractor()
    percent = _q("Tỷ lệ hài lòng phải đạt bao nhiêu phần trăm?")
    assert e.fit(percent, "Mức độ hài lòng đạt tối thiểu 95%.") == 1
    assert e.fit(percent, "Mức độ hài lòng được nâng cao.") == 0
    money = _q("Kinh phí hỗ trợ là bao nhiêu?")
    assert e.fit(money, "Hỗ trợ 2 triệu đồng mỗi đơn vị.") == 1
    assert e.fit(money, "Hỗ trợ các đơn vị khó khăn.") == 0
    rank = _q("Bình Dương xếp thứ mấy về chỉ số PAPI?")
    assert e.fit(rank, "Bình Dương xếp thứ 5 cả nước.") == 1


def test_a_date_or_a_number_is_no_figure():
    assert not has_figure("Ngày 18/4/2019, ban hành Kế hoạch số 1629/KH-UBND năm 2019.")
    assert has_figure("Kiểm tra 25 đơn vị.")


def test_long_figure_sentence_is_cut_to_its_clause():
    q = _q("Mục tiêu giảm bao nhiêu phần trăm thời gian xử lý?")
    sentence = ("Phấn đấu đến hết năm 2025 cắt giảm, đơn giản hóa các thủ tục không cần thiết "
                "trong toàn bộ các lĩnh vực quản lý nhà nước thuộc phạm vi chức năng của bộ, "
                "ngành, địa phương, bảo đảm công khai, minh bạch, thuận lợi cho người dân, "
                "doanh nghiệp; giảm tối thiểu 30% thời gian xử lý thủ tục hành chính; tăng "
                "cường kết nối, chia sẻ dữ liệu giữa các cơ quan trong quá trình giải quyết hồ "
                "sơ, thủ tục cho người dân.")
    got = FigureExtractor().extract(q, sentence, None, MemoryCorpus([]))
    assert got.text.startswith("Giảm tối thiểu 30% thời gian xử lý thủ tục hành chính. (")


def test_count_wants_the_number_next_to_what_is_counted():
    q = _q("Có bao nhiêu cán bộ, công chức?")
    e = CountExtractor()
    assert e.fit(q, "Bộ phận có 11 cán bộ, công chức.") == 1
    assert e.fit(q, "Bộ phận làm việc 5 ngày mỗi tuần.") == 0.5
    assert e.fit(q, "Bộ phận làm việc cả tuần.") == 0


# -- dates, lists, people, agencies ------------------------------------------------------------
def test_date_answer_is_the_clause_with_the_date():
    q = _q("Thời gian kiểm tra là khi nào?")
    e = DateExtractor()
    assert e.fit(q, "Thời gian kiểm tra: quý II/2019.") == 1
    assert e.fit(q, "Đoàn kiểm tra gồm 5 thành viên.") == 0
    got = e.extract(q, "Đoàn gồm đại diện các sở; thời gian kiểm tra trong quý III/2019.", None,
                    MemoryCorpus([]))
    assert got.text == "Thời gian kiểm tra trong quý III/2019."


def test_list_counts_items_and_likes_a_lead_in():
    q = _q("Kiểm tra những sở nào?")
    e = ListExtractor()
    assert list_items("- Sở Y tế;\n- Sở Tài chính;\n- Sở Xây dựng.") == 3
    assert e.fit(q, "Đoàn kiểm tra tại các sở: Y tế, Tài chính, Xây dựng và Nội vụ.") == 1
    assert e.fit(q, "Sở Nội vụ cho biết, trong năm 2019 đã phối hợp kiểm tra 25 đơn vị.") == 0


def test_person_wants_a_name_or_a_title():
    q = _q("Ai chủ trì cuộc họp?")
    e = PersonExtractor()
    assert e.fit(q, "Đồng chí Đặng Phan Chung chủ trì cuộc họp.") == 1
    assert e.fit(q, "Phó Chủ tịch UBND tỉnh chủ trì cuộc họp.") == 0.7
    assert e.fit(q, "Cuộc họp diễn ra sáng nay.") == 0


def test_agency_wants_an_agency_with_its_duty():
    q = _q("Cơ quan nào chủ trì thực hiện?")
    e = AgencyExtractor()
    assert e.fit(q, "Sở Nội vụ chủ trì, phối hợp với các sở.") == 1
    assert e.fit(q, "Sở Nội vụ có trụ sở tại Đồng Hới.") == 0.5
    assert e.fit(q, "Việc thực hiện bắt đầu từ tháng 5.") == 0


# -- yes/no, definitions, purposes, places, passages ------------------------------------------
def test_yes_no_says_no_when_the_asked_word_is_negated():
    q = _q("Nghị định có điều chỉnh chế độ báo cáo thống kê không?")
    e = YesNoExtractor()
    sentence = "Nghị định này không điều chỉnh chế độ báo cáo thống kê."
    assert verdict(q.text, sentence) == "Không"
    assert e.fit(q, sentence) == 1
    assert e.extract(q, sentence, None, MemoryCorpus([])).text.startswith("Không. Nghị định")
    assert e.fit(q, "Nghị định gồm 5 chương.") == 0.5  # settles nothing


@pytest.mark.parametrize("extractor,question,good,bad", [
    (DefinitionExtractor(), "Báo cáo là gì?", "Báo cáo là văn bản trình bày kết quả.",
     "Báo cáo được gửi hằng tháng."),
    (PurposeExtractor(), "Kết quả kiểm tra dùng để làm gì?",
     "Kết quả làm cơ sở đánh giá xếp loại.", "Kết quả được công bố hằng năm."),
    (LocationExtractor(), "Trung tâm đặt ở đâu?", "Trung tâm đặt tại số 16 đường Trường Chinh.",
     "Trung tâm hoạt động từ 1/7/2025."),
])
def test_shape_of_definitions_purposes_and_places(extractor, question, good, bad):
    q = _q(question)
    assert extractor.fit(q, good) == 1
    assert extractor.fit(q, bad) == 0


def test_passage_has_no_shape_and_answers_with_the_clean_sentence():
    e = PassageExtractor()
    q = _q("Tình hình cải cách hành chính ra sao?")
    assert e.fit(q, "Bất kỳ câu nào.") is None
    assert e.extract(q, "(Baonghean.vn) - Cải cách hành chính tiến triển tốt.", None,
                     MemoryCorpus([])).text == "Cải cách hành chính tiến triển tốt."


def test_a_date_as_precise_as_asked():
    e = DateExtractor()
    day = _q("Kế hoạch ban hành ngày nào?")
    assert e.fit(day, "Ngày 18/4/2019, UBND tỉnh ban hành kế hoạch.") == 1
    assert e.fit(day, "UBND tỉnh ban hành kế hoạch năm 2019.") == 0  # a year is not a day
    month = _q("Kiểm tra vào tháng nào?")
    assert e.fit(month, "Đoàn kiểm tra trong tháng 6 năm 2019.") == 1
    assert e.fit(month, "Đoàn kiểm tra trong năm 2019.") == 0
    when = _q("Khi nào hoàn thành?")
    assert e.fit(when, "Hoàn thành trong quý II/2019.") == 1
