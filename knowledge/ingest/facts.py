"""Structured facts extracted from every document at ingest.

One passage answers most questions; some need several documents at once: "năm 2018 có những
kế hoạch CCHC nào?", "so với năm 2016, năm 2018 kiểm tra bao nhiêu đơn vị?", "những việc nào
phải xong trong quý II?". For those, :func:`extract_facts` reads each document once when it is
indexed and keeps typed records (stored in the index version, ``facts.jsonl``):

- :class:`Inspection` — an inspection (kiểm tra / thanh tra): its year, the units inspected
  (named, or counted: "5 sở, ngành; 4 huyện"), its period;
- :class:`Target` — a figure to reach (``tối thiểu 20%`` of what), with its deadline;
- :class:`Assignment` — an agency given a task (``Sở Nội vụ chủ trì …``), with its deadline;
- :class:`PlanMention` — a plan (Kế hoạch) named in the text, with its year and số hiệu.

Everything here is pattern extraction over sentences — no model — so it is cheap enough to run
on every document at every ingest. :mod:`knowledge.answering.aggregate` answers from these records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from knowledge.lexicon.agencies import ORG_NOUNS
from knowledge.lexicon.dates import YEAR, YEAR_RE, Period, find_period
from knowledge.lexicon.doc_numbers import NUMBER_RE, find_numbers
from knowledge.schema import Document

_INSPECT = re.compile(r"\b(kiểm tra|thanh tra)\b", re.IGNORECASE)

# case matters: "Xã hội" in "Lao động – Thương binh và Xã hội" is not a commune
_ORG_START = re.compile(r"^(?:[Cc]ác\s+)?(?:" + "|".join(re.escape(n) for n in sorted(
    ORG_NOUNS, key=len, reverse=True)) + r")\b")
#: Verbs that end an agency's name: "Sở Thông tin và Truyền thông | đẩy nhanh …".
_TASK_VERBS = re.compile(
    r"\s(?:chủ trì|phối hợp|thực hiện|tổ chức|xây dựng|theo dõi|hướng dẫn|tham mưu|triển khai|"
    r"rà soát|kiểm tra|báo cáo|có trách nhiệm|chịu trách nhiệm|đôn đốc|tiếp tục|nghiên cứu|"
    r"tăng cường|đề xuất|ban hành|quản lý|cập nhật|công khai|bảo đảm|đảm bảo|hoàn thành|"
    r"hoàn thiện|chuẩn bị|lập|trình|tuyên truyền|là cơ quan|làm|đẩy nhanh|đẩy mạnh|nâng cấp|"
    r"bố trí|cung cấp|giải quyết|tiếp nhận|rà|chỉ đạo|thường xuyên|khẩn trương|kịp thời|"
    r"sớm|nghiêm túc|phải|cần|được|để|trong|trước|tại|về|với|theo)\b")
# "các sở", "các huyện", "các xã, phường" — a group whose members follow without their noun
_GROUP = re.compile(r"^(?:UBND\s+)?các\s+(sở|ban|huyện|xã|phường|quận|thị xã|phòng|"
                    r"đơn vị|cơ quan|trường|bệnh viện)\b\s*:?\s*", re.IGNORECASE)
_GROUP_NOUN = {"sở": "Sở", "ban": "Ban", "huyện": "huyện", "xã": "xã", "phường": "phường",
               "quận": "quận", "thị xã": "thị xã", "phòng": "Phòng", "trường": "Trường",
               "bệnh viện": "Bệnh viện", "đơn vị": "", "cơ quan": ""}
# "5 sở, ngành; 4 huyện, thị xã, thành phố; 8 xã" — counted units
_COUNTED = re.compile(
    r"(?<![\d/.,])(\d{1,3})\s+((?:sở|ban|ngành|đơn vị|cơ quan|huyện|quận|thị xã|thành phố|"
    r"xã|phường|thị trấn|phòng|trường|địa phương|doanh nghiệp)"
    r"(?:\s*,\s*(?:sở|ban|ngành|đơn vị|cơ quan|huyện|quận|thị xã|thành phố|xã|phường|"
    r"thị trấn|phòng|trường|địa phương))*)", re.IGNORECASE)

_PERCENT = re.compile(
    r"((?:tối thiểu|ít nhất|tối đa|trên|dưới|đạt|đạt tỷ lệ|đạt tối thiểu|đạt ít nhất|"
    r"phấn đấu đạt|không quá|giảm|tăng)\s+)?(\d{1,3}(?:[.,]\d+)?\s*%)", re.IGNORECASE)
_ASSIGN_GIAO = re.compile(r"\bgiao\s+(?:cho\s+)?(.+)", re.IGNORECASE)
_LEADS = re.compile(r"^(.{3,120}?)\s+(chủ trì|là cơ quan chủ trì|là cơ quan thường trực|"
                    r"có trách nhiệm|chịu trách nhiệm|tham mưu|theo dõi, đôn đốc)\b(.*)",
                    re.IGNORECASE)
_LABELLED = re.compile(r"^[-–•+*]?\s*(?:\d+[.)]\s*|[a-zđ][.)]\s*)?([^:]{3,90}):\s*(.+)$")
_PLAN = re.compile(
    r"\b(Kế hoạch|kế hoạch)(\s+số\s+\S+)?((?:\s+(?!số\b)[^\s.;:]+){1,25}?\s+"
    rf"(?:năm|giai đoạn)\s+({YEAR})(?:\s*[-–]\s*({YEAR}))?)", re.UNICODE)
_HEADING_ITEM = re.compile(r"^(?:\(?\d{1,2}[.)]|[IVX]{1,4}\.|[a-zđ]\))\s+")
_ITEM = re.compile(r"^(?:[-–•+*]|[a-zđ][.)]|\d{1,2}\.\d{1,2}\.?)\s+")
_TASK_START = re.compile(r"(?:Chủ trì|Phối hợp|Tham mưu|Hướng dẫn|Thực hiện|Tổ chức|Xây dựng|"
                         r"Rà soát|Triển khai|Theo dõi|Đôn đốc|Kiểm tra|Báo cáo|Hoàn thành|"
                         r"Bảo đảm|Đảm bảo|Cập nhật|Nâng cấp|Tiếp tục|Công khai|Bố trí)\b")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-ZĐÀ-Ỹ0-9\"“(-])|\n+")


@dataclass(frozen=True)
class Inspection:
    doc_id: str
    sentence: str
    year: int | None
    units: tuple[str, ...] = ()  # named units, in the document's order
    counted: str = ""  # "5 sở, ngành; 4 huyện, thị xã, thành phố"
    unit_count: int = 0  # len(units), or the sum of the counted ones
    period: Period | None = None


@dataclass(frozen=True)
class Target:
    doc_id: str
    sentence: str
    figure: str  # "tối thiểu 20%"
    subject: str  # the clause the figure belongs to
    deadline: Period | None = None


@dataclass(frozen=True)
class Assignment:
    doc_id: str
    sentence: str
    agency: str  # "Sở Nội vụ"
    task: str
    deadline: Period | None = None


@dataclass(frozen=True)
class PlanMention:
    doc_id: str
    sentence: str
    name: str  # "Kế hoạch Kiểm tra công tác cải cách hành chính (CCHC) năm 2018"
    year: int
    number: str = ""  # the plan's số hiệu, or the decision that issued it


@dataclass(frozen=True)
class DocumentFacts:
    doc_id: str
    inspections: tuple[Inspection, ...] = ()
    targets: tuple[Target, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    plans: tuple[PlanMention, ...] = ()

    def is_empty(self) -> bool:
        return not (self.inspections or self.targets or self.assignments or self.plans)

    def to_dict(self) -> dict[str, Any]:
        def plain(record) -> dict:
            data = asdict(record)
            data.pop("doc_id")
            for key in ("period", "deadline"):
                if key in data:
                    value = getattr(record, key)
                    data[key] = value.to_dict() if value else None
            return data

        return {"doc_id": self.doc_id,
                "inspections": [plain(r) for r in self.inspections],
                "targets": [plain(r) for r in self.targets],
                "assignments": [plain(r) for r in self.assignments],
                "plans": [plain(r) for r in self.plans]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentFacts:
        doc_id = data["doc_id"]

        def rebuild(kind, rows, *periods):
            out = []
            for row in rows or ():
                row = dict(row)
                for key in periods:
                    row[key] = Period.from_dict(row.get(key))
                if "units" in row:
                    row["units"] = tuple(row["units"])
                out.append(kind(doc_id=doc_id, **row))
            return tuple(out)

        return cls(doc_id,
                   rebuild(Inspection, data.get("inspections"), "period"),
                   rebuild(Target, data.get("targets"), "deadline"),
                   rebuild(Assignment, data.get("assignments"), "deadline"),
                   rebuild(PlanMention, data.get("plans")))


@dataclass
class _Context:
    doc: Document
    default_year: int | None
    seen: set[str] = field(default_factory=set)


def _sentence_year(sentence: str, default: int | None) -> int | None:
    m = re.search(rf"\bnăm\s+({YEAR})\b", sentence, re.IGNORECASE)
    if m:
        return int(m.group(1))
    m = YEAR_RE.search(sentence)
    return int(m.group(1)) if m else default


# -- sentences -------------------------------------------------------------------------------
def sentences(text: str) -> list[str]:
    """Sentences and list lines of a document (a line ending in ``:`` keeps its items)."""
    out: list[str] = []
    for line in re.split(r"\n\s*\n|\n(?=\s*[-–•+*]\s)|\n(?=\s*\d+[.)]\s)", text):
        line = " ".join(line.split())
        if not line:
            continue
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ\"“(])", line)
                   if len(s.strip()) > 3)
    return out


# -- units -----------------------------------------------------------------------------------
def _split_units(segment: str) -> list[str]:
    """Split a list of units on commas, semicolons and those "và" that open a new unit."""
    parts = re.split(r"\s*[;,]\s*", segment)
    out: list[str] = []
    for part in parts:
        pieces = re.split(r"\s+và\s+", part)
        current = pieces[0]
        for piece in pieces[1:]:
            if _ORG_START.match(piece) or _GROUP.match(piece):
                out.append(current)
                current = piece
            else:
                current = f"{current} và {piece}"  # "Văn hóa và Thể thao"
        out.append(current)
    return [p.strip(" .:-–") for p in out if p.strip(" .:-–")]


def parse_units(segment: str) -> tuple[str, ...]:
    """Named units of an enumeration, with a group's noun given to its members.

    >>> parse_units("các sở: Tài chính, Xây dựng, Ban Dân tộc và UBND thị xã Ba Đồn, "
    ...             "các huyện Tuyên Hóa, Quảng Ninh")
    ('Sở Tài chính', 'Sở Xây dựng', 'Ban Dân tộc', 'UBND thị xã Ba Đồn', 'huyện Tuyên Hóa', \
'huyện Quảng Ninh')
    """
    units: list[str] = []
    noun = ""
    for item in _split_units(segment):
        group = _GROUP.match(item)
        if group:
            noun = _GROUP_NOUN.get(group.group(1).lower(), "")
            item = item[group.end():].strip()
            if not item:
                continue
        elif _ORG_START.match(item):
            noun = ""
        if not item or len(item) > 80 or not item[0].isupper() and not _ORG_START.match(item):
            return ()  # not a list of names: prose
        units.append(f"{noun} {item}".strip() if noun else item)
    return tuple(units)


def _inspected_segment(sentence: str) -> str:
    """The enumeration of units after "kiểm tra … tại (các sở):" in a sentence, if any."""
    m = _INSPECT.search(sentence)
    if not m:
        return ""
    rest = sentence[m.end():]
    colon = re.search(r"\btại\s+(?:các\s+(?:cơ quan, đơn vị|đơn vị|cơ quan)\s*(?:sau)?\s*:|"
                      r"(?=(?:các\s+)?(?:sở|ban|huyện|xã|UBND|phòng)\b))", rest, re.IGNORECASE)
    if not colon:
        return ""
    segment = rest[colon.end():]
    end = re.search(r"\.\s|\.$|\n\s*\n| Nội dung| Thời gian", segment)
    return segment[: end.start()] if end else segment


def _counted(sentence: str) -> tuple[str, int]:
    found = list(_COUNTED.finditer(sentence))
    if not found:
        return "", 0
    # the counts of one enumeration: consecutive matches separated by ; , or "và"
    groups: list[list[re.Match]] = [[found[0]]]
    for prev, cur in zip(found, found[1:], strict=False):
        between = sentence[prev.end():cur.start()]
        if re.fullmatch(r"\s*(?:[;,]|và|;\s*và)?\s*", between):
            groups[-1].append(cur)
        else:
            groups.append([cur])
    best = max(groups, key=len)
    text = "; ".join(f"{m.group(1)} {m.group(2)}" for m in best)
    return text, sum(int(m.group(1)) for m in best)


def _inspection(sentence: str, ctx: _Context) -> Inspection | None:
    if not _INSPECT.search(sentence):
        return None
    units = parse_units(_inspected_segment(sentence))
    counted, count = ("", 0) if units else _counted(sentence)
    if not units and not count:
        return None
    period = find_period(sentence, ctx.default_year)
    year = _sentence_year(sentence, period.year if period else ctx.default_year)
    return Inspection(ctx.doc.id, sentence, year, units, counted,
                      len(units) if units else count, period)


# -- targets and assignments ---------------------------------------------------------------
def _clause(sentence: str, start: int, end: int) -> str:
    """The clause around ``sentence[start:end]`` (between ; or sentence edges)."""
    left = max(sentence.rfind(";", 0, start), sentence.rfind(":", 0, start))
    right = sentence.find(";", end)
    clause = sentence[left + 1: right if right >= 0 else len(sentence)]
    return clause.strip(" .;,")


def _targets(sentence: str, ctx: _Context) -> list[Target]:
    out = []
    for m in _PERCENT.finditer(sentence):
        value = float(m.group(2).rstrip("% ").replace(",", "."))
        if value > 100:
            continue
        figure = (m.group(1) or "") + m.group(2).replace(" ", "")
        subject = _clause(sentence, m.start(), m.end())
        if len(subject) < 15:
            continue
        deadline = find_period(subject, ctx.default_year) or find_period(
            sentence, ctx.default_year)
        out.append(Target(ctx.doc.id, sentence, figure.strip(), subject, deadline))
    return out


def _agency_name(text: str) -> str:
    """The agency a phrase starts with, up to the verb of its task: ``"Sở Thông tin và
    Truyền thông đẩy nhanh …"`` → ``"Sở Thông tin và Truyền thông"``."""
    text = text.strip()
    if not _ORG_START.match(text):
        return ""
    verb = _TASK_VERBS.search(text)
    name = text[: verb.start()] if verb else text
    name = re.split(r"\s*[,;:(]\s*", name)[0].strip()
    words = name.split()
    if not 2 <= len(words) <= 12:
        return ""
    return name


def _assignments(sentence: str, ctx: _Context) -> list[Assignment]:
    out = []
    for clause in re.split(r"\s*;\s*|(?<=\.)\s+", sentence):
        agency, task = "", ""
        m = _ASSIGN_GIAO.search(clause)
        if m:
            agency = _agency_name(m.group(1))
            task = m.group(1)[len(agency):].strip(" ,:") if agency else ""
        if not agency:
            m = _LEADS.match(clause)
            if m:
                agency = _agency_name(m.group(1)) or ""
                if agency and len(agency) >= len(m.group(1)) - 2:
                    task = (m.group(2) + m.group(3)).strip(" ,:")
                else:
                    agency = ""
        if not agency and re.match(r"^[-–•+*]|^\d+[.)]\s|^[a-zđ][.)]\s", clause):
            m = _LABELLED.match(clause)  # "- Sở Nội vụ: chủ trì …" (a list line)
            if m and _agency_name(m.group(1)) == m.group(1).strip():
                agency, task = m.group(1).strip(), m.group(2).strip()
        if agency and len(task) >= 10:
            deadline = find_period(clause, ctx.default_year)
            out.append(Assignment(ctx.doc.id, sentence, agency, task.rstrip(" ."), deadline))
    return out


# -- plans -----------------------------------------------------------------------------------
def _plans(sentence: str, ctx: _Context) -> list[PlanMention]:
    out = []
    for m in _PLAN.finditer(sentence):
        name = ("Kế hoạch" + (m.group(2) or "") + m.group(3)).strip()
        name = re.sub(r"\s+", " ", name)
        number = ""
        if m.group(2):
            nums = find_numbers(m.group(2))
            number = nums[0] if nums else ""
        if not number:
            # "Quyết định số 1331/QĐ-UBND về việc ban hành Kế hoạch …": the issuing decision
            before = sentence[max(0, m.start() - 90):m.start()]
            found = [n.group(1) for n in NUMBER_RE.finditer(before)]
            if found and re.search(r"ban hành\s*$", before, re.IGNORECASE):
                number = found[-1]
        key = re.sub(r"\W+", " ", name.lower())
        if key in ctx.seen:
            continue
        ctx.seen.add(key)
        out.append(PlanMention(ctx.doc.id, sentence, name, int(m.group(4)), number))
    return out


def extract_facts(doc: Document) -> DocumentFacts:
    """Every inspection, target, assignment and named plan in ``doc``.

    >>> from knowledge.schema import DocumentMeta
    >>> doc = Document("a.txt", "Năm 2018 kiểm tra tại các sở: Tài chính, Xây dựng.",
    ...                DocumentMeta(year=2018))
    >>> extract_facts(doc).inspections[0].units
    ('Sở Tài chính', 'Sở Xây dựng')
    """
    default_year = doc.meta.year or (int(doc.meta.date[:4]) if doc.meta.date[:4].isdigit()
                                     else None)
    ctx = _Context(doc, default_year)
    inspections, targets, assignments, plans = [], [], [], []
    title_plan = doc.meta.doc_type == "Kế hoạch" and doc.meta.title
    if title_plan:
        plans.extend(_plans(doc.meta.title, ctx))
    heading_agency = ""  # "(1) Bộ Công an:" gives its agency to the task lines below it
    for sentence in sentences(doc.text):
        inspection = _inspection(sentence, ctx)
        if inspection:
            inspections.append(inspection)
        targets.extend(_targets(sentence, ctx))
        plans.extend(_plans(sentence, ctx))
        heading = _HEADING_ITEM.match(sentence)
        if heading and not _TASK_START.match(sentence[heading.end():]):
            label = sentence[heading.end():].strip().rstrip(":").strip()
            heading_agency = label if _agency_name(label) == label else ""
            continue
        if heading_agency and _ITEM.match(sentence):
            task = _ITEM.sub("", sentence).strip()
            if _TASK_START.match(task):
                assignments.append(Assignment(
                    doc.id, sentence, heading_agency, task.rstrip(" ."),
                    find_period(task, default_year)))
                continue
        assignments.extend(_assignments(sentence, ctx))
    inspections = _attach_periods(inspections, sentences(doc.text), default_year)
    return DocumentFacts(doc.id, tuple(inspections), tuple(targets), tuple(assignments),
                         tuple(plans))


def _attach_periods(inspections: list[Inspection], all_sentences: list[str],
                    default_year: int | None) -> list[Inspection]:
    """An inspection without a period takes the one of a nearby sentence about the same
    inspection ("Thời gian kiểm tra dự kiến trong quý II và III/2018.")."""
    out = []
    for inspection in inspections:
        if inspection.period is None and inspection.sentence in all_sentences:
            at = all_sentences.index(inspection.sentence)
            for sentence in all_sentences[at + 1: at + 4]:
                period = find_period(sentence, default_year)
                if period and _INSPECT.search(sentence) and not _inspection_like(sentence):
                    inspection = replace(inspection, period=period)
                    break
        out.append(inspection)
    return out


def _inspection_like(sentence: str) -> bool:
    """A sentence that announces another inspection (its own units) rather than a date."""
    return bool(parse_units(_inspected_segment(sentence)) or _counted(sentence)[1])


def extract_all(documents: Iterable[Document]) -> dict[str, DocumentFacts]:
    return {doc.id: extract_facts(doc) for doc in documents}
