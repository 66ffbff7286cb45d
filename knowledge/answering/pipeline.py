"""The answer pipeline, stage by stage (haystack-style components with typed data between):

    QuestionAnalysis + hits + query vector
      → candidates      the stored sentences of the best passages   (candidates.py)
      → scored          features and ranking score                  (scoring.py)
      → verified        the question's hard constraints             (verify.py)
      → decided         calibrated probability vs threshold         (decision.py)
      → evidence        the sentence completed where it must be     (evidence.py)
      → extracted       the typed answer                            (extractors/)
      → Answer          with its citation and evidence span, or a decline (decline.py)

The pipeline receives what it needs — the analysis, the retriever's hits, the question's
vector and a :class:`~knowledge.answering.corpus.Corpus` — and embeds nothing: sentence vectors
were stored at ingest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from knowledge.answering.candidates import Candidate, collect
from knowledge.answering.corpus import Corpus
from knowledge.answering.decision import DecisionModel, features, load_model
from knowledge.answering.decline import decline
from knowledge.answering.evidence import assemble
from knowledge.answering.extractors import extractor_for
from knowledge.answering.followup import describe_document
from knowledge.answering.question import QuestionAnalysis
from knowledge.answering.scoring import Scored, Scorer, Weights
from knowledge.answering.verify import Verifier
from knowledge.lexicon.doc_numbers import find_numbers, number_key
from knowledge.schema import Answer, AnswerKind, Citation, Hit

_ASKS_SIGNER = re.compile(r"\bky\b")
#: a candidate ranked below this many others that failed verification is not considered
MAX_SKIPPED = 12


@dataclass(frozen=True)
class Proposal:
    """What the pipeline has before deciding: a settled ``answer``, or the ``features`` of the
    verified ``best`` candidate (see :meth:`AnswerPipeline.propose`)."""

    answer: Answer | None = None
    features: dict[str, float] = field(default_factory=dict)
    best: Scored | None = None
    scored: list[Scored] = field(default_factory=list)
    analysis: QuestionAnalysis | None = None
    pipeline: AnswerPipeline | None = None

    def extract(self, probability: float) -> Answer:
        """The answer this proposal gives if it is accepted with ``probability``."""
        assert self.pipeline is not None and self.best is not None and self.analysis
        return self.pipeline.extract(self.analysis, self.best, self.scored, probability)


class AnswerPipeline:
    """Answers one question from its hits (see module doc)."""

    def __init__(self, corpus: Corpus, weights: Weights | None = None,
                 model: DecisionModel | None = None) -> None:
        self.corpus = corpus
        self.weights = weights or Weights()
        self.model = model or load_model()

    def run(self, analysis: QuestionAnalysis, hits: list[Hit],
            query_vector: np.ndarray) -> Answer:
        proposal = self.propose(analysis, hits, query_vector)
        if proposal.answer is not None:
            return proposal.answer
        return self.decide(proposal, hits)

    def decide(self, proposal: Proposal, hits: list[Hit]) -> Answer:
        """The calibrated decision on a proposal: its answer, or a decline."""
        assert proposal.analysis is not None
        probability = self.model.probability(proposal.features)
        if probability < self.model.threshold:
            return decline(proposal.analysis, hits, self.corpus, confidence=probability)
        return proposal.extract(probability)

    def propose(self, analysis: QuestionAnalysis, hits: list[Hit],
                query_vector: np.ndarray, verify: bool = True) -> Proposal:
        """Everything before the decision: an answer already settled (a decline because no
        candidate passes verification, a signer from a signature block), or the verified best
        candidate with the decision's features. ``verify=False`` proposes the best-scored
        candidate as it is (the decision model also learns from what verification would have
        stopped: ``benchmarks/qa/fit_decision.py``)."""
        if not hits:
            return Proposal(answer=decline(analysis, hits, self.corpus))
        if not verify:
            scorer = Scorer(analysis, self.corpus, query_vector, self.weights)
            scored = scorer.score(collect(hits, analysis, self.corpus))
            if not scored:
                return Proposal(answer=decline(analysis, hits, self.corpus))
            return Proposal(features=features(analysis, scored[0],
                                              scored[1] if len(scored) > 1 else None,
                                              scorer.heuristic_confidence(scored[0])),
                            best=scored[0], scored=scored, analysis=analysis, pipeline=self)
        verifier = Verifier(analysis, self.corpus)
        if verifier.unknown:
            return Proposal(answer=decline(analysis, hits, self.corpus,
                                           unknown_number=verifier.unknown[0]))
        signer = self._signer_answer(analysis, hits, verifier)
        if signer is not None:
            return Proposal(answer=signer)
        candidates = collect(hits, analysis, self.corpus)
        scorer = Scorer(analysis, self.corpus, query_vector, self.weights)
        scored = scorer.score(candidates)
        if not scored:
            return Proposal(answer=decline(analysis, hits, self.corpus))
        passing, first_failure = [], None
        for position, item in enumerate(scored):
            verdict = verifier.check(item.candidate)
            if verdict.ok:
                passing.append(item)
                if len(passing) == 2:
                    break
            elif first_failure is None:
                first_failure = (item, verdict)
            if not passing and position >= MAX_SKIPPED:
                break
        if not passing:
            item, verdict = first_failure  # type: ignore[misc]
            return Proposal(answer=decline(analysis, hits, self.corpus, verdict.failed,
                                           item.candidate))
        best = passing[0]
        values = features(analysis, best, passing[1] if len(passing) > 1 else None,
                          scorer.heuristic_confidence(best))
        return Proposal(features=values, best=best, scored=scored, analysis=analysis,
                        pipeline=self)

    def extract(self, analysis: QuestionAnalysis, best: Scored, scored: list[Scored],
                probability: float) -> Answer:
        """The answer read from the chosen candidate, with its citation."""
        doc = self.corpus.document(best.candidate.doc_id)
        evidence = assemble(analysis, best.candidate, doc, [s.candidate for s in scored])
        extraction = extractor_for(analysis.kind).extract(analysis, evidence.text, doc,
                                                          self.corpus)
        if extraction.source is not None:  # the answer is a document the base holds: cite it
            citation = Citation.from_document(extraction.source, extraction.source.meta.title)
        else:
            span = evidence.span if evidence.end > evidence.start else None
            citation = Citation.from_document(doc, evidence.text, span)
        return Answer(extraction.text, declined=False, citations=(citation,), kind=analysis.kind,
                      confidence=probability)

    def _signer_answer(self, analysis: QuestionAnalysis, hits: list[Hit],
                       verifier: Verifier) -> Answer | None:
        """"Ai ký …?" is answered from the signature block of the best matching document —
        a document of the year, place and number asked; when the best one is not, the
        question is declined with what it is."""
        if analysis.kind is not AnswerKind.PERSON or not _ASKS_SIGNER.search(analysis.folded):
            return None
        asked = {number_key(n) for n in analysis.numbers}
        for hit in hits[:3]:
            doc = self.corpus.document(hit.chunk.doc_id)
            if doc is None or not doc.meta.signer:
                continue
            if asked and number_key(doc.meta.number) not in asked and not asked & {
                    number_key(n) for n in find_numbers(doc.text)}:
                continue
            verdict = verifier.check_document(doc)
            if not verdict.ok:
                return decline(analysis, hits, self.corpus, verdict.failed,
                               Candidate(doc.meta.title, doc.id, 0, 0, hit.chunk, 0, -1))
            answer = describe_document(doc, "signer")
            return Answer(answer.text, False, answer.citations, kind=AnswerKind.PERSON,
                          confidence=0.9)
        return None
