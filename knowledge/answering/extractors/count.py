"""Counts: "bao nhiêu đơn vị / mấy huyện / số lượng?" — a number next to what is counted."""

from __future__ import annotations

from knowledge.answering.extractors.figure import FigureExtractor
from knowledge.schema import AnswerKind


class CountExtractor(FigureExtractor):
    """Like a figure, but the number must count the noun asked about ("11 cán bộ, công
    chức"): :meth:`FigureExtractor.fit` scores that highest."""

    kinds = (AnswerKind.COUNT,)
