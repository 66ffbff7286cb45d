"""A Rasa tokenizer that segments Vietnamese into words with underthesea.

Vietnamese writes one syllable per space-separated unit ("cải cách hành chính" is two words of
two syllables each). ``UnderTheSeaTokenizer`` asks ``underthesea.word_tokenize`` for the words
and emits one Rasa ``Token`` per word, its text joined with ``_`` ("cải_cách") and its offsets
spanning the original characters, so entity annotations keep their character spans.

Each token's ``lemma`` -- what Rasa's ``CountVectorsFeaturizer`` counts (``use_lemma``) -- is the
word lower-cased, without diacritics, its syllables separated by spaces ("Quảng Bình" →
"quang binh"). People type with and without diacritics; with this lemma "Quảng Bình" and
"quang binh" share their bag-of-words and character n-gram features, while the token text and
offsets keep what was typed (``lemma: surface`` keeps the typed form instead).

Tokens that must never be merged or split are protected first: document numbers
("1331/QĐ-UBND", "09/2019/NĐ-CP"), numbers, acronyms ("CCHC", "UBND") and anything else matching
``protected_pattern``. underthesea's model was trained on text with diacritics and merges
syllables of text typed without them almost at random ("da nang dung" → "da", "nang_dung"), so a
stretch of text with no diacritic at all is split on white space instead (``segment_unaccented``
turns that off). Stand-alone punctuation is dropped, like ``WhitespaceTokenizer`` does.

Use in ``config.yml``::

    - name: bot.nlu.underthesea_tokenizer.UnderTheSeaTokenizer
      word_segmentation: false

The project runs it with ``word_segmentation: false`` (one token per syllable, protected spans and
folded lemmas kept): in the cross-validation of round r4 that beat word segmentation on entities
because a place typed with or without diacritics then has the same token shape
(docs/nlu-evaluation.md).

underthesea is imported on first use (about 1 s), not when Rasa imports this module.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

# Số hiệu văn bản ("1331/QĐ-UBND", "05-CTr/TU"), numbers, percentages; acronyms ("CCHC", "TT&TT").
# Linear time on any text (tests/security/test_regex_linear.py): a số hiệu starts at a digit not
# preceded by a digit, "." or "," and has at most 24 more characters before its first "/" or "-".
# The former unbounded "\d[\w.,]*" was tried again from every digit of a long run and took
# quadratic time ("1a" * 10000: 37 s); both give the same tokens on every training example.
DEFAULT_PROTECTED = (r"(?<![\d.,])\d[\w.,]{0,24}(?:[/-][\w.]+)+|\d+(?:[.,]\d+)*%?"
                     r"|(?<!\w)[A-ZĐ][A-ZĐ&]+(?!\w)")
_WORD = re.compile(r"\w", re.UNICODE)
_SYLLABLE = re.compile(r"[\w&]+|[^\w\s]+")

Segmenter = Callable[[str], list[str]]


@functools.lru_cache(maxsize=1)
def _underthesea_segmenter() -> Segmenter:
    from underthesea import word_tokenize  # heavy: loads the CRF model on first call

    def segment(text: str) -> list[str]:
        return word_tokenize(text, use_token_normalize=False)

    return segment


def fold(text: str) -> str:
    """Lower-case, without Vietnamese diacritics: "Quảng Bình" → "quang binh"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_diacritics(text: str) -> bool:
    """True when ``text`` has a Vietnamese tone/vowel mark or đ ("Quảng" yes, "quang" no)."""
    return "đ" in text.lower() or any(
        unicodedata.combining(c) for c in unicodedata.normalize("NFD", text))


def _syllables(text: str) -> list[str]:
    """Plain syllables and punctuation runs: the segmenter for text without diacritics."""
    return _SYLLABLE.findall(text)


def segment_spans(text: str, segment: Segmenter, protected: re.Pattern[str],
                  segment_unaccented: bool = False) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the words of ``text``.

    Protected matches become one span each; the text between them is segmented by ``segment``
    and every word is located in the original text (syllables separated by any white space).
    A word that cannot be located (a segmenter that rewrote characters) falls back to its
    white-space-separated pieces, so spans always point at the original characters. Stretches
    without diacritics are split on white space unless ``segment_unaccented``.

    >>> segment_spans("kiểm tra 1331/QĐ-UBND", lambda s: [s.strip()], re.compile(r"\\d\\S+"))
    [(0, 8), (9, 21)]
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for match in [*protected.finditer(text), None]:
        stop = match.start() if match else len(text)
        piece = text[cursor:stop]
        use = segment if segment_unaccented or has_diacritics(piece) else _syllables
        spans.extend(_locate(text, cursor, stop, use))
        if match:
            spans.append(match.span())
            cursor = match.end()
    return spans


def _locate(text: str, begin: int, stop: int,
            segment: Segmenter) -> list[tuple[int, int]]:
    piece = text[begin:stop]
    if not piece.strip():
        return []
    spans = []
    cursor = begin
    for word in segment(piece):
        syllables = word.split()
        if not syllables:
            continue
        start = text.find(syllables[0], cursor, stop)
        end = start + len(syllables[0])
        for syllable in syllables[1:]:
            nxt = text.find(syllable, end, stop)
            if start < 0 or nxt < 0 or text[end:nxt].strip():
                start = -1
                break
            end = nxt + len(syllable)
        if start < 0:  # not found as one word: keep the remaining text's plain pieces
            logger.debug("underthesea word %r not found in %r", word, piece)
            spans.extend((m.start() + cursor, m.end() + cursor)
                         for m in re.finditer(r"\S+", text[cursor:stop]))
            return spans
        spans.append((start, end))
        cursor = end
    return spans


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class UnderTheSeaTokenizer(Tokenizer):
    """Vietnamese word segmentation (underthesea) as a Rasa 3 tokenizer."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # regex of spans kept as single tokens, never segmented
            "protected_pattern": DEFAULT_PROTECTED,
            # how the syllables of a multi-syllable word are joined in the token text
            "join_symbol": "_",
            # also segment text typed without diacritics (underthesea does that poorly)
            "segment_unaccented": False,
            # the lemma the featurizers count: "folded" (lower-case, no diacritics, syllables
            # separated by spaces) or "surface" (the token text)
            "lemma": "folded",
            # False: one token per syllable (only the folded lemma and protected spans remain)
            "word_segmentation": True,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["vi"]

    @staticmethod
    def required_packages() -> list[str]:
        return ["underthesea"]

    def __init__(self, config: dict[str, Any], segmenter: Segmenter | None = None) -> None:
        super().__init__(config)
        self._protected = re.compile(config["protected_pattern"])
        self._join = config["join_symbol"]
        self._segment_unaccented = bool(config["segment_unaccented"])
        if config["lemma"] not in ("folded", "surface"):
            raise ValueError(f"lemma must be 'folded' or 'surface', not {config['lemma']!r}")
        self._fold_lemma = config["lemma"] == "folded"
        self._word_segmentation = bool(config["word_segmentation"])
        self._segmenter = segmenter

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnderTheSeaTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        if self._word_segmentation:
            segment = self._segmenter or _underthesea_segmenter()
        else:
            segment = _syllables
        tokens = []
        for start, end in segment_spans(text, segment, self._protected,
                                        self._segment_unaccented):
            surface = text[start:end]
            if not _WORD.search(surface):
                continue  # stand-alone punctuation
            syllables = surface.split()
            lemma = " ".join(fold(s) for s in syllables) if self._fold_lemma else None
            tokens.append(Token(self._join.join(syllables), start, end, lemma=lemma))
        if not tokens:
            tokens = [Token(text, 0, len(text))]
        return self._apply_token_pattern(tokens)
