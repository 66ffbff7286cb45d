"""The examples in the docstrings of the pure-text modules are run, so they cannot rot."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["knowledge.answering.aggregate", "knowledge.evaluate", "knowledge.ingest.facts",
           "knowledge.ingest.metadata", "knowledge.lexicon.places", "knowledge.answering.question",
           "knowledge.answering.reply", "knowledge.text.segment", "knowledge.lexicon.dates",
           "knowledge.lexicon.doc_numbers", "knowledge.lexicon.indices",
           "knowledge.lexicon.numerals"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
