"""Approximate (HNSW) against exact dense search: recall@10, latency, build time, memory.

    python -m benchmarks.ann                      # ALQAC vectors + 1,000,000 synthetic
    python -m benchmarks.ann --synthetic 200000   # a smaller synthetic run
    python -m benchmarks.ann --synthetic 0        # real vectors only

Exact search (faiss ``IndexFlatIP``, what ``DenseIndex`` does) is the oracle: recall@10 is
the share of its top 10 that :class:`knowledge.retrieval.ann.HNSWIndex` also returns.
Latency is per single query (how ``KnowledgeBase.search`` calls it), p50/p95.

Real vectors: every ALQAC-22 and ALQAC-23 chunk embedded by ``benchmarks.alqac`` (run it
first); queries: the 176 train questions. Synthetic: ``--synthetic`` 384-d unit vectors drawn
around 2,000 random unit centres (``normalize(centre + 0.5·g)``, ``g ~ N(0, I/384)``, so a
vector's cosine to its centre is ≈ 0.89), generated and added 50,000 at a time; 200 queries
from the same distribution with another seed.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np

from benchmarks.alqac import load_jsonl
from benchmarks.common import (
    ALQAC_DIR,
    MODEL,
    OUT_DIR,
    CachedEmbedder,
    current_rss_mb,
    machine,
    peak_rss_mb,
    percentile_ms,
    table,
    write_json,
)
from knowledge.index.store import read_index
from knowledge.retrieval.ann import HNSWIndex
from knowledge.retrieval.dense import DenseIndex
from knowledge.text.segment import expand_abbreviations

logger = logging.getLogger("benchmarks.ann")

DIM = 384
CENTRES = 2_000
NOISE = 0.5
BLOCK = 50_000


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_blocks(n: int, seed: int, block: int = BLOCK):
    """``n`` clustered unit vectors, ``block`` rows at a time (memory stays small)."""
    centres = _unit(np.random.default_rng(12345).standard_normal((CENTRES, DIM)))
    rng = np.random.default_rng(seed)
    for start in range(0, n, block):
        size = min(block, n - start)
        which = rng.integers(0, CENTRES, size)
        noise = rng.standard_normal((size, DIM)).astype(np.float32) / np.sqrt(DIM)
        yield _unit(centres[which] + NOISE * noise)


def timed_search(index, queries: np.ndarray, k: int = 10) -> tuple[list, list[float]]:
    results, seconds = [], []
    for q in queries:
        start = time.perf_counter()
        results.append(index.search_vector(q, k))
        seconds.append(time.perf_counter() - start)
    return results, seconds


def recall_at(truth: list, found: list, k: int = 10) -> float:
    hits = sum(len({r for r, _ in t[:k]} & {r for r, _ in f[:k]}) for t, f in zip(
        truth, found, strict=True))
    return hits / sum(min(k, len(t)) for t in truth)


def sweep(name: str, exact: DenseIndex, ann: HNSWIndex, queries: np.ndarray,
          efs: list[int]) -> list[dict]:
    truth, exact_s = timed_search(exact, queries)
    rows = [{"data": name, "index": "exact (IndexFlatIP)", "recall@10": 1.0,
             "p50_ms": percentile_ms(exact_s, 50), "p95_ms": percentile_ms(exact_s, 95)}]
    for ef in efs:
        ann.ef_search = ef
        found, seconds = timed_search(ann, queries)
        rows.append({"data": name, "index": f"hnsw m={ann.m} ef={ef}",
                     "recall@10": recall_at(truth, found),
                     "p50_ms": percentile_ms(seconds, 50), "p95_ms": percentile_ms(seconds, 95)})
    return rows


def real_vectors(efs: list[int], m: int, ef_construction: int) -> tuple[list[dict], dict]:
    vectors, questions = [], []
    for year in ("22", "23"):
        index_dir = OUT_DIR / "alqac" / f"index-{year}-c2000-law"
        vectors.append(read_index(index_dir).embeddings)
        questions += load_jsonl(ALQAC_DIR / f"alqac{year}_train.jsonl")
    data = np.vstack(vectors)
    queries = CachedEmbedder(MODEL).embed_queries(
        [expand_abbreviations(q["question"]) for q in questions])
    start = time.perf_counter()
    ann = HNSWIndex(data, m=m, ef_construction=ef_construction)
    build = time.perf_counter() - start
    rows = sweep(f"ALQAC 22+23 ({len(data)})", DenseIndex(data), ann, queries, efs)
    return rows, {"vectors": len(data), "queries": len(queries), "build_s": build}


def synthetic(n: int, efs: list[int], m: int, ef_construction: int) -> tuple[list[dict], dict]:
    import faiss

    info: dict = {"vectors": n, "queries": 200, "rss_before_mb": current_rss_mb()}
    ann = HNSWIndex(dimension=DIM, m=m, ef_construction=ef_construction)
    flat = faiss.IndexFlatIP(DIM)
    build = 0.0
    for i, block in enumerate(synthetic_blocks(n, seed=1)):
        start = time.perf_counter()
        ann.add(block)
        build += time.perf_counter() - start
        flat.add(block)
        if i % 4 == 0:
            logger.info("added %d vectors (HNSW build %.0f s so far)", len(ann), build)
    info["build_s"] = build
    info["rss_after_mb"] = current_rss_mb()
    info["hnsw_bytes"] = faiss.serialize_index(ann._index).nbytes
    info["flat_bytes"] = int(flat.ntotal) * DIM * 4
    exact = DenseIndex(np.zeros((0, DIM), dtype=np.float32))
    exact._index = flat  # the oracle over the same vectors, without a second copy
    queries = next(synthetic_blocks(200, seed=2))
    rows = sweep(f"synthetic {n:,}", exact, ann, queries, efs)
    return rows, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", type=int, default=1_000_000, help="0 = skip")
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=80)
    parser.add_argument("--efs", default="16,32,64,128,256")
    parser.add_argument("--threads", type=int, default=0,
                        help="faiss OpenMP threads (0 = faiss default = cores)")
    parser.add_argument("--out", default="ann")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    efs = [int(x) for x in args.efs.split(",")]
    result: dict = {"machine": machine(), "args": vars(args), "faiss_threads": None}
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    result["faiss_threads"] = faiss.omp_get_max_threads()
    rows: list[dict] = []
    if not args.no_real:
        real_rows, result["real"] = real_vectors(efs, args.m, args.ef_construction)
        rows += real_rows
    if args.synthetic:
        syn_rows, result["synthetic"] = synthetic(args.synthetic, efs, args.m,
                                                  args.ef_construction)
        rows += syn_rows
    result["rows"] = rows
    result["peak_rss_mb"] = peak_rss_mb()
    result["load1_at_end"] = os.getloadavg()[0]
    print(table(rows, ["data", "index", "recall@10", "p50_ms", "p95_ms"]))
    for key in ("real", "synthetic"):
        if key in result:
            print(f"{key}: {result[key]}")
    path = write_json(args.out, result)
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
