"""benchmarks/answer_latency.py: the worker protocol on a tiny real index, the figures, and the
cache keys."""

from __future__ import annotations

import pytest

from benchmarks import answer_latency as al
from knowledge.config import PROJECT_ROOT
from knowledge.evaluate import fold_question

FIXTURE_DOCS = PROJECT_ROOT / "tests" / "fixtures" / "docs"


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, embedder, analyzer):
    from tests.conftest import build_index

    index = tmp_path_factory.mktemp("latency") / "index"
    build_index(index, [FIXTURE_DOCS], embedder, analyzer)
    return index


def test_the_worker_answers_through_the_public_api(tiny_index, tmp_path, model_dir):
    pipeline = al.Pipeline("new", PROJECT_ROOT, tiny_index)
    worker = al.Worker(pipeline, log_dir=tmp_path)
    try:
        assert worker.ready["knowledge_path"] == str(PROJECT_ROOT / "knowledge")
        assert worker.ready["precision"] in ("fp32", "bf16", "int8")
        reply = worker.ask("q1", "Cơ quan nào chủ trì kiểm tra CCHC năm 2019 ở Quảng Trị?")
        assert reply["id"] == "q1" and reply["seconds"] > 0
        assert not reply["declined"] and "Sở Nội vụ" in reply["answer"]
        assert reply["cited_docs"][0] == "kh-kiemtra-2019.txt"
    finally:
        worker.close()
    assert worker.proc.returncode == 0


def test_a_worker_of_the_wrong_checkout_is_refused(tiny_index, tmp_path, model_dir):
    elsewhere = tmp_path / "src"
    elsewhere.mkdir()  # no knowledge/ here: the worker imports the installed one instead
    with pytest.raises(RuntimeError, match="imported knowledge from"):
        al.Worker(al.Pipeline("old", elsewhere, tiny_index), log_dir=tmp_path)


def test_figures_per_variant_and_quality():
    answerable = {"id": "a", "file": "qa", "question": "Năm 2019?", "answer": "x", "doc": "d",
                  "evidence": ""}
    typed_plain = {"id": "b", "file": "qa", "question": "nam 2019?", "answer": "", "doc": None,
                   "evidence": ""}

    def reply(declined=False):
        return {"answer": "x", "declined": declined, "cited_docs": ["d"], "seconds": 0.1}

    result = {"cold_first_s": 1.0, "errors": [],
              "times": {"a": [0.1, 0.3], "a#folded": [0.2], "b": [0.3], "b#folded": [0.4]},
              "answers": {"a": (answerable, answerable["question"], reply()),
                          "a#folded": (answerable, fold_question(answerable["question"]),
                                       reply(True)),
                          "b": (typed_plain, typed_plain["question"], reply(True)),
                          "b#folded": (typed_plain, typed_plain["question"], reply())}}
    s = al.summarize_pipeline(result)
    assert s["accented"] == {"n": 2, "p50_ms": 250.0, "p95_ms": 295.0, "max_ms": 300.0,
                             "mean_ms": 250.0}  # "a": median of its two rounds, 0.2 s
    assert s["all"]["n"] == 4 and s["folded"]["max_ms"] == 400.0
    # a question typed without diacritics is still counted in its own variant
    assert s["quality"]["accented"]["answered_right"] == 1
    assert s["quality"]["accented"]["unanswerable_declined"] == 1
    assert s["quality"]["folded"]["false_declines"] == 1
    assert s["quality"]["folded"]["unanswerable_declined"] == 0


def test_cache_keys(tmp_path):
    a = tmp_path / "a.md"
    a.write_text("một", "utf-8")
    key = al.fingerprint([a])
    assert key == al.fingerprint([a])
    a.write_text("hai", "utf-8")
    assert al.fingerprint([a]) != key
    root = tmp_path / "checkout"
    (root / "knowledge").mkdir(parents=True)
    (root / "knowledge" / "base.py").write_text("x = 1\n")
    (root / "knowledge" / "evaluate.py").write_text("y = 1\n")
    version = al.code_version(root)
    (root / "knowledge" / "evaluate.py").write_text("y = 2\n")  # scoring: same index
    assert al.code_version(root) == version
    (root / "knowledge" / "base.py").write_text("x = 2\n")
    assert al.code_version(root) != version


def test_the_index_is_built_in_published_batches_and_a_finished_build_is_reused(tmp_path):
    from knowledge.index.store import read_index

    files = sorted(FIXTURE_DOCS.iterdir())
    assert len(files) >= 2
    pipeline = al.Pipeline("new", PROJECT_ROOT, tmp_path / "index", version="test")
    al.ensure_index(pipeline, files, limit=len(files), corpus_key="k", batch=1)
    assert sorted(read_index(pipeline.index).documents) == sorted(p.name for p in files)
    log = (tmp_path / "index.log").read_text()
    for n in range(1, len(files) + 1):  # one kb ingest (one published version) per batch
        assert f"documents {n}-{n} of {len(files)}" in log
    assert pipeline.build_s is not None
    again = al.Pipeline("new", PROJECT_ROOT, tmp_path / "index", version="test")
    al.ensure_index(again, files, limit=len(files), corpus_key="k", batch=1)
    assert again.build_s is None  # the stamp matched: nothing rebuilt
