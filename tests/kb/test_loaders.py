import unicodedata
from pathlib import Path

import pytest

from knowledge.ingest.loaders import LoadError, load_jsonl, load_paths, load_text_file, split_header

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_header_is_explicit_metadata():
    doc = load_text_file(FIXTURES / "docs" / "kh-kiemtra-2019.txt", "kh.txt")
    assert doc.meta.title == "Kế hoạch kiểm tra công tác cải cách hành chính năm 2019"
    assert doc.meta.source == "https://example.gov.vn/kh-kiem-tra-2019"
    assert doc.meta.number == "1629/KH-UBND"
    assert doc.meta.date == "2019-04-18"
    assert doc.text.startswith("Ngày 18/4/2019")


def test_split_header_ignores_ordinary_text():
    text = "Theo đó: các sở\n---\nsau"
    assert split_header(text) == ({}, text)


def test_decomposed_unicode_is_normalised_to_nfc():
    doc = load_text_file(FIXTURES / "docs" / "decomposed-2017.txt", "d.txt")
    assert unicodedata.is_normalized("NFC", doc.text)
    assert "cải cách hành chính" in doc.text


def test_folder_ids_are_relative_paths_and_broken_files_are_reported(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Kế hoạch cải cách hành chính năm 2020 của tỉnh.")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf-8")
    (tmp_path / "empty.md").write_text("   \n")
    report = load_paths([tmp_path])
    assert [d.id for d in report.documents] == ["sub/a.txt"]
    reasons = dict(report.failures)
    assert "not valid UTF-8" in reasons[str(tmp_path / "bad.txt")]
    assert "no text" in reasons[str(tmp_path / "empty.md")]


def test_jsonl_bulk_records():
    docs = load_jsonl(FIXTURES / "bulk.jsonl")
    assert [d.id for d in docs] == ["bulk-1", "bulk-2"]
    assert docs[0].meta.number == "559/QĐ-TTg"
    assert docs[0].meta.date == "2017-04-24"
    assert docs[1].meta.year == 2020 and docs[1].meta.places == ("Hà Nội",)


def test_jsonl_record_without_text_is_an_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(LoadError, match="line 1: a record needs"):
        load_jsonl(bad)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_paths([tmp_path / "nope"])
