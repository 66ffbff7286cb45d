"""One extractor per kind of answer (each in its own module, each tested alone):

- :mod:`.doc_number` — số hiệu; :mod:`.figure` — figures and targets; :mod:`.count` — counts;
- :mod:`.date` — dates and deadlines; :mod:`.listing` — lists; :mod:`.person` — people;
- :mod:`.agency` — agencies; :mod:`.yes_no` — yes/no; :mod:`.definition` — definitions;
- :mod:`.purpose` — purposes; :mod:`.location` — places; :mod:`.passage` — everything else.
"""

from __future__ import annotations

from knowledge.answering.extractors.agency import AgencyExtractor
from knowledge.answering.extractors.base import Extraction, Extractor
from knowledge.answering.extractors.count import CountExtractor
from knowledge.answering.extractors.date import DateExtractor
from knowledge.answering.extractors.definition import DefinitionExtractor
from knowledge.answering.extractors.doc_number import DocNumberExtractor
from knowledge.answering.extractors.figure import FigureExtractor
from knowledge.answering.extractors.listing import ListExtractor
from knowledge.answering.extractors.location import LocationExtractor
from knowledge.answering.extractors.passage import PassageExtractor
from knowledge.answering.extractors.person import PersonExtractor
from knowledge.answering.extractors.purpose import PurposeExtractor
from knowledge.answering.extractors.yes_no import YesNoExtractor
from knowledge.schema import AnswerKind

_ALL: tuple[Extractor, ...] = (
    DocNumberExtractor(), FigureExtractor(), CountExtractor(), DateExtractor(), ListExtractor(),
    PersonExtractor(), AgencyExtractor(), YesNoExtractor(), DefinitionExtractor(),
    PurposeExtractor(), LocationExtractor(), PassageExtractor(),
)
_BY_KIND: dict[AnswerKind, Extractor] = {k: e for e in _ALL for k in e.kinds}


def extractor_for(kind: AnswerKind) -> Extractor:
    """The extractor of a kind of answer (the passage extractor for kinds without one)."""
    return _BY_KIND.get(kind, _BY_KIND[AnswerKind.PASSAGE])


__all__ = ["Extraction", "Extractor", "extractor_for"]
