"""The question files of `kb eval` through the Rasa REST channel, scored by the same rule.

    # start a stack of its own (scripts/serve.sh on free loopback ports, its own state folder)
    # on an index of cchc-dev, ask every question with and without diacritics, stop the stack
    HF_HUB_OFFLINE=1 nice -n 10 .venv/kb/bin/python -m benchmarks.rest_eval --start

    # or a stack that is already running (its KB_DOCUMENT_URL_BASE set, as `make run` does)
    .venv/kb/bin/python -m benchmarks.rest_eval --url http://127.0.0.1:5005

Defaults: ``../shared/corpus/cchc-dev/qa.jsonl`` and ``benchmarks/qa/counterfactual.jsonl``
(give files to change them), ``--fold both``. Every question goes into a conversation of its
own (a new sender id), so no follow-up context leaks between questions.

**What counts as a decline** (:func:`read_reply`). The action server attaches the 👍/👎
feedback buttons (payloads ``/feedback_…``) to an answer and never to a decline, and an answer
carries a "Nguồn:" line (``knowledge/reply.py``) that a decline never has (a decline lists
"Văn bản gần nhất:" instead). A reply is an *answer* when it has either; anything else is a
*decline* — also a reply of another intent (out of scope, chit-chat), which from the user's
side is no answer either. A ``custom`` payload with a boolean ``declined``, if a future action
sends one, wins over both. Replies where buttons and "Nguồn:" disagree are counted
(``signal_conflicts``) so that a change of the reply's rendering shows.

**Which document an answer cites**: the address in the "Nguồn:" line — the document's own
http(s) source (mapped back through the ``source:`` headers of the corpus files, ``--docs``) or
its console page ``…/van-ban/<id>`` (the self-started stack sets ``KB_DOCUMENT_URL_BASE`` so
that every document has one). Unmapped sources are counted (``unresolved_citations``).

**Answer text** scored: the reply up to its "Nguồn:" line (the quote under it is not part of
the answer, as in `kb eval`). Writes ``var/benchmarks/<--out>.json`` (summary per variant)
and, with ``--details``, one row per question and variant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from benchmarks.common import MODEL, OUT_DIR, SHARED, machine, write_json
from knowledge.config import PROJECT_ROOT
from knowledge.evaluate import fold_question, format_summary, load_questions, score, summarize

logger = logging.getLogger("benchmarks.rest_eval")

CCHC_DEV = SHARED / "corpus" / "cchc-dev"
COUNTERFACTUAL = PROJECT_ROOT / "benchmarks" / "qa" / "counterfactual.jsonl"
CACHE = OUT_DIR / "rest_eval"
#: the console address the self-started stack links documents to: only parsed, never fetched
LINK_BASE = "http://kb-eval.invalid"
PAGE_PATH = "/van-ban"
REQUEST_TIMEOUT = 180.0
MAX_MESSAGE = 2000  # characters sent; longer questions are cut (none of the sets has one)


# -- reading a reply ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """What one REST call returned, read: the answer text, decline and cited address."""

    text: str  # every message's text, joined
    answer_text: str  # the part before "Nguồn:"
    declined: bool
    signal: str  # custom | buttons+source | buttons | source | none
    conflict: bool  # feedback buttons and "Nguồn:" disagree
    source_url: str  # the first address in the "Nguồn:" part ("" when none)


def read_reply(messages: Sequence[dict]) -> Reply:
    """Read the messages of one REST call (see the module doc for the rules)."""
    texts = [str(m.get("text") or "") for m in messages if m.get("text")]
    text = "\n".join(texts)
    feedback = any(str(b.get("payload", "")).startswith("/feedback_")
                   for m in messages for b in (m.get("buttons") or []))
    lines = text.splitlines()
    source_at = next((i for i, line in enumerate(lines) if line.startswith("Nguồn:")), None)
    has_source = source_at is not None
    custom = [m["custom"]["declined"] for m in messages
              if isinstance(m.get("custom"), dict) and isinstance(m["custom"].get("declined"),
                                                                  bool)]
    if custom:
        declined, signal_name = custom[0], "custom"
    else:
        declined = not (feedback or has_source)
        signal_name = "+".join(n for n, on in (("buttons", feedback), ("source", has_source))
                               if on) or "none"
    url = ""
    if has_source:
        for line in lines[source_at:source_at + 1 + 5]:  # "Nguồn: …" or a list of "• …"
            start = line.rfind("(http")
            if start >= 0 and line.rstrip().endswith(")"):
                url = line[start + 1:line.rstrip().rfind(")")]
                break
    answer_lines = lines[:source_at] if has_source else lines
    return Reply(text=text, answer_text="\n".join(answer_lines).strip(), declined=declined,
                 signal=signal_name, conflict=feedback != has_source, source_url=url)


def document_of(url: str, by_source: dict[str, str]) -> str | None:
    """The document id an address in a "Nguồn:" line stands for: a console page
    ``…/van-ban/<id>`` (or ``/van-ban?id=<id>``) or a document's own source address."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.path.startswith(PAGE_PATH + "/"):
        return unquote(parts.path[len(PAGE_PATH) + 1:])
    if parts.path == PAGE_PATH and parts.query.startswith("id="):
        return unquote(parts.query[3:])
    return by_source.get(url) or by_source.get(url.rstrip("/"))


def sources_of(folders: Sequence[Path]) -> dict[str, str]:
    """``source:`` header address → document id (the file's path relative to its folder)."""
    out: dict[str, str] = {}
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            head = path.read_text("utf-8", errors="replace").split("\n---\n", 1)[0]
            for line in head.splitlines():
                if line.startswith("source:"):
                    url = line.split(":", 1)[1].strip()
                    if url.startswith(("http://", "https://")):
                        out.setdefault(url, path.relative_to(folder).as_posix())
    return out


# -- talking to the REST channel -------------------------------------------------------------------
def say(url: str, sender: str, message: str, timeout: float = REQUEST_TIMEOUT) -> list[dict]:
    """One message to the REST webhook; the bot's messages."""
    body = json.dumps({"sender": sender, "message": message[:MAX_MESSAGE]}).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        replies = json.loads(response.read().decode("utf-8"))
    if not isinstance(replies, list):
        raise ValueError(f"unexpected REST reply: {replies!r}"[:300])
    return replies


def evaluate_rest(webhook: str, questions: Sequence[dict], fold: bool,
                  by_source: dict[str, str], run_id: str) -> list[dict]:
    """Ask every question (folded when ``fold``) in a fresh conversation and score the reply."""
    rows = []
    for q in questions:
        asked = fold_question(q["question"]) if fold else q["question"]
        sender = f"eval-{run_id}-{q['file']}-{q['id']}-{'folded' if fold else 'accented'}"
        started = time.perf_counter()
        try:
            messages = say(webhook, sender, asked)
            error = None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            messages, error = [], f"{type(exc).__name__}: {exc}"
            logger.warning("%s: %s", q["id"], error)
        seconds = time.perf_counter() - started
        reply = read_reply(messages)
        cited = document_of(reply.source_url, by_source)
        rows.append(score(
            q, asked=asked, answer_text=reply.answer_text, declined=reply.declined,
            cited_docs=[cited] if cited else [], seconds=round(seconds, 3), sender=sender,
            reply=reply.text, signal=reply.signal, signal_conflict=reply.conflict,
            source_url=reply.source_url, unresolved_citation=bool(
                not reply.declined and reply.source_url and not cited), error=error))
    return rows


def rest_summary(rows: Sequence[dict]) -> dict:
    """:func:`knowledge.evaluate.summarize` plus the REST reading's own counts."""
    return {**summarize(rows), "signal_conflicts": sum(r["signal_conflict"] for r in rows),
            "unresolved_citations": sum(r["unresolved_citation"] for r in rows),
            "errors": sum(bool(r["error"]) for r in rows)}


# -- a stack of its own ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def newest_rasa_model() -> Path:
    models = sorted((PROJECT_ROOT / "var" / "rasa-models").glob("cchc-*.tar.gz"),
                    key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained Rasa model in var/rasa-models: run 'bash scripts/train.sh' "
                           "(or pass --rasa-model, or --train)")
    return models[-1]


def build_index(docs: Path) -> Path:
    """An index of ``docs`` built by this checkout's ``kb ingest``, cached per corpus and code."""
    from benchmarks.answer_latency import code_version, fingerprint

    files = sorted(p for p in docs.iterdir() if p.is_file())
    index = CACHE / f"index-{fingerprint(files)}-{code_version(PROJECT_ROOT)}"
    if (index / "bench-stamp.json").exists():
        return index
    logger.info("building %s …", index)
    done = subprocess.run([sys.executable, "-m", "knowledge.cli", "ingest", str(docs), "--index",
                           str(index), "--model", MODEL, "-q"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"kb ingest failed: {done.stderr[-2000:]}")
    (index / "bench-stamp.json").write_text(json.dumps({"docs": str(docs)}))
    return index


class Stack:
    """``scripts/serve.sh`` in the background on free loopback ports, with its own state
    folder (tracker store, question log, logs); stopped by :meth:`stop`, also on failure."""

    def __init__(self, rasa_model: Path, index: Path, state: Path) -> None:
        self.rasa_model, self.index, self.state = rasa_model, index, state
        self.rasa_port, self.action_port = _free_port(), _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def start(self, timeout: float = 600) -> None:
        env = {**os.environ, "RASA_PORT": str(self.rasa_port),
               "ACTION_PORT": str(self.action_port), "KB_INDEX": str(self.index),
               "RASA_TRACKER_DB": str(self.state / "tracker.db"),
               "KB_QUESTION_LOG": str(self.state / "questions.db"), "CONSOLE_PORT": "off",
               "KB_DOCUMENT_URL_BASE": LINK_BASE, "READY_TIMEOUT": str(int(timeout)),
               "RUN_DIR": str(self.state / "run"), "LOG_DIR": str(self.state / "logs")}
        self.state.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(["bash", "scripts/serve.sh", str(self.rasa_model)],
                                     cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.time() + timeout + 60
        seen = []
        for line in self.proc.stdout:
            seen.append(line)
            if "The assistant is running" in line:
                return
            if time.time() > deadline:
                break
        self.stop()
        raise RuntimeError("the stack did not start:\n" + "".join(seen[-30:])
                           + f"\n(logs in {self.state / 'logs'})")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("qa", nargs="*", type=Path,
                        help="question files (default: cchc-dev qa.jsonl + the counterfactuals)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="base address of a running Rasa server")
    target.add_argument("--start", action="store_true",
                        help="start a stack of its own on an index of --docs")
    parser.add_argument("--docs", type=Path, default=CCHC_DEV / "docs",
                        help="the documents (index of the own stack; source addresses)")
    parser.add_argument("--rasa-model", type=Path, help="default: the newest in var/rasa-models")
    parser.add_argument("--train", action="store_true",
                        help="get the model from scripts/train.sh (trains when inputs changed)")
    parser.add_argument("--fold", choices=("no", "yes", "both"), default="both")
    parser.add_argument("--limit", type=int, help="the first N questions of each file")
    parser.add_argument("--details", type=Path, help="write one row per question here (jsonl)")
    parser.add_argument("--out", default="rest_eval", help="name of the JSON written")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    files = args.qa or [CCHC_DEV / "qa.jsonl", COUNTERFACTUAL]
    questions = load_questions(files, args.limit)
    by_source = sources_of([args.docs])
    variants = {"no": [False], "yes": [True], "both": [False, True]}[args.fold]
    run_id = uuid.uuid4().hex[:8]
    stack = None
    started = time.perf_counter()
    try:
        if args.start:
            if args.train:
                done = subprocess.run(["bash", "scripts/train.sh"], cwd=PROJECT_ROOT,
                                      capture_output=True, text=True, check=True)
                rasa_model = Path(done.stdout.strip().splitlines()[-1])
            else:
                rasa_model = args.rasa_model or newest_rasa_model()
            index = build_index(args.docs)
            stack = Stack(rasa_model, index, CACHE / f"state-{run_id}")
            logger.info("starting the stack (model %s, index %s) …", rasa_model.name, index)
            stack.start()
            webhook = stack.webhook
        else:
            webhook = args.url.rstrip("/") + "/webhooks/rest/webhook"
        startup_s = time.perf_counter() - started
        results = {}
        for fold in variants:
            label = "folded" if fold else "accented"
            logger.info("%d questions, %s …", len(questions), label)
            rows = evaluate_rest(webhook, questions, fold, by_source, run_id)
            results[label] = rows
            print(f"== REST, {label}")
            print(format_summary({**rest_summary(rows), "folded": fold}))
    finally:
        if stack:
            stack.stop()
    data = {"machine": machine(), "webhook": webhook if args.url else "own stack",
            "files": [str(f) for f in files], "startup_s": round(startup_s, 1),
            "seconds": round(time.perf_counter() - started, 1),
            "results": {label: rest_summary(rows) for label, rows in results.items()}}
    path = write_json(args.out, data)
    if args.details:
        with open(args.details, "w", encoding="utf-8") as fh:
            for label, rows in results.items():
                for row in rows:
                    fh.write(json.dumps({**row, "variant": label}, ensure_ascii=False) + "\n")
    for label, s in data["results"].items():
        print(f"{label}: signal conflicts {s['signal_conflicts']}, unresolved citations "
              f"{s['unresolved_citations']}, errors {s['errors']}")
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
