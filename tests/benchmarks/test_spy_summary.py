"""benchmarks.spy_summary: py-spy's raw stacks grouped by component, first match wins."""

from benchmarks.spy_summary import main, summarize

RAW = "\n".join([
    "<module> (rasa:8);handle_message (rasa/core/processor.py:160);"
    "process (bot/nlu/sentence_featurizer.py:120);_forward (bot/nlu/sentence_encoder.py:185) 70",
    "<module> (rasa:8);run (rasa/engine/graph.py:500);"
    "predict (rasa/nlu/classifiers/diet_classifier.py:1000) 20",
    "<module> (rasa:8);save (rasa/core/tracker_store.py:1340);"
    "commit (sqlalchemy/orm/session.py:1404) 6",
    "<module> (rasa:8);_run_once (asyncio/base_events.py:1900) 3",
    "<module> (rasa:8);something (elsewhere.py:1) 1",
    "not a stack line",
])


def test_samples_are_grouped_by_the_first_matching_component():
    counts, total = summarize(RAW.splitlines())
    assert total == 100
    assert counts["e5 sentence featurizer (numpy)"] == 70
    assert counts["DIETClassifier (TensorFlow)"] == 20
    assert counts["tracker store (SQLAlchemy, SQLite)"] == 6
    assert counts["asyncio event loop"] == 3 and counts["other"] == 1


def test_milliseconds_per_turn(tmp_path, capsys):
    path = tmp_path / "rasa.txt"
    path.write_text(RAW)
    assert main([str(path), "--turns", "10", "--seconds", "5", "--rate", "100"]) == 0
    out = capsys.readouterr().out
    # 70 samples at 100/s = 0.7 s of CPU over 10 turns = 70 ms per turn
    assert "70.0%" in out and "70.0" in out.split("e5 sentence featurizer (numpy)")[1]
    assert "1.0 s of CPU in 5 s (0.20 cores)" in out
