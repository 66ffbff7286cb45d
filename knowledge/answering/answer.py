"""The answer layer: from retrieved passages to the answer itself, with its source.

1. retrieve the best chunks (hybrid search, with the question's year as a soft constraint);
2. split them into sentences and score each against the question's content terms (idf
   weighted, diacritic-insensitive) plus evidence of the kind of answer asked for;
3. extract the typed answer (a list, a figure, a date, a số hiệu, a person…) from the best
   sentence; its document becomes the citation;
4. decline — with the closest documents as leads — when the evidence is too weak.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.answering.question import QuestionAnalysis, QuestionKind, analyze
from knowledge.answering.reply import vn_date
from knowledge.lexicon.dates import parse_dates
from knowledge.lexicon.doc_numbers import find_numbers, type_of_number
from knowledge.lexicon.people import SURNAMES
from knowledge.lexicon.words import FOLDED_STOPWORDS, STOPWORDS
from knowledge.schema import Answer, Chunk, Citation, Document, Hit
from knowledge.text.segment import FOLDED_PREFIX
from knowledge.text.vietnamese import fold_diacritics, has_diacritics

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase, SearchFilters

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ0-9\"“(])|\n+")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*%")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|phần trăm)|\b\d+\b")
_PERSON = re.compile(r"(?:ông|bà|đồng chí)\s+([A-ZĐ][a-zà-ỹđ]+(?:\s+[A-ZĐ][a-zà-ỹđ]+){1,3})")
_NAME = re.compile(r"[A-ZĐ][a-zà-ỹđ]+(?:\s+[A-ZĐ][a-zà-ỹđ]+){2,3}")
_PERSON_NAME = (r"\b(?:" + "|".join(SURNAMES) + r")(?:\s+[A-ZĐ][a-zà-ỹđ]+){1,3}")
_PERIOD = re.compile(
    r"(?:từ\s+)?(?:ngày\s+)?\d{1,2}\s*[-–/]\s*\d{1,2}(?:\s*[-–/]\s*\d{1,2})?/(?:19|20)\d{2}"
    r"|(?:quý|Quý)\s+[IV]+(?:\s+(?:và|,|-)\s+[IV]+)*\s*/\s*(?:19|20)\d{2}"
    r"|(?:tháng|Tháng)\s+\d{1,2}(?:\s*[-–]\s*\d{1,2})?(?:\s*/\s*|\s+năm\s+)(?:19|20)\d{2}"
    r"|(?:trước|đến|trong)\s+(?:ngày\s+)?\d{1,2}/\d{1,2}(?:/(?:19|20)\d{2})?"
    r"|(?:quý|Quý)\s+[IV]+(?:\s+năm\s+(?:19|20)\d{2})?"
    r"|(?:năm|Năm)\s+(?:19|20)\d{2}"
)

#: (what the question asks, what the answer sentence must then contain)
_SPECIFIC_EVIDENCE: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"\b(kinh phi|chi phi|bao nhieu tien|muc chi|ngan sach|muc ho tro)\b"),
     re.compile(r"\d[\d.,]*\s*(?:đồng|triệu|tỷ|nghìn|ngàn|USD|%)|\b(?:ngân sách|nguồn kinh phí|"
                r"kinh phí thường xuyên|nguồn vốn)\b", re.IGNORECASE)),
    (re.compile(r"\bthang (may|nao)\b"), re.compile(r"\btháng\s+\d|\bquý\s+[IV\d]", re.I)),
    (re.compile(r"\b(ai|nguoi nao|ong nao|ba nao)\b"),
     re.compile(r"(?:ông|bà|đồng chí)\s+[A-ZĐ]|" + _PERSON_NAME + r"|\b(?:Chủ tịch|Giám đốc|"
                r"Chánh Văn phòng|Trưởng|Phó)\b")),
]
_MONEY = re.compile(r"\d[\d.,]*\s*(?:đồng|triệu|tỷ|nghìn|ngàn|USD)|\b(?:ngân sách|nguồn kinh phí|"
                    r"kinh phí thường xuyên|nguồn vốn)\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\b(?:thứ|hạng)\s+(?:\d+|nhất|nhì|hai|ba|tư|năm|sáu|bảy|tám|chín|mười)\b",
                      re.IGNORECASE)
_NUMBER_WORDS = r"(?:\d[\d.,]*|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|mươi|trăm)"
_DATE_ANY = re.compile(_PERIOD.pattern
                       + r"|(?<!\d)\d{1,2}\s*[-/]\s*\d{1,2}\s*[-/]\s*(?:19|20)\d{2}"
                       r"|\bngày\s+\d{1,2}(?:\s*[-/]\s*\d{1,2})?\b")
_ROLE = re.compile(r"\b(?:Chủ tịch|Phó Chủ tịch|Giám đốc|Phó Giám đốc|Bộ trưởng|Thứ trưởng|"
                   r"Thủ tướng|Phó Thủ tướng|Chánh Văn phòng|Chánh văn phòng|Trưởng ban|"
                   r"Trưởng phòng|Bí thư|Chủ nhiệm|Tổng cục trưởng|Cục trưởng|Vụ trưởng)\b")
_AGENCY = re.compile(r"\b(?:Sở|Bộ|Ủy ban|Uỷ ban|UBND|HĐND|Văn phòng|Ban|Thanh tra|Cục|Vụ|Phòng|"
                     r"Trung tâm|Chánh Văn phòng|Chánh văn phòng|Giám đốc|Chủ tịch|Hội đồng|"
                     r"Kho bạc|Công an|Cổng)\b")
#: What an agency does in a plan: "Sở Nội vụ **chủ trì**", "Văn phòng **tham mưu**".
_AGENCY_ROLE = re.compile(r"\b(?:chủ trì|thường trực|tham mưu|theo dõi|đôn đốc|phụ trách|đầu mối|"
                          r"được giao|giao|hướng dẫn|đề nghị|trình|phối hợp)\b", re.IGNORECASE)
_PLACE_WORDS = re.compile(r"\b(?:tại|ở|đặt)\s+(?:số\s+\d|tầng|trụ sở|tòa nhà|toà nhà|đường|phường|"
                          r"xã|thị trấn|khu|[A-ZĐ])|\bđịa chỉ\b"
                          r"|\bsố\s+\d+[,\s]+(?:đường|đại lộ|phố)",
                          re.IGNORECASE)
_PURPOSE_WORDS = re.compile(r"\b(?:để|nhằm|mục đích|làm cơ sở|là cơ sở|góp phần)\b", re.IGNORECASE)
_LEAD_IN = re.compile(r"(?:\bgồm\b|\bbao gồm\b|:|\bnhư\b|\btại các\b|\bđối với các\b|\bcủa các\b"
                      r"|\bđến các\b|\bcho các\b)", re.IGNORECASE)


def _list_items(text: str) -> int:
    """How many items a sentence enumerates: list lines, or short phrases between commas,
    semicolons and a final "và" ("…gồm Y tế, Tài chính, Xây dựng và Nội vụ"); a comma between
    two clauses is not an enumeration."""
    lines = [line for line in text.split("\n") if _LIST_LINE.match(line.strip())]
    if len(lines) >= 2:
        return len(lines)
    pieces = [p.split() for p in re.split(r"[,;:]|\svà\s|\shoặc\s", text)]
    short = sum(1 for p in pieces[1:] if 0 < len(p) <= 7)
    return short + 1 if short else 1


def _has_figure(text: str) -> bool:
    """Does the text state a figure — not just a date, a year or a số hiệu?"""
    for number in find_numbers(text):
        text = text.replace(number, " ")
    text = _DATE_ANY.sub(" ", text)
    text = re.sub(r"(?<!\d)(?:19|20)\d{2}(?!\d)", " ", text)
    return bool(re.search(r"\d", text))


def answer_fit(analysis: QuestionAnalysis, text: str, asked: Callable[[str], bool]) -> float | None:
    """How well a sentence has the *shape* of the answer asked for, from 0 to 1 (``None`` for
    kinds with no particular shape: yes/no, passages).

    A percentage for "bao nhiêu %", a sum of money for "kinh phí", a number next to the counted
    noun for "bao nhiêu cán bộ", a số hiệu other than the ones the question names, a date or
    period, a name or a title, an agency, a place, a purpose clause, an enumeration.
    """
    kind = analysis.kind
    if kind in (QuestionKind.NUMBER, QuestionKind.COUNT):
        if analysis.measure == "percent" and kind == QuestionKind.NUMBER:
            return 1.0 if _PERCENT.search(text) else 0.0
        if analysis.measure == "money" and kind == QuestionKind.NUMBER:
            return 1.0 if _MONEY.search(text) else 0.0
        if analysis.measure == "rank":
            return 1.0 if _ORDINAL.search(text) else 0.0
        folded = fold_diacritics(text).lower()
        counted = fold_diacritics(_NUMBER_WORDS) + r"\s+(?:\S+\s+){0,2}?" + re.escape(
            analysis.counted)
        if analysis.counted and re.search(counted, folded):
            return 1.0
        return 0.5 if _has_figure(text) else 0.0
    if kind == QuestionKind.DOC_NUMBER:
        return 1.0 if any(not asked(n) for n in find_numbers(text)) else 0.0
    if kind == QuestionKind.DATE:
        return 1.0 if _DATE_ANY.search(text) else 0.0
    if kind == QuestionKind.PERSON:
        if _PERSON.search(text) or re.search(_PERSON_NAME, text):
            return 1.0
        return 0.7 if _ROLE.search(text) else 0.0
    if kind == QuestionKind.AGENCY:
        if not _AGENCY.search(text):
            return 0.0
        return 1.0 if _AGENCY_ROLE.search(text) else 0.5
    if kind == QuestionKind.LOCATION:
        return 1.0 if _PLACE_WORDS.search(text) else 0.0
    if kind == QuestionKind.PURPOSE:
        return 1.0 if _PURPOSE_WORDS.search(text) else 0.0
    if kind == QuestionKind.LIST:
        items = _list_items(text)
        fit = min(1.0, max(0, items - 1) / 3)
        if items >= 3 and _LEAD_IN.search(text):
            fit = min(1.0, fit + 0.3)
        return fit
    if kind == QuestionKind.YES_NO:  # a sentence that settles it: "… không điều chỉnh …"
        return 1.0 if _yes_no(analysis.text, text) else 0.5
    if kind == QuestionKind.DEFINITION:
        return 1.0 if re.search(r"\blà\b|\bđược hiểu\b", text) else 0.0
    return None


_YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2})(?!\d)")
_YEAR_ANY = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def document_years(doc: Document) -> set[int]:
    """Years a document speaks of: its own, every year in its text, and years inside ranges."""
    years = {int(y) for y in _YEAR_ANY.findall(doc.text + " " + doc.meta.title)}
    for a, b in _YEAR_RANGE.findall(doc.text):
        if int(a) <= int(b) <= int(a) + 10:
            years.update(range(int(a), int(b) + 1))
    if doc.meta.year:
        years.add(doc.meta.year)
    return years


@dataclass(frozen=True)
class Sentence:
    text: str
    chunk: Chunk
    rank: int  # rank of its chunk in the search results
    score: float = 0.0


_WH = re.compile(r"\b(nao|ai|gi|bao nhieu|may|dau|khi nao|bao gio)\b")
_WH_MARKED = {"nào", "ai", "gì", "mấy", "đâu"}
_DOC_TYPES_FOLDED = {"quyet dinh", "ke hoach", "van ban", "nghi dinh", "chi thi", "thong tu",
                     "nghi quyet", "cong van", "bao cao"}


def _content_before(words: list[str]) -> list[str]:
    """Content words of a question before its question word, without fillers and without a
    document type that only names the kind of answer ("thành lập theo quyết định nào")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if " ".join(words[i: i + 2]) in _DOC_TYPES_FOLDED:
            i += 2
            continue
        if words[i] not in FOLDED_STOPWORDS and words[i] not in _QUESTION_WORDS:
            out.append(words[i])
        i += 1
    return out
#: Question words and fillers, compared diacritic-free (folding only the unambiguous ones).
_QUESTION_WORDS = {"nao", "gi", "bao", "nhieu", "may", "ai", "khong", "dau", "nhung", "cac", "la",
                   "duoc", "thi", "sao", "vay", "hoi", "cho", "biet", "toi", "ban", "xin", "o"}


_LIST_LINE = re.compile(r"^(?:[-+•*–]|\d{1,2}[.)]|[a-zđ][.)])\s+")
_HEADING_LINE = re.compile(
    r"^(?:(?:Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC|Điều)\s+[IVXLC\d]+[a-z]?\b|[IVX]{1,5}\s*[.\-–]\s)")
#: Opening words of a legal preamble clause ("Căn cứ …, / Ủy ban nhân dân tỉnh ban hành …").
_PREAMBLE = re.compile(r"^(?:Căn cứ|Thực hiện|Theo đề nghị|Xét đề nghị|Theo)\b")
_TERMINAL = ".:;!?"
_ABBREVIATION_END = re.compile(r"\b(?:TP|Tp|TX|Tx|TT|Q|P|X|H|ThS|TS|PGS|GS|Th\.S|St|Ths)\.$")
_MARKER = re.compile(r"\(?(?:\d{1,2}|[IVX]{1,5}|[a-zđ])[.)]")
#: Where a sentence ends in running text: terminal punctuation before a space or line break,
#: or a blank line.
_SENTENCE_BOUNDARY = re.compile(r"[.;:!?](?=\s)|\n\s*\n")
_ENDS_SENTENCE = re.compile(r"(?:[.;:!?]\s*|\n\s*\n\s*)$")


def _is_heading(line: str) -> bool:
    """A title or section heading line: mostly capitals, or a short numbered heading."""
    letters = [c for c in line if c.isalpha()]
    if not letters:
        return True  # table rules and cell separators ("|", "-------")
    if sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return True
    return bool(len(line.split()) <= 8 and (_HEADING_LINE.match(line) or _LIST_LINE.match(line)))


def _first_letter(line: str) -> str:
    m = re.search(r"[^\W_]", line)
    return m.group(0) if m else ""


def _hard_wrapped(lines: list[str]) -> bool:
    """Is this text wrapped at a fixed width (sentences continue on the next line)? Seen when
    several lines end without punctuation and the next one goes on in lower case."""
    breaks = sum(1 for a, b in zip(lines, lines[1:], strict=False)
                 if a and b and a[-1] not in _TERMINAL and _first_letter(b).islower()
                 and not _LIST_LINE.match(b))
    return breaks >= 2 or (breaks >= 1 and len(lines) <= 4)


def _continues(prev_unit: str, prev_line: str, line: str, wrapped: bool, blank: bool) -> bool:
    """Does ``line`` continue the sentence that ``prev_line`` (the end of ``prev_unit``) cut?"""
    if prev_line[-1:] in _TERMINAL or _LIST_LINE.match(line):
        return False
    first = _first_letter(line)
    if not first or not line[:1].isalnum() and line[:1] not in "(\"“'":
        return False  # table debris ("|", "-----")
    if first.islower():
        return True  # "…kế hoạch cải cách" / "hành chính năm 2019"
    if blank or _is_heading(prev_line):
        return False
    if first.isdigit():
        return True  # "…ngày" / "29/3/2012 của Ủy ban nhân dân tỉnh"
    if not wrapped:
        return False
    # "…tỉnh Tuyên" / "Quang giai đoạn"; but a preamble clause ends at its comma:
    # "Căn cứ …," / "Ủy ban nhân dân tỉnh ban hành kế hoạch …"
    return not (prev_line.endswith(",") and _PREAMBLE.match(prev_unit))


def _extends_list(unit: str, prev_line: str, line: str) -> bool:
    """Does ``line`` belong to the list that ``unit`` announces ("…gồm:" / "- A;" / "- B")?"""
    if _is_heading(line) and not _LIST_LINE.match(line):
        return False  # "I. MỤC TIÊU" after "…cụ thể như sau:" opens a section, not an item
    first = unit.split("\n", 1)[0]
    kind = _marker_kind(line)
    if "\n" in unit and kind and kind == _marker_kind(first):
        return False  # "2. …" after "1. … gồm:\na) …\nb) …" is the lead-in's sibling
    items = [k for k in map(_marker_kind, unit.split("\n")) if k]
    if kind and items and _MARKER_RANK[kind] > _MARKER_RANK[items[-1]]:
        return False  # "4. Văn phòng UBND tỉnh" after "c) …" opens the next section
    if prev_line.endswith(":"):
        return True
    return bool(_LIST_LINE.match(line) and (":" in unit or _LIST_LINE.match(unit)))


_MARKER_RANK = {"digit": 3, "letter": 2, "dash": 1}


def _marker_kind(line: str) -> str:
    """The kind of list marker a line opens with: "1." → digit, "a)" → letter, "-" → dash."""
    m = _LIST_LINE.match(line)
    if not m:
        return ""
    head = m.group(0)[0]
    return "digit" if head.isdigit() else "letter" if head.isalpha() else "dash"


def split_sentences(passage: str) -> list[str]:
    """Sentences of a passage; a list stays one unit with its lead-in line ("…gồm:" + items).

    Lines hard-wrapped at a fixed width (legal texts copied from web pages) are joined back
    into their sentences first.
    """
    raw = passage.split("\n")
    lines = [line.strip() for line in raw]
    wrapped = _hard_wrapped([line for line in lines if line])
    units: list[str] = []
    prev_line = ""
    blank = False
    for line in lines:
        if not line:
            blank = True
            continue
        if units and _continues(units[-1], prev_line, line, wrapped, blank):
            units[-1] = units[-1] + " " + line
        elif units and _extends_list(units[-1], prev_line, line):
            units[-1] = units[-1] + "\n" + line
        else:
            units.append(line)
        prev_line, blank = line, False
    out = []
    for unit in units:
        if "\n" in unit:
            out.append(unit)
        else:
            marker = ""
            for piece in (s.strip() for s in _SENTENCE_SPLIT.split(unit)):
                if _MARKER.fullmatch(piece) or _ABBREVIATION_END.search(piece):
                    marker += piece + " "  # "1." opens the next sentence; "TP." does not end one
                elif len(piece) > 2:
                    out.append(marker + piece)
                    marker = ""
            if marker.strip():
                out.append(marker.strip())
    return out


def _content_terms(kb: KnowledgeBase, question: str,
                   focus_weight: float = 3.0) -> dict[str, float]:
    """Folded content syllables of the question → weight (2 for the words next to the question
    word, which say what is asked: "cơ quan nào **chủ trì**"; 1 otherwise)."""
    words = [w for w in kb.analyzer.words(question) if "_" not in w]
    folded = [fold_diacritics(w) for w in words]
    content = [f for w, f in zip(words, folded, strict=True)
               if w not in STOPWORDS and f not in _QUESTION_WORDS]
    marked = has_diacritics(question)  # then "đầu" ("bắt đầu") is not the question word "đâu"
    focus: set[str] = set()
    for i, (w, f) in enumerate(zip(words, folded, strict=True)):
        if f == "bao" and folded[i + 1: i + 2] == ["nhieu"]:
            # what is measured follows: "bao nhiêu % thời gian xử lý và chi phí tuân thủ"
            near = _content_before(folded[max(0, i - 8): i])[-2:] + folded[i + 2: i + 8]
        elif (w in _WH_MARKED) if marked else bool(_WH.fullmatch(f)):
            # the two words before, past a document type that only names the answer's kind:
            # "được **thành lập** theo quyết định nào" → "thành lập"
            before = _content_before(folded[max(0, i - 8): i])
            near = before[-2:] + folded[i + 1: i + 3]
        else:
            continue
        # a year ("năm 2019") or a number in the question is a constraint, not what is asked
        focus.update(x for j, x in enumerate(near) if x not in _QUESTION_WORDS
                     and not x.isdigit() and not (x == "nam" and near[j + 1: j + 2] != []
                                                 and near[j + 1].isdigit()))
    return {FOLDED_PREFIX + w: (focus_weight if w in focus else 1.0)
            for w in dict.fromkeys(content)}


_ASKS_SIGNER = re.compile(r"\bky\b")
_TYPE_WORDS = {"quyet dinh": "Quyết định", "nghi dinh": "Nghị định", "ke hoach": "Kế hoạch",
               "chi thi": "Chỉ thị", "nghi quyet": "Nghị quyết", "thong tu": "Thông tư",
               "bao cao": "Báo cáo", "cong van": "Công văn", "ket luan": "Kết luận"}


def _wanted_doc_type(question: str) -> str:
    """The loại văn bản a "…nào / số mấy" question asks for: "theo quyết định nào" → Quyết định."""
    folded = fold_diacritics(question).lower()
    best, pos = "", -1
    for words, kind in _TYPE_WORDS.items():
        for m in re.finditer(r"\b" + words + r"\b", folded):
            tail = folded[m.end(): m.end() + 12]
            if re.match(r"\s*(nao|so may|so bao nhieu|gi)\b", tail) and m.start() > pos:
                best, pos = kind, m.start()
    return best


def _passage(doc: Document | None, chunk: Chunk) -> str:
    """The chunk widened to whole sentences (a chunk cut inside a long paragraph)."""
    if doc is None:
        return chunk.text
    text = doc.text
    start, end = chunk.start, chunk.end
    head = text[max(0, start - 400): start]
    if start > 0 and not _ENDS_SENTENCE.search(head):
        cuts = list(_SENTENCE_BOUNDARY.finditer(head))
        if cuts:
            start = start - len(head) + cuts[-1].end()
    if end < len(text) and text[end - 1] not in _TERMINAL:
        m = _SENTENCE_BOUNDARY.search(text, end, min(len(text), end + 400))
        if m:
            end = m.start() + 1
    return text[start:end].strip()


def _is_news(doc: Document) -> bool:
    return fold_diacritics(doc.meta.doc_type).lower().replace("_", " ") in ("tin tuc", "")


def _self_description(doc: Document) -> str:
    """A sentence saying what the document itself is, from its metadata: "Kế hoạch số
    87/KH-UBND ngày 10/12/2013: Kế hoạch … cải cách hành chính tỉnh Tuyên Quang năm 2014"."""
    meta = doc.meta
    if not meta.number or not meta.title or _is_news(doc):
        return ""  # a news article's main number and date are not its own
    kind = type_of_number(meta.number) or "Văn bản"
    when = f" ngày {vn_date(meta.date)}" if len(meta.date) == 10 else ""
    title = re.sub(r"\s*(?:số\s*)?" + re.escape(meta.number), "", meta.title).strip()
    return f"{kind} số {meta.number}{when}: {title}"


def _form_quality(sentence: str) -> float:
    """Penalise what is not an answer: headings in capitals, fragments, table debris."""
    letters = [c for c in sentence if c.isalpha()]
    if not letters:
        return 0.3
    upper = sum(c.isupper() for c in letters) / len(letters)
    words = len(sentence.split())
    factor = 1.0
    if upper > 0.6:
        factor *= 0.5
    if words < 5:
        factor *= 0.6
    if sentence.count("|") >= 2 or sentence.lower().startswith(("nơi nhận", "số:")):
        factor *= 0.5
    if sentence[:1].islower():
        factor *= 0.85
    if sentence.rstrip().endswith("?"):
        factor *= 0.5  # a question (an FAQ heading in an article) does not answer one
    return factor


class Answerer:
    """Extracts answers from a :class:`KnowledgeBase`'s search results."""

    def __init__(self, kb: KnowledgeBase, top_chunks: int = 8, rerank_sentences: int = 12,
                 dense_weight: float = 2.0, focus_weight: float = 3.0,
                 fit_weight: float = 0.5, context_weight: float = 0.5) -> None:
        self.kb = kb
        self.fit_weight = fit_weight
        self.context_weight = context_weight
        self._place_cache: dict[tuple[tuple[str, ...], str], float] = {}
        self.top_chunks = top_chunks
        self.rerank_sentences = rerank_sentences
        self.dense_weight = dense_weight
        self.focus_weight = focus_weight
        self.candidates: list[Sentence] = []

    def answer(self, question: str, filters: SearchFilters | None = None) -> Answer:
        analysis = analyze(question, self.kb.config.current_date())
        hits = self.kb.search(question, k=self.top_chunks, filters=filters)
        if not hits:
            return Answer(
                "Xin lỗi, tôi không tìm thấy thông tin này trong các văn bản hiện có.",
                declined=True, kind=analysis.kind.value,
            )
        terms = _content_terms(self.kb, question, self.focus_weight)
        loaded = self.kb._index()
        idf = {t: loaded.bm25.term_idf(t) * w for t, w in terms.items()}
        total = sum(idf.values()) or 1.0
        wanted_type = _wanted_doc_type(question) if analysis.kind == QuestionKind.DOC_NUMBER else ""
        asked_numbers = set(find_numbers(question))

        def asked(number: str) -> bool:  # is this số hiệu one the question itself names?
            return number in asked_numbers or any(
                ref.matches(number, type_of_number(number)) for ref in analysis.refs)

        named = self._named_documents(analysis, asked_numbers)
        # 1. candidate sentences of the best chunks, with their terms
        pool: list[tuple[str, Chunk, int, set[str], set[str]]] = []
        seen: set[tuple[str, str]] = set()
        for rank, hit in enumerate(hits):
            doc = self.kb.document(hit.chunk.doc_id)
            context = self._chunk_terms(hit.chunk)
            texts = split_sentences(_passage(doc, hit.chunk))
            if doc is not None and hit.chunk.doc_id not in {d for d, _ in seen} and (
                    analysis.kind in (QuestionKind.DOC_NUMBER, QuestionKind.DATE)):
                texts.append(_self_description(doc))  # "which plan / when": maybe this one
            for text in texts:
                if not text or (hit.chunk.doc_id, text) in seen:
                    continue  # the same sentence from an overlapping, lower-ranked passage
                seen.add((hit.chunk.doc_id, text))
                pool.append((text, hit.chunk, rank, self._terms(text), context))
        # 2. terms every candidate shares (the topic: "kế hoạch kiểm tra CCHC 2019 Quảng Trị")
        #    say little about which sentence answers; terms few candidates have say a lot.
        n = len(pool)
        local = {t: math.log((n + 1) / (0.5 + sum(t in p[3] for p in pool))) for t in terms}
        top_local = max(local.values(), default=1.0) or 1.0
        weight = {t: idf[t] * (0.4 + 0.6 * local[t] / top_local) for t in terms}
        wtotal = sum(weight.values()) or 1.0
        scored: list[tuple[float, float, Sentence]] = []
        for text, chunk, rank, sent_terms, context in pool:
            covered = sum(idf[t] for t in terms if t in sent_terms)
            ctx = sum(idf[t] for t in terms if t in context and t not in sent_terms)
            coverage = (covered + 0.5 * ctx) / total
            # a sentence inherits its passage's topic ("Lâm Đồng", "2019"), at a discount
            focused = sum(weight[t] * (1.0 if t in sent_terms else self.context_weight)
                          for t in terms if t in sent_terms or t in context) / wtotal
            score = focused + 0.5 * coverage + 0.08 / (1 + rank)
            fit = answer_fit(analysis, text, asked)
            if fit is not None:  # a sentence without the shape of the answer is not one
                score *= 1 - self.fit_weight * (1 - fit)
            if wanted_type and any(type_of_number(num) == wanted_type and not asked(num)
                                   for num in find_numbers(text)):
                score += 0.2
            score += self._year_bonus(analysis, chunk, text)
            if named and chunk.doc_id in named:
                score += 0.3  # the question names this document ("nd 09/2019 có …")
            quality = _form_quality(text) * self._place_factor(analysis, chunk.doc_id)
            scored.append((score * quality, coverage * quality, Sentence(text, chunk, rank)))
        # 3. the meaning of the best few, by the embedding model
        scored.sort(key=lambda item: -item[0])
        head = scored[: self.rerank_sentences]
        if len(head) > 1 and self.dense_weight > 0:
            vectors = self.kb.embedder.embed_passages([item[2].text for item in head])
            qvec = self.kb.embedder.embed_queries([question])[0]
            sims = vectors @ qvec
            head = [(score + self.dense_weight * (float(sim) - float(sims.max())), cov, sent)
                    for (score, cov, sent), sim in zip(head, sims, strict=True)]
            head.sort(key=lambda item: -item[0])
        self.candidates = [Sentence(s.text, s.chunk, s.rank, sc) for sc, _, s in head + scored[
            self.rerank_sentences:]]
        best_score, best_cov, best = head[0]
        best = Sentence(best.text, best.chunk, best.rank, best_score)
        assert best is not None
        doc = self.kb.document(best.chunk.doc_id)
        confidence = self._confidence(analysis, best, best_cov, doc)
        year_missing = analysis.year is not None and doc is not None and (
            analysis.year not in document_years(doc))
        if year_missing:
            return self._decline(analysis, hits, confidence, missing_year=True)
        unknown = [num for num in asked_numbers if not self._corpus_mentions(num)]
        if unknown:
            return self._decline(analysis, hits, confidence, unknown_number=unknown[0])
        signer = self._signer_answer(analysis, question, hits)
        if signer is not None:
            return signer
        if confidence < self.kb.config.decline_threshold:
            return self._decline(analysis, hits, confidence)
        best = self._with_continuation(best, doc, analysis.kind)
        best = self._with_other_parts(analysis, best, asked)
        if analysis.kind in (QuestionKind.AGENCY, QuestionKind.PERSON):
            best = _with_owner(best, doc)
        text, source = self._extract(analysis, best, doc, wanted_type, asked)
        if source is not None:  # the answer is a document the knowledge base holds: cite it
            citation = Citation.from_document(source, source.meta.title)
        else:
            citation = Citation.from_document(doc, best.text)
        return Answer(text, declined=False, citations=(citation,),
                      kind=analysis.kind.value, confidence=confidence)

    def _signer_answer(self, analysis: QuestionAnalysis, question: str,
                       hits: list[Hit]) -> Answer | None:
        """"Ai ký …?" is answered from the signature block of the best matching document."""
        if analysis.kind != QuestionKind.PERSON or not _ASKS_SIGNER.search(
                fold_diacritics(question).lower()):
            return None
        asked = set(find_numbers(question))
        for hit in hits[:3]:
            doc = self.kb.document(hit.chunk.doc_id)
            if doc is None or not doc.meta.signer:
                continue
            if asked and doc.meta.number not in asked and not asked & set(find_numbers(doc.text)):
                continue
            from knowledge.answering.followup import describe_document

            answer = describe_document(doc, "signer")
            return Answer(answer.text, False, answer.citations, kind="person", confidence=0.9)
        return None

    # -- scoring --------------------------------------------------------------------------
    def _named_documents(self, analysis: QuestionAnalysis, numbers: set[str]) -> set[str]:
        """Documents the question names by their số hiệu ("Quyết định 06/2024/QĐ-UBND",
        "KH 1576", "nd 09/2019")."""
        if not analysis.refs and not numbers:
            return set()
        out = set()
        for doc in self.kb.documents():
            own = doc.meta.number
            if own and (own in numbers or any(
                    ref.matches(own, type_of_number(own)) for ref in analysis.refs)):
                out.add(doc.id)
        return out

    def _place_factor(self, analysis: QuestionAnalysis, doc_id: str) -> float:
        """A question about one province is not answered from another province's document."""
        if not analysis.places:
            return 1.0
        key = (analysis.places, doc_id)
        if key not in self._place_cache:
            self._place_cache[key] = self._place_match(analysis.places, doc_id)
        return self._place_cache[key]

    def _place_match(self, places: tuple[str, ...], doc_id: str) -> float:
        doc = self.kb.document(doc_id)
        if doc is None or not doc.meta.places or set(places) & set(doc.meta.places):
            return 1.0
        folded = fold_diacritics(doc.meta.title + " " + doc.text).lower()
        if any(fold_diacritics(place).lower() in folded for place in places):
            return 1.0
        return 0.8

    def _terms(self, text: str) -> set[str]:
        """A sentence's terms; "%" reads as "phần trăm"."""
        if "%" in text:
            text = text + " phần trăm"
        return set(self.kb.analyzer.document_terms(text))

    def _chunk_terms(self, chunk: Chunk) -> set[str]:
        doc = self.kb.document(chunk.doc_id)
        title = doc.meta.title if doc else ""
        return set(self.kb.analyzer.document_terms(title + "\n" + chunk.text))

    @staticmethod
    def _year_bonus(analysis: QuestionAnalysis, chunk: Chunk, text: str) -> float:
        if analysis.year is None:
            return 0.0
        if str(analysis.year) in text:
            return 0.1
        return 0.0

    @staticmethod
    def _confidence(analysis: QuestionAnalysis, best: Sentence, coverage: float,
                    doc: Document | None) -> float:
        """How sure the answer is: the question's terms the sentence covers, cut down when
        the sentence lacks what the question asks for (a person, a sum of money, a month…)."""
        conf = coverage
        if answer_fit(analysis, best.text, lambda number: number in analysis.text) == 0:
            conf *= 0.6  # it lacks what the question asks for (a figure, a date, a name…)
        folded = fold_diacritics(analysis.text).lower()
        for asks, needs in _SPECIFIC_EVIDENCE:
            if asks.search(folded) and not needs.search(best.text):
                conf *= 0.5
        return max(0.0, min(1.0, conf))

    @staticmethod
    def _with_continuation(best: Sentence, doc: Document | None,
                           kind: QuestionKind = QuestionKind.PASSAGE) -> Sentence:
        """A sentence that announces what follows ("…cụ thể như sau:", "…gồm:") is incomplete
        without the next sentence or list: take it along. So is a figure or a list whose
        breakdown follows ("…có 11 cán bộ, công chức. Trong đó có 3 …")."""
        if doc is None:
            return best
        span = _locate(doc.text, best.text)
        if span is None:
            return best
        following = split_sentences(doc.text[span[1]: span[1] + 1500].lstrip())
        if not following:
            return best
        if best.text.rstrip().endswith(":") or (
                kind in (QuestionKind.COUNT, QuestionKind.NUMBER, QuestionKind.LIST)
                and _ELABORATION.match(following[0])):
            return Sentence(best.text + "\n" + following[0], best.chunk, best.rank, best.score)
        return best

    def _with_other_parts(self, analysis: QuestionAnalysis, best: Sentence,
                          asked: Callable[[str], bool]) -> Sentence:
        """A question that asks two things ("công bố ngày nào và là năm thứ mấy?") may need a
        second sentence of the same document: the best one with the shape of the other part."""
        if not analysis.parts:
            return best
        extra: list[Sentence] = []
        for part in analysis.parts:
            sub = analyze(part, self.kb.config.current_date())
            if answer_fit(sub, best.text, asked) != 0:
                continue  # the best sentence answers this part too (or no shape to check)
            words = _syllables(part) - _QUESTION_WORDS - FOLDED_STOPWORDS
            for cand in self.candidates:
                if cand.chunk.doc_id != best.chunk.doc_id or cand.text == best.text:
                    continue
                if cand in extra or not answer_fit(sub, cand.text, asked):
                    continue
                if words & _syllables(cand.text):
                    extra.append(cand)
                    break
        if not extra:
            return best
        text = " ".join([best.text, *(c.text for c in extra)])
        return Sentence(text, best.chunk, best.rank, best.score)

    def _corpus_mentions(self, number: str) -> bool:
        """Is this số hiệu in any document (as its number or in its text)?"""
        key = re.sub(r"[^0-9a-zđ]", "", fold_diacritics(number).lower())
        for doc in self.kb.documents():
            if number in doc.text or doc.meta.number == number or number in doc.meta.references:
                return True
            if key and key in re.sub(r"[^0-9a-zđ]", "", fold_diacritics(doc.meta.number).lower()):
                return True
        return False

    def _doc_year(self, doc_id: str) -> int | None:
        doc = self.kb.document(doc_id)
        return doc.meta.year if doc else None

    # -- extraction -----------------------------------------------------------------------
    def _extract(self, analysis: QuestionAnalysis, best: Sentence, doc: Document | None,
                 wanted_type: str, asked: Callable[[str], bool]) -> tuple[str, Document | None]:
        """The typed answer, first, then the sentence it comes from; and the document the
        answer *is* when the knowledge base holds it (for a số hiệu)."""
        sentence = best.text.rstrip()
        kind = analysis.kind
        if kind == QuestionKind.DOC_NUMBER:
            return self._doc_number_answer(sentence, doc, wanted_type, asked)
        if kind in (QuestionKind.NUMBER, QuestionKind.COUNT) and len(sentence) > _SHORT:
            pattern = _PERCENT if analysis.measure == "percent" else _FIGURE
            clause = _clause_with(sentence, pattern) or _clause_with(sentence, _FIGURE)
            if clause and _differs(clause, sentence):
                return f"{_capitalize(clause)}. ({_clean(sentence)})", None
        if kind == QuestionKind.DATE and not analysis.parts:
            clause = _clause_with(sentence, _DATE_ANY)
            if clause and _differs(clause, sentence):
                return f"{_capitalize(clause)}.", None
        if kind == QuestionKind.YES_NO:
            verdict = _yes_no(analysis.text, sentence)
            if verdict:
                return f"{verdict}. {_clean(sentence)}", None
        return _clean(sentence), None

    def _doc_number_answer(self, sentence: str, doc: Document | None, wanted_type: str,
                           asked: Callable[[str], bool]) -> tuple[str, Document | None]:
        """"Quyết định nào / số mấy?": the số hiệu (of the type asked for) in the sentence other
        than the ones the question names; a sentence that speaks of its own document ("Ủy ban
        nhân dân tỉnh ban hành kế hoạch …, cụ thể như sau:") answers with that document."""
        numbers = [n for n in find_numbers(sentence) if not asked(n)]
        typed = [n for n in numbers if wanted_type and type_of_number(n) == wanted_type]
        numbers = typed or numbers
        if numbers:
            number = numbers[0]
            at = sentence.find(number) + len(number)
            dates = [d for pos, d in parse_dates(sentence) if 0 <= pos - at <= 25]
            when = f" ngày {vn_date(dates[0].isoformat())}" if dates else ""
            source = self._document_numbered(number)
            if not when and source is not None and len(source.meta.date) == 10:
                when = f" ngày {vn_date(source.meta.date)}"
            head = f"{type_of_number(number) or 'Văn bản'} số {number}{when}"
            return (sentence if sentence.startswith(head) else f"{head}. {sentence}"), source
        own = doc.meta.number if doc is not None else ""
        if own and not asked(own) and (not wanted_type or type_of_number(own) == wanted_type):
            kind_name = type_of_number(own) or doc.meta.doc_type or "Văn bản"
            when = f" ngày {vn_date(doc.meta.date)}" if len(doc.meta.date) == 10 else ""
            return f"{kind_name} số {own}{when}. {sentence}", None
        return sentence, None

    def _document_numbered(self, number: str) -> Document | None:
        """The document of the knowledge base that *is* this số hiệu (its own number, named in
        its title), if any."""
        for doc in self.kb.documents():
            if doc.meta.number == number and number in doc.meta.title:
                return doc
        return None

    def _decline(self, analysis: QuestionAnalysis, hits: list[Hit], confidence: float,
                 missing_year: bool = False, unknown_number: str = "") -> Answer:
        leads: list[Citation] = []
        for hit in hits:
            if any(c.doc_id == hit.chunk.doc_id for c in leads):
                continue
            leads.append(Citation.from_document(self.kb.document(hit.chunk.doc_id), hit.chunk.text))
            if len(leads) == 3:
                break
        if unknown_number:
            text = (f"Tôi chưa có văn bản số {unknown_number} trong kho tài liệu nên không trả lời "
                    "được câu hỏi này. Các văn bản gần nhất được liệt kê bên dưới.")
        elif missing_year and analysis.year is not None:
            held = sorted({y for c in leads for y in [self._doc_year(c.doc_id)] if y})
            latest = f" Văn bản gần nhất về chủ đề này là của năm {held[-1]}." if held else ""
            text = (f"Tôi chưa có văn bản nào về năm {analysis.year} để trả lời câu hỏi này."
                    f"{latest} Các văn bản gần nhất được liệt kê bên dưới.")
        else:
            text = ("Xin lỗi, tôi không tìm thấy câu trả lời chắc chắn trong các văn bản hiện có. "
                    "Các văn bản gần nhất có thể liên quan được liệt kê bên dưới.")
        return Answer(text, declined=True, citations=tuple(leads), kind=analysis.kind.value,
                      confidence=confidence)


#: A sentence this short is an answer as it stands; a longer one is cut to the clause asked for.
_SHORT = 320
_ELABORATION = re.compile(r"(?:Trong đó|Cụ thể|Bao gồm|Gồm)\b")
_NEGATION = re.compile(r"\b(?:không|chưa|bỏ|bãi bỏ|miễn|chấm dứt|không còn|không phải|không cần)\b",
                       re.IGNORECASE)


def _with_owner(best: Sentence, doc: Document | None) -> Sentence:
    """Duties listed under an agency ("4. Văn phòng UBND tỉnh" / "a) Theo dõi, kiểm tra …")
    say who does them only in that heading: an item without a subject gets it back."""
    if doc is None or not re.match(r"[a-zđ][.)]\s|[-+•*–]\s", best.text):
        return best
    if _AGENCY.search(" ".join(best.text.split()[:6])):
        return best  # "- Sở Nội vụ chủ trì …" names its agency itself
    span = _locate(doc.text, best.text.split("\n", 1)[0])
    if span is None:
        return best
    units = split_sentences(doc.text[max(0, span[0] - 3000): span[0]])
    if not units:
        return best
    owner = units[-1].split("\n", 1)[0].strip()
    if not (_marker_kind(owner) == "digit" or owner.endswith(":")) or len(owner.split()) > 15:
        return best
    if not _AGENCY.search(owner):
        return best
    name = _clean(owner).rstrip(":").strip()
    return Sentence(f"{name}: {best.text}", best.chunk, best.rank, best.score)


def _syllables(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold_diacritics(text).lower()))


def _locate(text: str, sentence: str) -> tuple[int, int] | None:
    """Where a sentence (whose lines may have been joined) lies in its document's text."""
    at = text.find(sentence)
    if at >= 0:
        return at, at + len(sentence)
    tokens = sentence.split()
    if not tokens:
        return None
    m = re.search(r"\s+".join(re.escape(t) for t in tokens), text)
    return (m.start(), m.end()) if m else None


def _differs(clause: str, sentence: str) -> bool:
    return clause.strip(" .;,") != sentence.strip(" .;,")


def _yes_no(question: str, sentence: str) -> str:
    """"Có" or "Không" for a yes/no question, from the sentence that answers it: "Không" when
    a word the question asks about is negated there ("Nghị định này không điều chỉnh …", "Bỏ
    yêu cầu nộp …"); "Có" when the sentence affirms all of them; "" when unsure."""
    folded_q = {fold_diacritics(w) for w in re.findall(r"\w+", question.lower())
                if w not in STOPWORDS} - _QUESTION_WORDS - {
        "co", "khong", "con", "phai", "chua", "duoc", "bi", "nen", "can", "da"}
    tokens = re.findall(r"\w+", sentence.lower())
    folded = [fold_diacritics(t) for t in tokens]
    asked_at = [i for i, t in enumerate(folded) if t in folded_q]
    if not asked_at:
        return ""
    for i in asked_at:
        window = " ".join(tokens[max(0, i - 3): i])
        if _NEGATION.search(window):
            return "Không"
    if _NEGATION.search(sentence):
        return ""
    return "Có" if len({folded[i] for i in asked_at}) >= 0.9 * len(folded_q) else ""


def _clause_with(sentence: str, pattern: re.Pattern[str]) -> str:
    for clause in re.split(r"\s*[;]\s*|,\s+(?=(?:với|nhằm|để|trong đó|đồng thời)\b)", sentence):
        if pattern.search(clause):
            return clause.strip().rstrip(".")
    return ""


def _capitalize(text: str) -> str:
    text = re.sub(r"^(?:với|và|đồng thời|trong đó)\s+", "", _clean(text))
    return text[:1].upper() + text[1:]


#: What opens a passage but is not part of the answer: a list marker ("(2)", "b)", "-"), a
#: Markdown heading mark, a news dateline ("(Baonghean.vn) -", "(GLO)-").
_LEADING_DEBRIS = re.compile(r"^(?:#+\s*|\(?\d{1,2}[.)]\s+|[a-zđ][.)]\s+|[-+•*–]\s+"
                             r"|\([^()\n]{2,25}\)\s*[-–]\s*)")


def _clean(text: str) -> str:
    """An answer without the debris that opens its passage (see ``_LEADING_DEBRIS``)."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    if rest and _marker_kind(first) and _marker_kind(first) == _marker_kind(rest):
        return text  # a list of items keeps its markers
    first = _LEADING_DEBRIS.sub("", first, count=1).strip() or first
    if rest and first[-1:] not in _TERMINAL:
        first += ":"  # "4. Văn phòng UBND tỉnh" heads the duties below it
    return f"{first}\n{rest}" if rest else first
