"""Passage-encoding speed of the embedding model on CPU, and what faster settings cost in quality.

    python -m benchmarks.encoding_speed               # speed on 128 passages + ALQAC-22 quality
    python -m benchmarks.encoding_speed --sample 128 --no-quality

Speed: passages/s encoding a fixed random sample of ALQAC-22 chunks (the texts the indexer
embeds: law name + article), best of ``--repeats`` timed runs after a warm-up (settings
interleaved, so a shared machine's load hits them alike), for:
fp32 as the project runs it (one ``encode`` call, batch 32, 2 threads) — sentence-transformers
already sorts a call's inputs by length (``SentenceTransformer.encode``: ``length_sorted_idx``),
so "unsorted" feeds it one batch at a time in corpus order to show what that sorting buys;
batch 16/64; 1 thread; ``max_seq_length`` 256; torch dynamic int8 quantisation of every
``nn.Linear``; and int8 + 256.

Quality (needs ``python -m benchmarks.alqac`` first, for the index): every ALQAC-22 chunk and
question is re-embedded with the setting; reported: cosine to the fp32 vectors and dense MRR@10
against fp32's (the fp32 row scores the index's stored vectors).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.alqac import doc_id, load_jsonl
from benchmarks.common import (
    ALQAC_DIR,
    MODEL,
    OUT_DIR,
    first_relevant_rank,
    machine,
    retrieval_metrics,
    table,
    write_json,
)
from knowledge.index.store import read_index
from knowledge.retrieval.dense import Embedder
from knowledge.text.segment import expand_abbreviations

logger = logging.getLogger("benchmarks.encoding_speed")


class TunedEmbedder(Embedder):
    """The proposed ``Embedder`` options (see docs/benchmarks.md for the diff to dense.py):
    ``quantize`` (torch dynamic int8 on every ``nn.Linear``), ``max_seq_length`` and
    ``threads``."""

    def __init__(self, model: str, batch_size: int = 32, quantize: bool = False,
                 max_seq_length: int | None = None, threads: int | None = None,
                 precision: str = "fp32") -> None:
        super().__init__(model, batch_size=batch_size, precision=precision,
                         max_seq_length=None)
        self.quantize = quantize
        self.max_seq_length = max_seq_length
        self.torch_threads = threads

    def _load(self):
        if self._model is None:
            import torch

            model = super()._load()
            if self.torch_threads:
                torch.set_num_threads(self.torch_threads)
            if self.max_seq_length:
                model.max_seq_length = self.max_seq_length
            if self.quantize:
                self._model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8)
        return self._model


SETTINGS: list[dict] = [
    {"name": "fp32 batch32 sorted (current)"},
    {"name": "fp32 batch32 unsorted", "unsorted": True},
    {"name": "fp32 batch16", "batch_size": 16},
    {"name": "fp32 batch64", "batch_size": 64},
    {"name": "fp32 1 thread", "threads": 1},
    {"name": "fp32 max_seq 256", "max_seq_length": 256},
    {"name": "int8", "quantize": True},
    {"name": "int8 1 thread", "quantize": True, "threads": 1},
    {"name": "int8 max_seq 256", "quantize": True, "max_seq_length": 256},
    {"name": "bf16 (AMX)", "precision": "bf16"},
    {"name": "bf16 batch64", "precision": "bf16", "batch_size": 64},
    {"name": "bf16 max_seq 256", "precision": "bf16", "max_seq_length": 256},
    {"name": "bf16 max_seq 192", "precision": "bf16", "max_seq_length": 192},
    {"name": "bf16 max_seq 128", "precision": "bf16", "max_seq_length": 128},
]


def variant(setting: dict) -> tuple[bool, str]:
    """Settings that need a differently loaded model: int8 or bf16."""
    return bool(setting.get("quantize")), setting.get("precision", "fp32")


def make_embedder(setting: dict) -> TunedEmbedder:
    return TunedEmbedder(MODEL, batch_size=setting.get("batch_size", 32),
                         quantize=setting.get("quantize", False),
                         max_seq_length=setting.get("max_seq_length"),
                         threads=setting.get("threads", 2),
                         precision=setting.get("precision", "fp32"))


def encode(embedder: TunedEmbedder, texts: Sequence[str], unsorted: bool = False) -> np.ndarray:
    if not unsorted:
        return embedder.embed_passages(texts)
    size = embedder.batch_size
    return np.vstack([embedder.embed_passages(texts[i:i + size])
                      for i in range(0, len(texts), size)])


def speed(settings: list[dict], texts: Sequence[str], repeats: int) -> list[dict]:
    """Time every setting ``repeats`` times, interleaved (forward, then backward, ...) so that
    all settings see the same load of a shared machine; the best run of each counts."""
    import torch

    embedders = {variant(s): make_embedder(s) for s in settings}
    for embedder in embedders.values():
        embedder.embed_passages(texts[:8])  # load + warm up
    times: dict[str, list[float]] = {s["name"]: [] for s in settings}
    loads: dict[str, list[float]] = {s["name"]: [] for s in settings}
    for round_ in range(repeats):
        for setting in settings if round_ % 2 == 0 else settings[::-1]:
            embedder = embedders[variant(setting)]
            model = embedder._load()
            model.max_seq_length = setting.get("max_seq_length", 512)
            embedder.batch_size = setting.get("batch_size", 32)
            torch.set_num_threads(setting.get("threads", 2))
            start = time.perf_counter()
            encode(embedder, texts, setting.get("unsorted", False))
            times[setting["name"]].append(time.perf_counter() - start)
            loads[setting["name"]].append(os.getloadavg()[0])
            logger.info("%s: %.1f s (load %.1f)", setting["name"], times[setting["name"]][-1],
                        loads[setting["name"]][-1])
    torch.set_num_threads(2)
    rows = []
    for setting in settings:
        best = min(times[setting["name"]])
        rows.append({"setting": setting["name"], "passages_per_s": len(texts) / best,
                     "best_s": best, "median_s": float(np.median(times[setting["name"]])),
                     "threads": setting.get("threads", 2),
                     "load1_mean": float(np.mean(loads[setting["name"]]))})
    return rows


def quality(setting: dict, texts: list[str], doc_of_row: list[str], questions: list[dict],
            reference: np.ndarray, base: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """Re-embed the corpus with ``setting``; dense retrieval metrics and cosine to fp32.

    With a ``max_seq_length`` and the vectors of the same model without it (``base``), only
    the passages longer than the limit are re-embedded: the others are encoded identically.
    """
    embedder = make_embedder(setting)
    start = time.perf_counter()
    if setting is SETTINGS[0]:  # the reference itself: fp32, 512 tokens
        vectors, seconds, embedded = reference, float("nan"), 0
    else:
        vectors = np.array(base if base is not None else reference, copy=True)
        rows = list(range(len(texts)))
        limit = setting.get("max_seq_length")
        if base is not None and limit:
            model = embedder._load()
            prompt = embedder._prompts.get("passage", "")
            lengths = [len(model.tokenizer(prompt + t)["input_ids"]) for t in texts]
            rows = [i for i, n in enumerate(lengths) if n > limit]
        start = time.perf_counter()
        if rows:
            vectors[rows] = embedder.embed_passages([texts[i] for i in rows])
        seconds, embedded = time.perf_counter() - start, len(rows)
    qvecs = embedder.embed_queries([expand_abbreviations(q["question"]) for q in questions])
    cos = np.sum(vectors * reference, axis=1)
    ranks = []
    for q, qv in zip(questions, qvecs, strict=True):
        scores = vectors @ qv
        order = np.argsort(-scores, kind="stable")[:200]
        docs = list(dict.fromkeys(doc_of_row[r] for r in order))
        rel = {doc_id(r["law_id"], r["article_id"]) for r in q["relevant"]}
        ranks.append(first_relevant_rank(docs[:10], rel))
    return {"setting": setting["name"], **retrieval_metrics(ranks),
            "cos_mean": float(cos.mean()), "cos_min": float(cos.min()),
            "passages_re_embedded": embedded,
            "passages_per_s": embedded / seconds if embedded else float("nan")}, vectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=128, help="passages timed per setting")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--index", default=str(OUT_DIR / "alqac" / "index-22-c2000-law"),
                        help="the ALQAC-22 index written by benchmarks.alqac")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated setting names (substring)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    from knowledge.ingest.indexer import Indexer

    data = read_index(args.index)
    texts = [Indexer._index_text(c, data.documents) for c in data.chunks]
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), size=min(args.sample, len(texts)),
                                           replace=False)]
    settings = [s for s in SETTINGS
                if not args.only or any(o in s["name"] for o in args.only.split(","))]
    result: dict = {"machine": machine(), "args": vars(args), "speed": [], "quality": []}
    result["speed"] = speed(settings, sample, args.repeats)
    base = result["speed"][0]["passages_per_s"] if result["speed"] else 1.0
    for row in result["speed"]:
        row["speedup"] = row["passages_per_s"] / base
    print(f"\nEncoding speed: {len(sample)} ALQAC-22 passages, best of {args.repeats}")
    print(table(result["speed"], ["setting", "passages_per_s", "speedup", "best_s", "median_s",
                                  "threads", "load1_mean"]))

    if not args.no_quality:
        questions = load_jsonl(ALQAC_DIR / "alqac22_train.jsonl")
        doc_of_row = [c.doc_id for c in data.chunks]
        # the reference: every chunk embedded with fp32 and the model's 512 tokens (the index's
        # own vectors are whatever the indexer's defaults were when it was built)
        reference = make_embedder(SETTINGS[0]).embed_passages(texts)
        chosen = [SETTINGS[0]] + [s for s in settings if s is not SETTINGS[0] and (
            s.get("quantize") or s.get("max_seq_length") or s.get("precision"))
            and s.get("threads") != 1 and not s.get("batch_size")]
        full: dict[tuple[bool, str], np.ndarray] = {(False, "fp32"): reference}
        for setting in sorted(chosen, key=lambda s: bool(s.get("max_seq_length"))):
            row, vectors = quality(setting, texts, doc_of_row, questions, reference,
                                   base=full.get(variant(setting)))
            if not setting.get("max_seq_length"):
                full[variant(setting)] = vectors
            logger.info("%s", row)
            result["quality"].append(row)
        print(f"\nQuality on ALQAC-22 train (dense only, {len(texts)} chunks)")
        print(table(result["quality"], ["setting", "r@1", "r@5", "mrr@10", "cos_mean",
                                        "cos_min", "passages_re_embedded", "passages_per_s"]))
    path = write_json("encoding_speed", result)
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
