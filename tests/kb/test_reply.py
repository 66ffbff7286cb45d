"""The reply users read: "Nguồn:" with a link to the cited document when there is one."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from knowledge.answering.reply import document_page_url, render_reply, source_url
from knowledge.config import KnowledgeConfig
from knowledge.schema import Answer, Citation

BASE = "http://127.0.0.1:8080"
QD_1331 = Citation(doc_id="001_quyet-dinh-1331.txt", title="", number="1331/QĐ-UBND",
                   date="2018-04-13", quote="kiểm tra tại 10 đơn vị", doc_type="Quyết định",
                   issuer="UBND tỉnh Quảng Bình")
ANSWER = Answer("Năm 2018 kiểm tra tại Sở Ngoại vụ, Sở Tài chính.", False, (QD_1331,))
SOURCE_LINE = "Nguồn: Quyết định số 1331/QĐ-UBND ngày 13/4/2018 của UBND tỉnh Quảng Bình"


def test_without_a_base_url_the_source_line_has_no_link():
    assert render_reply(ANSWER).splitlines() == [
        ANSWER.text, SOURCE_LINE, "Trích: “kiểm tra tại 10 đơn vị”"]


@pytest.mark.parametrize("base", [BASE, BASE + "/"])
def test_with_a_base_url_the_source_line_links_the_document_page(base):
    assert render_reply(ANSWER, document_url_base=base).splitlines() == [
        ANSWER.text, f"{SOURCE_LINE} ({BASE}/van-ban/001_quyet-dinh-1331.txt)",
        "Trích: “kiểm tra tại 10 đơn vị”"]


def test_a_document_with_its_own_address_links_there_with_or_without_a_base_url():
    from dataclasses import replace

    cited = replace(QD_1331, source="https://quangbinh.gov.vn/vb/1331")
    answer = replace(ANSWER, citations=(cited,))
    for base in ("", BASE):
        lines = render_reply(answer, document_url_base=base).splitlines()
        assert lines[1] == f"{SOURCE_LINE} (https://quangbinh.gov.vn/vb/1331)"
        assert not any(line.startswith("Xem:") for line in lines)  # one link, on "Nguồn:"


def test_a_local_file_source_is_not_a_link():
    from dataclasses import replace

    cited = replace(QD_1331, source="/srv/cchc/uploads/qd-1331.docx")
    assert source_url(cited) == ""
    assert source_url(cited, BASE) == f"{BASE}/van-ban/001_quyet-dinh-1331.txt"


def test_a_citation_without_a_document_gets_no_link():
    assert source_url(Citation("", "", "", "", "một đoạn trích"), BASE) == ""


def test_a_decline_lists_its_leads_without_links():
    declined = Answer("Xin lỗi, tôi không tìm thấy thông tin này.", True, (QD_1331,))
    assert render_reply(declined, document_url_base=BASE) == render_reply(declined)
    assert "http" not in render_reply(declined, document_url_base=BASE)


@pytest.mark.parametrize("doc_id,path", [
    ("001-foo.md", "/van-ban/001-foo.md"),
    ("sub/dir/x.md", "/van-ban/sub/dir/x.md"),
    ("thư mục/Quyết định 1331.md",
     "/van-ban/th%C6%B0%20m%E1%BB%A5c/Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%201331.md"),
    ("a+b&c?d#e%20(1).txt", "/van-ban/a%2Bb%26c%3Fd%23e%2520%281%29.txt"),
    ("ghi-chu.", "/van-ban/ghi-chu%2E"),  # chat clients trim a final "." off a URL
])
def test_document_page_url_keeps_slashes_and_encodes_the_rest(doc_id, path):
    url = document_page_url(BASE, doc_id)
    assert url == BASE + path
    assert unquote(urlsplit(url).path).removeprefix("/van-ban/") == doc_id


@pytest.mark.parametrize("doc_id", ["a/../b.txt", "./x.txt", "a//b.txt", "/tuyet-doi.txt", ".."])
def test_ids_a_browser_would_rewrite_go_in_the_query(doc_id):
    url = document_page_url(BASE, doc_id)
    parts = urlsplit(url)
    assert parts.path == "/van-ban" and parse_qs(parts.query)["id"] == [doc_id]


def test_config_reads_the_base_url_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_DOCUMENT_URL_BASE", "https://tro-ly.example.gov.vn/cchc/")
    cfg = KnowledgeConfig.from_env(index_dir=tmp_path)
    assert cfg.document_url_base == "https://tro-ly.example.gov.vn/cchc"
    monkeypatch.delenv("KB_DOCUMENT_URL_BASE")
    assert KnowledgeConfig.from_env(index_dir=tmp_path).document_url_base == ""


@pytest.mark.parametrize("bad", ["127.0.0.1:8080", "javascript:alert(1)", "http://",
                                 "http://h/?x=1", "ftp://h"])
def test_config_refuses_a_base_url_that_is_not_an_http_address(bad):
    with pytest.raises(ValueError, match="document_url_base must be an http"):
        KnowledgeConfig(document_url_base=bad)
