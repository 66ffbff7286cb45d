"""The examples in the docstrings of the pure-text modules are run, so they cannot rot."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["knowledge.aggregate", "knowledge.evaluate", "knowledge.facts", "knowledge.metadata",
           "knowledge.places", "knowledge.question", "knowledge.reply", "knowledge.text.segment"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
