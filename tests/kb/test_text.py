import pytest

from knowledge.text.legacy_encodings import repair_mojibake
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


@pytest.mark.parametrize("line", [
    "Tỷ lệ 10 · 3 khu vực khai thác khoáng sản, dò tìm nguồn nước ÷ 2",  # stray symbols
    "Nishijima (1986), tr. 552.**^**Ch'ü (1972), tr. 16.**^**Ch'ü (1972), tr. 84.",  # Wade-Giles
    "Escola Primária Nº 3 — në rrëfimet e tij",  # Portuguese, Albanian
])
def test_unicode_lines_with_foreign_or_symbol_characters_are_left_alone(line):
    """Found on the legal-scale corpus: such lines used to be "repaired" as TCVN3
    ("dò" → "dũ", "khoáng" → "khoỏng", "Primária" → "Primỏria")."""
    text = f"Kế hoạch cải cách hành chính năm 2018\n{line}\nTrong quý II và III/2018."
    decoded = repair_mojibake(text)
    assert decoded.text == text and decoded.encoding == "utf-8"
