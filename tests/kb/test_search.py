import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase, SearchFilters
from knowledge.index.store import IndexMismatch, IndexNotFound, read_index
from knowledge.retrieval.base import SearchMode
from knowledge.retrieval.fusion import reciprocal_rank_fusion
from knowledge.retrieval.sparse import BM25Index

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
INSPECTION = "000_bd7401f5dd8b7167.txt"
REPORTS = "003_dd77de9ad5467bf9.txt"


def test_bm25_ranks_the_matching_chunk_first():
    bm25 = BM25Index().fit([["sở", "tư_pháp"], ["báo_cáo", "định_kỳ", "báo_cáo"], ["khác"]])
    assert bm25.search_terms(["báo_cáo"], k=3) == [(1, pytest.approx(bm25.scores(["báo_cáo"])[1]))]
    assert bm25.search_terms(["không_có"], k=3) == []


def test_rrf_prefers_agreement():
    fused = reciprocal_rank_fusion([[(1, 9.0), (2, 3.0)], [(2, 0.9), (3, 0.5)]])
    assert [row for row, _ in fused] == [2, 1, 3]


def test_search_mode_from_str_lists_choices():
    assert SearchMode.from_str("Dense") is SearchMode.DENSE
    with pytest.raises(ValueError, match="hybrid, sparse, dense"):
        SearchMode.from_str("fuzzy")


@pytest.mark.parametrize("mode", list(SearchMode))
@pytest.mark.parametrize("query,doc", [
    ("Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?",
     INSPECTION),
    ("Mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu?", REPORTS),
])
def test_top_hit_for_seed_questions(seed_kb, mode, query, doc):
    assert seed_kb.search(query, k=3, mode=mode)[0].chunk.doc_id == doc


def test_question_without_diacritics_finds_the_same_document(seed_kb):
    hits = seed_kb.search("nam 2018 kiem tra cchc tai nhung so nao", k=1, mode=SearchMode.SPARSE)
    assert hits[0].chunk.doc_id == INSPECTION


def test_filters_restrict_documents(seed_kb):
    hits = seed_kb.search("kiểm tra cải cách hành chính", k=10, filters=SearchFilters(year=2020))
    assert hits and {h.chunk.doc_id for h in hits} == {"002_fd7e0c6dd4af1028.txt"}
    assert seed_kb.search("kiểm tra", k=5, filters=SearchFilters(place="Cà Mau", year=2030)) == []


def test_missing_index_is_a_clear_error(tmp_path, embedder):
    from knowledge.config import KnowledgeConfig

    kb = KnowledgeBase(KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path),
                       embedder=embedder)
    with pytest.raises(IndexNotFound, match="kb ingest"):
        kb.search("x")


def test_incremental_ingest_round_trip(tmp_path, index_builder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Kế hoạch cải cách hành chính năm 2021 của huyện Di Linh.")
    (docs / "b.txt").write_text("Tin tức về dịch vụ công trực tuyến mức độ 4 tại Đà Nẵng.")
    index = tmp_path / "index"
    cfg, first = index_builder(index, [docs])
    assert sorted(first.added) == ["a.txt", "b.txt"]
    before = read_index(index)

    (docs / "b.txt").write_text("Tin tức: dịch vụ công trực tuyến toàn trình tại Đà Nẵng năm 2022.")
    (docs / "c.txt").write_text("Chỉ thị về kỷ luật kỷ cương hành chính.")
    (docs / "a.txt").unlink()
    from knowledge.ingest.indexer import Indexer

    indexer = Indexer(cfg, embedder=None)
    indexer.embedder = _CountingEmbedder(indexer.embedder.model_name)
    report = indexer.ingest([docs], sync=True)
    assert report.added == ["c.txt"] and report.updated == ["b.txt"]
    assert report.removed == ["a.txt"] and report.unchanged == []
    # only the new and the changed document are embedded (their passages and their sentences)
    embedded = indexer.embedder.texts
    assert embedded and not any("Di Linh" in t for t in embedded)
    assert any("toàn trình" in t for t in embedded) and any("kỷ luật" in t for t in embedded)

    after = read_index(index)
    assert after.version != before.version
    assert sorted(after.documents) == ["b.txt", "c.txt"]
    assert len(after.embeddings) == len(after.chunks)

    again = indexer.ingest([docs], sync=True)
    assert again.unchanged == ["b.txt", "c.txt"] and again.version == ""
    assert read_index(index).version == after.version


class _CountingEmbedder:
    def __init__(self, model):
        from knowledge.retrieval.dense import Embedder

        self._inner = Embedder(model)
        self.model_name = model
        self.texts: list[str] = []

    @property
    def dimension(self):
        return self._inner.dimension

    def embed_passages(self, texts, show_progress=False):
        self.texts.extend(texts)
        return self._inner.embed_passages(texts)

    def __getattr__(self, name):  # threads, set_threads, …
        return getattr(self._inner, name)


def test_index_built_with_another_model_is_rejected(tmp_path, index_builder):
    docs = FIXTURES / "docs"
    index_builder(tmp_path / "i", [docs])
    with pytest.raises(IndexMismatch, match="configured model"):
        read_index(tmp_path / "i", expected_model="intfloat/multilingual-e5-base")


def test_running_knowledge_base_picks_up_a_new_version(tmp_path, index_builder, embedder, analyzer):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Kế hoạch cải cách hành chính năm 2021 của huyện Di Linh.")
    cfg, _ = index_builder(tmp_path / "index", [docs])
    kb = KnowledgeBase(cfg, embedder=embedder, analyzer=analyzer)
    assert kb.search("Di Linh", k=1)[0].chunk.doc_id == "a.txt"
    (docs / "z.txt").write_text("Sở Nội vụ tỉnh Yên Bái công bố chỉ số PAR INDEX năm 2022.")
    index_builder(tmp_path / "index", [docs])
    assert kb.search("chỉ số PAR INDEX Yên Bái", k=1)[0].chunk.doc_id == "z.txt"


def _kb_cli(*args, stdin=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "knowledge.cli", *args], input=stdin,
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory, model_dir):
    index = tmp_path_factory.mktemp("cli") / "index"
    done = _kb_cli("ingest", str(FIXTURES / "docs"), str(FIXTURES / "bulk.jsonl"),
                   "--index", str(index), "--model", str(model_dir), "-q")
    assert done.returncode == 0, done.stderr
    assert "3 added" in done.stdout or "4 added" in done.stdout
    return index


def test_cli_search_json_contract(cli_index, model_dir):
    done = _kb_cli("search", "Sở Nội vụ chủ trì kiểm tra", "--index", str(cli_index),
                   "--model", str(model_dir), "-k", "2", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)["hits"]
    assert len(hits) == 2
    assert set(hits[0]) >= {"doc_id", "chunk_id", "score", "text"}
    assert hits[0]["doc_id"] == "kh-kiemtra-2019.txt"


def test_cli_ask_reads_questions_from_stdin(cli_index, model_dir):
    done = _kb_cli("ask", "--index", str(cli_index), "--model", str(model_dir),
                   stdin="Cơ quan nào chủ trì kiểm tra CCHC năm 2019 ở Quảng Trị?\n"
                         "Giá vàng hôm nay bao nhiêu?\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert set(first) >= {"answer", "declined", "citations"}
    assert not first["declined"] and "Sở Nội vụ" in first["answer"]
    assert set(first["citations"][0]) >= {"doc_id", "title", "number", "date", "quote"}
    assert first["citations"][0]["number"] == "1629/KH-UBND"
    assert second["declined"] is True


def test_cli_reports_bad_paths_and_unreadable_files(tmp_path, model_dir):
    done = _kb_cli("ingest", str(tmp_path / "missing"), "--index", str(tmp_path / "i"))
    assert done.returncode == 2 and "no such file or folder" in done.stderr
    done = _kb_cli("ingest", str(FIXTURES / "broken-latin1.txt"), "--index", str(tmp_path / "i"),
                   "--model", str(model_dir), "-q")
    assert done.returncode == 0
    assert "skipped" in done.stderr and "not valid UTF-8" in done.stderr


def test_cli_search_without_index_says_how_to_build_one(tmp_path):
    done = _kb_cli("search", "x", "--index", str(tmp_path / "none"))
    assert done.returncode == 2 and "kb ingest" in done.stderr


def test_embeddings_are_normalised(embedder):
    vecs = embedder.embed_passages(["cải cách hành chính", "thủ tục hành chính"])
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_cli_eval_prints_the_figures(cli_index, model_dir):
    done = _kb_cli("eval", str(FIXTURES / "qa-small.jsonl"), "--index", str(cli_index),
                   "--model", str(model_dir), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["questions"] == 2 and summary["answerable"] == 1
    assert summary["retrieval_r@1"] == 1.0
    assert summary["answer_accuracy"] == 1.0
    assert summary["decline_accuracy"] == 1.0


def test_cli_eval_several_files_folded_with_details(cli_index, model_dir, tmp_path):
    details = tmp_path / "rows.jsonl"
    done = _kb_cli("eval", str(FIXTURES / "qa-small.jsonl"),
                   str(FIXTURES / "qa-counterfactual-small.jsonl"), "--index", str(cli_index),
                   "--model", str(model_dir), "--fold", "--json", "--details", str(details))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["folded"] is True
    assert (summary["questions"], summary["answerable"], summary["unanswerable"]) == (3, 1, 2)
    assert set(summary["by_file"]) == {"qa-small", "qa-counterfactual-small"}
    assert set(summary["by_change"]) == {"original", "year"}
    rows = [json.loads(line) for line in details.read_text("utf-8").splitlines()]
    assert rows[0]["question"] == "co quan nao chu tri kiem tra cchc nam 2019 o quang tri?"
    assert rows[0]["question_original"].startswith("Cơ quan nào")
    assert rows[2]["change"] == "year" and rows[2]["source_id"] == "f1"
    assert all(r["seconds"] is not None and "top_docs" in r for r in rows)
    missing = _kb_cli("eval", str(tmp_path / "none.jsonl"), "--index", str(cli_index))
    assert missing.returncode == 2 and "no such question file" in missing.stderr


def test_segmentation_beside_embedding_keeps_every_passage_in_its_place(
        tmp_path, monkeypatch, embedder, analyzer):
    """Terms and vectors come back in input order although segmentation runs in a worker
    process and embedding goes longest first, in slices; the encoder's thread count is
    restored."""
    import knowledge.ingest.indexer as ingest
    from knowledge.config import KnowledgeConfig

    monkeypatch.setattr(ingest, "PARALLEL_FROM", 2)
    monkeypatch.setattr(ingest, "EMBED_SLICE", 2)
    texts = ["Kế hoạch kiểm tra công tác cải cách hành chính năm 2018 của tỉnh Quảng Bình",
             "UBND tỉnh", "Sở Nội vụ là cơ quan thường trực", "Thời gian: quý II và III/2018",
             "Cắt giảm tối thiểu 20% chế độ báo cáo định kỳ"]
    indexer = ingest.Indexer(KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path),
                             embedder=embedder, analyzer=analyzer)
    terms, vectors = indexer._terms_and_vectors(texts)
    assert terms == [analyzer.document_terms(t) for t in texts]
    alone = embedder.embed_passages(texts)
    assert ((vectors * alone).sum(1) > 0.99).all()
    assert embedder.active_threads == embedder.threads
    if embedder.threads > 1:  # the worker process ran (one CPU: all in-process)
        assert "wait_segment_s" in indexer.timings
    assert indexer.timings["segment_s"] > 0 and indexer.timings["embed_s"] > 0


def test_a_segmentation_failure_in_the_worker_is_raised_not_lost(tmp_path, monkeypatch,
                                                                  embedder):
    import knowledge.ingest.indexer as ingest
    from knowledge.config import KnowledgeConfig
    from knowledge.text.segment import TermAnalyzer

    monkeypatch.setattr(ingest, "PARALLEL_FROM", 1)
    broken = TermAnalyzer(segmenter=int)  # picklable, and int("một đoạn văn") raises
    indexer = ingest.Indexer(KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path),
                             embedder=embedder, analyzer=broken)
    with pytest.raises(ValueError, match="invalid literal"):
        indexer._terms_and_vectors(["một đoạn văn", "đoạn thứ hai"])


def test_changing_the_passage_token_limit_embeds_everything_again(tmp_path, embedder, analyzer,
                                                                  model_dir):
    """Vectors of long passages depend on the token limit (KB_EMBED_MAX_TOKENS): an index
    embedded with another limit is not reused, and the operator is told why."""
    from knowledge.config import KnowledgeConfig
    from knowledge.ingest.indexer import Indexer
    from knowledge.retrieval.dense import Embedder

    docs = FIXTURES / "docs"
    cfg = KnowledgeConfig(model=embedder.model_name, index_dir=tmp_path / "i")
    first = Indexer(cfg, embedder=embedder, analyzer=analyzer).ingest([docs])
    assert read_index(cfg.index_dir).manifest.passage_tokens == embedder.max_seq_length
    shorter = Embedder(str(model_dir), max_seq_length=64)
    again = Indexer(cfg, embedder=shorter, analyzer=analyzer).ingest([docs])
    assert again.chunks_embedded == first.total_chunks
    assert any(where == "(index)" and "64 tokens" in why for where, why in again.warnings)
    assert read_index(cfg.index_dir).manifest.passage_tokens == 64
    same = Indexer(cfg, embedder=shorter, analyzer=analyzer).ingest([docs])
    assert same.chunks_embedded == 0 and not same.warnings


def test_passage_token_setting_is_validated(monkeypatch):
    from knowledge.retrieval.dense import PASSAGE_TOKENS, resolve_passage_tokens

    monkeypatch.delenv("KB_EMBED_MAX_TOKENS", raising=False)
    assert resolve_passage_tokens() == PASSAGE_TOKENS
    monkeypatch.setenv("KB_EMBED_MAX_TOKENS", "128")
    assert resolve_passage_tokens() == 128 and resolve_passage_tokens(None) is None
    monkeypatch.setenv("KB_EMBED_MAX_TOKENS", "nhiều")
    with pytest.raises(ValueError, match="KB_EMBED_MAX_TOKENS"):
        resolve_passage_tokens()


def test_segmentation_worker_stops_when_its_ingest_is_gone():
    """A worker whose ingest was killed (it has another parent now) exits at once instead of
    segmenting for minutes for nobody; with its parent alive it returns the terms."""
    script = ("import os, sys; from knowledge.ingest.indexer import _segment_all; "
              "from knowledge.text.segment import TermAnalyzer, syllable_words; "
              "parent = int(sys.argv[1]) or os.getppid(); "
              "terms, _ = _segment_all(TermAnalyzer(syllable_words), ['cải cách'] * 300, parent); "
              "print(len(terms))")
    alive = subprocess.run([sys.executable, "-c", script, "0"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert alive.returncode == 0 and alive.stdout.strip() == "300", alive.stderr
    orphan = subprocess.run([sys.executable, "-c", script, "999999999"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert orphan.returncode == 1 and orphan.stdout == ""
