"""Fit the answer pipeline's decision model (knowledge/answering/decision_model.json).

For every question of cchc-dev (72 answerable, 6 not) and of the counterfactual set
(benchmarks/qa/counterfactual.jsonl), as typed and folded (no diacritics, lower case), the
pipeline proposes its verified best candidate with the decision's features
(:meth:`knowledge.base.KnowledgeBase.propose`). A proposal is labelled 1 when its answer is
right by the scoring rule of :mod:`knowledge.evaluate` (gold document cited, gold answer
covered), 0 otherwise — every proposal for a question the corpus cannot answer is 0.
Questions settled before the decision (verification declined them, a signature block answered
them, facts over several documents answered them) never reach it; but verification stops
nearly every counterfactual, which would leave the model almost no wrong answers to learn
from. So each question the corpus cannot answer also gives, as a negative example, the
best-scored candidate *before* verification: the model learns what a wrong answer looks like
in the features, a second line of defence for what verification cannot see.

A logistic regression (standardised features, L2) is fitted; its regularisation is chosen by
grouped cross-validation (a question, its folded twin and its counterfactuals form one group,
so nothing about a question leaks into the fold that scores it), and the decline threshold is
chosen on the out-of-fold probabilities: the highest threshold whose false declines
(answerable questions declined, the decision's and verification's together) stay within
``--max-false-declines`` of the answerable questions. The report gives the cross-validated
figures; the model written is refitted on everything.

    HF_HUB_OFFLINE=1 .venv/kb/bin/python -m benchmarks.qa.fit_decision \\
        --index var/eval/cchc-dev-index            # builds the index there if missing
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED, machine
from knowledge.answering.decision import FEATURES, MODEL_FILE, DecisionModel
from knowledge.evaluate import answer_covers
from knowledge.text.vietnamese import fold_diacritics

logger = logging.getLogger(__name__)

CCHC_DEV = SHARED / "corpus" / "cchc-dev"
COUNTERFACTUAL = Path(__file__).with_name("counterfactual.jsonl")


@dataclass
class Example:
    group: str
    answerable: bool
    folded: bool
    settled: bool  # answered or declined before the decision
    settled_right: bool  # for settled ones: right (answerable) / declined (unanswerable)
    features: dict[str, float] | None = None
    label: int = 0
    #: the best-scored candidate before verification (a negative example; training only)
    unverified: dict[str, float] | None = None


def _questions() -> list[dict]:
    rows = [json.loads(line) for line in (CCHC_DEV / "qa.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    rows += [json.loads(line) for line in COUNTERFACTUAL.read_text("utf-8").splitlines()
             if line.strip()]
    return rows


def collect(kb, questions: list[dict]) -> list[Example]:
    """Ask every question (as typed and folded) up to the decision."""
    examples = []
    for q in questions:
        group = q.get("source_id") or q["id"]
        for folded in (False, True):
            text = fold_diacritics(q["question"]).lower() if folded else q["question"]
            proposal = kb.propose(text)
            gold = q.get("doc")
            unverified = None
            if not gold:
                raw = kb.propose(text, verify=False)
                unverified = raw.features if raw.answer is None else None
            if proposal.answer is not None:
                answer = proposal.answer
                cited = answer.citations[0].doc_id if answer.citations else None
                right = (not answer.declined and cited == gold and answer_covers(
                    answer.text, q.get("answer", ""), q.get("evidence", ""))) if gold \
                    else answer.declined
                examples.append(Example(group, bool(gold), folded, True, right,
                                        unverified=unverified))
                continue
            answer = proposal.extract(1.0)
            cited = answer.citations[0].doc_id if answer.citations else None
            label = int(bool(gold) and cited == gold and answer_covers(
                answer.text, q.get("answer", ""), q.get("evidence", "")))
            examples.append(Example(group, bool(gold), folded, False, False,
                                    proposal.features, label, unverified))
    return examples


def _matrix(examples: list[Example], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[e.features[n] for n in names] for e in examples], dtype=np.float64)


def _training(examples: list[Example]) -> list[tuple[dict[str, float], int]]:
    """(features, label): every proposal that reaches the decision, and the unverified best
    candidate of every question the corpus cannot answer (label 0)."""
    rows = [(e.features, e.label) for e in examples if not e.settled]
    rows += [(e.unverified, 0) for e in examples if e.unverified is not None]
    return rows


def fit(examples: list[Example], names: tuple[str, ...], c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rows = _training(examples)
    x = np.array([[f[n] for n in names] for f, _ in rows], dtype=np.float64)
    y = np.array([label for _, label in rows])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(scaler.transform(x), y)
    return scaler, model


def out_of_fold(examples: list[Example], names: tuple[str, ...], c: float,
                folds: int) -> np.ndarray:

    decided = [e for e in examples if not e.settled]
    groups = sorted({e.group for e in examples})
    fold_of = {g: i % folds for i, g in enumerate(groups)}  # whole groups, round robin
    probs = np.zeros(len(decided))
    for fold in range(folds):
        train = [e for e in examples if fold_of[e.group] != fold]
        test = [i for i, e in enumerate(decided) if fold_of[e.group] == fold]
        if not test:
            continue
        scaler, model = fit(train, names, c)
        x = scaler.transform(_matrix([decided[i] for i in test], names))
        probs[test] = model.predict_proba(x)[:, 1]
    return probs


def outcome(examples: list[Example], probs: np.ndarray, threshold: float) -> dict:
    """Answerable right, false declines and unanswerable declined if proposals below
    ``threshold`` are declined (settled questions count as they were settled)."""
    decided = [e for e in examples if not e.settled]
    p_of = {id(e): p for e, p in zip(decided, probs, strict=True)}
    answerable = [e for e in examples if e.answerable]
    unanswerable = [e for e in examples if not e.answerable]
    right = sum(1 for e in answerable if (e.settled_right if e.settled
                                          else e.label and p_of[id(e)] >= threshold))
    false_declines = sum(1 for e in answerable if not e.settled and p_of[id(e)] < threshold)
    declined = sum(1 for e in unanswerable if (e.settled_right if e.settled
                                               else p_of[id(e)] < threshold))
    return {"answerable": len(answerable), "answerable_right": right,
            "false_declines": false_declines, "unanswerable": len(unanswerable),
            "unanswerable_declined": declined}


def choose_threshold(examples: list[Example], probs: np.ndarray,
                     max_false_declines: float) -> tuple[float, dict]:
    best = (0.05, outcome(examples, probs, 0.05))
    for threshold in np.arange(0.05, 0.951, 0.01):
        result = outcome(examples, probs, float(threshold))
        if result["false_declines"] <= max_false_declines * result["answerable"]:
            best = (float(threshold), result)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=Path("var/eval/cchc-dev-index"))
    parser.add_argument("--features", default=",".join(FEATURES))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-false-declines", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig
    from knowledge.ingest.indexer import Indexer

    config = KnowledgeConfig.from_env(index_dir=args.index)
    if not (args.index / "CURRENT").exists():
        Indexer(config).ingest([CCHC_DEV / "docs"])
    kb = KnowledgeBase(config)
    examples = collect(kb, _questions())
    names = tuple(n.strip() for n in args.features.split(",") if n.strip())
    decided = [e for e in examples if not e.settled]
    print(f"{len(examples)} questions asked; {len(decided)} reach the decision "
          f"({sum(e.label for e in decided)} right answers); "
          f"{sum(e.unverified is not None for e in examples)} unverified negatives")
    best_c, best_score, best_probs = None, -1.0, None
    for c in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0):
        probs = out_of_fold(examples, names, c, args.folds)
        threshold, result = choose_threshold(examples, probs, args.max_false_declines)
        score = result["answerable_right"] + result["unanswerable_declined"]
        print(f"C={c:<5} threshold {threshold:.2f}: {json.dumps(result)}")
        if score > best_score:
            best_c, best_score, best_probs = c, score, probs
    threshold, result = choose_threshold(examples, best_probs, args.max_false_declines)
    print(f"chosen C={best_c}, threshold {threshold:.2f} (grouped {args.folds}-fold CV): "
          f"{json.dumps(result)}")
    scaler, model = fit(examples, names, best_c)
    fitted = DecisionModel(
        names, tuple(float(v) for v in scaler.mean_), tuple(float(v) for v in scaler.scale_),
        tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]), threshold,
        fitted_on=(f"cchc-dev + {COUNTERFACTUAL.name}, as typed and folded: "
                   f"{len(_training(examples))} examples, C={best_c}, grouped {args.folds}-fold CV "
                   f"{json.dumps(result)}"))
    print("coefficients:", {n: round(c, 3) for n, c in zip(names, fitted.coef, strict=True)})
    print(json.dumps(machine()))
    if not args.dry_run:
        fitted.save(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
