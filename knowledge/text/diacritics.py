"""Diacritics put back into a question typed without them, from the corpus's own words.

Most citizens type on phones without diacritics ("ke hoach cchc nam 2019 cua kon tum"). The
lexical scores fold diacritics anyway, but retrieval does better with the words as the
documents write them — the embedding model most of all. A :class:`DiacriticRestorer` is built
at ingest from the indexed texts: for each syllable typed without diacritics, the spelling the
corpus uses most often, and — where two neighbouring syllables decide it ("bao cao" → "báo
cáo", not "bảo cao") — the most frequent spelling of the pair. Place names come from the
gazetteer ("lam dong" → "lâm đồng"), question words from the lexicon ("may" → "mấy": documents
seldom ask). A syllable the corpus never writes stays as typed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from knowledge.lexicon.places import find_places
from knowledge.lexicon.words import QUESTION_SPELLINGS
from knowledge.text.vietnamese import fold_diacritics, has_diacritics

_SYLLABLE = re.compile(r"[^\W\d_]+")
#: a pair must be seen this often to decide over the single syllables
MIN_PAIR_COUNT = 2


class DiacriticRestorer:
    """Folded syllable (and pair) → the spelling the corpus uses most."""

    def __init__(self, words: dict[str, str], pairs: dict[str, list]) -> None:
        self.words = words  # "bao" → "báo"
        self.pairs = pairs  # "bao cao" → ["báo cáo", count]

    @classmethod
    def build(cls, texts: Iterable[str]) -> DiacriticRestorer:
        """Count the spellings of every syllable and neighbouring pair of ``texts``."""
        words: Counter[str] = Counter()
        pairs: Counter[str] = Counter()
        for text in texts:
            for line in text.lower().split("\n"):
                tokens = _SYLLABLE.findall(line)
                words.update(tokens)
                pairs.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
        best_word: dict[str, tuple[str, int]] = {}
        for word, n in words.items():
            key = fold_diacritics(word)
            if n > best_word.get(key, ("", 0))[1]:
                best_word[key] = (word, n)
        word_of = {k: w for k, (w, _) in best_word.items()}
        best_pair: dict[str, tuple[str, int]] = {}
        for pair, n in pairs.items():
            if n < MIN_PAIR_COUNT:
                continue
            key = fold_diacritics(pair)
            if n > best_pair.get(key, ("", 0))[1]:
                best_pair[key] = (pair, n)
        # a pair is kept only where it decides otherwise than its syllables do
        kept = {k: [p, n] for k, (p, n) in best_pair.items()
                if p != " ".join(word_of[s] for s in k.split())}
        return cls(word_of, kept)

    def restore(self, text: str) -> str:
        """``text`` with diacritics put back where the corpus decides them; text that already
        carries diacritics is returned unchanged.

        >>> r = DiacriticRestorer.build(["Báo cáo định kỳ", "báo cáo tháng", "bảo đảm", "bảo đảm",
        ...                               "bảo vệ", "về", "về"])
        >>> r.restore("bao cao dinh ky ve bao dam o lam dong")
        'báo cáo định kỳ về bảo đảm ở lâm đồng'
        """
        if has_diacritics(text):
            return text
        lowered = text.lower()
        spans = [(m.start(), m.end(), m.group(0)) for m in _SYLLABLE.finditer(lowered)]
        chosen: dict[int, str] = {}
        for place in find_places(text):  # the gazetteer knows place names best
            words = place.name.lower().replace(" - ", " ").split()
            first = next((i for i, sp in enumerate(spans) if sp[0] == place.start), None)
            if first is None or len(spans) < first + len(words):
                continue
            if all(fold_diacritics(w) == spans[first + k][2] for k, w in enumerate(words)):
                chosen.update({first + k: w for k, w in enumerate(words)})
        decided = sorted(
            ((self.pairs[f"{a[2]} {b[2]}"][1], i) for i, (a, b) in
             enumerate(zip(spans, spans[1:], strict=False))
             if f"{a[2]} {b[2]}" in self.pairs and lowered[a[1]:b[0]].isspace()),
            reverse=True)
        for _, i in decided:
            if i in chosen or i + 1 in chosen:
                continue
            first, second = self.pairs[f"{spans[i][2]} {spans[i + 1][2]}"][0].split()
            chosen[i], chosen[i + 1] = first, second
        for i, (_, _, word) in enumerate(spans):
            if i not in chosen and word in QUESTION_SPELLINGS:
                chosen[i] = QUESTION_SPELLINGS[word]
        out, at = [], 0
        for i, (start, end, word) in enumerate(spans):
            out.append(lowered[at:start])
            out.append(chosen.get(i) or self.words.get(word, word))
            at = end
        out.append(lowered[at:])
        return "".join(out)

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"words": self.words, "pairs": self.pairs},
                                   ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DiacriticRestorer:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["words"], data["pairs"])
