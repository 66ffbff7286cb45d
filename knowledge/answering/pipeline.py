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

import numpy as np

from knowledge.answering.candidates import collect
from knowledge.answering.corpus import Corpus
from knowledge.answering.decision import DecisionModel, features, load_model
from knowledge.answering.decline import decline
from knowledge.answering.evidence import assemble
from knowledge.answering.extractors import extractor_for
from knowledge.answering.followup import describe_document
from knowledge.answering.question import QuestionAnalysis
from knowledge.answering.scoring import Scorer, Weights
from knowledge.answering.verify import Verifier
from knowledge.lexicon.doc_numbers import find_numbers, number_key
from knowledge.schema import Answer, AnswerKind, Citation, Hit

_ASKS_SIGNER = re.compile(r"\bky\b")
#: a candidate ranked below this many others that failed verification is not considered
MAX_SKIPPED = 12


class AnswerPipeline:
    """Answers one question from its hits (see module doc)."""

    def __init__(self, corpus: Corpus, weights: Weights | None = None,
                 model: DecisionModel | None = None) -> None:
        self.corpus = corpus
        self.weights = weights or Weights()
        self.model = model or load_model()

    def run(self, analysis: QuestionAnalysis, hits: list[Hit],
            query_vector: np.ndarray) -> Answer:
        if not hits:
            return decline(analysis, hits, self.corpus)
        verifier = Verifier(analysis, self.corpus)
        if verifier.unknown:
            return decline(analysis, hits, self.corpus, unknown_number=verifier.unknown[0])
        signer = self._signer_answer(analysis, hits)
        if signer is not None:
            return signer
        candidates = collect(hits, analysis, self.corpus)
        scorer = Scorer(analysis, self.corpus, query_vector, self.weights)
        scored = scorer.score(candidates)
        if not scored:
            return decline(analysis, hits, self.corpus)
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
            return decline(analysis, hits, self.corpus, verdict.failed, item.candidate)
        best = passing[0]
        values = features(analysis, best, passing[1] if len(passing) > 1 else None,
                          scorer.heuristic_confidence(best))
        probability = self.model.probability(values)
        if probability < self.model.threshold:
            return decline(analysis, hits, self.corpus, confidence=probability)
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

    def _signer_answer(self, analysis: QuestionAnalysis, hits: list[Hit]) -> Answer | None:
        """"Ai ký …?" is answered from the signature block of the best matching document."""
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
            answer = describe_document(doc, "signer")
            return Answer(answer.text, False, answer.citations, kind=AnswerKind.PERSON,
                          confidence=0.9)
        return None
