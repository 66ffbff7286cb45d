"""Answer latency of `kb ask`, in process, on the 4,000-document legal-scale corpus plus
cchc-dev: the current pipeline against an old one (default: commit be9e3f7), in the same run.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/kb/bin/python -m benchmarks.answer_latency
    … --limit 400          # the first 400 legal-scale documents (+ all of cchc-dev)
    … --no-old             # the current pipeline only
    … --new-index DIR      # time the current pipeline on an index you built yourself

What it does:

1. **Corpus**: ``../shared/corpus/legal-scale/docs`` (sorted; ``--limit N`` keeps the first N,
   0 = all) plus every ``cchc-dev`` document; a document's id is its file name (as
   ``kb ingest FOLDER`` gives it).
2. **Indexes**, cached under ``var/benchmarks/answer_latency/`` and reused while the corpus
   (the files' names and contents) and the code are the same: the current pipeline's index is
   built by ``kb ingest`` of this checkout (key: a hash of ``knowledge/**/*.py``); the old
   pipeline is checked out with ``git worktree add`` and its index built by its own
   ``kb ingest`` (its store format may differ). The build runs in batches of ``--batch``
   documents, each published, so an interrupted build resumes after its last finished batch
   (ingest is incremental). It is long: the current pipeline stores a vector for every
   sentence (390,955 texts for the 4,036 documents); on the 2-core EPYC without AMX the first
   batch of 400 documents (43,369 texts) ran at 6–11 texts/s with ONNX int8, i.e. several hours
   for all of them — run it on an otherwise idle machine, or overnight.
3. **Timing**: each pipeline runs in its own process (``benchmarks/answer_latency_worker.py``,
   same venv, only the public ``KnowledgeBase(config).ask`` / ``KnowledgeConfig``), loads its
   index, answers a warm-up (the first question's time, index and models loading, is reported
   as *cold*), then every cchc-dev question with diacritics and folded (as typed on phones),
   ``--rounds`` times. Old and new alternate question by question, and which goes first
   alternates too, so machine load falls on both alike. Per question the median over rounds;
   then p50 / p95 / max over questions, and old/new ratios.
4. **Machine**: CPU model (``lscpu``), whether the CPU has AMX (``amx_bf16`` in
   ``/proc/cpuinfo``) and the embedder precision each pipeline reports, load averages.

Answers are also scored with the rule of ``knowledge.evaluate`` (answerable right, unanswerable
declined), as a check that both pipelines answer on the large index. Writes
``var/benchmarks/answer_latency.json`` (``--out`` to rename). Targets (issue 9): p50 ≤ 50 ms,
p95 ≤ 150 ms per question on a 2-core CPU without AMX. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import (
    MODEL,
    OUT_DIR,
    SHARED,
    machine,
    percentile_ms,
    table,
    write_json,
)
from knowledge.config import PROJECT_ROOT
from knowledge.evaluate import fold_question, load_questions, score, summarize

logger = logging.getLogger("benchmarks.answer_latency")

CACHE = OUT_DIR / "answer_latency"
LEGAL_SCALE = SHARED / "corpus" / "legal-scale" / "docs"
CCHC_DEV = SHARED / "corpus" / "cchc-dev"
OLD_COMMIT = "be9e3f7"
WORKER = Path(__file__).resolve().parent / "answer_latency_worker.py"
TARGET_P50_MS, TARGET_P95_MS = 50.0, 150.0


# -- machine ------------------------------------------------------------------------------------
def cpu_facts() -> dict:
    """CPU model as ``lscpu`` names it, and whether AMX (bf16 tiles) is there."""
    model = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    flags: set[str] = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    return {"lscpu_model": model, "amx_bf16": "amx_bf16" in flags,
            "avx512f": "avx512f" in flags, "cores": os.cpu_count()}


# -- corpus and code keys -----------------------------------------------------------------------
def corpus_files(limit: int) -> list[Path]:
    """The legal-scale documents (the first ``limit``, 0 = all) and all cchc-dev documents."""
    legal = sorted(p for p in LEGAL_SCALE.iterdir() if p.is_file())
    if limit:
        legal = legal[:limit]
    cchc = sorted(p for p in (CCHC_DEV / "docs").iterdir() if p.is_file())
    names = [p.name for p in legal + cchc]
    if len(set(names)) != len(names):
        raise ValueError("a legal-scale and a cchc-dev document share a file name (id)")
    return legal + cchc


def fingerprint(files: list[Path]) -> str:
    """A hash of the documents' names and contents: the corpus key of a cached index."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + hashlib.sha1(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def code_version(root: Path) -> str:
    """A hash of the pipeline's code (``knowledge/**/*.py`` but the scoring of ``kb eval``):
    the code key of a cached index."""
    digest = hashlib.sha256()
    for path in sorted((root / "knowledge").rglob("*.py")):
        if path.name == "evaluate.py":
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def git_head(root: Path) -> str:
    out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, timeout=30)
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "knowledge"],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")


# -- pipelines ----------------------------------------------------------------------------------
@dataclass
class Pipeline:
    """A checkout of the code (``src``) and its index."""

    name: str  # "old" | "new"
    src: Path
    index: Path
    version: str = ""
    build_s: float | None = None  # None: reused
    extra: dict = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.src) + (os.pathsep + env["PYTHONPATH"]
                                             if env.get("PYTHONPATH") else "")
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        return env


def old_checkout(commit: str) -> Path:
    """``git worktree add`` of ``commit`` under the cache (reused when already there)."""
    src = CACHE / f"old-{commit}" / "src"
    if not (src / "knowledge").is_dir():
        src.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(PROJECT_ROOT), "worktree", "add", "--detach", str(src),
                        commit], check=True, capture_output=True, text=True, timeout=300)
    head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True, timeout=30).stdout.strip()
    full = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", commit],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    if head != full:
        raise RuntimeError(f"{src} is at {head}, not {commit}: remove it (git worktree remove)")
    return src


def ensure_index(pipeline: Pipeline, files: list[Path], limit: int, corpus_key: str,
                 batch: int = 400) -> None:
    """Build ``pipeline.index`` with the pipeline's own ``kb ingest`` unless a finished build
    for the same corpus and code is there (``bench-stamp.json``)."""
    stamp_path = pipeline.index / "bench-stamp.json"
    stamp = {"corpus": corpus_key, "code": pipeline.version, "documents": len(files),
             "limit": limit}
    if stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp:
        logger.info("%s: reusing %s", pipeline.name, pipeline.index)
        return
    pipeline.index.mkdir(parents=True, exist_ok=True)
    lock = open(pipeline.index.parent / f"{pipeline.index.name}.lock", "w")  # noqa: SIM115
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise RuntimeError(f"another benchmark is building {pipeline.index}") from exc
    log = pipeline.index.parent / f"{pipeline.index.name}.log"
    logger.info("%s: building %s (%d documents in batches of %d; progress in %s) …",
                pipeline.name, pipeline.index, len(files), batch, log)
    started = time.perf_counter()
    # one `kb ingest` per batch: each publishes a version, so an interrupted build resumes
    # from its last finished batch (the documents already in the index are "unchanged")
    for first in range(0, len(files), batch):
        paths = [str(p) for p in files[first:first + batch]]
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"\n=== {time.strftime('%H:%M:%S')} documents {first + 1}-"
                      f"{first + len(paths)} of {len(files)}\n")
            out.flush()
            done = subprocess.run(
                [sys.executable, "-m", "knowledge.cli", "ingest", *paths, "--index",
                 str(pipeline.index), "--model", MODEL], cwd=pipeline.src, env=pipeline.env(),
                stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            lock.close()
            raise RuntimeError(f"{pipeline.name}: kb ingest failed ({done.returncode}); "
                               f"see {log}")
    lock.close()
    pipeline.build_s = round(time.perf_counter() - started, 1)
    stamp_path.write_text(json.dumps(stamp))


class Worker:
    """A running ``answer_latency_worker.py`` of one pipeline."""

    def __init__(self, pipeline: Pipeline, log_dir: Path = CACHE) -> None:
        self.pipeline = pipeline
        self.log = open(log_dir / f"worker-{pipeline.name}.log", "w", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), "--index", str(pipeline.index), "--model", MODEL],
            cwd=pipeline.src, env=pipeline.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True, encoding="utf-8", bufsize=1, start_new_session=True)
        self.ready = self._read()
        path = Path(self.ready["knowledge_path"]).resolve()
        if path != (pipeline.src / "knowledge").resolve():
            self.close()
            raise RuntimeError(f"{pipeline.name} imported knowledge from {path}, not from "
                               f"{pipeline.src}")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.pipeline.name} worker ended; see {self.log.name}")
        return json.loads(line)

    def ask(self, qid: str, question: str) -> dict:
        self.proc.stdin.write(json.dumps({"op": "ask", "id": qid, "question": question},
                                         ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write('{"op": "quit"}\n')
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


# -- measuring ----------------------------------------------------------------------------------
def latency_figures(seconds: list[float]) -> dict:
    return {"n": len(seconds), "p50_ms": round(percentile_ms(seconds, 50), 1),
            "p95_ms": round(percentile_ms(seconds, 95), 1),
            "max_ms": round(max(seconds) * 1000, 1) if seconds else None,
            "mean_ms": round(statistics.fmean(seconds) * 1000, 1) if seconds else None}


def run(workers: dict[str, Worker], questions: list[dict], rounds: int, warmup: int) -> dict:
    """Warm-up, then ``rounds`` alternating passes; per pipeline, its timings and answers."""
    asks = [(q, False) for q in questions] + [(q, True) for q in questions]
    out: dict[str, dict] = {name: {"cold_first_s": None, "times": {}, "answers": {},
                                   "errors": []} for name in workers}
    for name, worker in workers.items():
        for i, (q, folded) in enumerate(asks[:warmup]):
            text = fold_question(q["question"]) if folded else q["question"]
            reply = worker.ask(f"warmup-{i}", text)
            if i == 0:
                out[name]["cold_first_s"] = reply["seconds"]
    names = list(workers)
    for r in range(rounds):
        started = time.perf_counter()
        for i, (q, folded) in enumerate(asks):
            key = f"{q['id']}{'#folded' if folded else ''}"
            text = fold_question(q["question"]) if folded else q["question"]
            order = names if (i + r) % 2 == 0 else names[::-1]
            for name in order:
                reply = workers[name].ask(key, text)
                if "error" in reply:
                    out[name]["errors"].append({"id": key, "error": reply["error"]})
                    continue
                out[name]["times"].setdefault(key, []).append(reply["seconds"])
                if r == 0:
                    out[name]["answers"][key] = (q, text, reply)
        logger.info("round %d/%d: %.0f s", r + 1, rounds, time.perf_counter() - started)
    return out


def summarize_pipeline(result: dict) -> dict:
    medians = {k: statistics.median(v) for k, v in result["times"].items()}
    accented = [s for k, s in medians.items() if not k.endswith("#folded")]
    folded = [s for k, s in medians.items() if k.endswith("#folded")]
    rows = [score(q, asked=text, answer_text=reply["answer"], declined=reply["declined"],
                  cited_docs=[] if reply["declined"] else reply["cited_docs"],
                  confidence=reply.get("confidence"), seconds=reply["seconds"],
                  variant="folded" if key.endswith("#folded") else "accented")
            for key, (q, text, reply) in result["answers"].items()]
    quality = {}
    for label in ("accented", "folded"):
        part = [r for r in rows if r["variant"] == label]
        s = summarize(part)
        quality[label] = {k: s[k] for k in ("answer_accuracy", "answered_right", "answerable",
                                            "false_declines", "decline_accuracy",
                                            "unanswerable_declined", "unanswerable")}
    return {"all": latency_figures(list(medians.values())),
            "accented": latency_figures(accented), "folded": latency_figures(folded),
            "cold_first_s": result["cold_first_s"], "errors": result["errors"],
            "quality": quality, "per_question_s": medians}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0,
                        help="legal-scale documents to index (0 = all 4,000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--warmup", type=int, default=5, help="untimed questions first")
    parser.add_argument("--questions", type=int,
                        help="only the first N cchc-dev questions (a quick check of the tool)")
    parser.add_argument("--old-commit", default=OLD_COMMIT)
    parser.add_argument("--no-old", action="store_true", help="time the current pipeline only")
    parser.add_argument("--new-index", type=Path,
                        help="use this index for the current pipeline as it is (no build)")
    parser.add_argument("--build-only", action="store_true", help="build the indexes and stop")
    parser.add_argument("--batch", type=int, default=400,
                        help="documents per `kb ingest` while building (a stopped build resumes "
                             "after its last finished batch)")
    parser.add_argument("--out", default="answer_latency", help="name of the JSON written")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.rounds < 1 or args.warmup < 1 or args.limit < 0 or args.batch < 1:
        parser.error("--rounds, --warmup and --batch must be >= 1, --limit >= 0")
    CACHE.mkdir(parents=True, exist_ok=True)
    files = corpus_files(args.limit)
    corpus_key = fingerprint(files)
    size = f"limit{args.limit}" if args.limit else "all"
    new = Pipeline("new", PROJECT_ROOT, args.new_index or Path(),
                   version=code_version(PROJECT_ROOT), extra={"git": git_head(PROJECT_ROOT)})
    if not args.new_index:
        new.index = CACHE / f"new-{new.version}" / f"index-{size}-{corpus_key}"
        ensure_index(new, files, args.limit, corpus_key, args.batch)
    pipelines = [new]
    if not args.no_old:
        src = old_checkout(args.old_commit)
        old = Pipeline("old", src, CACHE / f"old-{args.old_commit}" / f"index-{size}-{corpus_key}",
                       version=args.old_commit, extra={"git": args.old_commit})
        ensure_index(old, files, args.limit, corpus_key, args.batch)
        pipelines.insert(0, old)
    if args.build_only:
        return 0
    questions = load_questions([CCHC_DEV / "qa.jsonl"], args.questions)
    # SIGTERM (kill, a CI timeout) ends like Ctrl-C: the workers are stopped in `finally`
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = os.getloadavg()
    started = time.perf_counter()
    workers: dict[str, Worker] = {}
    try:
        for p in pipelines:
            workers[p.name] = Worker(p)
        results = run(workers, questions, args.rounds, args.warmup)
    finally:
        for w in workers.values():
            w.close()
    summary = {p.name: summarize_pipeline(results[p.name]) for p in pipelines}
    data = {
        "machine": {**machine(), **cpu_facts()}, "load_before": load_before,
        "load_after": os.getloadavg(), "seconds": round(time.perf_counter() - started, 1),
        "corpus": {"documents": len(files), "limit": args.limit, "key": corpus_key},
        "rounds": args.rounds, "warmup": args.warmup, "questions": len(questions) * 2,
        "pipelines": {p.name: {"src": str(p.src), "index": str(p.index), "code": p.version,
                               **p.extra, "build_s": p.build_s,
                               "worker": workers[p.name].ready} for p in pipelines},
        "results": summary,
    }
    if "old" in summary:
        data["ratio_old_over_new"] = {
            k: round(summary["old"]["all"][k] / summary["new"]["all"][k], 2)
            for k in ("p50_ms", "p95_ms", "max_ms") if summary["new"]["all"][k]}
    data["targets_met"] = {"p50": summary["new"]["all"]["p50_ms"] <= TARGET_P50_MS,
                           "p95": summary["new"]["all"]["p95_ms"] <= TARGET_P95_MS}
    path = write_json(args.out, data)
    rows = []
    for p in pipelines:
        s = summary[p.name]
        for variant in ("all", "accented", "folded"):
            rows.append({"pipeline": f"{p.name} ({p.extra['git']})", "questions": variant,
                         **{k: s[variant][k] for k in ("n", "p50_ms", "p95_ms", "max_ms")}})
    cpu = data["machine"]
    print(f"CPU: {cpu['lscpu_model']} ({cpu['cores']} cores), AMX: "
          f"{'yes' if cpu['amx_bf16'] else 'no'}; embedder precision: " + ", ".join(
              f"{name} {w.ready.get('precision') or 'unknown'}" for name, w in workers.items()))
    print(f"corpus: {len(files)} documents; load average {load_before[0]:.1f} → "
          f"{data['load_after'][0]:.1f}; {args.rounds} rounds, median per question")
    print(table(rows))
    for p in pipelines:
        s = summary[p.name]
        q = s["quality"]
        print(f"{p.name}: cold first question {s['cold_first_s']:.2f} s; answered right "
              f"{q['accented']['answered_right']}/{q['accented']['answerable']} (folded "
              f"{q['folded']['answered_right']}), unanswerable declined "
              f"{q['accented']['unanswerable_declined']}/{q['accented']['unanswerable']} (folded "
              f"{q['folded']['unanswerable_declined']}); errors {len(s['errors'])}")
    if "ratio_old_over_new" in data:
        print("old/new: " + ", ".join(f"{k} {v}×" for k, v in data["ratio_old_over_new"].items()))
    print(f"targets (p50 ≤ {TARGET_P50_MS:.0f} ms, p95 ≤ {TARGET_P95_MS:.0f} ms): "
          f"{data['targets_met']}; written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
