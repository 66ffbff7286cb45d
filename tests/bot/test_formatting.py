"""The pure formatting helpers of the actions, on plain data."""

import pytest

from actions.formatting import (
    describe_places,
    describe_years,
    handoff_message,
    join_vi,
    knowledge_greeting,
)
from knowledge.schema import Document, DocumentMeta


def doc(i: int, year: int | None = None, places: tuple[str, ...] = (), kind: str = "") -> Document:
    return Document(f"d{i}", "…", DocumentMeta(year=year, places=places, doc_type=kind))


@pytest.mark.parametrize(("items", "expected"), [
    ([], ""), (["a"], "a"), (["a", "b"], "a và b"), (["a", "b", "c"], "a, b và c"),
])
def test_join_vi(items, expected):
    assert join_vi(items) == expected


def test_years_listed_or_as_a_range():
    assert describe_years([2018, 2016, 2018]) == "2016 và 2018"
    assert describe_years(range(2010, 2025)) == "từ 2010 đến 2024"


def test_places_most_frequent_first_and_capped():
    docs = [doc(1, places=("Quảng Trị", "Quảng Bình")), doc(2, places=("Quảng Bình",))]
    assert describe_places(docs) == "Quảng Bình và Quảng Trị"
    many = [doc(i, places=(f"Tỉnh {i:02d}",)) for i in range(9)]
    assert describe_places(many) == ("Tỉnh 00, Tỉnh 01, Tỉnh 02, Tỉnh 03, Tỉnh 04, Tỉnh 05 "
                                     "và 3 địa phương khác")


def test_greeting_without_metadata_still_counts_documents():
    text = knowledge_greeting([doc(1), doc(2)])
    assert "Hiện tôi có 2 văn bản. Tôi trả lời dựa trên" in text


def test_greeting_with_metadata():
    text = knowledge_greeting([doc(1, 2019, ("Quảng Trị",), "Kế hoạch"),
                               doc(2, 2019, ("Quảng Trị",), "Kế hoạch")])
    assert "Hiện tôi có 2 văn bản (2 kế hoạch) năm 2019, về Quảng Trị." in text


def test_handoff_message_keeps_one_final_stop():
    assert handoff_message("Tổ CCHC, 0232 000.").startswith(
        "Bạn có thể liên hệ cán bộ phụ trách CCHC: Tổ CCHC, 0232 000. Khi liên hệ")
