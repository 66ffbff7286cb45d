"""benchmarks.scale_out: the forms it starts and the table it prints (the stacks themselves are
started by tests/support/cluster.py, exercised end to end by tests/e2e/test_scale_out.py)."""

from __future__ import annotations

import doctest

import pytest

import benchmarks.scale_out as so


def test_doctests():
    assert doctest.testmod(so).failed == 0


@pytest.mark.parametrize("bad", ["0+1", "1+0", "2", "a+b"])
def test_a_form_needs_both_kinds_of_server(bad):
    with pytest.raises(ValueError):
        so.parse_form(bad)


def _run(form, turns, errors, sat, rasa_cpu, actions_cpu):
    overall = {"turns": turns, "errors": errors, "empty": 0, "p50_ms": 80.0, "p95_ms": 200.0,
               "max_ms": 400.0, "turns_per_s": 3.5}
    cpu = {**{f"rasa{i}": {"cpu_s": c} for i, c in enumerate(rasa_cpu)},
           **{f"actions{i}": {"cpu_s": c} for i, c in enumerate(actions_cpu)}}
    return {"form": form, "result": {"summary": {"overall": overall}, "cpu": cpu,
                                     "saturation": {"saturation_rate_per_s": sat}}}


def test_rows_sum_the_cpu_of_every_replica_and_compare_saturation_to_the_first_form():
    rows = so.form_rows([_run("1+1", 100, 0, 10, [6.0], [2.0]),
                         _run("2+2", 110, 10, 12, [3.0, 4.0], [1.0, 1.5])])
    assert rows[0]["rasa_ms/turn"] == "60" and rows[0]["actions_ms/turn"] == "20"
    assert rows[1]["rasa_ms/turn"] == "70" and rows[1]["actions_ms/turn"] == "25"
    assert "saturation_vs_first" not in rows[0] and rows[1]["saturation_vs_first"] == "1.20x"
