"""Every regex that meets user text runs in linear time: the probe (tests/security/regex_probe.py)
times each one on hostile 100 KB inputs in a child process.

Add modules here as they gain patterns on user text (the knowledge library's question analysis,
for one: ``probe(["knowledge.answering.question"], python=sys.executable)``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.security.regex_probe import adversarial_inputs, package_modules, probe, slow

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv" / "rasa" / "bin" / "python"
# Linear patterns take milliseconds on 100 KB; the lookup tables of data/nlu.yml (alternations of
# ~200 places tried at every position) up to ~1.5 s on this loaded 2-core machine. A quadratic
# pattern takes minutes on 100 KB, so the budget separates them with a wide margin.
BUDGET_SECONDS = 3.0
# What Rasa runs on every message: our channels and NLU components, the tokenizer's default
# protected pattern (a string in its config), the regexes and lookup tables of the NLU data.
BOT_SPECS = [*package_modules("bot"), "bot.nlu.underthesea_tokenizer:DEFAULT_PROTECTED",
             "nlu-data:data/nlu.yml"]


def test_inputs_are_hostile_and_exactly_sized():
    inputs = adversarial_inputs(1000)
    assert all(len(text) == 1000 for text in inputs.values())
    assert inputs["digit-letter"] == "1a" * 500
    assert inputs["digits+'!'"] == "1" * 999 + "!"
    assert inputs["nao"].startswith("nào nào")


def test_the_probe_finds_a_quadratic_pattern_and_passes_linear_ones():
    results = probe(["tests.security.quadratic_fixture"], python=sys.executable, size=100_000,
                    cell_timeout=2.0, inputs=["digits", "digit-letter", "vietnamese-words"])
    flagged = {r.pattern for r in slow(results, BUDGET_SECONDS)}
    assert flagged == {"tests.security.quadratic_fixture.QUADRATIC"}
    assert {r.pattern for r in results} == {  # in tuples too, bytes too; strings only by name
        "tests.security.quadratic_fixture.QUADRATIC", "tests.security.quadratic_fixture.LINEAR[0]",
        "tests.security.quadratic_fixture.LINEAR[1]",
        "tests.security.quadratic_fixture.BYTES_LINEAR"}
    timed_out = [r for r in results if r.timed_out]
    assert {r.input_name for r in timed_out} >= {"digits", "digit-letter"}


def test_a_string_attribute_is_probed_when_named():
    results = probe(["tests.security.quadratic_fixture:NOT_A_PATTERN"], python=sys.executable,
                    size=50_000, cell_timeout=1.0, inputs=["digit-letter"])
    [result] = results
    assert result.timed_out


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="needs the Rasa venv (.venv/rasa)")
def test_bot_patterns_run_in_linear_time():
    results = probe(BOT_SPECS, python=str(RASA_PYTHON), cell_timeout=10.0)
    patterns = {r.pattern for r in results}
    assert "bot.nlu.underthesea_tokenizer:DEFAULT_PROTECTED" in patterns
    assert "bot.channels.text._BOUNDARIES[2]" in patterns
    assert any(p.startswith("nlu-data:data/nlu.yml:") for p in patterns)
    assert len(results) == len(patterns) * len(adversarial_inputs(8))
    assert slow(results, BUDGET_SECONDS) == []


def test_knowledge_patterns_run_in_linear_time():
    """Every module-level pattern of the knowledge library: questions (analysis, follow-ups,
    aggregates), answers (extractors run on document sentences) and ingest (uploaded documents
    are hostile too). Before the fix, six patterns were quadratic here (a leading ``\\s*`` or a
    digit run retried at every position: clause splitting, the date after a số hiệu, money and
    percentages, the wanted document type, a title's opening type word)."""
    results = probe(package_modules("knowledge"), python=sys.executable, cell_timeout=10.0)
    patterns = {r.pattern for r in results}
    assert {"knowledge.answering.extractors.figure.PERCENT",
            "knowledge.answering.question._WANTED_TYPE"} <= patterns
    assert slow(results, BUDGET_SECONDS) == []
