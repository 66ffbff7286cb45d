"""Typed answers: sentence units, question kinds and the extraction of each kind of answer,
on small excerpts in tests/fixtures/answers."""

from __future__ import annotations

from pathlib import Path

from knowledge.answer import split_sentences

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
