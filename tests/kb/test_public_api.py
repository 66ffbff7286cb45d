"""The flat public API (knowledge/__init__.py): ingest and ask in two calls, the schema types at
the top, nothing heavy imported with the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import knowledge
from knowledge.schema import AnswerKind

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DOCS = ROOT / "tests" / "fixtures" / "docs"


def test_importing_the_package_loads_no_numerics():
    code = ("import sys, knowledge; heavy = {'numpy', 'torch', 'onnxruntime', 'faiss', "
            "'underthesea'} & set(sys.modules); print(sorted(heavy))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_names_of_the_flat_api():
    assert knowledge.AnswerKind is AnswerKind
    assert knowledge.KnowledgeBase.__module__ == "knowledge.base"
    assert knowledge.KnowledgeConfig.__module__ == "knowledge.config"
    assert {"ask", "ingest", "KnowledgeBase", "Answer", "Citation"} <= set(knowledge.__all__)


def test_ingest_then_ask(tmp_path, model_dir, monkeypatch):
    monkeypatch.setenv("KB_MODEL", str(model_dir))
    index = tmp_path / "index"
    report = knowledge.ingest([FIXTURE_DOCS], index_dir=index)
    assert sorted(report.added) == sorted(p.name for p in FIXTURE_DOCS.iterdir())
    answer = knowledge.ask("Cơ quan nào chủ trì kiểm tra CCHC năm 2019 ở Quảng Trị?",
                           index_dir=index)
    assert not answer.declined and "Sở Nội vụ" in answer.text
    assert answer.kind is AnswerKind.AGENCY
    citation = answer.citations[0]
    assert citation.doc_id == "kh-kiemtra-2019.txt"
    start, end = citation.evidence_span
    assert 0 <= start < end
    assert knowledge.ask("Giá vé máy bay từ Hà Nội đi Đà Nẵng là bao nhiêu?",
                         index_dir=index).declined
