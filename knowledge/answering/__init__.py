"""From a question to an answer: analysis, candidates, extractors, verification, decision,
reply (and answers over several documents, follow-ups)."""
