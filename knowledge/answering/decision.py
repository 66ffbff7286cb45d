"""The decision: answer or decline, from a calibrated probability that the answer is right.

A small logistic regression reads the features of the verified best candidate (its coverage,
focus, fit, cosine, margin over the next candidate…) and gives the probability that the answer
is right. It is fitted with grouped cross-validation on cchc-dev and its counterfactual
questions (``benchmarks/qa/fit_decision.py``), and shipped as plain numbers in
``decision_model.json`` beside this module; the decline threshold is part of the file.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge.answering.question import QuestionAnalysis
from knowledge.answering.scoring import Scored, specific_evidence_missing
from knowledge.lexicon.dates import stated_years, years_in

MODEL_FILE = Path(__file__).with_name("decision_model.json")

#: every feature the model may use, computed by :func:`features`
FEATURES = ("score", "coverage", "focus", "fit", "dense", "margin", "heuristic", "rank",
            "named", "missing", "year_in_sentence", "year_conflict", "form")


def features(analysis: QuestionAnalysis, best: Scored, runner_up: Scored | None,
             heuristic: float) -> dict[str, float]:
    """The decision's inputs for the chosen candidate."""
    year = analysis.year
    said = stated_years(best.candidate.text) if year is not None else set()
    return {
        "score": best.score,
        "coverage": best.coverage,
        "focus": best.focus,
        "fit": 0.75 if best.fit is None else best.fit,
        "dense": best.dense,
        "margin": best.score - runner_up.score if runner_up else 1.0,
        "heuristic": heuristic,
        "rank": 1.0 / (1 + best.candidate.rank),
        "named": float(best.named),
        "missing": float(specific_evidence_missing(analysis, best.candidate.text)),
        "year_in_sentence": float(year is not None and year in years_in(best.candidate.text)),
        # the sentence speaks of other years only (a comparison, or another year's facts)
        "year_conflict": float(bool(said) and year not in said),
        "form": best.form,
    }


@dataclass(frozen=True)
class DecisionModel:
    """``P(right) = sigmoid(intercept + Σ coef_i · (x_i - mean_i) / scale_i)``; answers below
    ``threshold`` are declined."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    fitted_on: str = ""

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise ValueError("decision model: features, mean, scale and coef differ in length")
        unknown = set(self.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"decision model: unknown features {sorted(unknown)}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"decision model: threshold must be in (0, 1), got "
                             f"{self.threshold}")

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.intercept + sum(
            c * (values[f] - m) / (s or 1.0)
            for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DecisionModel:
        return cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]),
                   tuple(data["coef"]), float(data["intercept"]), float(data["threshold"]),
                   data.get("fitted_on", ""))

    def save(self, path: Path = MODEL_FILE) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> DecisionModel:
    """The shipped model (read once per process)."""
    return DecisionModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
