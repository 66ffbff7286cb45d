"""Encoder backends compared on this CPU: torch fp32 / bf16 against ONNX Runtime fp32 / int8.

    python -m benchmarks.encoders                        # everything (long: quality re-embeds)
    python -m benchmarks.encoders --skip quality,cchc,spans --questions 200
    python -m benchmarks.encoders --only onnx-int8,torch-fp32 --skip spans

Parts (``--skip`` any of ``speed,agreement,quality,cchc,spans``):

* **speed** — (a) single-query latency: Vietnamese questions (cchc-dev, then ALQAC-22/23
  train) embedded one at a time (batch 1) with 1 and 2 threads, p50/p95; (b) passage
  throughput at the configured passage tokens (192) on a fixed sample of ALQAC-22 articles,
  batch 32. Each backend runs in its **own worker process** (no torch/ONNX Runtime thread pools
  spinning against each other), and the workers take turns in rounds, so a shared machine's
  load hits all of them alike; ratios to torch fp32 are the figures to read.
* **agreement** — cosine of each backend's vectors to torch fp32 (questions and passages).
* **quality** — ALQAC-22/23 train MRR@10, dense and hybrid (the default z-score fusion),
  every chunk of the ``benchmarks.alqac`` indexes re-embedded with each backend (vectors cached
  under var/benchmarks/cache), plus **mixed** rows: queries of one backend against passages of
  another (an index built with fp32 asked with int8 queries).
* **cchc** — ``kb ingest`` of cchc-dev into a fresh index and ``kb eval`` (R@1/R@5/MRR of the
  gold document, answers) per backend, through the CLI with ``KB_EMBED_BACKEND`` /
  ``KB_EMBED_PRECISION``.
* **spans** — sentence vectors pooled from the passage's forward pass
  (``Embedder.embed_passages_with_spans``) against sentences embedded on their own, on the
  cchc-dev index: cosine, and whether ranking the sentences of the top passages of each
  question picks the same top sentence; and the cost over ``embed_passages``.

Every output carries the CPU model, whether it has AMX and the load average.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import (
    ALQAC_DIR,
    MODEL,
    SHARED,
    CachedEmbedder,
    machine,
    percentile_ms,
    table,
    write_json,
)

logger = logging.getLogger("benchmarks.encoders")

#: name -> (backend, precision)
BACKENDS = {
    "torch-fp32": ("torch", "fp32"),
    "torch-bf16": ("torch", "bf16"),
    "onnx-fp32": ("onnx", "fp32"),
    "onnx-int8": ("onnx", "int8"),
}
REFERENCE = "torch-fp32"
CCHC_DIR = SHARED / "corpus" / "cchc-dev"


# -- texts ----------------------------------------------------------------------------------
def questions(limit: int) -> list[str]:
    """Vietnamese questions: cchc-dev first, then ALQAC-22 and -23 train."""
    out = [json.loads(line)["question"] for line in
           (CCHC_DIR / "qa.jsonl").read_text("utf-8").splitlines() if line.strip()]
    for year in ("22", "23"):
        path = ALQAC_DIR / f"alqac{year}_train.jsonl"
        out += [json.loads(line)["question"] for line in
                path.read_text("utf-8").splitlines() if line.strip()]
    return out[:limit]


def passages(limit: int) -> list[str]:
    """A fixed random sample of ALQAC-22 articles, with the law's id before the text as the
    indexer puts a document's title before each chunk."""
    rows = [json.loads(line) for line in
            (ALQAC_DIR / "alqac22_law.jsonl").read_text("utf-8").splitlines() if line.strip()]
    rng = np.random.default_rng(0)
    picked = rng.choice(len(rows), size=min(limit, len(rows)), replace=False)
    return [f"{rows[i]['law_id']}\n{rows[i]['text']}" for i in picked]


# -- worker processes -----------------------------------------------------------------------
def _worker(conn, backend: str, precision: str) -> None:
    """Serve one backend: load it, then answer (command, payload) requests until ``stop``."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from knowledge.retrieval.dense import Embedder

    embedder = Embedder(MODEL, backend=backend, precision=precision)
    started = time.perf_counter()
    embedder.warm_up()
    conn.send(("ready", time.perf_counter() - started))
    while True:
        command, payload = conn.recv()
        if command == "stop":
            break
        if command == "latency":
            texts, threads = payload
            embedder.set_threads(threads)
            embedder.embed_queries(texts[:1])
            seconds = []
            for text in texts:
                start = time.perf_counter()
                embedder.embed_queries([text])
                seconds.append(time.perf_counter() - start)
            conn.send(seconds)
        elif command == "throughput":
            texts, threads = payload
            embedder.set_threads(threads)
            start = time.perf_counter()
            embedder.embed_passages(texts)
            conn.send(time.perf_counter() - start)
        elif command == "embed":
            kind, texts = payload
            embedder.set_threads(embedder.threads)
            method = embedder.embed_queries if kind == "query" else embedder.embed_passages
            conn.send(method(texts))
    conn.close()


class Workers:
    """One process per backend, driven in turns."""

    def __init__(self, names: Sequence[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.names = list(names)
        self.pipes, self.procs, self.load_seconds = {}, {}, {}
        for name in self.names:
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, args=(child, *BACKENDS[name]), daemon=True)
            proc.start()
            self.pipes[name], self.procs[name] = parent, proc
            # one at a time: loading is itself timed and must not overlap another load
            status, seconds = parent.recv()
            self.load_seconds[name] = seconds
            logger.info("%s loaded in %.1f s", name, seconds)

    def ask(self, name: str, command: str, payload):
        self.pipes[name].send((command, payload))
        return self.pipes[name].recv()

    def close(self) -> None:
        for name in self.names:
            try:
                self.pipes[name].send(("stop", None))
            except (BrokenPipeError, OSError):
                pass
            self.procs[name].join(timeout=30)
            if self.procs[name].is_alive():
                self.procs[name].kill()


def speed(workers: Workers, qs: list[str], ps: list[str], rounds: int) -> list[dict]:
    """Latency (1 and 2 threads) and throughput, the backends taking turns each round."""
    names = workers.names
    latency = {(n, t): [] for n in names for t in (1, 2)}
    throughput = {n: [] for n in names}
    loads = []
    chunks = [qs[i::rounds] for i in range(rounds)]
    for round_ in range(rounds):
        order = names if round_ % 2 == 0 else names[::-1]
        for threads in (1, 2):
            for name in order:
                seconds = workers.ask(name, "latency", (chunks[round_], threads))
                latency[(name, threads)] += seconds
                logger.info("round %d %s %d thread(s): query p50 %.1f ms (load %.1f)",
                            round_ + 1, name, threads, percentile_ms(seconds, 50),
                            os.getloadavg()[0])
        for name in order:
            throughput[name].append(workers.ask(name, "throughput", (ps, 2)))
            logger.info("round %d %s: %.2f passages/s (load %.1f)", round_ + 1, name,
                        len(ps) / throughput[name][-1], os.getloadavg()[0])
        loads.append(os.getloadavg()[0])
        logger.info("round %d done (load %.1f)", round_ + 1, loads[-1])
    rows = []
    ref = {t: np.median(latency[(REFERENCE, t)]) if REFERENCE in names else None
           for t in (1, 2)}
    ref_tp = len(ps) / np.median(throughput[REFERENCE]) if REFERENCE in names else None
    for name in names:
        row = {"backend": name, "load_s": workers.load_seconds[name]}
        for t in (1, 2):
            row[f"q_p50_ms_{t}t"] = percentile_ms(latency[(name, t)], 50)
            row[f"q_p95_ms_{t}t"] = percentile_ms(latency[(name, t)], 95)
            if ref[t]:
                row[f"q_speedup_{t}t"] = float(ref[t] / np.median(latency[(name, t)]))
        rate = len(ps) / float(np.median(throughput[name]))
        row["passages_per_s"] = rate
        row["passages_per_s_best"] = len(ps) / float(np.min(throughput[name]))
        if ref_tp:
            row["tp_speedup"] = rate / ref_tp
        rows.append(row)
    return rows + [{"backend": "(load average over rounds)", "load_s": float(np.mean(loads))}]


def cosine_rows(vectors: dict[str, dict[str, np.ndarray]]) -> list[dict]:
    rows = []
    ref = vectors[REFERENCE]
    for name, kinds in vectors.items():
        row = {"backend": name}
        for kind, v in kinds.items():
            cos = np.sum(v * ref[kind], axis=1)
            row[f"{kind}_cos_mean"] = float(cos.mean())
            row[f"{kind}_cos_min"] = float(cos.min())
        rows.append(row)
    return rows


# -- retrieval quality ----------------------------------------------------------------------
def alqac_quality(names: Sequence[str], mixed: Sequence[tuple[str, str]]) -> list[dict]:
    """Dense and hybrid MRR@10 on ALQAC-22/23 train per backend, and mixed pairs."""
    from benchmarks.alqac import RECOMMENDED, Run, Setting, load_jsonl, prepare
    from knowledge.index.store import read_index
    from knowledge.ingest.indexer import index_text
    from knowledge.text.segment import TermAnalyzer, expand_abbreviations

    analyzer = TermAnalyzer()
    embedders = {n: CachedEmbedder(MODEL, backend=BACKENDS[n][0], precision=BACKENDS[n][1])
                 for n in names}
    rows = []
    for year in ("22", "23"):
        # the index (BM25 terms; its own vectors are replaced below) built with the first backend
        cfg, info = prepare(year, 2000, "law", embedders[names[0]], analyzer)
        data = read_index(cfg.index_dir, expected_model=cfg.model)
        texts = [index_text(c, data.documents[c.doc_id].document.meta.title) for c in data.chunks]
        qs = load_jsonl(ALQAC_DIR / f"alqac{year}_train.jsonl")
        run = Run(cfg, qs, embedders[names[0]], analyzer)
        qtexts = [expand_abbreviations(q["question"]) for q in qs]
        pvecs, qvecs = {}, {}
        for name in names:
            start = time.perf_counter()
            pvecs[name] = embedders[name].embed_passages(texts)
            embedders[name].save()
            qvecs[name] = embedders[name].embed_queries(qtexts)
            logger.info("ALQAC-%s %s: %d chunks in %.0f s", year, name, len(texts),
                        time.perf_counter() - start)
        for qname, pname in [(n, n) for n in names] + list(mixed):
            if qname not in qvecs or pname not in pvecs:
                continue
            run.dense_scores = qvecs[qname] @ pvecs[pname].T
            label = qname if qname == pname else f"queries {qname} / passages {pname}"
            dense = run.metrics(Setting("dense", depth=100))
            hybrid = run.metrics(RECOMMENDED)
            rows.append({"set": f"ALQAC-{year}", "encoder": label, "questions": len(qs),
                         "chunks": len(texts), "dense_mrr@10": dense["mrr@10"],
                         "dense_r@1": dense["r@1"], "hybrid_mrr@10": hybrid["mrr@10"],
                         "hybrid_r@1": hybrid["r@1"], "hybrid_r@5": hybrid["r@5"]})
    return rows


def cchc_quality(names: Sequence[str], work: Path) -> list[dict]:
    """``kb ingest`` + ``kb eval`` of cchc-dev per backend (fresh index each)."""
    rows = []
    for name in names:
        backend, precision = BACKENDS[name]
        env = {**os.environ, "KB_EMBED_BACKEND": backend, "KB_EMBED_PRECISION": precision,
               "HF_HUB_OFFLINE": "1"}
        index = work / f"cchc-{name}"
        kb = [sys.executable, "-m", "knowledge.cli"]
        start = time.perf_counter()
        subprocess.run([*kb, "ingest", str(CCHC_DIR / "docs"), "--index", str(index),
                        "--model", MODEL, "--quiet"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        out = subprocess.run([*kb, "eval", str(CCHC_DIR / "qa.jsonl"), "--index", str(index),
                              "--model", MODEL, "--json"], env=env, check=True,
                             capture_output=True, text=True).stdout
        summary = json.loads(out)
        rows.append({"encoder": name, "ingest_s": ingest_s,
                     "eval_s": time.perf_counter() - start, **_flat(summary)})
        logger.info("cchc-dev %s: %s", name, rows[-1])
    return rows


def _flat(summary: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, int | float | str):
            out[prefix + key] = value
    return out


# -- sentence vectors from the passage's forward pass ---------------------------------------
_SENTENCE = re.compile(r"[^\n]*?(?:[.!?;](?=\s)|$)", re.MULTILINE)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of a passage's sentences (ends at . ! ? ; before a space, or a line
    end), without surrounding blanks; pieces of fewer than 3 letters are left out."""
    spans = []
    for m in _SENTENCE.finditer(text):
        piece = m.group(0)
        if sum(ch.isalpha() for ch in piece) < 3:
            continue
        lead = len(piece) - len(piece.lstrip())
        spans.append((m.start() + lead, m.start() + len(piece.rstrip())))
    return spans


def span_study(name: str, index_dir: Path, top_passages: int = 5) -> dict:
    """Span-pooled sentence vectors against independently embedded sentences, on an index."""
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig
    from knowledge.index.store import read_index
    from knowledge.retrieval.dense import Embedder
    from knowledge.text.segment import expand_abbreviations

    backend, precision = BACKENDS[name]
    embedder = Embedder(MODEL, backend=backend, precision=precision)
    data = read_index(index_dir)
    texts = [c.text for c in data.chunks]
    spans = [sentence_spans(t) for t in texts]
    timing: dict[str, float] = {}
    start = time.perf_counter()
    embedder.embed_passages(texts)
    timing["embed_passages_s"] = time.perf_counter() - start
    variants = {}
    for tail in ("window", "passage"):
        for frame in (True, False):
            start = time.perf_counter()
            _, pooled = embedder.embed_passages_with_spans(texts, spans, tail=tail, frame=frame)
            timing[f"with_spans_{tail}{'' if frame else '_noframe'}_s"] = \
                time.perf_counter() - start
            variants[(tail, frame)] = pooled
    flat_sentences = [t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s]
    start = time.perf_counter()
    alone = embedder.embed_passages(flat_sentences)
    timing["sentences_alone_s"] = time.perf_counter() - start
    # which sentences lie (partly) beyond the first window
    beyond = 0
    tokenizer = embedder._tokenizer
    prompt = embedder.prompts.get("passage", "")
    for text, text_spans in zip(texts, spans, strict=True):
        encoding = tokenizer.encode(prompt + text)
        end = max((b for (_, b), s in zip(encoding.offsets, encoding.special_tokens_mask,
                                           strict=True) if not s), default=0) - len(prompt)
        beyond += sum(1 for _, b in text_spans if b > end)
    out: dict = {"encoder": name, "passages": len(texts), "sentences": len(flat_sentences),
                 "sentences_beyond_limit": beyond, "passage_tokens": embedder.max_seq_length,
                 **timing}
    # cosine to sentences embedded alone
    for (tail, frame), pooled in variants.items():
        flat = np.vstack([p for p in pooled if len(p)])
        cos = np.sum(flat * alone, axis=1)
        key = f"{tail}{'' if frame else '_noframe'}"
        out[f"cos_mean_{key}"] = float(cos.mean())
        out[f"cos_p05_{key}"] = float(np.percentile(cos, 5))
    # top-sentence agreement over the top passages of each cchc-dev question
    cfg = KnowledgeConfig(model=MODEL, index_dir=index_dir)
    kb = KnowledgeBase(cfg, embedder=embedder)
    row_of = {c.id: i for i, c in enumerate(data.chunks)}
    starts = np.cumsum([0] + [len(s) for s in spans])
    qs = [json.loads(line)["question"] for line in
          (CCHC_DIR / "qa.jsonl").read_text("utf-8").splitlines() if line.strip()]
    agree = {key: 0 for key in variants}
    counted = 0
    for q in qs:
        hits = kb.search(q, k=top_passages)
        rows = [row_of[h.chunk.id] for h in hits if h.chunk.id in row_of]
        candidates = [(r, j) for r in rows for j in range(len(spans[r]))]
        if not candidates:
            continue
        qv = embedder.embed_queries([expand_abbreviations(q)])[0]
        truth = max(candidates, key=lambda rj: float(alone[starts[rj[0]] + rj[1]] @ qv))
        counted += 1
        for key, pooled in variants.items():
            best = max(candidates, key=lambda rj, p=pooled: float(p[rj[0]][rj[1]] @ qv))
            agree[key] += best == truth
    for (tail, frame), hits in agree.items():
        out[f"top_sentence_agreement_{tail}{'' if frame else '_noframe'}"] = hits / max(counted,
                                                                                        1)
    out["questions"] = counted
    return out


# -- main -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated backends "
                        f"({', '.join(BACKENDS)}); default all")
    parser.add_argument("--skip", default="", help="parts to skip: speed,agreement,quality,"
                        "cchc,spans")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--passages", type=int, default=64, help="passages per throughput run")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quality-backends", default="onnx-int8,onnx-fp32",
                        help="backends re-embedding ALQAC / cchc-dev, the first builds the "
                             "indexes (torch-fp32 gives onnx-fp32's vectors to cosine 0.99999 "
                             "and is several times slower; torch-bf16 without AMX takes hours)")
    parser.add_argument("--out", default="encoders", help="JSON name under var/benchmarks/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("knowledge").setLevel(logging.WARNING)
    names = [n for n in BACKENDS if not args.only or n in args.only.split(",")]
    skip = set(filter(None, args.skip.split(",")))
    quality_names = [n for n in args.quality_backends.split(",") if n in names]
    result: dict = {"machine": machine(), "args": vars(args)}
    print(f"CPU: {result['machine']['cpu']}, AMX: {result['machine']['amx']}, "
          f"load average at start: {result['machine']['loadavg_at_start']}")
    qs, ps = questions(args.questions), passages(args.passages)

    if not {"speed", "agreement"} <= skip:
        workers = Workers(names)
        try:
            if "agreement" not in skip:
                vectors = {n: {"query": workers.ask(n, "embed", ("query", qs)),
                               "passage": workers.ask(n, "embed", ("passage", ps))}
                           for n in names}
                if REFERENCE in vectors:
                    result["agreement"] = cosine_rows(vectors)
                    print(f"\nAgreement with {REFERENCE} ({len(qs)} questions, {len(ps)} "
                          "passages)")
                    print(table(result["agreement"]))
            if "speed" not in skip:
                result["speed"] = speed(workers, qs, ps, args.rounds)
                print(f"\nSpeed: {len(qs)} questions one at a time (batch 1), {len(ps)} "
                      f"passages (batch 32, 2 threads), {args.rounds} interleaved rounds; "
                      "load: see last row")
                print(table(result["speed"]))
        finally:
            workers.close()
    if "quality" not in skip and quality_names:
        mixed = [(q, p) for q, p in itertools.permutations(quality_names, 2)
                 if "int8" in q + p]  # int8 queries on an fp32 index and the reverse
        result["alqac"] = alqac_quality(quality_names, mixed)
        print("\nALQAC train MRR@10 (dense / hybrid z-score 0.6 BM25 + 0.4 dense)")
        print(table(result["alqac"]))
    work = Path(tempfile.mkdtemp(prefix="kb-encoders-"))
    if "cchc" not in skip and quality_names:
        result["cchc"] = cchc_quality(quality_names, work)
        print("\ncchc-dev (kb ingest + kb eval)")
        print(table(result["cchc"]))
    if "spans" not in skip:
        name = "onnx-int8" if "onnx-int8" in names else names[0]
        index = work / f"cchc-{name}"
        if not index.exists():
            backend, precision = BACKENDS[name]
            subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest",
                            str(CCHC_DIR / "docs"), "--index", str(index), "--model", MODEL,
                            "--quiet"], check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "KB_EMBED_BACKEND": backend,
                                "KB_EMBED_PRECISION": precision})
        result["spans"] = span_study(name, index)
        print("\nSentence vectors pooled from the passage's forward pass (cchc-dev)")
        print(table([{"key": k, "value": v} for k, v in result["spans"].items()]))
    path = write_json(args.out, result)
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
