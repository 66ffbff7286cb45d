from pathlib import Path

import pytest

from knowledge.ingest.loaders import load_paths
from knowledge.ingest.metadata import extract_metadata
from knowledge.lexicon.dates import parse_dates
from knowledge.lexicon.doc_numbers import find_numbers, type_of_number

SEEDS = Path(__file__).resolve().parents[2] / "data" / "documents"


def test_numbers():
    text = "Quyết định số 1331/QĐ-UBND, Chương trình 05-CTr/TU, Kết luận 82-KL/TW, 559/QĐ-TTg"
    assert find_numbers(text) == ["1331/QĐ-UBND", "05-CTr/TU", "82-KL/TW", "559/QĐ-TTg"]
    assert find_numbers("Nghị định 09/2019/NĐ-CP ngày 13/4/2018, từ 05-14/10/2020") == [
        "09/2019/NĐ-CP"]


@pytest.mark.parametrize("number,kind", [("1331/QĐ-UBND", "Quyết định"), ("82-KL/TW", "Kết luận"),
                                         ("05-CTr/TU", "Chương trình"), ("25-KH/HU", "Kế hoạch"),
                                         # hyphen lost in PDF extraction
                                         ("2468/QĐUBND", "Quyết định"),
                                         ("09/2025/NĐCP", "Nghị định"),
                                         ("03/2024/TTBTC", "Thông tư"),
                                         # not glued codes: departments, "TTg" alone
                                         ("11771/BNV-CTL", ""), ("2512/SGDĐT-KHTC", ""),
                                         ("331/TTG", ""), ("12/BCA-X", "")])
def test_type_of_number(number, kind):
    assert type_of_number(number) == kind


def test_dates_numeric_and_in_words():
    dates = [d.isoformat() for _, d in parse_dates(
        "Ngày 13/4/2018 và ngày 5 tháng 10 năm 2020; 31/2/2020 không hợp lệ")]
    assert dates == ["2018-04-13", "2020-10-05"]


@pytest.fixture(scope="module")
def seeds():
    return {d.id: d.meta for d in load_paths([SEEDS]).documents}


def test_seed_decision_metadata(seeds):
    meta = seeds["000_bd7401f5dd8b7167.txt"]
    assert meta.number == "1331/QĐ-UBND"
    assert meta.doc_type == "Quyết định"
    assert meta.date == "2018-04-13"
    assert meta.issuer == "UBND tỉnh Quảng Bình"
    assert "Quảng Bình" in meta.places
    assert meta.year == 2018


def test_seed_signer_and_year(seeds):
    meta = seeds["003_dd77de9ad5467bf9.txt"]
    assert meta.signer == "Nguyễn Văn Dương"
    assert meta.year == 2018
    assert meta.title == "Tổ chức thực hiện hiệu quả kế hoạch cải cách hành chính năm 2018"


def test_seed_references(seeds):
    meta = seeds["004_b657294e277d7aa6.txt"]
    assert {"25-KH/HU", "05-CTr/TU", "82-KL/TW"} <= set(meta.references)
    assert "Bình Định" in meta.places


def test_news_article_is_not_the_document_it_refers_to(seeds):
    """Seed 004 reports a Chỉ thị of Huyện ủy Hoài Ân (no number given) and cites "Kế hoạch số
    25-KH/HU ngày 06/6/2017": that plan is a reference, not the article's number or date."""
    meta = seeds["004_b657294e277d7aa6.txt"]
    assert meta.number == "" and meta.doc_type == "Tin tức"
    assert meta.issuer == "Huyện ủy Hoài Ân"  # "Ân" starts with a Vietnamese capital
    assert meta.date == "2018-10-05" and meta.year == 2018


def test_news_article_reporting_a_decision_keeps_its_number():
    meta = extract_metadata("Cải cách hành chính năm 2018 tại Quảng Bình\n\nNgày 13/4/2018, "
                            "căn cứ Kế hoạch số 12/KH-UBND, UBND tỉnh đã có Quyết định số "
                            "1331/QĐ-UBND về kiểm tra.")
    assert meta.number == "1331/QĐ-UBND" and meta.doc_type == "Quyết định"
    assert "12/KH-UBND" in meta.references


def test_signer_whose_given_name_starts_with_a_vietnamese_capital():
    meta = extract_metadata("Kế hoạch kiểm tra năm 2020\n"
                            "Chủ tịch UBND tỉnh Lê Văn Út đã ký ban hành")
    assert meta.signer == "Lê Văn Út"


def test_explicit_metadata_wins():
    from knowledge.ingest.loaders import make_document

    doc = make_document("x", "Quyết định số 1/QĐ-UBND ngày 2/3/2020", {"number": "9/QĐ-X"})
    assert doc.meta.number == "9/QĐ-X"
    assert doc.meta.date == "2020-03-02"


def test_extract_metadata_without_anything():
    meta = extract_metadata("một đoạn văn ngắn không có gì")
    assert meta.number == "" and meta.date == "" and meta.doc_type == "Tin tức"
