import pytest

from knowledge.text.normalize import clean_text
from knowledge.text.segment import TermAnalyzer, expand_abbreviations, syllable_words
from knowledge.text.vietnamese import fold_diacritics, has_diacritics


def test_fold_diacritics():
    assert fold_diacritics("Quảng Bình, Đồng Hới") == "Quang Binh, Dong Hoi"
    assert has_diacritics("cải cách") and not has_diacritics("cai cach")


def test_clean_text_composes_and_collapses():
    decomposed = "ca\u0309i ca\u0301ch\u00a0\u00a0ha\u0300nh chi\u0301nh\r\n\n\n\nxong"
    assert clean_text(decomposed) == "cải cách hành chính\n\nxong"


def test_expand_abbreviations():
    assert expand_abbreviations("Kiểm tra CCHC") == "Kiểm tra CCHC cải cách hành chính"


def test_underthesea_terms_have_words_and_folded_syllables(analyzer):
    terms = analyzer.document_terms("Kiểm tra công tác cải cách hành chính")
    assert "cải_cách" in terms and "hành_chính" in terms
    assert "~cai" in terms and "~chinh" in terms


@pytest.mark.parametrize("query", ["nam 2018 kiem tra cchc o dau", "Năm 2018 kiểm tra CCHC ở đâu"])
def test_query_terms_match_with_or_without_diacritics(analyzer, query):
    terms = set(analyzer.query_terms(query))
    assert {"~kiem", "~tra", "~cai", "~cach", "~2018"} <= terms


def test_segmenter_is_injectable():
    analyzer = TermAnalyzer(segmenter=syllable_words)
    assert analyzer.words("Sở Tư pháp") == ["sở", "tư", "pháp"]
