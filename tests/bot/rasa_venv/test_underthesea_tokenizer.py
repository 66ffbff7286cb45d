"""bot.nlu.underthesea_tokenizer in the Rasa venv: exact tokens, offsets that point at the
original characters, protected số hiệu/acronyms, and entity spans that still align."""

import re
import time
from pathlib import Path

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.underthesea_tokenizer import (
    DEFAULT_PROTECTED,
    UnderTheSeaTokenizer,
    has_diacritics,
    segment_spans,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tokenizer() -> UnderTheSeaTokenizer:
    return UnderTheSeaTokenizer(UnderTheSeaTokenizer.get_default_config())


def tokens(tokenizer, text):
    return [(t.text, t.start, t.end) for t in tokenizer.tokenize(Message({"text": text}), "text")]


def test_words_joined_with_underscores_and_offsets_on_the_original(tokenizer):
    text = "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại Sở Nội vụ?"
    got = tokens(tokenizer, text)
    assert [t for t, _, _ in got] == ["Năm", "2018", "tỉnh", "Quảng_Bình", "kiểm_tra", "công_tác",
                                      "cải_cách", "hành_chính", "tại", "Sở", "Nội_vụ"]
    for word, start, end in got:
        assert text[start:end].replace(" ", "_") == word


def test_document_numbers_and_acronyms_are_single_tokens(tokenizer):
    got = [t for t, _, _ in tokens(tokenizer, "QĐ 1331/QĐ-UBND và NĐ 09/2019/NĐ-CP về CCHC quý II")]
    assert got == ["QĐ", "1331/QĐ-UBND", "và", "NĐ", "09/2019/NĐ-CP", "về", "CCHC", "quý", "II"]


def test_text_without_diacritics_is_split_into_syllables(tokenizer):
    got = [t for t, _, _ in tokens(tokenizer, "da nang dung dau par index may nam?")]
    assert got == ["da", "nang", "dung", "dau", "par", "index", "may", "nam"]


def test_several_spaces_between_syllables(tokenizer):
    text = "kiểm   tra  CCHC"
    got = tokens(tokenizer, text)
    assert [(text[s:e]) for _, s, e in got][-1] == "CCHC"
    assert all(text[s:e].split() == w.split("_") for w, s, e in got)


def test_punctuation_only_message_is_one_token(tokenizer):
    assert tokens(tokenizer, "?!") == [("?!", 0, 2)]


def test_an_injected_segmenter_and_a_rewritten_word_fall_back_to_the_original():
    # a segmenter that "normalises" hoà → hòa: the words cannot be found, the text's own pieces
    # are used instead
    spans = segment_spans("hoà bình", lambda s: ["hòa bình"], re.compile(DEFAULT_PROTECTED),
                          segment_unaccented=True)
    assert spans == [(0, 3), (4, 8)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Quảng Bình", True), ("quang binh", False), ("Đ", True), ("dvc", False), ("", False),
])
def test_has_diacritics(text, expected):
    assert has_diacritics(text) is expected


def test_every_annotated_entity_of_the_training_data_aligns_with_tokens(tokenizer):
    data: TrainingData = load_data(str(ROOT / "data" / "nlu.yml"))
    tokenizer.process_training_data(data)
    misaligned = []
    for example in data.training_examples:
        toks = example.get(TOKENS_NAMES["text"]) or []
        starts, ends = {t.start for t in toks}, {t.end for t in toks}
        for entity in example.get("entities") or []:
            if entity["start"] not in starts or entity["end"] not in ends:
                misaligned.append((example.get("text"), entity["entity"], entity["value"]))
    assert misaligned == []


def test_lemmas_are_folded_so_both_spellings_share_features(tokenizer):
    with_marks = tokenizer.tokenize(Message({"text": "Quảng Bình kiểm tra CCHC"}), "text")
    without = tokenizer.tokenize(Message({"text": "quang binh kiem tra cchc"}), "text")
    assert [t.lemma for t in with_marks] == ["quang binh", "kiem tra", "cchc"]
    assert " ".join(t.lemma for t in with_marks) == " ".join(t.lemma for t in without)
    assert [t.text for t in with_marks] == ["Quảng_Bình", "kiểm_tra", "CCHC"]


def test_surface_lemma_and_syllable_mode():
    config = {**UnderTheSeaTokenizer.get_default_config(), "lemma": "surface",
              "word_segmentation": False}
    got = UnderTheSeaTokenizer(config).tokenize(Message({"text": "Đồng Hới, 1331/QĐ-UBND"}), "text")
    assert [(t.text, t.lemma) for t in got] == [("Đồng", "Đồng"), ("Hới", "Hới"),
                                                ("1331/QĐ-UBND", "1331/QĐ-UBND")]


def test_an_unknown_lemma_mode_is_refused():
    with pytest.raises(ValueError, match="lemma must be 'folded' or 'surface'"):
        UnderTheSeaTokenizer({**UnderTheSeaTokenizer.get_default_config(), "lemma": "stem"})


@pytest.mark.parametrize(("text", "protected"), [
    ("Số1331/QĐ-UBND ngày 13/4/2018", ["1331/QĐ-UBND", "13/4/2018"]),  # glued to a word
    ("ab12/3, v1.2/3 và 2018,1331/QĐ", ["12/3", "1.2/3", "2018,1331/QĐ"]),
    ("05-CTr/TU; 123/2020/TT-BTC; 1.5/2019", ["05-CTr/TU", "123/2020/TT-BTC", "1.5/2019"]),
    ("tăng 20%, giảm 1,5% và 12.345 hồ sơ", ["20%", "1,5%", "12.345"]),
], ids=["glued", "mid-word", "forms", "numbers"])
def test_protected_pattern_keeps_document_numbers_whole(text, protected):
    found = [m.group() for m in re.finditer(DEFAULT_PROTECTED, text)]
    assert [f for f in found if any(c.isdigit() for c in f)] == protected


@pytest.mark.parametrize("text", ["1a" * 8000, "1" * 16000, "1," * 8000, "1a" * 7999 + "/"],
                         ids=["1a", "digits", "digit-comma", "1a-slash"])
def test_long_hostile_messages_tokenize_in_linear_time(tokenizer, text):
    # the old number pattern took 25-40 s on these (every digit restarted a scan of the run)
    started = time.perf_counter()
    got = tokenizer.tokenize(Message({"text": text}), "text")
    assert time.perf_counter() - started < 2.0
    assert got and got[-1].end <= len(text)
