"""Word segmentation. The only module that talks to underthesea (loaded lazily, once).

Retrieval works on *terms*: lower-cased underthesea words joined with ``_``
(``"cải_cách"``), with abbreviations expanded, plus diacritic-free copies so a question typed
without diacritics finds the same passages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from knowledge.lexicon.words import ABBREVIATIONS, STOPWORDS
from knowledge.text.vietnamese import fold_diacritics, has_diacritics

Segmenter = Callable[[str], list[str]]

_TOKEN = re.compile(r"\w+(?:[./-]\w+)*", re.UNICODE)
FOLDED_PREFIX = "~"


@functools.lru_cache(maxsize=1)
def _underthesea_tokenize() -> Segmenter:
    from underthesea import word_tokenize  # heavy import (~3 s): only on first use

    return word_tokenize


def underthesea_words(text: str) -> list[str]:
    """Split ``text`` into Vietnamese words with underthesea.

    >>> underthesea_words("Kiểm tra công tác cải cách hành chính")
    ['Kiểm tra', 'công tác', 'cải cách', 'hành chính']
    """
    return _underthesea_tokenize()(text)


@functools.lru_cache(maxsize=200_000)
def _folded_term(syllable: str) -> str:
    """``"~" + fold_diacritics(syllable)``; a corpus repeats few syllables very often."""
    return FOLDED_PREFIX + fold_diacritics(syllable)


def folded_terms(text: str) -> set[str]:
    """The diacritic-free terms of ``text`` (``"~cai"``, ``"~cach"``) without segmenting it:
    what :meth:`TermAnalyzer.document_terms` folds, found by the tokenizer alone — cheap enough
    to run on every candidate sentence of every question."""
    return {_folded_term(t) for t in syllable_tokens(text)}


_SYLLABLE_TOKEN = re.compile(r"\w+(?:\.\w+)*")
_JOINERS = str.maketrans({"/": " ", "-": " ", "–": " "})


def syllable_tokens(text: str) -> list[str]:
    """Lower-cased tokens of ``text`` after abbreviations are expanded; "/" and "-" separate
    (a số hiệu "1629/KH-UBND" gives "1629", "kh", "ubnd"; "2016-2020" and "2016 - 2020" both
    give "2016", "2020")."""
    return _SYLLABLE_TOKEN.findall(expand_abbreviations(text).lower().translate(_JOINERS))


def syllable_words(text: str) -> list[str]:
    """A segmenter without a model: every syllable is a word (for tests and fallbacks)."""
    return _TOKEN.findall(text)


def expand_abbreviations(text: str) -> str:
    """Append the expansion after each known abbreviation: ``"CCHC"`` → ``"CCHC cải cách hành
    chính"``."""

    def repl(match: re.Match[str]) -> str:
        word = match.group(0)
        expansion = ABBREVIATIONS.get(word.lower())
        return f"{word} {expansion}" if expansion else word

    return _TOKEN.sub(repl, text)


class TermAnalyzer:
    """Turns text into BM25 terms. The segmenter is injected (underthesea by default).

    Each word yields its lower-cased form (``"cải_cách"``) and the diacritic-free syllables
    prefixed with ``~`` (``"~cai"``, ``"~cach"``). A query typed with diacritics is matched on
    words; a query typed without any is matched on the folded syllables only.
    """

    def __init__(self, segmenter: Segmenter | None = None) -> None:
        self._segment = segmenter or underthesea_words

    def words(self, text: str) -> list[str]:
        out = []
        for word in self._segment(expand_abbreviations(text)):
            for token in _TOKEN.findall(word.lower()):
                out.append(token)
            if " " in word.strip():
                joined = "_".join(_TOKEN.findall(word.lower()))
                if joined:
                    out.append(joined)
        return out

    def document_terms(self, text: str) -> list[str]:
        words = self.words(text)
        folded = [_folded_term(t) for t in words if "_" not in t]
        return words + folded

    def query_terms(self, text: str) -> list[str]:
        words = [w for w in self.words(text) if w not in STOPWORDS]
        if has_diacritics(text):
            return words + [FOLDED_PREFIX + fold_diacritics(t) for t in words if "_" not in t]
        return [FOLDED_PREFIX + fold_diacritics(t) for t in words if "_" not in t]
