"""Score the knowledge base on a question file (the format of ``cchc-dev/qa.jsonl``).

Each line: ``id``, ``question``, ``answer`` (gold), ``answer_kind``, ``doc`` (gold document id,
``null`` when the corpus cannot answer) and ``evidence`` (verbatim gold passage).

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
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.lexicon.words import FOLDED_STOPWORDS
from knowledge.text.vietnamese import fold_diacritics

_WORD = re.compile(r"\w+", re.UNICODE)
_NUM = re.compile(r"\d+(?:[.,]\d+)?")


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


@dataclass
class EvalReport:
    rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        answerable = [r for r in self.rows if r["gold_doc"]]
        unanswerable = [r for r in self.rows if not r["gold_doc"]]

        def mean(values):
            return round(sum(values) / len(values), 4) if values else None

        return {
            "questions": len(self.rows),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "retrieval_r@1": mean([r["rank"] == 1 for r in answerable]),
            "retrieval_r@5": mean([0 < r["rank"] <= 5 for r in answerable]),
            "retrieval_mrr": mean([1 / r["rank"] if r["rank"] else 0 for r in answerable]),
            "answer_accuracy": mean([r["correct"] for r in answerable]),
            "cited_gold": mean([r["cited_gold"] for r in answerable]),
            "answered_rate": mean([not r["declined"] for r in answerable]),
            "decline_accuracy": mean([r["declined"] for r in unanswerable]),
            "seconds_per_question": round(self.seconds / max(len(self.rows), 1), 3),
        }


def evaluate_qa(kb: KnowledgeBase, qa_path: Path, limit: int | None = None) -> EvalReport:
    report = EvalReport()
    questions = [json.loads(line) for line in Path(qa_path).read_text("utf-8").splitlines()
                 if line.strip()]
    if limit:
        questions = questions[:limit]
    start = time.perf_counter()
    for q in questions:
        gold = q.get("doc")
        hits = kb.search(q["question"], k=20)
        ranked_docs = list(dict.fromkeys(h.chunk.doc_id for h in hits))
        rank = ranked_docs.index(gold) + 1 if gold in ranked_docs else 0
        answer = kb.ask(q["question"])
        cited = answer.citations[0].doc_id if answer.citations and not answer.declined else None
        correct = bool(gold) and not answer.declined and cited == gold and answer_covers(
            answer.text, q.get("answer", ""), q.get("evidence", ""))
        report.rows.append({
            "id": q.get("id"), "question": q["question"], "kind": q.get("answer_kind"),
            "gold_doc": gold, "rank": rank, "declined": answer.declined, "cited": cited,
            "cited_gold": cited == gold if gold else None, "correct": correct,
            "confidence": answer.confidence, "answer": answer.text, "gold": q.get("answer"),
        })
    report.seconds = time.perf_counter() - start
    return report


def format_report(report: EvalReport) -> str:
    s = report.summary()

    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"

    return "\n".join([
        f"questions: {s['questions']} ({s['answerable']} answerable, "
        f"{s['unanswerable']} unanswerable)",
        f"retrieval (gold document): R@1 {pct(s['retrieval_r@1'])}  R@5 {pct(s['retrieval_r@5'])}"
        f"  MRR {s['retrieval_mrr']}",
        f"answer accuracy (answerable): {pct(s['answer_accuracy'])}   gold cited: "
        f"{pct(s['cited_gold'])}   answered: {pct(s['answered_rate'])}",
        f"decline accuracy (unanswerable): {pct(s['decline_accuracy'])}",
        f"time: {s['seconds_per_question']} s/question",
    ])
