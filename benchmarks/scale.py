"""Ingest throughput, memory and query latency on the legal-scale corpus (4,000 markdown docs).

    python -m benchmarks.scale --limit 500        # the first 500 documents (sorted by name)
    python -m benchmarks.scale --limit 0          # all 4,000

A fresh index is built with the project's ``Indexer`` (default config) in
``var/benchmarks/scale/index-<limit>``; the phases are timed from the indexer's progress
messages and its ``timings``: load + chunk, segmentation and embedding (side by side: the
segmentation worker's own seconds, the embedding seconds, and the wait for the worker after the
last passage is embedded), facts + write. Then a warm re-ingest (nothing changed), and with a
``KnowledgeBase`` on the index: the first search (index load, BM25 build), then ``search``
(each mode, k=10) and ``ask`` latency over the 78 cchc-dev questions (p50/p95). Peak RSS is the
process's ``ru_maxrss`` (model + index + everything; the worker's own peak is
``peak_rss_children_mb``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time

import numpy as np

from benchmarks.common import (
    MODEL,
    OUT_DIR,
    SCALE_DIR,
    SHARED,
    current_rss_mb,
    machine,
    peak_rss_children_mb,
    peak_rss_mb,
    percentile_ms,
    table,
    write_json,
)
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.ingest.indexer import Indexer
from knowledge.retrieval.base import SearchMode
from knowledge.retrieval.dense import Embedder
from knowledge.text.segment import TermAnalyzer

logger = logging.getLogger("benchmarks.scale")

QUESTIONS = SHARED / "corpus" / "cchc-dev" / "qa.jsonl"


def subset(limit: int) -> tuple:
    """A folder of symlinks to the first ``limit`` documents (0 = all)."""
    files = sorted(p for p in SCALE_DIR.iterdir() if p.suffix == ".md")
    if limit:
        files = files[:limit]
    folder = OUT_DIR / "scale" / f"docs-{limit or 'all'}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder, len(files), sum(f.stat().st_size for f in files)


class PhaseClock:
    """Timestamps the indexer's progress messages."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: list[tuple[str, float]] = []

    def __call__(self, message: str) -> None:
        self.marks.append((message, time.perf_counter() - self.start))
        logger.info("%.1f s: %s", self.marks[-1][1], message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=500, help="documents (0 = all 4,000)")
    parser.add_argument("--queries", type=int, default=78, help="cchc-dev questions timed")
    parser.add_argument("--keep", action="store_true", help="reuse an existing index")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("knowledge").setLevel(logging.WARNING)

    folder, n_docs, n_bytes = subset(args.limit)
    index_dir = OUT_DIR / "scale" / f"index-{args.limit or 'all'}"
    if index_dir.exists() and not args.keep:
        shutil.rmtree(index_dir)
    cfg = KnowledgeConfig(model=MODEL, index_dir=index_dir)
    embedder, analyzer = Embedder(MODEL), TermAnalyzer()
    result: dict = {"machine": machine(), "args": vars(args), "documents": n_docs,
                    "bytes": n_bytes}

    embedder.dimension  # noqa: B018 - load the model outside the timed ingest
    analyzer.words("khởi động")  # load underthesea outside the timed ingest
    result["rss_after_model_mb"] = current_rss_mb()
    cpu_start = time.process_time()  # CPU seconds of all the process's threads
    clock = PhaseClock()
    indexer = Indexer(cfg, embedder=embedder, analyzer=analyzer)
    report = indexer.ingest([folder], progress=clock)
    total = time.perf_counter() - clock.start
    cpu = time.process_time() - cpu_start  # this process only (not the segmentation worker)
    marks = {message.split(" ", 1)[0]: at for message, at in clock.marks}
    first = marks.get("segmenting", 0.0)
    written = marks.get("writing", total)
    chunks = report.total_chunks
    timings = indexer.timings
    ingest = {
        "documents": report.total_documents, "chunks": chunks, "failures": len(report.failures),
        "seconds": total, "cpu_s_main_process": cpu, "load1_at_end": os.getloadavg()[0],
        "load_chunk_s": first,
        "segment_and_embed_s": written - first,
        "segment_s": timings.get("segment_s", 0.0),
        "embed_s": timings.get("embed_s", 0.0),
        "wait_for_segmentation_s": timings.get("wait_segment_s", 0.0),
        "facts_and_write_s": total - written,
        "docs_per_s": report.total_documents / total, "chunks_per_s": chunks / total,
        "embed_chunks_per_s": report.chunks_embedded / max(timings.get("embed_s", 0.0), 1e-9),
        "peak_rss_mb": peak_rss_mb(), "peak_rss_children_mb": peak_rss_children_mb(),
        "index_bytes": sum(
            f.stat().st_size for f in index_dir.rglob("*") if f.is_file()),
    }
    result["ingest"] = ingest
    start = time.perf_counter()
    again = Indexer(cfg, embedder=embedder, analyzer=analyzer).ingest([folder])
    result["reingest_unchanged_s"] = time.perf_counter() - start
    result["reingest_unchanged"] = len(again.unchanged)

    kb = KnowledgeBase(cfg, embedder=embedder, analyzer=analyzer)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8")
                 .splitlines() if line.strip()][: args.queries]
    start = time.perf_counter()
    kb.search(questions[0], k=10)
    result["first_search_s"] = time.perf_counter() - start
    latencies: dict[str, list[float]] = {"search hybrid": [], "search sparse": [],
                                         "search dense": [], "ask": []}
    for q in questions:
        for mode in SearchMode:
            start = time.perf_counter()
            kb.search(q, k=10, mode=mode)
            latencies[f"search {mode.value}"].append(time.perf_counter() - start)
        start = time.perf_counter()
        kb.ask(q)
        latencies["ask"].append(time.perf_counter() - start)
    result["latency"] = {name: {"p50_ms": percentile_ms(s, 50), "p95_ms": percentile_ms(s, 95),
                                "mean_ms": float(np.mean(s) * 1000), "n": len(s)}
                         for name, s in latencies.items()}
    result["peak_rss_mb"] = peak_rss_mb()
    result["load1_at_end"] = os.getloadavg()[0]
    if args.limit:
        factor = 4000 / n_docs
        result["extrapolated_4000"] = {
            "note": "linear extrapolation from this subset, NOT measured",
            "chunks": round(chunks * factor), "ingest_hours": total * factor / 3600,
        }

    print(f"\nIngest of {n_docs} legal-scale documents ({n_bytes / 1e6:.1f} MB) into a fresh "
          "index")
    print(table([ingest]))
    print(f"warm re-ingest (nothing changed): {result['reingest_unchanged_s']:.1f} s; "
          f"first search (load index): {result['first_search_s']:.1f} s")
    print("\nQuery latency (cchc-dev questions)")
    print(table([{"call": k, **v} for k, v in result["latency"].items()]))
    if "extrapolated_4000" in result:
        print(f"\n{result['extrapolated_4000']}")
    path = write_json(f"scale-{args.limit or 'all'}", result)
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
