"""Score the knowledge base on question files (the format of ``cchc-dev/qa.jsonl``).

Each line: ``id``, ``question``, ``answer`` (gold), ``answer_kind``, ``doc`` (gold document id,
``null`` when the corpus cannot answer) and ``evidence`` (verbatim gold passage). Counterfactual
sets (``benchmarks/qa/counterfactual.jsonl``) add ``source_id``, ``change`` (year, place,
number, index, agency, …), ``changed_from`` and ``changed_to``; they are unanswerable.

Scoring rule (also in docs/benchmarks.md):

* retrieval: rank of the gold document among the documents of ``search(question, k=20)``
  → R@1, R@5, MRR;
* an answerable question is **answered right** when the answer is not declined, its first
  citation is the gold document, and it covers the gold answer: at least 60 % of the gold
  answer's content syllables (diacritic-insensitive) and every number in the gold answer
  appear in the answer text, or the answer contains the gold evidence's key sentence;
  numbers are compared as whole numbers without leading zeros ("08/12/2017" = "8/12/2017",
  but "12" is not found inside "2012");
* an unanswerable question is **declined right** when ``declined`` is true.

The same rule scores answers that arrive another way (the REST channel:
``benchmarks/rest_eval.py``) through :func:`score`. With ``fold=True`` every question is asked
without diacritics and in lower case (:func:`fold_question`), as people type on phones.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.lexicon.words import FOLDED_STOPWORDS
from knowledge.text.vietnamese import fold_diacritics

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)
_NUM = re.compile(r"\d+(?:[.,]\d+)?")
#: the change kind reported for unanswerable questions that are not counterfactuals
ORIGINAL = "original"


def _number(token: str) -> str:
    """A number as written, without leading zeros: "08" and "8" are the same day."""
    return (token.lstrip("0") or "0") if token.isdigit() else token


def _syllables(text: str) -> list[str]:
    folded = fold_diacritics(text).lower()
    return [_number(w) for w in _WORD.findall(folded) if w not in FOLDED_STOPWORDS]


def answer_covers(answer: str, gold: str, evidence: str = "") -> bool:
    """Does ``answer`` contain the gold answer (see module doc)?"""
    got = set(_syllables(answer))
    want = _syllables(gold)
    if not want:
        return False
    recall = sum(1 for w in want if w in got) / len(want)
    numbers = {_number(n) for n in _NUM.findall(answer)}
    numbers_ok = all(_number(n) in numbers for n in _NUM.findall(gold))
    if recall >= 0.6 and numbers_ok:
        return True
    ev = " ".join(_syllables(evidence))
    return bool(ev) and ev in " ".join(_syllables(answer)) and numbers_ok


def fold_question(question: str) -> str:
    """The question as typed on a phone: no diacritics (đ → d) and lower case.

    >>> fold_question("Kế hoạch CCHC năm 2019 của tỉnh Đắk Lắk là kế hoạch số mấy?")
    'ke hoach cchc nam 2019 cua tinh dak lak la ke hoach so may?'
    """
    return fold_diacritics(question).lower()


def load_questions(paths: Sequence[Path | str], limit: int | None = None) -> list[dict]:
    """The questions of every file in ``paths``, each with ``file`` (the file's name without
    its suffix) added; ``limit``: the first ``limit`` questions of each file.

    Raises:
        ValueError: a line is not a JSON object with a ``question``, or two questions share an
            id within one file.
    """
    questions: list[dict] = []
    for path in paths:
        path = Path(path)
        seen: set[str] = set()
        taken = 0
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(q, dict) or not str(q.get("question", "")).strip():
                raise ValueError(f"{path}:{number}: a question needs a 'question' text")
            qid = str(q.get("id", f"{path.stem}:{number}"))
            if qid in seen:
                raise ValueError(f"{path}:{number}: duplicate id {qid!r}")
            seen.add(qid)
            questions.append({**q, "id": qid, "file": path.stem})
            taken += 1
            if limit and taken >= limit:
                break
    return questions


def score(q: dict, *, asked: str, answer_text: str, declined: bool,
          cited_docs: Sequence[str] = (), confidence: float | None = None,
          seconds: float | None = None, rank: int | None = None,
          top_docs: Sequence[str] = (), **extra) -> dict:
    """One result row: the question and what came back, scored by the module's rule.

    Args:
        q: the question as loaded by :func:`load_questions`.
        asked: the text actually asked (folded or not).
        answer_text: the answer (or decline) text.
        declined: whether the answer is a decline.
        cited_docs: ids of the cited documents, first citation first (leads of a decline are
            not citations of an answer and should not be passed).
        confidence, seconds, rank, top_docs: recorded as they are (``rank``: of the gold
            document in retrieval, 0 = not found, None = not measured).
        extra: more fields to keep in the row for debugging.
    """
    gold = q.get("doc") or None
    cited = cited_docs[0] if cited_docs and not declined else None
    covers = answer_covers(answer_text, q.get("answer", ""), q.get("evidence", "")) \
        if gold else None
    return {
        "id": q.get("id"), "file": q.get("file"), "question": asked,
        "question_original": q["question"] if asked != q["question"] else None,
        "kind": q.get("answer_kind"),
        "change": q.get("change") or (ORIGINAL if not gold else None),
        "source_id": q.get("source_id"), "changed_from": q.get("changed_from"),
        "changed_to": q.get("changed_to"),
        "gold_doc": gold, "gold": q.get("answer"), "evidence": q.get("evidence"),
        "rank": rank, "top_docs": list(top_docs),
        "declined": bool(declined), "cited": cited, "cited_docs": list(cited_docs),
        "cited_gold": cited == gold if gold else None,
        "covers": covers,
        "correct": bool(gold) and not declined and cited == gold and bool(covers),
        "confidence": confidence, "answer": answer_text, "seconds": seconds, **extra,
    }


def _mean(values: Iterable[bool | float]) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else None


def summarize(rows: Sequence[dict]) -> dict:
    """The figures of a set of result rows: overall, per change kind (unanswerable questions),
    per answer kind and per file."""
    answerable = [r for r in rows if r["gold_doc"]]
    unanswerable = [r for r in rows if not r["gold_doc"]]
    ranked = [r for r in answerable if r.get("rank") is not None]
    timed = [r["seconds"] for r in rows if r.get("seconds") is not None]
    summary = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "retrieval_r@1": _mean(r["rank"] == 1 for r in ranked),
        "retrieval_r@5": _mean(0 < r["rank"] <= 5 for r in ranked),
        "retrieval_mrr": _mean(1 / r["rank"] if r["rank"] else 0 for r in ranked),
        "answer_accuracy": _mean(r["correct"] for r in answerable),
        "answered_right": sum(r["correct"] for r in answerable),
        "cited_gold": _mean(bool(r["cited_gold"]) for r in answerable),
        "answered_rate": _mean(not r["declined"] for r in answerable),
        "false_declines": sum(r["declined"] for r in answerable),
        "false_decline_rate": _mean(r["declined"] for r in answerable),
        "decline_accuracy": _mean(r["declined"] for r in unanswerable),
        "unanswerable_declined": sum(r["declined"] for r in unanswerable),
        "seconds_per_question": round(sum(timed) / len(timed), 3) if timed else None,
    }
    by_change: dict[str, dict] = {}
    for r in unanswerable:
        entry = by_change.setdefault(r["change"] or ORIGINAL, {"n": 0, "declined": 0})
        entry["n"] += 1
        entry["declined"] += bool(r["declined"])
    by_kind: dict[str, dict] = {}
    for r in rows:
        entry = by_kind.setdefault(str(r["kind"]), {
            "answerable": 0, "right": 0, "declined": 0,
            "unanswerable": 0, "unanswerable_declined": 0})
        if r["gold_doc"]:
            entry["answerable"] += 1
            entry["right"] += bool(r["correct"])
            entry["declined"] += bool(r["declined"])
        else:
            entry["unanswerable"] += 1
            entry["unanswerable_declined"] += bool(r["declined"])
    by_file: dict[str, dict] = {}
    for name in dict.fromkeys(str(r["file"]) for r in rows):
        part = [r for r in rows if str(r["file"]) == name]
        yes = [r for r in part if r["gold_doc"]]
        no = [r for r in part if not r["gold_doc"]]
        by_file[name] = {"answerable": len(yes), "right": sum(r["correct"] for r in yes),
                         "false_declines": sum(r["declined"] for r in yes),
                         "unanswerable": len(no),
                         "declined": sum(r["declined"] for r in no)}
    summary.update(by_change=dict(sorted(by_change.items())),
                   by_kind=dict(sorted(by_kind.items())), by_file=by_file)
    return summary


@dataclass
class EvalReport:
    """Result rows (one per question, see :func:`score`), the total time and how the questions
    were asked."""

    rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    folded: bool = False

    def summary(self) -> dict:
        return {**summarize(self.rows), "folded": self.folded}


def evaluate_qa(kb: KnowledgeBase, qa_paths: Path | str | Sequence[Path | str],
                limit: int | None = None, fold: bool = False,
                retrieval: bool = True) -> EvalReport:
    """Ask every question of ``qa_paths`` and score the answers (see module doc).

    Args:
        kb: the knowledge base to ask.
        qa_paths: one question file or several (answerable and unanswerable sets together).
        limit: the first ``limit`` questions of each file.
        fold: ask each question without diacritics and in lower case.
        retrieval: also rank the gold document with ``search(question, k=20)`` (R@1, R@5, MRR).
    """
    paths = [qa_paths] if isinstance(qa_paths, str | Path) else list(qa_paths)
    report = EvalReport(folded=fold)
    start = time.perf_counter()
    questions = load_questions(paths, limit)
    for number, q in enumerate(questions, start=1):
        if number % 25 == 0:
            logger.info("%d/%d questions, %.0f s", number, len(questions),
                        time.perf_counter() - start)
        asked = fold_question(q["question"]) if fold else q["question"]
        gold = q.get("doc")
        rank, top_docs = None, []
        if retrieval:
            ranked_docs = list(dict.fromkeys(h.chunk.doc_id for h in kb.search(asked, k=20)))
            rank = ranked_docs.index(gold) + 1 if gold in ranked_docs else 0
            top_docs = ranked_docs[:5]
        asked_at = time.perf_counter()
        answer = kb.ask(asked)
        seconds = time.perf_counter() - asked_at
        report.rows.append(score(
            q, asked=asked, answer_text=answer.text, declined=answer.declined,
            cited_docs=[] if answer.declined else [c.doc_id for c in answer.citations],
            confidence=answer.confidence, seconds=round(seconds, 4), rank=rank,
            top_docs=top_docs, answer_type=str(getattr(answer.kind, "value", answer.kind)),
            leads=[c.doc_id for c in answer.citations] if answer.declined else []))
    report.seconds = time.perf_counter() - start
    return report


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_summary(s: dict) -> str:
    """The summary of :func:`summarize` as a short text report."""
    folded = "  [asked without diacritics, lower case]" if s.get("folded") else ""
    lines = [f"questions: {s['questions']} ({s['answerable']} answerable, "
             f"{s['unanswerable']} unanswerable){folded}"]
    if s["retrieval_r@1"] is not None:
        lines.append(f"retrieval (gold document): R@1 {_pct(s['retrieval_r@1'])}  "
                     f"R@5 {_pct(s['retrieval_r@5'])}  MRR {s['retrieval_mrr']}")
    if s["answerable"]:
        lines.append(f"answerable answered right: {_pct(s['answer_accuracy'])} "
                     f"({s['answered_right']}/{s['answerable']})   gold cited: "
                     f"{_pct(s['cited_gold'])}   false declines: {_pct(s['false_decline_rate'])} "
                     f"({s['false_declines']}/{s['answerable']})")
    if s["unanswerable"]:
        lines.append(f"unanswerable declined: {_pct(s['decline_accuracy'])} "
                     f"({s['unanswerable_declined']}/{s['unanswerable']})")
        lines.append("  by change: " + ", ".join(
            f"{k} {v['declined']}/{v['n']}" for k, v in s["by_change"].items()))
    lines.append("by answer kind (answerable right/n, declined | unanswerable declined/n):")
    for kind, v in s["by_kind"].items():
        parts = []
        if v["answerable"]:
            parts.append(f"{v['right']}/{v['answerable']} right, {v['declined']} declined")
        if v["unanswerable"]:
            parts.append(f"{v['unanswerable_declined']}/{v['unanswerable']} declined")
        lines.append(f"  {kind}: " + " | ".join(parts))
    if len(s["by_file"]) > 1:
        lines.append("by file: " + "; ".join(
            f"{name}: {v['right']}/{v['answerable']} right, {v['false_declines']} false declines, "
            f"{v['declined']}/{v['unanswerable']} declined" for name, v in s["by_file"].items()))
    if s["seconds_per_question"] is not None:
        lines.append(f"time: {s['seconds_per_question']} s/question (ask)")
    return "\n".join(lines)


def format_report(report: EvalReport) -> str:
    """:func:`format_summary` of a report."""
    return format_summary(report.summary())
