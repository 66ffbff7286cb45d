"""One answer pipeline in its own process, driven by ``benchmarks.answer_latency``.

Run as a script with the pipeline's code first on ``PYTHONPATH`` (the current checkout, or a
``git worktree`` of an old commit): it imports only the public ``KnowledgeBase`` and
``KnowledgeConfig`` (from ``knowledge`` when the package exports them, else from
``knowledge.base`` / ``knowledge.config``), so it runs on old and new code alike.

Protocol: one JSON object per line. The worker answers on its own copy of stdout (anything
else a library prints goes to stderr), first ``{"ready": …}``, then for each request
``{"op": "ask", "question": …}`` the answer with the seconds ``ask`` took, until
``{"op": "quit"}`` or end of input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _public_api():
    try:
        from knowledge import KnowledgeBase, KnowledgeConfig
    except ImportError:
        from knowledge.base import KnowledgeBase
        from knowledge.config import KnowledgeConfig
    return KnowledgeBase, KnowledgeConfig


def _describe(answer) -> dict:
    citations = list(getattr(answer, "citations", ()) or ())
    kind = getattr(answer, "kind", "")
    return {
        "answer": answer.text, "declined": bool(answer.declined),
        "cited_docs": [c.doc_id for c in citations],
        "confidence": getattr(answer, "confidence", None),
        "kind": str(getattr(kind, "value", kind)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="answer questions from stdin, timed")
    parser.add_argument("--index", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray prints of libraries go to stderr, not into the protocol
    sys.stdout = sys.stderr

    def send(obj: dict) -> None:
        protocol.write(json.dumps(obj, ensure_ascii=False) + "\n")

    import knowledge

    knowledge_base_cls, config_cls = _public_api()
    started = time.perf_counter()
    kb = knowledge_base_cls(config_cls(index_dir=Path(args.index), model=args.model))
    embedder = getattr(kb, "embedder", None)
    send({"ready": True, "pid": os.getpid(), "knowledge_path": str(Path(knowledge.__file__).parent),
          "construct_s": round(time.perf_counter() - started, 4),
          "precision": getattr(embedder, "precision", None),
          "env_precision": os.environ.get("KB_EMBED_PRECISION", ""),
          "torch_threads": os.environ.get("KB_TORCH_THREADS", "")})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request.get("op") == "quit":
            break
        started = time.perf_counter()
        try:
            answer = kb.ask(request["question"])
        except Exception as exc:  # reported to the driver, which counts it as an error
            send({"id": request.get("id"), "error": f"{type(exc).__name__}: {exc}",
                  "seconds": round(time.perf_counter() - started, 6)})
            continue
        seconds = time.perf_counter() - started
        send({"id": request.get("id"), "seconds": round(seconds, 6), **_describe(answer)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
