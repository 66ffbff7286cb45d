"""The "Nguồn:" link goes only to the console's document page or to an allow-listed domain: a
document's own ``source`` comes from the file (an uploaded page's canonical link, a ``.txt``
``source:`` line) and must never send citizens to a look-alike site."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.answering.links import allowed_link, parse_link_domains
from knowledge.answering.reply import render_reply, source_url
from knowledge.config import KnowledgeConfig
from knowledge.ingest.loaders import load_paths
from knowledge.schema import Answer, Citation

BASE = "https://tro-ly.example.gov.vn"
CITED = Citation(doc_id="tin/kiem-tra.html", title="", number="1331/QĐ-UBND",
                 date="2018-04-13", quote="kiểm tra tại 10 đơn vị", doc_type="Quyết định",
                 issuer="UBND tỉnh Quảng Bình")
PAGE = f"{BASE}/van-ban/tin/kiem-tra.html"

HOSTILE = [
    "https://gov.vn.evil.com/vb/1331",
    "https://evil.com/?gov.vn",
    "https://evil.com/gov.vn",
    "https://evil.com#gov.vn",
    "https://user@gov.vn.evil.com",
    "https://gov.vn@evil.com/",
    "https://quangbinh.gov.vn:8443@evil.com/",
    "https://evil.com\\@quangbinh.gov.vn/",  # browsers read "\" as "/": host evil.com
    "https://evil.com\t.gov.vn/",  # browsers drop tabs
    "https://quangbinh.gov.vn:8443/",  # an odd port on an allowed host
    "javascript:alert(1)//gov.vn",
    "JaVaScRiPt://gov.vn/%0aalert(1)",
    "data:text/html,<a href=https://gov.vn>",
    "ftp://quangbinh.gov.vn/a.pdf",
    "//quangbinh.gov.vn/vb",  # no scheme
    "https://quangbinh.gоv.vn/vb",  # Cyrillic "о": an IDN look-alike
    "https://quangbinh.xn--gv-zka.vn/vb",  # the same look-alike in ASCII form
    "https://quangbinhgov.vn/vb",  # not a subdomain
    "https://quangbinh.gov.vn%2eevil.com/",
    "https://[::1]/gov.vn",
    "http://127.0.0.1/gov.vn",
    "https://quangbinh.gov.vn /x",
    "",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_sources_never_become_links(url):
    assert not allowed_link(url)
    answer = Answer("Năm 2018 kiểm tra tại Sở Ngoại vụ.", False, (replace(CITED, source=url),))
    reply = render_reply(answer, document_url_base=BASE)
    assert reply.splitlines()[1].endswith(f"({PAGE})")  # the console's page instead
    if url:
        assert url not in reply
    assert source_url(replace(CITED, source=url)) == ""  # no base: no link at all


@pytest.mark.parametrize("url", [
    "https://quangbinh.gov.vn/tin-tuc/kiem-tra-cchc-2018",
    "http://gov.vn/",
    "HTTPS://SoNoiVu.QuangBinh.Gov.VN/a?b=c#d",
    "https://quangbinh.gov.vn:443/vb",
    "https://quangbinh.gov.vn./vb",
])
def test_sources_on_an_allowed_domain_are_links(url):
    answer = Answer("Năm 2018 kiểm tra tại Sở Ngoại vụ.", False, (replace(CITED, source=url),))
    assert render_reply(answer, document_url_base=BASE).splitlines()[1].endswith(f"({url})")


def test_aggregate_answers_apply_the_allow_list_to_every_source():
    cited = (replace(CITED, source="https://gov.vn.evil.com/1"),
             replace(CITED, doc_id="b.txt", source="https://quangbinh.gov.vn/2"))
    reply = render_reply(Answer("Hai văn bản.", False, cited, kind="aggregate"), BASE)
    assert "evil" not in reply
    assert f"({PAGE})" in reply and "(https://quangbinh.gov.vn/2)" in reply


def test_the_domains_are_a_setting(monkeypatch, tmp_path):
    cited = replace(CITED, source="https://www.moha.example.org/vb")
    answer = Answer("Có.", False, (cited,))
    monkeypatch.setenv("KB_SOURCE_LINK_DOMAINS", "gov.vn, moha.example.org")
    cfg = KnowledgeConfig.from_env(index_dir=tmp_path)
    assert cfg.source_link_domains == ("gov.vn", "moha.example.org")
    assert "(https://www.moha.example.org/vb)" in render_reply(
        answer, BASE, link_domains=cfg.source_link_domains)
    assert f"({PAGE})" in render_reply(answer, BASE)  # the default is gov.vn only
    monkeypatch.setenv("KB_SOURCE_LINK_DOMAINS", "")  # set but empty: no external link at all
    cfg = KnowledgeConfig.from_env(index_dir=tmp_path)
    gov = Answer("Có.", False, (replace(CITED, source="https://quangbinh.gov.vn/vb"),))
    assert cfg.source_link_domains == ()
    assert f"({PAGE})" in render_reply(gov, BASE, link_domains=cfg.source_link_domains)
    monkeypatch.delenv("KB_SOURCE_LINK_DOMAINS")
    assert KnowledgeConfig.from_env(index_dir=tmp_path).source_link_domains == ("gov.vn",)


@pytest.mark.parametrize("bad", ["https://gov.vn", "gov.vn:443", "*.gov.vn", "gov.vn/x", "vn",
                                 "a..vn", "-a.vn"])
def test_domain_settings_must_be_bare_domain_names(bad):
    with pytest.raises(ValueError, match="bare domain names"):
        parse_link_domains(bad)
    with pytest.raises(ValueError, match="bare domain names"):
        KnowledgeConfig(source_link_domains=(bad,))


def test_an_uploaded_page_keeps_its_hostile_canonical_link_as_text_only(tmp_path):
    """What a hostile portal page turns into: the canonical link stays metadata, the reply
    links the console's page of the document."""
    page = tmp_path / "tin.html"
    page.write_text(
        '<html><head><link rel="canonical" href="https://quangbinh.gov.vn.evil.com/vb">'
        "<title>Kiểm tra</title></head><body><article><h1>Kiểm tra cải cách hành chính</h1>"
        "<p>Ngày 14/5/2018, UBND tỉnh Quảng Bình ban hành Quyết định số 1331/QĐ-UBND về kiểm "
        "tra công tác cải cách hành chính năm 2018 tại các sở, ngành.</p></article></body>"
        "</html>", encoding="utf-8")
    (tmp_path / "ghi-chu.txt").write_text(
        "source: https://evil.com/?quangbinh.gov.vn\n---\nGhi chú về kế hoạch cải cách hành "
        "chính năm 2019 của tỉnh Quảng Bình.\n", encoding="utf-8")
    report = load_paths([tmp_path])
    sources = {d.id: d.meta.source for d in report.documents}
    assert sources == {"tin.html": "https://quangbinh.gov.vn.evil.com/vb",
                       "ghi-chu.txt": "https://evil.com/?quangbinh.gov.vn"}
    for doc in report.documents:
        cited = replace(CITED, doc_id=doc.id, source=doc.meta.source)
        reply = render_reply(Answer("Có.", False, (cited,)), BASE)
        assert "evil" not in reply and f"{BASE}/van-ban/{doc.id}" in reply
