"""ALQAC law-article retrieval: BM25, dense, RRF and tuned fusions, on the same run.

    python -m benchmarks.alqac                    # both sets, baselines + fusion grid
    python -m benchmarks.alqac --sets 22 --max-chars 900

Each article (``law_id/article_id``, unique in both sets) becomes one document of the project's
own index (``Indexer`` + ``KnowledgeBase``; the law's name is the document title, which the
indexer puts before each chunk). Articles are chunked with ``--max-chars`` (default 2000 ≈ the
model's 512 tokens, so 93 % of the articles are one chunk); a document's rank is the rank of
its best chunk. Metrics: R@1, R@5, MRR@10 of the (single) relevant article.

The three baselines come from ``KnowledgeBase.search`` itself (``SearchMode.SPARSE`` /
``DENSE`` / ``HYBRID`` with the default config). The fusion grid re-scores the same BM25 and
dense candidates offline with :mod:`knowledge.retrieval.fusion` (checked to
reproduce the live hybrid exactly), tuned on the *train* questions of both sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.common import (
    ALQAC_DIR,
    MODEL,
    OUT_DIR,
    CachedEmbedder,
    first_relevant_rank,
    machine,
    retrieval_metrics,
    table,
    write_json,
)
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.index.store import read_index
from knowledge.ingest.chunking import ChunkingConfig
from knowledge.ingest.indexer import Indexer
from knowledge.lexicon.words import STOPWORDS
from knowledge.retrieval.base import SearchMode
from knowledge.retrieval.fusion import FusionMode, fuse
from knowledge.retrieval.sparse import BM25Index, top_k
from knowledge.text.segment import FOLDED_PREFIX, TermAnalyzer, expand_abbreviations

logger = logging.getLogger("benchmarks.alqac")

BM25_PARAMS = [(1.2, 0.75), (0.9, 0.4), (1.2, 0.5), (1.5, 0.75), (2.0, 0.75), (1.2, 0.9)]
DEPTHS = [20, 50, 100, 200]
RRF_KS = [5, 10, 20, 30, 60, 100]
RRF_DENSE_WEIGHTS = [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0]
ALPHAS = [round(a, 2) for a in np.arange(0.0, 1.0001, 0.05)]


@dataclass(frozen=True)
class Setting:
    """One retrieval configuration of the grid."""

    fusion: str  # "sparse", "dense", or a FusionMode value
    depth: int = 50
    rrf_k: int = 60
    dense_weight: float = 1.0  # RRF: weight of dense (sparse 1); convex: alpha (sparse 1-alpha)
    k1: float = 1.2
    b: float = 0.75
    query_terms: str = "default"  # "default" (words + folded syllables) or "words"

    def label(self) -> str:
        if self.fusion in ("sparse", "dense"):
            extra = f" k1={self.k1} b={self.b} q={self.query_terms}" if self.fusion == "sparse" \
                else ""
            return f"{self.fusion}{extra}"
        if self.fusion == FusionMode.RRF.value:
            core = f"rrf k={self.rrf_k} w_dense={self.dense_weight}"
        else:
            core = f"{self.fusion} alpha={self.dense_weight}"
        return (f"{core} depth={self.depth} k1={self.k1} b={self.b} q={self.query_terms}")


#: The fusion adopted from this benchmark (docs/benchmarks.md): z-score convex combination,
#: 0.6 BM25 + 0.4 dense, over 100 candidates per retriever.
RECOMMENDED = Setting("zscore", depth=100, dense_weight=0.4)


def paired(run: Run, a: Setting, b: Setting, samples: int = 2000) -> dict:
    """Per-question comparison of ``a`` against ``b``: questions whose reciprocal rank went up /
    down, and a bootstrap 95 % interval of the MRR@10 difference."""
    ra = np.array([1 / r if r else 0.0 for r in run.ranks(a)])
    rb = np.array([1 / r if r else 0.0 for r in run.ranks(b)])
    diff = ra - rb
    rng = np.random.default_rng(0)
    means = [diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(samples)]
    return {"better": int((diff > 0).sum()), "worse": int((diff < 0).sum()),
            "mrr_diff": float(diff.mean()),
            "ci95": [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]}


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def doc_id(law_id: str, article_id: str) -> str:
    return f"{law_id}/{article_id}"


def prepare(year: str, max_chars: int, context: str, embedder: CachedEmbedder,
            analyzer: TermAnalyzer) -> tuple[KnowledgeConfig, dict]:
    """Write the articles as a project ``.jsonl`` and index them (incrementally)."""
    work = OUT_DIR / "alqac"
    work.mkdir(parents=True, exist_ok=True)
    articles = load_jsonl(ALQAC_DIR / f"alqac{year}_law.jsonl")
    ids = [doc_id(a["law_id"], a["article_id"]) for a in articles]
    if len(set(ids)) != len(ids):
        raise ValueError(f"ALQAC-{year}: law_id/article_id is not unique")
    docs_path = work / f"alqac{year}-{context}.jsonl"
    with open(docs_path, "w", encoding="utf-8") as fh:
        for a, did in zip(articles, ids, strict=True):
            rec = {"id": did, "text": a["text"], "doc_type": "Luật"}
            if context == "law":
                rec["title"] = a["law_id"]
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    cfg = KnowledgeConfig(model=MODEL, index_dir=work / f"index-{year}-c{max_chars}-{context}",
                          chunking=ChunkingConfig(max_chars=max_chars, min_chars=200))
    start = time.perf_counter()
    report = Indexer(cfg, embedder=embedder, analyzer=analyzer).ingest([docs_path])
    info = {"articles": len(articles), "chunks": report.total_chunks,
            "chunks_embedded_now": report.chunks_embedded,
            "ingest_seconds": round(time.perf_counter() - start, 1)}
    return cfg, info


def words_only_terms(analyzer: TermAnalyzer, text: str) -> list[str]:
    """Query terms without the diacritic-free copies (for questions typed with diacritics)."""
    words = [w for w in analyzer.words(text) if w not in STOPWORDS]
    return [w for w in words if not w.startswith(FOLDED_PREFIX)]


class Run:
    """Per-question BM25 and dense scores over every chunk of one index, for the grid."""

    def __init__(self, cfg: KnowledgeConfig, questions: list[dict], embedder: CachedEmbedder,
                 analyzer: TermAnalyzer) -> None:
        self.data = read_index(cfg.index_dir, expected_model=cfg.model)
        self.doc_of_row = [c.doc_id for c in self.data.chunks]
        self.questions = questions
        self.relevant = [{doc_id(r["law_id"], r["article_id"]) for r in q["relevant"]}
                         for q in questions]
        texts = [q["question"] for q in questions]
        qvecs = embedder.embed_queries([expand_abbreviations(t) for t in texts])
        self.dense_scores = qvecs @ self.data.embeddings.T  # (questions, chunks)
        self.terms = {
            "default": [analyzer.query_terms(t) for t in texts],
            "words": [words_only_terms(analyzer, t) for t in texts],
        }
        self._bm25: dict[tuple[float, float], BM25Index] = {}
        self._sparse_cache: dict[tuple, list] = {}

    def sparse_lists(self, k1: float, b: float, query_terms: str, depth: int) -> list:
        key = (k1, b, query_terms, depth)
        if key not in self._sparse_cache:
            if (k1, b) not in self._bm25:
                self._bm25[(k1, b)] = BM25Index(k1, b).fit(self.data.terms)
            bm25 = self._bm25[(k1, b)]
            self._sparse_cache[key] = [bm25.search_terms(t, depth)
                                       for t in self.terms[query_terms]]
        return self._sparse_cache[key]

    def dense_lists(self, depth: int) -> list:
        return [top_k(s, depth) for s in self.dense_scores]

    def ranks(self, setting: Setting) -> list[int]:
        depth = setting.depth
        sparse = self.sparse_lists(setting.k1, setting.b, setting.query_terms, depth)
        dense = self.dense_lists(depth)
        out = []
        for i, relevant in enumerate(self.relevant):
            if setting.fusion == "sparse":
                ranked = sparse[i]
            elif setting.fusion == "dense":
                ranked = dense[i]
            else:
                mode = FusionMode.from_str(setting.fusion)
                weights = ([1.0, setting.dense_weight] if mode is FusionMode.RRF
                           else [1.0 - setting.dense_weight, setting.dense_weight])
                ranked = fuse([sparse[i], dense[i]], mode, weights, rrf_k=setting.rrf_k)
            docs = list(dict.fromkeys(self.doc_of_row[row] for row, _ in ranked))
            out.append(first_relevant_rank(docs[:10], relevant))
        return out

    def metrics(self, setting: Setting) -> dict:
        return retrieval_metrics(self.ranks(setting))


def live_baselines(kb: KnowledgeBase, questions: list[dict], relevant: list[set[str]]) -> dict:
    """R@1/R@5/MRR@10 through ``KnowledgeBase.search`` itself, per mode."""
    out = {}
    for mode in SearchMode:
        ranks, seconds = [], []
        for q, rel in zip(questions, relevant, strict=True):
            start = time.perf_counter()
            hits = kb.search(q["question"], k=50, mode=mode)
            seconds.append(time.perf_counter() - start)
            docs = list(dict.fromkeys(h.chunk.doc_id for h in hits))
            ranks.append(first_relevant_rank(docs[:10], rel))
        out[mode.value] = {**retrieval_metrics(ranks),
                           "ms_per_query": round(1000 * float(np.mean(seconds)), 1)}
    return out


def grid(base: Setting, bm25_params: list[tuple[float, float]], query_terms: list[str]):
    """Every fusion setting of the tuning grid."""
    for (k1, b), qt, depth in itertools.product(bm25_params, query_terms, DEPTHS):
        common = {"k1": k1, "b": b, "query_terms": qt, "depth": depth}
        for rrf_k, w in itertools.product(RRF_KS, RRF_DENSE_WEIGHTS):
            yield replace(base, fusion="rrf", rrf_k=rrf_k, dense_weight=w, **common)
        for mode, alpha in itertools.product((FusionMode.MINMAX, FusionMode.ZSCORE), ALPHAS):
            yield replace(base, fusion=mode.value, dense_weight=alpha, **common)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="22,23", help="comma-separated: 22,23")
    parser.add_argument("--max-chars", type=int, default=2000, help="chunk size (characters)")
    parser.add_argument("--context", choices=["law", "none"], default="law",
                        help="use the law's name as the document title (indexed with each chunk)")
    parser.add_argument("--no-grid", action="store_true", help="baselines only")
    parser.add_argument("--offline-only", action="store_true",
                        help="baselines from the offline re-scoring (identical to "
                             "KnowledgeBase.search, checked in a full run) — faster")
    parser.add_argument("--out", default="alqac", help="JSON name under var/benchmarks/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("knowledge").setLevel(logging.WARNING)

    embedder = CachedEmbedder(MODEL)
    analyzer = TermAnalyzer()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    result: dict = {"machine": machine(), "args": vars(args), "sets": {}}
    runs: dict[str, Run] = {}
    for year in sets:
        cfg, info = prepare(year, args.max_chars, args.context, embedder, analyzer)
        logger.info("ALQAC-%s indexed: %s", year, info)
        questions = load_jsonl(ALQAC_DIR / f"alqac{year}_train.jsonl")
        kb = KnowledgeBase(cfg, embedder=embedder, analyzer=analyzer)
        run = Run(cfg, questions, embedder, analyzer)
        runs[year] = run
        if args.offline_only:
            live = {"hybrid": run.metrics(Setting("rrf")), "sparse": run.metrics(
                Setting("sparse")), "dense": run.metrics(Setting("dense"))}
        else:
            live = live_baselines(kb, questions, run.relevant)
        offline_rrf = run.metrics(Setting("rrf", depth=cfg.candidates))
        if abs(offline_rrf["mrr@10"] - live["hybrid"]["mrr@10"]) > 1e-9:
            logger.warning("offline RRF %.4f differs from live hybrid %.4f",
                           offline_rrf["mrr@10"], live["hybrid"]["mrr@10"])
        result["sets"][year] = {"index": info, "questions": len(questions), "live": live,
                                "offline_rrf_check": offline_rrf}
        print(f"\nALQAC-{year} train ({len(questions)} questions, {info['articles']} articles, "
              f"{info['chunks']} chunks) — KnowledgeBase.search, default config")
        print(table([{"mode": m, **v} for m, v in live.items()],
                    ["mode", "r@1", "r@5", "mrr@10", "ms_per_query"]))

    if not args.no_grid and runs:
        result["bm25"] = bm25_rows = []
        for (k1, b), qt in itertools.product(BM25_PARAMS, ["default", "words"]):
            setting = Setting("sparse", k1=k1, b=b, query_terms=qt)
            bm25_rows.append({"setting": setting.label(),
                              **{f"mrr@10 {y}": run.metrics(setting)["mrr@10"]
                                 for y, run in runs.items()}})
        print("\nBM25 parameters (MRR@10)")
        print(table(bm25_rows))
        best_bm25 = max(
            itertools.product(BM25_PARAMS, ["default", "words"]),
            key=lambda p: np.mean([run.metrics(Setting("sparse", k1=p[0][0], b=p[0][1],
                                                       query_terms=p[1]))["mrr@10"]
                                   for run in runs.values()]),
        )
        bm25_params = list(dict.fromkeys([(1.2, 0.75), best_bm25[0]]))
        query_terms = list(dict.fromkeys(["default", best_bm25[1]]))
        scored = []
        for setting in grid(Setting("rrf"), bm25_params, query_terms):
            per_set = {y: run.metrics(setting) for y, run in runs.items()}
            scored.append((setting, per_set))
        mean = {s: float(np.mean([m["mrr@10"] for m in ps.values()])) for s, ps in scored}
        worst = {s: float(min(m["mrr@10"] for m in ps.values())) for s, ps in scored}
        ranked = sorted(scored, key=lambda sp: (-mean[sp[0]], -worst[sp[0]]))
        top_rows = [{"setting": s.label(), **{f"mrr@10 {y}": m["mrr@10"] for y, m in ps.items()},
                     "mean": mean[s]} for s, ps in ranked[:15]]
        print("\nBest fusion settings (tuned on train of both sets; MRR@10)")
        print(table(top_rows))
        # best per family, and how a setting tuned on one set transfers to the other
        families = {}
        for s, ps in ranked:
            families.setdefault(s.fusion, (s, ps))
        transfer = []
        for tune in runs:
            best_on = max(scored, key=lambda sp, t=tune: sp[1][t]["mrr@10"])
            transfer.append({"tuned_on": tune, "setting": best_on[0].label(),
                             **{f"mrr@10 {y}": m["mrr@10"] for y, m in best_on[1].items()}})
        print("\nTuned on one set only, applied to both (overfitting check)")
        print(table(transfer))
        result["grid_top"] = top_rows
        result["best_per_family"] = {
            fam: {"setting": s.label(), "params": s.__dict__, "metrics": ps}
            for fam, (s, ps) in families.items()
        }
        result["transfer"] = transfer
        print("\nBest per fusion family (mean of both sets)")
        print(table([{"family": f, "setting": s.label(),
                      **{f"mrr@10 {y}": m["mrr@10"] for y, m in ps.items()}}
                     for f, (s, ps) in families.items()]))
    if runs:
        summary = []
        for year, run in runs.items():
            live = result["sets"][year]["live"]
            rec = run.metrics(RECOMMENDED)
            result["sets"][year]["recommended"] = {
                "setting": RECOMMENDED.label(), **rec,
                "vs_rrf": paired(run, RECOMMENDED, Setting("rrf", depth=50)),
                "vs_bm25": paired(run, RECOMMENDED, Setting("sparse", depth=50)),
            }
            for name, m in (("BM25 (sparse)", live["sparse"]), ("dense", live["dense"]),
                            ("hybrid (default config)", live["hybrid"]),
                            (f"recommended: {RECOMMENDED.label()}", rec)):
                summary.append({"set": f"ALQAC-{year}", "method": name, "r@1": m["r@1"],
                                "r@5": m["r@5"], "mrr@10": m["mrr@10"]})
        print("\nSummary (train questions)")
        print(table(summary))
        for year in runs:
            rec = result["sets"][year]["recommended"]
            print(f"ALQAC-{year} recommended vs RRF: {rec['vs_rrf']}")
            print(f"ALQAC-{year} recommended vs BM25: {rec['vs_bm25']}")
        result["summary"] = summary
    path = write_json(args.out, result)
    print(f"\nwritten {path}")
    embedder.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
