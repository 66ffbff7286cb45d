"""Detect and convert legacy Vietnamese encodings: TCVN3 (ABC), VNI and Windows-1258.

Documents typed before Unicode was common are still everywhere in Vietnamese offices:

* **TCVN3 (ABC)** — the ``.VnTime`` fonts. One byte per precomposed letter; read as cp1252 the
  text looks like ``"Céng hoµ x· héi chñ nghÜa ViÖt Nam"``. The table below is TCVN 5712:1993
  (VN3, the letters of the ABC fonts) as implemented by glibc's ``TCVN5712-1`` converter, byte
  by byte for ``0xA1``–``0xFF``; the combining marks at ``0xB0``–``0xB4`` and the upper-case
  letters VN1 puts at ``0x80``–``0x9F`` (where Windows puts quotes and dashes) are left out.
* **VNI** — the ``VNI-Times`` fonts. A base letter followed by an accent byte; read as cp1252 the
  text looks like ``"Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam"``.
* **Windows-1258** — Microsoft's code page with combining tone marks; Python's ``cp1258`` codec
  decodes it and NFC composes the marks.

A candidate decoding is scored by how Vietnamese it looks: the share of its non-ASCII words that
are valid Vietnamese syllables. The same scoring repairs *Unicode* text that still carries
TCVN3/VNI mojibake (a legacy file once converted to UTF-8 as if it were cp1252), line by line,
so a document that mixes fonts keeps its correct lines.

>>> tcvn3_to_unicode("Céng hoµ x· héi chñ nghÜa ViÖt Nam")
'Cộng hoà xã hội chủ nghĩa Việt Nam'
>>> vni_to_unicode("Ñoäc laäp - Töï do - Haïnh phuùc")
'Độc lập - Tự do - Hạnh phúc'
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

logger = logging.getLogger(__name__)

UTF8 = "utf-8"
WINDOWS_1258 = "windows-1258"
TCVN3 = "tcvn3"
VNI = "vni"

# --- TCVN3 (ABC): byte -> letter, TCVN 5712:1993 (glibc TCVN5712-1), 0xA1..0xFF --------------
_TCVN3_HIGH = (
    # 0xA1..0xAF
    "ĂÂÊÔƠƯĐăâêôơưđẰ"
    # 0xB0..0xB4 are combining marks in VN1, not used by the ABC fonts: left as cp1252
    "\0\0\0\0\0"
    # 0xB5..0xBF
    "àảãáạẲằẳẵắẴ"
    # 0xC0..0xCF
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"
    # 0xD0..0xDF
    "éẹềểễếệìỉỄẾỒĩíịò"
    # 0xE0..0xEF
    "Ổỏõóọồổỗốộờởỡớợù"
    # 0xF0..0xFF
    "ỖủũúụừửữứựỳỷỹýỵỐ"
)


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        return chr(byte)


# Single-byte legacy text is first read as cp1252 (what Windows shows, and what a careless
# conversion to UTF-8 produced); this table undoes the undefined holes of that reading too.
_CP1252 = {b: _cp1252_char(b) for b in range(0x80, 0x100)}
_LATIN1_TO_CP1252 = str.maketrans({chr(b): c for b, c in _CP1252.items() if chr(b) != c})

_TCVN3_CHARS: dict[str, str] = {}
for _offset, _letter in enumerate(_TCVN3_HIGH):
    if _letter != "\0":
        _TCVN3_CHARS[_CP1252[0xA1 + _offset]] = _letter
_TCVN3_TABLE = str.maketrans(_TCVN3_CHARS)
# A PDF text layer resolves some ABC glyphs to look-alikes: U+2212 (minus) for ư (0xAD, which
# cp1252 shows as a soft hyphen) and U+2219 (bullet operator) for ã (0xB7). Only next to letters.
_TCVN3_PDF_GLYPHS = re.compile(r"(?<=[^\W\d_])[\u2212\u2219]|[\u2212\u2219](?=[^\W\d_])")

# --- VNI: accent bytes (read as cp1252) -> combining marks; NFC composes them -----------------
_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE = "\u0302", "\u0306"
_VNI_LOWER = {
    "ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT,  # tone on any vowel
    "â": _CIRCUMFLEX, "á": _CIRCUMFLEX + _ACUTE, "à": _CIRCUMFLEX + _GRAVE,  # â ê ô
    "å": _CIRCUMFLEX + _HOOK, "ã": _CIRCUMFLEX + _TILDE, "ä": _CIRCUMFLEX + _DOT,
    "ê": _BREVE, "é": _BREVE + _ACUTE, "è": _BREVE + _GRAVE,  # ă
    "ú": _BREVE + _HOOK, "ü": _BREVE + _TILDE, "ë": _BREVE + _DOT,
    "ô": "ơ", "ö": "ư", "ñ": "đ",  # letters of their own
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",  # i and ỵ
}
_VNI_CHARS = dict(_VNI_LOWER)
for _code, _value in _VNI_LOWER.items():  # the upper-case accent byte is the lower one - 0x20
    _VNI_CHARS[chr(ord(_code) - 0x20)] = _value.upper()
_VNI_TABLE = str.maketrans(_VNI_CHARS)

# --- What a Vietnamese syllable looks like ----------------------------------------------------
_TONES = {_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT}
_SHAPES = {_CIRCUMFLEX, _BREVE, "\u031b"}  # circumflex, breve, horn
_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
# Vowel groups that end the syllable (their last vowel is a glide) and groups a final consonant
# may follow.
_OPEN = "iêu yêu oai oao oay oeo uây uôi ươi ươu uya uyu ai ao au ay âu ây eo êu ia iu oi ôi ơi "
_OPEN += "ua ui ưa ưi ưu"
_CLOSED = "uyê iê oa oă oe oo uâ uê uô uơ uy ươ yê a ă â e ê i o ô ơ u ư y"
_CODA = "ng|nh|ch|c|m|n|p|t"
_SYLLABLE = re.compile(
    rf"(?:{_ONSET})?(?:{'|'.join(_OPEN.split())}|(?:{'|'.join(_CLOSED.split())})(?:{_CODA})?)"
)
_VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvx"
    "yỳýỷỹỵ"
)
# A word: a run of anything but spaces and ASCII punctuation (TCVN3 letters look like
# punctuation: "th¸ng", "®Þnh", "c«ng"); typographic quotes and dashes are trimmed.
_WORD = re.compile(r"[^\s!-/:-@\[-`{-~]+")
_EDGE = "“”‘’„…–—•‹›"
_SAMPLE_CHARS = 200_000  # detection reads this much of a long file
# Characters that legacy text read as cp1252 shows and Vietnamese does not have: a line with
# none of them is left alone.
_NOT_VIETNAMESE = (set(_TCVN3_CHARS) | set(_VNI_CHARS) | set(_CP1252.values())) - set(
    _VIETNAMESE_LETTERS + _VIETNAMESE_LETTERS.upper() + "“”‘’–—…•\u00a0"
)
_MOJIBAKE_HINT = re.compile(
    "[" + re.escape("".join(sorted(_NOT_VIETNAMESE)) + "\u2212\u2219") + "]"
)


@dataclass(frozen=True)
class DecodedText:
    """Text read from bytes (or repaired), the encoding it was in, and whether we are sure.

    ``encoding`` is ``"utf-8"``, ``"windows-1258"``, ``"tcvn3"`` or ``"vni"``; Unicode text in
    which legacy mojibake was repaired says so: ``"utf-8+tcvn3"``.
    """

    text: str
    encoding: str
    confident: bool


@dataclass(frozen=True)
class Score:
    """How Vietnamese a text looks: ``valid`` of its ``words`` non-ASCII words are syllables."""

    valid: int
    words: int

    @property
    def ratio(self) -> float:
        return self.valid / self.words if self.words else 1.0


#: A line whose accented words are at least this share valid Vietnamese is left as it is.
MOJIBAKE_LINE_MAX_RATIO = 0.6
#: A conversion is kept only when it makes at least this share of the line's words valid
#: (foreign words — Albanian "në", Portuguese "Primária" — convert into non-words).
REPAIRED_LINE_MIN_RATIO = 0.8
#: Lines with fewer distinct accented words are converted only in a document shown to be
#: legacy text.
MIN_LINE_WORDS = 3


class EncodingError(ValueError):
    """Bytes whose encoding could not be detected, or mojibake that could not be repaired."""


@lru_cache(maxsize=65536)
def is_vietnamese_syllable(word: str) -> bool:
    """Whether ``word`` is a well-formed Vietnamese syllable (one tone at most).

    >>> [is_vietnamese_syllable(w) for w in ("Nghiệp", "Vieät", "th¸ng")]
    [True, False, False]
    """
    tones = 0
    kept: list[str] = []
    base = ""
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONES:
            if not base or base not in "aeiouy":  # a tone sits on a vowel ("ñi" is not "ni" + tone)
                return False
            tones += 1
        elif unicodedata.combining(ch):
            if ch not in _SHAPES:
                return False
            kept.append(ch)
        else:
            kept.append(ch)
            base = ch
    shape = unicodedata.normalize("NFC", "".join(kept))
    return tones <= 1 and _SYLLABLE.fullmatch(shape) is not None


def _words(text: str) -> list[str]:
    words = (w.strip(_EDGE) for w in _WORD.findall(text))
    # a word has a letter: a lone "·" or "÷" is a symbol, not a garbled word
    return [w for w in words if w and not w.isascii() and not any(c.isdigit() for c in w)
            and any(c.isalpha() for c in w)]


def vietnamese_score(text: str) -> Score:
    """Count the non-ASCII words of ``text`` and how many are valid Vietnamese syllables."""
    words = _words(unicodedata.normalize("NFC", text))
    return Score(sum(is_vietnamese_syllable(w) for w in words), len(words))


def tcvn3_to_unicode(text: str) -> str:
    """Convert TCVN3 (ABC) text read as cp1252/latin-1 into NFC Unicode."""
    text = text.translate(_LATIN1_TO_CP1252).translate(_TCVN3_TABLE)
    text = _TCVN3_PDF_GLYPHS.sub(lambda m: "ư" if m.group() == "\u2212" else "ã", text)
    return unicodedata.normalize("NFC", text)


def vni_to_unicode(text: str) -> str:
    """Convert VNI text read as cp1252/latin-1 into NFC Unicode."""
    return unicodedata.normalize("NFC", text.translate(_LATIN1_TO_CP1252).translate(_VNI_TABLE))


def _double_utf8_to_unicode(text: str) -> str:
    """Undo UTF-8 bytes that were read as cp1252 ("Cá»™ng" → "Cộng"), or return ``text``."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text


_REPAIRS = {TCVN3: tcvn3_to_unicode, VNI: vni_to_unicode, UTF8: _double_utf8_to_unicode}


def repair_mojibake(text: str) -> DecodedText:
    """Repair TCVN3/VNI (or doubly encoded UTF-8) mojibake inside Unicode ``text``, by line.

    A line is converted only when most of its accented words are not Vietnamese (fewer than
    ``MOJIBAKE_LINE_MAX_RATIO`` valid) and a conversion makes more of them valid, so correct
    Unicode lines are never touched. Raises :class:`EncodingError` when
    the text still looks like mojibake afterwards.

    >>> repair_mojibake("Ngày 5/3/2019\\nKÕ ho¹ch c¶i c¸ch hµnh chÝnh").text
    'Ngày 5/3/2019\\nKế hoạch cải cách hành chính'
    """
    text = unicodedata.normalize("NFC", text)
    if not _MOJIBAKE_HINT.search(text):
        return DecodedText(text, UTF8, True)
    used: dict[str, int] = {}
    lines = text.split("\n")
    # Two passes: lines with several accented words first; short lines ("Primária Nº",
    # "Ch'ü") only in a document where longer lines proved to be legacy text.
    for short_lines in (False, True):
        if short_lines and not used:
            break
        for n, line in enumerate(lines):
            if not _MOJIBAKE_HINT.search(line):
                continue
            best, best_score = line, vietnamese_score(line)
            if (best_score.words == 0 or best_score.ratio >= MOJIBAKE_LINE_MAX_RATIO
                    or (len(set(_words(line))) < MIN_LINE_WORDS) != short_lines):
                # a Unicode line with a stray "·" or "÷" is not mojibake: converting it would
                # turn valid words into others ("dò" → "dũ", "khoáng" → "khoỏng")
                continue
            for name, convert in _REPAIRS.items():
                candidate = convert(line)
                score = vietnamese_score(candidate)
                if (score.words and score.ratio > best_score.ratio + 1e-9
                        and score.ratio >= REPAIRED_LINE_MIN_RATIO):
                    best, best_score, best_name = candidate, score, name
            if best is not line:
                lines[n] = best
                used[best_name] = used.get(best_name, 0) + 1
    repaired = "\n".join(lines)
    final = vietnamese_score(repaired)
    garbled = [w for w in _words(repaired)
               if _MOJIBAKE_HINT.search(w) and not is_vietnamese_syllable(w)]
    if len(garbled) >= 3 and len(garbled) >= 0.4 * final.words:
        raise EncodingError(
            f"the text looks mis-encoded (mojibake): {len(garbled)} of {final.words} accented "
            f"words are not Vietnamese (e.g. {' '.join(garbled[:3])!r}) and no TCVN3/VNI/UTF-8 "
            "repair fixed them"
        )
    if not used:  # valid Unicode, left as it is
        return DecodedText(repaired, UTF8, True)
    encoding = "+".join([UTF8, *sorted(used, key=used.get, reverse=True)])
    logger.info("repaired legacy mojibake (%s) on %d line(s)", encoding, sum(used.values()))
    return DecodedText(repaired, encoding, final.ratio >= 0.8)


def _decode_single_byte(raw: bytes) -> str:
    return raw.decode("latin-1").translate(_LATIN1_TO_CP1252)


def _legacy_candidates(raw: bytes) -> dict[str, str]:
    candidates: dict[str, str] = {}
    try:
        candidates[WINDOWS_1258] = unicodedata.normalize("NFC", raw.decode("cp1258"))
    except UnicodeDecodeError:
        logger.debug("not Windows-1258: undefined byte")
    as_cp1252 = _decode_single_byte(raw)
    candidates[TCVN3] = tcvn3_to_unicode(as_cp1252)
    candidates[VNI] = vni_to_unicode(as_cp1252)
    return candidates


def detect_and_decode(raw: bytes, *, min_ratio: float = 0.75) -> DecodedText:
    """Decode ``raw`` bytes of Vietnamese text to NFC Unicode, whatever legacy encoding they use.

    UTF-8 (with or without BOM) is tried first, and legacy mojibake inside it is repaired; other
    bytes are decoded as Windows-1258, TCVN3 and VNI and the most Vietnamese-looking result wins.

    Args:
        raw: the file's bytes.
        min_ratio: the least share of accented words that must be valid Vietnamese syllables.

    Returns:
        The text, the encoding detected and whether the detection is confident.

    Raises:
        EncodingError: the bytes are not UTF-8 and no legacy decoding looks like Vietnamese.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = f"{exc.reason} at byte {exc.start}"
    else:
        return repair_mojibake(text)
    scored = sorted(
        ((vietnamese_score(text[:_SAMPLE_CHARS]), name, text)
         for name, text in _legacy_candidates(raw).items()),
        key=lambda item: (item[0].ratio, item[0].valid),
        reverse=True,
    )
    (best, name, text), runner_up = scored[0], scored[1][0] if len(scored) > 1 else None
    if best.words == 0 or best.ratio < min_ratio:
        tried = ", ".join(f"{n} {s.valid}/{s.words}" for s, n, _ in scored)
        raise EncodingError(
            f"not valid UTF-8 ({utf8_error}) and could not detect the text encoding: no legacy "
            f"Vietnamese encoding gives Vietnamese words (valid/accented words: {tried})"
        )
    confident = best.words >= 5 and (runner_up is None or best.ratio - runner_up.ratio >= 0.3)
    logger.debug("decoded as %s (%d/%d Vietnamese words)", name, best.valid, best.words)
    return DecodedText(unicodedata.normalize("NFC", text), name, confident)
